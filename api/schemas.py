"""Request and response bodies (``XCreate`` in, ``XPublic`` out), with examples for /docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictInt, StrictStr
from typing_extensions import TypeAliasType

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
HEX = r"^0x([0-9a-fA-F]{2})*$"

EXAMPLE_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EXAMPLE_HASH = "0x5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"


class ForwarderDomain(BaseModel):
    name: str
    version: str
    chainId: int
    verifyingContract: str


class ChainPublic(BaseModel):
    """What a client needs to build and sign requests."""

    chain_id: int
    deploy_block: int
    contracts: dict[str, str]
    forwarder_domain: ForwarderDomain


class ForwardRequestCreate(BaseModel):
    """An ERC-2771 request signed with EIP-712 by ``from`` (see GET /chain for the domain)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{
            "from": EXAMPLE_ADDRESS, "to": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "value": 0,
            "gas": 200000, "nonce": 0, "deadline": 1893456000,
            "data": "0x4a2d3f4b" + "11" * 32, "signature": "0x" + "ab" * 65,
        }]},
    )

    sender: str = Field(alias="from", pattern=ADDRESS)
    to: str = Field(pattern=ADDRESS)
    value: int = Field(0, ge=0, le=0, description="relayed requests carry no ether")
    gas: int = Field(ge=21_000, le=10_000_000)
    nonce: int = Field(ge=0, le=2**53 - 1, description="at most 2**53-1, the largest integer JSON carries exactly")
    deadline: int = Field(ge=0, le=2**48 - 1)
    data: str = Field(pattern=HEX, max_length=200_000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class EventPublic(BaseModel):
    name: str
    contract: str
    args: dict[str, Any]
    log_index: int


class RelayedPublic(BaseModel):
    """Where the relayed request landed, and what it did (e.g. ``{"assetId": 7}``)."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    result: dict[str, Any]
    events: list[EventPublic]


class NoncePublic(BaseModel):
    address: str
    nonce: int


class StampPublic(BaseModel):
    key: str
    stamper: str
    block_number: int
    block_time: int
    tx_hash: str | None
    block_hash: str | None
    batch_size: int
    contract: str
    chain_id: int


class VerifyCreate(BaseModel):
    """A certificate and the SHA-256 of the file (hashed by the client: the file never travels)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"digest": EXAMPLE_HASH, "certificate": {}}]})

    digest: str = Field(pattern=HEX32)
    certificate: dict[str, Any]


class VerifyPublic(BaseModel):
    valid: bool
    reason: str | None = None
    author: str | None = None
    stamper: str | None = None
    block_number: int | None = None
    block_time: int | None = None
    block_time_iso: str | None = None
    tx_hash: str | None = None
    chain_id: int | None = None


class VerifiesPublic(BaseModel):
    data: list[VerifyPublic]
    count: int


class Problem(BaseModel):
    """RFC 9457 problem details; ``error`` and ``arguments`` name a contract's custom error."""

    type: str
    title: str
    status: int
    detail: str
    error: str | None = None
    arguments: dict[str, Any] | None = None
    tx_hash: str | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 403, 404, 409, 413, 422, 429, 502, 503)
}


# -- the IP registry: assets, licenses, pledges, the bank check, metadata ----------------------------

EXAMPLE_OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EXAMPLE_BANK = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
EXAMPLE_TX = "0x8a008893e8a6a7de448619081c1ac8cc58930a8d201ede805fb6f58bb00a9d61"
EXAMPLE_METADATA_HASH = "0xfcdc6c5bf08cb35ef3661d779c6cce728fcbf766bb50b4dd9ddf3176e58fcd23"


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


LICENSE_EXAMPLE: dict[str, Any] = {
    "license_id": 1, "asset_id": 1, "licensor": EXAMPLE_OWNER, "licensee": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "kind": "exclusive", "exclusive": True, "status": "active", "start": 1767225600, "end": 1798761600,
    "starts_on": "2026-01-01T00:00:00Z", "ends_on": "2027-01-01T00:00:00Z", "territory": "CN",
    "field_of_use": "H04L", "terms_hash": EXAMPLE_HASH, "fee": 500000, "sublicensable": False,
    "recordal_no": "2026990000123",
}


class LicensePublic(BaseModel):
    """A license; ``exclusive`` is true for exclusive and sole licenses (they block any overlap)."""

    model_config = ConfigDict(json_schema_extra={"examples": [LICENSE_EXAMPLE]})

    license_id: int
    asset_id: int
    licensor: str
    licensee: str
    kind: str = Field(description="exclusive, sole or non-exclusive")
    exclusive: bool
    status: str = Field(description="offered, active, terminated or expired")
    start: int
    end: int
    starts_on: str | None
    ends_on: str | None
    territory: str = Field(description="ISO 3166 prefix; empty: everywhere")
    field_of_use: str = Field(description="IPC prefix; empty: every field")
    terms_hash: str
    fee: int = Field(description="in token units")
    sublicensable: bool
    recordal_no: str | None


class LicensesPublic(BaseModel):
    data: list[LicensePublic]
    count: int


PLEDGE_EXAMPLE: dict[str, Any] = {
    "pledge_id": 1, "asset_id": 1, "pledgor": EXAMPLE_OWNER, "pledgee": EXAMPLE_BANK, "status": "active",
    "principal": 5000000, "currency": "CNY", "maturity": 1814313600, "matures_on": "2027-06-30T00:00:00Z",
    "contract_hash": EXAMPLE_HASH,
}


class PledgePublic(BaseModel):
    """A pledge: ``principal`` in units of ``currency`` (ISO 4217), ``maturity`` in unix seconds."""

    model_config = ConfigDict(json_schema_extra={"examples": [PLEDGE_EXAMPLE]})

    pledge_id: int
    asset_id: int
    pledgor: str
    pledgee: str
    status: str = Field(description="proposed, active, released, enforced or cancelled")
    principal: int
    currency: str
    maturity: int
    matures_on: str | None
    contract_hash: str


class RedFlagPublic(BaseModel):
    code: str = Field(description="frozen, pledged, not_pledgeable, invalidation_pending, expires_before_maturity, "
                                  "fees_unpaid, exclusively_licensed or unverified")
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
        "licenses": [LICENSE_EXAMPLE], "clean": False,
        "red_flags": [
            {"code": "pledged", "message": f"already pledged to {EXAMPLE_BANK} (pledge 1) for 5,000,000 CNY, "
                                           "maturing 2027-06-30"},
            {"code": "expires_before_maturity",
             "message": "it expires on 2027-01-01, before the loan matures on 2027-06-30"},
        ],
        "flags": {"unverified": False, "expiresBeforeMaturity": True, "feesUnpaid": False,
                  "invalidationPending": False, "notPledgeable": False, "frozen": False, "pledged": True,
                  "exclusivelyLicensed": True},
        "registration": ASSET_EXAMPLE["registration"],
        "history": [{"block_number": 9, "block_time": 1767225600, "time": "2026-01-01T00:00:00Z",
                     "tx_hash": EXAMPLE_TX, "log_index": 1, "contract": "IPRegistry", "event": "AssetRegistered",
                     "args": {"assetId": 1, "owner": EXAMPLE_OWNER, "ref": "CN202010123456.7",
                              "kind": "invention-patent"}}],
        "maturity": 1814313600, "matures_on": "2027-06-30T00:00:00Z", "block_number": 42,
        "block_hash": "0x2b0c6d0a51e0a4f7d2f6f9e35b6a5c2f3d6f0e9c8b7a6f5e4d3c2b1a09f8e7d6",
        "block_time": 1767312000, "as_of": "2026-01-02T00:00:00Z", "round_trips": 1,
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
    clean: bool = Field(description="no red flags")
    red_flags: list[RedFlagPublic]
    flags: dict[str, bool] = Field(description="the IPLens's flags as the contract returns them")
    registration: RegistrationPublic | None
    history: list[HistoryEventPublic] = Field(description="oldest first")
    maturity: int
    matures_on: str | None
    block_number: int
    block_hash: str | None = Field(description="the hash of block_number, when the node named it in the same read")
    block_time: int
    as_of: str | None
    round_trips: int


MetadataValue = TypeAliasType(
    "MetadataValue",
    "StrictStr | StrictInt | StrictBool | None | list[MetadataValue] | dict[str, MetadataValue]",
)
"""A JSON value without decimals (canonical bytes must not depend on how a library writes floats)."""


class MetadataCreate(BaseModel):
    """A metadata document: a ``title`` and any other descriptive fields (integers, no decimals).

    Stored as canonical JSON (sorted keys, compact, UTF-8) of at most 64 KiB.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "schema": "ipledger.asset-metadata/1", "title": "A method of pledging patents", "kind": "invention-patent",
        "ref": "CN202010123456.7", "inventors": ["Li Wei", "Zhang Min"],
    }]})
    __pydantic_extra__: dict[str, MetadataValue] = Field(init=False)

    title: str = Field(min_length=1, max_length=500, pattern=r"[^ \t\r\n]")


class MetadataPublic(BaseModel):
    """A stored metadata document, byte for byte as hashed (``title`` and any other fields)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "schema": "ipledger.asset-metadata/1", "title": "A method of pledging patents", "kind": "invention-patent",
    }]})

    title: str


class MetadataStoredPublic(BaseModel):
    """Where a document is kept: put ``hash`` and ``uri`` in the registration."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "hash": EXAMPLE_METADATA_HASH, "uri": f"/metadata/{EXAMPLE_METADATA_HASH}", "size": 118,
    }]})

    hash: str
    uri: str
    size: int


# -- the market: listings, offers, license listings, demands, the token ------------------------------------

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
    "pledge_id": 0,
}


class ListingPublic(BaseModel):
    """An asset for sale. A buy names ``price`` and ``nonce`` as seen here; ``buyer`` null: anyone may buy."""

    model_config = ConfigDict(json_schema_extra={"examples": [LISTING_EXAMPLE]})

    listing_id: int
    asset_id: int
    seller: str
    status: str = Field(description="open, sold, cancelled, expired or void (the asset changed hands, was "
                                    "frozen or pledged since)")
    token: str
    price: int = Field(description="in token units")
    nonce: int = Field(description="counts the seller's updates")
    expiry: int
    expires_on: str | None
    buyer: str | None
    pledge_id: int = Field(description="the asset's pledge when listed (0: none)")


class ListingsPublic(BaseModel):
    data: list[ListingPublic]
    count: int


OFFER_EXAMPLE: dict[str, Any] = {
    "offer_id": 1, "asset_id": 1, "buyer": EXAMPLE_BUYER, "seller": EXAMPLE_OWNER, "status": "open",
    "token": EXAMPLE_TOKEN, "amount": 80000000, "expiry": 1798761600, "expires_on": "2027-01-01T00:00:00Z",
    "pledge_id": 0,
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
    "supply": 3, "sold": 1, "remaining": 2,
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
    status: str = Field(description="open, sold (out), cancelled, expired or void")
    token: str
    price: int = Field(description="of one license, in token units")
    nonce: int
    expiry: int
    expires_on: str | None
    pledge_id: int
    supply: int
    sold: int
    remaining: int
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


# -- audit: the indexed history, totals, licenses and pledges, verification ---------------------------

CONTRACT_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
EVENT_NAME = r"^(([A-Za-z_][A-Za-z0-9_]{0,127}\.)?[A-Za-z_][A-Za-z0-9_]{0,127}|\(unknown\))$"
"""``Name`` or ``Contract.Name``; ``(unknown)`` for logs no ABI decodes."""
PAGE_TOKEN = r"^[0-9]{1,15}:[0-9]{1,9}$"
"""``block:log_index``, as a history page's ``next``."""

EXAMPLE_TOKEN = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"

HISTORY_ROW_EXAMPLE: dict[str, Any] = {
    "chain_id": 31337, "block_number": 9, "block_time": 1767225600, "block_time_iso": "2026-01-01T00:00:00Z",
    "block_hash": "0x2b0c6d0a51e0a4f7d2f6f9e35b6a5c2f3d6f0e9c8b7a6f5e4d3c2b1a09f8e7d6", "tx_hash": EXAMPLE_TX,
    "log_index": 1, "contract": "IPRegistry", "address": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    "event": "AssetRegistered", "asset_id": "1",
    "args": {"assetId": 1, "owner": EXAMPLE_OWNER, "ref": "0x" + "43" * 2 + "00" * 30, "kind": 0,
             "contentHash": EXAMPLE_HASH, "metadataHash": EXAMPLE_METADATA_HASH, "uri": "ipfs://bafk"},
}


class HistoryRowPublic(BaseModel):
    """One indexed event: where (block, time, transaction, log index), which contract, and its arguments."""

    model_config = ConfigDict(json_schema_extra={"examples": [HISTORY_ROW_EXAMPLE]})

    chain_id: int
    block_number: int
    block_time: int = Field(description="unix seconds")
    block_time_iso: str
    block_hash: str
    tx_hash: str
    log_index: int
    contract: str = Field(description="the deployment's name for the contract")
    address: str
    event: str
    asset_id: str | None = Field(description="the asset the event is about (decimal), if any")
    args: dict[str, Any] = Field(description="the event's arguments as the contract's ABI names them")


class HistoryPublic(BaseModel):
    """A page of history, oldest first; pass ``next`` as ``after`` for the following page."""

    data: list[HistoryRowPublic]
    count: int = Field(description="events matching the filters, on every page together")
    next: str | None = Field(description="the page token of the next page; null on the last page")


class HistoryExportPublic(RootModel[list[HistoryRowPublic]]):
    """Every matching event, oldest first (the JSON export)."""


class EventCountPublic(BaseModel):
    contract: str
    event: str
    count: int


class ActiveLicensesPublic(BaseModel):
    total: int
    by_kind: dict[str, int] = Field(description="exclusive, sole, non-exclusive")


class SalesOfKindPublic(BaseModel):
    count: int
    volume: dict[str, int] = Field(description="paid by buyers (fees included), by token address, in token units")
    fees: dict[str, int] = Field(description="to the treasury, by token address, in token units")


class SalesPublic(BaseModel):
    assets: SalesOfKindPublic = Field(description="listings bought and offers accepted")
    licenses: SalesOfKindPublic = Field(description="licenses bought from license listings")


class RegistryTotalsPublic(BaseModel):
    """Totals over the registry and market events (more may be registered: extra keys pass through)."""

    model_config = ConfigDict(extra="allow")

    registrations_by_kind: dict[str, int]
    active_licenses: ActiveLicensesPublic
    licenses_by_status: dict[str, int] = Field(description="offered, active, terminated, expired")
    pledged_principal: dict[str, dict[str, int]] = Field(
        description="principal of active pledges by bank (pledgee address) and currency (ISO 4217)")
    pledges_by_bank: dict[str, dict[str, int]] = Field(description="pledges by bank and status")
    sales_volume: dict[str, int] = Field(description="all sales (assets and licenses) by token address")
    sales: SalesPublic


class TotalsPublic(BaseModel):
    """Counts over the whole index, and the registry and market totals."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "chain_id": 31337, "indexed_to": 42, "events": 120, "first_block": 1, "last_block": 42, "accounts": 9,
        "assets": 5, "by_event": [{"contract": "IPRegistry", "event": "AssetRegistered", "count": 5}],
        "registry": {
            "registrations_by_kind": {"invention-patent": 4, "trademark": 1},
            "active_licenses": {"total": 2, "by_kind": {"exclusive": 1, "non-exclusive": 1}},
            "licenses_by_status": {"active": 2, "terminated": 1},
            "pledged_principal": {EXAMPLE_BANK: {"CNY": 5000000}},
            "pledges_by_bank": {EXAMPLE_BANK: {"active": 1, "released": 1}},
            "sales_volume": {EXAMPLE_TOKEN: 110000000},
            "sales": {"assets": {"count": 1, "volume": {EXAMPLE_TOKEN: 100000000}, "fees": {EXAMPLE_TOKEN: 0}},
                      "licenses": {"count": 1, "volume": {EXAMPLE_TOKEN: 10000000}, "fees": {EXAMPLE_TOKEN: 0}}},
        },
    }]})

    chain_id: int
    indexed_to: int | None = Field(description="the last block indexed; null before the first sync")
    events: int
    first_block: int | None
    last_block: int | None
    accounts: int = Field(description="distinct addresses named by events")
    assets: int = Field(description="distinct assets named by events")
    by_event: list[EventCountPublic] = Field(description="most frequent first")
    registry: RegistryTotalsPublic


class RangeCheckPublic(BaseModel):
    """A block range whose events differ between the chain and the database."""

    from_block: int
    to_block: int
    chain_events: int
    db_events: int
    chain_hash: str
    db_hash: str
    ok: bool
    missing: list[str] = Field(description="on chain, not in the database (block:log_index tx)")
    extra: list[str] = Field(description="in the database, not on chain")
    changed: list[str] = Field(description="in both, with different content")


class AuditVerifyPublic(BaseModel):
    """The database compared with the chain over ``from_block``..``to_block`` (counts and hashes per range)."""

    chain_id: int
    from_block: int
    to_block: int
    ok: bool
    events_on_chain: int
    events_in_db: int
    ranges: int
    blocks_checked: int = Field(description="stored block hashes compared with the chain's")
    block_mismatches: list[int] = Field(description="stored blocks whose hash is not the chain's")
    differences: list[RangeCheckPublic]


class AuditLicensePublic(BaseModel):
    """A license as its events left it; ``pledgee``: the bank its asset is pledged to now, if any."""

    license_id: int
    asset_id: int
    licensor: str
    licensee: str
    kind: str = Field(description="exclusive, sole or non-exclusive")
    status: str = Field(description="offered, active, terminated or expired")
    start: int
    end: int
    fee: int = Field(description="in token units")
    recordal_no: str | None
    pledgee: str | None
    registry: str = Field(description="the LicenseRegistry's address")
    offered_block: int
    offered_time: int
    offered_on: str
    offered_tx: str
    last_event: str
    last_block: int
    last_tx: str


class AuditLicensesPublic(BaseModel):
    data: list[AuditLicensePublic]
    count: int


class AuditPledgePublic(PledgePublic):
    """A pledge as its events left it (the fields of :class:`PledgePublic`, and where it came from)."""

    model_config = ConfigDict(json_schema_extra=None)

    registry: str = Field(description="the PledgeRegistry's address")
    proposed_block: int
    proposed_time: int
    proposed_on: str
    proposed_tx: str
    last_event: str
    last_block: int
    last_tx: str


class AuditPledgesPublic(BaseModel):
    data: list[AuditPledgePublic]
    count: int
