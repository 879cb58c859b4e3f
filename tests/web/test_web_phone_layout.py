"""Every page on a 375 px phone, in both languages: nothing is wider than the screen (no sideways scrolling of
the whole page); a wide table scrolls inside its own wrapper. The asset has a licence and a pledge, whose
tables are the widest content, and the owner's key is open, so the pages show what the owner sees."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from tests.web.bank_helpers import cli_as, new_bank, propose_pledge, register_asset
from tests.web.browser import Platform, give_key

PHONE = {"width": 375, "height": 667}


@pytest.fixture(scope="module")
def pledged(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An owner's asset with an accepted licence and an accepted pledge (through the CLI)."""
    owner, licensee, bank = Account.create(), Account.create(), new_bank(platform)
    asset_id, _ = register_asset(platform, owner, tmp_path_factory.mktemp("phone"))
    offered = cli_as(platform, owner, "license", "offer", str(asset_id), "--to", licensee.address, "--kind",
                     "non-exclusive", "--end", "2030-12-31", "--territory", "CN")
    cli_as(platform, licensee, "license", "accept", str(offered["licenseId"]))
    pledge_id = propose_pledge(platform, owner, asset_id, bank.address, indexed=True)
    cli_as(platform, bank, "pledge", "accept", str(pledge_id))
    return {"owner": owner, "asset_id": asset_id}


def test_no_page_is_wider_than_a_375px_phone_in_either_language(browser, platform, pledged):
    asset = pledged["asset_id"]
    paths = ["/", "/verify", "/stamp", "/keys", "/market", "/assets", "/assets/new", "/bank", "/audit", "/audit/acts",
             "/audit/history", f"/assets/{asset}", f"/assets/{asset}/check", f"/assets/{asset}/manage",
             f"/assets/{asset}/co-owners", f"/audit/assets/{asset}"]
    context = browser.new_context(base_url=platform.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    give_key(page, pledged["owner"], name="owner")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    too_wide = []
    for lang in ("en", "zh-CN"):
        for path in paths:
            page.goto(f"{path}?lang={lang}", wait_until="networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide.append(f"{path} ({lang}): {width}px")
    page.goto(f"/assets/{asset}/manage")
    for table in ("#state-licences", "#state-pledges"):  # each table is there and scrolls within its wrapper
        wrap = page.locator(f"{table} .table-wrap")
        assert wrap.locator("tbody tr").count() == 1, table
        box = wrap.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], (table, box)
        assert wrap.evaluate("e => e.scrollWidth > e.clientWidth"), f"{table}: wider than the screen, it scrolls"
    context.close()
    assert not too_wide, "wider than a 375px phone: " + "; ".join(too_wide)
    assert not errors, f"uncaught errors in the pages: {errors}"
