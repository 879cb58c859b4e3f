"""/assets and /assets/{id} in Chromium: an asset registered with the CLI by a fresh account (then verified,
dated and frozen by the registrar) is found by its official number, and its public page shows what
``ipledger asset show`` says, in both languages, with its history from the audit index."""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest
from eth_account import Account
from playwright.sync_api import expect

from tests.cliproc import run_ipledger
from tests.web.browser import ROOT, Platform, new_page, screenshot

LABELS = {
    "en": {"kind": "Invention patent", "status": "Granted", "verified": "Verified by the registrar",
           "registered": "Registered", "frozen": "Frozen by a court", "not_found": "Not found.",
           "no_asset": "No asset has this id", "bad_id": "is not an asset id", "expires": "2040"},
    "zh-CN": {"kind": "发明专利", "status": "已授权", "verified": "已由登记机构", "registered": "登记",
              "frozen": "被法院冻结", "not_found": "未找到。", "no_asset": "没有资产使用此编号",
              "bad_id": "不是资产编号", "expires": "2040年"},
}


def _cli_as(platform: Platform, key: str, *args: str) -> str:
    """``ipledger ARGS`` acting with a raw key (a fresh account: nothing in the shared data folder changes)."""
    done = run_ipledger(args, env=platform.env(IPLEDGER_PRIVATE_KEY=key), timeout=180, cwd=ROOT)
    assert done.returncode == 0, f"ipledger {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def registered(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    """An asset of a fresh account, verified, granted, dated and frozen by the registrar; its ``asset show``."""
    owner = Account.create()
    claims = tmp_path_factory.mktemp("assets") / "claims.txt"
    claims.write_text(f"1. A widget, {secrets.token_hex(16)}")
    ref = f"CN{secrets.randbelow(10**12):012d}.{secrets.randbelow(10)}"
    out = _cli_as(platform, owner.key.hex(), "asset", "register", "--kind", "invention-patent", "--file", str(claims),
                  "--title", "A quieter widget", "--ref", ref, "--json")
    asset_id = str(json.loads(out)["asset_id"])
    registrar = ("--dev-account", "0", "asset")
    platform.cli(*registrar, "verify", asset_id)
    platform.cli(*registrar, "status", asset_id, "granted")
    platform.cli(*registrar, "dates", asset_id, "--expires", "2040-06-30", "--fees-paid-until", "2030-12-31")
    platform.cli(*registrar, "freeze", asset_id, "--court", "Beijing IP Court", "--case", "2026-JING-73-1",
                 "--until", "2036-01-01")
    shown = json.loads(platform.cli("asset", "show", asset_id, "--json").stdout)
    deadline = time.monotonic() + 60
    while httpx.get(f"{platform.url}/api/v1/audit/history", params={"asset": asset_id}).json()["count"] < 6:
        assert time.monotonic() < deadline, "the indexer did not index the asset's events in 60 s"
        time.sleep(0.5)
    return {"id": asset_id, "ref": ref, "owner": owner.address, "show": shown}


def _field(page, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(f'#facts [data-field="{name}"]').inner_text()).strip()


def test_asset_page_shows_what_asset_show_says_in_both_languages(browser, platform, registered, lang):
    page = new_page(browser, platform, lang)
    page.goto(f"/assets/{registered['id']}")
    shown, text = registered["show"], LABELS[lang]
    assert _field(page, "asset_id") == registered["id"] == str(shown["asset_id"])
    assert _field(page, "ref") == registered["ref"] == shown["registration"]["ref"]
    assert _field(page, "owner") == shown["owner"] == registered["owner"]
    assert _field(page, "registrant") == shown["registration"]["registrant"]
    assert _field(page, "content_hash") == shown["registration"]["content_hash"]
    assert _field(page, "metadata_hash") == shown["registration"]["metadata_hash"]
    assert shown["kind"] == "invention-patent" and _field(page, "kind") == text["kind"]
    assert shown["status"] == "granted" and _field(page, "legal_status") == text["status"]
    assert shown["verified"] and text["verified"] in _field(page, "verified")
    assert shown["expires_on"].startswith("2040-06-30") and text["expires"] in _field(page, "expires_at")
    assert "2030" in _field(page, "fees_paid_until")
    assert page.locator("h1").inner_text().startswith(shown["title"])
    freeze = str(page.locator("#freeze").inner_text())
    assert shown["frozen"] and text["frozen"] in freeze and "Beijing IP Court" in freeze and "2026-JING-73-1" in freeze
    history = str(page.locator("#history").inner_text())
    assert text["registered"] in history and shown["registration"]["tx_hash"] in history
    assert page.locator(f'a[href="/assets/{registered["id"]}/check"]').count() == 1
    assert page.locator(f'a[href="/assets/{registered["id"]}/manage"]').count() == 1
    screenshot(page, f"asset-{lang}")
    assert not page.console_errors
    page.context.close()


def test_asset_page_matches_the_api_json(platform, registered):
    api = httpx.get(f"{platform.url}/api/v1/assets/{registered['id']}").json()
    html = httpx.get(f"{platform.url}/assets/{registered['id']}?lang=en").text
    for value in (api["owner"], api["registration"]["ref"], api["registration"]["content_hash"],
                  api["freeze"]["court"], api["freeze"]["case_number"]):
        assert value in html


def test_search_by_official_number_opens_the_asset_page(browser, platform, registered, lang):
    page = new_page(browser, platform, lang)
    page.goto("/assets")
    assert page.locator("#recent").inner_text().count(registered["ref"]) == 1, "recently registered lists it"
    screenshot(page, f"assets-{lang}")
    page.get_by_role("searchbox").fill(registered["ref"].lower())
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/assets/{registered['id']}")
    assert _field(page, "ref") == registered["ref"]
    page.goto("/assets")
    page.get_by_role("searchbox").fill(registered["id"])
    page.locator("form.search button").click()
    page.wait_for_url(f"**/assets/{registered['id']}")
    assert not page.console_errors
    page.context.close()


def test_search_for_an_unknown_number_says_not_found_in_the_pages_language(browser, platform, lang):
    page = new_page(browser, platform, lang)
    page.goto("/assets")
    page.get_by_role("searchbox").fill("CN000000000000.0")
    page.keyboard.press("Enter")
    page.locator("#search-result").wait_for()
    assert page.locator("#search-result").inner_text().startswith(LABELS[lang]["not_found"])
    screenshot(page, f"assets-not-found-{lang}")
    page.get_by_role("searchbox").fill("不是编号")
    page.keyboard.press("Enter")
    expect(page.locator("#search-result")).to_contain_text("不是编号")
    assert not page.console_errors
    page.context.close()


def test_unknown_and_malformed_asset_ids_are_error_pages_in_the_readers_language(platform, lang):
    headers = {"Accept-Language": lang}
    missing = httpx.get(f"{platform.url}/assets/{2**52}", headers=headers)
    assert missing.status_code == 404 and LABELS[lang]["no_asset"] in missing.text
    for bad in ("abc", "0", "-1", "1.5", str(2**60)):
        response = httpx.get(f"{platform.url}/assets/{bad}", headers=headers)
        assert response.status_code == 400 and LABELS[lang]["bad_id"] in response.text, bad
        assert response.headers["content-type"].startswith("text/html")


def test_asset_page_on_a_phone_fits_the_screen(browser, platform, registered):
    context = browser.new_context(locale="zh-CN", base_url=platform.url, viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"/assets/{registered['id']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"
    screenshot(page, "asset-phone-zh-CN")
    context.close()
