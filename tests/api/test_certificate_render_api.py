"""Certificates too large for a QR code of their whole link (a batch of over 8,192 files has a proof of 14
hashes; a file name of 1,024 Chinese characters) render through the API and the CLI in both languages and
formats, with a QR code that opens the verify page (read back with zbarimg) and the whole certificate
attached to the PDF."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ledger.documents.certificate import certificate_from_pdf, certificate_from_url
from ledger.timestamps.proofs import Certificate
from tests.cliproc import run_ipledger
from tests.ledger.documents.pdf_tools import pdf_text, qr_codes
from tests.ledger.documents.test_documents_render import BIG, checked_fields

TITLE = {"zh": "时间戳存证证书", "en": "Timestamp certificate"}
PUBLIC = "https://ip.example.org"


def read_back(pdf: Path, tmp_path: Path, cert: Certificate, lang: str) -> None:
    """The PDF shows the certificate, its QR code opens the verify page with it, and it carries it whole."""
    assert TITLE[lang] in pdf_text(pdf)
    [link] = qr_codes(pdf, tmp_path)
    assert "/verify#cert=" in link and checked_fields(certificate_from_url(link)) == checked_fields(cert)
    assert certificate_from_pdf(pdf.read_bytes()) == cert


@pytest.mark.parametrize("case", list(BIG))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_render_route_answers_html_and_pdf_for_a_certificate_too_large_for_a_full_qr_link(
        client, tmp_path: Path, lang: str, case: str) -> None:
    cert = BIG[case]()
    body = cert.model_dump(mode="json", exclude={"revises"})
    html = client.post("/certificates/render", params={"lang": lang, "format": "html"}, json=body)
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html") and TITLE[lang] in html.text
    answer = client.post("/certificates/render", params={"lang": lang, "format": "pdf"}, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "route.pdf"
    pdf.write_bytes(answer.content)
    read_back(pdf, tmp_path, cert, lang)


def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "IPLEDGER_PUBLIC_URL": PUBLIC})
    return run_ipledger(args, env=environment)


@pytest.mark.parametrize("case", list(BIG))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_certificate_render_command_writes_html_and_pdf_for_a_certificate_too_large_for_a_full_qr_link(
        tmp_path: Path, lang: str, case: str) -> None:
    cert = BIG[case]()
    source = tmp_path / "big.ipledger.json"
    source.write_text(cert.dumps())
    for fmt in ("html", "pdf"):
        target = tmp_path / f"big.{fmt}"
        done = run("certificate", "render", str(source), "--format", fmt, "--lang", lang, "-o", str(target),
                   "--json", data=tmp_path / "data")
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr and json.loads(done.stdout)["document"] == str(target)
    assert TITLE[lang] in (tmp_path / "big.html").read_text() and PUBLIC + "/verify#cert=" in (
        tmp_path / "big.html").read_text()
    read_back(tmp_path / "big.pdf", tmp_path, cert, lang)
    assert Certificate.load(tmp_path / "big.pdf") == cert  # what `ipledger verify FILE big.pdf` reads


def test_render_route_on_a_server_without_a_cjk_font_answers_503_naming_the_fix(
        client, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.documents import fonts

    monkeypatch.setattr(fonts, "_fonts_of_this_process", lambda: (40, 0))  # fontconfig's answer: no CJK font
    body = BIG[next(iter(BIG))]().model_dump(mode="json", exclude={"revises"})
    answer = client.post("/certificates/render", params={"lang": "zh", "format": "pdf"}, json=body)
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
    assert "apt-get install fonts-noto-cjk" in answer.json()["detail"] and "CJK" in answer.json()["detail"]
    assert client.post("/certificates/render", params={"lang": "zh", "format": "html"}, json=body).status_code == 200
