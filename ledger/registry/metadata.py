"""Asset metadata documents: titles and other descriptive data, off chain, content-addressed.

On chain an asset carries only ``metadataHash`` (the SHA-256 of its metadata document's
canonical bytes) and a URI. The document itself is JSON, kept in
``<data_dir>/metadata/<hash>.json`` as exactly those canonical bytes, so anyone holding it can
check it against the chain with ``sha256sum``; the API serves it at ``GET /metadata/{hash}``.
Nothing confidential is published unless the owner puts it in the document.

Canonical bytes: UTF-8 JSON with sorted keys, no insignificant whitespace, non-ASCII kept as
is. Numbers must be integers (decimals go in strings), so every JSON library writes the same
bytes for the same document.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class StoredMetadata:
    """A document in the store: its hash (``0x`` hex), default URI and size in bytes."""

    hash: str
    uri: str
    size: int

    @property
    def hash_bytes(self) -> bytes:
        return bytes.fromhex(self.hash[2:])


def _check(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValidationError(f"the metadata document nests deeper than {MAX_DEPTH} levels at {path}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"metadata keys must be strings, not {key!r} at {path}")
            _check(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, float):
        raise ValidationError(f"metadata numbers must be integers ({path} is {value!r}); write decimals as strings")
    elif not (value is None or isinstance(value, (str, int, bool))):
        raise ValidationError(f"{path} is not a JSON value: {type(value).__name__}")


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
    """The folder of metadata documents, one file per hash, written atomically."""

    def __init__(self, folder: Path, uri_prefix: str = URI_PREFIX) -> None:
        self.folder = folder
        self.uri_prefix = uri_prefix

    def path(self, digest: str | bytes) -> Path:
        return self.folder / f"{parse_hash(digest)}.json"

    def uri(self, digest: str | bytes) -> str:
        return f"{self.uri_prefix}{parse_hash(digest)}"

    def put(self, document: Mapping[str, Any]) -> StoredMetadata:
        """Store a document (idempotent: the same document is the same file)."""
        raw = canonical_bytes(document)
        digest = "0x" + hashlib.sha256(raw).hexdigest()
        path = self.path(digest)
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(raw)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredMetadata(hash=digest, uri=self.uri(digest), size=len(raw))

    def get_bytes(self, digest: str | bytes) -> bytes:
        """The stored canonical bytes; a file that no longer matches its name is refused."""
        key = parse_hash(digest)
        try:
            raw = self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no metadata document {key} is stored here") from None
        if "0x" + hashlib.sha256(raw).hexdigest() != key:
            raise NotFoundError(f"the stored metadata document {key} does not match its hash (altered)")
        return raw

    def get(self, digest: str | bytes) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.get_bytes(digest))
        return document

    def find(self, digest: str | bytes) -> dict[str, Any] | None:
        """The document if it is stored here (and intact), else None."""
        try:
            return self.get(digest)
        except NotFoundError:
            return None
