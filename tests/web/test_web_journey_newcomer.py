"""A newcomer's day on the platform, in Chinese, without the CLI: a key made in the browser, an asset
registered, pledged from the owner's page, accepted by the bank on its check page, which then shows the
pledge as a red flag; the dashboard counts it. Each area's own tests go deeper; this one proves the
pages work together. (The admin accrediting the bank, `ipledger role grant`, is the only CLI step.)"""

from __future__ import annotations

import json
import secrets

from eth_account import Account
from playwright.sync_api import expect

from tests.web.browser import PASSWORD, enter_password, give_key, new_page


def test_newcomer_creates_a_key_registers_pledges_and_the_bank_accepts_all_in_the_browser(browser, platform,
                                                                                          tmp_path):
    bank = Account.create()
    platform.cli("--dev-account", "0", "role", "grant", "pledgee", bank.address)

    owner = new_page(browser, platform, "zh-CN")
    owner.goto("/keys")
    owner.fill("#create-name", f"inventor{secrets.token_hex(3)}")
    owner.fill("#create-password", PASSWORD)
    owner.fill("#create-password2", PASSWORD)
    owner.click("#create-form button[type=submit]")
    owner.locator("#create-result.ok").wait_for(timeout=120_000)
    address = json.loads(owner.evaluate("localStorage.getItem('ipledger.active')"))["address"]

    owner.goto("/assets/new")
    claims = tmp_path / "claims.txt"
    claims.write_text(f"1. 一种固态电池 {secrets.token_hex(8)}。\n")
    ref = f"CN2026{secrets.randbelow(10**7):07d}.{secrets.randbelow(10)}"
    owner.set_input_files("#content", str(claims))
    owner.select_option("#kind", "invention-patent")
    owner.fill("#ref", ref)
    owner.fill("#title", "一种固态电池")
    owner.click("#register-form button[type=submit]")
    enter_password(owner)  # a new page: the key is asked for again
    done = owner.locator("#result.ok")
    done.wait_for(timeout=120_000)
    asset_id = int(done.locator("a").get_attribute("href").rsplit("/", 1)[1])

    owner.goto(f"/assets/{asset_id}")
    expect(owner.locator("main")).to_contain_text(address)
    owner.goto(f"/assets/{asset_id}/manage")
    form = owner.locator("#pledge-form")
    form.locator("#pl-pledgee").fill(bank.address)
    form.locator("#pl-principal").fill("3000000")
    form.locator("button[type=submit]").click()
    enter_password(owner)
    expect(owner.locator("#pledge-form .result.ok")).to_be_visible(timeout=60_000)
    assert not owner.console_errors
    owner.context.close()

    lender = new_page(browser, platform, "zh-CN")
    give_key(lender, bank, name="bank")
    lender.goto("/bank")  # its proposals come from the audit index, which follows the chain within a block or two
    listed = lender.locator("#my-pledges").get_by_role("link")
    for _ in range(60):
        if listed.count():
            break
        lender.wait_for_timeout(500)
        lender.reload()
    assert listed.count(), "the bank's page lists the proposal once the index has it"
    lender.goto(f"/assets/{asset_id}/check?maturity=2029-06-30")
    proposal = lender.locator("#proposals .pledge").first
    expect(proposal).to_contain_text(bank.address)
    proposal.locator("button").first.click()  # accept
    enter_password(lender)
    expect(lender.locator("#pledge button[data-act=release]")).to_be_visible(timeout=60_000)
    lender.goto(f"/assets/{asset_id}/check?maturity=2031-06-30")
    expect(lender.locator("#red-flags li[data-code=pledged]")).to_be_visible()
    assert "质押" in lender.locator("#red-flags").inner_text()
    shown = json.loads(platform.cli("check", str(asset_id), "--maturity", "2031-06-30", "--json").stdout)
    assert "pledged" in {flag["code"] for flag in shown["red_flags"]}

    lender.goto("/audit")
    expect(lender.locator("main")).to_contain_text("服务中心")
    assert not lender.console_errors
    lender.context.close()
