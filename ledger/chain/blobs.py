"""Files API replicas share, in the database: one content-addressed blob store, chunked.

A file a user uploads to one replica (an asset's metadata document, a sealed document) must be
served by every other one, so it lives in the shared database (``IPLEDGER_DB_URL``), never in a
replica's data folder. The bytes are kept once per SHA-256, in chunks of 1 MiB, so a file of
several gigabytes streams in and out with one chunk in memory::

    blobs        one row per file: id, its SHA-256 (``0x`` hex; NULL while the upload is written),
                 size in bytes, chunk size, when it was stored
    blob_chunks  (blob id, chunk number): the chunk's bytes and their SHA-256

What the files are lives in the tables of their owners, on top (``metadata_documents`` in
:mod:`ledger.registry.metadata`; ``sealed_documents`` and ``sealed_recipients``, indexed by
recipient address, in :mod:`ledger.sealing.store`); Alembic migration ``0004_blobs`` creates them
all.

Writing: the ``blobs`` row is inserted first without a digest, each chunk is committed alone (on
SQLite a whole upload in one transaction would hold the only write lock, and the journal with it,
for as long as the upload lasts), and the digest is set last, in one transaction that finds an
equal blob stored meanwhile and then drops the new copy. An upload cut short leaves a row without a
digest that nobody reads; :meth:`BlobStore.drop_abandoned` deletes those older than a day.

Reading checks every chunk's SHA-256 before its bytes are handed out, and the whole file's size
and SHA-256 at the end: a damaged row raises :class:`~ledger.errors.DataCorruptedError` naming the
file and the chunk. The alternative, PostgreSQL large objects, has no SQLite counterpart and is
not covered by a plain ``pg_dump`` of the tables.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ledger.chain.state import METADATA, autocommit, sqlite_engine
from ledger.errors import DataCorruptedError, NotFoundError

CHUNK_SIZE = 1 << 20
"""Bytes per ``blob_chunks`` row: big enough that per-row overhead is negligible, small enough to
keep in memory per concurrent transfer."""

ABANDONED_AFTER = 86_400.0
"""Seconds after which an upload that never finished is dropped."""

_ID = BigInteger().with_variant(Integer(), "sqlite")

blobs = Table(
    "blobs", METADATA,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("digest", String(66), nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("chunk_size", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("digest", name="uq_blobs_digest"),
)

blob_chunks = Table(
    "blob_chunks", METADATA,
    Column("blob_id", _ID, ForeignKey("blobs.id", ondelete="CASCADE", name="fk_blob_chunks_blob"),
           primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)


@dataclass(frozen=True)
class Blob:
    """A stored file: its SHA-256 (``0x`` hex) and size in bytes."""

    digest: str
    size: int


def blob_engine(location: Path | Engine, tables: list[Table]) -> Engine:
    """The shared database, or (given a folder: scripts, tests without one) a SQLite file
    ``blobs.sqlite3`` in it holding the blob tables and ``tables``."""
    if isinstance(location, Engine):
        return location
    return sqlite_engine(location / "blobs.sqlite3", [blobs, blob_chunks, *tables])


class BlobStore:
    """Content-addressed files in the database, chunked (see the module docstring)."""

    def __init__(self, engine: Engine, chunk_size: int = CHUNK_SIZE) -> None:
        self.engine = engine
        self.chunk_size = chunk_size
        self._autocommit = autocommit(engine)

    # -- writing ---------------------------------------------------------------

    def put(self, blocks: Iterable[bytes]) -> Blob:
        """Store the bytes ``blocks`` yields (any sizes); the same bytes again are stored once.

        An exception raised by ``blocks`` (a caller refusing the upload half-way) deletes what was
        written and propagates.
        """
        with self._autocommit.connect() as connection:
            key = connection.execute(insert(blobs).values(
                digest=None, size=0, chunk_size=self.chunk_size, created_at=time.time())).inserted_primary_key
            assert key is not None
            blob_id = int(key[0])
        digest = hashlib.sha256()
        size = seq = 0
        pending = bytearray()
        try:
            for block in blocks:
                pending += block
                while len(pending) >= self.chunk_size:
                    self._write_chunk(blob_id, seq, bytes(pending[:self.chunk_size]))
                    digest.update(pending[:self.chunk_size])
                    del pending[:self.chunk_size]
                    seq += 1
                size += len(block)
            if pending:
                self._write_chunk(blob_id, seq, bytes(pending))
                digest.update(pending)
            return self._finish(blob_id, "0x" + digest.hexdigest(), size)
        except BaseException:
            self._drop(blob_id)
            raise

    def put_bytes(self, data: bytes) -> Blob:
        return self.put([data])

    def _write_chunk(self, blob_id: int, seq: int, data: bytes) -> None:
        with self._autocommit.connect() as connection:
            connection.execute(insert(blob_chunks).values(
                blob_id=blob_id, seq=seq, sha256=hashlib.sha256(data).hexdigest(), data=data))

    def _finish(self, blob_id: int, digest: str, size: int) -> Blob:
        try:
            with self.engine.begin() as connection:
                if connection.execute(select(blobs.c.id).where(blobs.c.digest == digest)).first() is None:
                    connection.execute(update(blobs).where(blobs.c.id == blob_id).values(digest=digest, size=size))
                    return Blob(digest, size)
        except IntegrityError:  # the same bytes finished by another upload meanwhile
            pass
        self._drop(blob_id)
        return Blob(digest, size)

    def _drop(self, blob_id: int) -> None:
        with self.engine.begin() as connection:  # chunks first: SQLite enforces no cascade without its pragma
            connection.execute(delete(blob_chunks).where(blob_chunks.c.blob_id == blob_id))
            connection.execute(delete(blobs).where(blobs.c.id == blob_id))

    def drop_abandoned(self, older_than: float = ABANDONED_AFTER) -> int:
        """Delete uploads that never finished (a replica stopped mid-upload); the number dropped."""
        with self.engine.connect() as connection:
            ids = connection.execute(select(blobs.c.id).where(
                blobs.c.digest.is_(None), blobs.c.created_at < time.time() - older_than)).scalars().all()
        for blob_id in ids:
            self._drop(int(blob_id))
        return len(ids)

    # -- reading ---------------------------------------------------------------

    def stat(self, digest: str) -> Blob | None:
        """The stored file with this SHA-256, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(blobs.c.size).where(blobs.c.digest == digest)).first()
        return None if row is None else Blob(digest, int(row.size))

    def chunks(self, digest: str) -> Iterator[bytes]:
        """The file's bytes, one checked chunk at a time (one query per chunk: memory stays one chunk)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(blobs.c.id, blobs.c.size, blobs.c.chunk_size).where(
                blobs.c.digest == digest)).first()
        if row is None:
            raise NotFoundError(f"no stored file {digest}")
        count = -(-int(row.size) // int(row.chunk_size))
        whole = hashlib.sha256()
        size = 0
        for seq in range(count):
            with self.engine.connect() as connection:
                chunk = connection.execute(select(blob_chunks.c.sha256, blob_chunks.c.data).where(
                    blob_chunks.c.blob_id == row.id, blob_chunks.c.seq == seq)).first()
            if chunk is None:
                raise DataCorruptedError(f"stored file {digest} is damaged: chunk {seq} of {count} is missing")
            data = bytes(chunk.data)
            if hashlib.sha256(data).hexdigest() != chunk.sha256:
                raise DataCorruptedError(
                    f"stored file {digest} is damaged: chunk {seq} of {count} (bytes {seq * int(row.chunk_size):,} "
                    f"to {seq * int(row.chunk_size) + len(data):,}) does not match its SHA-256; restore the "
                    "database from a backup or upload the file again")
            whole.update(data)
            size += len(data)
            yield data
        if size != int(row.size) or "0x" + whole.hexdigest() != digest:
            raise DataCorruptedError(f"stored file {digest} is damaged: its chunks make {size:,} bytes hashing to "
                                     f"0x{whole.hexdigest()}, not the {int(row.size):,} bytes stored")

    def read_bytes(self, digest: str) -> bytes:
        """A small file whole (metadata documents), checked like :meth:`chunks`."""
        return b"".join(self.chunks(digest))


__all__ = ["CHUNK_SIZE", "Blob", "BlobStore", "blob_chunks", "blob_engine", "blobs"]
