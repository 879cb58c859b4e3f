"""A co-owned patent sold in Chromium: A and B co-own it (60/40, registered through the CLI); A alone lists
non-exclusive licences of it on the LicenseMarket; B consents to its
sale at 250 tokens on the co-owners' page (in Chinese), A lists it (a listing before every consent is refused
with the ledger's reason in the page's language); a buyer buys it on /market like any listing, paying the vault;
A distributes the proceeds (150/100 credited) and withdraws its share; B's credit stays until B withdraws. A
second co-owned patent is sold by accepting a buyer's escrowed offer, which B consents to and A accepts."""

from __future__ import annotations

import re
import uuid

from eth_account import Account
from playwright.sync_api import expect

from ledger.client.api import ApiClient
from tests.web.bank_helpers import cli_json
from tests.web.browser import enter_password, give_key, new_page, screenshot

ACT_TIMEOUT = 120_000
UNIT = 10**6  # the settlement token's 6 decimals


def _sale_form(page) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#co-act", "sale")
    page.fill("#co-price", "250")
    page.fill("#co-expiry", "2031-06-30")


def _register(platform, tmp_path, a: str, b: str) -> int:  # type: ignore[no-untyped-def]
    """A fresh patent co-owned 60/40 by ``a`` and ``b`` (through the CLI, as dev account 0 pays)."""
    claims = tmp_path / f"claims-{uuid.uuid4().hex[:8]}.txt"
    claims.write_text(f"What is claimed is a co-owned sold method ({uuid.uuid4().hex}).\n")
    registered = cli_json(platform, "--dev-account", "0", "asset", "register", "--kind", "invention-patent",
                          "--file", str(claims), "--title", "A co-owned method for sale",
                          "--co-owner", f"{a}:6000", "--co-owner", f"{b}:4000")
    return int(registered["asset_id"])


def _act(page, button: str, result: str = "#co-result") -> str:  # type: ignore[no-untyped-def]
    """Click ``button``, sign when asked, and return the result box's text once ok or bad."""
    page.locator(result).evaluate("box => { box.className = 'result'; }")  # an earlier outcome is not this one
    page.click(button)
    dialog = page.locator("dialog.password-dialog")
    done = page.locator(f"{result}.ok, {result}.bad")
    dialog.or_(done).first.wait_for(timeout=ACT_TIMEOUT)
    if dialog.is_visible():
        enter_password(page)
    done.wait_for(timeout=ACT_TIMEOUT)
    return str(page.locator(result).inner_text())


def test_co_owned_patent_consented_listed_bought_on_market_and_proceeds_withdrawn(browser, platform, tmp_path):
    a, b, buyer = Account.create(), Account.create(), Account.create()
    asset_id = _register(platform, tmp_path, a.address, b.address)
    api = ApiClient(platform.url)
    vault = api.get(f"/co-owners/{asset_id}")["vault"]
    token = api.market_token()["address"]

    page_a = new_page(browser, platform, "en")
    give_key(page_a, a, "a")
    page_a.goto(f"/assets/{asset_id}/co-owners")
    expect(page_a.locator("#who.ok")).to_contain_text(a.address)
    # a non-exclusive licence listing is one co-owner's act: A lists licences alone, on the vault's behalf
    page_a.select_option("#co-act", "license-listing")
    page_a.fill("#co-price", "12.5")
    page_a.fill("#co-supply", "5")
    said = _act(page_a, "#co-perform")
    assert "licences are listed" in said, said
    expect(page_a.locator("#co-ready")).to_have_attribute("data-state", "alone")
    mine = api.get("/market/license-offers", asset_id=asset_id)["data"]
    assert mine and mine[0]["seller"] == vault and mine[0]["price"] == 12_500_000 and mine[0]["supply"] == 5
    expect(page_a.locator(f"#co-licence-listing-{mine[0]['listing_id']}")).to_be_visible()

    _sale_form(page_a)
    said = _act(page_a, "#co-perform")  # B has not consented: refused, in words, nothing listed
    assert "has not consented" in said and b.address in said, said
    expect(page_a.locator("#co-ready")).to_have_attribute("data-state", "waiting")

    page_b = new_page(browser, platform, "zh-CN")
    give_key(page_b, b, "b")
    page_b.goto(f"/assets/{asset_id}/co-owners")
    _sale_form(page_b)
    _act(page_b, "#co-consent")
    expect(page_b.locator("#co-result.ok")).to_be_visible()
    expect(page_b.locator("#co-given")).to_contain_text(b.address)
    screenshot(page_b, "coowners-sale-consent-zh")

    page_a.reload()
    _sale_form(page_a)
    page_a.click("#co-describe")
    expect(page_a.locator("#co-result")).to_have_class(re.compile(r"\bok\b"))
    expect(page_a.locator("#co-ready")).to_have_attribute("data-state", "ready")
    said = _act(page_a, "#co-perform")
    assert "every co-owner's consent" in said, said
    expect(page_a.locator("#co-listing")).to_have_attribute("data-status", "open")
    listing = api.listings(asset_id=asset_id)["data"][0]
    assert listing["seller"] == vault and listing["price"] == 250 * UNIT

    # the buyer finds it on the market like any listing, gets test tokens and buys it: the vault is paid
    shop = new_page(browser, platform, "en")
    give_key(shop, buyer, "buyer")
    shop.goto(f"/market?q={asset_id}")
    _act(shop, "#faucet", "#wallet-result")
    shop.locator(f"#sale-{listing['listing_id']} button[data-act=buy]").click()
    said = str(shop.locator("#board-result").locator("xpath=self::*[contains(@class,'ok') or contains(@class,'bad')]")
               .inner_text(timeout=ACT_TIMEOUT))
    assert f"asset {asset_id} is now yours" in said, said
    assert api.asset(asset_id)["owner"] == buyer.address
    assert api.market_balance(vault) == 250 * UNIT

    # A distributes the proceeds and withdraws its 60 %
    page_a.reload()
    expect(page_a.locator(f"#co-held-{token}")).to_have_attribute("data-held", str(250 * UNIT))
    said = _act(page_a, f"#co-held-{token} button[data-act=distribute]", "#co-acts-result")
    assert "credited to the co-owners" in said, said
    assert api.market_balance(vault) == 0
    credit = api.get(f"/co-owners/credits/{token}/{a.address}")["amount"]
    assert credit == 150 * UNIT and api.get(f"/co-owners/credits/{token}/{b.address}")["amount"] == 100 * UNIT
    said = _act(page_a, f"tr[data-credit='{a.address}'] button[data-act=withdraw]", "#co-acts-result")
    assert "Withdrawn" in said, said
    assert api.market_balance(a.address) == 150 * UNIT
    assert api.get(f"/co-owners/credits/{token}/{a.address}")["amount"] == 0
    assert api.get(f"/co-owners/credits/{token}/{b.address}")["amount"] == 100 * UNIT
    expect(page_a.locator(f"tr[data-credit='{a.address}']")).to_have_attribute("data-amount", "0")
    screenshot(page_a, "coowners-proceeds-en")

    # a second co-owned patent sold by accepting a buyer's escrowed offer: B consents to it, A accepts it
    other = _register(platform, tmp_path, a.address, b.address)
    other_vault = api.get(f"/co-owners/{other}")["vault"]
    api.faucet(buyer, 100 * UNIT)
    offer_id = int(api.make_offer(buyer, other, 100 * UNIT, "2031-06-30")["result"]["offerId"])
    for page in (page_b, page_a):
        page.goto(f"/assets/{other}/co-owners")
        page.locator(f"#co-offer-{offer_id} button[data-act=pick-offer]").click()
        expect(page.locator("#co-act-id")).not_to_be_empty()
    _act(page_b, "#co-consent")
    expect(page_b.locator("#co-given")).to_contain_text(b.address)
    page_a.click("#co-describe")
    expect(page_a.locator("#co-ready")).to_have_attribute("data-state", "ready")
    said = _act(page_a, "#co-perform")
    assert "every co-owner's consent" in said, said
    assert api.asset(other)["owner"] == buyer.address and api.offer(offer_id)["status"] == "accepted"
    assert api.market_balance(other_vault) == 100 * UNIT
    api.close()
    for page in (page_a, page_b, shop):
        assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]
