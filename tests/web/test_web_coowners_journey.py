"""A co-owned patent in Chromium: co-owner A registers it with B (shares 60/40) on /assets/new; the bank check
shows the co-owners and the red flag that no pledge has every co-owner's consent; B consents to the pledge on
the co-owners' page with B's own key (relayed: B holds no ether); A performs it; the flag is gone and the pledge
is proposed by the co-ownership vault."""

from __future__ import annotations

import uuid

from eth_account import Account
from playwright.sync_api import expect

from tests.web.bank_helpers import cli_json, new_bank
from tests.web.browser import enter_password, give_key, new_page, screenshot


def _pledge_form(page, bank: str) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#co-act", "pledge")
    page.fill("#co-to", bank)
    page.fill("#co-principal", "1000000")
    page.fill("#co-maturity", "2031-06-30")


def test_co_owned_patent_registered_consented_and_pledged_in_the_browser(browser, platform, tmp_path):
    a, b = Account.create(), Account.create()
    bank = new_bank(platform)
    claims = tmp_path / f"claims-{uuid.uuid4().hex[:8]}.txt"
    claims.write_text(f"What is claimed is a co-owned method ({uuid.uuid4().hex}).\n")

    page_a = new_page(browser, platform, "en")
    give_key(page_a, a, "a")
    page_a.goto("/assets/new")
    page_a.set_input_files("#content", str(claims))
    page_a.fill("#title", "A co-owned method")
    page_a.fill("#coowners", f"{a.address}:6000\n{b.address}:4000")
    page_a.click("#register-form button[type=submit]")
    enter_password(page_a)
    page_a.locator("#result.ok, #result.bad").wait_for(timeout=120_000)
    done = page_a.locator("#result")
    assert "co-owned" in done.inner_text(), done.inner_text()
    asset_id = int(done.locator("a").get_attribute("href").rsplit("/", 1)[1])

    page_a.goto(f"/assets/{asset_id}/check")
    expect(page_a.locator("#red-flags li[data-code=co_owners_not_consented]")).to_contain_text("60 %")
    expect(page_a.locator(f"#coowners tr[data-coowner='{b.address}']")).to_contain_text("40 %")
    page_a.goto(f"/assets/{asset_id}")
    expect(page_a.locator("#coowners")).to_contain_text(a.address)

    page_b = new_page(browser, platform, "zh-CN")
    give_key(page_b, b, "b")
    page_b.goto(f"/assets/{asset_id}/co-owners")
    expect(page_b.locator("#who.ok")).to_contain_text(b.address)
    _pledge_form(page_b, bank.address)
    page_b.click("#co-consent")
    enter_password(page_b)
    expect(page_b.locator("#co-result.ok")).to_be_visible(timeout=120_000)
    expect(page_b.locator("#co-given")).to_contain_text(b.address)
    screenshot(page_b, "coowners-consent-zh")

    page_a.goto(f"/assets/{asset_id}/co-owners")
    _pledge_form(page_a, bank.address)
    page_a.click("#co-perform")
    enter_password(page_a)
    expect(page_a.locator("#co-result.ok")).to_be_visible(timeout=120_000)

    report = cli_json(platform, "check", str(asset_id))
    assert "co_owners_not_consented" not in [f["code"] for f in report["red_flags"]]
    assert report["co_owners"]["co_owners"] == [
        {"address": a.address, "bps": 6000, "percent": 60.0}, {"address": b.address, "bps": 4000, "percent": 40.0}]
    proposed = [e for e in report["history"] if e["event"] == "PledgeProposed"]
    assert proposed and proposed[-1]["args"]["pledgor"] == report["co_owners"]["vault"]
    screenshot(page_a, "coowners-performed-en")
    assert not page_a.console_errors and not page_b.console_errors  # type: ignore[attr-defined]
