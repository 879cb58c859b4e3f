"""The IP service centre in Chromium: the dashboard's totals are `ipledger audit totals`'s, the history filters and
exports what it shows, and the registrar's acts (freeze, verify, legal status) signed in the browser reach the chain
and the bank check; a refused act shows the ledger's reason."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from eth_account import Account
from playwright.sync_api import expect

from tests.web.bank_helpers import (
    cli_as,
    cli_json,
    expected_totals,
    new_bank,
    propose_pledge,
    register_asset,
    shown_totals,
    wait_indexed,
)
from tests.web.browser import Platform, dev_key, enter_password, give_key, new_page, screenshot


@pytest.fixture(scope="module")
def activity(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two assets of a fresh owner, one pledged to a fresh bank (accepted through the CLI): every total moves."""
    folder = tmp_path_factory.mktemp("audit")
    owner = Account.create()
    bank = new_bank(platform)
    first, _ = register_asset(platform, owner, folder, "A first method")
    second, ref = register_asset(platform, owner, folder, "A second method")
    pledge_id = propose_pledge(platform, owner, first, bank.address, principal=7_000_000)
    accepted = cli_as(platform, bank, "pledge", "accept", str(pledge_id))
    wait_indexed(platform, int(accepted["block_number"]))
    return {"owner": owner, "bank": bank, "assets": [first, second], "ref": ref, "pledge_id": pledge_id}


def test_dashboard_totals_equal_ipledger_audit_totals(browser, platform, activity, lang):
    page = new_page(browser, platform, lang)
    deadline = time.monotonic() + 60
    while True:  # the indexer runs beside the page: compare once both read the same indexed block
        cli = cli_json(platform, "audit", "totals")
        page.goto("/audit")
        shown_block = page.locator("#indexed").get_attribute("data-indexed-to")
        if shown_block == str(cli["indexed_to"]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shown_totals(page) == expected_totals(cli)
    bank = activity["bank"].address
    assert shown_totals(page)[f"pledged_principal/{bank}/CNY"] == 7_000_000
    expect(page.locator("#chart-registrations svg")).to_have_count(1)
    expect(page.locator("#chart-acts svg")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("知识产权服务中心" if lang == "zh-CN" else "IP service centre")
    screenshot(page, f"audit-{lang}")
    assert not page.console_errors
    page.context.close()


def _download(page, link) -> str:  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    assert path is not None
    return open(path, encoding="utf-8").read()


def test_history_filters_by_asset_and_time_and_exports_what_it_shows(browser, platform, activity, lang):
    asset_id = activity["assets"][0]
    expected = httpx.get(f"{platform.url}/api/v1/audit/history", params={"asset": asset_id, "limit": 1000}).json()
    registered = next(r for r in expected["data"] if r["event"] == "AssetRegistered")
    day = datetime.fromtimestamp(registered["block_time"], UTC).date()
    page = new_page(browser, platform, lang)
    page.goto("/audit/history")
    page.locator("#f-asset").fill(str(asset_id))
    page.locator("#f-since").fill(day.isoformat())
    page.locator("#f-until").fill(day.isoformat())
    page.locator("#history-filters button[type=submit]").click()
    page.wait_for_url(f"**/audit/history?asset={asset_id}*")
    count = int(page.locator("#history-count").get_attribute("data-count") or -1)
    same_day = [r for r in expected["data"] if datetime.fromtimestamp(r["block_time"], UTC).date() == day]
    assert count == len(same_day) > 0
    txs = page.eval_on_selector_all("table.history td.tx", "els => els.map(e => e.title)")
    assert txs == [r["tx_hash"] for r in same_day][:50]
    screenshot(page, f"audit-history-{lang}")

    text = _download(page, page.locator("#export-csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and set(rows[0]) >= {"block_number", "block_time_iso", "tx_hash", "event", "asset_id", "args"}
    assert [r["tx_hash"] for r in rows] == [r["tx_hash"] for r in same_day]
    assert {r["asset_id"] for r in rows} == {str(asset_id)}
    exported = json.loads(_download(page, page.locator("#export-json")))
    assert [r["tx_hash"] for r in exported] == [r["tx_hash"] for r in same_day]

    page.locator("#f-until").fill((day - timedelta(days=1)).isoformat())
    page.locator("#f-since").fill("")
    page.locator("#history-filters button[type=submit]").click()
    expect(page.locator("#history-count")).to_have_attribute("data-count", "0")
    assert not page.console_errors
    page.context.close()


def test_history_with_a_malformed_account_says_so_in_the_page_language(browser, platform):
    page = new_page(browser, platform, "zh-CN")
    response = page.goto("/audit/history?account=0x12")
    assert response is not None and response.status == 400
    expect(page.locator("#account-problem")).to_have_text("账户地址是 0x 加 40 位十六进制数字。")
    expect(page.locator("#f-account")).to_have_attribute("aria-invalid", "true")
    page.context.close()


def test_registrar_freezes_in_the_browser_and_the_bank_check_shows_the_freeze(browser, platform, activity, tmp_path):
    asset_id = activity["assets"][1]
    page = new_page(browser, platform, "en")
    give_key(page, dev_key(0), name="centre")
    page.goto("/audit/acts")
    page.get_by_label("Asset id or official number").fill(activity["ref"])
    page.get_by_role("button", name="Open the asset").click()
    page.wait_for_url(f"**/audit/assets/{asset_id}")
    until = (datetime.now(UTC) + timedelta(days=400)).date()
    order = tmp_path / "order.txt"
    order.write_text("Civil ruling (2026) Jing 73 Min Chu 1\n")
    form = page.locator("#act-freeze")
    form.get_by_label("Court", exact=True).fill("Beijing IP Court")
    form.get_by_label("Case number", exact=True).fill("(2026) Jing 73 Min Chu 1")
    form.get_by_label("Frozen until").fill(until.isoformat())
    form.get_by_label("The court order (optional; only its SHA-256 is recorded)").set_input_files(str(order))
    form.get_by_role("button", name="Freeze").click()
    enter_password(page)
    expect(page.locator("#now-frozen")).to_contain_text("Beijing IP Court", timeout=30_000)
    screenshot(page, "audit-asset-frozen-en")
    report = cli_json(platform, "check", str(asset_id))
    assert report["frozen"] and report["freeze"]["court"] == "Beijing IP Court"
    import hashlib

    assert report["freeze"]["reason_hash"] == "0x" + hashlib.sha256(order.read_bytes()).hexdigest()

    page.goto(f"/assets/{asset_id}/check")
    expect(page.locator("#red-flags li[data-code=frozen]")).to_contain_text("Beijing IP Court")
    expect(page.locator("#freeze")).to_contain_text("(2026) Jing 73 Min Chu 1")

    page.goto(f"/audit/assets/{asset_id}")
    page.locator("#act-verify select").select_option("true")
    page.locator("#act-verify button").click()  # the key is asked again: the page was reloaded
    enter_password(page)
    expect(page.locator("#now-verified .badge.ok")).to_have_count(1, timeout=30_000)
    page.locator("#act-status select").select_option("granted")
    page.locator("#act-status button").click()
    enter_password(page)
    expect(page.locator("#now-status")).to_have_text("Granted", timeout=30_000)
    page.locator("#act-unfreeze button").click()
    enter_password(page)
    expect(page.locator("#now-frozen")).to_have_text("No", timeout=30_000)
    shown = cli_json(platform, "asset", "show", str(asset_id))
    assert shown["verified"] and shown["status"] == "granted" and not shown["frozen"]
    assert not page.console_errors
    page.context.close()


def test_registrar_act_by_an_account_without_the_role_is_refused_with_the_reason(browser, platform, activity, lang):
    stranger = Account.create()
    asset_id = activity["assets"][1]
    before = cli_json(platform, "asset", "show", str(asset_id))
    page = new_page(browser, platform, lang)
    give_key(page, stranger, name="stranger")
    page.goto(f"/audit/assets/{asset_id}")
    page.locator("#act-status select").select_option("lapsed")
    page.locator("#act-status button").click()
    status = page.locator("#act-status .act-status.bad")
    role = "登记机构" if lang == "zh-CN" else "registrar"
    expect(status).to_contain_text(role)
    expect(status).to_contain_text(stranger.address)
    expect(status).to_contain_text("账本拒绝了此操作" if lang == "zh-CN" else "The ledger refused this act")
    assert cli_json(platform, "asset", "show", str(asset_id))["status"] == before["status"]
    screenshot(page, f"audit-asset-{lang}")
    page.goto("/audit/acts")
    screenshot(page, f"audit-acts-{lang}")
    assert not page.console_errors
    page.context.close()


def test_history_pages_through_an_assets_events_in_order_without_repeats(browser, platform, activity):
    asset_id = activity["assets"][0]
    expected = httpx.get(f"{platform.url}/api/v1/audit/history", params={"asset": asset_id, "limit": 1000}).json()
    page = new_page(browser, platform, "en")
    page.goto(f"/audit/history?asset={asset_id}&per=2")
    seen: list[str] = []
    while True:
        seen += page.eval_on_selector_all("table.history td.tx", "els => els.map(e => e.title)")
        assert page.locator("table.history tbody tr").count() <= 2
        following = page.locator("#next-page")
        if not following.count():
            break
        following.click()
        page.wait_for_load_state()
    assert seen == [r["tx_hash"] for r in expected["data"]] and len(seen) == expected["count"] > 2
    expect(page.locator("#history-count")).to_contain_text(f"of {expected['count']}.")
    page.context.close()
