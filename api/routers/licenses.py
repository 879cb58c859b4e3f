"""Licenses by id (an asset's licenses are under ``/assets/{id}/licenses``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.schemas.common import PROBLEMS
from api.schemas.licenses import CodesPublic, FieldOfUse, LicensePublic, Territory

from ..deps import LedgerDep

router = APIRouter(prefix="/licenses", tags=["licenses"], responses=PROBLEMS)


@router.get("/codes", response_model=CodesPublic)
def codes(
    territory: Annotated[Territory, Query(description="A territory in any spelling: CN, CHN, 156, cn, China, CN-BJ; "
                                                      "WW, * or empty: the whole world", examples=["China"])] = "",
    field_of_use: Annotated[FieldOfUse, Query(description="An IPC code in any case: h04l, H04L 9/00; empty: every "
                                                          "field", examples=["h04l"])] = "",
) -> CodesPublic:
    """The canonical codes the LicenseRegistry accepts for a licence's territory and field of use (it refuses
    any other spelling on chain): "CHN", "156", "cn" and "China" are all "CN". An unknown code is a 422."""
    return CodesPublic(territory=territory, field_of_use=field_of_use)


@router.get("/{license_id}", response_model=LicensePublic)
def license_(
    license_id: Annotated[int, Path(ge=1, le=2**53 - 1, description="The license id.", examples=[1])],
    ledger: LedgerDep,
) -> LicensePublic:
    """One license: parties, kind, status (``expired`` once its end passed), scope, fee, filing number."""
    return LicensePublic.model_validate(ledger.licenses.license_of(license_id).as_json())
