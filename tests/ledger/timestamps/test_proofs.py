"""Offline proofs: digests, commitments, OZ-compatible Merkle trees, certificates.

The Merkle tests compare against the real ``@openzeppelin/merkle-tree`` npm
package (run with ``node``), because "compatible with OpenZeppelin" is only
worth something if OZ's own tool produces the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak

from ledger.errors import ValidationError, VerificationError
from ledger.timestamps import proofs
from ledger.timestamps.proofs import (
    Certificate,
    MerkleTree,
    anchor_key,
    certificate_number,
    certificate_path,
    certificate_paths,
    check_certificate_offline,
    commitment,
    file_digest,
    is_certificate_name,
    leaf_hash,
    new_salt,
    verify_proof,
    write_certificate,
)

ROOT = Path(__file__).resolve().parents[3]
AUTHOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _rand32(rng: random.Random) -> bytes:
    return rng.randbytes(32)


# --------------------------------------------------------------------------- file_digest


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096 + 17, (1 << 20) + 5])
def test_file_digest_of_any_size_equals_hashlib(tmp_path: Path, size: int) -> None:
    data = random.Random(size).randbytes(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).digest()
    assert file_digest(path, chunk_size=4096) == expected
    assert file_digest(path) == expected


def test_file_digest_when_missing_raises_validation_naming_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pdf"
    with pytest.raises(ValidationError, match="nope.pdf"):
        file_digest(missing)


def test_file_digest_of_directory_raises_validation(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is a directory"):
        file_digest(tmp_path)


def test_file_digest_when_unreadable_raises_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulated: chmod 000 does not stop root, and tests may run as root.
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(ValidationError, match="secret.bin.*permission denied"):
        file_digest(path)


def test_file_digest_with_bad_chunk_size_raises_validation(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with pytest.raises(ValidationError):
        file_digest(path, chunk_size=0)


# --------------------------------------------------------------------------- commitment


def test_commitment_equals_independent_abi_encoding() -> None:
    digest, salt = hashlib.sha256(b"hello").digest(), new_salt()
    expected = keccak(abi_encode(["bytes32", "address", "bytes32"], [digest, AUTHOR.lower(), salt]))
    # Independent layout check: three 32-byte words, address left-padded.
    manual = keccak(digest + bytes(12) + bytes.fromhex(AUTHOR[2:]) + salt)
    assert commitment(digest, AUTHOR, salt) == expected == manual
    assert commitment(digest, AUTHOR.lower(), salt) == expected


def test_commitment_for_other_author_or_salt_differs() -> None:
    digest, salt = bytes(32), bytes(32)
    base = commitment(digest, AUTHOR, salt)
    assert commitment(digest, OTHER, salt) != base
    assert commitment(digest, AUTHOR, b"\x01" * 32) != base


@pytest.mark.parametrize(
    ("digest", "author", "salt", "message"),
    [
        (bytes(31), AUTHOR, bytes(32), "digest must be 32 bytes"),
        (bytes(32), AUTHOR, bytes(33), "salt must be 32 bytes"),
        ("00" * 32, AUTHOR, bytes(32), "digest must be 32 bytes"),
        (bytes(32), "0x1234", bytes(32), "not a valid address"),
        (bytes(32), AUTHOR[:-1] + ("9" if AUTHOR[-1] != "9" else "8"), bytes(32), "address"),
        (bytes(32), "0x70997970c51812DC3A010C7d01b50e0d17dc79C8", bytes(32), "checksum"),
    ],
)
def test_commitment_with_bad_input_raises_validation(
    digest: Any, author: str, salt: bytes, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        commitment(digest, author, salt)


def test_new_salt_is_32_random_bytes() -> None:
    assert len(new_salt()) == 32
    assert new_salt() != new_salt()


# --------------------------------------------------------------------------- Merkle tree vs npm

_NODE_SCRIPT = r"""
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const sets = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = sets.map(values => {
  const tree = StandardMerkleTree.of(values, ['bytes32', 'address', 'bytes32']);
  return { root: tree.root, proofs: values.map((_, i) => tree.getProof(i)) };
});
process.stdout.write(JSON.stringify(out));
"""


def _oz_trees(sets: list[list[list[str]]]) -> list[dict[str, Any]]:
    """Root and per-value proofs from the real npm StandardMerkleTree."""
    out: list[dict[str, Any]] = _node(_NODE_SCRIPT, sets)
    return out


_NODE_VERIFY = r"""
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const certs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(certs.map(c => StandardMerkleTree.verify(
  c.root, ['bytes32', 'address', 'bytes32'], [c.digest, c.author, c.salt], c.proof))));
"""


def oz_verify(certificates: list[dict[str, Any]]) -> list[bool]:
    """``StandardMerkleTree.verify(root, types, [digest, author, salt], proof)`` of the real npm
    package, once per certificate (as JSON): what an outside verifier with OpenZeppelin's tool sees."""
    return list(_node(_NODE_VERIFY, certificates))


def _node(script: str, payload: Any) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not on PATH: it is needed to check Merkle trees against "
            "@openzeppelin/merkle-tree; install Node.js (>= 18) and run `npm ci`"
        )
    if not (ROOT / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        pytest.fail(f"@openzeppelin/merkle-tree is not installed under {ROOT}; run `npm ci` there")
    result = subprocess.run(
        [node, "-e", script], check=False, input=json.dumps(payload), capture_output=True, text=True,
        cwd=ROOT, timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(f"node failed ({result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout)


def test_merkle_tree_root_and_proofs_equal_openzeppelin_npm() -> None:
    rng = random.Random(2024)
    authors = [AUTHOR, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]
    triples = [
        [(_rand32(rng), authors[i % 2], _rand32(rng)) for i in range(n)]
        for n in (1, 2, 3, 4, 5, 7, 8, 100, 257)
    ]
    expected = _oz_trees([[[_hex(d), a, _hex(s)] for d, a, s in t] for t in triples])
    for values_triples, oz in zip(triples, expected, strict=True):
        values = [commitment(d, a, s) for d, a, s in values_triples]
        tree = MerkleTree(values)
        assert _hex(tree.root) == oz["root"], f"root differs for {len(values)} leaves"
        for i, value in enumerate(values):
            proof = tree.proof(i)
            assert [_hex(p) for p in proof] == oz["proofs"][i], f"proof {i}/{len(values)}"
            assert verify_proof(proof, tree.root, value)


def test_merkle_tree_of_one_leaf_has_leaf_hash_root_and_empty_proof() -> None:
    c = commitment(bytes(32), AUTHOR, bytes(32))
    tree = MerkleTree([c])
    assert tree.root == leaf_hash(c) == keccak(c)
    assert tree.proof(0) == []
    assert verify_proof([], tree.root, c)


def test_verify_proof_when_tampered_returns_false() -> None:
    rng = random.Random(7)
    values = [_rand32(rng) for _ in range(9)]
    tree = MerkleTree(values)
    proof = tree.proof(4)
    assert verify_proof(proof, tree.root, values[4])
    assert not verify_proof(proof, tree.root, values[5])  # another leaf
    assert not verify_proof(proof, tree.root, _rand32(rng))  # a leaf not in the tree
    flipped = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    assert not verify_proof(flipped, tree.root, values[4])
    assert not verify_proof(proof[:-1], tree.root, values[4])  # truncated
    assert not verify_proof(proof, _rand32(rng), values[4])  # another root
    # An inner node is not a leaf: the double leaf hash blocks second preimages.
    assert not verify_proof(proof[1:], tree.root, proof[0])


def test_verify_proof_with_malformed_node_raises_validation() -> None:
    tree = MerkleTree([bytes(32), b"\x01" * 32])
    with pytest.raises(ValidationError, match=r"proof\[0\]"):
        verify_proof([b"\x00" * 31], tree.root, bytes(32))


def test_merkle_tree_empty_raises_validation() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        MerkleTree([])


def test_merkle_tree_with_duplicates_raises_validation() -> None:
    c = b"\x05" * 32
    with pytest.raises(ValidationError, match="duplicate commitment.*0x0505"):
        MerkleTree([bytes(32), c, b"\x01" * 32, c])


def test_merkle_tree_with_bad_leaf_length_raises_validation() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        MerkleTree([bytes(32), bytes(20)])


@pytest.mark.parametrize("index", [-1, 3, True])
def test_merkle_proof_index_out_of_range_raises_validation(index: int) -> None:
    tree = MerkleTree([bytes(32), b"\x01" * 32, b"\x02" * 32])
    with pytest.raises(ValidationError, match="out of range"):
        tree.proof(index)


def test_merkle_tree_of_10000_leaves_builds_and_proves_fast() -> None:
    rng = random.Random(10_000)
    values = [_rand32(rng) for _ in range(10_000)]
    start = time.perf_counter()
    tree = MerkleTree(values)
    all_proofs = [tree.proof(i) for i in range(len(values))]
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"10,000 leaves took {elapsed:.2f}s"
    assert len(tree) == 10_000
    assert {len(p) for p in all_proofs} <= {13, 14}
    for i in rng.sample(range(len(values)), 50):
        assert verify_proof(all_proofs[i], tree.root, values[i])


# --------------------------------------------------------------------------- certificates


def _single_cert(file: Path, author: str = AUTHOR, *, legacy: bool = True) -> Certificate:
    """A single stamp's certificate: legacy (root == leaf) unless ``legacy=False`` (root = keccak256(leaf))."""
    digest, salt = file_digest(file), new_salt()
    leaf = _hex(commitment(digest, author, salt))
    return Certificate(
        chain_id=31337,
        contract=CONTRACT,
        tx_hash=_hex(b"\xaa" * 32),
        block_number=12,
        block_hash=_hex(b"\xbb" * 32),
        block_time=1_700_000_000,
        file_name=file.name,
        digest=_hex(digest),
        author=author,
        salt=_hex(salt),
        leaf=leaf,
        proof=[],
        root=leaf if legacy else _hex(leaf_hash(bytes.fromhex(leaf[2:]))),
        stamper=author,
        batch_size=1,
    )


def _batch_cert(tmp_path: Path) -> tuple[Certificate, Path]:
    files = []
    for i in range(5):
        f = tmp_path / f"doc{i}.txt"
        f.write_bytes(f"document {i}".encode())
        files.append(f)
    singles = [_single_cert(f) for f in files]
    tree = MerkleTree([bytes.fromhex(c.leaf[2:]) for c in singles])
    cert = singles[2].model_copy(
        update={
            "proof": [_hex(p) for p in tree.proof(2)],
            "root": _hex(tree.root),
            "batch_size": 5,
        }
    )
    return Certificate.loads(cert.dumps()), files[2]


def test_certificate_roundtrip_through_file_is_identical(tmp_path: Path) -> None:
    f = tmp_path / "paper.pdf"
    f.write_bytes(b"%PDF-1.7 ...")
    cert = _single_cert(f)
    path = certificate_path(f)
    assert path == tmp_path / "paper.pdf.ipledger.json"
    cert.dump(path)
    assert Certificate.load(path) == cert
    assert json.loads(path.read_text())["version"] == 1
    assert cert.block_time_iso == "2023-11-14T22:13:20Z"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    cert.dump(path)  # overwriting is atomic too
    assert Certificate.load(path) == cert


def test_certificate_normalises_hex_and_addresses(tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"a")
    data = json.loads(_single_cert(f).dumps())
    data["contract"] = data["contract"].lower()
    data["tx_hash"] = "0x" + data["tx_hash"][2:].upper()
    cert = Certificate.loads(json.dumps(data))
    assert cert.contract == CONTRACT
    assert cert.tx_hash == _hex(b"\xaa" * 32)


def _broken(mutate: Any, tmp_path: Path) -> str:
    f = tmp_path / "a"
    f.write_bytes(b"a")
    data = json.loads(_single_cert(f).dumps())
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.pop("salt"), "salt: Field required"),
        (lambda d: d.update(block_number="12"), "block_number"),
        (lambda d: d.update(chain_id=1.5), "chain_id"),
        (lambda d: d.update(proof="0x00"), "proof"),
        (lambda d: d.update(digest="0x1234"), "digest: .*64 hex digits"),
        (lambda d: d.update(leaf="0x" + "zz" * 32), "leaf"),
        (lambda d: d.update(author="0xnotanaddress"), "author"),
        (lambda d: d.update(version=2), "unsupported certificate version 2"),
        (lambda d: d.update(block_time_iso="1999-01-01T00:00:00Z"), "disagrees with block_time"),
        (lambda d: d.update(batch_size=3), "single stamp"),
        (lambda d: d.update(root="0x" + "ab" * 32, batch_size=3), "a batch of 3 leaves has a proof"),
        (lambda d: (d.pop("block_time_iso"), d.update(block_time=10**20)), "block_time_iso"),
        (lambda d: d.update(surprise=1), "surprise"),
    ],
)
def test_certificate_loads_malformed_raises_validation(
    tmp_path: Path, mutate: Any, reason: str
) -> None:
    with pytest.raises(ValidationError, match=f"malformed certificate: .*{reason}"):
        Certificate.loads(_broken(mutate, tmp_path))


@pytest.mark.parametrize("text", ["", "{", "[]", "null", "not json"])
def test_certificate_loads_bad_json_raises_validation(text: str) -> None:
    with pytest.raises(ValidationError, match="malformed certificate"):
        Certificate.loads(text)


def test_certificate_load_missing_or_bad_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no certificate at .*x.ipledger.json"):
        Certificate.load(tmp_path / "x.ipledger.json")
    bad = tmp_path / "bad.ipledger.json"
    bad.write_text("{oops")
    with pytest.raises(ValidationError, match="malformed certificate.*bad.ipledger.json"):
        Certificate.load(bad)


def test_check_certificate_offline_single_passes_and_anchor_is_one_leaf_root(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"original")
    cert = _single_cert(f, legacy=False)
    check_certificate_offline(cert, f)
    assert not cert.is_batch and not cert.is_legacy
    leaf = bytes.fromhex(cert.leaf[2:])
    assert anchor_key(cert) == keccak(leaf) == MerkleTree([leaf]).root


def test_check_certificate_offline_legacy_single_passes_and_anchor_is_leaf(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"original")
    cert = _single_cert(f)
    check_certificate_offline(cert, f)
    assert cert.is_legacy and not cert.is_batch
    assert anchor_key(cert) == bytes.fromhex(cert.leaf[2:])


def test_single_certificate_with_wrong_root_raises_forged_proof(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"original")
    cert = _single_cert(f, legacy=False)
    with pytest.raises(VerificationError, match="forged proof"):
        check_certificate_offline(cert.model_copy(update={"root": _hex(b"\x42" * 32)}), f)


def test_every_certificate_verifies_with_openzeppelin_standard_merkle_tree(tmp_path: Path) -> None:
    """One rule: OZ's own StandardMerkleTree.verify accepts single stamps as it accepts batches."""
    f = tmp_path / "a.txt"
    f.write_bytes(b"original")
    single = _single_cert(f, legacy=False)
    batch, _ = _batch_cert(tmp_path)
    legacy = _single_cert(f)
    forged = single.model_copy(update={"salt": _hex(new_salt())})
    verdicts = oz_verify([json.loads(c.dumps()) for c in (single, batch, legacy, forged)])
    # The legacy form (root == leaf) is exactly what OZ's tool refused; ipledger still verifies it.
    assert verdicts == [True, True, False, False]


def test_check_certificate_offline_batch_passes_and_anchor_is_root(tmp_path: Path) -> None:
    cert, f = _batch_cert(tmp_path)
    check_certificate_offline(cert, f)
    assert cert.is_batch and not cert.is_legacy
    assert anchor_key(cert) == bytes.fromhex(cert.root[2:])
    assert anchor_key(cert) != bytes.fromhex(cert.leaf[2:])


def test_check_certificate_offline_when_file_modified_raises_verification(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"original")
    cert = _single_cert(f)
    f.write_bytes(b"originaL")
    with pytest.raises(
        VerificationError, match="file does not match the certificate: it was modified"
    ):
        check_certificate_offline(cert, f)


def test_check_certificate_offline_when_other_author_raises_verification(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"original")
    cert = _single_cert(f)
    # A front-runner copies the leaf and claims it as theirs: it does not open to them.
    stolen = cert.model_copy(update={"author": OTHER, "stamper": OTHER})
    with pytest.raises(VerificationError, match=f"leaf does not open to author {OTHER}"):
        check_certificate_offline(stolen, f)
    salted = cert.model_copy(update={"salt": _hex(new_salt())})
    with pytest.raises(VerificationError, match="leaf does not open"):
        check_certificate_offline(salted, f)


def test_check_certificate_offline_when_proof_forged_raises_verification(tmp_path: Path) -> None:
    cert, f = _batch_cert(tmp_path)
    forged_proof = [
        cert.proof[0][:-1] + ("0" if cert.proof[0][-1] != "0" else "1"),
        *cert.proof[1:],
    ]
    for forged in (
        cert.model_copy(update={"proof": forged_proof}),
        cert.model_copy(update={"proof": cert.proof[:-1]}),
        cert.model_copy(update={"root": _hex(b"\x42" * 32)}),
    ):
        with pytest.raises(VerificationError, match="forged proof"):
            check_certificate_offline(forged, f)


def test_check_certificate_offline_when_file_missing_raises_validation(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"x")
    cert = _single_cert(f)
    os.remove(f)
    with pytest.raises(ValidationError, match="no such file"):
        check_certificate_offline(cert, f)


def test_certificate_names_number_after_ipledger_so_files_never_share_one(tmp_path: Path) -> None:
    log, log2 = tmp_path / "log", tmp_path / "log.2"
    assert certificate_path(log, 2) == tmp_path / "log.ipledger.2.json"
    assert certificate_path(log2) == tmp_path / "log.2.ipledger.json" != certificate_path(log, 2)
    assert certificate_number(log, certificate_path(log, 2)) == 2
    assert certificate_number(log, certificate_path(log2)) is None
    assert certificate_number(log2, certificate_path(log, 2)) is None
    assert certificate_number(log, tmp_path / "log.ipledger.02.json") is None
    assert certificate_number(log, tmp_path / "log.ipledger.1.json") is None
    for name in ("a.ipledger.json", "a.pdf.ipledger.7.json"):
        assert is_certificate_name(name)
    for name in ("a.json", "ipledger.json.txt", "a.ipledger.x.json", "a.ipledger.0.json"):
        assert not is_certificate_name(name)
    with pytest.raises(ValidationError, match="starts at 1"):
        certificate_path(log, 0)
    for path in (certificate_path(log, 10), certificate_path(log), certificate_path(log, 2), certificate_path(log2)):
        path.write_text("{}")
    assert certificate_paths(log) == [certificate_path(log, n) for n in (1, 2, 10)]
    assert certificate_paths(log2) == [certificate_path(log2)]


def test_write_certificate_never_overwrites_another_stamp(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"a")
    first, second = _single_cert(f), _single_cert(f)  # two stamps: different salts, different leaves
    assert write_certificate(first, f) == certificate_path(f)
    assert write_certificate(second, f) == certificate_path(f, 2)
    assert Certificate.load(certificate_path(f)) == first
    # The same stamp refreshed (its transaction moved to another block) replaces itself in place.
    moved = first.model_copy(update={"block_number": 13})
    assert write_certificate(moved, f) == certificate_path(f)
    assert Certificate.load(certificate_path(f)) == moved
    # A name held by something that is not a certificate is left alone too.
    certificate_path(f, 3).write_text("my own notes")
    third = _single_cert(f)
    assert write_certificate(third, f, 3) == certificate_path(f, 4)
    assert certificate_path(f, 3).read_text() == "my own notes"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_certificate_dump_without_overwrite_raises_file_exists_and_keeps_file(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"a")
    path = certificate_path(f)
    path.write_text("earlier")
    with pytest.raises(FileExistsError):
        _single_cert(f).dump(path, overwrite=False)
    assert path.read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "a.txt.ipledger.json"]


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_legacy_certificate_fixture_loads_and_verifies_offline() -> None:
    """A certificate written by ipledger before the one-rule change (root == leaf) is still read and checked."""
    path = FIXTURES / "legacy-note.txt.ipledger.json"
    cert = Certificate.load(path)
    assert cert.version == 1 and cert.is_legacy and cert.proof == [] and cert.batch_size == 1
    check_certificate_offline(cert, FIXTURES / "legacy-note.txt")
    assert anchor_key(cert) == bytes.fromhex(cert.leaf[2:])
    assert Certificate.loads(path.read_text()).dumps() == path.read_text()  # the format is unchanged


def test_module_exports_only_what_it_defines() -> None:
    assert all(hasattr(proofs, name) for name in proofs.__all__)
