"""Asset metadata documents: titles and other descriptive data, off chain, content-addressed.

On chain an asset carries only ``metadataHash`` (the SHA-256 of its metadata document's
canonical bytes) and a URI. The document itself is JSON, kept as exactly those canonical bytes in
the shared database's blob store (:mod:`ledger.chain.blobs`; the table ``metadata_documents``
names the blobs that are metadata documents), so every API replica serves it and anyone holding it
can check it against the chain with ``sha256sum``; the API serves it at ``GET /metadata/{hash}``.
Nothing confidential is published unless the owner puts it in the document. Data folders from
before kept ``<data_dir>/metadata/<hash>.json``: :meth:`MetadataStore.import_folder` brings them in.

Canonical bytes: UTF-8 JSON with sorted keys, no insignificant whitespace, non-ASCII kept as
is. Numbers must be integers (decimals go in strings), so every JSON library writes the same
bytes for the same document.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Float, String, Table, select
from sqlalchemy.engine import Engine

from ledger.chain.blobs import BlobStore, blob_engine
from ledger.chain.state import METADATA, insert_or_ignore
from ledger.errors import NotFoundError, ValidationError

SCHEMA = "ipledger.asset-metadata/1"
"""The ``schema`` a document built by ipledger names; documents from elsewhere may omit it."""

URI_PREFIX = "/metadata/"
"""The default URI of a document: its path on the ledger's API (``GET /metadata/{hash}``)."""

MAX_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_TITLE = 500
BLANK = " \t\r\n"
"""A title must hold something else than these (the API's schema says the same: ``[^ \\t\\r\\n]``)."""

_HASH = re.compile(r"^(0x)?([0-9a-fA-F]{64})$")

metadata_documents = Table(
    "metadata_documents", METADATA,
    Column("hash", String(66), primary_key=True),
    Column("stored_at", Float, nullable=False),
)
"""The blobs that are metadata documents (their hash is the blob's): ``GET /metadata/{hash}`` serves
only these, never another upload's bytes."""


@dataclass(frozen=True)
class StoredMetadata:
    """A document in the store: its hash (``0x`` hex), default URI and size in bytes."""

    hash: str
    uri: str
    size: int

    @property
    def hash_bytes(self) -> bytes:
        return bytes.fromhex(self.hash[2:])


def check_values(document: Any) -> None:
    """The rules on a document's values (nesting depth, integers only, string keys), as
    :func:`validate_document` applies them. The API applies them first, before its schema's own validation:
    a deep or wide hostile value then gets one small refusal, not an error per level and per member."""
    _check(document, "$", 0)


def _shown(path: str) -> str:
    """A path as a refusal names it: cut short, since its keys may be long."""
    return path if len(path) <= 200 else path[:200] + "..."


def _check(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValidationError(f"the metadata document nests deeper than {MAX_DEPTH} levels at {_shown(path)}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"metadata keys must be strings, not {key!r} at {_shown(path)}")
            _check(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, float):
        raise ValidationError(f"metadata numbers must be integers ({_shown(path)} is {value!r}); write decimals as "
                              "strings")
    elif not (value is None or isinstance(value, (str, int, bool))):
        raise ValidationError(f"{_shown(path)} is not a JSON value: {type(value).__name__}")


def validate_document(document: Any) -> dict[str, Any]:
    """Check a metadata document: a JSON object with a non-empty ``title``, integers only, bounded."""
    if not isinstance(document, Mapping):
        raise ValidationError("a metadata document is a JSON object")
    doc = dict(document)
    title = doc.get("title")
    if not isinstance(title, str) or not title.strip(BLANK):
        raise ValidationError("a metadata document needs a non-empty \"title\"")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"the title is too long: at most {MAX_TITLE} characters, got {len(title)}")
    _check(doc, "$", 0)
    return doc


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed and stored: sorted keys, compact, UTF-8."""
    doc = validate_document(document)
    try:
        raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                         allow_nan=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError) as exc:
        raise ValidationError(f"the metadata document cannot be encoded: {exc}") from None
    if len(raw) > MAX_BYTES:
        raise ValidationError(f"the metadata document is too large: at most {MAX_BYTES} bytes, got {len(raw)}")
    return raw


def metadata_hash(document: Mapping[str, Any]) -> bytes:
    """SHA-256 of the canonical bytes: the ``metadataHash`` that goes on chain."""
    return hashlib.sha256(canonical_bytes(document)).digest()


def build_document(
    title: str,
    *,
    kind: str | None = None,
    ref: str | None = None,
    description: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A document as ``ipledger asset register`` builds it (``extra`` keys go in as given)."""
    doc: dict[str, Any] = {"schema": SCHEMA, **(extra or {})}
    doc["title"] = title.strip()
    if kind:
        doc["kind"] = kind
    if ref:
        doc["ref"] = ref
    if description:
        doc["description"] = description
    return validate_document(doc)


def parse_hash(text: str | bytes) -> str:
    """A document hash as ``0x`` + 64 lower-case hex digits."""
    if isinstance(text, bytes):
        if len(text) != 32:
            raise ValidationError("a metadata hash is 32 bytes")
        return "0x" + text.hex()
    match = _HASH.match(text.strip())
    if match is None:
        raise ValidationError(f"not a metadata hash: {text!r} (0x and 64 hex digits)")
    return "0x" + match.group(2).lower()


class MetadataStore:
    """Metadata documents in the blob store, one per hash.

    ``location`` is the shared database's engine, or a folder where a SQLite file of its own is
    kept (scripts and tests without a database).
    """

    def __init__(self, location: Path | Engine, uri_prefix: str = URI_PREFIX) -> None:
        self.engine = blob_engine(location, [metadata_documents])
        self.blobs = BlobStore(self.engine)
        self.uri_prefix = uri_prefix

    def uri(self, digest: str | bytes) -> str:
        return f"{self.uri_prefix}{parse_hash(digest)}"

    def put(self, document: Mapping[str, Any]) -> StoredMetadata:
        """Store a document (idempotent: the same document is stored once)."""
        return self.put_canonical(canonical_bytes(document))

    def put_canonical(self, raw: bytes) -> StoredMetadata:
        blob = self.blobs.put_bytes(raw)
        insert_or_ignore(self.engine, metadata_documents, hash=blob.digest, stored_at=time.time())
        return StoredMetadata(hash=blob.digest, uri=self.uri(blob.digest), size=blob.size)

    def get_bytes(self, digest: str | bytes) -> bytes:
        """The stored canonical bytes, checked against the hash (DataCorruptedError if they differ)."""
        key = parse_hash(digest)
        with self.engine.connect() as connection:
            known = connection.execute(select(metadata_documents.c.hash).where(
                metadata_documents.c.hash == key)).first()
        if known is None:
            raise NotFoundError(f"no metadata document {key} is stored here")
        return self.blobs.read_bytes(key)

    def get(self, digest: str | bytes) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.get_bytes(digest))
        return document

    def find(self, digest: str | bytes) -> dict[str, Any] | None:
        """The document if it is stored here, else None (a damaged one raises DataCorruptedError)."""
        try:
            return self.get(digest)
        except NotFoundError:
            return None

    def import_folder(self, folder: Path, backup: Path) -> int:
        """Bring in the documents of a data folder from before the database kept them
        (``<hash>.json``), idempotently; each file whose bytes match its name is then moved to
        ``backup`` (a file that does not match stays where it is, untouched). The number imported."""
        if not folder.is_dir():
            return 0
        count = 0
        for path in sorted(folder.glob("0x*.json")):
            try:
                raw = path.read_bytes()
                key = parse_hash(path.stem)
            except (FileNotFoundError, ValidationError):  # moved by another replica meanwhile; not ours
                continue
            if "0x" + hashlib.sha256(raw).hexdigest() != key:
                continue
            self.put_canonical(raw)
            _move(path, backup / path.name)
            count += 1
        return count


def _move(path: Path, target: Path) -> None:
    """Move an imported file aside (another replica on a shared folder may have moved it first)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        pass
