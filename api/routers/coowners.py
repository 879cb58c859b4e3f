"""Co-owned assets: the co-owners of one, an act's id and consents, and credited proceeds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.schemas.common import ADDRESS, HEX32, PROBLEMS, Checksummed
from api.schemas.coowners import ConsentsPublic, CoOwnerActCreate, CoOwnerActPublic, CoOwnersPublic, CreditPublic

from ..deps import LedgerDep

router = APIRouter(prefix="/co-owners", tags=["co-owners"], responses=PROBLEMS)

AssetId = Annotated[int, Path(ge=1, le=2**53 - 1, description="The asset id.", examples=[1])]
ActId = Annotated[str, Path(pattern=HEX32, description="The act's id (ICoOwnership.actId).")]
AddressPath = Annotated[str, Path(pattern=ADDRESS), Checksummed]


@router.get("/{asset_id}", response_model=CoOwnersPublic)
def co_owners(asset_id: AssetId, ledger: LedgerDep) -> CoOwnersPublic:
    """The co-owners of an asset, their shares and agreement, and its vault (404 if it is not co-owned)."""
    return CoOwnersPublic.model_validate(ledger.coowners.co_owners_of(asset_id).as_json())


@router.post("/{asset_id}/acts", response_model=CoOwnerActPublic)
def act(asset_id: AssetId, body: CoOwnerActCreate, ledger: LedgerDep) -> CoOwnerActPublic:
    """Describe an act that needs every co-owner: its id to consent to, who consented, and the call that
    performs it (nothing is sent: sign consents and the act through POST /relay/prepare)."""
    return CoOwnerActPublic.model_validate(ledger.coowners.act_call(asset_id, body.act, body.spec()).as_json())


@router.get("/{asset_id}/acts/{act_id}", response_model=ConsentsPublic)
def consents(asset_id: AssetId, act_id: ActId, ledger: LedgerDep) -> ConsentsPublic:
    """Who consented (unused) to act ``act_id`` of the asset, and who not yet."""
    return ConsentsPublic.model_validate(ledger.coowners.consents(asset_id, act_id).as_json())


@router.get("/credits/{token}/{account}", response_model=CreditPublic)
def credit(token: AddressPath, account: AddressPath, ledger: LedgerDep) -> CreditPublic:
    """What ``account`` may withdraw in ``token`` (``CoOwnership.withdraw``) from co-owned assets' proceeds."""
    return CreditPublic(token=token, account=account, amount=ledger.coowners.credit_of(token, account))
