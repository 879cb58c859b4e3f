"""The market (供给清单 / 需求清单): the supply board (assets for sale, licence offers) beside the demand
board, searchable by kind and text (title, official number, field of use, territory), a page at a time;
and one demand with its answers.

Boards are read server-side from the market's views; acts (buy, post, answer, accept, withdraw) are
signed in the browser and relayed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from ledger.audit.queries import LicenseEntry
from ledger.context import Ledger
from ledger.encoding import AssetKind
from ledger.errors import LedgerError
from ledger.market.service import MAX_PAGE, Demand, LicenseListing, Listing
from ledger.registry.assets import AssetView

from ...deps import LedgerDep
from ..templating import render
from .manage import market_context

MAX_ID = 2**53 - 1
PAGE_SIZE = 10

router = APIRouter(include_in_schema=False)

T = TypeVar("T")


def everything(read: Callable[[int], tuple[list[T], int]]) -> list[T]:
    """Every item of a board, reading it ``MAX_PAGE`` items at a time."""
    items, count = read(0)
    while len(items) < count:
        more, _ = read(len(items))
        if not more:
            break
        items.extend(more)
    return items


@dataclass(frozen=True)
class Supply:
    """One row of the supply board: an asset for sale or a licence offer, with the asset it is about."""

    kind: str
    """``sale`` or ``licence``."""
    item: Listing | LicenseListing
    asset: AssetView | None

    @property
    def text(self) -> str:
        parts: list[Any] = [self.item.asset_id]
        if self.asset is not None:
            registration = self.asset.registration
            parts += [self.asset.title, registration.ref if registration else "",
                      (self.asset.metadata or {}).get("description"), (self.asset.metadata or {}).get("field")]
        if isinstance(self.item, LicenseListing):
            parts += [self.item.terms.field_of_use, self.item.terms.territory]
        return " ".join(str(p) for p in parts if p).lower()

    @property
    def asset_kind(self) -> str | None:
        return self.asset.asset.kind.label if self.asset is not None else None


def demand_text(demand: Demand) -> str:
    doc = demand.document or {}
    return " ".join(str(doc.get(k) or "") for k in ("title", "description", "field", "kind")).lower()


def _matches(text: str, kind: str | None, q: str, wanted: str) -> bool:
    return (not wanted or kind == wanted) and all(word in text for word in q.lower().split())


def _page(items: list[T], number: int) -> tuple[list[T], int]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    number = min(max(1, number), pages)
    return items[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], pages


def _views(ledger: Ledger, asset_ids: Iterable[int]) -> dict[int, AssetView]:
    ids = sorted(set(asset_ids))
    return {v.asset.asset_id: v for v in ledger.assets.views(ids)} if ids else {}


PageNumber = Annotated[int, Query(ge=1, le=MAX_ID)]
PENDING_OFFERS = 200
"""Licence offers awaiting acceptance the board carries (newest first); each licensee's script shows its own."""


def pending_licence_offers(ledger: Ledger) -> list[LicenseEntry]:
    """The newest licence offers not yet accepted, from the audit index (a block or two behind the chain)."""
    try:
        _, count = ledger.audit.licenses(status="offered", limit=1)
        entries, _ = ledger.audit.licenses(status="offered", offset=max(0, count - PENDING_OFFERS),
                                           limit=PENDING_OFFERS)
    except LedgerError:  # no index: the licensee still finds its offer on the asset's page
        return []
    return list(reversed(entries))


@router.get("/market", response_class=HTMLResponse)
def market(
    request: Request, ledger: LedgerDep,
    kind: Annotated[str, Query(max_length=40)] = "", q: Annotated[str, Query(max_length=200)] = "",
    sp: PageNumber = 1, dp: PageNumber = 1,
) -> HTMLResponse:
    board = ledger.market
    wanted = kind if kind in AssetKind.labels() else ""
    listings = everything(lambda offset: board.open_listings(offset=offset, limit=MAX_PAGE))
    licences = everything(lambda offset: board.open_license_listings(offset=offset, limit=MAX_PAGE))
    views = _views(ledger, [x.asset_id for x in listings] + [x.asset_id for x in licences])
    supply = [Supply("sale", x, views.get(x.asset_id)) for x in listings]
    supply += [Supply("licence", x, views.get(x.asset_id)) for x in licences]
    supply = [s for s in supply if _matches(s.text, s.asset_kind, q, wanted)]
    supply.sort(key=lambda s: s.item.listing_id, reverse=True)
    demands = everything(lambda offset: board.open_demands(offset=offset, limit=MAX_PAGE))
    demands = [d for d in demands if _matches(demand_text(d), (d.document or {}).get("kind"), q, wanted)]
    demands.sort(key=lambda d: d.demand_id, reverse=True)
    supply_page, supply_pages = _page(supply, sp)
    disputed = ledger.disputes.ownership_disputes([s.item.asset_id for s in supply_page if s.kind == "sale"])
    demand_page, demand_pages = _page(demands, dp)
    context = market_context(ledger)
    return render(request, "market.html", supply=supply_page, supply_count=len(supply), supply_pages=supply_pages,
                  disputed=disputed,
                  sp=min(sp, supply_pages), demands=demand_page, demand_count=len(demands), demand_pages=demand_pages,
                  dp=min(dp, demand_pages), kind=wanted, q=q, token=context["token"], faucet=context["faucet"],
                  pending=pending_licence_offers(ledger), page_data=context)


@router.get("/market/demands/{demand_id}", response_class=HTMLResponse)
def demand(request: Request, demand_id: Annotated[int, Path(ge=1, le=MAX_ID)], ledger: LedgerDep) -> HTMLResponse:
    board = ledger.market
    found = board.demand_of(demand_id)
    answers = everything(lambda offset: board.open_answers(demand_id, offset=offset, limit=MAX_PAGE))
    offers = [o for o in everything(lambda offset: board.open_offers(offset=offset, limit=MAX_PAGE))
              if o.buyer == found.poster]
    views = _views(ledger, [a.asset_id for a in answers] + [o.asset_id for o in offers])
    context = market_context(ledger)
    page_data = {**context, "demand": found.as_json()}
    return render(request, "market_demand.html", demand=found, answers=answers, offers=offers, views=views,
                  token=context["token"], faucet=context["faucet"], page_data=page_data)
