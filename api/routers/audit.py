"""The auditor's view of the index: history (paged, or exported as CSV/JSON), totals, licenses and
pledges by bank and status, and a re-check of the database against the chain.

Everything is read from the index database (``ledger.audit``), which the indexer keeps filled
(``ipledger up`` runs it beside the API); only ``/audit/verify`` reads the chain too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.schemas.audit import (
    CONTRACT_NAME,
    EVENT_NAME,
    PAGE_TOKEN,
    AuditLicensePublic,
    AuditLicensesPublic,
    AuditPledgePublic,
    AuditPledgesPublic,
    AuditVerifyPublic,
    HistoryExportPublic,
    HistoryPublic,
    HistoryRowPublic,
    TotalsPublic,
)
from api.schemas.common import ADDRESS, PROBLEMS, OptionalChecksummed
from ledger.audit.indexer import sources_from_deployment
from ledger.audit.queries import HistoryQuery, csv_chunks, json_chunks, parse_time

from ..deps import LedgerDep

MAX_ID = 2**53 - 1
MAX_LIMIT = 1000
"""Most rows or items one page holds."""
MAX_VERIFY_BLOCKS = 10_000
"""Most blocks one ``/audit/verify`` request compares (each costs ``eth_getLogs`` and header reads)."""

router = APIRouter(prefix="/audit", tags=["audit"], responses=PROBLEMS)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]
Bank = Annotated[str | None, Query(pattern=ADDRESS, description="A bank's (pledgee's) address.",
                                   examples=["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"]), OptionalChecksummed]
Asset = Annotated[int | None, Query(ge=1, le=MAX_ID, description="An asset id.")]


def history_filters(
    asset: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Events about this asset id.")] = None,
    account: Annotated[str | None, Query(pattern=ADDRESS, description="Events naming this address."),
                       OptionalChecksummed] = None,
    event: Annotated[str | None, Query(pattern=EVENT_NAME, description="Events of this kind: `Name` or "
                                       "`Contract.Name`.", examples=["PledgeAccepted"])] = None,
    contract: Annotated[str | None, Query(pattern=CONTRACT_NAME, description="Events of this contract.",
                                          examples=["IPRegistry"])] = None,
    from_block: Annotated[int | None, Query(ge=0, le=MAX_ID, description="From this block, inclusive.")] = None,
    to_block: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Up to this block, inclusive.")] = None,
    since: Annotated[datetime | None, Query(description="From this time, inclusive: ISO 8601 date or date-time "
                                            "(UTC unless zoned).", examples=["2026-05-20"])] = None,
    until: Annotated[datetime | None, Query(description="Up to this time, inclusive.",
                                            examples=["2026-05-21T00:00:00Z"])] = None,
) -> HistoryQuery:
    return HistoryQuery(
        asset_id=asset, account=account, event=event, contract=contract, from_block=from_block, to_block=to_block,
        since=parse_time(since) if since is not None else None,
        until=parse_time(until) if until is not None else None,
    )


HistoryFilters = Annotated[HistoryQuery, Depends(history_filters)]


@router.get("/history", response_model=HistoryPublic)
def history(
    filters: HistoryFilters,
    ledger: LedgerDep,
    limit: Limit = 100,
    after: Annotated[str | None, Query(pattern=PAGE_TOKEN, description="The previous page's `next`.")] = None,
) -> HistoryPublic:
    """Indexed events matching every given filter, oldest first, a page at a time; each row carries its
    block number, time and transaction hash."""
    page = ledger.audit.history(filters, limit=limit, after=after)
    return HistoryPublic(data=[HistoryRowPublic.model_validate(row.as_json()) for row in page.rows],
                         count=ledger.audit.count(filters), next=page.next)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/history.csv",
    response_class=StreamingResponse,
    responses={200: {"description": "Every matching event, oldest first, as CSV (`args` as JSON).",
                     "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def history_csv(filters: HistoryFilters, ledger: LedgerDep) -> StreamingResponse:
    """Export every matching event as CSV, streamed (the columns of ``GET /audit/history``)."""
    rows = ledger.audit.iter_history(filters)  # reads the first page now: a failure is a problem, not a cut stream
    return StreamingResponse(csv_chunks(rows), media_type="text/csv", headers=_attachment("ipledger-history.csv"))


@router.get(
    "/history.json",
    response_class=StreamingResponse,
    responses={200: {"model": HistoryExportPublic, "description": "Every matching event, oldest first."}},
)
def history_json(filters: HistoryFilters, ledger: LedgerDep) -> StreamingResponse:
    """Export every matching event as one JSON array, streamed."""
    rows = ledger.audit.iter_history(filters)
    return StreamingResponse(json_chunks(rows), media_type="application/json",
                             headers=_attachment("ipledger-history.json"))


@router.get("/totals", response_model=TotalsPublic)
def totals(ledger: LedgerDep) -> TotalsPublic:
    """Events by contract and kind; registrations by kind, active licenses, licenses by status, pledged
    principal by bank and currency, pledges by bank, sales volume by token."""
    return TotalsPublic.model_validate(ledger.audit.totals().as_json())


@router.get("/licenses", response_model=AuditLicensesPublic)
def licenses(
    ledger: LedgerDep,
    bank: Bank = None,
    status: Annotated[Literal["offered", "active", "terminated", "expired"] | None, Query()] = None,
    asset: Asset = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditLicensesPublic:
    """Licenses as their events left them, oldest offer first; ``bank``: licenses of assets pledged to it now."""
    page, count = ledger.audit.licenses(bank=bank, status=status, asset_id=asset, offset=offset, limit=limit)
    return AuditLicensesPublic(data=[AuditLicensePublic.model_validate(e.as_json()) for e in page], count=count)


@router.get("/pledges", response_model=AuditPledgesPublic)
def pledges(
    ledger: LedgerDep,
    bank: Bank = None,
    status: Annotated[Literal["proposed", "active", "released", "enforced", "cancelled"] | None, Query()] = None,
    asset: Asset = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditPledgesPublic:
    """Pledges as their events left them, oldest proposal first; ``bank``: the pledgee."""
    page, count = ledger.audit.pledges(bank=bank, status=status, asset_id=asset, offset=offset, limit=limit)
    return AuditPledgesPublic(data=[AuditPledgePublic.model_validate(e.as_json()) for e in page], count=count)


@router.get("/verify", response_model=AuditVerifyPublic)
def verify(
    ledger: LedgerDep,
    from_block: Annotated[int | None, Query(ge=0, le=MAX_ID, description="The first block to compare; "
                                            "default: the last `blocks` blocks indexed.")] = None,
    blocks: Annotated[int, Query(ge=1, le=MAX_VERIFY_BLOCKS, description="How many blocks to compare.")]
    = MAX_VERIFY_BLOCKS,
) -> AuditVerifyPublic:
    """Re-read the chain's logs over a block range (up to the last indexed block) and compare them with the
    database: counts and hashes per range, the events missing, extra or changed, and stored block hashes the
    chain no longer has. ``ok`` is false on any difference."""
    report = ledger.audit.verify(ledger.client, sources_from_deployment(ledger.deployment, ledger.artifacts),
                                 from_block=from_block, max_blocks=blocks)
    return AuditVerifyPublic.model_validate(report.as_json())
