"""Keys of accounts in the KeyDirectory and sealed documents checked against the ledger, on a real Anvil."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from eth_account import Account

from ledger.context import Ledger
from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, VerificationError
from ledger.registry.metadata import build_document
from ledger.relay.service import sign_request
from ledger.sealing.format import KEM_MLKEM768_X25519, Record
from ledger.sealing.keys import AccountKeys
from ledger.sealing.stream import read_header
from tests.contracts.ipkit import YEAR, IPKit


@pytest.fixture
def loan(tmp_path: Path) -> Path:
    path = tmp_path / "loan-contract.pdf"
    path.write_bytes(b"%PDF loan contract " + os.urandom(100_000))
    return path


def sha(path: Path) -> str:
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_publish_rotate_revoke_keep_versions_and_refuse_sealing_to_a_revoked_key(ledger: Ledger, ip: IPKit,
                                                                                 loan: Path, tmp_path: Path):
    sealing = ledger.sealing
    done, key = sealing.publish(ip.owner)
    assert (done.ids["version"], key.keys.version, key.keys.revoked) == (1, 1, False)
    assert key.keys == AccountKeys.derive(bytes(ip.owner.key), 1).public()
    assert len(key.keys.hybrid) == 1216
    with pytest.raises(ConflictError, match="already published key version 1"):
        sealing.publish(ip.owner)
    _, rotated = sealing.publish(ip.owner, rotate=True)
    assert rotated.keys.version == 2 and sealing.key_of(ip.owner.address).keys.version == 2
    assert sealing.key_of(ip.owner.address, 1).keys.x25519 != rotated.keys.x25519
    sealing.revoke(ip.owner)
    assert sealing.key_of(ip.owner.address).keys.revoked
    with pytest.raises(ConflictError, match="revoked"):
        sealing.seal(loan, [ip.owner.address], tmp_path / "x.sealed")
    assert not (tmp_path / "x.sealed").exists()
    with pytest.raises(NotFoundError, match="has published no encryption key"):
        sealing.key_of(ip.stranger.address)
    with pytest.raises(NotFoundError, match="rotate"):
        sealing.publish(ip.stranger, rotate=True)


def test_directory_reverts_name_the_problem(ip: IPKit, contract):
    directory = contract("KeyDirectory")
    assert ip.refused(directory.functions.publish(b"\0" * 32, b""), ip.owner).name == "KeyDirectoryZeroKey"
    error = ip.refused(directory.functions.publish(b"\1" * 32, b"\2" * 100), ip.owner)
    assert (error.name, error.arguments["length"], error.arguments["expected"]) == (
        "KeyDirectoryBadHybridKey", 100, 1216)
    assert ip.refused(directory.functions.revoke(1), ip.owner).name == "KeyDirectoryUnknownVersion"
    receipt = ip.send(directory.functions.publish(b"\1" * 32, b""), ip.owner)
    assert ip.events(directory, receipt) == [
        ("KeyPublished", {"account": ip.owner.address, "version": 1, "x25519": "0x" + "01" * 32, "hybrid": "0x"})]
    ip.send(directory.functions.revoke(1), ip.owner)
    assert ip.refused(directory.functions.revoke(1), ip.owner).name == "KeyDirectoryAlreadyRevoked"
    assert ip.refused(directory.functions.disclose(b"\0" * 32, b"\1" * 32, [ip.bank.address]),
                      ip.owner).name == "KeyDirectoryEmptyDisclosure"


def test_publish_relayed_through_the_forwarder_binds_the_signer(ledger: Ledger, chain, contract):
    user = Account.create()
    keys = AccountKeys.derive(bytes(user.key), 1).public()
    directory = contract("KeyDirectory")
    data = directory.encode_abi("publish", [keys.x25519, keys.hybrid])
    request = sign_request(user, chain_id=chain.chain_id, forwarder=contract("IpledgerForwarder").address,
                           to=directory.address, data=data, nonce=0, gas=1_500_000)
    ledger.relay.relay(request)
    assert ledger.sealing.key_of(user.address).keys == keys


def test_seal_loan_contract_to_bank_and_owner_opens_matching_the_pledge(ledger: Ledger, ip: IPKit, loan: Path,
                                                                       tmp_path: Path):
    asset_id = ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("T"),
                                      sender=ip.owner).asset_id
    pledge_id = ledger.pledges.propose(asset_id, ip.bank.address, 5_000_000, "cny", ip.now() + YEAR, sha(loan),
                                       sender=ip.owner).ids["pledgeId"]
    for account in (ip.owner, ip.bank):
        ledger.sealing.publish(account)
    sealed = ledger.sealing.seal(loan, [ip.bank.address, ip.owner.address], tmp_path / "loan.sealed", pq=True,
                                 sealer=ip.owner.address, record=Record("pledge", pledge_id))
    assert [r.kem for r in sealed.recipients] == [KEM_MLKEM768_X25519] * 2
    header, found = ledger.sealing.open(sealed.path, tmp_path / "opened.pdf", ip.bank)
    assert (tmp_path / "opened.pdf").read_bytes() == loan.read_bytes()
    assert [(m.kind, m.id) for m in found] == [("pledge", pledge_id)]
    with pytest.raises(PermissionDeniedError, match="is not a recipient"):
        ledger.sealing.open(sealed.path, tmp_path / "stranger.pdf", ip.stranger)
    assert not (tmp_path / "stranger.pdf").exists()
    disclosed = ledger.sealing.disclose(header, [ip.licensee.address], ip.owner)
    events = ip.events(contract_of(ledger), ip.chain.receipt(disclosed.tx_hash))
    assert events == [("DocumentDisclosed", {"documentId": "0x" + header.document_id.hex(),
                                      "plaintextHash": "0x" + header.plaintext_sha256,
                                      "discloser": ip.owner.address, "recipient": ip.licensee.address})]


def contract_of(ledger: Ledger):  # type: ignore[no-untyped-def]
    return ledger.contract("KeyDirectory")


def test_open_a_file_whose_hash_is_not_on_the_ledger_is_refused_and_writes_nothing(ledger: Ledger, ip: IPKit,
                                                                                    loan: Path, tmp_path: Path):
    ledger.sealing.publish(ip.bank)
    sealed = ledger.sealing.seal(loan, [ip.bank.address], tmp_path / "swapped.sealed")
    with pytest.raises(VerificationError, match="is not recorded on this ledger"):
        ledger.sealing.open(sealed.path, tmp_path / "out.pdf", ip.bank)
    assert not (tmp_path / "out.pdf").exists()
    ledger.assets.register(sha(loan), "trade-secret", None, build_document("Claims"), sender=ip.owner)
    header, found = ledger.sealing.open(sealed.path, tmp_path / "out.pdf", ip.bank)
    assert [m.kind for m in found] == ["asset"] and read_header(sealed.path)[0] == header
