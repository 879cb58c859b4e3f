"""The stamp service: submit leaves, get signed pending receipts, then proofs once their round is anchored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError

from api.limits import admit_client, client_address
from api.schemas.common import HEX32, PROBLEMS
from api.schemas.stamps import ReceiptPublic, ReceiptsPublic, StampsCreate, StampServicePublic, StampStatusPublic
from ledger.errors import NotFoundError
from ledger.timestamps.aggregator import StampAggregator

from ..deps import LedgerDep

MAX_WAIT = 60.0
"""Longest long poll (``?wait=``), in seconds."""

router = APIRouter(prefix="/stamps", tags=["stamps"], responses=PROBLEMS)


def _service(ledger: LedgerDep) -> StampAggregator:
    service = ledger.stamp_service
    if service is None:
        raise NotFoundError("this server runs no stamp service (it needs IPLEDGER_STAMP_SERVICE_KEY); stamp on "
                            "chain instead (`ipledger stamp` without --service, or POST /relay)")
    return service


@router.get("/service", response_model=StampServicePublic)
def service(ledger: LedgerDep) -> StampServicePublic:
    """The service's address (the signer of pending receipts and the stamper of its rounds), the EIP-712 domain
    and types to check receipts with, and its round interval and limits."""
    return StampServicePublic(**_service(ledger).describe())


@router.post("", response_model=ReceiptsPublic)
def submit(body: StampsCreate, request: Request, ledger: LedgerDep) -> ReceiptsPublic:
    """Submit leaves (at most ``IPLEDGER_STAMP_MAX_LEAVES_PER_REQUEST``). The answer comes once they are durable:
    one signed pending receipt per leaf, in order; a leaf submitted before gets its first receipt again."""
    admit_client(request)
    stamps = _service(ledger)
    if len(body.leaves) > stamps.max_leaves_per_request:
        raise too_many_leaves(len(body.leaves), stamps.max_leaves_per_request)
    state = request.app.state
    state.stamp_rate_limiter.check(f"client {client_address(request, state.trusted_proxies)} (leaves)",
                                   cost=min(len(body.leaves), state.stamp_rate_limiter.burst))
    receipts = stamps.submit(body.leaves)
    data = [ReceiptPublic.model_construct(**r.as_json()) for r in receipts]
    return ReceiptsPublic.model_construct(data=data, count=len(data))


def too_many_leaves(count: int, limit: int) -> RequestValidationError:
    """More leaves than the service takes: the 422 pydantic's ``max_length`` would give (the limit is a setting)."""
    return RequestValidationError([{
        "type": "too_long", "loc": ("body", "leaves"),
        "msg": f"List should have at most {limit} items after validation, not {count}",
        "ctx": {"field_type": "List", "max_length": limit, "actual_length": count}}])


@router.get("/{leaf}", response_model=StampStatusPublic)
async def status(
    leaf: Annotated[str, Path(pattern=HEX32, examples=["0x" + "5a" * 32])],
    ledger: LedgerDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT, allow_inf_nan=False,
                                 description="Seconds to wait for the round to be anchored before answering (a long "
                                             "poll): a number from 0 to 60.")] = 0,
) -> StampStatusPublic:
    """Where a leaf stands: ``pending`` with its receipt, or ``anchored`` with root, proof and transaction. With
    ``wait`` the answer comes as soon as the leaf is anchored, or after ``wait`` seconds still pending."""
    found = await _service(ledger).wait(leaf, wait)
    return StampStatusPublic(**found.as_json())
