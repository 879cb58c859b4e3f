"""A durable journal of every signed transaction ipledger sends.

Why: a chain node may lose blocks it had already mined (Anvil persists its
state only every few seconds and on a clean exit; a SIGKILL loses the rest).
Before a signed transaction is sent it is committed here; once mined, its block
is recorded. After a restart, :meth:`ChainClient.reconcile` re-sends the
transactions the chain no longer holds: the same signed bytes with the same
nonce, so a re-send can never execute twice. Whatever ipledger acknowledged (a
certificate, an asset id) is thus restored on the chain.

The journal is the ``tx_journal`` table of the shared database (``IPLEDGER_DB_URL``,
:mod:`ledger.chain.state`), so API replicas behind one proxy share it: any of them, or a
restarted one, re-sends what another acknowledged. Given a file path instead of an engine it
keeps a SQLite file of its own (scripts, tests). SQLite commits with ``synchronous=FULL``.

Data folders from before kept the journal in ``<data_dir>/journal/journal-<chain id>.sqlite``
(table ``txs``; ``ipledger deploy`` later wrote ``tx_journal`` there): :func:`import_journal_files`
copies every entry into the shared table at start, before anything is reconciled, so a
transaction acknowledged then and lost by the chain since is still re-sent.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    MetaData,
    Table,
    create_engine,
    delete,
    insert,
    inspect,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ledger.chain.state import autocommit, sqlite_engine, tx_journal, tx_journal_outputs


@dataclass(frozen=True)
class JournalEntry:
    tx_hash: str
    sender: str
    nonce: int
    raw: bytes
    block_number: int | None
    block_hash: str | None
    state: str


class Journal:
    """Signed transactions for one chain (``chain_key``: the chain id)."""

    def __init__(self, location: Path | Engine, chain_key: str) -> None:
        self._owned = isinstance(location, Path)
        self.engine: Engine = (
            sqlite_engine(location, [tx_journal, tx_journal_outputs]) if isinstance(location, Path) else location)
        self.path = location if isinstance(location, Path) else None
        self.chain_key = chain_key
        self._autocommit = autocommit(self.engine)
        self._lock = threading.Lock()  # SQLite: one writer at a time in this process (PostgreSQL needs none)

    def _write(self, statement: Any) -> None:
        """One statement, committed (durably) before this returns."""
        with self._lock, self._autocommit.connect() as connection:
            connection.execute(statement)

    def record_signed(self, tx_hash: str, sender: str, nonce: int, raw: bytes) -> None:
        """Write a signed transaction durably, before it is sent."""
        try:
            self._write(insert(tx_journal).values(
                chain_key=self.chain_key, tx_hash=tx_hash, sender=sender, nonce=nonce, raw=raw,
                created_at=time.time(), state="sent"))
        except IntegrityError:  # the same signed bytes again (a re-send): already journaled
            pass

    def forget(self, tx_hash: str) -> None:
        """Drop a transaction the node refused outright (it was never in any pool)."""
        self._write(delete(tx_journal).where(tx_journal.c.tx_hash == tx_hash))

    def record_mined(self, tx_hash: str, block_number: int, block_hash: str) -> None:
        self._write(update(tx_journal).where(tx_journal.c.tx_hash == tx_hash).values(
            block_number=block_number, block_hash=block_hash, state="mined"))

    def record_dropped(self, tx_hash: str) -> None:
        """The chain holds another transaction at this nonce: this one can never land."""
        self._write(update(tx_journal).where(tx_journal.c.tx_hash == tx_hash).values(state="dropped"))

    def mined_newest_first(self) -> list[JournalEntry]:
        return self._select(tx_journal.c.state == "mined",
                            tx_journal.c.block_number.desc(), tx_journal.c.nonce.desc())

    def unmined(self) -> list[JournalEntry]:
        """Unmined entries in the order they were journaled, so a replay keeps the original order
        across senders too: ids the contracts hand out (asset 5, asset 6) come out the same."""
        return self._select(tx_journal.c.state == "sent", tx_journal.c.id)

    def entry(self, tx_hash: str) -> JournalEntry | None:
        rows = self._select(tx_journal.c.tx_hash == tx_hash)
        return rows[0] if rows else None

    def _select(self, where: ColumnElement[bool], *order: Any) -> list[JournalEntry]:
        c = tx_journal.c
        query = select(c.tx_hash, c.sender, c.nonce, c.raw, c.block_number, c.block_hash, c.state).where(
            (c.chain_key == self.chain_key) & where).order_by(*order)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [JournalEntry(r[0], r[1], int(r[2]), bytes(r[3]), r[4], r[5], r[6]) for r in rows]

    def attach(self, tx_hash: str, paths: list[str]) -> None:
        """Remember files written from this transaction's receipt (certificates), to refresh
        them if the transaction has to be re-sent and lands in another block."""
        for path in paths:
            try:
                self._write(insert(tx_journal_outputs).values(tx_hash=tx_hash, path=path))
            except IntegrityError:
                pass

    def attachments(self, tx_hash: str) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(tx_journal_outputs.c.path).where(tx_journal_outputs.c.tx_hash == tx_hash)).all()
        return [row[0] for row in rows]

    def mark_unmined(self, tx_hash: str) -> None:
        """The block this transaction was mined in is gone from the chain."""
        self._write(update(tx_journal).where(tx_journal.c.tx_hash == tx_hash).values(
            block_number=None, block_hash=None, state="sent"))

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()


def _import_rows(engine: Engine, old: Engine) -> int:
    """Copy the entries of one old journal file into ``tx_journal`` (existing hashes are kept as they
    are: the database is newer), in the order they were journaled."""
    names = set(inspect(old).get_table_names())
    if "txs" in names:  # rounds 1-2: the journal's own schema
        entries, outputs, order = "txs", "outputs", "rowid"
    elif "tx_journal" in names:  # a folder's own file in today's schema (``ipledger deploy`` before 0004)
        entries, outputs, order = "tx_journal", "tx_journal_outputs", "id"
    else:
        return 0
    reflected = MetaData()
    source = Table(entries, reflected, autoload_with=old)
    count = 0
    with old.connect() as reading:
        rows = reading.execute(select(source).order_by(literal_column(order))).mappings().all()
        attached = (reading.execute(select(Table(outputs, reflected, autoload_with=old))).mappings().all()
                    if outputs in names else [])
    with autocommit(engine).connect() as connection:
        for row in rows:
            try:
                connection.execute(insert(tx_journal).values(
                    chain_key=str(row["chain_key"]), tx_hash=row["tx_hash"], sender=row["sender"],
                    nonce=int(row["nonce"]), raw=bytes(row["raw"]), created_at=float(row["created_at"]),
                    block_number=row["block_number"], block_hash=row["block_hash"], state=row["state"] or "sent"))
                count += 1
            except IntegrityError:
                pass
        for out in attached:
            try:
                connection.execute(insert(tx_journal_outputs).values(tx_hash=out["tx_hash"], path=out["path"]))
            except IntegrityError:
                pass
    return count


def import_journal_files(engine: Engine, folder: Path, backup: Path) -> int:
    """Bring the file journals of an old data folder (``journal-*.sqlite``) into the shared
    ``tx_journal``, idempotently, then move each file (with its ``-wal``/``-shm``) to ``backup``.
    The number of entries added."""
    if not folder.is_dir():
        return 0
    count = 0
    for path in sorted(folder.glob("journal-*.sqlite")):
        old = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
        try:
            count += _import_rows(engine, old)
        finally:
            old.dispose()  # the last connection folds the WAL back into the file
        backup.mkdir(parents=True, exist_ok=True)
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                os.replace(part, backup / part.name)
            except FileNotFoundError:  # moved by another replica on a shared folder, or no such part
                pass
    return count
