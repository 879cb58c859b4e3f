"""``/co-owners``: co-owned assets, the acts that need every co-owner, and the consents to them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ADDRESS, EXAMPLE_ADDRESS, EXAMPLE_HASH, HEX32, Checksummed

EXAMPLE_VAULT = "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6"


class CoOwnerPublic(BaseModel):
    """One co-owner and its share (basis points of 10,000, and as a percentage)."""

    address: str
    bps: int
    percent: float


class CoOwnersPublic(BaseModel):
    """Who co-owns an asset: the co-owners and shares, their agreement's hash and rules, the vault that
    holds the asset for them (its ERC-721 owner), whether it still does, and the epoch (bumped by every
    change of the co-owners: consents given before are void)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "asset_id": 1, "vault": EXAMPLE_VAULT, "epoch": 1, "held": True,
        "co_owners": [{"address": EXAMPLE_ADDRESS, "bps": 6000, "percent": 60.0},
                      {"address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "bps": 4000, "percent": 40.0}],
        "agreement_hash": "0x" + "00" * 32, "agreement": [],
    }]})

    asset_id: int
    vault: str
    epoch: int
    held: bool
    co_owners: list[CoOwnerPublic]
    agreement_hash: str
    agreement: list[str]


class ShareCreate(BaseModel):
    address: Annotated[str, Field(pattern=ADDRESS), Checksummed]
    bps: int = Field(ge=1, le=10_000)


class CoOwnerActCreate(BaseModel):
    """An act of a co-owned asset that needs every co-owner, described by its terms. ``act`` is one of
    ``pledge``, ``transfer``, ``license``, ``license-listing``, ``sale``, ``offer-acceptance``,
    ``share-transfer``, ``co-owners-change``; give the fields that act takes (dates as ``2027-06-30`` or
    Unix seconds, amounts as integers of units, hashes as ``0x`` + 64 hex digits)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "act": "pledge", "to": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "principal": 5000000,
        "currency": "CNY", "maturity": "2027-06-30", "contract_hash": EXAMPLE_HASH,
    }]})

    act: str = Field(min_length=1, max_length=32)
    to: Annotated[str | None, Field(pattern=ADDRESS, description="recipient, licensee or pledgee")] = None
    principal: int | None = Field(None, ge=1)
    currency: str | None = Field(None, max_length=3)
    maturity: str | int | None = None
    contract_hash: str | None = Field(None, pattern=HEX32)
    license_kind: str | None = Field(None, max_length=32)
    start: str | int | None = None
    end: str | int | None = None
    territory: str | None = Field(None, max_length=32)
    field: str | None = Field(None, max_length=32)
    fee: int | None = Field(None, ge=0)
    terms_hash: str | None = Field(None, pattern=HEX32)
    token: Annotated[str | None, Field(pattern=ADDRESS)] = None
    price: int | None = Field(None, ge=1, description="in token units")
    expiry: str | int | None = None
    buyer: Annotated[str | None, Field(pattern=ADDRESS)] = None
    supply: int | None = Field(None, ge=1, le=65_535)
    offer_id: int | None = Field(None, ge=1)
    giver: Annotated[str | None, Field(pattern=ADDRESS, description="share-transfer: the co-owner giving")] = None
    bps: int | None = Field(None, ge=1, le=10_000)
    co_owners: list[ShareCreate] | None = Field(None, max_length=16)
    agreement: list[str] | None = Field(None, max_length=2)
    agreement_hash: str | None = Field(None, pattern=HEX32)

    def spec(self) -> dict[str, Any]:
        spec = self.model_dump(exclude={"act", "co_owners"}, exclude_none=True)
        if self.co_owners is not None:
            spec["co_owners"] = [(s.address, s.bps) for s in self.co_owners]
        return spec


class CoOwnerActPublic(BaseModel):
    """The act's id (what each co-owner consents to), the co-owners who consented (unused) and those who
    not yet, and the CoOwnership function and arguments that perform it: sign a consent with POST
    /relay/prepare ``{"contract": "CoOwnership", "function": "consent", "args": [asset_id, act_id]}``, and
    the act itself with ``{"contract": "CoOwnership", "function": function, "args": args}``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "asset_id": 1, "act": "pledge", "act_id": EXAMPLE_HASH, "given": [EXAMPLE_ADDRESS],
        "missing": ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"], "contract": "CoOwnership",
        "function": "proposePledge",
        "args": [1, "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", 5000000, "0x434e59", 1814400000, EXAMPLE_HASH],
    }]})

    asset_id: int
    act: str
    act_id: str
    given: list[str]
    missing: list[str]
    contract: str
    function: str
    args: list[Any]


class ConsentsPublic(BaseModel):
    """Who among the co-owners consented (unused) to act ``act_id``, and who not yet."""

    asset_id: int
    act_id: str
    given: list[str]
    missing: list[str]


class CreditPublic(BaseModel):
    """What ``account`` may withdraw in ``token`` from co-owned assets' proceeds (token units)."""

    token: str
    account: str
    amount: int
