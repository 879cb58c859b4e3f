"""Follow every event of every contract of the deployment into SQL: resumable, idempotent, reorg-safe.

Nothing here knows a particular event: each contract's ABI says how to decode its logs
(:class:`EventDecoder`), and every log becomes one ``events`` row with its arguments as
JSON, the asset id (an argument named ``assetId`` or ``tokenId``) and every address
argument (in ``event_accounts``). A contract added to the deployment later is picked up
and back-filled from its deploy block.

How it stays right, whatever happens:

* **One transaction per chunk.** A chunk's rows, its block headers, the contracts'
  ``synced_to`` and the cursor (last block and its hash) are committed together. Killed
  at any moment, the indexer restarts from the cursor: no gap, no duplicate (and the
  events table is unique on ``(block_hash, log_index)`` in any case).
* **Finality.** With ``finalized_only`` (``IPLEDGER_INDEX_FINALIZED_ONLY``) it stops at the last final
  block (the chain's ``finalized`` tag, or enough confirmations): nothing it stores can be reorganised.
* **Reorgs.** It follows the chain to ``head - confirmations``. Each chunk must link to
  the cursor (the parent hash of its first block is the cursor's hash), the logs must
  carry the hashes of the headers fetched after them, and the chunk's last header must
  not change while its logs are read. On a mismatch it walks its stored headers down to
  the highest one the chain still has (the common ancestor), deletes everything above it
  in one transaction, and indexes again from there. Logs flagged ``removed`` are not
  relied on (Anvil never emits them). A reorg it cannot resolve (the node's blocks do not
  link, or the same rollback keeps coming back) stops it with ``ChainInconsistentError``
  instead of rolling back for ever.
* **Ranges.** ``eth_getLogs`` is asked for chunks of blocks (:class:`ChunkSizer`) that
  halve when the node refuses a range (public providers cap them) and grow again after
  successes, and shrink when a chunk brings too many logs.

:func:`run_indexer_in_thread` runs it beside the chain (``ipledger up``); ``ipledger index``
runs it alone.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ledger.audit.store import BlockRecord, Cursor, EventAccount, EventRecord, IndexedContract, Store
from ledger.chain.client import BlockHeader, ChainClient
from ledger.chain.deployment import Deployment, load_deployment
from ledger.chain.toolchain import Artifact
from ledger.errors import (
    ChainError,
    ChainInconsistentError,
    ChainUnavailableError,
    ConfigurationError,
    LedgerError,
)

logger = logging.getLogger(__name__)

UNKNOWN_EVENT = "(unknown)"
"""The event name of a log no ABI of its contract decodes; its args keep the raw topics and data."""

ASSET_ID_ARGS = ("assetId", "tokenId")
"""Arguments whose value is stored in the indexed ``asset_id`` column."""

ZERO_ADDRESS = "0x" + "00" * 20


# -- sources and decoding ---------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A contract to follow: its name, address, ABI, and the first block that can hold its logs."""

    name: str
    address: str
    abi: Sequence[Mapping[str, Any]]
    start_block: int


def sources_from_deployment(deployment: Deployment, artifacts: Mapping[str, Artifact]) -> list[Source]:
    """Every contract of the manifest, current and replaced ones, with the ABI compiled for its name."""
    sources: list[Source] = []
    for name, deployed in deployment.contracts.items():
        abi = artifacts[name].abi if name in artifacts else []
        sources.append(Source(name, to_checksum_address(deployed.address), abi, deployed.block_number))
        for old in deployment.previous.get(name, []):
            sources.append(Source(name, to_checksum_address(old.address), abi, old.block_number))
    return sources


def _type_string(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_type_string(c) for c in item["components"])
        return f"({inner}){kind[5:]}"
    return kind


def _is_hashed_when_indexed(item: Mapping[str, Any]) -> bool:
    """Indexed dynamic values (strings, bytes, arrays, structs) are stored as their keccak hash."""
    kind = str(item["type"])
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("tuple")


@lru_cache(maxsize=65536)
def _checksum(address: str) -> str:
    return str(to_checksum_address(address))


WordDecoder = Callable[[str], Any]


def _word_decoder(kind: str) -> WordDecoder | None:
    """A decoder of one 32-byte ABI word (64 hex digits) for a static value type; None for other types.

    Several times faster than eth_abi for the common case (ids, amounts, addresses, hashes, enums),
    with the same checks: a word that is not a canonical encoding raises ValueError.
    """
    if kind == "address":
        def address(word: str) -> str:
            if word[:24].strip("0"):
                raise ValueError(f"not an address word: {word}")
            return _checksum("0x" + word[24:])
        return address
    if kind == "bool":
        def boolean(word: str) -> bool:
            value = int(word, 16)
            if value > 1:
                raise ValueError(f"not a bool word: {word}")
            return value == 1
        return boolean
    match = re.fullmatch(r"(u?)int(\d*)", kind)
    if match:
        bits = int(match.group(2) or 256)
        signed = not match.group(1)

        def integer(word: str) -> int:
            value = int(word, 16)
            if signed and value >> 255:
                value -= 1 << 256
            low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
            if not low <= value < high:
                raise ValueError(f"not an {kind} word: {word}")
            return value
        return integer
    match = re.fullmatch(r"bytes(\d+)", kind)
    if match and 1 <= int(match.group(1)) <= 32:
        size = 2 * int(match.group(1))

        def fixed_bytes(word: str) -> str:
            if word[size:].strip("0"):
                raise ValueError(f"not a {kind} word: {word}")
            return "0x" + word[:size]
        return fixed_bytes
    return None


def _plain(value: Any, item: Mapping[str, Any]) -> Any:
    """A decoded ABI value as JSON: hex for bytes, checksummed addresses, structs as objects."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [_plain(v, inner) for v in value]
    if kind.startswith("tuple"):
        return {
            (c.get("name") or f"arg{i}"): _plain(v, c)
            for i, (c, v) in enumerate(zip(item["components"], value, strict=True))
        }
    if kind == "address":
        return _checksum(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _accounts(value: Any, item: Mapping[str, Any], role: str, out: list[tuple[str, str]]) -> None:
    kind = str(item["type"])
    if kind == "address":
        if value != ZERO_ADDRESS and isinstance(value, str):
            out.append((value.lower(), role))
    elif kind.endswith("]") and ("address" in kind or kind.startswith("tuple")) and isinstance(value, list):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        for v in value:
            _accounts(v, inner, role, out)
    elif kind.startswith("tuple") and isinstance(value, dict):
        for i, c in enumerate(item["components"]):
            name = c.get("name") or f"arg{i}"
            _accounts(value.get(name), c, f"{role}.{name}", out)


@dataclass(frozen=True)
class _EventType:
    name: str
    indexed: list[Mapping[str, Any]]
    data: list[Mapping[str, Any]]
    data_types: list[str]
    inputs: list[Mapping[str, Any]]
    topic_words: list[WordDecoder | None]
    """Per indexed input: its word decoder (None: hashed or decoded by eth_abi)."""
    data_words: list[WordDecoder] | None
    """Word decoders of every data input when all are static words; None: decode with eth_abi."""


@dataclass(frozen=True)
class DecodedLog:
    """A log as the store keeps it."""

    contract: str
    address: str
    event: str
    args: dict[str, Any]
    asset_id: str | None
    accounts: list[tuple[str, str]]
    """(lower-case address, argument name) of every address argument."""


class EventDecoder:
    """Decodes raw logs of the given contracts from their ABIs (every event, no per-event code)."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self._contracts: dict[str, tuple[str, dict[str, _EventType]]] = {}
        for source in sources:
            events: dict[str, _EventType] = {}
            for item in source.abi:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                inputs = list(item.get("inputs", []))
                signature = f"{item['name']}({','.join(_type_string(i) for i in inputs)})"
                topic = "0x" + keccak(text=signature).hex()
                data = [i for i in inputs if not i.get("indexed")]
                indexed = [i for i in inputs if i.get("indexed")]
                data_words = [_word_decoder(_type_string(i)) for i in data]
                events[topic] = _EventType(
                    name=str(item["name"]),
                    indexed=indexed,
                    data=data,
                    data_types=[_type_string(i) for i in data],
                    inputs=inputs,
                    topic_words=[None if _is_hashed_when_indexed(i) else _word_decoder(_type_string(i))
                                 for i in indexed],
                    data_words=None if any(d is None for d in data_words) else [d for d in data_words if d],
                )
            self._contracts[source.address.lower()] = (source.name, events)

    def contract_name(self, address: str) -> str:
        known = self._contracts.get(address.lower())
        return known[0] if known else ""

    def decode(self, log: Mapping[str, Any]) -> DecodedLog:
        address = str(log["address"]).lower()
        name, events = self._contracts.get(address, ("", {}))
        topics: list[str] = [str(t).lower() for t in log["topics"]]
        data_hex = str(log["data"])
        kind = events.get(topics[0]) if topics else None
        if kind is not None and len(topics) == len(kind.indexed) + 1:
            try:
                return self._decode(name, address, kind, topics, data_hex)
            except Exception as exc:  # noqa: BLE001 - eth_abi raises many kinds; keep the raw log instead
                logger.warning("cannot decode %s log of %s: %s", kind.name, name, exc)
        return DecodedLog(
            contract=name,
            address=_checksum(address),
            event=UNKNOWN_EVENT,
            args={"topics": topics, "data": data_hex},
            asset_id=None,
            accounts=[],
        )

    def _decode(self, name: str, address: str, kind: _EventType, topics: list[str], data_hex: str) -> DecodedLog:
        values: dict[str, Any] = {}
        for item, topic, word in zip(kind.indexed, topics[1:], kind.topic_words, strict=True):
            if word is not None:
                values[item["name"]] = word(topic[2:])
            elif _is_hashed_when_indexed(item):
                values[item["name"]] = topic
            else:
                (raw,) = abi_decode([_type_string(item)], bytes.fromhex(topic[2:]))
                values[item["name"]] = _plain(raw, item)
        if kind.data_words is not None:
            if len(data_hex) < 2 + 64 * len(kind.data_words):
                raise ValueError(f"{len(data_hex) // 2 - 1} bytes of data for {len(kind.data_words)} words")
            for i, (item, word) in enumerate(zip(kind.data, kind.data_words, strict=True)):
                values[item["name"]] = word(data_hex[2 + 64 * i: 66 + 64 * i])
        elif kind.data:
            decoded = abi_decode(kind.data_types, bytes.fromhex(data_hex[2:]))
            for item, raw in zip(kind.data, decoded, strict=True):
                values[item["name"]] = _plain(raw, item)
        args: dict[str, Any] = {}
        accounts: list[tuple[str, str]] = []
        asset_id: str | None = None
        for i, item in enumerate(kind.inputs):  # in declaration order
            arg = item.get("name") or f"arg{i}"
            value = values.get(item["name"])
            args[arg] = value
            _accounts(value, item, arg, accounts)
            if asset_id is None and arg in ASSET_ID_ARGS and isinstance(value, int):
                asset_id = str(value)
        return DecodedLog(name, _checksum(address), kind.name, args, asset_id, accounts)


# -- chunks ---------------------------------------------------------------------------------


class ChunkSizer:
    """How many blocks to ask ``eth_getLogs`` for: halves on refusal, doubles after successes."""

    def __init__(
        self,
        initial: int = 1_000,
        *,
        minimum: int = 1,
        maximum: int = 10_000,
        grow_after: int = 2,
        max_logs: int = 20_000,
    ) -> None:
        if not 1 <= minimum <= maximum:
            raise ConfigurationError(f"chunk sizes must satisfy 1 <= minimum <= maximum, got {minimum}, {maximum}")
        self.minimum = minimum
        self.maximum = maximum
        self.size = max(minimum, min(initial, maximum))
        self.grow_after = grow_after
        self.max_logs = max_logs
        self._successes = 0
        self.refusals = 0

    def refused(self, blocks: int, error: LedgerError) -> None:
        """The node refused a range of ``blocks``: try half of it, or give up at the minimum."""
        self.refusals += 1
        self._successes = 0
        if blocks <= self.minimum:
            raise ChainError(
                f"the node refuses eth_getLogs even for {blocks} block(s): {error}", blocks=blocks
            ) from None
        self.size = max(self.minimum, min(self.size, blocks) // 2)
        logger.info("eth_getLogs refused %s blocks; trying %s (%s)", blocks, self.size, error)

    def succeeded(self, blocks: int, logs: int) -> None:
        if logs > self.max_logs and blocks > self.minimum:
            self.size = max(self.minimum, blocks * self.max_logs // max(logs, 1))
            self._successes = 0
            return
        self._successes += 1
        if self._successes >= self.grow_after and blocks >= self.size and logs <= self.max_logs // 2:
            self.size = min(self.maximum, self.size * 2)
            self._successes = 0


# -- the indexer --------------------------------------------------------------------------


class _Retry(Exception):
    """The chain moved while a chunk was read: read it again."""


class _Reorg(Exception):
    """The stored blocks are no longer the chain's: roll back to the common ancestor.

    ``below``: a stored block known not to be the chain's; the ancestor is searched under it.
    """

    def __init__(self, below: int | None = None) -> None:
        super().__init__(below)
        self.below = below


@dataclass
class SyncReport:
    """What one :meth:`Indexer.sync` did."""

    start_block: int
    end_block: int = 0
    events: int = 0
    chunks: int = 0
    reorgs: list[tuple[int, int]] = field(default_factory=list)
    """(cursor before, common ancestor) of each rollback."""
    backfilled: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start_block": self.start_block, "end_block": self.end_block, "events": self.events,
            "chunks": self.chunks, "reorgs": [list(r) for r in self.reorgs], "backfilled": self.backfilled,
            "seconds": round(self.seconds, 3), "events_per_second": round(self.events_per_second, 1),
        }


@dataclass(frozen=True)
class ChunkReport:
    """One committed chunk (for progress displays)."""

    from_block: int
    to_block: int
    events: int
    head: int


class Indexer:
    """Indexes the logs of ``sources`` from ``client`` into ``store``; see the module notes."""

    def __init__(
        self,
        client: ChainClient,
        store: Store,
        sources: Sequence[Source],
        *,
        confirmations: int = 0,
        finalized_only: bool = False,
        chunks: ChunkSizer | None = None,
        on_chunk: Callable[[ChunkReport], None] | None = None,
    ) -> None:
        if confirmations < 0:
            raise ConfigurationError(f"confirmations must be 0 or more, got {confirmations}")
        self.client = client
        self.store = store
        self.chain_id = client.chain_id
        self.confirmations = confirmations
        self.finalized_only = finalized_only
        """Index only final blocks (``IPLEDGER_INDEX_FINALIZED_ONLY``): the chain's finalized tag, or the
        head less ``IPLEDGER_FINALITY_CONFIRMATIONS`` (see ``ledger.chain.finality``)."""
        self.chunks = chunks or ChunkSizer()
        self.on_chunk = on_chunk
        self.set_sources(sources)

    def set_sources(self, sources: Sequence[Source]) -> None:
        """Follow these contracts (new ones are back-filled from their start block on the next sync)."""
        if not sources:
            raise ConfigurationError("nothing to index: the deployment has no contracts")
        self.sources = list(sources)
        self.decoder = EventDecoder(self.sources)
        self._by_address = {s.address.lower(): s for s in self.sources}

    # -- state ------------------------------------------------------------------------

    def cursor(self) -> tuple[int, str] | None:
        """The last block indexed and its hash (None before the first sync)."""
        with self.store.session() as session:
            row = session.get(Cursor, self.chain_id)
            return (row.block_number, row.block_hash) if row else None

    def _prepare(self) -> None:
        """Create the cursor on first use and register contracts not followed yet."""
        with self.store.session() as session:
            cursor = session.get(Cursor, self.chain_id)
            if cursor is None:
                floor = max(0, min(s.start_block for s in self.sources) - 1)
                header = self.client.block_headers([floor]).get(floor)
                if header is None:
                    raise ChainError(f"the chain has no block {floor}: is the deployment manifest for this chain?")
                session.add(Cursor(chain_id=self.chain_id, block_number=floor, block_hash=header.hash))
                session.merge(_block_record(self.chain_id, header))
                cursor_number = floor
            else:
                cursor_number = cursor.block_number
            known = set(
                session.scalars(select(IndexedContract.address).where(IndexedContract.chain_id == self.chain_id))
            )
            for source in self.sources:
                if source.address.lower() not in known:
                    session.add(IndexedContract(
                        chain_id=self.chain_id, address=source.address.lower(), name=source.name,
                        start_block=source.start_block,
                        synced_to=min(max(source.start_block - 1, 0), cursor_number),
                    ))

    def _header(self, number: int) -> BlockHeader:
        header = self.client.block_headers([number]).get(number)
        if header is None:
            raise _Retry(f"block {number} is not on the chain")
        return header

    # -- syncing ------------------------------------------------------------------------

    def sync(self, stop: threading.Event | None = None, *, to_block: int | None = None) -> SyncReport:
        """Index up to the head less the confirmations, or to the last final block in finalized-only mode
        (at most ``to_block``); return what was done."""
        started = time.perf_counter()
        self._prepare()
        first = self.cursor()
        report = SyncReport(start_block=(first[0] + 1) if first else 0)
        target: int | None = None
        verified = False
        retries = 0
        while stop is None or not stop.is_set():
            try:
                cursor = self._cursor_row()
                if not verified:  # the cursor is still the chain's (once per sync, and after retries)
                    header = self.client.block_headers([cursor[0]]).get(cursor[0])
                    if header is None or header.hash != cursor[1]:
                        raise _Reorg()
                    verified = True
                lagging = self._lagging(cursor[0])
                if lagging:
                    self._backfill(lagging, cursor, report)
                    verified = False
                    continue
                if target is None or cursor[0] >= target:
                    target = self.client.head().number - self.confirmations
                    if self.finalized_only:
                        target = min(target, self.client.final_block())
                    if to_block is not None:
                        target = min(target, to_block)
                    if cursor[0] >= target:
                        if cursor[0] > target:  # the chain got shorter: is the cursor still on it?
                            verified = False
                            header = self.client.block_headers([cursor[0]]).get(cursor[0])
                            if header is None or header.hash != cursor[1]:
                                raise _Reorg()
                        break
                self._advance(cursor, target, report)
                retries = 0
            except _Reorg as reorg:
                rolled = self._rollback(reorg.below)
                report.reorgs.append(rolled)
                self._refuse_unresolvable(rolled, report)
                target = None
                verified = False
            except _Retry as exc:
                retries += 1
                verified = False
                target = None
                logger.info("the chain moved while reading (%s); reading again", exc)
                if retries > 20:
                    raise ChainError(f"the chain keeps changing under the indexer: {exc}") from None
                time.sleep(min(0.05 * retries, 1.0))
        final = self.cursor()
        report.end_block = final[0] if final else 0
        report.seconds = time.perf_counter() - started
        return report

    def _cursor_row(self) -> tuple[int, str]:
        found = self.cursor()
        if found is None:
            raise ConfigurationError("the indexer has no cursor; call sync()")
        return found

    def _lagging(self, cursor: int) -> list[IndexedContract]:
        followed = {s.address.lower() for s in self.sources}
        with self.store.session() as session:
            rows = session.scalars(
                select(IndexedContract).where(
                    IndexedContract.chain_id == self.chain_id, IndexedContract.synced_to < cursor
                )
            ).all()
        return [r for r in rows if r.address in followed]

    def _main_addresses(self, cursor: int) -> list[str]:
        followed = {s.address.lower() for s in self.sources}
        with self.store.session() as session:
            rows = session.scalars(
                select(IndexedContract.address).where(
                    IndexedContract.chain_id == self.chain_id, IndexedContract.synced_to >= cursor
                )
            ).all()
        return sorted(_checksum(a) for a in rows if a in followed)

    def _fetch(
        self, addresses: Sequence[str], first: int, last: int
    ) -> tuple[int, list[dict[str, Any]], dict[int, BlockHeader]]:
        """Logs of ``addresses`` in ``first..last`` (shrinking ``last`` on refusal) with their headers."""
        while True:
            before = self._header(last)
            try:
                logs = self.client.get_logs_raw(addresses, first, last)
            except ChainUnavailableError:
                raise
            except ChainError as exc:
                self.chunks.refused(last - first + 1, exc)
                last = first + self.chunks.size - 1
                continue
            break
        numbers = {first, last, *(int(log["blockNumber"], 16) for log in logs)}
        headers = self.client.block_headers(sorted(numbers))
        after = headers.get(last)
        if after is None or after.hash != before.hash:
            raise _Retry(f"block {last} changed while its logs were read")
        for log in logs:
            header = headers.get(int(log["blockNumber"], 16))
            if header is None or str(log["blockHash"]).lower() != header.hash:
                raise _Retry(f"a log of block {int(log['blockNumber'], 16)} is not in the chain's block")
        self.chunks.succeeded(last - first + 1, len(logs))
        return last, logs, headers

    def _advance(self, cursor: tuple[int, str], target: int, report: SyncReport) -> None:
        first = cursor[0] + 1
        last = min(target, first + self.chunks.size - 1)
        addresses = self._main_addresses(cursor[0])
        last, logs, headers = self._fetch(addresses, first, last)
        if headers[first].parent_hash != cursor[1]:
            raise _Reorg()
        with self.store.session() as session:
            # Compare-and-set: only the indexer that read this cursor may move it.
            moved = session.execute(
                update(Cursor)
                .where(Cursor.chain_id == self.chain_id, Cursor.block_number == cursor[0],
                       Cursor.block_hash == cursor[1])
                .values(block_number=last, block_hash=headers[last].hash)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise _Retry("another indexer moved the cursor")
            count = self._write(session, logs, headers, blocks={last})
            session.execute(
                update(IndexedContract)
                .where(IndexedContract.chain_id == self.chain_id,
                       IndexedContract.address.in_([a.lower() for a in addresses]))
                .values(synced_to=last)
            )
        report.events += count
        report.chunks += 1
        if self.on_chunk is not None:
            self.on_chunk(ChunkReport(first, last, count, target + self.confirmations))

    def _backfill(self, lagging: list[IndexedContract], cursor: tuple[int, str], report: SyncReport) -> None:
        """One chunk for the contracts furthest behind (new in the deployment) towards the cursor."""
        behind = min(r.synced_to for r in lagging)
        group = [r for r in lagging if r.synced_to == behind]
        ahead = [r.synced_to for r in lagging if r.synced_to > behind]
        limit = min([cursor[0], *ahead])
        first = behind + 1
        last = min(limit, first + self.chunks.size - 1)
        addresses = sorted(_checksum(r.address) for r in group)
        last, logs, headers = self._fetch(addresses, first, last)
        with self.store.session() as session:
            stored = dict(session.execute(
                select(BlockRecord.number, BlockRecord.hash).where(
                    BlockRecord.chain_id == self.chain_id, BlockRecord.number.in_(list(headers))
                )
            ).all())
            stale = [n for n, h in headers.items() if n in stored and stored[n] != h.hash]
            if stale:
                raise _Reorg(below=min(stale))
            count = self._write(session, logs, headers, skip_blocks=set(stored))
            session.execute(
                update(IndexedContract)
                .where(IndexedContract.chain_id == self.chain_id,
                       IndexedContract.address.in_([r.address for r in group]))
                .values(synced_to=last)
            )
        for r in group:
            if last >= limit and r.name not in report.backfilled:
                report.backfilled.append(r.name)
        report.events += count
        report.chunks += 1

    def _write(
        self,
        session: Session,
        logs: Sequence[Mapping[str, Any]],
        headers: Mapping[int, BlockHeader],
        *,
        blocks: Iterable[int] = (),
        skip_blocks: Iterable[int] = (),
    ) -> int:
        """Insert the decoded logs, their accounts and their blocks' headers (in the caller's transaction)."""
        rows: list[dict[str, Any]] = []
        accounts: list[list[tuple[str, str]]] = []
        block_numbers = set(blocks)
        for log in logs:
            number = int(log["blockNumber"], 16)
            decoded = self.decoder.decode(log)
            block_numbers.add(number)
            rows.append({
                "chain_id": self.chain_id,
                "block_number": number,
                "block_hash": headers[number].hash,
                "block_time": headers[number].timestamp,
                "tx_hash": str(log["transactionHash"]).lower(),
                "tx_index": int(log["transactionIndex"], 16),
                "log_index": int(log["logIndex"], 16),
                "contract": decoded.contract,
                "address": decoded.address,
                "event": decoded.event,
                "args": decoded.args,
                "asset_id": decoded.asset_id,
            })
            accounts.append(decoded.accounts)
        connection = session.connection()
        if rows:
            connection.execute(insert(EventRecord), rows)
            links = [
                {"block_hash": row["block_hash"], "log_index": row["log_index"], "account": account, "role": role,
                 "chain_id": self.chain_id, "block_number": row["block_number"]}
                for row, found in zip(rows, accounts, strict=True)
                for account, role in dict.fromkeys(found)
            ]
            if links:
                connection.execute(insert(EventAccount), links)
        skip = set(skip_blocks)
        new_blocks = [
            {"chain_id": self.chain_id, "number": n, "hash": headers[n].hash,
             "parent_hash": headers[n].parent_hash, "time": headers[n].timestamp}
            for n in sorted(block_numbers - skip)
        ]
        if new_blocks:
            connection.execute(insert(BlockRecord), new_blocks)
        return len(rows)

    # -- reorgs -------------------------------------------------------------------------

    def _rollback(self, below: int | None = None) -> tuple[int, int]:
        """Delete everything above the highest stored block the chain still has (under ``below`` if
        given); return the (old, new) cursor."""
        old = self._cursor_row()
        ancestor: BlockHeader | None = None
        below = min(old[0] + 1, below if below is not None else old[0] + 1)
        while ancestor is None:
            with self.store.session() as session:
                stored = session.execute(
                    select(BlockRecord.number, BlockRecord.hash)
                    .where(BlockRecord.chain_id == self.chain_id, BlockRecord.number < below)
                    .order_by(BlockRecord.number.desc())
                    .limit(256)
                ).all()
            if not stored:
                break
            chain = self.client.block_headers([n for n, _ in stored])
            for number, stored_hash in stored:
                header = chain.get(number)
                if header is not None and header.hash == stored_hash:
                    ancestor = header
                    break
            below = stored[-1][0]
        if ancestor is None:  # nothing we hold is on this chain any more: start again from the floor
            floor = max(0, min(s.start_block for s in self.sources) - 1)
            ancestor = self._header(floor)
        with self.store.session() as session:
            number = ancestor.number
            session.execute(delete(EventAccount).where(
                EventAccount.chain_id == self.chain_id, EventAccount.block_number > number))
            session.execute(delete(EventRecord).where(
                EventRecord.chain_id == self.chain_id, EventRecord.block_number > number))
            session.execute(delete(BlockRecord).where(
                BlockRecord.chain_id == self.chain_id, BlockRecord.number >= number))
            session.add(_block_record(self.chain_id, ancestor))
            session.execute(
                update(Cursor).where(Cursor.chain_id == self.chain_id)
                .values(block_number=number, block_hash=ancestor.hash)
            )
            session.execute(
                update(IndexedContract)
                .where(IndexedContract.chain_id == self.chain_id, IndexedContract.synced_to > number)
                .values(synced_to=number)
            )
        logger.warning("reorg: rolled back from block %s to the common ancestor %s", old[0], ancestor.number)
        return old[0], ancestor.number

    def _refuse_unresolvable(self, rolled: tuple[int, int], report: SyncReport) -> None:
        """Stop with a sentence instead of rolling back for ever.

        A rollback that leaves the cursor where it was means the cursor's block is still the
        chain's, yet the next block does not name it as its parent: if the node says so again,
        its chain does not link and no rollback can help. The same rollback three times in one
        pass means the node keeps changing its mind. Either way the index stays consistent up
        to the common ancestor, and the user is told what was seen and what to do.
        """
        old, ancestor = rolled
        if ancestor >= old:
            headers = self.client.block_headers([ancestor, ancestor + 1])
            here, child = headers.get(ancestor), headers.get(ancestor + 1)
            if here is not None and child is not None and child.parent_hash != here.hash:
                raise ChainInconsistentError(
                    f"the chain at {self.client.rpc_url} does not link: block {ancestor + 1} names "
                    f"{child.parent_hash} as its parent, but the chain's block {ancestor} is {here.hash}. "
                    f"The indexer stopped at block {ancestor} instead of rolling back for ever (nothing above it "
                    "is indexed). The node's state is damaged, e.g. an embedded chain restarted by an ipledger "
                    "older than its state-file repair: start the chain with this version (it repairs the file) "
                    "or repair the node, then run `ipledger index` again.",
                    block=ancestor, parent_hash=child.parent_hash, block_hash=here.hash,
                )
        if report.reorgs.count(rolled) >= 3:
            raise ChainInconsistentError(
                f"the indexer rolled back from block {old} to the common ancestor {ancestor} "
                f"{report.reorgs.count(rolled)} times in one pass: the node at {self.client.rpc_url} keeps serving "
                "blocks that do not link to those it served a moment before. The index is consistent up to "
                f"block {ancestor}; check the node (a damaged state, or several nodes behind one URL), then run "
                "`ipledger index` again.",
                block=ancestor,
            )

    # -- running ------------------------------------------------------------------------

    def run(
        self,
        stop: threading.Event,
        *,
        poll_interval: float = 1.0,
        on_sync: Callable[[SyncReport], None] | None = None,
        refresh_sources: Callable[[], Sequence[Source] | None] | None = None,
    ) -> None:
        """Sync, wait for new blocks, repeat until ``stop`` is set; ride out an unreachable node."""
        delay = poll_interval
        while not stop.is_set():
            try:
                if refresh_sources is not None:
                    fresh = refresh_sources()
                    if fresh is not None:
                        self.set_sources(fresh)
                report = self.sync(stop)
                delay = poll_interval
                if on_sync is not None and (report.events or report.chunks or report.reorgs):
                    on_sync(report)
            except ChainUnavailableError as exc:
                logger.warning("%s; trying again in %.0fs", exc, delay)
                delay = min(max(delay * 2, 1.0), 30.0)
            stop.wait(delay)

    def stored_event_count(self) -> int:
        with self.store.session() as session:
            return int(session.scalar(
                select(func.count()).select_from(EventRecord).where(EventRecord.chain_id == self.chain_id)
            ) or 0)


def _block_record(chain_id: int, header: BlockHeader) -> BlockRecord:
    return BlockRecord(
        chain_id=chain_id, number=header.number, hash=header.hash,
        parent_hash=header.parent_hash, time=header.timestamp,
    )


# -- composition -------------------------------------------------------------------------


class ManifestWatcher:
    """Re-reads a deployment manifest when it changes, so newly deployed contracts are followed."""

    def __init__(self, path: Path, artifacts: Mapping[str, Artifact]) -> None:
        self.path = path
        self.artifacts = artifacts
        self._mtime = self._stat()

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def __call__(self) -> list[Source] | None:
        mtime = self._stat()
        if mtime == self._mtime or mtime == 0.0:
            return None
        self._mtime = mtime
        try:
            return sources_from_deployment(load_deployment(self.path), self.artifacts)
        except LedgerError as exc:
            logger.warning("ignoring the changed manifest %s: %s", self.path, exc)
            return None


class IndexerThread:
    """An indexer running in a daemon thread; :meth:`stop` ends it after the current chunk."""

    def __init__(self, indexer: Indexer, *, poll_interval: float = 1.0,
                 refresh_sources: Callable[[], Sequence[Source] | None] | None = None) -> None:
        self.indexer = indexer
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.reports: list[SyncReport] = []

        def target() -> None:
            try:
                indexer.run(self.stop_event, poll_interval=poll_interval, on_sync=self.reports.append,
                            refresh_sources=refresh_sources)
            except BaseException as exc:  # noqa: BLE001 - kept for the owner to see
                self.error = exc
                logger.exception("the indexer stopped")

        self.thread = threading.Thread(target=target, name="ipledger-indexer", daemon=True)

    def start(self) -> IndexerThread:
        self.thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)
        self.indexer.store.dispose()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


def run_indexer_in_thread(
    rpc_url: str,
    deployment: Deployment,
    artifacts: Mapping[str, Artifact],
    db_url: str,
    *,
    confirmations: int = 0,
    poll_interval: float = 1.0,
    manifest: Path | None = None,
    client_options: Mapping[str, Any] | None = None,
    finalized_only: bool = False,
) -> IndexerThread:
    """Start indexing ``deployment`` on ``rpc_url`` into ``db_url`` in a background thread.

    The thread has its own chain connection and database engine. With ``manifest``, contracts
    deployed later (the manifest rewritten) are followed from their deploy block. Call
    ``.stop()`` on the result to end it.
    """
    client = ChainClient(rpc_url, **(client_options or {}))
    store = Store(db_url)
    indexer = Indexer(client, store, sources_from_deployment(deployment, artifacts), confirmations=confirmations,
                      finalized_only=finalized_only)
    watcher = ManifestWatcher(manifest, artifacts) if manifest is not None else None
    return IndexerThread(indexer, poll_interval=poll_interval, refresh_sources=watcher).start()
