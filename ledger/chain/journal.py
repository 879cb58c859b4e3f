"""A durable journal of every signed transaction ipledger sends.

Why: a chain node may lose blocks it had already mined (Anvil persists its
state only every few seconds and on a clean exit; a SIGKILL loses the rest).
Before a signed transaction is sent it is written here with ``fsync``; once
mined, its block is recorded. After a restart, :meth:`ChainClient.reconcile`
re-sends the transactions the chain no longer holds: the same signed bytes with
the same nonce, so a re-send can never execute twice. Whatever ipledger
acknowledged (a certificate, an asset id) is thus restored on the chain.

SQLite in WAL mode with ``synchronous=FULL``: one small file, durable commits,
and safe to share between threads (one connection behind a lock) and processes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS txs (
    tx_hash      TEXT PRIMARY KEY,
    chain_key    TEXT NOT NULL,
    sender       TEXT NOT NULL,
    nonce        INTEGER NOT NULL,
    raw          BLOB NOT NULL,
    created_at   REAL NOT NULL,
    block_number INTEGER,
    block_hash   TEXT,
    state        TEXT NOT NULL DEFAULT 'sent'
);
CREATE INDEX IF NOT EXISTS txs_by_chain ON txs (chain_key, state, block_number);
CREATE TABLE IF NOT EXISTS outputs (
    tx_hash TEXT NOT NULL,
    path    TEXT NOT NULL,
    PRIMARY KEY (tx_hash, path)
);
"""


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

    def __init__(self, path: Path, chain_key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.chain_key = chain_key
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def record_signed(self, tx_hash: str, sender: str, nonce: int, raw: bytes) -> None:
        """Write a signed transaction durably, before it is sent."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO txs (tx_hash, chain_key, sender, nonce, raw, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (tx_hash, self.chain_key, sender, nonce, raw, time.time()),
            )

    def forget(self, tx_hash: str) -> None:
        """Drop a transaction the node refused outright (it was never in any pool)."""
        with self._lock:
            self._db.execute("DELETE FROM txs WHERE tx_hash = ?", (tx_hash,))

    def record_mined(self, tx_hash: str, block_number: int, block_hash: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE txs SET block_number = ?, block_hash = ?, state = 'mined' WHERE tx_hash = ?",
                (block_number, block_hash, tx_hash),
            )

    def record_dropped(self, tx_hash: str) -> None:
        """The chain holds another transaction at this nonce: this one can never land."""
        with self._lock:
            self._db.execute("UPDATE txs SET state = 'dropped' WHERE tx_hash = ?", (tx_hash,))

    def mined_newest_first(self) -> list[JournalEntry]:
        return self._select("state = 'mined' ORDER BY block_number DESC, nonce DESC")

    def unmined(self) -> list[JournalEntry]:
        """Unmined entries in the order they were sent (rowid), so a replay keeps the original order
        across senders too: ids the contracts hand out (asset 5, asset 6) come out the same."""
        return self._select("state = 'sent' ORDER BY rowid")

    def entry(self, tx_hash: str) -> JournalEntry | None:
        rows = self._select("tx_hash = ?", (tx_hash,))
        return rows[0] if rows else None

    def _select(self, where: str, params: tuple[object, ...] = ()) -> list[JournalEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT tx_hash, sender, nonce, raw, block_number, block_hash, state FROM txs"
                f" WHERE chain_key = ? AND {where}",
                (self.chain_key, *params),
            ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def attach(self, tx_hash: str, paths: list[str]) -> None:
        """Remember files written from this transaction's receipt (certificates), to refresh
        them if the transaction has to be re-sent and lands in another block."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO outputs (tx_hash, path) VALUES (?, ?)",
                [(tx_hash, path) for path in paths],
            )
            self._db.execute("COMMIT")

    def attachments(self, tx_hash: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT path FROM outputs WHERE tx_hash = ?", (tx_hash,))
            return [row[0] for row in rows.fetchall()]

    def mark_unmined(self, tx_hash: str) -> None:
        """The block this transaction was mined in is gone from the chain."""
        with self._lock:
            self._db.execute(
                "UPDATE txs SET block_number = NULL, block_hash = NULL, state = 'sent' WHERE tx_hash = ?",
                (tx_hash,),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
