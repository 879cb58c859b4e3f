"""The service centre's audit report for a period: totals, a chart, the pledges and licence recordals
of the period, and the index's consistency check against the chain.

Built from the index (``ledger.audit``); the consistency check re-reads the chain's logs of the
period's blocks (:meth:`AuditService.verify`). The chart is SVG drawn here (a PDF runs no script).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from ledger.audit.queries import (
    AuditService,
    HistoryQuery,
    HistoryRow,
    VerifyReport,
    iso_time,
    license_entries,
    parse_time,
    pledge_entries,
)
from ledger.documents.i18n import locale_of, render_html
from ledger.documents.pdf import Attached, html_to_pdf
from ledger.encoding import decode_ascii32
from ledger.errors import NotFoundError, ValidationError

ATTACHMENT = "audit-report.json"
FORMATS = ("pdf", "html")
DAY = 86_400
COUNTED = {
    "registrations": ("AssetRegistered",),
    "licences_offered": ("LicenseOffered",),
    "licences_accepted": ("LicenseAccepted",),
    "licences_recorded": ("LicenseRecorded",),
    "licences_terminated": ("LicenseTerminated",),
    "pledges_proposed": ("PledgeProposed",),
    "pledges_accepted": ("PledgeAccepted",),
    "pledges_released": ("PledgeReleased",),
    "pledges_enforced": ("PledgeEnforced",),
    "freezes": ("AssetFrozen",),
    "stamps": ("Stamped", "BatchStamped"),
    "sales": ("AssetSold", "OfferAccepted", "LicenseSold"),
}
"""The report's totals: what each counts."""


@dataclass
class AuditReport:
    chain_id: int
    since: int
    until: int
    events: int
    first_block: int
    last_block: int
    last_time: int
    totals: dict[str, int]
    by_event: list[dict[str, Any]]
    by_day: list[tuple[str, int]]
    pledges: list[dict[str, Any]]
    recordals: list[dict[str, Any]]
    consistency: dict[str, Any] | None = None
    indexed_to: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id, "since": self.since, "until": self.until, "from": iso_time(self.since),
            "to": iso_time(self.until), "events": self.events, "first_block": self.first_block,
            "last_block": self.last_block, "totals": self.totals, "by_event": self.by_event,
            "by_day": [{"day": d, "events": n} for d, n in self.by_day], "pledges": self.pledges,
            "recordals": self.recordals, "consistency": self.consistency, "indexed_to": self.indexed_to,
        }


def parse_period(since: str, until: str) -> tuple[int, int]:
    """``--from`` and ``--to`` as Unix seconds; a bare date as ``--to`` means all of that day."""
    start, end = parse_time(since), parse_time(until)
    if len(until.strip()) == 10 and until.strip()[4] == "-":  # 2026-05-31: up to its last second
        end += DAY - 1
    return start, end


def build_audit_report(audit: AuditService, since: int, until: int,
                       verify: Callable[[int, int], VerifyReport] | None = None) -> AuditReport:
    """The report of ``since`` .. ``until`` (Unix seconds, inclusive); ``verify(first, last)`` checks the
    index against the chain over the period's blocks. A period without events is :class:`NotFoundError`."""
    if until < since:
        raise ValidationError(f"the period ends ({iso_time(until)}) before it starts ({iso_time(since)})")
    rows: list[HistoryRow] = list(audit.iter_history(HistoryQuery(since=since, until=until)))
    if not rows:
        raise NotFoundError(f"no events between {iso_time(since)} and {iso_time(until)} on chain "
                            f"{audit.chain_id}: nothing to report (is the indexer running?)")
    names = Counter(row.event for row in rows)
    totals = {key: sum(names[n] for n in events) for key, events in COUNTED.items()}
    by_contract = Counter((row.contract, row.event) for row in rows)
    by_event = [{"contract": c, "event": e, "count": n}
                for (c, e), n in sorted(by_contract.items(), key=lambda kv: (-kv[1], kv[0]))]
    days: dict[str, int] = defaultdict(int)
    for row in rows:
        days[dt.datetime.fromtimestamp(row.block_time, dt.UTC).strftime("%Y-%m-%d")] += 1
    by_day = _every_day(since, until, days)
    touched = {(row.address.lower(), row.args.get("pledgeId")) for row in rows if row.event.startswith("Pledge")}
    pledges = [p.as_json() for p in pledge_entries(audit) if (p.registry.lower(), p.pledge_id) in touched]
    licensees: dict[tuple[str, Any], Any] = {(lic.registry.lower(), lic.license_id): lic
                                             for lic in license_entries(audit)}
    recordals = []
    for row in rows:
        if row.event != "LicenseRecorded":
            continue
        lic = licensees.get((row.address.lower(), row.args.get("licenseId")))
        recordals.append({
            "license_id": row.args.get("licenseId"), "asset_id": lic.asset_id if lic else row.asset_id,
            "recordal_no": _text32(row.args.get("recordalNo")), "licensee": lic.licensee if lic else None,
            "kind": lic.kind if lic else None, "block_number": row.block_number, "block_time": row.block_time,
            "tx_hash": row.tx_hash,
        })
    report = AuditReport(
        chain_id=audit.chain_id, since=since, until=until, events=len(rows), first_block=rows[0].block_number,
        last_block=rows[-1].block_number, last_time=rows[-1].block_time, totals=totals, by_event=by_event,
        by_day=by_day, pledges=pledges, recordals=recordals, indexed_to=audit.totals().indexed_to,
    )
    if verify is not None:
        checked = verify(report.first_block, report.last_block).as_json()
        report.consistency = {k: checked[k] for k in ("ok", "from_block", "to_block", "events_on_chain",
                                                      "events_in_db", "ranges", "blocks_checked",
                                                      "block_mismatches", "indexed_to", "head")}
        report.consistency["differences"] = len(checked["differences"])
    return report


def _text32(value: Any) -> str:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return decode_ascii32(value)
        except ValueError:
            return value
    return "" if value is None else str(value)


def _every_day(since: int, until: int, days: dict[str, int], most: int = 62) -> list[tuple[str, int]]:
    """Every day of the period with its count (zeros too); a longer period: the days with events."""
    first = dt.datetime.fromtimestamp(since, dt.UTC).date()
    last = dt.datetime.fromtimestamp(until, dt.UTC).date()
    if (last - first).days >= most:
        return sorted(days.items())
    return [((first + dt.timedelta(days=n)).isoformat(), days.get((first + dt.timedelta(days=n)).isoformat(), 0))
            for n in range((last - first).days + 1)]


def chart_svg(by_day: list[tuple[str, int]], title: str, width: int = 640, height: int = 220) -> str:
    """A bar chart of events per day, as an SVG document."""
    left, bottom, top = 40, 40, 24
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max((n for _, n in by_day), default=0) or 1
    step = plot_w / max(len(by_day), 1)
    bar = max(step * 0.7, 1.0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, Noto Sans, sans-serif" font-size="10">',
             f'<text x="{left}" y="14" font-size="11" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
             f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']
    label_every = max(1, len(by_day) // 10)
    for n, (day, count) in enumerate(by_day):
        h = plot_h * count / peak
        x = left + n * step + (step - bar) / 2
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                     f'fill="#2a5d8f"><title>{day}: {count}</title></rect>')
        if n % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{day[5:]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def totals_svg(items: list[tuple[str, int]], title: str, width: int = 640) -> str:
    """Horizontal bars, one per total (label and count), as an SVG document."""
    row, left, top = 18, 170, 24
    height = top + row * len(items) + 8
    peak = max((n for _, n in items), default=0) or 1
    span = width - left - 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, Noto Sans, sans-serif" font-size="10">',
             f'<text x="0" y="14" font-size="11" font-weight="bold">{escape(title)}</text>']
    for n, (label, count) in enumerate(items):
        y = top + n * row
        w = span * count / peak
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" fill="#2a5d8f"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 12}">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


TOTAL_LABELS = {
    "registrations": "Assets registered", "licences_offered": "Licences offered",
    "licences_accepted": "Licences accepted", "licences_recorded": "Licence recordals",
    "licences_terminated": "Licences terminated", "pledges_proposed": "Pledges proposed",
    "pledges_accepted": "Pledges accepted", "pledges_released": "Pledges released",
    "pledges_enforced": "Pledges enforced", "freezes": "Court freezes", "stamps": "Timestamps", "sales": "Sales",
}
"""The totals' names (message ids of the documents' catalog)."""


def render_audit_report(report: AuditReport, *, fmt: str = "pdf", lang: str = "zh",
                        zone: str = "Asia/Shanghai") -> bytes:
    """The report as a ``pdf`` or ``html`` document in ``lang``."""
    if fmt not in FORMATS:
        raise ValidationError(f"the format is pdf or html, not {fmt!r}")
    locale = locale_of(lang)
    from ledger.documents.i18n import translations

    words = translations(locale).gettext
    chart = _svg_uri(chart_svg(report.by_day, words("Events per day (UTC)")))
    bars = _svg_uri(totals_svg([(words(TOTAL_LABELS[key]), report.totals[key]) for key in TOTAL_LABELS],
                               words("Totals")))
    html = render_html("audit_report.html", locale, zone, a=report.as_json(), chart=chart, bars=bars,
                       totals={key: words(label) for key, label in TOTAL_LABELS.items()})
    if fmt == "html":
        return html.encode()
    body = json.dumps(report.as_json(), indent=1, sort_keys=True, ensure_ascii=False).encode()
    moment = dt.datetime.fromtimestamp(report.last_time, dt.UTC)
    return html_to_pdf(html, moment=moment, attachments=[Attached(ATTACHMENT, body, "ipledger audit report (JSON)")])
