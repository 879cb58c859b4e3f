"""Documents over the JSON API: a certificate rendered to PDF or HTML, and ERC-721 metadata of assets.

``POST /certificates/render`` takes the certificate JSON only (never the file: a certificate holds
the file's hash, not its content) and answers the document; the web stamp page offers it as a
download. ``GET /tokens/{id}`` is where ``tokenURI(id)`` points: the deployment sets the registry's
base URI to ``<public URL>/api/v1/tokens/``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response

from api.schemas.common import PROBLEMS
from api.schemas.documents import CertificateCreate
from ledger.documents.certificate import render_certificate
from ledger.documents.tokens import token_metadata
from ledger.timestamps.proofs import Certificate

from ..deps import LedgerDep

MAX_ID = 2**53 - 1
router = APIRouter(tags=["documents"], responses=PROBLEMS)

Lang = Annotated[Literal["zh", "en"], Query(description="The document's language.")]
Format = Annotated[Literal["pdf", "html"], Query(description="The document's format.")]
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


@router.post("/certificates/render", response_class=Response,
             responses={200: {"content": {"application/pdf": {}, "text/html": {}},
                              "description": "The certificate as a document."}})
def render(
    certificate: Annotated[CertificateCreate, Body(description="The certificate JSON (FILE.ipledger.json).")],
    ledger: LedgerDep,
    lang: Lang = "zh",
    format: Format = "pdf",  # noqa: A002 - the query parameter's name
) -> Response:
    """The certificate as a PDF (or HTML) document with a QR code that opens the verify page with it.

    The PDF carries the certificate JSON as an attachment: `ipledger verify FILE CERT.pdf` verifies
    from it alone. A malformed certificate is a 400 problem naming what is wrong; a PDF with Chinese text
    on a server without a CJK font is a 503 problem saying so (the server needs `fonts-noto-cjk`).
    """
    cert = Certificate.loads(certificate.model_dump_json(exclude_unset=True))
    data = render_certificate(cert, fmt=format, lang=lang, public_url=ledger.public_url,
                              zone=ledger.settings.document_timezone)
    name = f"{cert.file_name}.ipledger.{format}".replace('"', "")
    return Response(data, media_type=MEDIA[format],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(name)}"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get("/tokens/{asset_id}", response_model=dict[str, Any])
def token(
    asset_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The asset id (the ERC-721 token id).")],
    ledger: LedgerDep,
) -> dict[str, Any]:
    """ERC-721 metadata of an asset: `name`, `description`, `external_url`, `attributes` (kind, status,
    ref, ...), and `metadata_hash` with the `metadata_document` whose SHA-256 it is."""
    return token_metadata(ledger.assets.show(asset_id), ledger.public_url)
