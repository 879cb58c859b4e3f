"""A bank opens the loan contract sealed to it on the check page, in Chromium: the file key unwrapped with
@hpke/core, the chunks decrypted and the SHA-256 checked in the browser, the ledger record named."""

from __future__ import annotations

import os
from pathlib import Path

from eth_account import Account
from playwright.sync_api import expect

from tests.web.bank_helpers import cli_as, new_bank, register_asset
from tests.web.browser import enter_password, give_key, new_page, screenshot


def test_bank_opens_the_sealed_loan_contract_on_the_check_page(browser, platform, tmp_path: Path):
    bank, owner = new_bank(platform), Account.create()
    for account in (bank, owner):
        cli_as(platform, account, "keys", "publish")
    asset_id, _ = register_asset(platform, owner, tmp_path)
    loan = tmp_path / "loan-contract.pdf"
    loan.write_bytes(b"%PDF-1.7 loan contract " + os.urandom(200_000))
    proposed = cli_as(platform, owner, "pledge", "propose", str(asset_id), "--to", bank.address, "--principal",
                      "1000000", "--currency", "CNY", "--maturity", "2030-06-30", "--contract-file", str(loan),
                      "--api", platform.url)  # sealed to the bank and the owner, and stored on the platform

    page = new_page(browser, platform, "en")
    give_key(page, bank, name="bank")
    page.goto(f"/assets/{asset_id}/check")
    row = page.locator(f"#sealed-docs li[data-sealed='{proposed['sealed_id']}']")
    expect(row).to_contain_text(f"Loan contract of pledge {proposed['pledgeId']}")
    with page.expect_download() as download:
        row.get_by_role("button", name="Open").click()
        enter_password(page)
    assert Path(download.value.path()).read_bytes() == loan.read_bytes()
    expect(row.locator(".result")).to_contain_text(f"pledge {proposed['pledgeId']}'s loan contract")
    screenshot(page, "bank-check-sealed-en")
    assert not page.console_errors  # type: ignore[attr-defined]
