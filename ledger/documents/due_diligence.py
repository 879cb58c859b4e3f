"""The bank's due-diligence report as a document, and its re-check against the chain.

The report shows the red flags first, then the owner, status, dates, licences, pledge, freeze and
history, and the block (number and hash) it was read at. Its PDF carries the report's data
(:data:`ATTACHMENT`): :func:`recheck` reads the chain again AT that block and compares, so a report
whose data was altered afterwards (a flag removed, an event dropped) fails, while one read at an
earlier block still passes although the asset has moved on since.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.documents.i18n import locale_of, render_html
from ledger.documents.pdf import Attached, attachment, html_to_pdf, is_pdf
from ledger.errors import HistoryUnavailableError, ValidationError
from ledger.registry.check import DueDiligence, Trail, history_json

ATTACHMENT = "due-diligence.json"
"""The name of the report's data inside its PDF."""
FORMATS = ("pdf", "html")
_NOT_COMPARED = ("round_trips",)
"""How the report was read, not what it says."""
_NOT_RECHECKED = ("finality",)
"""What the report said about how final it was then: the chain has moved on since (more confirmations)."""


def report_data(report: DueDiligence, chain_id: int) -> dict[str, Any]:
    """What the report says, as data: the due diligence JSON and the chain it was read from."""
    data = {k: v for k, v in report.as_json().items() if k not in _NOT_COMPARED}
    return {"chain_id": chain_id, **data}


def _args_text(args: dict[str, Any]) -> str:
    shown = {k: v for k, v in args.items() if k not in ("assetId", "tokenId")}
    return json.dumps(shown, separators=(", ", ": "), ensure_ascii=False, default=str)


def render_due_diligence(report: DueDiligence, *, chain_id: int, fmt: str = "pdf", lang: str = "zh",
                         zone: str = "Asia/Shanghai") -> bytes:
    """The report as a ``pdf`` or ``html`` document in ``lang``."""
    if fmt not in FORMATS:
        raise ValidationError(f"the format is pdf or html, not {fmt!r}")
    locale = locale_of(lang)
    data = report_data(report, chain_id)
    html = render_html("due_diligence.html", locale, zone, r=data, history=[
        {**event, "details": _args_text(event["args"])} for event in data["history"]])
    if fmt == "html":
        return html.encode()
    moment = dt.datetime.fromtimestamp(report.block_time, dt.UTC)
    body = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode()
    return html_to_pdf(html, moment=moment, attachments=[Attached(ATTACHMENT, body, "ipledger due diligence (JSON)")])


def load_report(raw: bytes, what: str = "the report") -> dict[str, Any]:
    """The report's data from its PDF (or from the JSON itself)."""
    text = attachment(raw, ATTACHMENT, what) if is_pdf(raw) else raw
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep to be either
        raise ValidationError(f"{what} is neither a due-diligence PDF nor its JSON") from None
    needed = ("chain_id", "asset_id", "maturity", "block_number", "block_hash")
    if not isinstance(data, dict) or any(k not in data for k in needed):
        raise ValidationError(f"{what} is not a due-diligence report (it lacks {', '.join(needed)})")
    return data


@dataclass
class Recheck:
    """A report compared with the chain read again at the report's block.

    ``status`` is ``ok`` (the chain says exactly what the report says), ``altered`` (it does not:
    ``differences`` say where), or ``unverifiable``: the node keeps no state of the report's block
    (``reason``), so only what needs none was compared (``checked``) and found as the report says.
    """

    asset_id: int
    block_number: int
    block_hash: str | None
    differences: list[str] = field(default_factory=list)
    unverifiable: str | None = None
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and self.unverifiable is None

    @property
    def status(self) -> str:
        return "altered" if self.differences else ("unverifiable" if self.unverifiable else "ok")

    def as_json(self) -> dict[str, Any]:
        data = {"ok": self.ok, "status": self.status, "asset_id": self.asset_id, "block_number": self.block_number,
                "block_hash": self.block_hash, "differences": self.differences}
        if self.status == "unverifiable":
            data.update(reason=self.unverifiable, checked=self.checked)
        return data


def _differences(stored: Any, fresh: Any, path: str, out: list[str]) -> None:
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh)):
            where = f"{path}.{key}" if path else str(key)
            if key not in fresh:
                out.append(f"{where}: in the report, not on chain")
            elif key not in stored:
                out.append(f"{where}: on chain, missing from the report")
            else:
                _differences(stored[key], fresh[key], where, out)
    elif isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            out.append(f"{path}: {len(stored)} in the report, {len(fresh)} on chain")
        for n, (a, b) in enumerate(zip(stored, fresh, strict=False)):
            _differences(a, b, f"{path}[{n}]", out)
    elif stored != fresh:
        out.append(f"{path}: the report says {stored!r}, the chain {fresh!r}")


def recheck(data: dict[str, Any], chain_id: int, read_at: Callable[[int, int, int], DueDiligence],
            trail_at: Callable[[int, int], Trail] | None = None) -> Recheck:
    """Compare a report's data with ``read_at(asset_id, maturity, block)`` (the chain at its block).

    A node that keeps no state of that block (not an archive node; Anvil restarted from its saved
    state keeps only its head's) cannot say whether the report holds, and a report must never read
    as altered for that: it is then ``unverifiable`` (the CLI's exit 3, "ask an archive node"), after
    comparing with ``trail_at(asset_id, block)`` what needs no state: that the block is this chain's
    with the report's hash and time, and the asset's events up to it (from logs, which such a node
    usually still has). A difference there is an altered report all the same. We do not fall back to
    comparing the rest with the state at the head: the flags depend on the block's time and the
    maturity, and "nothing happened since" would have to be proven from logs a node may lack.
    """
    try:
        asset_id, maturity, block = int(data["asset_id"]), int(data["maturity"]), int(data["block_number"])
    except (TypeError, ValueError):
        raise ValidationError("the report's asset, maturity or block is not a number") from None
    result = Recheck(asset_id, block, data.get("block_hash"))
    if int(data.get("chain_id") or 0) != chain_id:
        result.differences.append(f"chain_id: the report was read on chain {data.get('chain_id')}, this is "
                                  f"chain {chain_id}")
        return result
    try:
        fresh = report_data(read_at(asset_id, maturity, block), chain_id)
    except HistoryUnavailableError as exc:
        if trail_at is None:
            raise
        return _recheck_without_state(data, result, trail_at, exc)
    _differences({k: v for k, v in data.items() if k not in _NOT_RECHECKED},
                 {k: v for k, v in fresh.items() if k not in _NOT_RECHECKED}, "", result.differences)
    return result


def _recheck_without_state(data: dict[str, Any], result: Recheck, trail_at: Callable[[int, int], Trail],
                           cause: HistoryUnavailableError) -> Recheck:
    block = result.block_number
    try:
        trail = trail_at(result.asset_id, block)
    except HistoryUnavailableError:  # no logs of that block either: nothing to compare but nothing wrong
        result.unverifiable = _no_state(block, cause)
        return result
    if trail.block_hash is None:  # the node's history goes back that far, the chain does not go forward as far
        if block > trail.head:
            result.differences.append(f"block_number: the report was read at block {block}, this chain's latest "
                                      f"block is {trail.head}")
        else:
            result.unverifiable = _no_state(block, cause)
        return result
    _differences({"block_hash": data.get("block_hash"), "block_time": data.get("block_time")},
                 {"block_hash": trail.block_hash, "block_time": trail.block_time}, "", result.differences)
    result.checked.append(f"block {block} is this chain's, with the report's hash and time")
    stored = data.get("history")
    fresh = [history_json(e) for e in trail.history]
    if fresh or not stored:
        _differences({"history": stored}, {"history": fresh}, "", result.differences)
        result.checked.append(f"the asset's {len(fresh)} events up to block {block} are the report's history")
    # else: no event of an asset the report shows events of: this node keeps no logs that far back either
    if not result.differences:
        result.unverifiable = _no_state(block, cause)
    return result


def _no_state(block: int, cause: HistoryUnavailableError) -> str:
    return (f"cannot re-check: this node keeps no state of block {block} (it prunes old state, or it was restarted "
            f"from a saved state, as the embedded chain is), so the owner, status, licences, pledge, freeze and "
            f"flags the report shows at that block cannot be read again here; re-check on an archive node "
            f"(IPLEDGER_RPC_URL of a node that keeps every block's state) [{cause}]")
