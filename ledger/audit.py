"""The auditor's view of the index: history, totals, exports, and a re-check against the chain.

A service over :class:`ledger.store.Store` (the indexer fills it)::

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

import csv
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TextIO

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from .chain import ChainClient
from .errors import NotFoundError, ValidationError
from .indexer import EventDecoder, Source
from .store import BlockRecord, Cursor, EventAccount, EventRecord, IndexedContract, Store

MAX_PAGE = 10_000

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
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


def write_csv(rows: Iterable[HistoryRow], fh: TextIO) -> int:
    """Write rows as CSV (with a header); return how many."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        data = row.as_json()
        data["args"] = json.dumps(row.args, separators=(",", ":"))
        data["asset_id"] = row.asset_id or ""
        writer.writerow([data[c] for c in CSV_COLUMNS])
        count += 1
    return count


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
        except json.JSONDecodeError as exc:
            raise ValidationError(f"line {reader.line_num}: args is not JSON: {exc}") from None
        rows.append(HistoryRow.from_json({**line, "args": args}))
    return rows


def write_json(rows: Iterable[HistoryRow], fh: TextIO) -> int:
    """Write rows as one JSON array, streamed; return how many."""
    fh.write("[")
    count = 0
    for row in rows:
        fh.write(",\n" if count else "\n")
        fh.write(json.dumps(row.as_json(), separators=(",", ":")))
        count += 1
    fh.write("\n]\n" if count else "]\n")
    return count


def read_json(fh: TextIO) -> list[HistoryRow]:
    """Parse an export written by :func:`write_json` back into rows."""
    try:
        data = json.load(fh)
    except json.JSONDecodeError as exc:
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
    if not _ADDRESS.match(address.strip()):
        raise ValidationError(f"not an account address: {address!r} (0x and 40 hex digits)")
    return address.strip().lower()


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

    @property
    def ok(self) -> bool:
        return not self.block_mismatches and all(r.ok for r in self.ranges)

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
        """Every matching row, oldest first, fetched a page at a time (for exports)."""
        query = query or HistoryQuery(**filters)
        after: str | None = None
        while True:
            page = self.history(query, limit=page_size, after=after)
            yield from page.rows
            if page.next is None:
                return
            after = page.next

    def events_named(self, *names: str) -> Iterator[HistoryRow]:
        """Every event with one of these names, oldest first (what registry totals read)."""
        for name in names:
            yield from self.iter_history(HistoryQuery(event=name))

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
            registry={name: fn(self) for name, fn in REGISTRY_TOTALS.items()},
        )

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
    ) -> VerifyReport:
        """Re-read the chain's logs of every indexed contract and compare them with the DB.

        Per block range: the count and a SHA-256 over the canonical rows on both sides; where
        they differ, which events are missing, extra or changed. Also checks every stored block
        header against the chain. Only blocks up to the indexer's cursor are compared.
        """
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
        ranges: list[RangeCheck] = []
        for first in range(start, end + 1, range_size):
            last = min(end, first + range_size - 1)
            ranges.append(self._check_range(client, decoder, addresses, first, last))
        mismatches, checked = self._check_blocks(client, start, end)
        return VerifyReport(self.chain_id, start, end, ranges, checked, mismatches)

    def _check_range(
        self, client: ChainClient, decoder: EventDecoder, addresses: list[str], first: int, last: int
    ) -> RangeCheck:
        logs = client.get_logs_raw(addresses, first, last)
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


@register_total("active_licenses")
def active_licenses(audit: AuditService) -> dict[str, Any]:
    """Licenses accepted (``LicenseAccepted``), not terminated (``LicenseTerminated``), not past
    ``terms.end`` (from ``LicenseOffered``) at the last indexed block's time: total and by kind."""
    offered = {row.args.get("licenseId"): row.args.get("terms") or {} for row in audit.events_named("LicenseOffered")}
    ended = {row.args.get("licenseId") for row in audit.events_named("LicenseTerminated")}
    now = audit.latest_block_time()
    by_kind: dict[str, int] = defaultdict(int)
    for row in audit.events_named("LicenseAccepted"):
        license_id = row.args.get("licenseId")
        terms = offered.get(license_id, {})
        end = terms.get("end") if isinstance(terms, dict) else None
        if license_id in ended or (isinstance(end, int) and end <= now):
            continue
        by_kind[_label(LICENSE_KINDS, terms.get("kind") if isinstance(terms, dict) else None)] += 1
    return {"total": sum(by_kind.values()), "by_kind": dict(sorted(by_kind.items()))}


@register_total("licenses_by_status")
def licenses_by_status(audit: AuditService) -> dict[str, int]:
    """How many licenses are offered (not yet accepted), active, terminated or expired (past ``terms.end``)."""
    now = audit.latest_block_time()
    status: dict[Any, str] = {}
    ends: dict[Any, Any] = {}
    for row in audit.events_named("LicenseOffered"):
        status[row.args.get("licenseId")] = "offered"
        terms = row.args.get("terms")
        ends[row.args.get("licenseId")] = terms.get("end") if isinstance(terms, dict) else None
    for row in audit.events_named("LicenseAccepted"):
        status[row.args.get("licenseId")] = "active"
    for row in audit.events_named("LicenseTerminated"):
        status[row.args.get("licenseId")] = "terminated"
    counts: dict[str, int] = defaultdict(int)
    for license_id, state in status.items():
        end = ends.get(license_id)
        if state == "active" and isinstance(end, int) and end <= now:
            state = "expired"
        counts[state] += 1
    return dict(sorted(counts.items()))


def _pledges(audit: AuditService) -> dict[Any, dict[str, Any]]:
    pledges: dict[Any, dict[str, Any]] = {}
    for row in audit.events_named("PledgeProposed"):
        pledges[row.args.get("pledgeId")] = {**row.args, "status": "proposed"}
    for name, status in (("PledgeAccepted", "active"), ("PledgeCancelled", "cancelled"),
                         ("PledgeReleased", "released"), ("PledgeEnforced", "enforced")):
        for row in audit.events_named(name):
            pledge = pledges.setdefault(row.args.get("pledgeId"), {})
            pledge.setdefault("pledgee", row.args.get("pledgee"))
            pledge["status"] = status if pledge.get("status") in (None, "proposed", "active") else pledge["status"]
    return pledges


@register_total("pledged_principal")
def pledged_principal(audit: AuditService) -> dict[str, dict[str, int]]:
    """Principal of active pledges (accepted, not released or enforced) by pledgee and currency,
    from ``PledgeProposed(pledgeId, assetId, pledgee, pledgor, principal, currency, ...)``."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pledge in _pledges(audit).values():
        if pledge.get("status") == "active" and isinstance(pledge.get("principal"), int):
            totals[str(pledge.get("pledgee"))][_currency(pledge.get("currency"))] += int(pledge["principal"])
    return {bank: dict(sorted(c.items())) for bank, c in sorted(totals.items())}


@register_total("pledges_by_bank")
def pledges_by_bank(audit: AuditService) -> dict[str, dict[str, int]]:
    """How many pledges each pledgee has in each status (proposed, active, released, enforced, cancelled)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pledge in _pledges(audit).values():
        counts[str(pledge.get("pledgee"))][str(pledge.get("status"))] += 1
    return {bank: dict(sorted(c.items())) for bank, c in sorted(counts.items())}


SALE_EVENTS = ("AssetSold", "ListingBought", "OfferAccepted", "LicenseSold", "LicensePurchased")
"""Market events that move money; provisional names until the market contract lands."""


@register_total("sales_volume")
def sales_volume(audit: AuditService) -> dict[str, int]:
    """Money paid in sales, by settlement token: the ``price`` (or ``amount``) of each sale event."""
    volume: dict[str, int] = defaultdict(int)
    for row in audit.events_named(*SALE_EVENTS):
        amount = row.args.get("price", row.args.get("amount"))
        token = row.args.get("token", row.args.get("currency"))
        if isinstance(amount, int):
            volume[str(token)] += amount
    return dict(sorted(volume.items()))
