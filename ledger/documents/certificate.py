"""The timestamp certificate as a document: HTML and PDF, with a QR code that opens the verify page.

The QR code carries the certificate itself: ``<public URL>/verify#cert=<base64url of its JSON>``
(a URL fragment never reaches the server, and the page checks it against the chain). The PDF also
carries the certificate JSON as an attachment (:data:`ATTACHMENT`), so ``ipledger verify FILE
CERT.pdf`` re-verifies the file from the PDF alone.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from urllib.parse import urlsplit

from ledger.documents.i18n import locale_of, render_html
from ledger.documents.pdf import CERTIFICATE_ATTACHMENT, Attached, html_to_pdf, qr_svg_uri
from ledger.errors import ValidationError
from ledger.timestamps.proofs import Certificate

ATTACHMENT = CERTIFICATE_ATTACHMENT
FRAGMENT = "cert="
FORMATS = ("pdf", "html")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

CHAIN_NAMES = {1: "Ethereum", 11155111: "Sepolia", 31337: "Anvil (local)"}


def certificate_json(cert: Certificate) -> str:
    """The certificate as compact JSON, field order as written (what the QR code carries).

    A revision's link leaves out ``revises`` (the earlier certificates, which would overflow a QR code):
    its stamp verifies on its own without them, and the PDF's attached JSON keeps the whole chain.
    """
    return json.dumps(cert.model_dump(mode="json", exclude={"revises"}), separators=(",", ":"))


def verify_url(cert: Certificate, public_url: str) -> str:
    """``<public_url>/verify#cert=<base64url, unpadded, of the certificate's compact JSON>``."""
    payload = base64.urlsafe_b64encode(certificate_json(cert).encode()).rstrip(b"=").decode()
    return f"{public_url.rstrip('/')}/verify#{FRAGMENT}{payload}"


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
    url = verify_url(cert, public_url)
    html = render_html("certificate.html", locale, zone, cert=cert, verify_url=url, qr=qr_svg_uri(url),
                       chain=chain_name(cert.chain_id), verify_page=f"{public_url.rstrip('/')}/verify")
    if fmt == "html":
        return html.encode()
    moment = dt.datetime.fromtimestamp(cert.block_time, dt.UTC)
    return html_to_pdf(html, moment=moment, attachments=[
        Attached(ATTACHMENT, (cert.dumps()).encode(), "ipledger timestamp certificate (JSON)")])


def certificate_from_pdf(pdf: bytes, what: str = "the PDF") -> Certificate:
    """The certificate a certificate PDF carries."""
    from ledger.documents.pdf import attachment

    return Certificate.loads(attachment(pdf, ATTACHMENT, what))
