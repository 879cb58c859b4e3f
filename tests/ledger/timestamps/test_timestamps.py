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
from ledger.chain.toolchain import Artifact
from ledger.errors import ValidationError, VerificationError
from ledger.timestamps.proofs import (
    Certificate,
    certificate_path,
    certificate_paths,
    commitment,
    file_digest,
    new_salt,
)
from ledger.timestamps.service import TimestampService
from ledger.timestamps.verification import verify_files, verify_folder
from tests.ledger.timestamps.test_proofs import oz_verify


@pytest.fixture
def stamps(chain: ChainClient, contract, tmp_path: Path) -> TimestampService:
    return TimestampService(chain, contract("TimestampRegistry"), tmp_path / "archive")


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_stamp_single_file_writes_certificate_that_verifies(stamps, tmp_path, accounts):
    report = write(tmp_path / "report.pdf", b"%PDF- lab results")
    [cert] = stamps.stamp_files([report], sender=accounts[1]).certificates
    assert certificate_path(report).exists()
    assert Certificate.load(certificate_path(report)) == cert
    assert cert.author == cert.stamper == accounts[1].address
    # One rule for every stamp: the root of the one-leaf StandardMerkleTree, an empty proof.
    assert cert.root == "0x" + keccak(bytes.fromhex(cert.leaf[2:])).hex() and cert.proof == [] and cert.batch_size == 1
    verified = stamps.verify(report, cert)
    assert verified.author == accounts[1].address
    assert verified.block_number == cert.block_number
    assert verified.tx_hash == cert.tx_hash


def test_stamp_batch_of_1000_files_every_certificate_verifies(stamps, tmp_path, chain):
    files = [write(tmp_path / "data" / f"{i:04}.txt", f"result {i}") for i in range(1000)]
    before = chain.w3.eth.block_number
    certs = stamps.stamp_files([tmp_path / "data"]).certificates
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
    result = stamps.stamp_files([folder])
    assert [c.file_name for c in result.certificates] == ["b.txt"]  # a.txt.ipledger.json is not stamped
    assert [Path(k.file).name for k in result.kept] == ["a.txt"]  # and a.txt is already proven
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "a.txt.ipledger.json", "b.txt", "b.txt.ipledger.json"]


# -- a certificate is never overwritten (issue 11, item 17) -------------------------------------


def test_stamp_same_file_again_keeps_earlier_certificate_and_sends_nothing(stamps, tmp_path, chain):
    report = write(tmp_path / "report.pdf", b"%PDF- results of May")
    [first] = stamps.stamp_files([report]).certificates
    written = certificate_path(report).read_bytes()
    height = chain.w3.eth.block_number
    again = stamps.stamp_files([report])
    assert again.certificates == [] and chain.w3.eth.block_number == height  # no transaction
    [kept] = again.kept
    assert (kept.file, kept.certificate_file) == (str(report.resolve()), str(certificate_path(report.resolve())))
    assert kept.certificate == first and kept.certificate.block_number == first.block_number
    assert certificate_path(report).read_bytes() == written
    assert certificate_paths(report) == [certificate_path(report)]


def test_stamp_changed_file_writes_new_certificate_beside_and_both_verify(stamps, tmp_path):
    report = write(tmp_path / "report.pdf", b"version 1")
    [first] = stamps.stamp_files([report]).certificates
    written = certificate_path(report).read_bytes()
    write(report, b"version 2")
    second = stamps.stamp_files([report])
    [cert2] = second.certificates
    assert second.paths == [str(tmp_path.resolve() / "report.pdf.ipledger.2.json")] and second.kept == []
    assert cert2.block_number > first.block_number
    assert certificate_path(report).read_bytes() == written  # the earlier proof is untouched
    assert certificate_paths(report) == [certificate_path(report), certificate_path(report, 2)]
    # Each certificate holds for its own version; verifying the file picks the one that holds.
    [now] = verify_files([report], stamps.check)
    assert now.valid and now.certificate_file == str(certificate_path(report, 2))
    assert now.verified.block_number == cert2.block_number
    stamps.verify(report, Certificate.load(certificate_path(report, 2)))
    write(report, b"version 1")
    [then] = verify_files([report], stamps.check)
    assert then.valid and then.certificate_file == str(certificate_path(report))
    assert then.verified.block_number == first.block_number
    stamps.verify(report, Certificate.load(certificate_path(report)))
    # Stamping version 1 again keeps its first certificate; version 3 gets a third one.
    assert [k.certificate.block_number for k in stamps.stamp_files([report]).kept] == [first.block_number]
    write(report, b"version 3")
    assert stamps.stamp_files([report]).paths == [str(certificate_path(report.resolve(), 3))]


def test_stamp_folder_twice_stamps_only_new_and_changed_files(stamps, tmp_path, chain):
    folder = tmp_path / "lab"
    a, b, c = (write(folder / f"{n}.csv", f"{n},1") for n in "abc")
    first = stamps.stamp_files([folder])
    assert len(first.certificates) == 3 and first.kept == []
    originals = {f: certificate_path(f).read_bytes() for f in (a, b, c)}
    height = chain.w3.eth.block_number
    unchanged = stamps.stamp_files([folder])
    assert unchanged.certificates == [] and len(unchanged.kept) == 3 and chain.w3.eth.block_number == height
    write(b, "b,2")
    d = write(folder / "d.csv", "d,1")
    second = stamps.stamp_files([folder])
    assert sorted(Path(p).name for p in second.paths) == ["b.csv.ipledger.2.json", "d.csv.ipledger.json"]
    assert {c.batch_size for c in second.certificates} == {2}
    assert sorted(Path(k.file).name for k in second.kept) == ["a.csv", "c.csv"]
    assert {f: certificate_path(f).read_bytes() for f in (a, b, c)} == originals
    assert not [p for p in folder.iterdir() if p.name.endswith(".ipledger.json.ipledger.json")]
    verdicts = verify_files([a, b, c, d], stamps.check)
    assert all(v.valid for v in verdicts), [v.reason for v in verdicts]
    assert verdicts[1].certificate_file == str(certificate_path(b, 2))
    write(b, "b,1")  # the first version of b still has its proof
    assert verify_files([b], stamps.check)[0].certificate_file == str(certificate_path(b))


def test_stamp_when_earlier_certificate_does_not_stand_writes_beside_it(stamps, tmp_path, accounts):
    report = write(tmp_path / "r.txt", "result")
    [cert] = stamps.stamp_files([report], sender=accounts[1]).certificates
    # A certificate of this content whose key the chain never recorded (a reset dev chain, say):
    # it does not prove anything here, and the file is not overwritten. The real stamp is in the archive:
    # its certificate is written again beside it (the earliest proof), nothing is sent.
    stale = cert.model_copy(update={"root": "0x" + "42" * 32, "proof": ["0x" + "43" * 32], "batch_size": 2})
    certificate_path(report).write_text(stale.dumps())
    height = stamps.client.w3.eth.block_number
    result = stamps.stamp_files([report], sender=accounts[1])
    assert result.certificates == [] and [k.certificate_file for k in result.kept] == [
        str(certificate_path(report.resolve(), 2))]
    assert result.kept[0].restored and result.kept[0].certificate == cert
    assert stamps.client.w3.eth.block_number == height
    assert Certificate.load(certificate_path(report)) == stale
    # Not in the archive (another machine's stamp, an archive lost): stamped again, written beside.
    for archived in stamps.archive_dir.glob("*.json"):
        archived.unlink()
    certificate_path(report.resolve(), 2).unlink()
    result = stamps.stamp_files([report], sender=accounts[1])
    assert result.kept == [] and result.paths == [str(certificate_path(report.resolve(), 2))]
    # Another author's stamp of the same content is theirs: written beside, both stay.
    other = stamps.stamp_files([report], sender=accounts[2])
    assert other.kept == [] and other.paths == [str(certificate_path(report.resolve(), 3))]
    assert other.certificates[0].author == accounts[2].address


def test_stamp_certificate_file_refused_unless_asked(stamps, tmp_path, chain):
    report = write(tmp_path / "r.txt", "result")
    stamps.stamp_files([report])
    height = chain.w3.eth.block_number
    for name in (certificate_path(report), certificate_path(report, 2)):
        write(name, certificate_path(report).read_text()) if not name.exists() else None
        with pytest.raises(ValidationError, match="is an ipledger certificate.*--include-certificates"):
            stamps.stamp_files([name])
    assert chain.w3.eth.block_number == height
    asked = stamps.stamp_files([certificate_path(report)], include_certificates=True)
    assert asked.paths == [str(tmp_path.resolve() / "r.txt.ipledger.json.ipledger.json")]
    folder = tmp_path / "f"
    write(folder / "notes.txt", "notes")
    write(folder / "copied.ipledger.json", "{}")
    assert [c.file_name for c in stamps.stamp_files([folder]).certificates] == ["notes.txt"]
    stamped = stamps.stamp_files([folder], include_certificates=True)
    assert [c.file_name for c in stamped.certificates] == ["copied.ipledger.json", "notes.txt.ipledger.json"]
    assert [Path(k.file).name for k in stamped.kept] == ["notes.txt"]


# -- verifying a folder (issue 11, item 19) -----------------------------------------------------


def test_verify_folder_reports_every_file_and_is_valid_only_when_all_verify(stamps, tmp_path):
    folder = tmp_path / "lab"
    a, b, c = (write(folder / "runs" / f"{n}.csv", f"{n},1") for n in "abc")
    stamps.stamp_files([folder])
    report = verify_folder(folder, stamps.check)
    assert report.valid and (report.verified, report.failed) == (3, 0)
    assert [v.file for v in report.verdicts] == [str(a), str(b), str(c)]  # certificates are not files to verify
    write(b, "b,tampered")
    d = write(folder / "d.csv", "never stamped")
    write(folder / ".hidden", "not a file to verify")
    report = verify_folder(folder, stamps.check)
    assert not report.valid and (len(report.verdicts), report.verified, report.failed) == (4, 2, 2)
    by_file = {Path(v.file).name: v for v in report.verdicts}
    assert by_file["a.csv"].valid and by_file["c.csv"].valid
    assert "modified" in by_file["b.csv"].reason and by_file["b.csv"].certificate_file == str(certificate_path(b))
    assert by_file["d.csv"].reason == f"no certificate for {d} (expected {certificate_path(d)})"
    data = json.loads(json.dumps(report.as_json()))
    assert (data["valid"], data["count"], data["verified"], data["failed"]) == (False, 4, 2, 2)
    assert {f["file"]: f["valid"] for f in data["files"]} == {str(a): True, str(b): False, str(c): True, str(d): False}
    assert all(f["reason"] for f in data["files"] if not f["valid"])
    with pytest.raises(ValidationError, match="no files to verify"):
        verify_folder(write(tmp_path / "empty" / "x.ipledger.json", "{}").parent, stamps.check)


def test_verify_when_file_modified_fails_naming_modification(stamps, tmp_path):
    report = write(tmp_path / "r.txt", "original")
    [cert] = stamps.stamp_files([report]).certificates
    report.write_text("original, edited")
    with pytest.raises(VerificationError, match="modified"):
        stamps.verify(report, cert)


def test_verify_when_certificate_claims_other_author_fails(stamps, tmp_path, accounts):
    report = write(tmp_path / "r.txt", "mine")
    [cert] = stamps.stamp_files([report], sender=accounts[1]).certificates
    forged = cert.model_copy(update={"author": accounts[2].address})
    with pytest.raises(VerificationError, match="does not open to author"):
        stamps.verify(report, forged)


def test_verify_when_proof_forged_fails(stamps, tmp_path):
    a, b, c = (write(tmp_path / f"{n}.txt", n) for n in "abc")
    certs = stamps.stamp_files([a, b, c]).certificates
    cert_a = certs[0]
    forged = cert_a.model_copy(update={"proof": list(reversed(cert_a.proof)) + ["0x" + "11" * 32]})
    with pytest.raises(VerificationError, match="forged proof"):
        stamps.verify(a, forged)


def test_verify_when_root_never_stamped_fails(stamps, tmp_path):
    a, b = write(tmp_path / "a", "a"), write(tmp_path / "b", "b")
    batch = stamps.prepare([a, b], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    [cert_a, _] = stamps.stamp_files([a, b]).certificates
    fake = cert_a.model_copy(update={
        "root": batch.root, "leaf": batch.items[0].leaf, "proof": batch.items[0].proof,
        "salt": batch.items[0].salt, "author": batch.author,
    })
    with pytest.raises(VerificationError, match="never stamped"):
        stamps.verify(a, fake)


def test_verify_when_certificate_for_other_chain_fails(stamps, tmp_path):
    report = write(tmp_path / "r.txt", "x")
    [cert] = stamps.stamp_files([report]).certificates
    with pytest.raises(VerificationError, match="for chain 1,|for chain 1 "):
        stamps.verify(report, cert.model_copy(update={"chain_id": 1}))


def test_verify_when_certificate_names_other_contract_fails(stamps, tmp_path):
    report = write(tmp_path / "r.txt", "x")
    [cert] = stamps.stamp_files([report]).certificates
    other = cert.model_copy(update={"contract": "0x0000000000000000000000000000000000000001"})
    with pytest.raises(VerificationError, match="not this ledger's TimestampRegistry"):
        stamps.verify(report, other)


def test_verify_when_block_data_altered_fails(stamps, tmp_path, chain):
    report = write(tmp_path / "r.txt", "x")
    [cert] = stamps.stamp_files([report]).certificates
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
        results = list(pool.map(lambda f: stamps.stamp_files([f]).certificates[0], files))
    assert len({c.tx_hash for c in results}) == 50
    for f, cert in zip(files, results, strict=True):
        assert chain.receipt(cert.tx_hash).status == 1
        stamps.verify(f, cert)


def test_certificate_verifies_with_plain_web3_and_abi_only(stamps, tmp_path, anvil, artifacts):
    """Independence: nothing from ledger/ below, just hashlib, eth_abi, keccak and web3 with the ABI.

    The README's rule, one for every stamp: the proof (empty for a single stamp) leads from
    keccak256(leaf) to the root, and the contract recorded the root.
    """
    import hashlib

    a, b, c, d = (write(tmp_path / f"{n}.bin", n * 100) for n in "abcd")
    stamps.stamp_files([a, b, c])
    stamps.stamp_files([d])
    abi = artifacts["ITimestampRegistry"].abi
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    certificates = []
    for path in (a, b, c, d):
        cert = json.loads(Path(str(path) + ".ipledger.json").read_text())
        certificates.append(cert)
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
        event = registry.events.Stamped if cert["batch_size"] == 1 else registry.events.BatchStamped
        [log] = event().process_receipt(receipt)
        assert "0x" + log["args"]["root"].hex() == cert["root"]
    assert [c["batch_size"] for c in certificates] == [3, 3, 3, 1]
    # And OpenZeppelin's own tool accepts each of them, the single stamp included.
    assert oz_verify(certificates) == [True] * 4


# -- certificates written before the one-rule change keep verifying (issue 11, item 18) ----------

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def legacy_registry(chain):
    """The TimestampRegistry as deployed before single stamps were recorded under keccak256(leaf)."""
    fixture = json.loads((FIXTURES / "legacy_timestamp_registry.json").read_text())
    artifact = Artifact(name="TimestampRegistry", source="legacy", abi=fixture["abi"],
                        bytecode=fixture["bytecode"], deployed_bytecode="")
    address = chain.deploy(artifact, "0x" + "00" * 20).contract_address
    return chain.contract(artifact.abi, address)


def test_legacy_single_stamp_certificate_still_verifies(chain, contract, legacy_registry, tmp_path, accounts):
    """A certificate of the old format (root == leaf) from the registry that recorded raw leaves:
    written exactly as the old software wrote it, it verifies with today's software and rules."""
    author = accounts[1]
    note = write(tmp_path / "note.txt", "stamped before the rule changed")
    digest, salt = file_digest(note), new_salt()
    leaf = commitment(digest, author.address, salt)
    receipt = chain.transact(legacy_registry.functions.stamp(leaf), sender=author)
    assert chain.call(legacy_registry.functions.recordOf(leaf))[0] == author.address  # the raw leaf is its key
    legacy = Certificate(
        chain_id=chain.chain_id, contract=legacy_registry.address, tx_hash=receipt.tx_hash,
        block_number=receipt.block_number, block_hash=receipt.block_hash,
        block_time=chain.block_time(receipt.block_number), file_name=note.name, digest="0x" + digest.hex(),
        author=author.address, salt="0x" + salt.hex(), leaf="0x" + leaf.hex(), proof=[], root="0x" + leaf.hex(),
        stamper=author.address, batch_size=1,
    )
    legacy.dump(certificate_path(note))
    assert legacy.is_legacy and legacy.version == 1
    # This ledger's registry was upgraded; the legacy one is an earlier registry it still trusts.
    upgraded = TimestampService(chain, contract("TimestampRegistry"), tmp_path / "archive",
                                earlier=[legacy_registry.address])
    verified = upgraded.verify(note, Certificate.load(certificate_path(note)))
    assert (verified.author, verified.block_number) == (author.address, receipt.block_number)
    [verdict] = verify_files([note], upgraded.check)
    assert verdict.valid and verdict.certificate_file == str(certificate_path(note))
    # The legacy proof still counts: stamping the unchanged file again keeps it.
    assert [k.certificate for k in upgraded.stamp_files([note], sender=author).kept] == [legacy]
    # Its record is the raw leaf: read as a new-format certificate (root = keccak256(leaf)) it does not hold.
    relabelled = legacy.model_copy(update={"root": "0x" + keccak(leaf).hex()})
    with pytest.raises(VerificationError, match="never stamped"):
        upgraded.verify(note, relabelled)
