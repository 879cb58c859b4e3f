"""Assets for anyone, no key: find one by id or official number, and its public page.

The page shows the asset now (owner, kind, legal status, verification, dates, freeze, licences,
pledge), read by one ``eth_call`` of the IPLens, with its registration and its history (a
timeline) from the audit index.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.audit.queries import HistoryRow
from ledger.chain.abi import LogEvent
from ledger.errors import NotFoundError, ValidationError
from ledger.registry.assets import Registration
from ledger.registry.check import readable

from ...deps import LedgerDep
from ..templating import render

router = APIRouter(include_in_schema=False)

MAX_ID = 2**53 - 1
"""The largest asset id the pages and the API accept (a JavaScript-safe integer)."""
HEAD_MAX_AGE = 0.05
"""Seconds the asset page may trust its last look at the chain head (as the bank check's API does)."""
TIMELINE = 200
"""Most history events the page lists (the rest are a link to the audit history)."""
RECENT = 10


def _event(row: HistoryRow) -> dict[str, Any]:
    """An indexed event for a page: its arguments readable (codes as text, enum numbers as names)."""
    return {**row.as_json(), "args": readable(row.contract, row.args)}


def _asset_id(text: str) -> int | None:
    """The asset id ``text`` names, or None when it is not one (digits only, 1 to MAX_ID)."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 16:
        return None
    number = int(cleaned)
    return number if 1 <= number <= MAX_ID else None


@router.get("/assets", response_class=HTMLResponse)
def assets(
    request: Request, ledger: LedgerDep, q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Find an asset by id or official number (a hit goes to its page), and the latest registered."""
    recent = [_event(row) for row in ledger.audit.latest("IPRegistry.AssetRegistered", limit=RECENT)]
    query = (q or "").strip()
    if not query:
        return render(request, "assets.html", recent=recent, sought="")
    number = _asset_id(query)
    if number is None:
        try:
            number = ledger.assets.asset_id_of_ref(query)
        except NotFoundError:
            number = 0
        except ValidationError:  # not an id, and not an official number the registry could hold
            return render(request, "assets.html", 400, recent=recent, sought=query, malformed=True)
    if not 1 <= number <= ledger.assets.asset_count():
        return render(request, "assets.html", 404, recent=recent, sought=query, missing=True)
    return RedirectResponse(f"/assets/{number}", status_code=303)


@router.get("/assets/{asset_id}", response_class=HTMLResponse)
def asset(request: Request, asset_id: str, ledger: LedgerDep) -> Response:
    """The asset's public page; a malformed id is a 400 page, an id nobody registered a 404 page.

    The state is one ``eth_call`` of the lens; the registration and the history come from the audit
    index (no log query on the chain, whose cost grows with the chain), or, while the index has not
    caught up with a new asset, the registration from the chain's logs."""
    number = _asset_id(asset_id)
    if number is None:
        return render(request, "assets_missing.html", 400, asset_id=asset_id, malformed=True)
    try:
        now = ledger.check.current(number)
    except NotFoundError:
        return render(request, "assets_missing.html", 404, asset_id=asset_id, malformed=False)
    page = ledger.audit.history(asset_id=number, limit=TIMELINE)
    registered = next((row for row in page.rows if row.event == "AssetRegistered"), None)
    if registered is not None:
        registration: Registration | None = Registration.from_event(LogEvent(
            registered.contract, registered.event, registered.args, registered.tx_hash, registered.block_number,
            registered.block_hash, registered.log_index, registered.block_time))
        document = ledger.metadata.find(registration.metadata_hash) if registration else None
        title = document.get("title") if document else None
    else:
        report = ledger.check.due_diligence(number, 0, max_age=HEAD_MAX_AGE)
        registration, title = report.registration, report.title
    fees = [lic.fee for lic in (*now.licenses, *now.offers) if lic.fee]
    token = ledger.market.token() if fees else None
    return render(request, "assets_page.html", report=now.as_json(), title=title if isinstance(title, str) else None,
                  registration=registration.as_json() if registration else None,
                  timeline=[_event(r) for r in page.rows], more=page.next is not None, token=token,
                  co_owners=ledger.coowners.held_json(number))
