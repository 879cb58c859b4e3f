"""The bank in Chromium: find an asset for a loan, read its check (red flags first, the same check as the CLI),
accept a pledge proposed to it, see the pledge's red flag, release it; a refused act shows the ledger's reason."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from playwright.sync_api import expect

from tests.web.bank_helpers import cli_as, cli_json, new_bank, propose_pledge, register_asset
from tests.web.browser import Platform, enter_password, give_key, new_page, screenshot

LATER = "2031-01-01"


def flag_codes(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#red-flags li[data-code]", "els => els.map(e => e.dataset.code)"))


def cli_flag_codes(platform: Platform, asset_id: int, maturity: str) -> list[str]:
    report = cli_json(platform, "check", str(asset_id), "--maturity", maturity)
    return [flag["code"] for flag in report["red_flags"]]


@pytest.fixture(scope="module")
def proposal(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An owner's asset with a pledge proposed (through the CLI) to a freshly accredited bank."""
    bank = new_bank(platform)
    owner = Account.create()
    asset_id, ref = register_asset(platform, owner, tmp_path_factory.mktemp("bank"))
    cli_as(platform, owner, "asset", "show", str(asset_id))
    pledge_id = propose_pledge(platform, owner, asset_id, bank.address, indexed=True)
    return {"bank": bank, "owner": owner, "asset_id": asset_id, "ref": ref, "pledge_id": pledge_id}


def test_accept_then_release_as_the_bank_pledges_and_frees_the_asset_as_the_cli_sees_it(browser, platform,
                                                                                          proposal):
    page = new_page(browser, platform, "en")
    give_key(page, proposal["bank"], name="bank")
    asset_id, pledge_id = proposal["asset_id"], proposal["pledge_id"]

    page.goto("/bank")
    listed = page.locator(f"#my-pledges tr[data-pledge='{pledge_id}']")
    expect(listed).to_contain_text("Proposed")
    expect(listed.get_by_role("link")).to_have_attribute("href", f"/assets/{asset_id}/check?maturity=2029-06-30")
    screenshot(page, "bank-with-key-en")
    page.get_by_label("Asset id or official number").fill(proposal["ref"])
    page.get_by_label("Loan maturity").fill("2029-06-30")
    page.get_by_role("button", name="Check the asset").click()
    page.wait_for_url(f"**/assets/{asset_id}/check?maturity=2029-06-30")
    sections = page.eval_on_selector_all("main section[id]", "els => els.map(e => e.id)")
    assert sections[0] == "red-flags", f"red flags come first, not after {sections}"
    assert flag_codes(page) == cli_flag_codes(platform, asset_id, "2029-06-30")
    proposed = page.locator(f"#proposals .pledge[data-pledge='{pledge_id}']")
    expect(proposed).to_contain_text(proposal["bank"].address)
    expect(proposed).to_contain_text("5,000,000 CNY")

    proposed.get_by_role("button", name="Accept the pledge").click()
    enter_password(page)
    release = page.locator("#pledge button[data-act=release]")
    expect(release).to_be_visible(timeout=30_000)
    assert cli_json(platform, "pledge", "show", str(pledge_id))["status"] == "active"
    expect(page.locator("#proposals")).to_have_count(0)

    page.goto(f"/assets/{asset_id}/check?maturity={LATER}")
    codes = flag_codes(page)
    assert "pledged" in codes and codes == cli_flag_codes(platform, asset_id, LATER)
    expect(page.locator("#red-flags li[data-code=pledged]")).to_contain_text(f"pledge {pledge_id}")
    screenshot(page, "bank-check-pledged-en")

    page.locator("#pledge details.enforce summary").click()
    page.get_by_label("Buyer's address (empty: the asset goes to the bank)").fill("0x1234")
    page.locator("#pledge button[data-act=enforce]").click()
    expect(page.locator("#pledge .act-status.bad")).to_have_text(
        "The buyer must be an account address (0x and 40 hex digits), or empty.")
    page.get_by_label("Buyer's address (empty: the asset goes to the bank)").fill("")
    page.locator("#pledge button[data-act=enforce]").click()  # before maturity: refused before anyone signs
    expect(page.locator("#pledge .act-status.bad")).to_contain_text(  # the API's reason, the pages' only source
        f"The ledger refused this act: pledge {pledge_id} can be enforced only after its maturity, 2029-06-30")
    assert cli_json(platform, "pledge", "show", str(pledge_id))["status"] == "active"

    page.locator("#pledge button[data-act=release]").click()
    enter_password(page)
    expect(page.locator("#pledge")).to_contain_text("Not pledged.", timeout=30_000)
    assert cli_json(platform, "pledge", "show", str(pledge_id))["status"] == "released"
    assert "pledged" not in flag_codes(page)
    assert not page.console_errors
    page.context.close()


def test_accept_by_an_account_that_is_not_the_bank_is_refused_with_the_reason_in_chinese(browser, platform, tmp_path):
    bank = new_bank(platform)
    owner = Account.create()
    asset_id, _ = register_asset(platform, owner, tmp_path)
    pledge_id = propose_pledge(platform, owner, asset_id, bank.address)
    stranger = Account.create()
    page = new_page(browser, platform, "zh-CN")
    give_key(page, stranger, name="stranger")
    page.goto(f"/assets/{asset_id}/check")
    block = page.locator(f"#proposals .pledge[data-pledge='{pledge_id}']")
    expect(block.locator(".act-status")).to_contain_text(stranger.address)  # warned before trying
    block.locator("button[data-act=accept]").click()
    status = block.locator(".act-status.bad")
    expect(status).to_contain_text("账本拒绝了此操作")
    text = status.inner_text()
    assert stranger.address in text and "0x" + "0" * 8 not in text and "Error" not in text
    assert not page.locator("dialog.password-dialog").is_visible(), "refused before anyone signs"
    assert cli_json(platform, "pledge", "show", str(pledge_id))["status"] == "proposed"
    screenshot(page, "bank-check-refused-zh-CN")
    assert not page.console_errors
    page.context.close()


def test_bank_pages_render_in_both_languages_with_a_screenshot_each(browser, platform, proposal, lang):
    page = new_page(browser, platform, lang)
    page.goto("/bank")
    expect(page.locator("h1")).to_have_text("银行核查" if lang == "zh-CN" else "Bank check")
    screenshot(page, f"bank-{lang}")
    page.goto(f"/bank?asset=NO-SUCH-{proposal['asset_id']}")
    expect(page.locator("#asset-problem")).to_have_text(
        "没有资产具有此编号或官方号码。" if lang == "zh-CN" else "No asset has this id or official number.")
    page.goto(f"/assets/{proposal['asset_id']}/check?maturity={LATER}")
    expect(page.locator("#red-flags h2")).to_contain_text("风险提示" if lang == "zh-CN" else "Red flags")
    if lang == "zh-CN":
        assert "未核实" in page.locator("#red-flags").inner_text()
    screenshot(page, f"bank-check-{lang}")
    assert not page.console_errors
    page.context.close()


def test_check_page_on_a_390px_phone_fits_the_screen(browser, platform, proposal):
    page = new_page(browser, platform, "zh-CN")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/assets/{proposal['asset_id']}/check?maturity={LATER}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    screenshot(page, "bank-check-390px-zh-CN")
    page.context.close()


def test_unknown_asset_check_is_a_page_not_json(platform):
    import httpx

    response = httpx.get(f"{platform.url}/assets/{2**40}/check", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "未找到" in response.text
