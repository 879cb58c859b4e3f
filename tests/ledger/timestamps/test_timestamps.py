"""Timestamping end to end on a real Anvil: stamp, batch, verify, every way a certificate can fail."""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3 import Web3

from ledger.chain.client import ChainClient
from ledger.errors import ValidationError, VerificationError
from ledger.timestamps.proofs import Certificate, certificate_path
from ledger.timestamps.service import TimestampService


@pytest.fixture
def stamps(chain: ChainClient, contract, tmp_path: Path) -> TimestampService:
    return TimestampService(chain, contract("TimestampRegistry"), tmp_path / "archive")


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_stamp_single_file_writes_certificate_that_verifies(stamps, tmp_path, accounts):
    report = write(tmp_path / "report.pdf", b"%PDF- lab results")
    [cert] = stamps.stamp_files([report], sender=accounts[1])
    assert certificate_path(report).exists()
    assert Certificate.load(certificate_path(report)) == cert
    assert cert.author == cert.stamper == accounts[1].address
    assert cert.root == cert.leaf and cert.proof == [] and cert.batch_size == 1
    verified = stamps.verify(report, cert)
    assert verified.author == accounts[1].address
    assert verified.block_number == cert.block_number
    assert verified.tx_hash == cert.tx_hash


def test_stamp_batch_of_1000_files_every_certificate_verifies(stamps, tmp_path, chain):
    files = [write(tmp_path / "data" / f"{i:04}.txt", f"result {i}") for i in range(1000)]
    before = chain.w3.eth.block_number
    certs = stamps.stamp_files([tmp_path / "data"])
    assert chain.w3.eth.block_number == before + 1  # one transaction for the whole batch
    assert len(certs) == 1000 and len({c.tx_hash for c in certs}) == 1
    assert all(c.batch_size == 1000 and c.root != c.leaf for c in certs)
    for f in files:
        stamps.verify(f, Certificate.load(certificate_path(f)))


def test_stamp_directory_skips_existing_certificates(stamps, tmp_path):
    folder = tmp_path / "d"
    write(folder / "a.txt", "a")
    stamps.stamp_files([folder / "a.txt"])
    write(folder / "b.txt", "b")
    certs = stamps.stamp_files([folder])
    assert sorted(c.file_name for c in certs) == ["a.txt", "b.txt"]


def test_verify_when_file_modified_fails_naming_modification(stamps, tmp_path):
    report = write(tmp_path / "r.txt", "original")
    [cert] = stamps.stamp_files([report])
    report.write_text("original, edited")
    with pytest.raises(VerificationError, match="modified"):
        stamps.verify(report, cert)


def test_verify_when_certificate_claims_other_author_fails(stamps, tmp_path, accounts):
    report = write(tmp_path / "r.txt", "mine")
    [cert] = stamps.stamp_files([report], sender=accounts[1])
    forged = cert.model_copy(update={"author": accounts[2].address})
    with pytest.raises(VerificationError, match="does not open to author"):
        stamps.verify(report, forged)


def test_verify_when_proof_forged_fails(stamps, tmp_path):
    a, b, c = (write(tmp_path / f"{n}.txt", n) for n in "abc")
    certs = stamps.stamp_files([a, b, c])
    cert_a = certs[0]
    forged = cert_a.model_copy(update={"proof": list(reversed(cert_a.proof)) + ["0x" + "11" * 32]})
    with pytest.raises(VerificationError, match="forged proof"):
        stamps.verify(a, forged)


def test_verify_when_root_never_stamped_fails(stamps, tmp_path):
    a, b = write(tmp_path / "a", "a"), write(tmp_path / "b", "b")
    batch = stamps.prepare([a, b], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    [cert_a, _] = stamps.stamp_files([a, b])
    fake = cert_a.model_copy(update={
        "root": batch.root, "leaf": batch.items[0].leaf, "proof": batch.items[0].proof,
        "salt": batch.items[0].salt, "author": batch.author,
    })
    with pytest.raises(VerificationError, match="never stamped"):
        stamps.verify(a, fake)


def test_verify_when_certificate_for_other_chain_fails(stamps, tmp_path):
    report = write(tmp_path / "r.txt", "x")
    [cert] = stamps.stamp_files([report])
    with pytest.raises(VerificationError, match="for chain 1,|for chain 1 "):
        stamps.verify(report, cert.model_copy(update={"chain_id": 1}))


def test_verify_when_certificate_names_other_contract_fails(stamps, tmp_path):
    report = write(tmp_path / "r.txt", "x")
    [cert] = stamps.stamp_files([report])
    other = cert.model_copy(update={"contract": "0x0000000000000000000000000000000000000001"})
    with pytest.raises(VerificationError, match="not this ledger's TimestampRegistry"):
        stamps.verify(report, other)


def test_verify_when_block_data_altered_fails(stamps, tmp_path, chain):
    report = write(tmp_path / "r.txt", "x")
    [cert] = stamps.stamp_files([report])
    with pytest.raises(VerificationError, match="out of date or altered"):
        stamps.verify(report, cert.model_copy(update={"block_number": cert.block_number - 1}))


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"version": 1}', '{"version": 2, "chain_id": "x"}'],
)
def test_load_malformed_certificate_raises_validation_error(tmp_path, text):
    path = write(tmp_path / "c.json", text)
    with pytest.raises(ValidationError, match="malformed certificate"):
        Certificate.load(path)


def test_stamp_when_nothing_to_stamp_raises_validation_error(stamps, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="no files to stamp"):
        stamps.stamp_files([tmp_path / "empty"])
    with pytest.raises(ValidationError, match="no such file"):
        stamps.stamp_files([tmp_path / "missing.pdf"])


def test_concurrent_stamps_from_one_account_all_land(stamps, tmp_path, chain):
    files = [write(tmp_path / f"c{i}.txt", f"concurrent {i}") for i in range(50)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda f: stamps.stamp_files([f])[0], files))
    assert len({c.tx_hash for c in results}) == 50
    for f, cert in zip(files, results, strict=True):
        assert chain.receipt(cert.tx_hash).status == 1
        stamps.verify(f, cert)


def test_certificate_verifies_with_plain_web3_and_abi_only(stamps, tmp_path, anvil, artifacts):
    """Independence: nothing from ledger/ below, just hashlib, eth_abi, keccak and web3 with the ABI."""
    import hashlib

    a, b, c = (write(tmp_path / f"{n}.bin", n * 100) for n in "abc")
    stamps.stamp_files([a, b, c])
    abi = artifacts["ITimestampRegistry"].abi
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    for path in (a, b, c):
        cert = json.loads(Path(str(path) + ".ipledger.json").read_text())
        assert w3.eth.chain_id == cert["chain_id"]
        digest = hashlib.sha256(path.read_bytes()).digest()
        assert "0x" + digest.hex() == cert["digest"]
        leaf = keccak(abi_encode(["bytes32", "address", "bytes32"],
                                 [digest, cert["author"], bytes.fromhex(cert["salt"][2:])]))
        assert "0x" + leaf.hex() == cert["leaf"]
        node = keccak(leaf)  # OZ StandardMerkleTree leaf: keccak256(bytes.concat(commitment))
        for sibling in cert["proof"]:
            s = bytes.fromhex(sibling[2:])
            node = keccak(min(node, s) + max(node, s))
        assert "0x" + node.hex() == cert["root"]
        registry = w3.eth.contract(address=cert["contract"], abi=abi)
        stamper, block_number, timestamp = registry.functions.recordOf(bytes.fromhex(cert["root"][2:])).call()
        assert (block_number, timestamp, stamper) == (cert["block_number"], cert["block_time"], cert["stamper"])
        block = w3.eth.get_block(cert["block_number"])
        assert block["hash"].to_0x_hex() == cert["block_hash"] and block["timestamp"] == cert["block_time"]
        receipt = w3.eth.get_transaction_receipt(cert["tx_hash"])
        assert receipt["blockHash"].to_0x_hex() == cert["block_hash"]
        [event] = registry.events.BatchStamped().process_receipt(receipt)
        assert "0x" + event["args"]["root"].hex() == cert["root"]
