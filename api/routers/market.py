"""The market's boards: open listings, offers, license listings and demands, each item by id, the token.

Reads only; the acts (list, buy, offer, accept, buy a license, post or answer a demand) are
user-signed requests relayed by ``POST /relay`` (``ledger.client.api.ApiClient`` builds them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.schemas.common import ADDRESS, ADDRESS_RULE, PROBLEMS, Checksummed
from api.schemas.market import (
    AnswerPublic,
    AnswersPublic,
    BalancePublic,
    DemandPublic,
    DemandsPublic,
    LicenseListingPublic,
    LicenseListingsPublic,
    ListingPublic,
    ListingsPublic,
    OfferPublic,
    OffersPublic,
    TokenPublic,
)

from ..deps import LedgerDep

MAX_ID = 2**53 - 1

router = APIRouter(prefix="/market", tags=["market"], responses=PROBLEMS)

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]
AssetFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only those of this asset.")]


def _id(what: str) -> object:
    return Path(ge=1, le=MAX_ID, description=f"The {what} id.", examples=[1])


ListingId = Annotated[int, _id("listing")]
OfferId = Annotated[int, _id("offer")]
DemandId = Annotated[int, _id("demand")]
AnswerId = Annotated[int, _id("answer")]


@router.get("/token", response_model=TokenPublic)
def token(ledger: LedgerDep) -> TokenPublic:
    """The settlement token (amounts are integers of its units), whether its faucet mints, and the fee."""
    market = ledger.market
    treasury, fee_bps = market.fee()
    return TokenPublic(**market.token().as_json(), faucet_enabled=market.faucet_enabled(), fee_bps=fee_bps,
                       treasury=treasury)


@router.get("/balances/{address}", response_model=BalancePublic)
def balance(
    ledger: LedgerDep,
    address: Annotated[str, Path(pattern=ADDRESS, examples=["0x976EA74026E726554dB657fA54763abd0C3a0aa9"],
                                 description=ADDRESS_RULE),
                       Checksummed],
) -> BalancePublic:
    """An account's balance of the settlement token."""
    market = ledger.market
    info = market.token()
    units = market.balance_of(address)
    return BalancePublic(address=address, token=info.address, balance=units, balance_text=info.format(units))


@router.get("/listings", response_model=ListingsPublic)
def listings(ledger: LedgerDep, limit: Limit = 50, offset: Offset = 0, asset_id: AssetFilter = None) -> ListingsPublic:
    """The listings open now (the supply list), oldest first, a page at a time."""
    page, count = ledger.market.open_listings(offset=offset, limit=limit, asset_id=asset_id)
    return ListingsPublic(data=[ListingPublic.model_validate(x.as_json()) for x in page], count=count)


@router.get("/listings/{listing_id}", response_model=ListingPublic)
def listing(listing_id: ListingId, ledger: LedgerDep) -> ListingPublic:
    """One listing, whatever its status now: read its ``price`` and ``nonce`` before buying."""
    return ListingPublic.model_validate(ledger.market.listing_of(listing_id).as_json())


@router.get("/offers", response_model=OffersPublic)
def offers(ledger: LedgerDep, limit: Limit = 50, offset: Offset = 0, asset_id: AssetFilter = None) -> OffersPublic:
    """The offers open now (acceptable by their sellers), oldest first."""
    page, count = ledger.market.open_offers(offset=offset, limit=limit, asset_id=asset_id)
    return OffersPublic(data=[OfferPublic.model_validate(x.as_json()) for x in page], count=count)


@router.get("/offers/{offer_id}", response_model=OfferPublic)
def offer(offer_id: OfferId, ledger: LedgerDep) -> OfferPublic:
    """One offer, whatever its status now."""
    return OfferPublic.model_validate(ledger.market.offer_of(offer_id).as_json())


@router.get("/license-offers", response_model=LicenseListingsPublic)
def license_offers(ledger: LedgerDep, limit: Limit = 50, offset: Offset = 0,
                   asset_id: AssetFilter = None) -> LicenseListingsPublic:
    """The license listings open now, oldest first."""
    page, count = ledger.market.open_license_listings(offset=offset, limit=limit, asset_id=asset_id)
    return LicenseListingsPublic(data=[LicenseListingPublic.model_validate(x.as_json()) for x in page], count=count)


@router.get("/license-offers/{listing_id}", response_model=LicenseListingPublic)
def license_offer(listing_id: ListingId, ledger: LedgerDep) -> LicenseListingPublic:
    """One license listing, whatever its status now."""
    return LicenseListingPublic.model_validate(ledger.market.license_listing_of(listing_id).as_json())


@router.get("/demands", response_model=DemandsPublic)
def demands(ledger: LedgerDep, limit: Limit = 50, offset: Offset = 0) -> DemandsPublic:
    """The demands open now (the demand list), oldest first, with their descriptions' URIs."""
    page, count = ledger.market.open_demands(offset=offset, limit=limit)
    return DemandsPublic(data=[DemandPublic.model_validate(x.as_json()) for x in page], count=count)


@router.get("/demands/{demand_id}", response_model=DemandPublic)
def demand(demand_id: DemandId, ledger: LedgerDep) -> DemandPublic:
    """One demand, whatever its status now."""
    return DemandPublic.model_validate(ledger.market.demand_of(demand_id).as_json())


@router.get("/demands/{demand_id}/answers", response_model=AnswersPublic)
def answers(demand_id: DemandId, ledger: LedgerDep, limit: Limit = 50, offset: Offset = 0) -> AnswersPublic:
    """The open answers to a demand, oldest first."""
    page, count = ledger.market.open_answers(demand_id, offset=offset, limit=limit)
    return AnswersPublic(data=[AnswerPublic.model_validate(x.as_json()) for x in page], count=count)


@router.get("/answers/{answer_id}", response_model=AnswerPublic)
def answer(answer_id: AnswerId, ledger: LedgerDep) -> AnswerPublic:
    """One answer to a demand."""
    return AnswerPublic.model_validate(ledger.market.answer_of(answer_id).as_json())
