"""The co-owners' page of a co-owned asset: who co-owns it, and the acts that need every co-owner, each
described by its terms, consented to by each co-owner and performed by one, all signed in the browser
(``relay.js``): the server holds no key. Also the asset's sale on the Marketplace (listing, accepting an
escrowed offer), the non-exclusive licences a co-owner lists alone, and the proceeds: what the vault holds
until distributed, and what each co-owner may withdraw."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from ledger.context import Ledger
from ledger.registry.coowners import CoOwners

from ...deps import LedgerDep
from ..templating import render
from .manage import market_context

router = APIRouter(include_in_schema=False)

AssetId = Annotated[int, Path(ge=1, le=2**53 - 1)]


def proceeds(ledger: Ledger, co: CoOwners, settlement: str) -> list[dict[str, Any]]:
    """Per token the asset was sold or licensed for (the settlement token always): the vault's balance not yet
    distributed, and each co-owner's credit to withdraw (credits count every co-owned asset of the account)."""
    tokens = [settlement, *(t for t in ledger.coowners.proceeds_tokens(co.asset_id) if t.lower() != settlement.lower())]
    rows = []
    for address in tokens:
        token = ledger.market.token(address).as_json()
        credits = [{"address": a, "amount": ledger.coowners.credit_of(address, a)} for a, _ in co.shares]
        rows.append({"token": token, "held": ledger.market.balance_of(co.vault, address), "credits": credits})
    return rows


@router.get("/assets/{asset_id}/co-owners", response_class=HTMLResponse)
def co_owners(request: Request, asset_id: AssetId, ledger: LedgerDep) -> HTMLResponse:
    view = ledger.assets.show(asset_id)
    co = ledger.coowners.maybe_co_owners_of(asset_id)
    context = market_context(ledger)
    token = context["token"]
    market = ledger.market
    listing = market.listing_of_asset(asset_id) if co else None
    offers = market.open_offers(asset_id=asset_id, limit=100)[0] if co else []
    licence_listings = market.open_license_listings(asset_id=asset_id, limit=100)[0] if co else []
    return render(request, "coowners.html", view=view, asset_id=asset_id, co=co.as_json() if co else None,
                  listing=listing, offers=offers, licence_listings=licence_listings, token=token,
                  proceeds=proceeds(ledger, co, token["address"]) if co else [],
                  page_data={**context, "asset_id": asset_id, "co_owners": [a for a, _ in co.shares] if co else []})
