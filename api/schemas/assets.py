"""``/assets``: assets, their registrar records, and the bank check."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import EXAMPLE_BANK, EXAMPLE_HASH, EXAMPLE_METADATA_HASH, EXAMPLE_OWNER, EXAMPLE_TX
from api.schemas.coowners import CoOwnersPublic
from api.schemas.licenses import LICENSE_EXAMPLE, LicensePublic
from api.schemas.pledges import PLEDGE_EXAMPLE, PledgePublic
from api.schemas.timestamps import FinalityPublic


class FreezePublic(BaseModel):
    """The latest court freeze (binding while ``until`` is ahead; ``lifted_at`` is 0 unless lifted)."""

    court: str
    case_number: str
    reason_hash: str
    frozen_at: int
    until: int
    until_on: str | None
    lifted_at: int


class RegistrationPublic(BaseModel):
    """What the ``AssetRegistered`` event published, and where."""

    ref: str | None
    content_hash: str
    metadata_hash: str
    uri: str
    registrant: str
    tx_hash: str
    block_number: int
    block_time: int
    registered_on: str | None


ASSET_EXAMPLE: dict[str, Any] = {
    "asset_id": 1, "owner": EXAMPLE_OWNER, "kind": "invention-patent", "status": "granted", "verified": True,
    "expires_at": 2240006400, "expires_on": "2040-12-31T00:00:00Z", "fees_paid_until": 1798675200,
    "fees_paid_until_on": "2026-12-31T00:00:00Z", "frozen_until": 0, "frozen": False, "freeze": None,
    "registration": {
        "ref": "CN202010123456.7", "content_hash": EXAMPLE_HASH, "metadata_hash": EXAMPLE_METADATA_HASH,
        "uri": f"/metadata/{EXAMPLE_METADATA_HASH}", "registrant": EXAMPLE_OWNER, "tx_hash": EXAMPLE_TX,
        "block_number": 9, "block_time": 1767225600, "registered_on": "2026-01-01T00:00:00Z",
    },
    "title": "A method of pledging patents", "metadata": {"title": "A method of pledging patents"},
    "name": "A method of pledging patents", "description": "invention patent CN202010123456.7, granted",
}


class AssetPublic(BaseModel):
    """An IP asset now: the registrar's record, its freeze, its registration and its title."""

    model_config = ConfigDict(json_schema_extra={"examples": [ASSET_EXAMPLE]})

    asset_id: int
    owner: str
    kind: str = Field(description="invention-patent, utility-model, design, software-copyright, trade-secret, "
                                  "research-result or trademark")
    status: str = Field(description="filed, granted, invalidation-requested, lapsed, expired or invalidated")
    verified: bool = Field(description="reconciled by the registrar with the official register")
    expires_at: int = Field(description="unix seconds; 0: not known")
    expires_on: str | None
    fees_paid_until: int = Field(description="unix seconds; 0: not known")
    fees_paid_until_on: str | None
    frozen_until: int
    holder_disputed: bool = Field(default=False, description=(
        "the registrar found that whoever registered it is not the holder in the official register"))
    frozen: bool
    freeze: FreezePublic | None
    registration: RegistrationPublic | None
    title: str | None
    metadata: dict[str, Any] | None = Field(description="the metadata document, if this server stores it")
    name: str = Field(description="ERC-721 metadata: the title, or 'IP asset {id}'")
    description: str = Field(description="ERC-721 metadata: the document's description, or kind, number, status")


class AssetsPublic(BaseModel):
    data: list[AssetPublic]
    count: int




class DisputePublic(BaseModel):
    """A dispute over an asset recorded by the registrar; ``outcome`` is ``open`` until it is resolved."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "dispute_id": 1, "asset_id": 1, "kind": "ownership", "outcome": "open", "open": True, "blocks_moves": True,
        "opened_at": 1767225600, "opened_on": "2026-01-01T00:00:00Z", "resolved_at": 0, "resolved_on": None,
        "ref": "(2025)JING73MINCHU1", "evidence_hash": "0x" + "0e" * 32, "resolution_hash": "0x" + "00" * 32}]})

    dispute_id: int
    asset_id: int
    kind: str = Field(description="ownership, invalidation-request, infringement-suit or other")
    outcome: str = Field(description="open, upheld, dismissed, settled or withdrawn")
    open: bool
    blocks_moves: bool = Field(description="an open dispute of ownership: the asset can neither move nor be pledged")
    opened_at: int
    opened_on: str | None
    resolved_at: int = Field(description="unix seconds; 0 while open")
    resolved_on: str | None
    ref: str = Field(description="the case or file number")
    evidence_hash: str
    resolution_hash: str


class DisputesPublic(BaseModel):
    data: list[DisputePublic]
    count: int


class LineagePublic(BaseModel):
    """An asset's parent (a divisional or continuation application's original, a software version's
    predecessor) and the assets that name it as theirs."""

    asset_id: int
    parent_id: int | None
    children: list[int]


class RedFlagPublic(BaseModel):
    code: str = Field(description="ownership_disputed, co_owners_not_consented, frozen, pledged, not_pledgeable, "
                                  "invalidation_pending, "
                                  "expires_before_maturity, holder_disputed, fees_unpaid, exclusively_licensed, "
                                  "exclusively_offered, unverified or disputed (another kind of dispute is open)")
    message: str


class HistoryEventPublic(BaseModel):
    """One event of one registry contract about the asset, with its transaction."""

    block_number: int
    block_time: int
    time: str | None
    tx_hash: str
    log_index: int
    contract: str
    event: str
    args: dict[str, Any]


class CheckPublic(BaseModel):
    """A bank's due diligence: the facts, the pledge, the active licenses, red flags and the history.

    Read in one JSON-RPC round trip (``round_trips``), as of ``block_number``.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "asset_id": 1, "ref": "CN202010123456.7", "title": "A method of pledging patents", "owner": EXAMPLE_OWNER,
        "kind": "invention-patent", "legal_status": "granted", "verified": True, "expires_at": 1798761600,
        "expires_on": "2027-01-01T00:00:00Z", "fees_paid_until": 1798675200,
        "fees_paid_until_on": "2026-12-31T00:00:00Z", "frozen": False, "freeze": None, "pledge": PLEDGE_EXAMPLE,
        "licenses": [LICENSE_EXAMPLE], "offers": [], "encumbrance_version": 2, "clean": False,
        "red_flags": [
            {"code": "pledged", "message": f"already pledged to {EXAMPLE_BANK} (pledge 1) for 5,000,000 CNY, "
                                           "maturing 2027-06-30"},
            {"code": "expires_before_maturity",
             "message": "it expires on 2027-01-01, before the loan matures on 2027-06-30"},
        ],
        "flags": {"unverified": False, "expiresBeforeMaturity": True, "feesUnpaid": False,
                  "invalidationPending": False, "notPledgeable": False, "frozen": False, "pledged": True,
                  "exclusivelyLicensed": True, "holderDisputed": False, "exclusivelyOffered": False,
                  "ownershipDisputed": False, "disputed": False},
        "registration": ASSET_EXAMPLE["registration"],
        "history": [{"block_number": 9, "block_time": 1767225600, "time": "2026-01-01T00:00:00Z",
                     "tx_hash": EXAMPLE_TX, "log_index": 1, "contract": "IPRegistry", "event": "AssetRegistered",
                     "args": {"assetId": 1, "owner": EXAMPLE_OWNER, "ref": "CN202010123456.7",
                              "kind": "invention-patent"}}],
        "maturity": 1814313600, "matures_on": "2027-06-30T00:00:00Z", "block_number": 42,
        "block_hash": "0x2b0c6d0a51e0a4f7d2f6f9e35b6a5c2f3d6f0e9c8b7a6f5e4d3c2b1a09f8e7d6",
        "block_time": 1767312000, "as_of": "2026-01-02T00:00:00Z",
        "finality": {"status": "final", "final": True, "basis": "confirmations", "block_number": 9, "head": 42,
                     "confirmations": 34, "required_confirmations": 12, "finalized_block": None,
                     "sentence": "final: 34 confirmations (at least 12 make a record final)"},
        "round_trips": 1,
    }]})

    asset_id: int
    ref: str | None
    title: str | None
    owner: str
    kind: str
    legal_status: str
    verified: bool
    expires_at: int
    expires_on: str | None
    fees_paid_until: int
    fees_paid_until_on: str | None
    frozen: bool
    freeze: FreezePublic | None
    pledge: PledgePublic | None
    licenses: list[LicensePublic] = Field(description="the active licenses")
    offers: list[LicensePublic] = Field(
        default_factory=list, description="the pending license offers (their licensees may accept them any time)")
    encumbrance_version: int = Field(description=(
        "LicenseRegistry.encumbranceVersionOf the asset: name it when accepting a pledge "
        "(PledgeRegistry.accept(pledgeId, encumbranceVersion)); the chain refuses if a license was offered, "
        "accepted or ended since this report"))
    clean: bool = Field(description="no red flags")
    red_flags: list[RedFlagPublic]
    flags: dict[str, bool] = Field(description=(
        "the IPLens's flags as the contract returns them, and ownershipDisputed / disputed (open disputes)"))
    registration: RegistrationPublic | None
    disputes: list[DisputePublic] = Field(default_factory=list, description=(
        "every dispute recorded over the asset, open ones first"))
    open_disputes: int = Field(default=0, description="how many disputes are open")
    parent_id: int | None = Field(default=None, description="the asset this one names as its parent")
    children: list[int] = Field(default_factory=list, description="the assets that name this one as their parent")
    co_owners: CoOwnersPublic | None = Field(
        default=None, description="the co-owners and shares when the asset is held by its co-ownership vault")
    history: list[HistoryEventPublic] = Field(description="oldest first")
    maturity: int
    matures_on: str | None
    block_number: int
    block_hash: str | None = Field(description="the hash of block_number, when the node named it in the same read")
    block_time: int
    as_of: str | None
    finality: FinalityPublic | None = Field(default=None, description=(
        "how final the report is: the finality of the block of the asset's latest recorded change "
        "(the chain's finalized block where it names one, else confirmations)"))
    round_trips: int
