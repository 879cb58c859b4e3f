"""Disputes over IP assets recorded by the registrar, by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.schemas.assets import DisputePublic
from api.schemas.common import PROBLEMS

from ..deps import LedgerDep

router = APIRouter(prefix="/disputes", tags=["assets"], responses=PROBLEMS)

DisputeId = Annotated[int, Path(ge=1, le=2**53 - 1, description="The dispute id.", examples=[1])]


@router.get("/{dispute_id}", response_model=DisputePublic)
def dispute(dispute_id: DisputeId, ledger: LedgerDep) -> DisputePublic:
    """One dispute, open or resolved (404 if there is none)."""
    return DisputePublic.model_validate(ledger.disputes.dispute_of(dispute_id).as_json())
