"""Registering an asset in Chromium (/assets/new): content hashed and registration signed in the browser
with a CLI keystore; the ledger shows the browser key as owner; refusals (content already registered,
a bad official number) show the ledger's reason and register nothing, publish nothing."""

from __future__ import annotations

import json
import secrets

import httpx

from ledger.registry.metadata import build_document, metadata_hash
from tests.web.browser import enter_password, import_cli_keystore, new_page, screenshot


def _fill(page, content, title: str, ref: str = "", kind: str = "invention-patent") -> None:  # type: ignore[no-untyped-def]
    page.set_input_files("#content", str(content))
    page.select_option("#kind", kind)
    page.fill("#ref", ref)
    page.fill("#title", title)
    page.click("#register-form button[type=submit]")


def _count(platform) -> int:  # type: ignore[no-untyped-def]
    return int(httpx.get(f"{platform.url}/api/v1/assets", params={"limit": 1}).json()["count"])


def test_register_with_cli_keystore_owner_is_the_browser_key_then_duplicate_is_refused(browser, platform, lang,
                                                                                    tmp_path):
    page = new_page(browser, platform, lang)
    address = import_cli_keystore(page, platform, "owner")
    page.goto("/assets/new")
    screenshot(page, f"register-empty-{lang}")
    content = tmp_path / "claims.txt"
    content.write_text(f"1. A method of {secrets.token_hex(12)}.\n")
    ref = f"cn2026{secrets.randbelow(10**8):08d}.{secrets.randbelow(10)}"
    page.fill("#description", "Pledging patents from a browser")
    _fill(page, content, "一种质押专利的方法", ref=ref)
    enter_password(page)
    done = page.locator("#result.ok")
    done.wait_for(timeout=120_000)
    href = done.locator("a").get_attribute("href")
    asset_id = href.rsplit("/", 1)[1]
    assert href == f"/assets/{asset_id}"
    screenshot(page, f"register-{lang}")
    shown = json.loads(platform.cli("asset", "show", asset_id, "--json").stdout)
    assert shown["owner"] == address and shown["kind"] == "invention-patent"
    api = httpx.get(f"{platform.url}/api/v1/assets/{asset_id}").json()
    assert api["title"] == "一种质押专利的方法"
    document = build_document("一种质押专利的方法", kind="invention-patent", ref=ref.upper(),
                              description="Pledging patents from a browser")
    assert api["registration"]["metadata_hash"] == "0x" + metadata_hash(document).hex(), "the CLI's document"
    assert api["registration"]["ref"] == ref.upper()

    before = _count(platform)
    _fill(page, content, "The same content again")
    refused = page.locator("#result.bad")
    refused.wait_for(timeout=60_000)
    text = refused.inner_text()
    assert f"asset {asset_id}" in text if lang == "en" else f"资产 {asset_id}" in text
    assert ("already registered" in text) if lang == "en" else ("已登记" in text and "already" not in text)
    assert refused.locator(f"a[href='/assets/{asset_id}']").count() == 1
    assert _count(platform) == before
    screenshot(page, f"register-refused-{lang}")
    assert not page.console_errors
    page.context.close()


def test_register_with_a_bad_official_number_shows_the_ledgers_reason_and_publishes_nothing(page, platform,
                                                                                           tmp_path):
    from eth_account import Account

    from tests.web.browser import give_key

    give_key(page, Account.create())
    page.goto("/assets/new")
    content = tmp_path / "code.py"
    content.write_text(f"print({secrets.randbelow(10**12)})\n")
    before = _count(platform)
    title = f"Software {secrets.token_hex(4)}"
    _fill(page, content, title, ref="CN#2020!", kind="software-copyright")
    refused = page.locator("#result.bad")
    refused.wait_for(timeout=60_000)
    assert page.locator("dialog.password-dialog").count() == 0, "refused before anyone signs"
    assert "the official number 'CN#2020!' is not valid" in refused.inner_text()
    page.goto("/assets/new?lang=zh-CN")  # the same bad form on the Chinese page: the reason in Chinese
    _fill(page, content, title, ref="CN#2020!", kind="software-copyright")
    refused = page.locator("#result.bad")
    refused.wait_for(timeout=60_000)
    shown = refused.inner_text()
    assert "官方编号 'CN#2020!' 无效" in shown and "参数 ref" in shown, shown
    assert "is not valid" not in shown and "argument" not in shown, shown
    assert _count(platform) == before
    document = build_document(title, kind="software-copyright", ref="CN#2020!")
    assert httpx.get(f"{platform.url}/api/v1/metadata/0x{metadata_hash(document).hex()}").status_code == 404


def test_register_page_at_phone_width_is_readable_and_needs_a_key(browser, platform, lang):
    page = new_page(browser, platform, lang)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/assets/new")
    assert page.locator("#result.warn a[href='/keys']").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    page.locator("#title").focus()
    assert page.evaluate("document.activeElement.id") == "title"
    screenshot(page, f"register-phone-{lang}")
    assert not page.console_errors
    page.context.close()


def test_register_when_the_connection_drops_before_relaying_says_so_and_registers_nothing(page, platform, tmp_path):
    from eth_account import Account

    from tests.web.browser import give_key

    give_key(page, Account.create())
    page.goto("/assets/new")
    page.route("**/api/v1/relay", lambda route: route.abort("internetdisconnected"))
    content = tmp_path / "design.svg"
    content.write_text(f"<svg>{secrets.token_hex(8)}</svg>")
    before = _count(platform)
    _fill(page, content, "A lamp", kind="design")
    enter_password(page)
    refused = page.locator("#result.bad")
    refused.wait_for(timeout=60_000)
    assert "does not answer" in refused.inner_text()
    assert _count(platform) == before
