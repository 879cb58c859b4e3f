"""The bank's pages: find an asset for a loan (``/bank``) and its check (``/assets/{id}/check``).

The check page is ``ipledger check`` and ``GET /api/v1/assets/{id}/check`` on one screen: the same
report (``ledger.check.due_diligence``), red flags first, then the pledge proposals waiting for a
bank, the facts, the active pledge, licences, the freeze and the asset's history from the audit
index. A bank accepts, releases or enforces in the browser (``bank.js``, signed there and relayed).
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.audit.store import Cursor
from ledger.context import Ledger
from ledger.encoding import PledgeStatus
from ledger.errors import NotFoundError, ValidationError
from ledger.registry.check import DueDiligence, readable
from ledger.registry.pledges import Pledge

from ...deps import LedgerDep
from ...routers.assets import CHECK_HEAD_MAX_AGE
from ..templating import render

router = APIRouter(include_in_schema=False)

MAX_ID = 2**53 - 1
HISTORY_ROWS = 200
"""Most events of the asset's history the check page lists (the audit page pages through the rest)."""

AssetId = Annotated[int, Path(ge=1, le=MAX_ID)]
Maturity = Annotated[date | None, Query()]


def _seconds(maturity: date | None) -> int:
    return max(1, calendar.timegm(maturity.timetuple())) if maturity else 0


@router.get("/bank", response_class=HTMLResponse, response_model=None)
def bank(request: Request, ledger: LedgerDep, asset: str | None = None, maturity: Maturity = None) -> Response:
    """The form: an asset id or official number and the loan's maturity; answered with the check page."""
    wanted = (asset or "").strip()
    if not wanted:
        return render(request, "bank.html", asset=asset or "", maturity=maturity, problem=None)
    problem = None
    asset_id = 0
    if wanted.isdigit():
        asset_id = int(wanted)
        if not 1 <= asset_id <= ledger.assets.asset_count():
            problem = "unknown"
    else:
        try:
            asset_id = ledger.assets.asset_id_of_ref(wanted)
        except (NotFoundError, ValidationError):  # a form answer, in the page's language, not an error page
            problem = "unknown"
    if problem:
        return render(request, "bank.html", status_code=404, asset=wanted, maturity=maturity, problem=problem)
    query = f"?{urlencode({'maturity': maturity.isoformat()})}" if maturity else ""
    return RedirectResponse(f"/assets/{asset_id}/check{query}", status_code=303)


def proposals(ledger: Ledger, report: DueDiligence) -> list[Pledge]:
    """The asset's pledges still proposed: those its history proposes, as the chain holds them now."""
    ids = [int(e.args["pledgeId"]) for e in report.history if e.event == "PledgeProposed" and "pledgeId" in e.args]
    ended = {int(e.args["pledgeId"]) for e in report.history
             if e.event in ("PledgeAccepted", "PledgeCancelled", "PledgeReleased", "PledgeEnforced")
             and "pledgeId" in e.args}
    found = [ledger.pledges.pledge_of(i) for i in ids if i not in ended]
    return [p for p in found if p.status == PledgeStatus.PROPOSED]


def history_rows(ledger: Ledger, asset_id: int) -> tuple[list[dict[str, Any]], int, int | None]:
    """The asset's indexed events (at most HISTORY_ROWS), how many there are, and the indexed head."""
    page = ledger.audit.history(asset_id=asset_id, limit=HISTORY_ROWS)
    count = ledger.audit.count(asset_id=asset_id)
    rows = [{**row.as_json(), "args": readable(row.contract, row.args)} for row in page.rows]
    return rows, count, _indexed_to(ledger)


def _indexed_to(ledger: Ledger) -> int | None:
    with ledger.audit.store.session() as session:
        cursor = session.get(Cursor, ledger.audit.chain_id)
        return int(cursor.block_number) if cursor else None


@router.get("/assets/{asset_id}/check", response_class=HTMLResponse)
def check(request: Request, asset_id: AssetId, ledger: LedgerDep, maturity: Maturity = None) -> HTMLResponse:
    """The bank check of one asset for a loan maturing at ``maturity``."""
    report = ledger.check.due_diligence(asset_id, _seconds(maturity), max_age=CHECK_HEAD_MAX_AGE)
    rows, count, indexed_to = history_rows(ledger, asset_id)
    return render(
        request, "bank_check.html", report=report, a=report.asset, data=report.as_json(), maturity=maturity,
        proposals=[p.as_json() for p in proposals(ledger, report)], history=rows, history_count=count,
        history_limit=HISTORY_ROWS, indexed_to=indexed_to,
    )
