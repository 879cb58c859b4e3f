"""What API replicas share, in the database (``IPLEDGER_DB_URL``): the tables and the relayer's nonces.

Several API processes behind one proxy act with one relayer key, on one chain. Whatever one of
them must know about the others lives in SQL, never in a process or a local file::

    tx_journal          every signed transaction before it is sent (:mod:`ledger.chain.journal`)
    tx_journal_outputs  files written from a transaction's receipt (certificates), to refresh
    relayer_nonces      one row per (chain, sending key): the next nonce, locked while it is used
    relayed_requests    signed requests already taken by a replica (idempotency, by signature)
    relay_slots         (sender, forwarder nonce) of requests being relayed: one at a time
    rate_buckets        the API's token buckets (per client address, per verified sender)
    served_deployments  the deployment the replicas serve on each chain (a replica with another refuses)

The tables share one SQLAlchemy ``MetaData`` with the audit index (``ledger.audit.store.Base``
uses it), so one Alembic history migrates both; ``0003_shared_state`` creates these.

Nonces: a row lock per relayer key (``UPDATE ... RETURNING`` on PostgreSQL, the transaction held
from allocation to the node's acceptance; SQLite, one process, has the process lock only), so no
two replicas ever sign with one nonce and no nonce is skipped. A pool of keys leased per replica
was the alternative: it needs a funded key per replica and lease expiry for the dead ones. The
lock alone allows 180-330 allocations a second on the loaded 2-core test machine, and each
allocation carries a whole batch of requests (benchmarks/api.md).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Float,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import Integer

METADATA = MetaData()
"""The ledger's SQL schema: these tables and the audit index's (``ledger.audit.store.Base``)."""

_ID = BigInteger().with_variant(Integer(), "sqlite")

tx_journal = Table(
    "tx_journal", METADATA,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("chain_key", String(32), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("sender", String(42), nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("block_number", BigInteger, nullable=True),
    Column("block_hash", String(66), nullable=True),
    Column("state", String(16), nullable=False),
    UniqueConstraint("tx_hash", name="uq_tx_journal_hash"),
    Index("ix_tx_journal_chain_state", "chain_key", "state", "block_number"),
)

tx_journal_outputs = Table(
    "tx_journal_outputs", METADATA,
    Column("tx_hash", String(66), primary_key=True),
    Column("path", String(1024), primary_key=True),
)

relayer_nonces = Table(
    "relayer_nonces", METADATA,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("address", String(42), primary_key=True),
    Column("next_nonce", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)

relayed_requests = Table(
    "relayed_requests", METADATA,
    Column("signature_hash", String(66), primary_key=True),
    Column("tx_hash", String(66), nullable=True),
    Column("claimed_at", Float, nullable=False),
    Column("owner", String(64), nullable=False),
)

relay_slots = Table(
    "relay_slots", METADATA,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("sender", String(42), primary_key=True),
    Column("nonce", String(78), primary_key=True),
    Column("claimed_at", Float, nullable=False),
    Column("owner", String(64), nullable=False),
)

rate_buckets = Table(
    "rate_buckets", METADATA,
    Column("key", String(128), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_rate_buckets_updated", "updated_at"),
)

served_deployments = Table(
    "served_deployments", METADATA,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("forwarder", String(42), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("pinned_at", Float, nullable=False),
)


def sqlite_engine(path: Path, tables: list[Table]) -> Engine:
    """A SQLite file holding some shared tables alone, durable on every commit: one process's state
    when no database is configured (scripts, tests); the database itself is migrated by Alembic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    METADATA.create_all(engine, tables=tables)
    return engine


def autocommit(engine: Engine) -> Engine:
    """The engine whose statements each commit alone: one round trip per statement on the hot paths,
    where ``BEGIN``, the statement and ``COMMIT`` would be three (only for single-statement writes)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def insert_or_ignore(engine: Engine, table: Table, **values: object) -> bool:
    """Insert one row, committed alone; False if its key is already there (portable, no upsert)."""
    try:
        with autocommit(engine).connect() as connection:
            connection.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def insert_new(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """Insert many rows in ONE statement, committed alone, skipping those whose key is already
    there; return the primary keys of the rows inserted (PostgreSQL and SQLite: ``INSERT ... ON
    CONFLICT DO NOTHING RETURNING``). The relay claims a whole batch's requests this way."""
    if not rows:
        return set()
    keys = list(table.primary_key.columns)
    statement: Any
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement = postgresql.insert(table).values(rows).on_conflict_do_nothing().returning(*keys)
    elif engine.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        statement = sqlite.insert(table).values(rows).on_conflict_do_nothing().returning(*keys)
    else:  # pragma: no cover - the ledger runs on PostgreSQL or SQLite only
        return {tuple(row[c.name] for c in keys) for row in rows if insert_or_ignore(engine, table, **row)}
    with autocommit(engine).connect() as connection:
        return {tuple(row) for row in connection.execute(statement)}


@dataclass
class NonceSlot:
    """A nonce held for one transaction: call :meth:`used` once the node accepted it."""

    nonce: int
    accepted: bool = False
    resync: bool = False

    def used(self) -> None:
        self.accepted = True

    def stale(self) -> None:
        """The node refused the nonce as used: forget the stored counter (the node's count wins)."""
        self.resync = True


class SharedNonces:
    """Nonces of sending keys, shared by every process on the database (a row lock per key).

    ``UPDATE relayer_nonces SET next_nonce = next_nonce + 1 ... RETURNING`` takes the row's lock and
    the nonce in one round trip; the transaction stays open until the node accepted the
    transaction (commit) or refused it (rollback: the nonce is given back). A replica that dies
    in between has its transaction rolled back by the server. The node is asked only when the
    counter is new or proved wrong (the node refused the nonce as used: a replica that died after
    sending, another program with the key), never on the hot path. SQLite, one process, holds no
    transaction across the send (it would block the journal's own write): the process lock is
    the lock, and a refused nonce is given back by compare-and-set.
    """

    def __init__(self, engine: Engine, chain_id: int, fetch: Callable[[str], int]) -> None:
        self.engine = engine
        self.chain_id = chain_id
        self._fetch = fetch
        self.lock = threading.RLock()
        """Threads of this process queue here first: one database connection waits on the row, not forty."""
        self._rows: set[str] = set()

    def _key(self, sender: str) -> ColumnElement[bool]:
        return (relayer_nonces.c.chain_id == self.chain_id) & (relayer_nonces.c.address == sender)

    def _ensure_row(self, sender: str) -> None:
        if sender not in self._rows:
            insert_or_ignore(self.engine, relayer_nonces, chain_id=self.chain_id, address=sender,
                             next_nonce=self._fetch(sender), updated_at=time.time())
            self._rows.add(sender)

    @contextlib.contextmanager
    def hold(self, sender: str) -> Iterator[NonceSlot]:
        """The next nonce of ``sender``, locked (in this process and in the database) until the block ends."""
        with self.lock:
            self._ensure_row(sender)
            key = self._key(sender)
            counter = relayer_nonces.c.next_nonce
            bump = update(relayer_nonces).where(key).values(next_nonce=counter + 1, updated_at=time.time()).returning(
                counter)
            if self.engine.dialect.name == "sqlite":
                with autocommit(self.engine).connect() as connection:
                    slot = NonceSlot(int(connection.execute(bump).scalar_one()) - 1)
                try:
                    yield slot
                finally:
                    if not slot.accepted:
                        with autocommit(self.engine).connect() as connection:
                            connection.execute(update(relayer_nonces).where(
                                key & (relayer_nonces.c.next_nonce == slot.nonce + 1)).values(next_nonce=slot.nonce))
                    if slot.resync:
                        self._resync(sender)
                return
            with self.engine.connect() as connection:
                transaction = connection.begin()
                try:
                    slot = NonceSlot(int(connection.execute(bump).scalar_one()) - 1)
                    yield slot
                except BaseException:
                    transaction.rollback()
                    raise
                if slot.accepted:
                    transaction.commit()
                else:
                    transaction.rollback()
            if slot.resync:
                self._resync(sender)

    def _resync(self, sender: str) -> None:
        """Set the counter to the node's pending count."""
        with autocommit(self.engine).connect() as connection:
            connection.execute(update(relayer_nonces).where(self._key(sender)).values(
                next_nonce=self._fetch(sender), updated_at=time.time()))

    def reset(self, sender: str | None = None) -> None:
        """Forget stored counters (after a revert of the chain): the node's count is the next nonce."""
        with self.lock:
            if sender is not None:
                self._resync(sender)
                return
            with self.engine.connect() as connection:
                senders = connection.execute(select(relayer_nonces.c.address).where(
                    relayer_nonces.c.chain_id == self.chain_id)).scalars().all()
            for address in senders:
                self._resync(address)


def pin_deployment(engine: Engine, chain_id: int, forwarder: str, fingerprint: str) -> tuple[str, str] | None:
    """Record the deployment served on ``chain_id`` (the first replica pins it); return the pinned
    (forwarder, fingerprint) if another deployment is pinned there, else None."""
    insert_or_ignore(engine, served_deployments, chain_id=chain_id, forwarder=forwarder, fingerprint=fingerprint,
                     pinned_at=time.time())
    with engine.connect() as connection:
        row = connection.execute(select(served_deployments.c.forwarder, served_deployments.c.fingerprint).where(
            served_deployments.c.chain_id == chain_id)).one()
    return None if row.fingerprint == fingerprint else (str(row.forwarder), str(row.fingerprint))


__all__ = ["METADATA", "NonceSlot", "SharedNonces", "autocommit", "insert_new", "insert_or_ignore",
           "pin_deployment", "rate_buckets", "relay_slots", "relayed_requests", "relayer_nonces", "served_deployments",
           "sqlite_engine", "tx_journal", "tx_journal_outputs"]
