"""Registering an asset in Chromium with its full document sealed in the browser (/assets/new, "Seal the full
document to"): a recipient without a published key is refused before anything is registered; then the file is
sealed to the owner and the bank with @hpke/core and stored as ciphertext, and the bank opens it on the check
page (in the browser) and with `ipledger unseal --api` (the Python reader of the browser's file)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
from eth_account import Account
from playwright.sync_api import expect

from tests.web.bank_helpers import cli_as, new_bank
from tests.web.browser import enter_password, give_key, new_page, screenshot


def _count(platform) -> int:  # type: ignore[no-untyped-def]
    return int(httpx.get(f"{platform.url}/api/v1/assets", params={"limit": 1}).json()["count"])


def test_register_with_seal_to_bank_stores_the_sealed_document_the_bank_opens(browser, platform, tmp_path: Path):
    owner, bank, keyless = Account.create(), new_bank(platform), Account.create()
    for account in (owner, bank):
        cli_as(platform, account, "keys", "publish")
    claims = tmp_path / "full-claims.pdf"
    claims.write_bytes(b"%PDF-1.7 full claims " + secrets.token_bytes(150_000))  # three 64 KiB chunks

    page = new_page(browser, platform, "en")
    give_key(page, owner, name="owner")
    page.goto("/assets/new")
    page.set_input_files("#content", str(claims))
    page.fill("#title", "A confidential method")
    page.fill("#sealto", f"{bank.address}\n{keyless.address}")
    before = _count(platform)
    page.click("#register-form button[type=submit]")  # refused before signing: no password asked
    expect(page.locator("#result.bad")).to_contain_text(f"{keyless.address} has published no encryption key")
    assert _count(platform) == before  # refused before anything was registered

    page.fill("#sealto", bank.address)
    page.click("#register-form button[type=submit]")
    enter_password(page)
    done = page.locator("#result.ok")
    expect(done).to_contain_text("sealed to 2 account(s)", timeout=120_000)
    asset_id = int(done.locator("a").get_attribute("href").rsplit("/", 1)[1])
    screenshot(page, "register-sealed-en")
    [doc] = [d for d in httpx.get(f"{platform.url}/api/v1/sealed", params={"recipient": bank.address}).json()["data"]
             if d["record"] == {"kind": "asset", "id": asset_id}]
    assert sorted(r["address"] for r in doc["recipients"]) == sorted([owner.address, bank.address])
    assert doc["sealer"] == owner.address and doc["plaintext_size"] == claims.stat().st_size

    bank_page = new_page(browser, platform, "en")
    give_key(bank_page, bank, name="bank")
    bank_page.goto(f"/assets/{asset_id}/check")
    row = bank_page.locator(f"#sealed-docs li[data-sealed='{doc['sealed_id']}']")
    expect(row).to_contain_text("Full document of the asset")
    with bank_page.expect_download() as download:
        row.get_by_role("button", name="Open").click()
        enter_password(bank_page)
    assert Path(download.value.path()).read_bytes() == claims.read_bytes()
    expect(row.locator(".result")).to_contain_text(f"asset {asset_id}'s content hash")

    opened = tmp_path / "opened.pdf"
    said = cli_as(platform, bank, "unseal", doc["sealed_id"], "-o", str(opened), "--api", platform.url)
    assert opened.read_bytes() == claims.read_bytes() and said["matches"][0]["kind"] == "asset"
    info = httpx.get(f"{platform.url}/api/v1/sealed/{doc['sealed_id']}/info").json()
    assert json.dumps(info["matches"]) and info["plaintext_sha256"] == said["plaintext_sha256"]
    assert not page.console_errors and not bank_page.console_errors  # type: ignore[attr-defined]
