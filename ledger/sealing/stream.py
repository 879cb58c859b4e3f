"""Seal and open files chunk by chunk: memory stays at a few chunks whatever the file's size.

The payload is AES-256-GCM under a fresh 32-byte file key, in the STREAM construction (Hoang,
Reyhanitabar, Rogaway, Vizár 2015, as age and Tink use it): chunk ``i`` has the nonce
``i`` (11 bytes, big-endian) || ``0x01`` for the last chunk else ``0x00``, and the document id as
associated data, so a changed, dropped, duplicated, reordered or appended chunk, a truncation at a
chunk boundary and a payload moved under another header all fail authentication. Written here on
``cryptography``'s AESGCM because no maintained Python package offers a STREAM mode over it.

Output goes to a temporary file beside the target, renamed only when everything checked out: a
failed open leaves no partial plaintext behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConflictError, PermissionDeniedError, ValidationError, VerificationError
from ledger.sealing.format import (
    CHUNK_SIZE,
    TAG_SIZE,
    Header,
    Recipient,
    Record,
    chunk_nonce,
    read_preamble,
    write_preamble,
)
from ledger.sealing.keys import AccountKeys, PublicKeys, unwrap_key, wrap_key

READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class To:
    """A recipient to seal to: an address, its published keys, the KEM to use."""

    address: str
    keys: PublicKeys
    kem: int


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(READ_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[BinaryIO]:
    """A temp file beside ``target``, renamed onto it only if the block completes; removed otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def wrap_for(file_key: bytes, header: Header, to: To) -> Recipient:
    if to.keys.revoked:
        raise PermissionDeniedError(f"{to.address}'s encryption key version {to.keys.version} is revoked; "
                                    "they must publish a new one (`ipledger keys rotate`)")
    enc, wrapped = wrap_key(file_key, to.kem, to.keys.of(to.kem), header.document_id)
    return Recipient(to.address, to.kem, to.keys.version, enc, wrapped)


def seal_stream(
    src: BinaryIO, out: BinaryIO, header: Header, recipients: list[To], *, file_key: bytes | None = None,
    check_hash: bool = True,
) -> list[Recipient]:
    """Write a sealed file of ``src`` (whose SHA-256 and size ``header`` names) to ``out``. ``check_hash``:
    hash the plaintext while encrypting and refuse if it is not the header's (off only when the caller has just
    hashed this very content and guards it otherwise: SHA-256 is the slowest step)."""
    if not recipients:
        raise ValidationError("a sealed file needs at least one recipient (--to ADDRESS)")
    file_key = file_key or secrets.token_bytes(32)
    entries = [wrap_for(file_key, header, to) for to in recipients]
    write_preamble(out, header, entries)
    aead = AESGCM(file_key)
    aad = header.document_id
    size = header.chunk_size
    digest = hashlib.sha256()
    total = 0
    counter = 0
    # Three buffers reused for the whole file (read into, encrypt into): no allocation per chunk.
    current, following, sealed = bytearray(size), bytearray(size), bytearray(size + TAG_SIZE)
    n = _fill(src, current)
    while True:
        m = _fill(src, following)
        last = m == 0
        chunk = memoryview(current)[:n]
        if check_hash:
            digest.update(chunk)
        total += n
        written = aead.encrypt_into(chunk_nonce(counter, last), chunk, aad, memoryview(sealed)[:n + TAG_SIZE])
        out.write(memoryview(sealed)[:written])
        if last:
            break
        current, following, n = following, current, m
        counter += 1
    if total != header.plaintext_size or (check_hash and digest.hexdigest() != header.plaintext_sha256):
        raise ValidationError("the file changed while it was being sealed; seal it again")
    return entries


def seal_file(
    path: Path, target: Path, recipients: list[To], *, sealer: str = "", record: Record | None = None,
    chunk_size: int = CHUNK_SIZE, known_sha256: str | None = None,
) -> tuple[Header, list[Recipient]]:
    """Seal ``path`` to ``recipients`` into ``target`` (atomically).

    Without ``known_sha256`` the file is read twice: hashed, then encrypted, and refused if its size or
    modification time changed between (the hash is not computed twice). With it (the hash the caller already
    put on the ledger) the file is read once, hashed while it is encrypted, and refused unless it matches.
    """
    if known_sha256 is not None:
        digest, size = known_sha256.removeprefix("0x").lower(), path.stat().st_size
    else:
        before = path.stat()
        digest, size = sha256_file(path)
    header = Header(digest, size, chunk_size, sealer, record)
    with path.open("rb") as src, atomic_output(target) as out:
        entries = seal_stream(src, out, header, recipients, check_hash=known_sha256 is not None)
        if known_sha256 is None:
            after = path.stat()
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise ValidationError(f"{path} changed while it was being sealed; seal it again")
    return header, entries


def _fill(src: BinaryIO, buffer: bytearray) -> int:
    """Read into ``buffer`` until it is full or the stream ends; the bytes read."""
    view = memoryview(buffer)
    filled = 0
    while filled < len(buffer):
        got = src.readinto(view[filled:])  # type: ignore[attr-defined]
        if not got:
            break
        filled += got
    return filled


KeysOf = Callable[[int], AccountKeys]
"""The account's private keys of a key version."""


def require_recipient(recipients: list[Recipient], address: str) -> list[Recipient]:
    """``address``'s entries; refused when it has none."""
    mine = [r for r in recipients if r.address.lower() == address.lower()]
    if not mine:
        raise PermissionDeniedError(
            f"{address} is not a recipient of this sealed file (it is addressed to "
            f"{', '.join(sorted({r.address for r in recipients})) or 'nobody'})")
    return mine


def refuse_present(recipients: list[Recipient], to: list[To]) -> None:
    """Refuse a disclosure to a key the file is already wrapped for (it would add a second entry and a second
    on-chain record for nothing); a recipient's newer key version is a new disclosure."""
    present = {(r.address.lower(), r.key_version, r.kem) for r in recipients}
    already = [t.address for t in to if (t.address.lower(), t.keys.version, t.kem) in present]
    if already:
        raise ConflictError(f"the sealed file is already addressed to {', '.join(already)} (same key): "
                            "nothing to disclose, nothing sent")


def file_key_of(header: Header, recipients: list[Recipient], address: str, keys_of: KeysOf) -> bytes:
    mine = require_recipient(recipients, address)
    for entry in mine:
        try:
            return unwrap_key(entry.enc, entry.wrapped_key, entry.kem, keys_of(entry.key_version),
                              header.document_id)
        except VerificationError:
            continue
    raise VerificationError(f"the key wrapped for {address} does not open with your key "
                            f"(version {', '.join(str(r.key_version) for r in mine)}): tampered, or not your key")


def open_stream(src: BinaryIO, out: BinaryIO, header: Header, file_key: bytes) -> None:
    """Decrypt the payload at ``src`` to ``out``; raises before returning if anything does not authenticate
    (the caller discards ``out`` then)."""
    aead = AESGCM(file_key)
    aad = header.document_id
    size = header.chunk_size + TAG_SIZE
    digest = hashlib.sha256()
    total = 0
    counter = 0
    current, following, opened = bytearray(size), bytearray(size), bytearray(header.chunk_size)
    n = _fill(src, current)
    while True:
        m = _fill(src, following)
        last = m == 0
        chunk = memoryview(current)[:n]
        if n < TAG_SIZE:
            raise VerificationError(f"the sealed file is truncated (chunk {counter} is incomplete)")
        try:
            plain = memoryview(opened)[:aead.decrypt_into(chunk_nonce(counter, last), chunk, aad,
                                                          memoryview(opened)[:n - TAG_SIZE])]
        except InvalidTag:
            if last:
                raise VerificationError(
                    f"chunk {counter} does not authenticate as the final chunk: the sealed file is truncated "
                    "or was tampered with") from None
            raise VerificationError(
                f"chunk {counter} does not authenticate: it was tampered with, reordered, or the payload "
                "belongs to another header") from None
        digest.update(plain)
        total += len(plain)
        out.write(plain)
        if last:
            break
        current, following, n = following, current, m
        counter += 1
    if total != header.plaintext_size or digest.hexdigest() != header.plaintext_sha256:
        raise VerificationError("the opened file's SHA-256 or size is not the one its header names")


def open_file(sealed: Path, target: Path, address: str, keys_of: KeysOf) -> Header:
    """Open ``sealed`` as ``address`` into ``target`` (renamed there only if every chunk authenticates and
    the plaintext's SHA-256 is the header's)."""
    if not sealed.is_file():
        raise ValidationError(f"no sealed file at {sealed}")
    with sealed.open("rb") as src:
        header, recipients = read_preamble(src)
        file_key = file_key_of(header, recipients, address, keys_of)
        with atomic_output(target) as out:
            open_stream(src, out, header, file_key)
    return header


def read_header(sealed: Path) -> tuple[Header, list[Recipient]]:
    with sealed.open("rb") as src:
        return read_preamble(src)


def rewrap(header: Header, recipients: list[Recipient], address: str, keys_of: KeysOf, to: list[To]
           ) -> list[Recipient]:
    """New entries wrapping this document's file key for ``to``: ``address`` must be able to open it.
    Only the key is re-wrapped; the payload is not touched."""
    refuse_present(recipients, to)
    file_key = file_key_of(header, recipients, address, keys_of)
    return [wrap_for(file_key, header, t) for t in to]


def with_recipients(sealed: Path, target: Path, added: list[Recipient]) -> None:
    """Copy ``sealed`` to ``target`` (atomically; may be the same path) with ``added`` appended to its recipients."""
    with sealed.open("rb") as src:
        header, recipients = read_preamble(src)
        with atomic_output(target) as out:
            write_preamble(out, header, recipients + added)
            while block := src.read(READ_BLOCK):
                out.write(block)
