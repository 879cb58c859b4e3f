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
from ledger.errors import ValidationError
from ledger.registry.check import DueDiligence

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
    """A report compared with the chain read again at the report's block."""

    asset_id: int
    block_number: int
    block_hash: str | None
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "asset_id": self.asset_id, "block_number": self.block_number,
                "block_hash": self.block_hash, "differences": self.differences}


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


def recheck(data: dict[str, Any], chain_id: int,
            read_at: Callable[[int, int, int], DueDiligence]) -> Recheck:
    """Compare a report's data with ``read_at(asset_id, maturity, block)`` (the chain at its block)."""
    try:
        asset_id, maturity, block = int(data["asset_id"]), int(data["maturity"]), int(data["block_number"])
    except (TypeError, ValueError):
        raise ValidationError("the report's asset, maturity or block is not a number") from None
    result = Recheck(asset_id, block, data.get("block_hash"))
    if int(data.get("chain_id") or 0) != chain_id:
        result.differences.append(f"chain_id: the report was read on chain {data.get('chain_id')}, this is "
                                  f"chain {chain_id}")
        return result
    fresh = report_data(read_at(asset_id, maturity, block), chain_id)
    _differences({k: v for k, v in data.items() if k not in _NOT_RECHECKED},
                 {k: v for k, v in fresh.items() if k not in _NOT_RECHECKED}, "", result.differences)
    return result
