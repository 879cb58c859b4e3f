"""The stamp page's default (issue 16): the stamp service anchors the browser's commitments; the author signs the
batch's root once (the service sends the stamp, so that signature proves the author); the certificates completed
in the browser are the batch format with that signature, and `ipledger verify` accepts them."""

from __future__ import annotations

import json
import secrets

import httpx
from eth_account import Account

from ledger.timestamps.proofs import Certificate
from tests.web.browser import enter_password, give_key, screenshot


def test_stamp_page_through_the_stamp_service_signs_once_and_cli_verifies(page, platform, tmp_path):
    account = Account.create()
    give_key(page, account)
    files = [tmp_path / "assay-1.csv", tmp_path / "assay-2.csv"]
    for f in files:
        f.write_text(f"{f.name} {secrets.token_hex(16)}\n")
    page.goto("/stamp")
    assert page.is_checked("input[name=how][value=service]")
    page.set_input_files("#files", [str(f) for f in files])
    page.click("#stamp-form button[type=submit]")
    enter_password(page)  # one signature for the batch: Authorship(root)
    page.locator("#status.ok").wait_for(timeout=60_000)
    screenshot(page, "stamp-service")
    service = httpx.get(f"{platform.url}/api/v1/stamps/service").json()
    out = tmp_path / "downloads"
    out.mkdir()
    links = page.locator("#results a[download]")
    for i in range(links.count()):
        with page.expect_download() as download:
            links.nth(i).click()
        download.value.save_as(str(out / download.value.suggested_filename))
    signatures: set[str] = set()
    for f in files:
        text = (out / f"{f.name}.ipledger.json").read_text()
        cert = Certificate.loads(text)
        assert cert.dumps() == text, "the CLI's own bytes"
        assert cert.author == account.address and cert.stamper == service["address"]
        assert cert.authorship is not None
        signatures.add(cert.authorship.signature)
        answer = httpx.get(f"{platform.url}/api/v1/stamps/{cert.leaf}").json()
        assert answer["status"] == "anchored" and answer["root"] == cert.root and answer["proof"] == cert.proof
        platform.cli("verify", str(f), str(out / f"{f.name}.ipledger.json"))
    assert len(signatures) == 1, "one signature for the batch"
    assert json.loads(page.evaluate("localStorage.getItem('ipledger.pending-stamps')")) == []
    assert not page.console_errors


def test_stamp_page_declining_the_authors_signature_sends_no_leaf(page, platform, tmp_path):
    account = Account.create()
    give_key(page, account)
    work = tmp_path / "draft.txt"
    work.write_text(f"draft {secrets.token_hex(8)}")
    page.goto("/stamp")
    page.set_input_files("#files", [str(work)])
    page.click("#stamp-form button[type=submit]")
    page.locator("dialog.password-dialog button[value=cancel]").click()
    page.locator("#status.bad").wait_for()
    assert "declined" in page.locator("#status").inner_text()
    assert page.evaluate("localStorage.getItem('ipledger.pending-stamps')") in (None, "[]")
    assert not list(tmp_path.glob("*.ipledger.json"))
