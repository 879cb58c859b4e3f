"""Nothing acknowledged is lost: restarts, crashes (SIGKILL) and front-running, on real Anvil processes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hexbytes import HexBytes

from ledger.chain.client import ChainClient, dev_accounts
from ledger.chain.deployment import deploy_suite
from ledger.chain.devchain import Anvil
from ledger.errors import ChainError, VerificationError
from ledger.timestamps.proofs import Certificate, certificate_path, check_certificate_offline, commitment, file_digest
from ledger.timestamps.service import TimestampService


def open_stamps(url: str, artifacts, data: Path) -> tuple[ChainClient, TimestampService]:
    client = ChainClient(url, dev_accounts(1)[0], journal_dir=data / "journal",
                         error_abis=[a.abi for a in artifacts.values()])
    deployment = deploy_suite(client, data / "deployment.json", artifacts=artifacts)
    registry = client.contract(artifacts["TimestampRegistry"].abi, deployment.address("TimestampRegistry"))
    return client, TimestampService(client, registry, data / "stamps")


def test_stamps_verify_after_devchain_restart(tmp_path, artifacts):
    state = tmp_path / "chain" / "state.json"
    files = [tmp_path / f"f{i}" for i in range(3)]
    for i, f in enumerate(files):
        f.write_text(f"file {i}")
    with Anvil(state) as node:
        client, stamps = open_stamps(node.url, artifacts, tmp_path)
        stamps.stamp_files(files[:1])
        stamps.stamp_files(files[1:])
        client.close()
    with Anvil(state) as node:
        client, stamps = open_stamps(node.url, artifacts, tmp_path)
        for f in files:
            stamps.verify(f, Certificate.load(certificate_path(f)))
        client.close()


def test_sigkill_mid_run_then_reconcile_restores_every_certified_stamp_once(tmp_path, artifacts):
    state = tmp_path / "chain" / "state.json"
    # Deploy, and let Anvil write its state on a clean stop; then dump rarely, so the kill loses blocks.
    with Anvil(state) as node:
        client, _ = open_stamps(node.url, artifacts, tmp_path)
        client.close()
    node = Anvil(state, state_interval=3600).start()
    client, stamps = open_stamps(node.url, artifacts, tmp_path)
    files = [tmp_path / "work" / f"r{i}.txt" for i in range(200)]
    files[0].parent.mkdir()
    for i, f in enumerate(files):
        f.write_text(f"result {i}")
    certified: list[Path] = []
    killed = threading.Event()

    def run() -> None:
        for f in files:
            try:
                stamps.stamp_files([f])
            except ChainError:
                assert killed.is_set()
                return
            certified.append(f)

    worker = threading.Thread(target=run)
    worker.start()
    while len(certified) < 40:
        worker.join(0.01)
    killed.set()
    node.kill()
    worker.join()
    client.close()

    node = Anvil(state).start()
    try:
        client, stamps = open_stamps(node.url, artifacts, tmp_path)
        lost = [f for f in certified if client.call(stamps.registry.functions.recordOf(
            HexBytes(Certificate.load(certificate_path(f)).root)))[1] == 0]
        assert lost, "the kill should have lost acknowledged stamps (or the test proves nothing)"
        moved = client.reconcile()
        stamps.refresh_certificates(moved)
        assert len(moved) >= len(lost)
        for f in certified:
            cert = Certificate.load(certificate_path(f))
            stamps.verify(f, cert)
            events = client.logs(stamps.registry, [None, HexBytes(cert.root)])
            assert len(events) == 1, f"{f.name} recorded {len(events)} times"
        client.close()
    finally:
        node.stop()


@pytest.mark.anvil_only  # reads the pool (txpool_content), which only Anvil serves
def test_front_run_copied_leaf_gives_copier_nothing_and_author_keeps_proof(
    chain: ChainClient, contract, accounts, tmp_path
):
    author, copier = accounts[1], accounts[2]
    registry = contract("TimestampRegistry")
    stamps = TimestampService(chain, registry, tmp_path / "archive")
    secret = tmp_path / "invention.txt"
    secret.write_text("a better mousetrap")
    batch = stamps.prepare([secret], author.address)
    chain.rpc("evm_setAutomine", [False])
    try:
        result: dict[str, object] = {}
        sender = threading.Thread(target=lambda: result.update(certs=stamps.send(batch, author).certificates))
        sender.start()
        pending = []
        while not pending:
            pool = chain.rpc("txpool_content")["pending"]
            pending = [tx for txs in pool.values() for tx in txs.values()]
        leaf = HexBytes(pending[0]["input"])[4:36]
        assert HexBytes(leaf).to_0x_hex() == batch.items[0].leaf  # recorded under keccak256(leaf) == batch.root
        fn = registry.functions.stamp(leaf)
        tx = fn.build_transaction({
            "from": copier.address, "nonce": chain.w3.eth.get_transaction_count(copier.address),
            "gas": 100_000, "chainId": chain.chain_id,
            "maxFeePerGas": 50 * 10**9, "maxPriorityFeePerGas": 20 * 10**9,
        })
        chain.send_transaction(tx, copier, wait=False)
        chain.rpc("evm_mine")
        sender.join(30)
    finally:
        chain.rpc("evm_setAutomine", [True])
    [cert] = result["certs"]  # type: ignore[misc]
    assert cert.stamper == copier.address  # the copier's transaction came first...
    assert cert.authorship is not None  # ...so the certificate carries the author's signature of the root
    with pytest.raises(VerificationError, match="author is not proven"):  # which alone proves the author
        stamps.verify(secret, Certificate.loads(cert.model_copy(update={"authorship": None}).dumps()))
    verified = stamps.verify(secret, cert)
    assert verified.author == author.address  # ...yet the certificate proves the author's claim
    # The copier cannot open the leaf to its own address: it does not even know the salt,
    # and with it the commitment still differs.
    as_copier = cert.model_copy(update={"author": copier.address})
    with pytest.raises(VerificationError, match="does not open to author"):
        check_certificate_offline(as_copier, secret)
    assert commitment(file_digest(secret), copier.address, bytes.fromhex(cert.salt[2:])) != leaf
