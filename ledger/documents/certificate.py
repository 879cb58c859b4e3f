"""The timestamp certificate as a document: HTML and PDF, with a QR code that opens the verify page.

The QR code carries the certificate itself: ``<public URL>/verify#cert=<base64url of its JSON>``
(a URL fragment never reaches the server, and the page checks it against the chain). The PDF also
carries the certificate JSON as an attachment (:data:`ATTACHMENT`), so ``ipledger verify FILE
CERT.pdf`` re-verifies the file from the PDF alone.

A QR code holds at most 2,953 bytes. A certificate whose link is longer (a batch of over 8,192 files
has a proof of 14 hashes; a long file name) gets a compact link (:func:`qr_link`), and one whose
compact link is still too long gets the verify page's plain address, the document then saying where
the certificate is: every valid certificate renders.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledger.documents.i18n import locale_of, render_html
from ledger.documents.pdf import CERTIFICATE_ATTACHMENT, Attached, QRCodeOverflow, html_to_pdf, qr_svg_uri
from ledger.errors import ValidationError
from ledger.timestamps.proofs import Certificate

ATTACHMENT = CERTIFICATE_ATTACHMENT
FRAGMENT = "cert="
FORMATS = ("pdf", "html")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

CHAIN_NAMES = {1: "Ethereum", 11155111: "Sepolia", 31337: "Anvil (local)"}
LINK_NAME_CHARS = 40
"""A compact link names the file by at most this many characters (the proof does not cover the name)."""


def certificate_json(cert: Certificate, *, compact: bool = False) -> str:
    """The certificate as compact JSON (UTF-8 as is), field order as written (what the QR code carries).

    A revision's link leaves out ``revises`` (the earlier certificates, which would overflow a QR code):
    its stamp verifies on its own without them, and the PDF's attached JSON keeps the whole chain.
    ``compact`` also leaves out ``block_time_iso`` (a reader derives it from ``block_time``) and cuts a
    file name longer than :data:`LINK_NAME_CHARS`: the digest, author, salt and proof, all that is
    checked, stay whole.
    """
    data = cert.model_dump(mode="json", exclude={"revises"})
    if compact:
        del data["block_time_iso"]
        if len(cert.file_name) > LINK_NAME_CHARS:
            data["file_name"] = cert.file_name[:LINK_NAME_CHARS - 1] + "…"
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def verify_page(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/verify"


def verify_url(cert: Certificate, public_url: str, *, compact: bool = False) -> str:
    """``<public_url>/verify#cert=<base64url, unpadded, of the certificate's compact JSON>``."""
    payload = base64.urlsafe_b64encode(certificate_json(cert, compact=compact).encode()).rstrip(b"=").decode()
    return f"{verify_page(public_url)}#{FRAGMENT}{payload}"


@dataclass(frozen=True)
class QRLink:
    """What a certificate's QR code holds (``url``) and the code itself (``svg``, a ``data:`` URI)."""

    url: str
    svg: str
    carries_certificate: bool
    """False when the code holds only the verify page's address (the certificate would not fit)."""


def qr_link(cert: Certificate, public_url: str) -> QRLink:
    """The certificate's QR code: its full link where that fits in a QR code, else its compact link
    (:func:`certificate_json`), else the verify page's plain address."""
    for compact in (False, True):
        url = verify_url(cert, public_url, compact=compact)
        try:
            return QRLink(url, qr_svg_uri(url), True)
        except QRCodeOverflow:
            continue
    page = verify_page(public_url)
    return QRLink(page, qr_svg_uri(page), False)


def certificate_from_url(url: str) -> Certificate:
    """The certificate a verify URL carries (what ``cert-from-url.js`` does in the browser)."""
    fragment = urlsplit(url).fragment
    if not fragment.startswith(FRAGMENT):
        raise ValidationError("this link carries no certificate (expected …/verify#cert=…)")
    payload = fragment[len(FRAGMENT):]
    if not _BASE64URL.fullmatch(payload):
        raise ValidationError("the certificate in this link is damaged (not base64url)")
    try:
        text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError("the certificate in this link is damaged (not base64url)") from None
    return Certificate.loads(text)


def chain_name(chain_id: int) -> str:
    return f"{CHAIN_NAMES[chain_id]} · {chain_id}" if chain_id in CHAIN_NAMES else str(chain_id)


def render_certificate(cert: Certificate, *, fmt: str = "pdf", lang: str = "zh", public_url: str,
                       zone: str = "Asia/Shanghai") -> bytes:
    """The certificate as a ``pdf`` or ``html`` document in ``lang`` (``zh`` or ``en``)."""
    if fmt not in FORMATS:
        raise ValidationError(f"--format is pdf or html, not {fmt!r}")
    locale = locale_of(lang)
    code = qr_link(cert, public_url)
    html = render_html("certificate.html", locale, zone, cert=cert, verify_url=verify_url(cert, public_url),
                       qr=code.svg, qr_carries=code.carries_certificate, attached=fmt == "pdf",
                       chain=chain_name(cert.chain_id), verify_page=verify_page(public_url))
    if fmt == "html":
        return html.encode()
    moment = dt.datetime.fromtimestamp(cert.block_time, dt.UTC)
    return html_to_pdf(html, moment=moment, attachments=[
        Attached(ATTACHMENT, (cert.dumps()).encode(), "ipledger timestamp certificate (JSON)")])


def certificate_from_pdf(pdf: bytes, what: str = "the PDF") -> Certificate:
    """The certificate a certificate PDF carries."""
    from ledger.documents.pdf import attachment

    return Certificate.loads(attachment(pdf, ATTACHMENT, what))
