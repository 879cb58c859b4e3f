"""Disputes and parents in Chromium: an open ownership dispute is the first red flag of the bank check, in the
reader's language, with its case; the check and the public asset page list the disputes and link parent and child;
once the registrar resolves it the flag is gone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eth_account import Account
from playwright.sync_api import expect

from tests.web.bank_helpers import cli_as, cli_json, register_asset
from tests.web.browser import Platform, new_page, screenshot


@pytest.fixture(scope="module")
def disputed(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A parent and its child (a divisional), the child under an ownership dispute opened by the registrar."""
    owner = Account.create()
    folder = tmp_path_factory.mktemp("disputes")
    parent, _ = register_asset(platform, owner, folder, "A method of pledging")
    child, _ = register_asset(platform, owner, folder, "A divisional method of pledging")
    cli_as(platform, owner, "asset", "parent", str(child), str(parent))
    listed = cli_as(platform, owner, "market", "list", str(child), "--price", "100")  # before the dispute opens
    case = f"(2026)JING73MINCHU{uuid.uuid4().int % 10**6}"
    opened = cli_json(platform, "--dev-account", "0", "dispute", "open", str(child), "--kind", "ownership",
                      "--case", case, "--evidence-hash", "0x" + "0e" * 32)
    return {"owner": owner, "parent": parent, "child": child, "case": case, "dispute_id": int(opened["disputeId"]),
            "listing_id": int(listed["listing"]["listing_id"])}


def test_check_with_open_ownership_dispute_shows_it_first_in_the_readers_language(browser, platform, disputed, lang):
    page = new_page(browser, platform, lang)
    child, parent, case, dispute_id = disputed["child"], disputed["parent"], disputed["case"], disputed["dispute_id"]
    page.goto(f"/assets/{child}/check")
    codes = page.eval_on_selector_all("#red-flags li[data-code]", "els => els.map(e => e.dataset.code)")
    assert codes[0] == "ownership_disputed", codes
    cli_codes = [f["code"] for f in cli_json(platform, "check", str(child))["red_flags"]]
    assert codes == cli_codes
    flag = page.locator("#red-flags li[data-code=ownership_disputed]")
    expect(flag).to_contain_text(case)
    expect(flag).to_contain_text(f"{dispute_id}")
    expected = ("its ownership is in dispute" if lang == "en" else "权属存在争议")
    expect(flag).to_contain_text(expected, ignore_case=True)
    row = page.locator(f"#disputes tr[data-dispute='{dispute_id}']")
    expect(row).to_have_attribute("data-open", "yes")
    expect(row).to_contain_text("Ownership dispute" if lang == "en" else "权属纠纷")
    expect(page.locator("[data-field=parent] a")).to_have_attribute("href", f"/assets/{parent}/check")
    screenshot(page, f"disputes-check-{lang}")

    page.goto(f"/assets/{child}")
    expect(page.locator(".asset-head .badge.bad")).to_contain_text(
        "Ownership in dispute" if lang == "en" else "权属存在争议")
    expect(page.locator(f"#disputes tr[data-dispute='{dispute_id}']")).to_contain_text(case)
    page.locator("[data-field=parent] a").click()
    page.wait_for_url(f"**/assets/{parent}")
    expect(page.locator("[data-field=children]")).to_contain_text(f"#{child}")
    screenshot(page, f"disputes-parent-{lang}")
    assert not page.console_errors  # type: ignore[attr-defined]


def test_listing_a_disputed_asset_is_refused_naming_the_dispute_and_the_board_marks_its_listing(browser, platform,
                                                                                                 disputed, lang):
    from tests.web.browser import give_key

    child, dispute_id, listing_id = disputed["child"], disputed["dispute_id"], disputed["listing_id"]
    page = new_page(browser, platform, lang)
    give_key(page, disputed["owner"], name="owner")
    page.goto(f"/assets/{child}/manage")
    form = page.locator("#sale-form")
    form.locator("#sale-price").fill("120")
    form.locator("button[type=submit]").click()
    result = page.locator("#sale-form .result.bad")
    expect(result).to_contain_text(f"dispute {dispute_id}" if lang == "en" else f"争议 {dispute_id}", timeout=30_000)
    expect(result).to_contain_text("cannot be offered for sale" if lang == "en" else "不能出售")
    assert not page.locator("dialog.password-dialog").is_visible(), "refused before anyone signs"
    (listing,) = cli_json(platform, "market", "listings", "--asset", str(child))["data"]
    assert listing["listing_id"] == listing_id and listing["price"] == 100_000_000  # the earlier one, unchanged

    page.goto(f"/market?q={child}")
    row = page.locator(f"#sale-{listing_id}")
    expect(row.locator(f".disputed[data-dispute='{dispute_id}']")).to_contain_text(
        "Not purchasable while the ownership dispute is open" if lang == "en" else "权属争议未解决前不可购买")
    expect(row.locator("button[data-act=buy]")).to_have_count(0)
    screenshot(page, f"disputes-market-{lang}")
    assert not page.console_errors  # type: ignore[attr-defined]


def test_check_after_dispute_resolved_shows_no_dispute_flag_and_the_outcome(browser, platform, tmp_path):
    owner = Account.create()
    asset_id, _ = register_asset(platform, owner, tmp_path, "A resolved case")
    opened = cli_json(platform, "--dev-account", "0", "dispute", "open", str(asset_id), "--kind",
                      "infringement-suit", "--case", f"C{uuid.uuid4().hex[:8].upper()}")
    page = new_page(browser, platform, "en")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/assets/{asset_id}/check")
    expect(page.locator("#red-flags li[data-code=disputed]")).to_contain_text("Infringement suit")
    platform.cli("--dev-account", "0", "dispute", "resolve", str(opened["disputeId"]), "--outcome", "settled")
    page.goto(f"/assets/{asset_id}/check")
    expect(page.locator("#red-flags li[data-code=disputed]")).to_have_count(0)
    expect(page.locator(f"#disputes tr[data-dispute='{opened['disputeId']}']")).to_contain_text("Settled")
    screenshot(page, "disputes-check-resolved-phone-en")


def test_bank_accepting_a_pledge_after_an_ownership_dispute_opened_is_refused_with_the_reason(browser, platform,
                                                                                              tmp_path, lang):
    from tests.web.bank_helpers import new_bank, propose_pledge
    from tests.web.browser import give_key

    bank = new_bank(platform)
    owner = Account.create()
    asset_id, _ = register_asset(platform, owner, tmp_path, "A disputed pledge")
    pledge_id = propose_pledge(platform, owner, asset_id, bank.address)
    opened = cli_json(platform, "--dev-account", "0", "dispute", "open", str(asset_id), "--kind", "ownership",
                      "--case", f"C{uuid.uuid4().hex[:8].upper()}")
    page = new_page(browser, platform, lang)
    give_key(page, bank, name="bank")
    page.goto(f"/assets/{asset_id}/check")
    expect(page.locator("#red-flags li[data-code=ownership_disputed]")).to_be_visible()
    block = page.locator(f"#proposals .pledge[data-pledge='{pledge_id}']")
    block.locator("button[data-act=accept]").click()
    status = block.locator(".act-status.bad")
    expect(status).to_contain_text(f"dispute {opened['disputeId']}" if lang == "en" else f"争议 {opened['disputeId']}")
    expect(status).to_contain_text("cannot be pledged" if lang == "en" else "不能质押")
    assert not page.locator("dialog.password-dialog").is_visible(), "refused before anyone signs"
    assert cli_json(platform, "pledge", "show", str(pledge_id))["status"] == "proposed"
    screenshot(page, f"disputes-pledge-refused-{lang}")
    assert not page.console_errors  # type: ignore[attr-defined]
