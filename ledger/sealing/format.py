"""The sealed-file layout, version 2 (version 1 is still read): see docs/sealed-format.md (the normative text).

::

    magic        8 bytes   b"IPLSEAL1"
    header_len   u32 BE    length of the header
    header       JSON      canonical (sorted keys, no spaces, UTF-8): format constants, plaintext SHA-256,
                           size, chunk size, optional ledger record, a random nonce (version 2); its
                           SHA-256 is the document id
    recips_len   u32 BE    length of the recipients section
    recipients   JSON      a list of {address, kem, key_version, enc, wrapped_key} (base64): may grow later
    payload      chunks    AES-256-GCM, STREAM nonces (counter || last flag), AAD = document id

The header is fixed at sealing; the recipients section is not covered by the payload's AAD, so a
recipient can be added later by appending a wrapped key, without touching the payload.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ledger.errors import ValidationError

MAGIC = b"IPLSEAL1"
FORMAT = "ipledger-sealed"
VERSION = 2
"""The version ipledger writes. Version 2 adds the header's random ``nonce``: without it one file sealed twice by
one sealer had one header, so one document id (the randomised HPKE ``enc`` is in the recipients section, which
the id does not cover so that recipients can be added)."""
READ_VERSIONS = (1, 2)
"""The versions ipledger opens: they differ only by the nonce."""
NONCE_SIZE = 32
AEAD = "AES-256-GCM"
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
MAX_HEADER = 64 * 1024
MAX_RECIPIENTS_SECTION = 1024 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
WRAP_INFO = b"ipledger-sealed v1 file key"
"""HPKE ``info`` prefix of a wrapped file key; the document id (32 bytes) follows."""

KEM_X25519 = 0x0020
"""DHKEM(X25519, HKDF-SHA256), RFC 9180."""
KEM_MLKEM768_X25519 = 0x647A
"""ML-KEM-768 + X25519 hybrid: ``cryptography``'s ``hpke.KEM.MLKEM768_X25519`` (X-Wing; HPKE KEM id 0x647a)."""
KEM_NAMES = {KEM_X25519: "DHKEM(X25519, HKDF-SHA256)", KEM_MLKEM768_X25519: "ML-KEM-768+X25519"}
KDF_HKDF_SHA256 = 0x0001
AEAD_AES_256_GCM = 0x0002


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise ValidationError(f"the sealed file's {what} is not base64") from None


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Record:
    """The ledger record the plaintext's SHA-256 is expected at: a hint, checked when opening."""

    kind: str  # "asset" | "pledge" | "stamp"
    id: int | None = None
    certificate: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.id is not None:
            out["id"] = self.id
        return out


@dataclass(frozen=True)
class Header:
    """The fixed part of a sealed file, bound to every chunk as associated data."""

    plaintext_sha256: str
    plaintext_size: int
    chunk_size: int = CHUNK_SIZE
    sealer: str = ""
    record: Record | None = None
    raw: bytes = field(default=b"", compare=False)
    nonce: str = field(default_factory=lambda: os.urandom(NONCE_SIZE).hex())
    """64 hex digits, fresh for each sealing (version 2): each sealing's header, so its document id, is its own."""
    version: int = VERSION

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT, "version": self.version, "aead": AEAD, "chunk_size": self.chunk_size,
            "plaintext_sha256": self.plaintext_sha256, "plaintext_size": self.plaintext_size,
            "sealer": self.sealer,
        }
        if self.version >= 2:
            data["nonce"] = self.nonce
        if self.record is not None:
            data["record"] = self.record.as_json()
        return data

    def encode(self) -> bytes:
        return self.raw or canonical_json(self.as_json())

    @property
    def document_id(self) -> bytes:
        """SHA-256 of the header bytes as stored: the payload's AAD, the HPKE info's suffix, the API's key."""
        return hashlib.sha256(self.encode()).digest()

    @classmethod
    def decode(cls, raw: bytes) -> Header:
        try:
            data = json.loads(raw)
            version = data.get("version")
            if data.get("format") != FORMAT or type(version) is not int or version not in READ_VERSIONS:
                raise ValidationError(f"not an ipledger sealed file of version {' or '.join(map(str, READ_VERSIONS))}"
                                      f" (version {version!r})")
            if data.get("aead") != AEAD:
                raise ValidationError(f"the sealed file's cipher {data.get('aead')!r} is not {AEAD}")
            digest = str(data["plaintext_sha256"])
            if len(bytes.fromhex(digest)) != 32:
                raise ValueError
            chunk = int(data["chunk_size"])
            size = int(data["plaintext_size"])
            if not 0 < chunk <= MAX_CHUNK_SIZE or size < 0:
                raise ValueError
            record = data.get("record")
            rec = Record(str(record["kind"]), int(record["id"]) if "id" in record else None) if record else None
            nonce = ""
            if version >= 2:
                nonce = str(data["nonce"])
                if len(bytes.fromhex(nonce)) != NONCE_SIZE or nonce != nonce.lower():
                    raise ValueError
            return cls(digest, size, chunk, str(data.get("sealer", "")), rec, raw=raw, nonce=nonce, version=version)
        except ValidationError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise ValidationError("the sealed file's header is malformed") from None


@dataclass(frozen=True)
class Recipient:
    """One wrapped copy of the file key: HPKE base mode to the recipient's published key."""

    address: str
    kem: int
    key_version: int
    enc: bytes
    wrapped_key: bytes

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "kem": self.kem, "key_version": self.key_version,
                "enc": b64(self.enc), "wrapped_key": b64(self.wrapped_key)}

    @classmethod
    def from_json(cls, data: Any) -> Recipient:
        try:
            kem = int(data["kem"])
            if kem not in KEM_NAMES:
                raise ValidationError(f"a recipient's KEM 0x{kem:04x} is not one ipledger knows")
            return cls(str(data["address"]), kem, int(data["key_version"]),
                       unb64(data["enc"], "enc"), unb64(data["wrapped_key"], "wrapped key"))
        except (KeyError, TypeError, ValueError):
            raise ValidationError("a recipient entry of the sealed file is malformed") from None


def encode_recipients(recipients: list[Recipient]) -> bytes:
    return canonical_json([r.as_json() for r in recipients])


def decode_recipients(raw: bytes) -> list[Recipient]:
    try:
        items = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        raise ValidationError("the sealed file's recipients section is malformed") from None
    if not isinstance(items, list):
        raise ValidationError("the sealed file's recipients section is not a list")
    return [Recipient.from_json(item) for item in items]


def write_preamble(out: BinaryIO, header: Header, recipients: list[Recipient]) -> None:
    """Magic, header and recipients: everything before the payload."""
    head = header.encode()
    recips = encode_recipients(recipients)
    out.write(MAGIC + struct.pack(">I", len(head)) + head + struct.pack(">I", len(recips)) + recips)


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise ValidationError(f"the sealed file ends inside its {what}")
    return data


def read_preamble(src: BinaryIO) -> tuple[Header, list[Recipient]]:
    """Read up to the payload; ``src`` is left at the first chunk."""
    if src.read(len(MAGIC)) != MAGIC:
        raise ValidationError("not an ipledger sealed file (no IPLSEAL1 magic)")
    (head_len,) = struct.unpack(">I", _read_exact(src, 4, "header"))
    if head_len > MAX_HEADER:
        raise ValidationError("the sealed file's header is too long")
    header = Header.decode(_read_exact(src, head_len, "header"))
    (recips_len,) = struct.unpack(">I", _read_exact(src, 4, "recipients"))
    if recips_len > MAX_RECIPIENTS_SECTION:
        raise ValidationError("the sealed file's recipients section is too long")
    return header, decode_recipients(_read_exact(src, recips_len, "recipients"))


def chunk_nonce(counter: int, last: bool) -> bytes:
    """The 96-bit GCM nonce of chunk ``counter``: 11 bytes big-endian counter, then 0x01 on the last chunk."""
    if counter >= 1 << 88:
        raise ValidationError("too many chunks")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
