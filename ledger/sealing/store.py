"""Sealed files kept by the API: content-addressed, size-limited, ciphertext only, shared by replicas.

A stored document is keyed by its **sealed id** ``SHA-256(header bytes || payload bytes)``: the fixed part
of a sealed file, so two payloads can never share an id (nobody can squat a document's id with other
bytes), while its recipients section may grow. Adding a recipient later stores only the new wrapped key
(signed by a party already able to open the document); the payload never changes and the server never
sees a file key or a plaintext. Everything is in the shared database, so any API replica serves what
another stored::

    sealed_documents   sealed id, header bytes, the payload (a blob of :mod:`ledger.chain.blobs`,
                       streamed in 1 MiB chunks), its size, when it was stored
    sealed_recipients  one row per wrapped key, in the order added; indexed by (address, sealed id),
                       so "the documents addressed to 0x..." is an index look-up, not a scan

Data folders from before kept ``sealed/<sealed id hex>/header payload recipients.json meta.json``:
:meth:`SealedStore.import_folder` brings them in.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ledger.chain.blobs import BlobStore, blob_engine
from ledger.chain.state import METADATA, autocommit, insert_or_ignore
from ledger.encoding import parse_address
from ledger.errors import DataCorruptedError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.sealing.format import (
    MAGIC,
    TAG_SIZE,
    Header,
    Recipient,
    encode_recipients,
    read_preamble,
)

_ID = BigInteger().with_variant(Integer(), "sqlite")

sealed_documents = Table(
    "sealed_documents", METADATA,
    Column("sealed_id", String(66), primary_key=True),
    Column("header", LargeBinary, nullable=False),
    Column("payload", String(66), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("stored_at", BigInteger, nullable=False),
    Index("ix_sealed_documents_stored", "stored_at"),
)

sealed_recipients = Table(
    "sealed_recipients", METADATA,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("sealed_id", String(66), ForeignKey("sealed_documents.sealed_id", name="fk_sealed_recipients_doc"),
           nullable=False),
    Column("address", String(42), nullable=False),
    Column("entry_key", String(64), nullable=False),
    Column("entry", Text, nullable=False),
    UniqueConstraint("sealed_id", "entry_key", name="uq_sealed_recipients_entry"),
    Index("ix_sealed_recipients_address", "address", "sealed_id"),
)
"""``address`` lower-case; ``entry_key`` the SHA-256 of (address, KEM, key version, enc): one entry once."""

COPY_BLOCK = 1 << 20


def payload_size(header: Header) -> int:
    """The payload's exact length for the header's plaintext size and chunk size."""
    chunks = max(1, -(-header.plaintext_size // header.chunk_size))
    return header.plaintext_size + chunks * TAG_SIZE


def recipients_message(sealed_id: str, recipients: list[Recipient]) -> str:
    """The text a party signs (EIP-191 personal_sign) to add ``recipients`` to a stored document."""
    digest = hashlib.sha256(encode_recipients(recipients)).hexdigest()
    return f"ipledger: add recipients to sealed document {sealed_id}\nentries sha256: 0x{digest}"


@dataclass(frozen=True)
class StoredSealed:
    sealed_id: str
    header: Header
    recipients: list[Recipient]
    size: int
    stored_at: int

    def as_json(self) -> dict[str, Any]:
        return {
            "sealed_id": self.sealed_id, "document_id": "0x" + self.header.document_id.hex(),
            "plaintext_sha256": "0x" + self.header.plaintext_sha256, "plaintext_size": self.header.plaintext_size,
            "sealer": self.header.sealer or None,
            "record": self.header.record.as_json() if self.header.record else None,
            "recipients": [{"address": r.address, "kem": r.kem, "key_version": r.key_version}
                           for r in self.recipients],
            "size": self.size, "stored_at": self.stored_at,
        }


def _entry_key(r: Recipient) -> str:
    return hashlib.sha256(f"{r.address.lower()}|{r.kem}|{r.key_version}|".encode() + r.enc).hexdigest()


def _read_hashing(path: Path, digest: Any) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(COPY_BLOCK):
            digest.update(block)
            yield block


def parse_sealed_id(sealed_id: str) -> str:
    """A sealed id as ``0x`` + 64 lower-case hex digits."""
    cleaned = sealed_id.lower().removeprefix("0x")
    if len(cleaned) != 64 or any(c not in "0123456789abcdef" for c in cleaned):
        raise ValidationError(f"{sealed_id!r} is not a sealed document id (0x and 64 hex digits)")
    return "0x" + cleaned


class SealedStore:
    """Sealed documents in the database (``location``: the shared engine, or a folder for a SQLite
    file of its own, as :class:`~ledger.registry.metadata.MetadataStore`)."""

    def __init__(self, location: Path | Engine, max_bytes: int) -> None:
        self.engine = blob_engine(location, [sealed_documents, sealed_recipients])
        self.blobs = BlobStore(self.engine)
        self.max_bytes = max_bytes

    def put(self, src: BinaryIO, *, stored_at: int | None = None) -> StoredSealed:
        """Store the sealed file read from ``src``; the same document again merges its recipients."""
        header, recipients = read_preamble(src)
        if not recipients:
            raise ValidationError("a sealed file without recipients opens for nobody")
        expected = payload_size(header)
        if expected + len(header.encode()) > self.max_bytes:
            raise ValidationError(f"the sealed file is larger than this server keeps ({self.max_bytes:,} bytes)")
        digest = hashlib.sha256(header.encode())

        def payload() -> Iterator[bytes]:
            written = 0
            while block := src.read(min(COPY_BLOCK, expected - written + 1)):
                written += len(block)
                if written > expected:
                    break
                digest.update(block)
                yield block
            if written != expected:
                raise ValidationError(f"the sealed file's payload has {'more' if written > expected else 'fewer'} "
                                      f"bytes than its header's size implies ({expected:,})")

        blob = self.blobs.put(payload())
        sealed_id = "0x" + digest.hexdigest()
        insert_or_ignore(self.engine, sealed_documents, sealed_id=sealed_id, header=header.encode(),
                         payload=blob.digest, size=blob.size,
                         stored_at=int(time.time()) if stored_at is None else stored_at)
        return self._merge(sealed_id, recipients)

    def _merge(self, sealed_id: str, recipients: list[Recipient]) -> StoredSealed:
        for r in recipients:  # one statement each: a concurrent add of the same entry is simply kept once
            try:
                with autocommit(self.engine).connect() as connection:
                    connection.execute(insert(sealed_recipients).values(
                        sealed_id=sealed_id, address=r.address.lower(), entry_key=_entry_key(r),
                        entry=json.dumps(r.as_json(), sort_keys=True)))
            except IntegrityError:
                pass
        return self.get(sealed_id)

    def add_recipients(self, sealed_id: str, recipients: list[Recipient], signer: str, signature: str
                       ) -> StoredSealed:
        """Add wrapped keys, signed by a party already able to open the document (or its sealer)."""
        stored = self.get(sealed_id)
        if not recipients:
            raise ValidationError("no recipient to add")
        signer = parse_address(signer, "the signer")
        try:
            recovered = Account.recover_message(encode_defunct(text=recipients_message(stored.sealed_id, recipients)),
                                                signature=signature)
        except (ValueError, TypeError):
            raise ValidationError("the signature is malformed") from None
        if recovered.lower() != signer.lower():
            raise PermissionDeniedError(f"the signature is not {signer}'s")
        parties = {r.address.lower() for r in stored.recipients} | {stored.header.sealer.lower()}
        if signer.lower() not in parties:
            raise PermissionDeniedError(f"{signer} is neither a recipient nor the sealer of sealed document "
                                        f"{stored.sealed_id}: only they can add recipients")
        return self._merge(stored.sealed_id, recipients)

    def _get(self, sealed_id: str) -> tuple[StoredSealed, str]:
        key = parse_sealed_id(sealed_id)
        with self.engine.connect() as connection:
            row = connection.execute(select(sealed_documents).where(sealed_documents.c.sealed_id == key)).first()
            if row is None:
                raise NotFoundError(f"no sealed document {sealed_id} on this server")
            entries = connection.execute(select(sealed_recipients.c.entry).where(
                sealed_recipients.c.sealed_id == key).order_by(sealed_recipients.c.id)).scalars().all()
        try:  # the id covers header and payload: checked in full by stream()
            decoded = Header.decode(bytes(row.header))
        except ValidationError as exc:
            raise DataCorruptedError(f"the stored header of sealed document {key} is damaged: {exc}") from None
        recipients = [Recipient.from_json(json.loads(e)) for e in entries]
        return StoredSealed(key, decoded, recipients, int(row.size), int(row.stored_at)), str(row.payload)

    def get(self, sealed_id: str) -> StoredSealed:
        return self._get(sealed_id)[0]

    def addressed_to(self, address: str) -> list[StoredSealed]:
        """The documents with an entry for ``address``, newest first (an index look-up by address)."""
        wanted = parse_address(address, "the recipient").lower()
        query = (select(sealed_documents.c.sealed_id)
                 .where(sealed_documents.c.sealed_id.in_(
                     select(sealed_recipients.c.sealed_id).where(sealed_recipients.c.address == wanted)))
                 .order_by(sealed_documents.c.stored_at.desc(), sealed_documents.c.sealed_id))
        with self.engine.connect() as connection:
            ids = connection.execute(query).scalars().all()
        return [self.get(sealed_id) for sealed_id in ids]

    def stream(self, sealed_id: str) -> Iterator[bytes]:
        """The sealed file as a client downloads it: the header, every recipient known now, the payload
        (its chunks checked as they are read: DataCorruptedError on a damaged one)."""
        stored, payload = self._get(sealed_id)
        head = stored.header.encode()
        recips = encode_recipients(stored.recipients)
        yield MAGIC + len(head).to_bytes(4, "big") + head + len(recips).to_bytes(4, "big") + recips
        payload_hash = hashlib.sha256(head)
        for block in self.blobs.chunks(payload):
            payload_hash.update(block)
            yield block
        if "0x" + payload_hash.hexdigest() != stored.sealed_id:
            raise DataCorruptedError(f"sealed document {stored.sealed_id} is damaged: its header and payload no "
                                     "longer hash to its id")

    def import_folder(self, folder: Path, backup: Path) -> int:
        """Bring in the documents of a data folder from before the database kept them
        (``<sealed id>/header payload recipients.json meta.json``), idempotently, keeping their
        recipients and dates; each imported folder is then moved to ``backup``. A folder whose
        payload does not hash to its name stays where it is. The number imported."""
        if not folder.is_dir():
            return 0
        count = 0
        for doc in sorted(folder.iterdir()):
            if doc.name.startswith(".") or not (doc / "payload").is_file():
                continue
            try:
                header = (doc / "header").read_bytes()
                recipients = [Recipient.from_json(e) for e in json.loads((doc / "recipients.json").read_text())]
                stored_at = int(json.loads((doc / "meta.json").read_text())["stored_at"])
                key = parse_sealed_id(doc.name)
            except (FileNotFoundError, ValidationError, ValueError, KeyError):
                continue  # moved by another replica meanwhile, or not a document folder
            digest = hashlib.sha256(header)

            try:
                blob = self.blobs.put(_read_hashing(doc / "payload", digest))
            except FileNotFoundError:
                continue
            if "0x" + digest.hexdigest() != key:
                continue
            insert_or_ignore(self.engine, sealed_documents, sealed_id=key, header=header, payload=blob.digest,
                             size=blob.size, stored_at=stored_at)
            self._merge(key, recipients)
            backup.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(doc, backup / doc.name)
            except FileNotFoundError:
                pass
            except OSError:  # already in the backup (imported before, then copied back): keep both copies
                os.replace(doc, backup / f"{doc.name}.{int(time.time())}")
            count += 1
        return count
