"""Documents from the pages: the stamp page's printable PDF, the verify page opened by a certificate's QR
link, the bank check's due-diligence PDF, the dashboard's audit report; each checked with tools we did
not write (pdftotext, the CLI's verify)."""

from __future__ import annotations

import datetime as dt
import secrets
import subprocess
from pathlib import Path

from eth_account import Account

from ledger.documents.certificate import verify_url
from ledger.timestamps.proofs import Certificate
from tests.web.bank_helpers import register_asset
from tests.web.browser import enter_password, give_key, new_page


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def stamp_with_cli(platform, tmp_path: Path) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    file = tmp_path / "lab-notes.txt"
    file.write_text(f"lab notes {secrets.token_hex(8)}\n")
    platform.cli("--dev-account", "6", "stamp", str(file))
    return file, tmp_path / "lab-notes.txt.ipledger.json"


def test_stamp_page_printable_pdf_verifies_its_file_with_the_cli_alone(page, platform, tmp_path):
    give_key(page, Account.create())
    file = tmp_path / "manuscript.txt"
    file.write_text(f"chapter one {secrets.token_hex(8)}\n")
    page.goto("/stamp")
    page.check("input[name=how][value=chain]")
    page.set_input_files("#files", str(file))
    page.click("#stamp-form button[type=submit]")
    enter_password(page)
    page.locator("#status.ok").wait_for(timeout=120_000)
    with page.expect_download() as download:
        page.locator("#results button.pdf").first.click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(str(pdf))
    assert pdf.name == "manuscript.txt.ipledger.pdf" and pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "manuscript.txt" in text
    verified = platform.cli("verify", str(file), str(pdf))
    assert "valid" in verified.stdout.lower()


def test_verify_page_opened_by_a_certificates_qr_link_verifies_with_the_file_alone(browser, platform, lang, tmp_path):
    file, cert_path = stamp_with_cli(platform, tmp_path)
    cert = Certificate.loads(cert_path.read_text())
    link = verify_url(cert, platform.url)
    page = new_page(browser, platform, lang)
    page.goto(link)
    note = page.locator("#linked-certificate")
    note.wait_for()
    assert str(cert.block_number) in note.inner_text()
    page.set_input_files("#file", str(file))
    page.locator("#verify-form button[type=submit]").click()
    page.locator("#result.ok").wait_for()
    assert cert.author in page.locator("#result").inner_text()
    damaged = new_page(browser, platform, lang)
    damaged.goto(link[:-12])  # a link cut off by a bad scan
    assert damaged.locator("#result.bad").inner_text()
    assert not page.console_errors and not damaged.console_errors
    page.context.close()
    damaged.context.close()


def test_bank_check_pdf_link_downloads_the_report_at_that_maturity(page, platform, tmp_path):
    owner = Account.create()
    asset_id, ref = register_asset(platform, owner, tmp_path, title="Solar cell")
    page.goto(f"/assets/{asset_id}/check?maturity=2031-06-30")
    with page.expect_download() as download:
        page.locator("#report-pdf").click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(str(pdf))
    text = pdf_text(pdf)
    assert ref.upper() in text.upper() and owner.address in text.replace("\n", "")


def test_dashboard_report_form_downloads_the_audit_report_of_a_period(page, platform, tmp_path):
    page.goto("/audit")
    today = dt.datetime.now(dt.UTC).date()
    page.fill("#report-from", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#report-to", today.isoformat())
    with page.expect_download() as download:
        page.locator("#report-form button[type=submit]").click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF") and "ipledger" in pdf_text(pdf).lower()
