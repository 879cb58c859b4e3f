"""Asset metadata documents, content-addressed: store one, fetch one by its SHA-256."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.schemas.common import HEX32, PROBLEMS
from api.schemas.metadata import MetadataCreate, MetadataPublic, MetadataStoredPublic

from ..deps import LedgerDep

router = APIRouter(prefix="/metadata", tags=["metadata"], responses=PROBLEMS)


@router.post("", response_model=MetadataStoredPublic, status_code=201)
def store(body: MetadataCreate, ledger: LedgerDep, request: Request) -> MetadataStoredPublic:
    """Store a metadata document; put the returned ``hash`` and ``uri`` in the asset's registration.

    The document is kept as canonical JSON (sorted keys, compact, UTF-8): its SHA-256 is the hash.
    """
    request.app.state.rate_limiter.check(f"metadata:{request.client.host if request.client else '-'}")
    stored = ledger.metadata.put(body.model_dump())
    return MetadataStoredPublic(hash=stored.hash, uri=stored.uri, size=stored.size)


@router.get("/{digest}", response_model=MetadataPublic)
def document(
    digest: Annotated[str, Path(pattern=HEX32, description="The document's SHA-256 (the asset's metadataHash).",
                                examples=["0x" + "fc" * 32])],
    ledger: LedgerDep,
) -> Response:
    """The document, byte for byte as hashed: ``sha256(body)`` is ``digest``."""
    return Response(ledger.metadata.get_bytes(digest), media_type="application/json")
