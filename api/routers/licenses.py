"""Licenses by id (an asset's licenses are under ``/assets/{id}/licenses``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.schemas.common import PROBLEMS
from api.schemas.licenses import LicensePublic

from ..deps import LedgerDep

router = APIRouter(prefix="/licenses", tags=["licenses"], responses=PROBLEMS)


@router.get("/{license_id}", response_model=LicensePublic)
def license_(
    license_id: Annotated[int, Path(ge=1, le=2**53 - 1, description="The license id.", examples=[1])],
    ledger: LedgerDep,
) -> LicensePublic:
    """One license: parties, kind, status (``expired`` once its end passed), scope, fee, filing number."""
    return LicensePublic.model_validate(ledger.licenses.license_of(license_id).as_json())
