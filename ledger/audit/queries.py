"""The auditor's view of the index: history, totals, exports, and a re-check against the chain.

A service over :class:`ledger.audit.store.Store` (the indexer fills it)::

    audit = AuditService(store)                      # the one chain in the store, or chain_id=...
    page = audit.history(asset_id=7, limit=50)       # oldest first; page.next continues
    audit.history(account="0xabc...", since=..., until=...)
    audit.history(event="PledgeAccepted", from_block=100, to_block=200)
    audit.totals()                                   # generic counts + the registry totals
    write_csv(audit.iter_history(...), fh)           # every row carries block number, time, tx hash
    audit.verify(client, sources)                    # counts and hashes per block range vs the chain

History pages are keyset-paginated on (block number, log index), so a page costs the same
at any depth and rows never shift between pages while the indexer appends.

Registry totals are plain functions registered by name (:func:`register_total`) that read
events by name; they return empty results until contracts emitting those events are
deployed, and need no change to the indexer or the schema when they are.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TextIO

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ledger.audit.indexer import EventDecoder, Source
from ledger.audit.store import BlockRecord, Cursor, EventAccount, EventRecord, IndexedContract, Store
from ledger.chain.client import ChainClient
from ledger.encoding import decode_ascii32, parse_address
from ledger.errors import NotFoundError, ValidationError

MAX_PAGE = 10_000

_TOKEN = re.compile(r"^(\d+):(\d+)$")


# -- rows and exports ---------------------------------------------------------------------


def iso_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class HistoryRow:
    """One indexed event, with where and when it happened."""

    chain_id: int
    block_number: int
    block_time: int
    block_hash: str
    tx_hash: str
    log_index: int
    contract: str
    address: str
    event: str
    asset_id: str | None
    args: dict[str, Any]

    @property
    def block_time_iso(self) -> str:
        return iso_time(self.block_time)

    @property
    def key(self) -> str:
        """Where it is in the chain: ``block:log_index`` (the pagination token)."""
        return f"{self.block_number}:{self.log_index}"

    def as_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id, "block_number": self.block_number, "block_time": self.block_time,
            "block_time_iso": self.block_time_iso, "block_hash": self.block_hash, "tx_hash": self.tx_hash,
            "log_index": self.log_index, "contract": self.contract, "address": self.address,
            "event": self.event, "asset_id": self.asset_id, "args": self.args,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryRow:
        try:
            return cls(
                chain_id=int(data["chain_id"]), block_number=int(data["block_number"]),
                block_time=int(data["block_time"]), block_hash=str(data["block_hash"]),
                tx_hash=str(data["tx_hash"]), log_index=int(data["log_index"]), contract=str(data["contract"]),
                address=str(data["address"]), event=str(data["event"]),
                asset_id=None if data.get("asset_id") in (None, "") else str(data["asset_id"]),
                args=dict(data["args"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"not an exported history row: {exc!r} in {str(data)[:200]}") from None

    @classmethod
    def from_record(cls, record: EventRecord) -> HistoryRow:
        return cls(
            chain_id=record.chain_id, block_number=record.block_number, block_time=record.block_time,
            block_hash=record.block_hash, tx_hash=record.tx_hash, log_index=record.log_index,
            contract=record.contract, address=record.address, event=record.event, asset_id=record.asset_id,
            args=dict(record.args),
        )

    def fingerprint(self) -> str:
        """A canonical line of everything the chain determines about this event (for verify)."""
        return json.dumps(
            [self.block_number, self.block_hash, self.log_index, self.tx_hash, self.address.lower(),
             self.event, self.args],
            sort_keys=True, separators=(",", ":"),
        )


CSV_COLUMNS = [
    "chain_id", "block_number", "block_time", "block_time_iso", "block_hash", "tx_hash", "log_index",
    "contract", "address", "event", "asset_id", "args",
]
"""Export columns; ``args`` is the event's arguments as JSON."""


def csv_chunks(rows: Iterable[HistoryRow], *, batch: int = 500) -> Iterator[str]:
    """The CSV export (header first) as text chunks of up to ``batch`` rows, for streaming."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    pending = 0
    for row in rows:
        data = row.as_json()
        data["args"] = json.dumps(row.args, separators=(",", ":"))
        data["asset_id"] = row.asset_id or ""
        writer.writerow([data[c] for c in CSV_COLUMNS])
        pending += 1
        if pending >= batch:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            pending = 0
    if out.tell():
        yield out.getvalue()


def json_chunks(rows: Iterable[HistoryRow], *, batch: int = 500) -> Iterator[str]:
    """The JSON export (one array, a row per line) as text chunks of up to ``batch`` rows, for streaming."""
    parts: list[str] = ["["]
    count = 0
    for row in rows:
        parts.append(",\n" if count else "\n")
        parts.append(json.dumps(row.as_json(), separators=(",", ":")))
        count += 1
        if count % batch == 0:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n" if count else "]\n")
    yield "".join(parts)


def write_csv(rows: Iterable[HistoryRow], fh: TextIO) -> int:
    """Write rows as CSV (with a header); return how many."""
    counted = _Counted(rows)
    for chunk in csv_chunks(counted):
        fh.write(chunk)
    return counted.count


def read_csv(fh: TextIO) -> list[HistoryRow]:
    """Parse an export written by :func:`write_csv` back into rows."""
    reader = csv.DictReader(fh)
    missing = set(CSV_COLUMNS) - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(f"not a history export: the CSV lacks the columns {sorted(missing)}")
    rows: list[HistoryRow] = []
    for line in reader:
        try:
            args = json.loads(line["args"])
        except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
            raise ValidationError(f"line {reader.line_num}: args is not JSON: {exc}") from None
        rows.append(HistoryRow.from_json({**line, "args": args}))
    return rows


def write_json(rows: Iterable[HistoryRow], fh: TextIO) -> int:
    """Write rows as one JSON array, streamed; return how many."""
    counted = _Counted(rows)
    for chunk in json_chunks(counted):
        fh.write(chunk)
    return counted.count


class _Counted:
    """Passes rows through, counting them."""

    def __init__(self, rows: Iterable[HistoryRow]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[HistoryRow]:
        for row in self.rows:
            self.count += 1
            yield row


def read_json(fh: TextIO) -> list[HistoryRow]:
    """Parse an export written by :func:`write_json` back into rows."""
    try:
        data = json.load(fh)
    except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise ValidationError(f"not a JSON history export: {exc}") from None
    if not isinstance(data, list):
        raise ValidationError("not a JSON history export: expected an array of rows")
    return [HistoryRow.from_json(item) for item in data]


# -- queries --------------------------------------------------------------------------------


def parse_time(text: str | int | datetime | date) -> int:
    """Unix seconds from a Unix time, an ISO date (``2026-05-20``) or datetime (UTC when naive)."""
    if isinstance(text, datetime):
        moment = text
    elif isinstance(text, date):
        moment = datetime(text.year, text.month, text.day)
    elif isinstance(text, int) or text.strip().isdigit():
        return int(text)
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"not a time: {text!r} (use 2026-05-20, 2026-05-20T08:00:00Z or Unix seconds)") \
                from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def normalize_account(address: str) -> str:
    """An address to filter by, lower case; a mixed-case one must have a correct EIP-55 checksum."""
    return parse_address(address, "the account").lower()


def normalize_asset(asset_id: str | int) -> str:
    try:
        value = int(str(asset_id), 0)
    except ValueError:
        raise ValidationError(f"not an asset id: {asset_id!r} (a number)") from None
    if value < 0:
        raise ValidationError(f"not an asset id: {asset_id!r} (a number)")
    return str(value)


@dataclass(frozen=True)
class HistoryQuery:
    """Filters of a history query; all given filters must hold."""

    asset_id: str | int | None = None
    account: str | None = None
    event: str | None = None
    """An event name (``Stamped``), or ``Contract.Event`` to name the contract too."""
    contract: str | None = None
    from_block: int | None = None
    to_block: int | None = None
    since: int | None = None
    """Unix seconds, inclusive."""
    until: int | None = None
    """Unix seconds, inclusive."""


@dataclass(frozen=True)
class Page:
    rows: list[HistoryRow]
    next: str | None
    """Pass as ``after`` for the next page; None on the last page."""


def _keyset(after: str | None) -> tuple[int, int] | None:
    if after is None:
        return None
    match = _TOKEN.match(after)
    if not match:
        raise ValidationError(f"not a page token: {after!r} (block:log_index, from a previous page)")
    return int(match.group(1)), int(match.group(2))


# -- totals ---------------------------------------------------------------------------------

TotalFunction = Callable[["AuditService"], Any]
REGISTRY_TOTALS: dict[str, TotalFunction] = {}
"""Named totals computed from registry and market events; see :func:`register_total`."""


def register_total(name: str) -> Callable[[TotalFunction], TotalFunction]:
    """Add a named total to every :meth:`AuditService.totals` report (JSON-able result)."""

    def add(fn: TotalFunction) -> TotalFunction:
        REGISTRY_TOTALS[name] = fn
        return fn

    return add


@dataclass
class Totals:
    chain_id: int
    indexed_to: int | None
    events: int
    first_block: int | None
    last_block: int | None
    accounts: int
    assets: int
    by_event: list[dict[str, Any]]
    """``{"contract", "event", "count"}``, most frequent first."""
    registry: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id, "indexed_to": self.indexed_to, "events": self.events,
            "first_block": self.first_block, "last_block": self.last_block, "accounts": self.accounts,
            "assets": self.assets, "by_event": self.by_event, "registry": self.registry,
        }


# -- verification ---------------------------------------------------------------------------


@dataclass
class RangeCheck:
    """One block range compared: counts and hashes of the events on chain and in the DB."""

    from_block: int
    to_block: int
    chain_events: int
    db_events: int
    chain_hash: str
    db_hash: str
    missing: list[str] = field(default_factory=list)
    """Events on chain not in the DB (``block:log_index tx``)."""
    extra: list[str] = field(default_factory=list)
    """Events in the DB not on chain."""
    changed: list[str] = field(default_factory=list)
    """Events in both whose stored content differs."""

    @property
    def ok(self) -> bool:
        return self.chain_hash == self.db_hash and self.chain_events == self.db_events

    def as_json(self) -> dict[str, Any]:
        return {
            "from_block": self.from_block, "to_block": self.to_block, "chain_events": self.chain_events,
            "db_events": self.db_events, "chain_hash": self.chain_hash, "db_hash": self.db_hash, "ok": self.ok,
            "missing": self.missing, "extra": self.extra, "changed": self.changed,
        }


@dataclass
class VerifyReport:
    chain_id: int
    from_block: int
    to_block: int
    ranges: list[RangeCheck]
    blocks_checked: int
    block_mismatches: list[int]
    """Stored block headers whose hash is not the chain's (an unprocessed reorg, or tampering)."""
    indexed_to: int = 0
    """The indexer's cursor: the last block it indexed."""
    head: int = 0
    """The chain's latest block when verified."""
    unindexed_events: int = 0
    """Events the chain holds in the followed contracts that no compared range covers: after the
    cursor, or of a deployed contract the index does not follow. Any is a difference."""
    unfollowed: list[str] = field(default_factory=list)
    """Contracts of the deployment the index does not follow (``Name@address``)."""

    @property
    def behind_blocks(self) -> int:
        return max(0, self.head - self.indexed_to)

    @property
    def ok(self) -> bool:
        return not self.block_mismatches and all(r.ok for r in self.ranges) and self.unindexed_events == 0

    @property
    def differences(self) -> list[RangeCheck]:
        return [r for r in self.ranges if not r.ok]

    def as_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id, "from_block": self.from_block, "to_block": self.to_block, "ok": self.ok,
            "events_on_chain": sum(r.chain_events for r in self.ranges),
            "events_in_db": sum(r.db_events for r in self.ranges),
            "ranges": len(self.ranges), "blocks_checked": self.blocks_checked,
            "block_mismatches": self.block_mismatches,
            "differences": [r.as_json() for r in self.differences],
            "indexed_to": self.indexed_to, "head": self.head, "behind_blocks": self.behind_blocks,
            "unindexed_events": self.unindexed_events, "unfollowed": self.unfollowed,
        }


def _digest(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


# -- the service ----------------------------------------------------------------------------


class AuditService:
    """Queries over the index of one chain."""

    def __init__(self, store: Store, chain_id: int | None = None) -> None:
        self.store = store
        if chain_id is None:
            with store.session() as session:
                chains = sorted(session.scalars(select(Cursor.chain_id)).all())
            if not chains:
                raise NotFoundError("the index is empty: run `ipledger index` first")
            if len(chains) > 1:
                raise ValidationError(f"the index holds several chains {chains}: name one with --chain-id")
            chain_id = chains[0]
        self.chain_id = chain_id
        self._memo: dict[tuple[str, ...], list[HistoryRow]] | None = None
        """Events read by name during one :meth:`totals` (its registry totals read many of the same)."""

    # -- history ------------------------------------------------------------------------

    def _filters(self, query: HistoryQuery) -> list[ColumnElement[bool]]:
        e = EventRecord
        conditions: list[ColumnElement[bool]] = [e.chain_id == self.chain_id]
        if query.asset_id is not None:
            conditions.append(e.asset_id == normalize_asset(query.asset_id))
        if query.event:
            contract, _, name = query.event.rpartition(".")
            conditions.append(e.event == name)
            if contract:
                conditions.append(e.contract == contract)
        if query.contract:
            conditions.append(e.contract == query.contract)
        if query.from_block is not None:
            conditions.append(e.block_number >= query.from_block)
        if query.to_block is not None:
            conditions.append(e.block_number <= query.to_block)
        if query.since is not None:
            conditions.append(e.block_time >= query.since)
        if query.until is not None:
            conditions.append(e.block_time <= query.until)
        return conditions

    def history(
        self, query: HistoryQuery | None = None, *, limit: int = 100, after: str | None = None, **filters: Any
    ) -> Page:
        """One page of events matching the filters, oldest first.

        Filters are :class:`HistoryQuery` fields, given as ``query`` or keywords
        (``history(asset_id=7)``). ``after`` is the previous page's ``next``.
        """
        query = query or HistoryQuery(**filters)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"a page holds 1 to {MAX_PAGE} rows, not {limit}")
        position = _keyset(after)
        conditions = self._filters(query)
        with self.store.session() as session:
            if query.account is not None:
                a = EventAccount
                keyed: list[ColumnElement[bool]] = [
                    a.chain_id == self.chain_id, a.account == normalize_account(query.account),
                ]
                if position is not None:
                    keyed.append(or_(a.block_number > position[0],
                                     and_(a.block_number == position[0], a.log_index > position[1])))
                if query.from_block is not None:
                    keyed.append(a.block_number >= query.from_block)
                if query.to_block is not None:
                    keyed.append(a.block_number <= query.to_block)
                # One row per event, however many of its arguments name the account; grouped in the
                # account index's order so the page is read straight off the index.
                page_keys = (
                    select(a.block_number, a.log_index, func.min(a.block_hash).label("block_hash"))
                    .join(EventRecord, and_(EventRecord.block_hash == a.block_hash,
                                            EventRecord.log_index == a.log_index))
                    .where(*keyed, *conditions)
                    .group_by(a.block_number, a.log_index)
                    .order_by(a.block_number, a.log_index)
                    .limit(limit + 1)
                    .subquery()
                )
                records = session.scalars(
                    select(EventRecord)
                    .join(page_keys, and_(EventRecord.block_hash == page_keys.c.block_hash,
                                          EventRecord.log_index == page_keys.c.log_index))
                    .order_by(EventRecord.block_number, EventRecord.log_index)
                ).all()
            else:
                e = EventRecord
                if position is not None:
                    conditions.append(or_(e.block_number > position[0],
                                          and_(e.block_number == position[0], e.log_index > position[1])))
                records = session.scalars(
                    select(e).where(*conditions).order_by(e.block_number, e.log_index).limit(limit + 1)
                ).all()
            rows = [HistoryRow.from_record(r) for r in records]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, rows[-1].key if more and rows else None)

    def iter_history(self, query: HistoryQuery | None = None, *, page_size: int = 2_000, **filters: Any
                     ) -> Iterator[HistoryRow]:
        """Every matching row, oldest first, fetched a page at a time (for exports).

        The first page is read before this returns, so bad filters or an unreachable database
        raise here rather than in the middle of a streamed export.
        """
        query = query or HistoryQuery(**filters)
        first = self.history(query, limit=page_size)
        return self._rest(query, first, page_size)

    def _rest(self, query: HistoryQuery, page: Page, page_size: int) -> Iterator[HistoryRow]:
        while True:
            yield from page.rows
            if page.next is None:
                return
            page = self.history(query, limit=page_size, after=page.next)

    def count(self, query: HistoryQuery | None = None, **filters: Any) -> int:
        """How many events match the filters (every page together)."""
        query = query or HistoryQuery(**filters)
        conditions = self._filters(query)
        with self.store.session() as session:
            if query.account is None:
                return int(session.scalar(select(func.count()).select_from(EventRecord).where(*conditions)) or 0)
            a = EventAccount
            keys = (
                select(a.block_number, a.log_index)
                .join(EventRecord, and_(EventRecord.block_hash == a.block_hash, EventRecord.log_index == a.log_index))
                .where(a.chain_id == self.chain_id, a.account == normalize_account(query.account), *conditions)
                .group_by(a.block_number, a.log_index)
                .subquery()
            )
            return int(session.scalar(select(func.count()).select_from(keys)) or 0)

    def indexed_event_names(self) -> set[tuple[str, str]]:
        """``(contract, event)`` of every kind of event the index holds for this chain."""
        e = EventRecord
        with self.store.session() as session:
            return {(str(c), str(n)) for c, n in
                    session.execute(select(e.contract, e.event).where(e.chain_id == self.chain_id).distinct())}

    def check_event_name(self, event: str, declared: Iterable[tuple[str, str]] = ()) -> None:
        """Refuse (ValidationError, naming the known events) an event filter (``Name`` or ``Contract.Name``)
        that no contract declares (``declared``: ``(contract, event)`` of the ABIs) and the index does not hold:
        a mistyped name is bad input, not a filter that matches nothing."""
        contract, _, name = event.rpartition(".")
        known = set(declared)
        if any(n == name and contract in ("", c) for c, n in known):
            return
        known |= self.indexed_event_names()
        if any(n == name and contract in ("", c) for c, n in known):
            return
        if contract and any(c == contract for c, _ in known):
            names = ", ".join(sorted({n for c, n in known if c == contract}))
            raise ValidationError(f"unknown event {event!r}: {contract}'s events are {names}")
        names = ", ".join(sorted({n for _, n in known}))
        raise ValidationError(f"unknown event {event!r}: use one of {names}" if names else
                              f"unknown event {event!r}: the index holds no events yet")

    def events_named(self, *names: str) -> Iterator[HistoryRow]:
        """Every event with one of these names, oldest first across the names (what registry totals read)."""
        if self._memo is not None and names in self._memo:
            return iter(self._memo[names])
        e = EventRecord
        with self.store.session() as session:
            records = session.scalars(
                select(e).where(e.chain_id == self.chain_id, e.event.in_(names)).order_by(e.block_number, e.log_index)
            ).all()
        rows = [HistoryRow.from_record(r) for r in records]
        if self._memo is not None:
            self._memo[names] = rows
        return iter(rows)

    def latest(self, event: str, *, limit: int = 10) -> list[HistoryRow]:
        """The newest ``limit`` events named ``event`` (``Name`` or ``Contract.Name``), newest first
        (the public pages' "recently registered"); read backwards off the event-name index."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"a page holds 1 to {MAX_PAGE} rows, not {limit}")
        e = EventRecord
        conditions = self._filters(HistoryQuery(event=event))
        with self.store.session() as session:
            records = session.scalars(
                select(e).where(*conditions).order_by(e.block_number.desc(), e.log_index.desc()).limit(limit)
            ).all()
            return [HistoryRow.from_record(r) for r in records]

    # -- licenses and pledges ---------------------------------------------------------------

    def licenses(
        self, *, bank: str | None = None, status: str | None = None, asset_id: str | int | None = None,
        offset: int = 0, limit: int = 100,
    ) -> tuple[list[LicenseEntry], int]:
        """Licenses as their events left them, oldest offer first: a page, and how many match.

        ``bank``: licenses of assets pledged to that bank now (an active pledge); ``status``:
        offered, active, terminated or expired (active past its end at the last indexed block).
        """
        if status is not None and status not in LICENSE_STATUSES:
            raise ValidationError(f"not a license status: {status!r} (one of {', '.join(LICENSE_STATUSES)})")
        wanted_bank = normalize_account(bank) if bank is not None else None
        wanted_asset = int(normalize_asset(asset_id)) if asset_id is not None else None
        _check_page(offset, limit)
        matching = [
            entry for entry in license_entries(self)
            if (status is None or entry.status == status)
            and (wanted_bank is None or (entry.pledgee or "").lower() == wanted_bank)
            and (wanted_asset is None or entry.asset_id == wanted_asset)
        ]
        return matching[offset:offset + limit], len(matching)

    def pledges(
        self, *, bank: str | None = None, status: str | None = None, asset_id: str | int | None = None,
        offset: int = 0, limit: int = 100,
    ) -> tuple[list[PledgeEntry], int]:
        """Pledges as their events left them, oldest proposal first: a page, and how many match.

        ``bank``: the pledgee; ``status``: proposed, active, released, enforced or cancelled.
        """
        if status is not None and status not in PLEDGE_STATUSES:
            raise ValidationError(f"not a pledge status: {status!r} (one of {', '.join(PLEDGE_STATUSES)})")
        wanted_bank = normalize_account(bank) if bank is not None else None
        wanted_asset = int(normalize_asset(asset_id)) if asset_id is not None else None
        _check_page(offset, limit)
        matching = [
            entry for entry in pledge_entries(self)
            if (status is None or entry.status == status)
            and (wanted_bank is None or entry.pledgee.lower() == wanted_bank)
            and (wanted_asset is None or entry.asset_id == wanted_asset)
        ]
        return matching[offset:offset + limit], len(matching)

    # -- totals -------------------------------------------------------------------------

    def totals(self) -> Totals:
        """Counts over the whole index, and every registered registry total."""
        e = EventRecord
        with self.store.session() as session:
            cursor = session.get(Cursor, self.chain_id)
            by_event = session.execute(
                select(e.contract, e.event, func.count())
                .where(e.chain_id == self.chain_id)
                .group_by(e.contract, e.event)
            ).all()
            first, last = session.execute(
                select(func.min(e.block_number), func.max(e.block_number)).where(e.chain_id == self.chain_id)
            ).one()
            accounts = session.scalar(
                select(func.count(distinct(EventAccount.account))).where(EventAccount.chain_id == self.chain_id)
            )
            assets = session.scalar(
                select(func.count(distinct(e.asset_id))).where(e.chain_id == self.chain_id, e.asset_id.is_not(None))
            )
        ordered = sorted(((-int(k), c, n) for c, n, k in by_event))
        counts: list[dict[str, Any]] = [{"contract": c, "event": n, "count": -k} for k, c, n in ordered]
        return Totals(
            chain_id=self.chain_id,
            indexed_to=cursor.block_number if cursor else None,
            events=sum(r["count"] for r in counts),
            first_block=first,
            last_block=last,
            accounts=int(accounts or 0),
            assets=int(assets or 0),
            by_event=counts,
            registry=self._registry_totals(),
        )

    def _registry_totals(self) -> dict[str, Any]:
        view = copy.copy(self)  # with its own memo: the service may serve other threads meanwhile
        view._memo = {}
        return {name: fn(view) for name, fn in REGISTRY_TOTALS.items()}

    def latest_block_time(self) -> int:
        with self.store.session() as session:
            cursor = session.get(Cursor, self.chain_id)
            if cursor is None:
                return 0
            found = session.scalar(
                select(BlockRecord.time).where(BlockRecord.chain_id == self.chain_id,
                                               BlockRecord.number == cursor.block_number)
            )
            return int(found or 0)

    # -- verification ---------------------------------------------------------------------

    def verify(
        self,
        client: ChainClient,
        sources: Sequence[Source],
        *,
        from_block: int | None = None,
        to_block: int | None = None,
        range_size: int = 2_000,
        max_blocks: int | None = None,
    ) -> VerifyReport:
        """Re-read the chain's logs of every indexed contract and compare them with the DB.

        Per block range: the count and a SHA-256 over the canonical rows on both sides; where
        they differ, which events are missing, extra or changed. Also checks every stored block
        header against the chain. Rows are compared up to the indexer's cursor; past it (unless
        ``to_block`` stops before), and for deployed contracts the index does not follow, the
        chain's events are counted: an index that lacks events the chain has is not ok, so an
        empty index of a busy chain never passes. How far the cursor is behind the head is reported.

        ``max_blocks`` bounds the work: at most that many blocks from ``from_block``, or without
        ``from_block`` the last that many blocks up to ``to_block`` (or the cursor).
        """
        if max_blocks is not None and max_blocks < 1:
            raise ValidationError(f"max_blocks must be 1 or more, not {max_blocks}")
        if client.chain_id != self.chain_id:
            raise ValidationError(f"the chain at {client.rpc_url} is chain {client.chain_id}, "
                                  f"the index holds chain {self.chain_id}")
        with self.store.session() as session:
            cursor = session.get(Cursor, self.chain_id)
            followed = session.execute(
                select(IndexedContract.address, IndexedContract.name, IndexedContract.start_block)
                .where(IndexedContract.chain_id == self.chain_id)
            ).all()
        if cursor is None or not followed:
            raise NotFoundError("the index is empty: run `ipledger index` first")
        by_address = {s.address.lower(): s for s in sources}
        decoder = EventDecoder(
            [by_address.get(address) or Source(name, address, [], start) for address, name, start in followed]
        )
        addresses = sorted(address for address, _, _ in followed)
        start = from_block if from_block is not None else min(s for _, _, s in followed)
        end = min(to_block if to_block is not None else cursor.block_number, cursor.block_number)
        if max_blocks is not None:
            if from_block is None:
                start = max(start, end - max_blocks + 1)
            else:
                end = min(end, start + max_blocks - 1)
        head = client.head().number  # the DB may hold blocks the chain no longer has (it got shorter)
        ranges: list[RangeCheck] = []
        for first in range(start, end + 1, range_size):
            last = min(end, first + range_size - 1)
            ranges.append(self._check_range(client, decoder, addresses, first, last, head))
        mismatches, checked = self._check_blocks(client, start, end)
        indexed_to = cursor.block_number
        followed_set = set(addresses)
        unfollowed = [s for s in sources if s.address.lower() not in followed_set]
        unindexed = 0
        if to_block is None or to_block > indexed_to:
            upper = head if to_block is None else min(to_block, head)
            if max_blocks is not None:
                upper = min(upper, indexed_to + max_blocks)
            unindexed += self._count_logs(client, addresses, indexed_to + 1, upper, range_size)
            unindexed += self._count_logs(client, sorted(s.address for s in unfollowed),
                                          min((s.start_block for s in unfollowed), default=0), upper, range_size)
        elif unfollowed:
            unindexed += self._count_logs(client, sorted(s.address for s in unfollowed),
                                          min(s.start_block for s in unfollowed), min(to_block, head), range_size)
        return VerifyReport(
            self.chain_id, start, end, ranges, checked, mismatches, indexed_to=indexed_to, head=head,
            unindexed_events=unindexed, unfollowed=[f"{s.name}@{s.address}" for s in unfollowed],
        )

    @staticmethod
    def _count_logs(client: ChainClient, addresses: list[str], first: int, last: int, range_size: int) -> int:
        """How many logs ``addresses`` emitted in ``first..last`` on chain."""
        if not addresses or first > last:
            return 0
        return sum(len(client.get_logs_raw(addresses, low, min(last, low + range_size - 1)))
                   for low in range(first, last + 1, range_size))

    def _check_range(
        self, client: ChainClient, decoder: EventDecoder, addresses: list[str], first: int, last: int, head: int
    ) -> RangeCheck:
        """Compare one range; blocks past the chain's ``head`` have no logs on chain (their DB rows are extra)."""
        logs = client.get_logs_raw(addresses, first, min(last, head)) if first <= head else []
        times = client.block_headers(sorted({int(log["blockNumber"], 16) for log in logs}))
        chain_rows: dict[tuple[str, int], HistoryRow] = {}
        for log in logs:
            decoded = decoder.decode(log)
            number = int(log["blockNumber"], 16)
            header = times.get(number)
            row = HistoryRow(
                chain_id=self.chain_id, block_number=number, block_time=header.timestamp if header else 0,
                block_hash=str(log["blockHash"]).lower(), tx_hash=str(log["transactionHash"]).lower(),
                log_index=int(log["logIndex"], 16), contract=decoded.contract, address=decoded.address,
                event=decoded.event, asset_id=decoded.asset_id, args=decoded.args,
            )
            chain_rows[(row.block_hash, row.log_index)] = row
        db_rows = {
            (r.block_hash, r.log_index): r
            for r in self.iter_history(HistoryQuery(from_block=first, to_block=last), page_size=MAX_PAGE)
        }
        chain_lines = sorted((r.block_number, r.log_index, r.fingerprint()) for r in chain_rows.values())
        db_lines = sorted((r.block_number, r.log_index, r.fingerprint()) for r in db_rows.values())
        check = RangeCheck(
            first, last, len(chain_rows), len(db_rows),
            _digest(line for _, _, line in chain_lines), _digest(line for _, _, line in db_lines),
        )
        if not check.ok:
            for key in sorted(chain_rows.keys() - db_rows.keys(), key=lambda k: chain_rows[k].key):
                check.missing.append(f"{chain_rows[key].key} {chain_rows[key].tx_hash}")
            for key in sorted(db_rows.keys() - chain_rows.keys(), key=lambda k: db_rows[k].key):
                check.extra.append(f"{db_rows[key].key} {db_rows[key].tx_hash}")
            for key in sorted(db_rows.keys() & chain_rows.keys(), key=lambda k: db_rows[k].key):
                if db_rows[key].fingerprint() != chain_rows[key].fingerprint():
                    check.changed.append(f"{db_rows[key].key} {db_rows[key].tx_hash}")
        return check

    def _check_blocks(self, client: ChainClient, first: int, last: int) -> tuple[list[int], int]:
        with self.store.session() as session:
            stored = session.execute(
                select(BlockRecord.number, BlockRecord.hash).where(
                    BlockRecord.chain_id == self.chain_id, BlockRecord.number >= first, BlockRecord.number <= last)
            ).all()
        chain = client.block_headers([n for n, _ in stored])
        mismatches = [n for n, h in stored if n not in chain or chain[n].hash != h]
        return sorted(mismatches), len(stored)


# -- registry totals ------------------------------------------------------------------------
# Written against the events DESIGN.md implies and contracts/interfaces/ declare; each reads
# events by name, so it starts counting as soon as a contract emitting them is deployed.

ASSET_KINDS = (
    "invention-patent", "utility-model", "design", "software-copyright", "trade-secret", "research-result",
    "trademark",
)
"""Labels of ``AssetKind`` in declaration order (``IIPRegistry``)."""

LICENSE_KINDS = ("exclusive", "sole", "non-exclusive")
"""Labels of ``LicenseKind`` in declaration order (``ILicenseRegistry``)."""


def _label(labels: Sequence[str], value: Any) -> str:
    return labels[value] if isinstance(value, int) and 0 <= value < len(labels) else str(value)


def _currency(value: Any) -> str:
    """A ``bytes3`` ISO 4217 code (``0x434e59``) as text (``CNY``); anything else as given."""
    if isinstance(value, str) and value.startswith("0x"):
        try:
            text = bytes.fromhex(value[2:]).rstrip(b"\0").decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return value
        if text.isprintable() and text:
            return text
    return str(value)


@register_total("registrations_by_kind")
def registrations_by_kind(audit: AuditService) -> dict[str, int]:
    """``AssetRegistered(assetId, owner, ref, kind, ...)``: how many assets of each kind."""
    counts: dict[str, int] = defaultdict(int)
    for row in audit.events_named("AssetRegistered"):
        counts[_label(ASSET_KINDS, row.args.get("kind"))] += 1
    return dict(sorted(counts.items()))


DISPUTE_KINDS = ("ownership", "invalidation-request", "infringement-suit", "other")
"""Labels of ``DisputeKind`` in declaration order (``IIPRegistry``)."""

DISPUTE_OUTCOMES = ("open", "upheld", "dismissed", "settled", "withdrawn")
"""Labels of ``DisputeOutcome`` in declaration order (``IIPRegistry``)."""


@register_total("disputes")
def disputes(audit: AuditService) -> dict[str, Any]:
    """``DisputeOpened`` / ``DisputeResolved``: how many disputes were opened, how many are open now by kind
    (ownership ones stop their assets from moving), and how the resolved ones ended."""
    kinds: dict[tuple[str, Any], str] = {}
    outcomes: dict[str, int] = defaultdict(int)
    for row in audit.events_named("DisputeOpened", "DisputeResolved"):
        key = (row.address.lower(), row.args.get("disputeId"))
        if row.event == "DisputeOpened":
            kinds[key] = _label(DISPUTE_KINDS, row.args.get("kind"))
        elif key in kinds:
            outcomes[_label(DISPUTE_OUTCOMES, row.args.get("outcome"))] += 1
            kinds[key] = ""
    open_by_kind: dict[str, int] = defaultdict(int)
    for kind in kinds.values():
        if kind:
            open_by_kind[kind] += 1
    return {"opened": len(kinds), "open_by_kind": dict(sorted(open_by_kind.items())),
            "resolved_by_outcome": dict(sorted(outcomes.items()))}


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _text(value: Any) -> str:
    return "" if value is None else str(value)


LICENSE_STATUSES = ("offered", "active", "terminated", "expired")
PLEDGE_STATUSES = ("proposed", "active", "released", "enforced", "cancelled")


def _check_page(offset: int, limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"a page holds 1 to {MAX_PAGE} items, not {limit}")
    if offset < 0:
        raise ValidationError(f"the offset must be 0 or more, not {offset}")


@dataclass
class LicenseEntry:
    """A license rebuilt from ``LicenseOffered`` / ``Accepted`` / ``Terminated`` / ``Recorded`` events."""

    license_id: int
    asset_id: int
    licensor: str
    licensee: str
    kind: str
    status: str
    start: int
    end: int
    fee: int
    recordal_no: str | None
    pledgee: str | None
    """The bank the asset is pledged to now (an active pledge), if any."""
    registry: str
    offered_block: int
    offered_time: int
    offered_tx: str
    last_event: str
    last_block: int
    last_tx: str

    def as_json(self) -> dict[str, Any]:
        return {
            "license_id": self.license_id, "asset_id": self.asset_id, "licensor": self.licensor,
            "licensee": self.licensee, "kind": self.kind, "status": self.status, "start": self.start,
            "end": self.end, "fee": self.fee, "recordal_no": self.recordal_no, "pledgee": self.pledgee,
            "registry": self.registry, "offered_block": self.offered_block, "offered_time": self.offered_time,
            "offered_on": iso_time(self.offered_time), "offered_tx": self.offered_tx, "last_event": self.last_event,
            "last_block": self.last_block, "last_tx": self.last_tx,
        }


@dataclass
class PledgeEntry:
    """A pledge rebuilt from ``PledgeProposed`` / ``Accepted`` / ``Cancelled`` / ``Released`` / ``Enforced``."""

    pledge_id: int
    asset_id: int
    pledgor: str
    pledgee: str
    status: str
    principal: int
    currency: str
    maturity: int
    contract_hash: str
    registry: str
    proposed_block: int
    proposed_time: int
    proposed_tx: str
    last_event: str
    last_block: int
    last_tx: str

    def as_json(self) -> dict[str, Any]:
        return {
            "pledge_id": self.pledge_id, "asset_id": self.asset_id, "pledgor": self.pledgor,
            "pledgee": self.pledgee, "status": self.status, "principal": self.principal,
            "currency": self.currency, "maturity": self.maturity, "registry": self.registry,
            "matures_on": iso_time(self.maturity) if self.maturity else None, "contract_hash": self.contract_hash,
            "proposed_block": self.proposed_block, "proposed_time": self.proposed_time,
            "proposed_on": iso_time(self.proposed_time), "proposed_tx": self.proposed_tx,
            "last_event": self.last_event, "last_block": self.last_block, "last_tx": self.last_tx,
        }


_PLEDGE_MOVES = {"PledgeAccepted": "active", "PledgeCancelled": "cancelled", "PledgeReleased": "released",
                 "PledgeEnforced": "enforced"}


def pledge_entries(audit: AuditService) -> list[PledgeEntry]:
    """Every pledge of the index, oldest proposal first, in the state its events left it."""
    pledges: dict[tuple[str, Any], PledgeEntry] = {}
    for row in audit.events_named("PledgeProposed", *_PLEDGE_MOVES):
        key = (row.address.lower(), row.args.get("pledgeId"))
        if row.event == "PledgeProposed":
            args = row.args
            pledges[key] = PledgeEntry(
                pledge_id=_int(args.get("pledgeId")), asset_id=_int(args.get("assetId")),
                pledgor=_text(args.get("pledgor")), pledgee=_text(args.get("pledgee")), status="proposed",
                principal=_int(args.get("principal")), currency=_currency(args.get("currency")),
                maturity=_int(args.get("maturity")), contract_hash=_text(args.get("contractHash")),
                registry=row.address, proposed_block=row.block_number, proposed_time=row.block_time,
                proposed_tx=row.tx_hash, last_event=row.event, last_block=row.block_number, last_tx=row.tx_hash,
            )
            continue
        pledge = pledges.get(key)
        if pledge is None:  # its proposal is not in the index (a contract indexed from a later block)
            continue
        pledge.status = _PLEDGE_MOVES[row.event]
        pledge.last_event, pledge.last_block, pledge.last_tx = row.event, row.block_number, row.tx_hash
    return list(pledges.values())


def license_entries(audit: AuditService) -> list[LicenseEntry]:
    """Every license of the index, oldest offer first, in the state its events left it."""
    now = audit.latest_block_time()
    banks = {p.asset_id: p.pledgee for p in pledge_entries(audit) if p.status == "active"}
    licenses: dict[tuple[str, Any], LicenseEntry] = {}
    names = ("LicenseOffered", "LicenseAccepted", "LicenseTerminated", "LicenseRecorded")
    for row in audit.events_named(*names):
        key = (row.address.lower(), row.args.get("licenseId"))
        if row.event == "LicenseOffered":
            args = row.args
            raw_terms = args.get("terms")
            terms: dict[str, Any] = raw_terms if isinstance(raw_terms, dict) else {}
            asset_id = _int(args.get("assetId"))
            licenses[key] = LicenseEntry(
                license_id=_int(args.get("licenseId")), asset_id=asset_id, licensor=_text(args.get("licensor")),
                licensee=_text(args.get("licensee", terms.get("licensee"))),
                kind=_label(LICENSE_KINDS, terms.get("kind")), status="offered", start=_int(terms.get("start")),
                end=_int(terms.get("end")), fee=_int(terms.get("fee")), recordal_no=None,
                pledgee=banks.get(asset_id), registry=row.address, offered_block=row.block_number,
                offered_time=row.block_time, offered_tx=row.tx_hash, last_event=row.event,
                last_block=row.block_number, last_tx=row.tx_hash,
            )
            continue
        license_ = licenses.get(key)
        if license_ is None:  # its offer is not in the index
            continue
        if row.event == "LicenseRecorded":
            license_.recordal_no = _recordal(row.args.get("recordalNo"))
        else:
            license_.status = "active" if row.event == "LicenseAccepted" else "terminated"
        license_.last_event, license_.last_block, license_.last_tx = row.event, row.block_number, row.tx_hash
    for license_ in licenses.values():
        if license_.status == "active" and 0 < license_.end <= now:
            license_.status = "expired"
    return list(licenses.values())


def _recordal(value: Any) -> str | None:
    """A ``bytes32`` filing number as text (None when zero)."""
    if not isinstance(value, str):
        return None
    try:
        return decode_ascii32(value) or None
    except ValueError:
        return value


@register_total("active_licenses")
def active_licenses(audit: AuditService) -> dict[str, Any]:
    """Licenses accepted, not terminated, not past their term's end at the last indexed block's time:
    total and by kind."""
    by_kind: dict[str, int] = defaultdict(int)
    for entry in license_entries(audit):
        if entry.status == "active":
            by_kind[entry.kind] += 1
    return {"total": sum(by_kind.values()), "by_kind": dict(sorted(by_kind.items()))}


@register_total("licenses_by_status")
def licenses_by_status(audit: AuditService) -> dict[str, int]:
    """How many licenses are offered (not yet accepted), active, terminated or expired (past ``terms.end``)."""
    counts: dict[str, int] = defaultdict(int)
    for entry in license_entries(audit):
        counts[entry.status] += 1
    return dict(sorted(counts.items()))


@register_total("pledged_principal")
def pledged_principal(audit: AuditService) -> dict[str, dict[str, int]]:
    """Principal of active pledges (accepted, not released or enforced) by pledgee and currency,
    from ``PledgeProposed(pledgeId, assetId, pledgee, pledgor, principal, currency, ...)``."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pledge in pledge_entries(audit):
        if pledge.status == "active":
            totals[pledge.pledgee][pledge.currency] += pledge.principal
    return {bank: dict(sorted(c.items())) for bank, c in sorted(totals.items())}


@register_total("pledges_by_bank")
def pledges_by_bank(audit: AuditService) -> dict[str, dict[str, int]]:
    """How many pledges each pledgee has in each status (proposed, active, released, enforced, cancelled)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pledge in pledge_entries(audit):
        counts[pledge.pledgee][pledge.status] += 1
    return {bank: dict(sorted(c.items())) for bank, c in sorted(counts.items())}


# -- market totals --------------------------------------------------------------------------

SALE_EVENTS = ("AssetSold", "OfferAccepted", "LicenseSold")
"""Market events that move money to a seller (``IMarketplace``, ``ILicenseMarket``):
``AssetSold(listingId, assetId, buyer, seller, token, price, fee)``,
``OfferAccepted(offerId, assetId, buyer, seller, amount, fee)`` (its token is the ``OfferMade``'s)
and ``LicenseSold(listingId, licenseId, buyer, assetId, seller, token, price, fee)``."""

UNKNOWN_TOKEN = "(unknown)"
"""The token of an accepted offer whose ``OfferMade`` is not in the index."""


@dataclass(frozen=True)
class Sale:
    """One sale: ``kind`` is ``asset`` (a listing bought or an offer accepted) or ``license``."""

    kind: str
    token: str
    price: int
    """Paid by the buyer, fee included."""
    fee: int
    """To the treasury."""
    block_number: int
    tx_hash: str


def sales(audit: AuditService) -> list[Sale]:
    """Every sale of the index, oldest first."""
    tokens: dict[tuple[str, Any], str] = {}
    found: list[Sale] = []
    for row in audit.events_named("OfferMade", *SALE_EVENTS):
        args = row.args
        if row.event == "OfferMade":
            tokens[(row.address.lower(), args.get("offerId"))] = _text(args.get("token"))
        elif row.event == "OfferAccepted":
            token = tokens.get((row.address.lower(), args.get("offerId")), UNKNOWN_TOKEN)
            found.append(Sale("asset", token, _int(args.get("amount")), _int(args.get("fee")),
                              row.block_number, row.tx_hash))
        else:
            found.append(Sale("asset" if row.event == "AssetSold" else "license", _text(args.get("token")),
                              _int(args.get("price")), _int(args.get("fee")), row.block_number, row.tx_hash))
    return found


@register_total("sales_volume")
def sales_volume(audit: AuditService) -> dict[str, int]:
    """Money paid in sales of assets and licenses (fees included), by settlement token address."""
    volume: dict[str, int] = defaultdict(int)
    for sale in sales(audit):
        volume[sale.token] += sale.price
    return dict(sorted(volume.items()))


@register_total("sales")
def sales_by_kind(audit: AuditService) -> dict[str, dict[str, Any]]:
    """Asset sales (listings bought, offers accepted) and license sales: how many, volume and fees by token."""
    report: dict[str, dict[str, Any]] = {}
    every = sales(audit)
    for kind, label in (("asset", "assets"), ("license", "licenses")):
        volume: dict[str, int] = defaultdict(int)
        fees: dict[str, int] = defaultdict(int)
        count = 0
        for sale in every:
            if sale.kind == kind:
                volume[sale.token] += sale.price
                fees[sale.token] += sale.fee
                count += 1
        report[label] = {"count": count, "volume": dict(sorted(volume.items())), "fees": dict(sorted(fees.items()))}
    return report
