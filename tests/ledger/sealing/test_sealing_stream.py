"""Sealed files without a chain: round trips for 1, 2 and 5 recipients and both KEMs, and every way a
sealed file can be wrong failing clearly with no plaintext left behind."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest

from ledger.errors import PermissionDeniedError, ValidationError, VerificationError
from ledger.sealing.format import KEM_MLKEM768_X25519, KEM_X25519, MAGIC, TAG_SIZE, read_preamble
from ledger.sealing.keys import AccountKeys
from ledger.sealing.stream import To, open_file, seal_file

CHUNK = 1024


def party(n: int) -> tuple[str, bytes]:
    return "0x" + f"{n:02x}" * 20, hashlib.sha256(b"account key %d" % n).digest()


def to(n: int, kem: int, version: int = 1) -> To:
    address, key = party(n)
    return To(address, AccountKeys.derive(key, version).public(), kem)


def opener(n: int):  # type: ignore[no-untyped-def]
    _, key = party(n)
    return lambda version: AccountKeys.derive(key, version)


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "contract.pdf"
    path.write_bytes(os.urandom(CHUNK * 5 + 300))
    return path


@pytest.mark.parametrize("kem", [KEM_X25519, KEM_MLKEM768_X25519])
@pytest.mark.parametrize("count", [1, 2, 5])
def test_seal_to_n_recipients_each_opens_the_same_bytes(tmp_path: Path, plain: Path, kem: int, count: int):
    sealed = tmp_path / "contract.sealed"
    header, entries = seal_file(plain, sealed, [to(n, kem) for n in range(count)], chunk_size=CHUNK)
    assert [e.kem for e in entries] == [kem] * count
    assert header.plaintext_sha256 == hashlib.sha256(plain.read_bytes()).hexdigest()
    for n in range(count):
        out = tmp_path / f"opened-{n}"
        open_file(sealed, out, party(n)[0].upper().replace("0X", "0x"), opener(n))
        assert out.read_bytes() == plain.read_bytes()


@pytest.mark.parametrize("size", [0, CHUNK, CHUNK * 3])
def test_seal_empty_and_whole_chunk_files_open(tmp_path: Path, size: int):
    plain = tmp_path / "p"
    plain.write_bytes(os.urandom(size))
    seal_file(plain, tmp_path / "s", [to(1, KEM_X25519)], chunk_size=CHUNK)
    open_file(tmp_path / "s", tmp_path / "o", party(1)[0], opener(1))
    assert (tmp_path / "o").read_bytes() == plain.read_bytes()


def sealed_parts(path: Path) -> tuple[bytes, list[bytes]]:
    """The preamble and the payload's chunks of a sealed file."""
    with path.open("rb") as fh:
        header, _ = read_preamble(fh)
        preamble_len = fh.tell()
    data = path.read_bytes()
    payload = data[preamble_len:]
    size = header.chunk_size + TAG_SIZE
    return data[:preamble_len], [payload[i:i + size] for i in range(0, len(payload), size)]


def refused_without_output(sealed: Path, out: Path, error: type[Exception], words: str, n: int = 1) -> None:
    with pytest.raises(error) as caught:
        open_file(sealed, out, party(n)[0], opener(n))
    assert words in str(caught.value)
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []


@pytest.fixture
def sealed(tmp_path: Path, plain: Path) -> Path:
    path = tmp_path / "contract.sealed"
    seal_file(plain, path, [to(1, KEM_X25519), to(2, KEM_MLKEM768_X25519)], chunk_size=CHUNK)
    return path


def test_open_by_non_recipient_is_refused_naming_the_recipients(tmp_path: Path, sealed: Path):
    refused_without_output(sealed, tmp_path / "o", PermissionDeniedError, "is not a recipient", n=3)


def test_open_with_wrong_key_for_the_address_is_refused(tmp_path: Path, sealed: Path):
    with pytest.raises(VerificationError, match="does not open with your key"):
        open_file(sealed, tmp_path / "o", party(1)[0], opener(7))
    assert not (tmp_path / "o").exists()


def test_open_tampered_chunk_fails_and_writes_nothing(tmp_path: Path, sealed: Path):
    preamble, chunks = sealed_parts(sealed)
    flipped = bytearray(chunks[2])
    flipped[10] ^= 1
    chunks[2] = bytes(flipped)
    sealed.write_bytes(preamble + b"".join(chunks))
    refused_without_output(sealed, tmp_path / "o", VerificationError, "chunk 2 does not authenticate")


def test_open_reordered_chunks_fails(tmp_path: Path, sealed: Path):
    preamble, chunks = sealed_parts(sealed)
    chunks[1], chunks[2] = chunks[2], chunks[1]
    sealed.write_bytes(preamble + b"".join(chunks))
    refused_without_output(sealed, tmp_path / "o", VerificationError, "chunk 1 does not authenticate")


def test_open_truncated_at_a_chunk_boundary_fails_as_not_final(tmp_path: Path, sealed: Path):
    preamble, chunks = sealed_parts(sealed)
    sealed.write_bytes(preamble + b"".join(chunks[:-1]))
    refused_without_output(sealed, tmp_path / "o", VerificationError, "truncated")


def test_open_with_a_chunk_appended_fails(tmp_path: Path, sealed: Path):
    preamble, chunks = sealed_parts(sealed)
    sealed.write_bytes(preamble + b"".join(chunks) + chunks[0])
    refused_without_output(sealed, tmp_path / "o", VerificationError, "does not authenticate")


def test_open_payload_under_another_header_fails(tmp_path: Path, plain: Path, sealed: Path):
    other = tmp_path / "other.sealed"
    plain.write_bytes(b"x" + plain.read_bytes()[1:])
    seal_file(plain, other, [to(1, KEM_X25519)], chunk_size=CHUNK)
    preamble, _ = sealed_parts(other)
    _, chunks = sealed_parts(sealed)
    other.write_bytes(preamble + b"".join(chunks))
    refused_without_output(other, tmp_path / "o", VerificationError, "does not authenticate")


def test_open_not_a_sealed_file_is_bad_input(tmp_path: Path, plain: Path):
    refused_without_output(plain, tmp_path / "o", ValidationError, "not an ipledger sealed file")
    cut = tmp_path / "cut"
    cut.write_bytes(MAGIC + struct.pack(">I", 100) + b"{}")
    refused_without_output(cut, tmp_path / "o", ValidationError, "ends inside its header")


def test_open_leaves_an_existing_output_untouched_on_failure(tmp_path: Path, sealed: Path):
    out = tmp_path / "o"
    out.write_bytes(b"earlier")
    preamble, chunks = sealed_parts(sealed)
    sealed.write_bytes(preamble + b"".join(chunks[:-1]))
    with pytest.raises(VerificationError):
        open_file(sealed, out, party(1)[0], opener(1))
    assert out.read_bytes() == b"earlier"
