"""The IP service centre's pages: the dashboard (``/audit``), the history (``/audit/history``) and the
registrar's acts (``/audit/acts``, ``/audit/assets/{id}``).

The dashboard's totals are ``ledger.audit.totals()``, the numbers ``ipledger audit totals`` and
``GET /api/v1/audit/totals`` print; its charts are the same events counted per day. The history is
``ledger.audit.history`` with the page's filters, exported by the API's CSV/JSON routes with the
same filters. The registrar's acts are signed in the browser (``audit-acts.js``) and relayed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import distinct, select

from ledger.audit.queries import SALE_EVENTS, HistoryQuery, HistoryRow
from ledger.audit.store import EventRecord
from ledger.context import Ledger
from ledger.encoding import AssetKind
from ledger.errors import LedgerError, NotFoundError, ValidationError
from ledger.registry.check import readable

from ...deps import LedgerDep
from ..templating import render

router = APIRouter(include_in_schema=False)

MAX_ID = 2**53 - 1
PAGE_ROWS = 50
PAGE_SIZES = (20, 50, 100, 200)
"""Rows per page the history offers (``per``); others are rounded to the nearest allowed."""
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
EVENT = re.compile(r"^([A-Za-z][A-Za-z0-9]{0,63}\.)?[A-Za-z][A-Za-z0-9]{0,63}$")
TOKEN = re.compile(r"^[0-9]{1,15}:[0-9]{1,9}$")
FILTERS = ("asset", "account", "event", "since", "until")
"""The history page's filters, named as ``GET /api/v1/audit/history`` names them (the export links reuse them)."""


def _day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


def series(ledger: Ledger) -> dict[str, Any]:
    """Counts per day (UTC, by block time) for the dashboard's charts: registrations by kind, licences and
    pledges accepted, sales; and sales volume per day by token."""
    audit = ledger.audit
    registrations: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    kinds = AssetKind.labels()
    for row in audit.events_named("AssetRegistered"):
        kind = row.args.get("kind")
        label = kinds[kind] if isinstance(kind, int) and 0 <= kind < len(kinds) else str(kind)
        registrations[label][_day(row.block_time)] += 1
    acts: dict[str, dict[str, int]] = {"licences": defaultdict(int), "pledges": defaultdict(int),
                                       "sales": defaultdict(int)}
    for row in audit.events_named("LicenseAccepted", "PledgeAccepted", *SALE_EVENTS):
        name = ("licences" if row.event == "LicenseAccepted" else "pledges" if row.event == "PledgeAccepted"
                else "sales")
        acts[name][_day(row.block_time)] += 1
    days = sorted({d for counts in [*registrations.values(), *acts.values()] for d in counts})
    return {
        "days": days,
        "registrations": {kind: [counts.get(d, 0) for d in days] for kind, counts in sorted(registrations.items())},
        "acts": {name: [counts.get(d, 0) for d in days] for name, counts in acts.items()},
    }


def _tokens(ledger: Ledger, addresses: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Symbol and decimals of each token that volumes are counted in (raw units when one cannot be read)."""
    out: dict[str, dict[str, Any]] = {}
    for address in addresses:
        try:
            token = ledger.market.token(address)
            out[address] = {"symbol": token.symbol, "decimals": token.decimals}
        except LedgerError:  # not a token (e.g. an offer whose token is not indexed): shown as units
            out[address] = {"symbol": "", "decimals": 0}
    return out


@router.get("/audit", response_class=HTMLResponse)
def dashboard(request: Request, ledger: LedgerDep) -> HTMLResponse:
    """Totals (the same as ``ipledger audit totals``) and charts over time."""
    totals = ledger.audit.totals().as_json()
    registry = totals["registry"]
    sales = registry.get("sales", {})
    tokens = _tokens(ledger, {*registry.get("sales_volume", {}), *sales.get("assets", {}).get("volume", {}),
                              *sales.get("licenses", {}).get("volume", {})})
    return render(request, "audit.html", totals=totals, registry=registry, tokens=tokens, series=series(ledger))


def _problems(values: dict[str, str]) -> dict[str, str]:
    """Each filter the page cannot use -> which rule it breaks (a code the template words)."""
    problems = {}
    if values["asset"] and not (values["asset"].isdigit() and 1 <= int(values["asset"]) <= MAX_ID):
        problems["asset"] = "asset"
    if values["account"] and not ADDRESS.match(values["account"]):
        problems["account"] = "account"
    if values["event"] and not EVENT.match(values["event"]):
        problems["event"] = "event"
    for name in ("since", "until"):
        if values[name]:
            try:
                date.fromisoformat(values[name])
            except ValueError:
                problems[name] = "date"
    if not problems and values["since"] and values["until"] and values["since"] > values["until"]:
        problems["until"] = "order"
    return problems


def api_filters(values: dict[str, str]) -> dict[str, str]:
    """The page's filters as the API's export routes take them: ``until`` a whole day (to 23:59:59 UTC)."""
    out = {k: values[k] for k in FILTERS if values[k]}
    if "until" in out:
        out["until"] = f"{out['until']}T23:59:59Z"
    return out


def _query(values: dict[str, str]) -> HistoryQuery:
    def seconds(text: str, end: bool) -> int | None:
        if not text:
            return None
        start = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        return int(start.timestamp()) + (86_399 if end else 0)

    return HistoryQuery(asset_id=int(values["asset"]) if values["asset"] else None,
                        account=values["account"] or None, event=values["event"] or None,
                        since=seconds(values["since"], False), until=seconds(values["until"], True))


def _row(row: HistoryRow) -> dict[str, Any]:
    return {**row.as_json(), "args": readable(row.contract, row.args)}


@router.get("/audit/history", response_class=HTMLResponse)
def history(request: Request, ledger: LedgerDep, asset: str = "", account: str = "", event: str = "",
            since: str = "", until: str = "", after: str = "", start: int = 0, per: int = PAGE_ROWS) -> HTMLResponse:
    """Indexed events with filters, a page at a time (keyset: ``after`` is the previous page's last row),
    and links exporting every filtered row as CSV or JSON."""
    values = {"asset": asset.strip(), "account": account.strip(), "event": event.strip(), "since": since.strip(),
              "until": until.strip()}
    problems = _problems(values)
    per = min(max(per, 1), PAGE_SIZES[-1])
    kept = {**{k: values[k] for k in FILTERS if values[k]}, **({"per": per} if per != PAGE_ROWS else {})}
    events = _event_names(ledger)
    rows: list[dict[str, Any]] = []
    count = 0
    next_link = None
    filters = api_filters(values)
    if not problems:
        query = _query(values)
        page = ledger.audit.history(query, limit=per, after=after if TOKEN.match(after) else None)
        rows = [_row(r) for r in page.rows]
        count = ledger.audit.count(query)
        if page.next:
            next_link = "/audit/history?" + urlencode({**kept, "after": page.next, "start": max(0, start) + len(rows)})
    first_link = "/audit/history?" + urlencode(kept)
    exports = urlencode(filters)
    return render(request, "audit_history.html", status_code=400 if problems else 200, values=values,
                  problems=problems, events=events, rows=rows, per=per, page_sizes=PAGE_SIZES, count=count,
                  start=max(0, start),
                  next_link=next_link, first_link=first_link, paged=bool(after),
                  csv_link=f"/api/v1/audit/history.csv{'?' + exports if exports else ''}",
                  json_link=f"/api/v1/audit/history.json{'?' + exports if exports else ''}")


def _event_names(ledger: Ledger) -> list[str]:
    """Event kinds the index holds (for the filter's choices)."""
    with ledger.audit.store.session() as session:
        names = session.scalars(select(distinct(EventRecord.event)).where(
            EventRecord.chain_id == ledger.audit.chain_id)).all()
    return sorted(str(n) for n in names)


@router.get("/audit/acts", response_class=HTMLResponse, response_model=None)
def acts(request: Request, ledger: LedgerDep, asset: str = "") -> Response:
    """Choose the asset the registrar acts on (its id or official number)."""
    wanted = asset.strip()
    if not wanted:
        return render(request, "audit_acts.html", asset="", problem=False)
    asset_id = 0
    try:
        asset_id = ledger.assets.resolve(wanted)
    except (NotFoundError, ValidationError):  # a form answer, in the page's language, not an error page
        pass
    if not 1 <= asset_id <= ledger.assets.asset_count():
        return render(request, "audit_acts.html", status_code=404, asset=wanted, problem=True)
    return RedirectResponse(f"/audit/assets/{asset_id}", status_code=303)


@router.get("/audit/assets/{asset_id}", response_class=HTMLResponse)
def asset_acts(request: Request, asset_id: Annotated[int, Path(ge=1, le=MAX_ID)], ledger: LedgerDep) -> HTMLResponse:
    """One asset as the registrar sees it, with a form per act: verification, legal status, dates, freeze."""
    view = ledger.assets.show(asset_id)
    a = view.asset
    return render(request, "audit_asset.html", view=view, a=a, today=date.today().isoformat(),
                  expires_iso=_day(a.expires_at) if a.expires_at else "",
                  fees_iso=_day(a.fees_paid_until) if a.fees_paid_until else "")
