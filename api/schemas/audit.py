"""``/audit``: the indexed history, totals, licenses and pledges, verification."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from api.schemas.common import EXAMPLE_BANK, EXAMPLE_HASH, EXAMPLE_METADATA_HASH, EXAMPLE_OWNER, EXAMPLE_TX
from api.schemas.pledges import PledgePublic

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


class DisputeTotalsPublic(BaseModel):
    opened: int = Field(description="disputes the registrar recorded")
    open_by_kind: dict[str, int] = Field(description="open now: ownership, invalidation-request, infringement-suit, "
                                                     "other (an open ownership dispute stops its asset)")
    resolved_by_outcome: dict[str, int] = Field(description="upheld, dismissed, settled, withdrawn")


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
    disputes: DisputeTotalsPublic | None = Field(default=None, description="disputes over assets")


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
            "disputes": {"opened": 2, "open_by_kind": {"ownership": 1}, "resolved_by_outcome": {"dismissed": 1}},
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
    indexed_to: int = Field(description="the indexer's cursor: the last block indexed")
    head: int = Field(description="the chain's latest block")
    behind_blocks: int = Field(description="how many blocks the cursor is behind the head")
    unindexed_events: int = Field(description="events the chain holds that the database lacks: after the cursor "
                                  "(within `blocks` of it), or of deployed contracts the index does not follow; "
                                  "any makes `ok` false")
    unfollowed: list[str] = Field(description="contracts of the deployment the index does not follow (Name@address)")


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
