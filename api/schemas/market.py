"""``/market``: listings, offers, license listings, demands, the token."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import EXAMPLE_BANK, EXAMPLE_HASH, EXAMPLE_METADATA_HASH, EXAMPLE_OWNER

EXAMPLE_TOKEN = "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853"
EXAMPLE_BUYER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"


class TokenPublic(BaseModel):
    """The settlement token: amounts everywhere are integers of its units (``decimals`` places)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "address": EXAMPLE_TOKEN, "name": "ipledger settlement token", "symbol": "IPST", "decimals": 6,
        "faucet_enabled": True, "fee_bps": 250, "treasury": EXAMPLE_BANK,
    }]})

    address: str
    name: str
    symbol: str
    decimals: int
    faucet_enabled: bool = Field(description="whether anyone may mint (development chains only)")
    fee_bps: int = Field(description="the protocol fee of every sale, in basis points")
    treasury: str | None = Field(description="who receives the fee (null: no fee)")


class BalancePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "address": EXAMPLE_BUYER, "token": EXAMPLE_TOKEN, "balance": 749500000, "balance_text": "749.5 IPST",
    }]})

    address: str
    token: str
    balance: int = Field(description="in token units")
    balance_text: str


LISTING_EXAMPLE: dict[str, Any] = {
    "listing_id": 1, "asset_id": 1, "seller": EXAMPLE_OWNER, "status": "open", "token": EXAMPLE_TOKEN,
    "price": 250500000, "nonce": 0, "expiry": 1798761600, "expires_on": "2027-01-01T00:00:00Z", "buyer": None,
    "pledge_id": 0, "fee_bps": 250, "transfers": 0,
}


class ListingPublic(BaseModel):
    """An asset for sale. A buy names ``price`` and ``nonce`` as seen here; ``buyer`` null: anyone may buy."""

    model_config = ConfigDict(json_schema_extra={"examples": [LISTING_EXAMPLE]})

    listing_id: int
    asset_id: int
    seller: str
    status: str = Field(description="open, sold, cancelled, expired or void (the asset changed hands or moved "
                                    "since, even if it came back: void for good; or it is frozen, or was pledged "
                                    "since)")
    token: str
    price: int = Field(description="in token units")
    nonce: int = Field(description="counts the seller's updates")
    expiry: int
    expires_on: str | None
    buyer: str | None
    pledge_id: int = Field(description="the asset's pledge when listed (0: none)")
    fee_bps: int = Field(description="the protocol fee when listed, in basis points: the most its sale pays "
                                     "(the lower of it and the fee at the sale)")
    transfers: int = Field(description="the asset's transfer count when listed: once the asset moved, the "
                                       "listing is void for good")


class ListingsPublic(BaseModel):
    data: list[ListingPublic]
    count: int


OFFER_EXAMPLE: dict[str, Any] = {
    "offer_id": 1, "asset_id": 1, "buyer": EXAMPLE_BUYER, "seller": EXAMPLE_OWNER, "status": "open",
    "token": EXAMPLE_TOKEN, "amount": 80000000, "expiry": 1798761600, "expires_on": "2027-01-01T00:00:00Z",
    "pledge_id": 0, "fee_bps": 250,
}


class OfferPublic(BaseModel):
    """An amount held in escrow for an asset until its ``seller`` accepts it or the buyer withdraws it."""

    model_config = ConfigDict(json_schema_extra={"examples": [OFFER_EXAMPLE]})

    offer_id: int
    asset_id: int
    buyer: str
    seller: str = Field(description="the owner when the offer was made: the only one who may accept it")
    status: str = Field(description="open, refused, accepted, withdrawn, expired or void")
    token: str
    amount: int = Field(description="in token units")
    expiry: int
    expires_on: str | None
    pledge_id: int
    fee_bps: int = Field(description="the protocol fee when the offer was made, in basis points: the most its "
                                     "acceptance pays (the lower of it and the fee then)")


class OffersPublic(BaseModel):
    data: list[OfferPublic]
    count: int


class LicenseTermsPublic(BaseModel):
    """The terms every buyer of a license listing gets (the buyer is the licensee)."""

    kind: str = Field(description="exclusive, sole or non-exclusive")
    exclusive: bool
    start: int
    end: int
    starts_on: str | None
    ends_on: str | None
    territory: str
    field_of_use: str
    terms_hash: str
    fee: int
    sublicensable: bool


LICENSE_LISTING_EXAMPLE: dict[str, Any] = {
    "listing_id": 1, "asset_id": 1, "seller": EXAMPLE_OWNER, "status": "open", "token": EXAMPLE_TOKEN,
    "price": 10000000, "nonce": 0, "expiry": 1798761600, "expires_on": "2027-01-01T00:00:00Z", "pledge_id": 0,
    "supply": 3, "sold": 1, "remaining": 2, "fee_bps": 250, "transfers": 0, "operator_epoch": 1,
    "terms": {"kind": "non-exclusive", "exclusive": False, "start": 1767225600, "end": 1798761600,
              "starts_on": "2026-01-01T00:00:00Z", "ends_on": "2027-01-01T00:00:00Z", "territory": "CN",
              "field_of_use": "H04L", "terms_hash": EXAMPLE_HASH, "fee": 10000000, "sublicensable": False},
}


class LicenseListingPublic(BaseModel):
    """Licenses for sale: up to ``supply`` buyers each get an active license on ``terms`` for ``price``."""

    model_config = ConfigDict(json_schema_extra={"examples": [LICENSE_LISTING_EXAMPLE]})

    listing_id: int
    asset_id: int
    seller: str
    status: str = Field(description="open, sold (out), cancelled, expired or void (void for good once the asset "
                                    "moved or the seller revoked the license market since it was listed)")
    token: str
    price: int = Field(description="of one license, in token units")
    nonce: int
    expiry: int
    expires_on: str | None
    pledge_id: int
    supply: int
    sold: int
    remaining: int
    fee_bps: int = Field(description="the protocol fee when listed, in basis points: the most each sale pays")
    transfers: int = Field(description="the asset's transfer count when listed")
    operator_epoch: int = Field(description="the epoch of the seller's operator approval when listed")
    terms: LicenseTermsPublic


class LicenseListingsPublic(BaseModel):
    data: list[LicenseListingPublic]
    count: int


DEMAND_EXAMPLE: dict[str, Any] = {
    "demand_id": 1, "poster": EXAMPLE_BUYER, "status": "open", "token": EXAMPLE_TOKEN, "budget": 500000000,
    "deadline": 1798761600, "deadline_on": "2027-01-01T00:00:00Z", "description_hash": EXAMPLE_METADATA_HASH,
    "uri": f"/metadata/{EXAMPLE_METADATA_HASH}", "title": "A patent on battery recycling",
    "description": {"schema": "ipledger.asset-metadata/1", "title": "A patent on battery recycling"},
}


class DemandPublic(BaseModel):
    """A need on the demand board; its description is the document at ``uri`` whose hash is on chain."""

    model_config = ConfigDict(json_schema_extra={"examples": [DEMAND_EXAMPLE]})

    demand_id: int
    poster: str
    status: str = Field(description="open, closed or expired")
    token: str
    budget: int = Field(description="in token units")
    deadline: int
    deadline_on: str | None
    description_hash: str
    uri: str | None
    title: str | None
    description: dict[str, Any] | None = Field(description="the description document, if this server stores it")


class DemandsPublic(BaseModel):
    data: list[DemandPublic]
    count: int


class AnswerPublic(BaseModel):
    """An owner's answer to a demand: an asset at a price within the budget."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "answer_id": 1, "demand_id": 1, "asset_id": 1, "answerer": EXAMPLE_OWNER, "status": "open",
        "price": 300000000,
    }]})

    answer_id: int
    demand_id: int
    asset_id: int
    answerer: str
    status: str = Field(description="open, accepted or withdrawn")
    price: int = Field(description="in the demand's token units")


class AnswersPublic(BaseModel):
    data: list[AnswerPublic]
    count: int
