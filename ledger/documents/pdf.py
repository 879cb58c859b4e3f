"""HTML to PDF (WeasyPrint) with attachments, deterministic; QR codes (segno); data back out of a PDF (pypdf).

A PDF's dates are the document's own time (the block it was read at), not the clock, and its file
identifier is a hash of its HTML and attachments: the same document is the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import ValidationError

PDF_MAGIC = b"%PDF-"
CERTIFICATE_ATTACHMENT = "certificate.ipledger.json"
"""The name of the certificate JSON inside a certificate PDF."""


@dataclass(frozen=True)
class Attached:
    """A file carried inside a PDF (``/EmbeddedFiles``)."""

    name: str
    data: bytes
    description: str = ""


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(PDF_MAGIC)


def html_to_pdf(html: str, *, moment: dt.datetime, attachments: Sequence[Attached] = ()) -> bytes:
    """Print ``html`` to PDF; ``moment`` is its creation and modification date (the document's time).

    HTML with Chinese text on a machine without a CJK font is refused (a ConfigurationError naming the
    fix) rather than printed with empty boxes for every character (:mod:`ledger.documents.fonts`).
    """
    from ledger.documents.fonts import require_cjk_font

    require_cjk_font(html)
    from weasyprint import HTML, Attachment

    stamp = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = (f'<meta name="dcterms.created" content="{stamp}">'
            f'<meta name="dcterms.modified" content="{stamp}">')
    html = html.replace("<head>", "<head>" + meta, 1)
    identity = hashlib.sha256(html.encode())
    for item in attachments:
        identity.update(item.name.encode() + b"\0" + item.data)
    files = [Attachment(string=item.data, name=item.name, description=item.description or None,
                        created=moment, modified=moment)
             for item in attachments]
    pdf: bytes = HTML(string=html, base_url=None).write_pdf(
        attachments=files, identifier=identity.hexdigest()[:32].encode())
    return pdf


def attachment(pdf: bytes, name: str, what: str = "the PDF") -> bytes:
    """The file ``name`` attached to ``pdf``; a PDF without it (or not a PDF) is bad input."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        found = PdfReader(io.BytesIO(pdf)).attachments.get(name)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ValidationError(f"{what} is not a readable PDF: {exc}") from None
    if not found:
        raise ValidationError(f"{what} carries no {name} (not a document ipledger made)")
    return bytes(found[0])


QR_LEVELS = ("m", "l")
"""Error correction tried in turn: M (a smudged print still reads) where the data fits, else L, which holds the
most (a version 40 code: 2,953 bytes)."""


class QRCodeOverflow(ValueError):
    """The data is too large for any QR code (even version 40 at error correction L)."""


def qr_svg_uri(data: str) -> str:
    """A QR code of ``data`` as an SVG ``data:`` URI, at the first of :data:`QR_LEVELS` it fits in (the smallest
    version of that level); :class:`QRCodeOverflow` when it fits in none."""
    import segno
    from segno.encoder import DataOverflowError

    for level in QR_LEVELS:
        try:
            code = segno.make(data, error=level, micro=False, boost_error=False)
        except DataOverflowError:
            continue
        uri: str = code.svg_data_uri(scale=4, border=4, dark="#000", light="#fff")
        return uri
    raise QRCodeOverflow(f"{len(data.encode())} bytes do not fit in a QR code")
