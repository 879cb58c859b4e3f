"""The stamp service (issue 16): rounds, proofs, receipts and exactly-once anchoring, on the session Anvil.

Rounds are closed by hand (``tick(force=True)``) instead of waiting for the interval, so these tests take no
wall-clock time; the service's thread and its SIGKILL recovery over HTTP are in tests/api/test_stamp_service_api.py.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from hexbytes import HexBytes
from web3 import Web3

from ledger.audit.store import Store
from ledger.errors import NotFoundError, ValidationError, VerificationError
from ledger.timestamps.aggregator import StampAggregator, receipt_signer
from ledger.timestamps.proofs import Certificate, commitment, sign_authorship
from ledger.timestamps.service import TimestampService, issue_service_certificates
from ledger.timestamps.stampstore import ANCHORED, CLOSED, SENT, StampStore
from tests.ledger.timestamps.test_proofs import _node, oz_verify

AUTHOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def db(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'stamps.sqlite3'}")
    yield store
    store.dispose()


@pytest.fixture
def registry(chain, contract):
    return contract("TimestampRegistry")


def make(chain, registry, db, accounts, **kwargs) -> StampAggregator:
    return StampAggregator(chain, registry, StampStore(db, chain.chain_id, registry.address), accounts[9], **kwargs)


@pytest.fixture
def service(chain, registry, db, accounts):
    agg = make(chain, registry, db, accounts, round_interval=60, round_max_leaves=50)
    yield agg
    agg.stop()


def triples(n: int) -> list[tuple[str, str, str]]:
    return [("0x" + secrets.token_hex(32), AUTHOR, "0x" + secrets.token_hex(32)) for _ in range(n)]


def leaf_of(t: tuple[str, str, str]) -> str:
    return "0x" + commitment(bytes.fromhex(t[0][2:]), t[1], bytes.fromhex(t[2][2:])).hex()


def stamp_txs(chain, registry, service) -> list[str]:
    """The service's stampBatch transactions on the chain (its BatchStamped events)."""
    return [e.tx_hash for e in chain.logs(registry, [None, None, HexBytes(bytes(12) + bytes.fromhex(
        service.address[2:]))]) if e.name == "BatchStamped"]


_NODE_TREE = r"""
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const values = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const tree = StandardMerkleTree.of(values, ['bytes32', 'address', 'bytes32']);
process.stdout.write(JSON.stringify({ root: tree.root, proofs: values.map((_, i) => tree.getProof(i)) }));
"""


def test_round_root_and_proofs_equal_openzeppelin_npm(service):
    values = triples(37)
    receipts = service.submit([leaf_of(t) for t in values])
    assert {r.round for r in receipts} == {receipts[0].round}
    assert service.tick(force=True) == [receipts[0].round]
    oz = _node(_NODE_TREE, [list(t) for t in values])
    answers = [service.status(leaf_of(t)) for t in values]
    assert {a.status for a in answers} == {ANCHORED} and {a.root for a in answers} == {oz["root"]}
    assert [a.proof for a in answers] == oz["proofs"]
    assert {a.batch_size for a in answers} == {37}
    certs = [{"root": a.root, "digest": t[0], "author": t[1], "salt": t[2], "proof": a.proof}
             for a, t in zip(answers, values, strict=True)]
    assert oz_verify(certs) == [True] * 37


def test_pending_receipt_verifies_with_eth_account_by_a_third_party(service, chain, registry):
    leaf = leaf_of(triples(1)[0])
    [receipt] = service.submit([leaf])
    described = json.loads(json.dumps(service.describe()))  # what GET /stamps/service publishes
    message = {"leaf": HexBytes(leaf), "receivedAt": receipt.received_at_ms, "round": receipt.round}
    typed = encode_typed_data(described["domain"], described["types"], message)
    assert Account.recover_message(typed, signature=HexBytes(receipt.signature)) == described["address"]
    assert described["domain"] == {"name": "ipledger stamp service", "version": "1", "chainId": chain.chain_id,
                                   "verifyingContract": registry.address}
    assert receipt_signer(receipt.as_json(), described["domain"]) == service.address
    forged = {**receipt.as_json(), "round": receipt.round + 1}  # a promise of another round is not the service's
    assert receipt_signer(forged, described["domain"]) != service.address


def test_full_round_at_size_limit_closes_at_once_and_overflow_opens_the_next(service, chain, registry):
    values = triples(120)
    receipts = service.submit([leaf_of(t) for t in values])
    rounds = [r.round for r in receipts]
    first = rounds[0]
    assert rounds == [first] * 50 + [first + 1] * 50 + [first + 2] * 20
    states = {r.id: r.state for r in service.store.unfinished()}
    assert states == {first: CLOSED, first + 1: CLOSED, first + 2: "open"}
    assert service.tick() == [first, first + 1]  # the full rounds anchor without waiting for the interval
    assert [service.status(leaf_of(values[i])).batch_size for i in (0, 99, 100)] == [50, 50, None]
    assert service.tick(force=True) == [first + 2]
    assert len(stamp_txs(chain, registry, service)) == 3
    assert service.counts() == {ANCHORED: 120}


def test_leaf_submitted_twice_gets_the_same_answer_and_is_anchored_once(service, chain, registry):
    leaf = leaf_of(triples(1)[0])
    [first] = service.submit([leaf])
    [again, twice] = service.submit([leaf.upper().replace("0X", "0x"), leaf])
    assert first == again == twice
    service.tick(force=True)
    anchored = service.status(leaf)
    [after] = service.submit([leaf])
    assert after == first and service.status(leaf) == anchored
    service.tick(force=True)
    assert len(stamp_txs(chain, registry, service)) == 1
    assert anchored.batch_size == 1 and anchored.proof == []
    assert anchored.root == "0x" + keccak(bytes.fromhex(leaf[2:])).hex()  # a round of one: root keccak256(leaf)


def test_malformed_leaves_and_unknown_leaf_are_refused(service):
    for bad in (["0x12"], ["0x" + "zz" * 32], ["12" * 33], []):
        with pytest.raises(ValidationError):
            service.submit(bad)
    small = StampAggregator(service.client, service.registry, service.store, service.account,
                            max_leaves_per_request=3)
    with pytest.raises(ValidationError, match="at most 3 leaves"):
        small.submit([leaf_of(t) for t in triples(4)])
    assert service.store.counts() == {}  # nothing written
    with pytest.raises(NotFoundError, match="never submitted"):
        service.status("0x" + "ab" * 32)


def signed(batch, account, service):
    """The batch with its author's signature of Authorship(root), as `ipledger stamp --service` signs it."""
    assert batch is not None
    signature = sign_authorship(account.key, service.client.chain_id, service.registry.address, batch.root)
    return batch.model_copy(update={"authorship_signature": signature})


def test_certificates_completed_by_the_client_verify_like_batch_certificates(service, chain, tmp_path, anvil,
                                                                               artifacts, accounts):
    files = []
    for i in range(3):
        f = tmp_path / f"lab-{i}.txt"
        f.write_text(f"result {i}")
        files.append(f)
    batch = signed(TimestampService.plan_files(files, AUTHOR, lambda _: False).batch, accounts[1], service)
    service.submit([leaf_of(t) for t in triples(4)])  # other authors' leaves share the round
    service.submit([item.leaf for item in batch.items])
    service.tick(force=True)
    result = issue_service_certificates(batch, [service.status(i.leaf).as_json() for i in batch.items])
    ledger_side = TimestampService(chain, service.registry, tmp_path / "stamps")
    for f, path in zip(files, result.paths, strict=True):
        cert = Certificate.load(path)
        assert cert.batch_size == 7 and cert.stamper == service.address and cert.author == AUTHOR
        assert cert.authorship is not None and cert.authorship.root == batch.root
        ledger_side.verify(f, cert)  # what `ipledger verify` runs
    # The plain-web3 check: nothing from ledger/, the ABI only.
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    registry = w3.eth.contract(address=service.registry.address, abi=artifacts["ITimestampRegistry"].abi)
    import hashlib

    certificates = []
    for f in files:
        cert = json.loads(Path(str(f) + ".ipledger.json").read_text())
        certificates.append(cert)
        digest = hashlib.sha256(f.read_bytes()).digest()
        leaf = keccak(abi_encode(["bytes32", "address", "bytes32"], [digest, cert["author"],
                                                                      bytes.fromhex(cert["salt"][2:])]))
        node = keccak(leaf)
        for sibling in cert["proof"]:
            s = bytes.fromhex(sibling[2:])
            node = keccak(min(node, s) + max(node, s))
        assert "0x" + node.hex() == cert["root"]
        stamper, block_number, block_time = registry.functions.recordOf(bytes.fromhex(cert["root"][2:])).call()
        assert (stamper, block_number, block_time) == (cert["stamper"], cert["block_number"], cert["block_time"])
        [log] = registry.events.BatchStamped().process_receipt(w3.eth.get_transaction_receipt(cert["tx_hash"]))
        assert "0x" + log["args"]["root"].hex() == cert["root"] and log["args"]["count"] == 7
        # The author: the service sent the stamp, so the author's EIP-712 signature of Authorship(root) over
        # the root of its own leaves proves it (eth_account alone; the proof to that root checked below by OZ).
        authorship = cert["authorship"]
        domain = {"name": "ipledger timestamps", "version": "1", "chainId": cert["chain_id"],
                  "verifyingContract": cert["contract"]}
        message = encode_typed_data(domain, {"Authorship": [{"name": "root", "type": "bytes32"}]},
                                    {"root": bytes.fromhex(authorship["root"][2:])})
        assert Account.recover_message(message, signature=authorship["signature"]) == cert["author"]
    assert oz_verify(certificates) == [True] * 3
    # OpenZeppelin's tool: each leaf is in the author's own tree, under the root the author signed.
    assert oz_verify([{**c, "root": c["authorship"]["root"], "proof": c["authorship"]["proof"]}
                      for c in certificates]) == [True] * 3
    # ethers (another EIP-712 implementation) recovers the same author.
    assert _node(_ETHERS_RECOVER, certificates) == [c["author"] for c in certificates]


_ETHERS_RECOVER = """
const { verifyTypedData } = require("ethers");
const certs = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(certs.map((c) => verifyTypedData(
  { name: "ipledger timestamps", version: "1", chainId: c.chain_id, verifyingContract: c.contract },
  { Authorship: [{ name: "root", type: "bytes32" }] }, { root: c.authorship.root }, c.authorship.signature))));
"""


def test_a_service_stamp_proves_its_author_only_by_the_authors_signature(service, chain, tmp_path, accounts):
    """The attacker's moves: name a victim as author of a file the victim never stamped (no signature, or
    the attacker's own), carry the victim's real signature over to another leaf, or alter the signed root."""
    victim, attacker = accounts[1], accounts[2]
    ledger_side = TimestampService(chain, service.registry, tmp_path / "stamps")

    def stamped(name: str, batch_of=None, signer=None):
        f = tmp_path / name
        f.write_text(f"I, {victim.address}, confess: {name}")
        batch = batch_of or TimestampService.plan_files([f], victim.address, lambda _: False).batch
        if signer is not None:
            batch = signed(batch, signer, service)
        service.submit([item.leaf for item in batch.items])
        service.tick(force=True)
        [cert] = issue_service_certificates(batch, [service.status(i.leaf).as_json() for i in batch.items]).certificates
        return f, cert

    f, cert = stamped("unsigned.txt")
    assert cert.authorship is None and cert.stamper != cert.author
    with pytest.raises(VerificationError, match="author is not proven") as refused:
        ledger_side.verify(f, cert)
    assert refused.value.context["notice"] == "certificate-author-unproven"

    f, cert = stamped("attacker-signed.txt", signer=attacker)
    with pytest.raises(VerificationError, match=f"made by {attacker.address}"):
        ledger_side.verify(f, cert)

    genuine_file, genuine = stamped("genuine.txt", signer=victim)
    ledger_side.verify(genuine_file, genuine)
    assert genuine.authorship is not None
    f, forged = stamped("forged.txt")  # the victim's genuine signature carried over to the attacker's leaf
    carried = Certificate.loads(forged.model_copy(update={"authorship": genuine.authorship}).dumps())
    with pytest.raises(VerificationError, match="forged authorship: the proof does not lead"):
        ledger_side.verify(f, carried)
    altered = genuine.authorship.model_copy(update={"signature": "0x" + "11" * 65})
    with pytest.raises(VerificationError, match="forged authorship"):
        ledger_side.verify(genuine_file, Certificate.loads(genuine.model_copy(update={"authorship": altered}).dumps()))
    other_chain = sign_authorship(victim.key, chain.chain_id + 1, service.registry.address, genuine.authorship.root)
    moved = genuine.authorship.model_copy(update={"signature": other_chain})  # signed for another chain
    with pytest.raises(VerificationError, match="was made by"):
        ledger_side.verify(genuine_file, Certificate.loads(genuine.model_copy(update={"authorship": moved}).dumps()))


def test_client_refuses_an_answer_whose_proof_does_not_lead_to_its_root(service, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("a")
    batch = TimestampService.plan_files([f], AUTHOR, lambda _: False).batch
    assert batch is not None
    service.submit([batch.items[0].leaf, leaf_of(triples(1)[0])])
    service.tick(force=True)
    answer = service.status(batch.items[0].leaf).as_json()
    with pytest.raises(ValidationError, match="proof"):
        issue_service_certificates(batch, [{**answer, "proof": ["0x" + "00" * 32]}])
    assert not Path(str(f) + ".ipledger.json").exists()


# -- restart: every acknowledged leaf anchored exactly once ---------------------------------------------


def test_restart_after_kill_between_send_and_record_adopts_the_mined_round(chain, registry, db, accounts):
    first = make(chain, registry, db, accounts, round_interval=60)
    leaves = [leaf_of(t) for t in triples(5)]
    first.submit(leaves)
    first.tick(force=True)
    [round_] = first.store.anchored_newest_first(1)
    # As if killed after sending but before the anchor was written: the row says "sent" with its tx.
    first.store.reopen_anchor(round_.id)
    first.store.set_sent(round_.id, str(round_.tx_hash), 0)
    again = make(chain, registry, db, accounts, round_interval=60)
    again.recover()
    assert again.status(leaves[0]).tx_hash == round_.tx_hash
    assert len(stamp_txs(chain, registry, again)) == 1


def test_restart_with_a_closed_round_already_on_chain_does_not_send_again(chain, registry, db, accounts):
    first = make(chain, registry, db, accounts, round_interval=60)
    leaves = [leaf_of(t) for t in triples(4)]
    first.submit(leaves)
    first.tick(force=True)
    [round_] = first.store.anchored_newest_first(1)
    first.store.reopen_anchor(round_.id)  # killed before even the tx hash was recorded
    again = make(chain, registry, db, accounts, round_interval=60)
    again.recover()
    assert again.status(leaves[3]).status == ANCHORED
    assert len(stamp_txs(chain, registry, again)) == 1


def test_restart_closes_the_open_round_and_anchors_what_was_acknowledged(chain, registry, db, accounts):
    first = make(chain, registry, db, accounts, round_interval=60)
    leaves = [leaf_of(t) for t in triples(6)]
    first.submit(leaves[:3])
    first.submit(leaves[3:])
    # killed here: acknowledged, never closed
    again = make(chain, registry, db, accounts, round_interval=60)
    again.recover()
    answers = {again.status(leaf).tx_hash for leaf in leaves}
    assert len(answers) == 1 and None not in answers
    assert again.counts() == {ANCHORED: 6}
    fresh = leaf_of(triples(1)[0])
    [receipt] = again.submit([fresh])
    assert receipt.round > again.status(leaves[0]).receipt.round  # new leaves go to a new round


def test_restart_after_the_chain_lost_the_anchor_block_anchors_again(chain, registry, db, accounts):
    first = make(chain, registry, db, accounts, round_interval=60)
    leaves = [leaf_of(t) for t in triples(3)]
    snapshot = chain.snapshot()
    first.submit(leaves)
    first.tick(force=True)
    lost = first.status(leaves[0])
    chain.revert(snapshot)  # the chain forgets the block (as Anvil killed before its state was saved)
    chain.rpc("evm_mine")
    chain.rpc("evm_mine")
    again = make(chain, registry, db, accounts, round_interval=60)
    again.recover()
    now = again.status(leaves[0])
    assert now.status == ANCHORED and now.root == lost.root and now.block_hash != lost.block_hash
    assert chain.block_hash(int(now.block_number or 0)) == now.block_hash


def test_round_transaction_is_recorded_with_its_root_before_it_is_sent(service):
    service.submit([leaf_of(t) for t in triples(2)])
    seen: list[str] = []
    original = service.store.set_sent

    def spy(round_id: int, tx_hash: str, nonce: int, root: str | None = None) -> None:
        original(round_id, tx_hash, nonce, root)
        [row] = [r for r in service.store.unfinished() if r.id == round_id]
        assert row.root == root is not None  # the root is stored with its transaction
        seen.append(row.state)
        assert service.client.receipt(tx_hash) is None  # recorded before it is sent

    service.store.set_sent = spy  # type: ignore[method-assign]
    service.tick(force=True)
    assert seen == [SENT]


def test_round_of_one_leaf_its_author_stamped_directly_is_adopted_not_sent_again(service, chain, registry, accounts):
    leaf = leaf_of(triples(1)[0])
    direct = chain.transact(registry.functions.stamp(HexBytes(leaf)), sender=accounts[3])  # root keccak256(leaf)
    service.submit([leaf])
    service.tick(force=True)
    answer = service.status(leaf)
    assert (answer.status, answer.tx_hash, answer.stamper) == (ANCHORED, direct.tx_hash, accounts[3].address)
    assert answer.root == "0x" + keccak(bytes.fromhex(leaf[2:])).hex() and stamp_txs(chain, registry, service) == []


def test_running_service_reanchors_a_round_whose_block_the_chain_lost(service, chain):
    leaves = [leaf_of(t) for t in triples(3)]
    snapshot = chain.snapshot()
    service.submit(leaves)
    service.tick(force=True)
    lost = service.status(leaves[0])
    chain.revert(snapshot)  # the chain restarted from state saved before that block
    chain.rpc("evm_mine")
    assert service.tick() == [lost.receipt.round]  # no restart of the service needed
    now = service.status(leaves[2])
    assert now.root == lost.root and now.block_hash != lost.block_hash
    assert chain.block_hash(int(now.block_number or 0)) == now.block_hash
