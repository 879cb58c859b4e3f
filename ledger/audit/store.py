"""The ledger's SQL store: the indexer's typed SQLAlchemy 2 models, the engine, and Alembic migrations.

The same database holds what API replicas share (journal, nonces, idempotency, rate limits):
those tables are in :mod:`ledger.chain.state`, on this module's metadata.

The same code runs on SQLite (the default, a file in the data folder) and PostgreSQL
(by ``IPLEDGER_DB_URL``, e.g. ``postgresql+psycopg://user@host/db``). The schema is
generic: one row per contract event, whatever the contract, decoded from its ABI::

    events           one row per log: where (chain, block, time, tx, log index), who
                     (contract name, address), what (event name, args as JSON) and the
                     columns auditors filter by (asset_id); unique on (block_hash, log_index)
    event_accounts   every address-typed argument of an event (role = the argument's
                     name), so "history of an account" is an indexed query
    blocks           headers of indexed blocks (number, hash, parent hash, time), to find
                     the common ancestor after a reorg and to check the DB against the chain
    indexed_contracts  the contracts followed, each with the last block whose logs are in
    indexer_cursor   the last block indexed (number and hash), one row per chain, written in
                     the same transaction as the rows it covers

Migrations live in ``ledger/audit/migrations`` and run programmatically on open
(:meth:`Store.migrate`); ``tests/ledger/audit/test_indexer_store.py`` checks that they
produce exactly these models on both databases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from ledger.chain.state import METADATA
from ledger.errors import ConfigurationError
from ledger.files import exclusive_lock
from ledger.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

MIGRATION_LOCK = 0x1B1ED6E5
"""PostgreSQL advisory lock key held while migrating (any constant both sides agree on)."""

HASH = 66
"""A 0x-prefixed 32-byte hash."""
ADDRESS = 42
"""A 0x-prefixed 20-byte address."""
NAME = 128
"""Contract, event and argument names."""
UINT256_DIGITS = 78
"""Decimal digits of the largest uint256: asset ids are kept as exact decimal text."""

Id = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit key that SQLite also auto-increments (only INTEGER is its rowid alias)."""
Args = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of the indexer's tables; its metadata also holds the tables API replicas share
    (:mod:`ledger.chain.state`), so one Alembic history migrates the whole database."""

    metadata = METADATA


class EventRecord(Base):
    """One contract log, decoded from its contract's ABI."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("block_hash", "log_index", name="uq_events_block_log"),
        Index("ix_events_chain_block", "chain_id", "block_number", "log_index"),
        Index("ix_events_chain_asset", "chain_id", "asset_id", "block_number", "log_index"),
        Index("ix_events_chain_event", "chain_id", "event", "block_number", "log_index"),
        Index("ix_events_chain_time", "chain_id", "block_time"),
        Index("ix_events_tx", "tx_hash"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(HASH))
    block_time: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(HASH))
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    contract: Mapped[str] = mapped_column(String(NAME))
    address: Mapped[str] = mapped_column(String(ADDRESS))
    event: Mapped[str] = mapped_column(String(NAME))
    args: Mapped[dict[str, Any]] = mapped_column(Args)
    asset_id: Mapped[str | None] = mapped_column(String(UINT256_DIGITS))


class EventAccount(Base):
    """An address that appears in an event's arguments (``role`` is the argument's name).

    Keyed by the event's own unique key (block hash, log index), so rows of both tables are
    written in one multi-row insert each, without reading generated ids back.
    """

    __tablename__ = "event_accounts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["block_hash", "log_index"], ["events.block_hash", "events.log_index"],
            ondelete="CASCADE", name="fk_event_accounts_event",
        ),
        Index("ix_event_accounts_account", "chain_id", "account", "block_number", "log_index"),
        Index("ix_event_accounts_block", "chain_id", "block_number"),
    )

    block_hash: Mapped[str] = mapped_column(String(HASH), primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    """Lower-case hex, so look-ups need no checksum."""
    role: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)


class BlockRecord(Base):
    """A header of a block the indexer holds events of, or stopped at."""

    __tablename__ = "blocks"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(HASH))
    parent_hash: Mapped[str] = mapped_column(String(HASH))
    time: Mapped[int] = mapped_column(BigInteger)


class IndexedContract(Base):
    """A contract the indexer follows; ``synced_to`` is the last block whose logs are stored."""

    __tablename__ = "indexed_contracts"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    start_block: Mapped[int] = mapped_column(BigInteger)
    synced_to: Mapped[int] = mapped_column(BigInteger)


class Cursor(Base):
    """The last block indexed on a chain and its hash."""

    __tablename__ = "indexer_cursor"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(HASH))


def default_db_url(settings: Settings) -> str:
    """``IPLEDGER_DB_URL``, or a SQLite file in the data folder."""
    if settings.db_url:
        return settings.db_url
    return f"sqlite:///{settings.data_dir / 'index.sqlite3'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, durable: bool = False) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (the audit) never block the writer (the indexer). synchronous=NORMAL may lose the
    # last commits on a power cut (never on a killed process); the indexer then re-indexes them. The
    # shared state (the journal above all) is opened ``durable``: FULL, every commit on disk.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _durable_sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record, durable=True)


class Store:
    """An engine and a session factory over one database; :meth:`migrate` brings the schema up to date."""

    def __init__(self, url: str, *, migrate: bool = True, echo: bool = False, durable: bool = False,
                 pool_size: int = 5, pre_ping: bool = True) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigurationError(f"IPLEDGER_DB_URL is not a database URL: {url!r}") from None
        self.url = url
        self.dialect = parsed.get_backend_name()
        self._sqlite_file: Path | None = None
        if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            self._sqlite_file = Path(parsed.database).expanduser()
            self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            # pre_ping costs a round trip per checkout: the replicas' hot path goes without it and recycles
            # connections instead (a connection the server dropped fails one statement, then is replaced).
            options: dict[str, Any] = {} if self.dialect == "sqlite" else {
                "pool_size": pool_size, "max_overflow": 10, "pool_pre_ping": pre_ping, "pool_recycle": 600}
            self.engine: Engine = create_engine(parsed, echo=echo, **options)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigurationError(f"no database driver for {parsed.drivername}: {exc}") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _durable_sqlite_pragmas if durable else _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    @property
    def display_url(self) -> str:
        """The URL with any password masked, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self._migration_lock(), self.engine.begin() as connection:
                if self.dialect == "postgresql":  # replicas starting together: one migrates, the others wait
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise ConfigurationError(
                f"cannot open the index database {self.display_url}: {str(exc.orig).strip()}"
            ) from None

    def _migration_lock(self) -> AbstractContextManager[None]:
        """On a SQLite file, a lock file beside it: processes opening a new data folder together (a command
        run while `ipledger up` starts) would both find no schema and both create it, one failing with
        "table already exists" (SQLite has no advisory lock; PostgreSQL's is taken in :meth:`migrate`)."""
        if self._sqlite_file is None or not os.access(self._sqlite_file.parent, os.W_OK):
            return nullcontext()  # a read-only folder: nobody migrates there, and no lock file can be made
        return exclusive_lock(self._sqlite_file.with_name(f".{self._sqlite_file.name}.migrate.lock"))

    def revision(self) -> str | None:
        """The schema revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def tables(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception.

        A database that stops answering raises ConfigurationError naming it (not a driver trace).
        """
        try:
            with self.sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise ConfigurationError(
                f"the index database {self.display_url} failed: {str(exc.orig).strip()}"
            ) from None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
