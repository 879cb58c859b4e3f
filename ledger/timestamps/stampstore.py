"""The stamp service's durable state: pending leaves and their rounds, in the ledger's SQL database.

Same database as the indexer (``ledger.audit.store.default_db_url``: SQLite by default,
PostgreSQL by ``IPLEDGER_DB_URL``), same migrations (``0002_stamp_service``), portable SQL only::

    stamp_rounds   one row per round: state open -> closed (root computed) -> sent (the
                   transaction that anchors it, recorded before it is sent) -> anchored
                   (its block); the leaves' count and when it opened and closed
    stamp_leaves   one row per acknowledged leaf (unique per chain and TimestampRegistry): its round,
                   when it was received and the service's signature of the pending receipt

A leaf is acknowledged only after its row is committed, so whatever the service promised
survives a kill; a leaf belongs to exactly one round (its primary key), and a round's root
is anchored by one ``stampBatch`` (the contract records a root once).

Replicas: every API process on the database accepts leaves; leaves go into an open round only
in a transaction that first takes the round's row lock with ``UPDATE ... WHERE state = 'open'``
(:meth:`StampStore.add_leaves`), and a round is closed by the same kind of update, so a round
closed by another replica takes no leaf afterwards (the late writer opens a new round). One
replica at a time closes and anchors rounds: the holder of :class:`Leadership`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from ledger.audit.store import ADDRESS, HASH, Base, Id, Store

OPEN, CLOSED, SENT, ANCHORED = "open", "closed", "sent", "anchored"
"""A round's states, in order."""

SIGNATURE = 132
"""A 0x-prefixed 65-byte signature."""

_IN_CHUNK = 500
"""Leaves per ``IN (...)`` look-up (far below every database's bound on parameters)."""


class StampRoundRecord(Base):
    """A round of the stamp service: the leaves anchored together under one Merkle root."""

    __tablename__ = "stamp_rounds"
    __table_args__ = (Index("ix_stamp_rounds_state", "chain_id", "contract", "state", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    contract: Mapped[str] = mapped_column(String(ADDRESS))
    state: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    opened_ms: Mapped[int] = mapped_column(BigInteger)
    closed_ms: Mapped[int | None] = mapped_column(BigInteger)
    root: Mapped[str | None] = mapped_column(String(HASH))
    tx_hash: Mapped[str | None] = mapped_column(String(HASH))
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(HASH))
    block_time: Mapped[int | None] = mapped_column(BigInteger)
    stamper: Mapped[str | None] = mapped_column(String(ADDRESS))
    anchored_ms: Mapped[int | None] = mapped_column(BigInteger)


class StampLeafRecord(Base):
    """An acknowledged leaf: the round it is in, when it arrived, the signed pending receipt."""

    __tablename__ = "stamp_leaves"
    __table_args__ = (Index("ix_stamp_leaves_round", "round_id", "leaf"),)

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contract: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    leaf: Mapped[str] = mapped_column(String(HASH), primary_key=True)
    """Lower-case 0x hex."""
    round_id: Mapped[int] = mapped_column(Id, ForeignKey("stamp_rounds.id", name="fk_stamp_leaves_round"))
    received_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(SIGNATURE))


@dataclass(frozen=True)
class Round:
    id: int
    state: str
    size: int
    opened_ms: int
    closed_ms: int | None
    root: str | None
    tx_hash: str | None
    nonce: int | None
    block_number: int | None
    block_hash: str | None
    block_time: int | None
    stamper: str | None
    anchored_ms: int | None

    @classmethod
    def of(cls, row: StampRoundRecord) -> Round:
        return cls(row.id, row.state, row.size, row.opened_ms, row.closed_ms, row.root, row.tx_hash, row.nonce,
                   row.block_number, row.block_hash, row.block_time, row.stamper, row.anchored_ms)


@dataclass(frozen=True)
class LeafRow:
    leaf: str
    round_id: int
    received_ms: int
    signature: str


class StampStore:
    """Rounds and leaves of one service: one chain, one TimestampRegistry."""

    def __init__(self, store: Store, chain_id: int, registry: str) -> None:
        self.db = store
        self.chain_id = chain_id
        self.registry = registry

    # -- submitting ----------------------------------------------------------------------------------

    def find(self, leaves: Sequence[str]) -> dict[str, LeafRow]:
        """The leaves among ``leaves`` already acknowledged, by leaf."""
        found: dict[str, LeafRow] = {}
        with self.db.session() as session:
            for start in range(0, len(leaves), _IN_CHUNK):
                rows = session.execute(
                    select(StampLeafRecord.leaf, StampLeafRecord.round_id, StampLeafRecord.received_ms,
                           StampLeafRecord.signature)
                    .where(StampLeafRecord.chain_id == self.chain_id, StampLeafRecord.contract == self.registry,
                           StampLeafRecord.leaf.in_(leaves[start:start + _IN_CHUNK]))
                )
                found.update({r.leaf: LeafRow(r.leaf, r.round_id, r.received_ms, r.signature) for r in rows})
        return found

    def open_round(self, session: Session, now_ms: int) -> int:
        row = StampRoundRecord(chain_id=self.chain_id, contract=self.registry, state=OPEN, size=0, opened_ms=now_ms)
        session.add(row)
        session.flush()
        return row.id

    def add_leaves(self, session: Session, round_id: int, rows: Iterable[LeafRow]) -> int | None:
        """Insert acknowledged leaves into an open round (in the caller's transaction); returns the round's
        size after them, or None (nothing written) if the round is no longer open (another replica closed it).

        The size is bumped first, ``WHERE state = 'open'``: that takes the round's row lock until the caller
        commits, so a close (the same kind of update) waits for these leaves, or they see it closed."""
        values = [{"chain_id": self.chain_id, "contract": self.registry, "leaf": r.leaf, "round_id": round_id,
                   "received_ms": r.received_ms, "signature": r.signature} for r in rows]
        size = session.execute(update(StampRoundRecord)
                               .where(StampRoundRecord.id == round_id, StampRoundRecord.state == OPEN)
                               .values(size=StampRoundRecord.size + len(values))
                               .returning(StampRoundRecord.size)).scalar_one_or_none()
        if size is None:
            return None
        if values:
            session.execute(insert(StampLeafRecord), values)
        return int(size)

    @staticmethod
    def close_round(session: Session, round_id: int, now_ms: int) -> None:
        session.execute(update(StampRoundRecord).where(StampRoundRecord.id == round_id, StampRoundRecord.state == OPEN)
                        .values(state=CLOSED, closed_ms=now_ms))

    def open_rounds(self) -> list[Round]:
        """Every open round with leaves (of any replica), oldest first: the leader closes them when due."""
        with self.db.session() as session:
            rows = session.scalars(select(StampRoundRecord).where(*self._mine(), StampRoundRecord.state == OPEN,
                                                                  StampRoundRecord.size > 0)
                                   .order_by(StampRoundRecord.id))
            return [Round.of(r) for r in rows]

    def round_state(self, round_id: int) -> str | None:
        """A round's state alone (one primary-key read: the long poll's check on any replica)."""
        with self.db.session() as session:
            return session.scalar(select(StampRoundRecord.state).where(StampRoundRecord.id == round_id))

    def current_open(self) -> Round | None:
        """The newest open round (after a restart, the one to continue or close)."""
        with self.db.session() as session:
            row = session.scalars(select(StampRoundRecord).where(*self._mine(), StampRoundRecord.state == OPEN)
                                  .order_by(StampRoundRecord.id.desc()).limit(1)).first()
            return Round.of(row) if row is not None else None

    # -- rounds ----------------------------------------------------------------------------------------

    def _mine(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (StampRoundRecord.chain_id == self.chain_id, StampRoundRecord.contract == self.registry)

    def round(self, round_id: int) -> Round | None:
        with self.db.session() as session:
            row = session.get(StampRoundRecord, round_id)
            return Round.of(row) if row is not None else None

    def unfinished(self) -> list[Round]:
        """Rounds not yet anchored, oldest first."""
        with self.db.session() as session:
            rows = session.scalars(select(StampRoundRecord).where(*self._mine(), StampRoundRecord.state != ANCHORED)
                                   .order_by(StampRoundRecord.id))
            return [Round.of(r) for r in rows]

    def anchored_newest_first(self, limit: int) -> list[Round]:
        with self.db.session() as session:
            rows = session.scalars(select(StampRoundRecord).where(*self._mine(), StampRoundRecord.state == ANCHORED)
                                   .order_by(StampRoundRecord.id.desc()).limit(limit))
            return [Round.of(r) for r in rows]

    def round_leaves(self, round_id: int) -> list[str]:
        """A round's leaves, ordered by value (a fixed order, so the tree and its proofs are rebuilt the same)."""
        with self.db.session() as session:
            return list(session.scalars(select(StampLeafRecord.leaf).where(StampLeafRecord.round_id == round_id)
                                        .order_by(StampLeafRecord.leaf)))

    def close(self, round_id: int, now_ms: int) -> None:
        with self.db.session() as session:
            self.close_round(session, round_id, now_ms)

    def drop_empty(self, round_id: int) -> None:
        with self.db.session() as session:
            session.execute(delete(StampRoundRecord).where(StampRoundRecord.id == round_id,
                                                           StampRoundRecord.size == 0))

    def set_root(self, round_id: int, root: str, size: int) -> None:
        with self.db.session() as session:
            session.execute(update(StampRoundRecord).where(StampRoundRecord.id == round_id)
                            .values(root=root, size=size))

    def set_sent(self, round_id: int, tx_hash: str, nonce: int, root: str | None = None) -> None:
        """Record the transaction that anchors the round (and the root it anchors), before it is sent."""
        values: dict[str, object] = {"state": SENT, "tx_hash": tx_hash, "nonce": nonce}
        if root is not None:
            values["root"] = root
        with self.db.session() as session:
            session.execute(update(StampRoundRecord).where(StampRoundRecord.id == round_id).values(**values))

    def set_anchored(self, round_id: int, *, tx_hash: str, block_number: int, block_hash: str, block_time: int,
                     stamper: str, now_ms: int, root: str | None = None) -> None:
        extra = {} if root is None else {"root": root}
        with self.db.session() as session:
            session.execute(update(StampRoundRecord).where(StampRoundRecord.id == round_id).values(
                **extra, state=ANCHORED, tx_hash=tx_hash, block_number=block_number, block_hash=block_hash,
                block_time=block_time, stamper=stamper, anchored_ms=now_ms))

    def reopen_anchor(self, round_id: int) -> None:
        """The block a round was anchored in is gone: anchor it again (its root is kept)."""
        with self.db.session() as session:
            session.execute(update(StampRoundRecord).where(StampRoundRecord.id == round_id).values(
                state=CLOSED, tx_hash=None, nonce=None, block_number=None, block_hash=None, block_time=None,
                stamper=None, anchored_ms=None))

    def counts(self) -> dict[str, int]:
        """Leaves per round state (for the service's status and the benchmark)."""
        with self.db.session() as session:
            rows = session.execute(select(StampRoundRecord.state, func.coalesce(func.sum(StampRoundRecord.size), 0))
                                   .where(*self._mine()).group_by(StampRoundRecord.state))
            return {state: int(total) for state, total in rows}


class Leadership:
    """Which replica closes and anchors the rounds of one service: at most one at a time, chosen by the database.

    PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a dedicated connection;
    the server releases it when that connection ends (the process died, the network split), and another
    replica's next :meth:`acquire` takes it. SQLite serves one process: it always leads.
    """

    def __init__(self, store: StampStore) -> None:
        self.store = store
        digest = hashlib.sha256(f"ipledger stamp service {store.chain_id} {store.registry.lower()}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        """The advisory lock's key: one per chain and TimestampRegistry."""
        self._connection: Connection | None = None
        self._sqlite = store.db.engine.dialect.name == "sqlite"

    @property
    def held(self) -> bool:
        return self._sqlite or self._connection is not None

    def acquire(self) -> bool:
        """Whether this process leads now: checks the held lock's connection still answers, else tries to take
        the lock (one round trip either way; call it every round interval)."""
        if self._sqlite:
            return True
        try:
            if self._connection is not None:
                self._connection.execute(text("SELECT 1"))
                return True
            connection = self.store.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
            except BaseException:
                connection.close()
                raise
            if taken:
                self._connection = connection
            else:
                connection.close()
            return taken
        except SQLAlchemyError:
            self._drop()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except SQLAlchemyError:
                pass
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()  # never back into the pool: a pooled connection would keep the lock
                connection.close()
            except SQLAlchemyError:
                pass
