"""Timestamp look-ups and certificate verification (the file is hashed by the client)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, Path

from api.schemas.common import HEX32, PROBLEMS
from api.schemas.timestamps import FinalityPublic, StampPublic, VerifiesPublic, VerifyCreate, VerifyPublic
from ledger.errors import ValidationError
from ledger.timestamps.proofs import Certificate

from .. import refusals
from ..deps import LedgerDep, LocaleDep

MAX_BATCH = 1000

router = APIRouter(prefix="/timestamps", tags=["timestamps"], responses=PROBLEMS)


@router.get("/{key}", response_model=StampPublic)
def stamp(key: str = Path(pattern=HEX32, examples=["0x" + "5a" * 32]), *, ledger: LedgerDep) -> StampPublic:
    """The first record of a certificate's ``root``: a batch's Merkle root, or a single stamp's one-leaf
    root ``keccak256(leaf)`` (certificates from before that rule: the leaf itself)."""
    return StampPublic(**ledger.timestamps.record(bytes.fromhex(key[2:])))  # type: ignore[arg-type]


def _verify(ledger: LedgerDep, body: VerifyCreate, locale: str | None) -> VerifyPublic:
    try:
        cert = Certificate.loads(json.dumps(body.certificate))
        v = ledger.timestamps.verify_digest(bytes.fromhex(body.digest[2:]), cert)
    except ValidationError as exc:  # a malformed certificate is as invalid as a forged one
        return VerifyPublic(valid=False, reason=refusals.detail(exc, locale))
    return VerifyPublic(valid=True, author=v.author, stamper=v.stamper, block_number=v.block_number,
                        block_time=v.block_time, block_time_iso=v.block_time_iso, tx_hash=v.tx_hash,
                        chain_id=v.chain_id,
                        finality=FinalityPublic(**v.finality.as_json()) if v.finality is not None else None)


@router.post("/verify", response_model=VerifyPublic)
def verify(body: VerifyCreate, ledger: LedgerDep, locale: LocaleDep) -> VerifyPublic:
    """Verify a certificate for a file's SHA-256: ``valid`` with who and when, or the reason it fails (in the
    language the request states, English if none)."""
    return _verify(ledger, body, locale)


@router.post("/verify-batch", response_model=VerifiesPublic)
def verify_batch(
    body: Annotated[list[VerifyCreate], Body(max_length=MAX_BATCH)], ledger: LedgerDep, locale: LocaleDep
) -> VerifiesPublic:
    """Verify many certificates at once (at most ``IPLEDGER_API_MAX_BATCH``)."""
    if len(body) > ledger.settings.api_max_batch:
        raise ValidationError(f"at most {ledger.settings.api_max_batch} certificates per request, got {len(body)}")
    results = [_verify(ledger, item, locale) for item in body]
    return VerifiesPublic(data=results, count=len(results))
