"""The bank's due diligence on an IP asset: one JSON-RPC round trip, every fact with its evidence.

:meth:`CheckService.due_diligence` sends ONE JSON-RPC batch (one HTTP request to the node):

1. ``eth_call`` of ``IPLens.dueDiligence(assetId, maturity)``: the asset, its freeze, its active
   pledge, its active licenses, its pending license offers, its encumbrance version and the lens's
   red flags, all read in one block;
2. ``eth_getLogs`` of the IPRegistry's events whose first topic is the asset id (registration,
   verification, status, dates, freezes);
3. ``eth_getLogs`` of its ``Transfer`` and ``Approval`` events of the token;
4. ``eth_getLogs`` of the LicenseRegistry's and PledgeRegistry's events whose second topic is
   the asset id (every license and pledge step);
5. ``eth_getLogs`` of the IPRegistry's ``ParentSet`` events naming the asset as parent (its children);
6. ``eth_getBlockByNumber("latest")``: the hash of the block read, which reports are cached by;
7. the head's number, and the chain's ``finalized`` block where finality is judged by it: how final
   the report is (:attr:`DueDiligence.finality`, the finality of the asset's latest recorded change).

The logs are cut at the block the call read, so the history and the state agree. Disputes (open
and resolved) and the asset's parent come from its own events (``DisputeOpened``, ``DisputeResolved``,
``ParentSet``); an open dispute is a red flag, one of ownership first of all (the asset can then
neither move nor be pledged). The official
number, the hashes and the metadata URI come from ``AssetRegistered`` (they are not in the
contracts' storage); block times come with the logs (``blockTimestamp``) and, from a node that
does not send them, from the block headers in a second round trip (then cached).

An asset asked for by its official number costs one more round trip the first time (the
number → id binding never changes, so it is cached). With ``max_age`` a caller serving many
requests (the API) reuses a report while the chain head (number and hash) has not moved; a
daemon thread looks at the head every ``max_age / 2`` seconds, and one read per report serves
all the requests that wait for it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ledger.chain.abi import (
    LogDecoder,
    LogEvent,
    call_request,
    decode_output,
    function_abi,
    logs_request,
    raw_results,
    uint_topic,
)
from ledger.chain.client import ChainClient, Contract
from ledger.chain.finality import Finality
from ledger.encoding import (
    AssetKind,
    DisputeKind,
    DisputeOutcome,
    LabelledEnum,
    LegalStatus,
    LicenseKind,
    day,
    decode_ascii32,
    encode_ref,
    iso,
    parse_address,
    parse_date,
)
from ledger.errors import LedgerError, NotFoundError, ValidationError
from ledger.messages import notice
from ledger.registry.assets import Asset, Freeze, Registration
from ledger.registry.coowners import CoOwners
from ledger.registry.disputes import Dispute
from ledger.registry.licenses import License
from ledger.registry.metadata import MetadataStore
from ledger.registry.pledges import Pledge

FLAG_NAMES = ("unverified", "expiresBeforeMaturity", "feesUnpaid", "invalidationPending", "notPledgeable", "frozen",
              "pledged", "exclusivelyLicensed", "holderDisputed", "exclusivelyOffered")
"""``IIPLens.RedFlags`` in declaration order."""

FLAG_CODES = {
    "frozen": "frozen", "pledged": "pledged", "notPledgeable": "not_pledgeable",
    "invalidationPending": "invalidation_pending", "expiresBeforeMaturity": "expires_before_maturity",
    "holderDisputed": "holder_disputed", "feesUnpaid": "fees_unpaid", "exclusivelyLicensed": "exclusively_licensed",
    "exclusivelyOffered": "exclusively_offered", "unverified": "unverified",
}
"""Flags as codes in the order a lender reads them: what blocks a loan first."""


@dataclass(frozen=True)
class RedFlag:
    """A reason for a lender to pause: a stable ``code`` and a sentence with the facts."""

    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


_TEXT_ARGS = ("ref", "territory", "fieldOfUse", "recordalNo", "currency")
_ENUM_ARGS: dict[tuple[str, str], type[LabelledEnum]] = {
    ("IPRegistry", "kind"): AssetKind, ("IPRegistry", "status"): LegalStatus, ("LicenseRegistry", "kind"): LicenseKind,
}
_DISPUTE_ENUM_ARGS: dict[tuple[str, str], type[LabelledEnum]] = {
    ("IPRegistry", "kind"): DisputeKind, ("IPRegistry", "outcome"): DisputeOutcome,
}
"""A dispute's events (they carry ``disputeId``) name a dispute's kind, not an asset's."""


def readable(contract: str, args: dict[str, Any]) -> dict[str, Any]:
    """Event arguments as a reader wants them: codes as text, enum numbers as names."""
    out: dict[str, Any] = {}
    enums = _DISPUTE_ENUM_ARGS if "disputeId" in args else _ENUM_ARGS
    for name, value in args.items():
        if isinstance(value, dict):
            out[name] = readable(contract, value)
        elif name in _TEXT_ARGS and isinstance(value, str):
            out[name] = decode_ascii32(value)
        elif (contract, name) in enums and isinstance(value, int):
            out[name] = enums[(contract, name)].label_of(value)
        else:
            out[name] = value
    return out


def history_json(event: LogEvent) -> dict[str, Any]:
    return {
        "block_number": event.block_number, "block_time": event.block_time, "time": iso(event.block_time),
        "tx_hash": event.tx_hash, "log_index": event.log_index, "contract": event.contract, "event": event.event,
        "args": readable(event.contract, event.args),
    }


@dataclass(frozen=True)
class Trail:
    """What a node that keeps no state of a block still says about an asset there (:meth:`CheckService.trail_at`)."""

    head: int
    block_hash: str | None
    block_time: int | None
    history: list[LogEvent]


@dataclass(frozen=True)
class DueDiligence:
    """Everything the chain says about an asset for a loan maturing at ``maturity`` (0: none given)."""

    asset: Asset
    registration: Registration | None
    title: str | None
    frozen: bool
    freeze: Freeze | None
    pledge: Pledge | None
    licenses: list[License]
    offers: list[License]
    """Pending license offers (their licensees may accept them at any time)."""
    encumbrance_version: int
    """``LicenseRegistry.encumbranceVersionOf``: what the bank names when it accepts a pledge, so that
    a license offered, accepted or ended after this report makes the acceptance fail."""
    flags: dict[str, bool]
    red_flags: list[RedFlag]
    history: list[LogEvent]
    maturity: int
    block_number: int
    block_time: int
    disputes: list[Dispute] = field(default_factory=list)
    """Every dispute recorded over the asset, open ones first, then by id."""
    parent_id: int = 0
    """The asset this one names as its parent (0: none)."""
    co_owners: CoOwners | None = None
    """The co-owners, when the asset is held by its co-ownership vault (see :mod:`ledger.registry.coowners`)."""
    children: list[int] = field(default_factory=list)
    """The assets that name this one as their parent."""
    block_hash: str | None = None
    """The hash of block ``block_number`` when the node named it in the same batch (caching keys on it)."""
    finality: Finality | None = None
    """How final the report is: the finality of the block of the asset's latest recorded change (a
    change the chain may still drop makes the whole report provisional)."""
    round_trips: int = 1
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def asset_id(self) -> int:
        return self.asset.asset_id

    @property
    def ref(self) -> str:
        return self.registration.ref if self.registration else ""

    @property
    def clean(self) -> bool:
        return not self.red_flags

    def as_json_bytes(self) -> bytes:
        """:meth:`as_json` as compact UTF-8 JSON, rendered once per report (reports are reused)."""
        rendered = self._memo.get("bytes")
        if rendered is None:
            rendered = self._memo["bytes"] = json.dumps(
                self.as_json(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return bytes(rendered)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (computed once)."""
        if "json" not in self._memo:
            self._memo["json"] = ({
                "asset_id": self.asset_id, "ref": self.ref or None, "title": self.title, "owner": self.asset.owner,
                "kind": self.asset.kind.label, "legal_status": self.asset.status.label,
                "verified": self.asset.verified, "expires_at": self.asset.expires_at,
                "expires_on": iso(self.asset.expires_at), "fees_paid_until": self.asset.fees_paid_until,
                "fees_paid_until_on": iso(self.asset.fees_paid_until), "frozen": self.frozen,
                "freeze": self.freeze.as_json() if self.freeze else None,
                "pledge": self.pledge.as_json() if self.pledge else None,
                "licenses": [lic.as_json() for lic in self.licenses],
                "offers": [lic.as_json() for lic in self.offers],
                "encumbrance_version": self.encumbrance_version,
                "clean": self.clean, "red_flags": [f.as_json() for f in self.red_flags], "flags": self.flags,
                "registration": self.registration.as_json() if self.registration else None,
                "disputes": [d.as_json() for d in self.disputes],
                "open_disputes": sum(1 for d in self.disputes if d.open),
                "parent_id": self.parent_id or None, "children": self.children,
                "co_owners": self.co_owners.as_json() if self.co_owners else None,
                "history": [history_json(e) for e in self.history],
                "maturity": self.maturity, "matures_on": iso(self.maturity),
                "block_number": self.block_number, "block_hash": self.block_hash, "block_time": self.block_time,
                "as_of": iso(self.block_time),
                "finality": self.finality.as_json() if self.finality is not None else None,
                "round_trips": self.round_trips,
            })
        data: dict[str, Any] = self._memo["json"]
        return data


def dispute_flags(disputes: list[Dispute]) -> tuple[list[RedFlag], list[RedFlag]]:
    """Open disputes as red flags: those of ownership (they block a loan first), and the others."""
    blocking, other = [], []
    for d in disputes:
        if not d.open:
            continue
        since = f"case {d.ref}, opened {day(d.opened_at)}"
        if d.blocks_moves:
            blocking.append(RedFlag("ownership_disputed", (
                f"its ownership is in dispute (dispute {d.dispute_id}, {since}): it cannot be transferred or "
                "pledged until the dispute is resolved")))
        else:
            other.append(RedFlag("disputed", f"a dispute is open: {d.kind.label.replace('-', ' ')} "
                                             f"(dispute {d.dispute_id}, {since})"))
    return blocking, other


def co_owner_flag(co_owners: CoOwners | None, history: list[LogEvent]) -> RedFlag | None:
    """A co-owned asset with no pledge proposed by its co-ownership vault (which proposes only once
    every co-owner consented to the pledge's exact terms): the co-owners' consents are still missing."""
    if co_owners is None or not co_owners.held:
        return None
    pending: set[int] = set()
    for event in history:
        args = event.args
        if event.event == "PledgeProposed" and str(args.get("pledgor", "")).lower() == co_owners.vault.lower():
            pending.add(int(args["pledgeId"]))
        elif event.event in ("PledgeAccepted", "PledgeCancelled"):
            pending.discard(int(args["pledgeId"]))
    if pending:
        return None
    owners = ", ".join(f"{address} ({bps / 100:g} %)" for address, bps in co_owners.shares)
    return RedFlag("co_owners_not_consented", (
        f"co-owned by {owners}: a pledge or a transfer needs every co-owner's consent to its exact terms, and no "
        "pledge has been proposed with them yet"))


def red_flags(flags: dict[str, bool], asset: Asset, maturity: int, freeze: Freeze | None, pledge: Pledge | None,
              licenses: list[License], offers: list[License] | None = None,
              disputes: list[Dispute] | None = None, now: int = 0) -> list[RedFlag]:
    """The lens's flags and the open disputes as sentences with the facts behind each (``now``: the time of the
    block read, which tells fees that lapse during the loan from fees that have already lapsed)."""
    blocking, other = dispute_flags(disputes or [])
    out: list[RedFlag] = list(blocking)
    for name, code in FLAG_CODES.items():
        if not flags.get(name):
            continue
        if name == "frozen":
            where = f" by {freeze.court}, case {freeze.case_number}," if freeze else ""
            message = (f"frozen{where} until {day(asset.frozen_until)}: it cannot be transferred, licensed "
                       "or pledged")
        elif name == "pledged" and pledge is not None:
            message = (f"already pledged to {pledge.pledgee} (pledge {pledge.pledge_id}) for {pledge.principal:,} "
                       f"{pledge.currency}, maturing {day(pledge.maturity)}")
        elif name == "notPledgeable":
            if asset.status in (LegalStatus.LAPSED, LegalStatus.EXPIRED, LegalStatus.INVALIDATED):
                message = f"it cannot be pledged: its legal status is {asset.status.label}"
            else:
                message = f"it cannot be pledged: it expired on {day(asset.expires_at)}"
        elif name == "invalidationPending":
            message = "a request to invalidate it is pending (legal status: invalidation requested)"
        elif name == "expiresBeforeMaturity":
            message = f"it expires on {day(asset.expires_at)}, before the loan matures on {day(maturity)}"
        elif name == "feesUnpaid":
            if maturity and asset.fees_paid_until < maturity and not (now and asset.fees_paid_until < now):
                message = (f"annual fees are paid only until {day(asset.fees_paid_until)}, before the loan "
                           f"matures on {day(maturity)}: the right lapses during the loan unless they are paid")
            else:  # (the lens flags fees paid until before now or the maturity, whichever is later)
                message = (f"annual fees are paid only until {day(asset.fees_paid_until)}, which has already passed: "
                           "the right has already lapsed (it is restored only if the overdue fees are paid)")
        elif name == "exclusivelyLicensed":
            held = [f"{lic.kind.label} license {lic.license_id} to {lic.licensee} ({lic.scope()})"
                    for lic in licenses if lic.exclusive]
            message = "exclusively licensed: " + "; ".join(held)
        elif name == "exclusivelyOffered":
            held = [f"{lic.kind.label} license {lic.license_id} offered to {lic.licensee} ({lic.scope()})"
                    for lic in offers or [] if lic.exclusive]
            message = ("an exclusive license is offered and may be accepted at any time: " + "; ".join(held)
                       + " (accepting the pledge fails if it is accepted after this check)")
        elif name == "holderDisputed":
            message = ("the registrar found that whoever registered it is not the holder in the official register "
                       "(its official number or content was freed for the real holder)")
        elif name == "unverified":
            message = ("not verified: the registrar has not reconciled this record with the official register "
                       "(owner and official number)")
        else:
            message = name
        out.append(RedFlag(code, message))
    return out + other


class CheckService:
    """Due diligence reports from the IPLens and the registries' events."""

    def __init__(
        self,
        client: ChainClient,
        lens: Contract,
        registry: Contract,
        licenses: Contract,
        pledges: Contract,
        metadata: MetadataStore,
        *,
        from_block: int = 0,
        cache_size: int = 1024,
        coownership: Contract | None = None,
    ) -> None:
        self.client = client
        self.coownership = coownership
        self.lens = lens
        self.registry = registry
        self.licenses = licenses
        self.pledges = pledges
        self.metadata = metadata
        self.from_block = from_block
        self._decoder = LogDecoder({
            registry.address: ("IPRegistry", registry.abi),
            licenses.address: ("LicenseRegistry", licenses.abi),
            pledges.address: ("PledgeRegistry", pledges.abi),
        })
        self._token_topics = [self._decoder.topic("Transfer"), self._decoder.topic("Approval")]
        self._parent_topic = self._decoder.topic("ParentSet")
        self._report_fn = function_abi(lens.abi, "dueDiligence")
        self._ids_of_refs: dict[bytes, int] = {}
        self._block_times: OrderedDict[int, int] = OrderedDict()
        self._cache: OrderedDict[tuple[int, int], DueDiligence] = OrderedDict()
        self._cache_size = cache_size
        self._head: tuple[float, tuple[int, str]] = (0.0, (-1, ""))
        self._head_lock = threading.Lock()
        self._fetch_locks = [threading.Lock() for _ in range(64)]
        self._watcher: threading.Thread | None = None
        self._wanted = 0.0
        self._stop = threading.Event()
        client.uses_finalized_tag  # noqa: B018 - ask the chain once now, so a report stays one round trip

    # -- the report --------------------------------------------------------------------------------

    def due_diligence(
        self, asset: int | str, maturity: int | str | None = 0, *, max_age: float | None = None,
        past_maturity: bool = False,
    ) -> DueDiligence:
        """The report of ``asset`` (an id, or an official number) for a loan maturing at ``maturity``.

        A maturity that is not after the chain's time (the block read) is refused as bad input (ValidationError,
        notice ``maturity-past``), as ``pledge propose`` refuses it: a loan cannot mature in the past, and the lens
        would judge the fees at today instead. ``past_maturity`` allows it (an existing pledge's own maturity).

        With ``max_age`` a report is reused while the chain head is still the block it was read
        in (same number and hash, so a reorg or a dev chain's revert is noticed): ``0`` asks the
        node for its head on every call (one small round trip), more looks at the head at most
        every ``max_age`` seconds (a report is then at most that much behind the head). None (the
        default) always reads afresh.
        """
        asset_id = self.resolve(asset)
        when = parse_date(maturity, "the maturity")
        future = not past_maturity
        if isinstance(asset, str) and not asset.strip().isdigit():
            report = self._fetch(asset_id, when, future=future)
            if report.ref != decode_ascii32(encode_ref(asset)):  # the binding moved (a reorg): look again
                self._ids_of_refs.pop(encode_ref(asset), None)
                report = self._fetch(self.resolve(asset), when, future=future)
            return report
        if max_age is None or past_maturity:
            return self._fetch(asset_id, when, future=future)
        key = (asset_id, when)
        with self._fetch_locks[hash(key) % len(self._fetch_locks)]:  # one read per report, however many ask
            cached = self._cache.get(key)
            if cached is not None and cached.block_hash == self._head_of_chain(max_age)[1]:
                return cached  # read with a future maturity (only those are cached), and still of the head
            report = self._fetch(asset_id, when, future=True)
            if report.block_hash is not None:
                self._head = (time.monotonic(), (report.block_number, report.block_hash))  # the latest look
                self._cache[key] = report
                self._cache.move_to_end(key)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return report

    def cached(self, asset_id: int, maturity: int | str | None, max_age: float) -> DueDiligence | None:
        """The report :meth:`due_diligence` would reuse, found without any I/O, or None.

        For servers: answer from memory on the event loop when this returns a report, and call
        :meth:`due_diligence` in a worker thread when it does not (the report is missing or not of
        the head). The first call starts :meth:`watch_head` every ``max_age / 2`` seconds, so the
        head is known without a request waiting for it.
        """
        report = self._cache.get((asset_id, parse_date(maturity, "the maturity")))
        if max_age > 0:
            self._wanted = time.monotonic()
            self.watch_head(max_age / 2)
        learned, (_, head_hash) = self._head
        if report is None or time.monotonic() - learned > max_age or report.block_hash != head_hash:
            return None
        return report

    def resolve(self, asset: int | str) -> int:
        """An asset id from an id or an official number (cached: the binding does not change)."""
        if isinstance(asset, int) or asset.strip().isdigit():
            asset_id = int(asset)
            if asset_id <= 0:
                raise ValidationError(f"asset ids start at 1, got {asset_id}")
            return asset_id
        ref = encode_ref(asset)
        known = self._ids_of_refs.get(ref)
        if known is None:
            known = int(self.client.call(self.registry.functions.assetIdOfRef(ref)))
            if known == 0:
                raise NotFoundError(f"no asset is registered with the official number {decode_ascii32(ref)}")
            self._ids_of_refs[ref] = known
        return known

    def watch_head(self, interval: float, idle: float = 10.0) -> None:
        """Look at the chain head every ``interval`` seconds in a daemon thread, so that
        :meth:`cached` finds the head fresh without a request ever waiting for it. The thread
        ends after ``idle`` seconds without a :meth:`cached` call; the next call starts it again."""
        if self._watcher is not None:
            return
        with self._head_lock:
            if self._watcher is not None:
                return
            self._wanted = time.monotonic()

            def watch() -> None:
                while not self._stop.wait(interval):
                    if time.monotonic() - self._wanted > idle:
                        break
                    try:
                        self._look_at_head()
                    except LedgerError:
                        self._stop.wait(1.0)  # the node is away: requests fall back to reading it themselves
                self._watcher = None

            self._watcher = threading.Thread(target=watch, name="ipledger-head-watcher", daemon=True)
            self._watcher.start()

    def close(self) -> None:
        """Stop the head watcher."""
        self._stop.set()

    def _look_at_head(self) -> tuple[int, str]:
        (header,) = self.client.rpc_batch([("eth_getBlockByNumber", ["latest", False])])
        head = (int(header["number"], 16), str(header["hash"]))
        self._head = (time.monotonic(), head)
        return head

    def _head_of_chain(self, max_age: float) -> tuple[int, str]:
        """The head's number and hash, looked at no more than ``max_age`` seconds ago."""
        if max_age <= 0:
            return self._look_at_head()
        if time.monotonic() - self._head[0] > max_age:
            with self._head_lock:
                if time.monotonic() - self._head[0] > max_age:
                    self._look_at_head()
        return self._head[1]

    def due_diligence_at(self, asset_id: int, maturity: int, block: int) -> DueDiligence:
        """The report of ``asset_id`` as the chain stood at ``block`` (a re-check of an earlier report:
        the same block gives the same report, whatever happened since)."""
        if block < 0:
            raise ValidationError(f"block numbers start at 0, got {block}")
        return self._fetch(self.resolve(asset_id), parse_date(maturity, "the maturity"), block)

    def trail_at(self, asset_id: int, block: int) -> Trail:
        """What a node without the state of ``block`` still tells about it: the head's number, the block's
        header, and the asset's events up to it (from logs, which need no historical state; None if the
        node keeps none of them either). One round trip."""
        if block < 0:
            raise ValidationError(f"block numbers start at 0, got {block}")
        topic = uint_topic(asset_id)
        own, token, deals, header, head = raw_results(self.client, [
            logs_request([self.registry.address], [None, topic], self.from_block, block),
            logs_request([self.registry.address], [self._token_topics, None, None, topic], self.from_block, block),
            logs_request([self.licenses.address, self.pledges.address], [None, None, topic], self.from_block, block),
            ("eth_getBlockByNumber", [hex(block), False]),
            ("eth_blockNumber", []),
        ])
        history = self._history(asset_id, [*own, *token, *deals], block)
        if any(e.block_time == 0 for e in history):
            history = self._with_block_times(history)
        return Trail(int(head, 16), str(header["hash"]) if header else None,
                     int(header["timestamp"], 16) if header else None, history)

    def _fetch(self, asset_id: int, maturity: int, block: int | None = None, *, future: bool = False) -> DueDiligence:
        """The report as of ``block`` (None: the head); ``future``: refuse a maturity not after the block's time."""
        topic = uint_topic(asset_id)
        tag: int | str = "latest" if block is None else block
        calls = [
            call_request(self.lens.address, self.lens.encode_abi("dueDiligence", [asset_id, maturity]), tag),
            logs_request([self.registry.address], [None, topic], self.from_block, tag),
            logs_request([self.registry.address], [self._token_topics, None, None, topic], self.from_block, tag),
            logs_request([self.licenses.address, self.pledges.address], [None, None, topic], self.from_block, tag),
            logs_request([self.registry.address], [self._parent_topic, None, topic], self.from_block, tag),
            ("eth_getBlockByNumber", ["latest" if block is None else hex(block), False]),
        ]
        co = self.coownership
        if co is not None:
            calls.append(call_request(co.address, co.encode_abi("vaultOf", [asset_id]), tag))
        finality_calls = self.client.finality_calls()
        result, own, token, deals, kin, header, *rest = raw_results(self.client, [*calls, *finality_calls])
        vault, head = rest[:len(rest) - len(finality_calls)], rest[len(rest) - len(finality_calls):]
        round_trips = 1
        (report,) = decode_output(self._report_fn, result)
        (_, _, raw_asset, frozen, raw_freeze, pledge_id, raw_pledge, license_ids, raw_licenses, raw_flags,
         block_number, block_time, offer_ids, raw_offers, version) = report
        if future and maturity and maturity <= int(block_time):
            raise ValidationError(**notice("maturity-past", maturity=maturity, now=int(block_time)))
        history = self._history(asset_id, [*own, *token, *deals], int(block_number))
        if any(e.block_time == 0 for e in history):
            history = self._with_block_times(history)
            round_trips += 1
        registration = next(
            (Registration.from_event(e) for e in history if e.event == "AssetRegistered"), None)
        title = None
        if registration is not None:
            document = self.metadata.find(registration.metadata_hash)
            if document is not None and isinstance(document.get("title"), str):
                title = document["title"]
        asset = Asset.from_tuple(asset_id, raw_asset)
        freeze = Freeze.from_tuple(raw_freeze)
        pledge = Pledge.from_tuple(int(pledge_id), raw_pledge) if pledge_id else None
        licenses = [License.from_tuple(int(i), raw) for i, raw in zip(license_ids, raw_licenses, strict=True)]
        offers = [License.from_tuple(int(i), raw) for i, raw in zip(offer_ids, raw_offers, strict=True)]
        flags = {name: bool(on) for name, on in zip(FLAG_NAMES, raw_flags, strict=True)}
        disputes = sorted(Dispute.from_events(history), key=lambda d: (not d.open, d.dispute_id))
        flags["ownershipDisputed"] = any(d.blocks_moves for d in disputes)
        flags["disputed"] = any(d.open for d in disputes)
        parent_id = next((int(e.args["parentId"]) for e in history if e.event == "ParentSet"), 0)
        children = sorted({int(event.args["assetId"]) for event in map(self._decoder.decode, kin)
                           if event is not None and event.event == "ParentSet" and event.block_number <= block_number
                           and int(event.args["parentId"]) == asset_id})
        co_owners = None
        if co is not None and vault:
            (vault_address,) = decode_output(function_abi(co.abi, "vaultOf"), vault[0])
            if str(vault_address).lower() == asset.owner.lower():  # held for its co-owners: who they are
                co_owners = self._co_owners(asset_id, str(vault_address), tag)
                round_trips += 1
        flagged = red_flags(flags, asset, maturity, freeze, pledge, licenses, offers, disputes, int(block_time))
        co_flag = co_owner_flag(co_owners, history)
        if co_flag is not None:
            flagged.insert(len([f for f in flagged if f.code == "ownership_disputed"]), co_flag)
        return DueDiligence(
            asset=asset, registration=registration, title=title, frozen=bool(frozen), freeze=freeze, pledge=pledge,
            licenses=licenses, offers=offers, encumbrance_version=int(version), flags=flags,
            red_flags=flagged,
            history=history, maturity=maturity, block_number=int(block_number), block_time=int(block_time),
            disputes=disputes, parent_id=parent_id, children=children, co_owners=co_owners,
            block_hash=str(header["hash"]) if header and int(header["number"], 16) == block_number else None,
            finality=self.client.finality_of(max((e.block_number for e in history), default=int(block_number)),
                                             head),
            round_trips=round_trips,
        )

    def _co_owners(self, asset_id: int, vault: str, tag: int | str) -> CoOwners:
        """``CoOwnership.coOwnersOf`` at ``tag`` (the asset is held by ``vault``)."""
        co = self.coownership
        assert co is not None
        [raw] = raw_results(self.client, [call_request(co.address, co.encode_abi("coOwnersOf", [asset_id]), tag)])
        shares, agreement, _, epoch = decode_output(function_abi(co.abi, "coOwnersOf"), raw)
        return CoOwners(asset_id, [(parse_address(str(a)), int(b)) for a, b in shares],
                        "0x" + bytes(agreement[0]).hex(), int(agreement[1]), parse_address(vault), int(epoch), True)

    def current(self, asset_id: int) -> DueDiligence:
        """The asset now as the lens reads it (state, freeze, pledge, licences, offers, flags for no
        maturity), with its parent, children and open disputes, in ONE batch with the head (and one more
        for the open disputes' records when there are any), and no log query: for readers that take the
        registration and the history from the audit index (the public asset page), whose cost then
        does not grow with the chain's logs. ``registration`` and ``title`` are None, ``history`` empty.
        """
        if asset_id <= 0:
            raise ValidationError(f"asset ids start at 1, got {asset_id}")
        reg = self.registry
        result, open_ids, parent, children, header = raw_results(self.client, [
            call_request(self.lens.address, self.lens.encode_abi("dueDiligence", [asset_id, 0])),
            call_request(reg.address, reg.encode_abi("openDisputesOf", [asset_id])),
            call_request(reg.address, reg.encode_abi("parentOf", [asset_id])),
            call_request(reg.address, reg.encode_abi("childrenOf", [asset_id])),
            ("eth_getBlockByNumber", ["latest", False]),
        ])
        (report,) = decode_output(self._report_fn, result)
        (_, _, raw_asset, frozen, raw_freeze, pledge_id, raw_pledge, license_ids, raw_licenses, raw_flags,
         block_number, block_time, offer_ids, raw_offers, version) = report
        asset = Asset.from_tuple(asset_id, raw_asset)
        freeze = Freeze.from_tuple(raw_freeze)
        pledge = Pledge.from_tuple(int(pledge_id), raw_pledge) if pledge_id else None
        licenses = [License.from_tuple(int(i), raw) for i, raw in zip(license_ids, raw_licenses, strict=True)]
        offers = [License.from_tuple(int(i), raw) for i, raw in zip(offer_ids, raw_offers, strict=True)]
        flags = {name: bool(on) for name, on in zip(FLAG_NAMES, raw_flags, strict=True)}
        disputes = self._open_disputes(
            sorted(int(i) for i in decode_output(function_abi(reg.abi, "openDisputesOf"), open_ids)[0]),
            int(block_number))
        flags["ownershipDisputed"] = any(d.blocks_moves for d in disputes)
        flags["disputed"] = bool(disputes)
        return DueDiligence(
            asset=asset, registration=None, title=None, frozen=bool(frozen), freeze=freeze, pledge=pledge,
            licenses=licenses, offers=offers, encumbrance_version=int(version), flags=flags,
            red_flags=red_flags(flags, asset, 0, freeze, pledge, licenses, offers, disputes, int(block_time)),
            history=[], maturity=0,
            block_number=int(block_number), block_time=int(block_time), disputes=disputes,
            parent_id=int(decode_output(function_abi(reg.abi, "parentOf"), parent)[0]),
            children=[int(i) for i in decode_output(function_abi(reg.abi, "childrenOf"), children)[0]],
            block_hash=str(header["hash"]) if header and int(header["number"], 16) == block_number else None,
        )

    def _open_disputes(self, dispute_ids: list[int], block_number: int) -> list[Dispute]:
        """The open disputes ``dispute_ids`` as of ``block_number`` (one more round trip, only when there are any)."""
        if not dispute_ids:
            return []
        reg = self.registry
        fn = function_abi(reg.abi, "disputeOf")
        results = raw_results(self.client, [
            call_request(reg.address, reg.encode_abi("disputeOf", [i]), block_number) for i in dispute_ids])
        return [Dispute.from_tuple(i, decode_output(fn, raw)[0]) for i, raw in zip(dispute_ids, results, strict=True)]

    def _history(self, asset_id: int, logs: list[dict[str, Any]], block_number: int) -> list[LogEvent]:
        events: dict[tuple[str, int], LogEvent] = {}
        for log in logs:
            event = self._decoder.decode(log)
            if event is None or event.block_number > block_number:
                continue
            about = event.args.get("assetId", event.args.get("tokenId"))
            if about == asset_id:
                events[(event.block_hash, event.log_index)] = event
        return sorted(events.values(), key=lambda e: (e.block_number, e.log_index))

    def _with_block_times(self, history: list[LogEvent]) -> list[LogEvent]:
        """Block times from the headers, for nodes that send logs without ``blockTimestamp``."""
        missing = {e.block_number for e in history if e.block_time == 0 and e.block_number not in self._block_times}
        for number, header in self.client.block_headers(sorted(missing)).items():
            self._block_times[number] = header.timestamp
        while len(self._block_times) > 65536:
            self._block_times.popitem(last=False)
        return [
            e if e.block_time else LogEvent(e.contract, e.event, e.args, e.tx_hash, e.block_number, e.block_hash,
                                            e.log_index, self._block_times.get(e.block_number, 0))
            for e in history
        ]
