"""Sealed documents: store one (ciphertext only), list those addressed to an account, fetch one, add recipients."""

from __future__ import annotations

import itertools
import tempfile
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.schemas.common import ADDRESS, HEX32, PROBLEMS, Checksummed
from api.schemas.sealed import EncryptionKeyPublic, RecipientsCreate, SealedPublic, SealedsPublic
from ledger.context import Ledger
from ledger.sealing.format import Recipient
from ledger.sealing.store import StoredSealed

from ..deps import LedgerDep
from ..limits import admit_client

router = APIRouter(prefix="/sealed", tags=["sealed"], responses=PROBLEMS)
keys_router = APIRouter(prefix="/keys", tags=["sealed"], responses=PROBLEMS)

SealedId = Annotated[str, Path(pattern=HEX32, description="The sealed id (SHA-256 of header and payload).")]


def _public(stored: StoredSealed, ledger: Ledger | None = None) -> SealedPublic:
    data = stored.as_json()
    if ledger is not None:
        data["matches"] = [m.as_json() for m in ledger.sealing.matches(stored.header)]
    return SealedPublic.model_validate(data)


@keys_router.get("/{address}", response_model=EncryptionKeyPublic)
def key_of(
    address: Annotated[str, Path(pattern=ADDRESS, description="The account.",
                                 examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]), Checksummed],
    ledger: LedgerDep,
    version: Annotated[int | None, Query(ge=1, le=2**32 - 1,  # the KeyDirectory's uint32
                                         description="The key version (default: the latest).")] = None,
) -> EncryptionKeyPublic:
    """An account's published encryption key (the KeyDirectory's ``keyOf``)."""
    return EncryptionKeyPublic.model_validate(ledger.sealing.key_of(address, version).as_json())


@router.post("", response_model=SealedPublic, status_code=201, openapi_extra={
    "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {
        "type": "string", "format": "binary"}}}}})
async def store(request: Request, ledger: LedgerDep) -> SealedPublic:
    """Store a sealed file (the body, ``application/octet-stream``, as ``ipledger seal`` writes it).

    The server checks its layout and size only: it cannot and does not decrypt. The same document again
    merges its recipient entries.
    """
    admit_client(request)
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
        async for block in request.stream():
            spool.write(block)
        spool.seek(0)
        stored = await run_in_threadpool(ledger.sealed.put, spool)  # type: ignore[arg-type]
    return _public(stored)


@router.get("", response_model=SealedsPublic)
def addressed_to(
    recipient: Annotated[str, Query(pattern=ADDRESS, description="The account the documents are sealed to.",
                                    examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]), Checksummed],
    ledger: LedgerDep,
) -> SealedsPublic:
    """The sealed documents with a wrapped key for ``recipient``, newest first."""
    found = ledger.sealed.addressed_to(recipient)
    return SealedsPublic(data=[_public(s) for s in found], count=len(found))


@router.get("/{sealed_id}/info", response_model=SealedPublic)
def info(sealed_id: SealedId, ledger: LedgerDep) -> SealedPublic:
    """What the document's header says, who can open it, and the ledger records its plaintext hash matches."""
    return _public(ledger.sealed.get(sealed_id), ledger)


@router.get("/{sealed_id}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def download(sealed_id: SealedId, ledger: LedgerDep) -> StreamingResponse:
    """The sealed file with every recipient known now (open it with ``ipledger unseal`` or in the page)."""
    blocks = ledger.sealed.stream(sealed_id)
    # the preamble and the first checked chunk before the response starts: an unknown id is a 404 problem, a
    # damaged first chunk a 500 one; a chunk damaged further on cuts the download (the format detects truncation)
    first = [next(blocks), next(blocks, b"")]
    return StreamingResponse(itertools.chain(first, blocks), media_type="application/octet-stream",
                             headers={"Content-Disposition": f'attachment; filename="{sealed_id}.sealed"'})


@router.post("/{sealed_id}/recipients", response_model=SealedPublic)
def add_recipients(sealed_id: SealedId, body: RecipientsCreate, ledger: LedgerDep, request: Request) -> SealedPublic:
    """Add wrapped keys (the payload is unchanged), signed by the sealer or a recipient of the document."""
    admit_client(request)
    entries = [Recipient.from_json(e.model_dump()) for e in body.entries]
    return _public(ledger.sealed.add_recipients(sealed_id, entries, body.signer, body.signature))
