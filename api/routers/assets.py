"""IP assets: one asset, a page of them, an asset's licenses and pledge, and the bank check."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.schemas.assets import AssetPublic, AssetsPublic, CheckPublic, DisputePublic, DisputesPublic, LineagePublic
from api.schemas.common import PROBLEMS
from api.schemas.licenses import LicensePublic, LicensesPublic
from api.schemas.pledges import PledgePublic
from ledger.context import Ledger

from ..deps import LedgerDep

CHECK_HEAD_MAX_AGE = 0.05
"""Seconds a bank check may trust its last look at the chain head: a report is reused while the
head has not moved, so under load the check is served from memory, at most this much behind."""

MAX_ID = 2**53 - 1

router = APIRouter(prefix="/assets", tags=["assets"], responses=PROBLEMS)

AssetId = Annotated[int, Path(ge=1, le=MAX_ID, description="The asset id.", examples=[1])]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]


@router.get("", response_model=AssetsPublic)
def assets(ledger: LedgerDep, limit: Limit = 50, offset: Offset = 0) -> AssetsPublic:
    """Registered assets, oldest first, a page at a time."""
    views, count = ledger.assets.page(offset, limit)
    return AssetsPublic(data=[AssetPublic.model_validate(v.as_json()) for v in views], count=count)


@router.get("/{asset_id}", response_model=AssetPublic)
def asset(asset_id: AssetId, ledger: LedgerDep) -> AssetPublic:
    """The asset now: owner, kind, legal status, verification, dates, freeze, registration and title."""
    return AssetPublic.model_validate(ledger.assets.show(asset_id).as_json())


@router.get("/{asset_id}/licenses", response_model=LicensesPublic)
def licenses(
    asset_id: AssetId, ledger: LedgerDep, limit: Limit = 50, offset: Offset = 0,
    active: Annotated[bool, Query(description="Only the active licenses.")] = False,
) -> LicensesPublic:
    """The asset's licenses, oldest first (or only the active ones)."""
    page, count = ledger.licenses.licenses_of(asset_id, offset=offset, limit=limit, active_only=active)
    return LicensesPublic(data=[LicensePublic.model_validate(lic.as_json()) for lic in page], count=count)


@router.get("/{asset_id}/pledge", response_model=PledgePublic)
def pledge(asset_id: AssetId, ledger: LedgerDep) -> PledgePublic:
    """The asset's active pledge (404 when it is not pledged)."""
    return PledgePublic.model_validate(ledger.pledges.require_active_pledge_of(asset_id).as_json())


@router.get("/{asset_id}/disputes", response_model=DisputesPublic)
def disputes(asset_id: AssetId, ledger: LedgerDep) -> DisputesPublic:
    """The disputes over the asset that are open now, oldest first (an open dispute of ownership stops
    every transfer of the asset and new pledges). The registrar opens and resolves them by a signed,
    relayed request (``openDispute``, ``resolveDispute`` of the IPRegistry, see ``/relay/prepare``)."""
    found = ledger.disputes.open_disputes_of(asset_id)
    return DisputesPublic(data=[DisputePublic.model_validate(d.as_json()) for d in found], count=len(found))


@router.get("/{asset_id}/lineage", response_model=LineagePublic)
def lineage(asset_id: AssetId, ledger: LedgerDep) -> LineagePublic:
    """The asset's parent (named by its owner with ``setParent``) and the assets that name it as theirs."""
    ledger.assets.asset_of(asset_id)  # an unknown asset is a 404, not an empty lineage
    return LineagePublic.model_validate(ledger.disputes.lineage(asset_id).as_json())


async def _ledger(request: Request) -> Ledger:
    """The open ledger, without the worker-thread hop a plain ``def`` dependency costs (LedgerDep)."""
    ledger: Ledger = request.app.state.ledger
    return ledger


@router.get("/{asset_id}/check", response_model=CheckPublic)
async def check(
    asset_id: AssetId,
    ledger: Annotated[Ledger, Depends(_ledger)],
    maturity: Annotated[
        date | None, Query(description="The loan's maturity: flags an expiry before it.", examples=["2027-06-30"]),
    ] = None,
) -> Response:
    """A bank's due diligence in one read: owner, kind, official number, legal status, verification,
    freeze, active pledge, active licenses (exclusive/sole flagged), the history with transaction
    hashes, and the red flags for a loan maturing at ``maturity``.

    Served from memory while the chain head has not moved (looked at every
    ``CHECK_HEAD_MAX_AGE`` seconds); otherwise read from the chain in one JSON-RPC round trip.
    """
    when = max(1, calendar.timegm(maturity.timetuple())) if maturity else 0  # midnight UTC; 1970 at the earliest
    report = ledger.check.cached(asset_id, when, CHECK_HEAD_MAX_AGE)
    if report is None:
        report = await run_in_threadpool(ledger.check.due_diligence, asset_id, when, max_age=CHECK_HEAD_MAX_AGE)
    return Response(report.as_json_bytes(), media_type="application/json")
