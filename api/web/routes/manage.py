"""The owner's page of an asset: offer a licence, propose a pledge, list it for sale or offer licences on
the LicenseMarket, and see its licences, pledges, listing and offers as the chain has them now.

The page is read server-side for anyone; the forms act only for the asset's owner (the active key in
the browser), and every act is signed in the browser (``relay.js``): the server holds no key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from ledger.context import Ledger
from ledger.errors import LedgerError
from ledger.registry.pledges import Pledge

from ...deps import LedgerDep
from ..templating import render

MAX_ID = 2**53 - 1
MAX_LICENCES = 500
"""Licences the page lists (the newest, when an asset has more)."""
RECENT_PLEDGES = 50
"""Pledge ids read straight from the chain besides the index (which may be a block or two behind)."""

router = APIRouter(include_in_schema=False)

AssetId = Annotated[int, Path(ge=1, le=MAX_ID)]


def pledges_of(ledger: Ledger, asset_id: int) -> list[Pledge]:
    """The asset's pledges, newest first, each as the chain has it now: those the audit index knows,
    plus the latest few pledge ids read from the chain (a proposal made a moment ago)."""
    ids: set[int] = set()
    try:
        entries, _ = ledger.audit.pledges(asset_id=asset_id, limit=100)
        ids.update(entry.pledge_id for entry in entries)
    except LedgerError:  # no index (yet): the chain's latest pledges still show
        pass
    count = ledger.pledges.pledge_count()
    recent = list(range(max(1, count - RECENT_PLEDGES + 1), count + 1))
    contract = ledger.pledges.contract
    raws = ledger.client.batch_call([contract.functions.pledgeOf(i) for i in recent]) if recent else []
    found = {i: Pledge.from_tuple(i, raw) for i, raw in zip(recent, raws, strict=True) if int(raw[0]) == asset_id}
    for pledge_id in ids - found.keys():
        found[pledge_id] = ledger.pledges.pledge_of(pledge_id)
    return [found[i] for i in sorted(found, reverse=True)]


def market_context(ledger: Ledger) -> dict[str, Any]:
    """What every market script needs: the token, whether its faucet mints, the market contracts' addresses."""
    market = ledger.market
    token = market.token()
    return {
        "token": token.as_json(), "faucet": market.faucet_enabled(),
        "contracts": {name: ledger.deployment.address(name)
                      for name in ("Marketplace", "LicenseMarket", "SettlementToken", "IPRegistry")},
    }


@router.get("/assets/{asset_id}/manage", response_class=HTMLResponse)
def manage(request: Request, asset_id: AssetId, ledger: LedgerDep) -> HTMLResponse:
    view = ledger.assets.show(asset_id)
    licenses, count = ledger.licenses.licenses_of(asset_id, limit=MAX_LICENCES)
    if count > MAX_LICENCES:  # the newest ones
        licenses, _ = ledger.licenses.licenses_of(asset_id, offset=count - MAX_LICENCES, limit=MAX_LICENCES)
    market = ledger.market
    listing = market.listing_of_asset(asset_id)
    license_listings, _ = market.open_license_listings(asset_id=asset_id, limit=500)
    offers, _ = market.open_offers(asset_id=asset_id, limit=500)
    context = market_context(ledger)
    page_data = {**context, "asset_id": asset_id, "owner": view.asset.owner}
    return render(request, "manage.html", view=view, asset=view.asset.as_json(), licenses=list(reversed(licenses)),
                  pledges=pledges_of(ledger, asset_id), listing=listing, license_listings=license_listings,
                  offers=offers, token=context["token"], faucet=context["faucet"], page_data=page_data,
                  co_owners=ledger.coowners.held_json(asset_id))
