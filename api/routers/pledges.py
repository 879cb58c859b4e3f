"""Pledges by id (an asset's active pledge is under ``/assets/{id}/pledge``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.schemas.common import PROBLEMS
from api.schemas.pledges import PledgePublic

from ..deps import LedgerDep

router = APIRouter(prefix="/pledges", tags=["pledges"], responses=PROBLEMS)


@router.get("/{pledge_id}", response_model=PledgePublic)
def pledge(
    pledge_id: Annotated[int, Path(ge=1, le=2**53 - 1, description="The pledge id.", examples=[1])],
    ledger: LedgerDep,
) -> PledgePublic:
    """One pledge: pledgor, pledgee, status, principal and currency, maturity, loan contract hash."""
    return PledgePublic.model_validate(ledger.pledges.pledge_of(pledge_id).as_json())
