"""The owner's page and the market in Chromium: licence, pledge, sale, demand, each signed in the browser.

Every account is fresh (the platform is shared and never reverted); the asset is registered through
the API as ``ipledger asset register`` does it, and every outcome is read back from the API.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.client.api import ApiClient
from tests.web.browser import Platform, enter_password, give_key, new_page, screenshot

ACT_TIMEOUT = 90_000
DEMAND_ITEM = re.compile(r'id="demand-\d+"')


@pytest.fixture
def api(platform: Platform) -> Iterator[ApiClient]:
    client = ApiClient(platform.url)
    yield client
    client.close()


def register(api: ApiClient, owner: LocalAccount, title: str) -> int:
    content = "0x" + uuid.uuid4().hex * 2
    result = api.register(owner, content, "invention-patent", None, {"title": title, "field": "H01M"})
    return int(result["result"]["assetId"])


def browser_as(browser, platform: Platform, account: LocalAccount, locale: str = "en"):  # type: ignore[no-untyped-def]
    page = new_page(browser, platform, locale)
    give_key(page, account)
    return page


def sign(page, result: str) -> None:  # type: ignore[no-untyped-def]
    """Answer the password dialog the act opens; a refusal before signing is reported by ``outcome``."""
    dialog = page.locator("dialog.password-dialog")
    dialog.or_(page.locator(f"{result}.bad")).first.wait_for(timeout=ACT_TIMEOUT)
    if dialog.is_visible():
        enter_password(page)


def outcome(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    """The text of the result box once the act is over (ok or bad)."""
    box = page.locator(selector)
    box.locator("xpath=self::*[contains(@class,'ok') or contains(@class,'bad')]").wait_for(timeout=ACT_TIMEOUT)
    return str(box.inner_text())


def close(page) -> None:  # type: ignore[no-untyped-def]
    errors = page.console_errors
    page.context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_owner_licenses_pledges_sells_and_trades_on_demand_board_all_recorded(browser, platform, api):
    owner, licensee, bank, buyer = (Account.create() for _ in range(4))
    platform.cli("--dev-account", "0", "role", "grant", "pledgee", bank.address)
    asset_id = register(api, owner, f"Solid-state battery {uuid.uuid4().hex[:6]}")
    second_id = register(api, owner, f"Battery separator {uuid.uuid4().hex[:6]}")

    # the owner offers a licence
    mine = browser_as(browser, platform, owner)
    mine.goto(f"/assets/{asset_id}/manage")
    assert "owns this asset" in mine.locator("#who").inner_text()
    form = mine.locator("#licence-form")
    form.locator("#lic-licensee").fill(licensee.address)
    form.locator("#lic-kind").select_option("non-exclusive")
    form.locator("#lic-territory").fill("China")
    form.locator("#lic-field").fill("h01m")
    form.locator("#lic-fee").fill("12.5")
    form.locator("button[type=submit]").click()
    sign(mine, "#licence-form .result")
    said = outcome(mine, "#licence-form .result")
    assert "is recorded" in said, said
    offered = api.licenses_of(asset_id)["data"][-1]
    assert offered["status"] == "offered" and offered["licensee"] == licensee.address
    assert offered["territory"] == "CN" and offered["field_of_use"] == "H01M" and offered["fee"] == 12_500_000

    # the licensee sees the page read-only, with its own accept button, and accepts
    theirs = browser_as(browser, platform, licensee)
    theirs.goto("/market")  # the licensee finds the offers made to it on the market (from the audit index)
    waiting = theirs.locator(f"#to-you-{offered['license_id']}")
    for _ in range(20):
        if waiting.is_visible():
            break
        theirs.wait_for_timeout(500)  # the index follows the chain within a block or two
        theirs.reload()
    waiting.get_by_role("link").click()
    theirs.wait_for_url(f"**/assets/{asset_id}/manage#licence-{offered['license_id']}")
    assert "does not own this asset" in theirs.locator("#who").inner_text()
    assert theirs.locator("#lic-licensee").is_disabled() and theirs.locator("#sale-price").is_disabled()
    row = theirs.locator(f"#licence-{offered['license_id']}")
    assert row.get_by_role("button", name="Withdraw the offer").is_hidden(), "the owner's button is not the licensee's"
    accept = row.locator("button[data-act=accept-licence]")
    accept.click()
    sign(theirs, "#state-result")
    assert "is active" in outcome(theirs, "#state-result")
    assert theirs.locator(f"#licence-{offered['license_id']}").get_attribute("data-status") == "active"
    assert api.license(offered["license_id"])["status"] == "active"
    close(theirs)

    # the owner proposes a pledge to the bank (the bank accepts on its own page: here, the proposal)
    mine.reload()
    assert mine.locator(f"#licence-{offered['license_id']}").get_attribute("data-status") == "active"
    form = mine.locator("#pledge-form")
    form.locator("#pl-pledgee").fill(bank.address)
    form.locator("#pl-principal").fill("2000000")
    form.locator("button[type=submit]").click()
    sign(mine, "#pledge-form .result")
    said = outcome(mine, "#pledge-form .result")
    assert "is proposed" in said, said
    pledge_id = int(said.split("Pledge ")[1].split(" ")[0])
    pledge = api.pledge(pledge_id)
    assert pledge["status"] == "proposed" and pledge["pledgee"] == bank.address and pledge["principal"] == 2_000_000
    assert mine.locator(f"#pledge-{pledge_id}").get_attribute("data-status") == "proposed"

    # the owner lists it: the ERC-721 approval, then the listing (two signed acts)
    form = mine.locator("#sale-form")
    form.locator("#sale-price").fill("250")
    form.locator("button[type=submit]").click()  # the key is open in this page already: no password
    said = outcome(mine, "#sale-form .result")
    assert "is for sale at 250" in said, said
    listing = api.listings(asset_id=asset_id)["data"][0]
    assert listing["price"] == 250_000_000 and listing["seller"] == owner.address
    assert mine.locator("#listing-state").get_attribute("data-status") == "open"
    screenshot(mine, "manage-en")

    # a buyer gets test tokens and buys it on the market
    shopper = browser_as(browser, platform, buyer)
    shopper.goto(f"/market?q={asset_id}")
    shopper.locator("#faucet").click()
    sign(shopper, "#wallet-result")
    assert "minted" in outcome(shopper, "#wallet-result")
    shopper.locator(f"#sale-{listing['listing_id']} button[data-act=buy]").click()
    said = outcome(shopper, "#board-result")
    assert f"asset {asset_id} is now yours" in said, said
    assert api.asset(asset_id)["owner"] == buyer.address

    # the buyer posts a demand; the owner answers with its second asset; the buyer accepts; the owner hands it over
    shopper.goto("/market")
    title = f"Need battery separators {uuid.uuid4().hex[:6]}"
    form = shopper.locator("#demand-form")
    form.locator("#d-title").fill(title)
    form.locator("#d-text").fill("For a pilot line")
    form.locator("#d-kind").select_option("invention-patent")
    form.locator("#d-field").fill("H01M")
    form.locator("#d-budget").fill("500")
    form.locator("button[type=submit]").click()
    sign(shopper, "#demand-form .result")
    said = outcome(shopper, "#demand-form .result")
    assert "is posted" in said, said
    demand_id = int(said.split("Demand ")[1].split(" ")[0])
    shopper.goto(f"/market?q={title.split()[-1]}&kind=invention-patent")
    assert shopper.locator(f"#demand-{demand_id} a").first.inner_text() == title
    screenshot(shopper, "market-search-en")

    mine.goto(f"/market/demands/{demand_id}")
    mine.locator("#a-asset").fill(str(second_id))
    mine.locator("#a-price").fill("300")
    mine.locator("#answer-form button[type=submit]").click()
    sign(mine, "#answer-form .result")
    said = outcome(mine, "#answer-form .result")
    assert "is posted" in said, said
    answer_id = int(said.split("Answer ")[1].split(" ")[0])

    shopper.goto(f"/market/demands/{demand_id}")
    shopper.locator(f"#answer-{answer_id} button[data-act=accept-answer]").click()
    sign(shopper, "#act-result")
    said = outcome(shopper, "#act-result")
    assert "is in escrow" in said, said
    offer_id = int(said.split("offer ")[1].split(".")[0])
    assert api.offer(offer_id)["status"] == "open"
    screenshot(shopper, "market-demand-en")
    close(shopper)

    mine.goto(f"/market/demands/{demand_id}")
    mine.locator(f"#offer-{offer_id} button[data-act=accept-offer]").click()
    sign(mine, "#act-result")
    said = outcome(mine, "#act-result")
    assert "is accepted" in said, said
    assert api.asset(second_id)["owner"] == buyer.address
    assert api.offer(offer_id)["status"] == "accepted"
    close(mine)


def test_owner_sells_licences_and_a_buyer_becomes_licensee_from_the_market(browser, platform, api):
    owner, buyer = Account.create(), Account.create()
    tag = uuid.uuid4().hex[:8]
    asset_id = register(api, owner, f"Electrolyte additive {tag}")
    mine = browser_as(browser, platform, owner)
    mine.goto(f"/assets/{asset_id}/manage")
    form = mine.locator("#licence-sale-form")
    form.locator("#ls-territory").fill("CN")
    form.locator("#ls-field").fill("H01M")
    form.locator("#ls-price").fill("40")
    form.locator("#ls-supply").fill("2")
    form.locator("button[type=submit]").click()
    sign(mine, "#licence-sale-form .result")
    said = outcome(mine, "#licence-sale-form .result")
    assert "is open on the LicenseMarket" in said, said
    listing_id = int(said.split("listing ")[1].split(" ")[0])
    assert mine.locator(f"#licence-listing-{listing_id}").count() == 1
    close(mine)

    shopper = browser_as(browser, platform, buyer)
    shopper.goto(f"/market?q={tag}&kind=trademark")
    assert shopper.locator(f"#licence-{listing_id}").count() == 0, "a search by kind leaves other kinds out"
    shopper.goto(f"/market?q={tag}&kind=invention-patent")
    item = shopper.locator(f"#licence-{listing_id}")
    assert "H01M" in item.inner_text() and item.locator("a").get_attribute("href") == f"/assets/{asset_id}"
    item.locator("button[data-act=buy-licence]").click()
    said = outcome(shopper, "#board-result")
    assert "Not enough tokens" in said and "Nothing was approved" in said, said
    shopper.locator("#faucet").click()
    sign(shopper, "#wallet-result")
    assert "minted" in outcome(shopper, "#wallet-result")
    item.locator("button[data-act=buy-licence]").click()
    said = outcome(shopper, "#board-result")
    assert "with you as licensee" in said, said
    shopper.goto("/market")
    screenshot(shopper, "market-en")
    license_id = int(said.split("licence ")[1].split(" ")[0])
    bought = api.license(license_id)
    assert bought["status"] == "active" and bought["licensee"] == buyer.address and bought["asset_id"] == asset_id
    assert api.license_offer(listing_id)["sold"] == 1

    # the licensee offers to buy the asset itself, in escrow; the owner accepts (ERC-721 approval first)
    shopper.goto(f"/assets/{asset_id}/manage")
    assert shopper.locator("#owner-acts").get_by_role("button", name="List the asset").is_disabled()
    shopper.locator("#bo-amount").fill("100")
    shopper.locator("#buy-offer-form button[type=submit]").click()
    sign(shopper, "#buy-offer-form .result")
    said = outcome(shopper, "#buy-offer-form .result")
    assert "is held in escrow" in said, said
    offer_id = int(said.split("Offer ")[1].split(" ")[0])
    close(shopper)
    mine = browser_as(browser, platform, owner)
    mine.goto(f"/assets/{asset_id}/manage")
    assert mine.locator("#buy-offer-form").is_hidden(), "an owner does not offer for its own asset"
    mine.locator(f"#offer-{offer_id} button[data-act=accept-offer]").click()
    sign(mine, "#state-result")
    said = outcome(mine, "#state-result")
    assert "is accepted" in said, said
    assert api.asset(asset_id)["owner"] == buyer.address
    close(mine)


def test_owner_withdraws_proposal_and_listing_and_poster_closes_demand_after_confirming(browser, platform, api):
    owner, bank = Account.create(), Account.create()
    platform.cli("--dev-account", "0", "role", "grant", "pledgee", bank.address)
    asset_id = register(api, owner, f"Anode coating {uuid.uuid4().hex[:6]}")
    pledge_id = int(api.propose_pledge(owner, asset_id, bank.address, 5_000, "CNY", "2029-06-30")["result"]["pledgeId"])
    listing_id = int(api.list_asset(owner, asset_id, 90_000_000, "2030-01-01")["result"]["listingId"])
    demand_id = int(api.post_demand(owner, 10_000_000, "2030-01-01", {"title": f"Binder {uuid.uuid4().hex[:6]}"})
                    ["result"]["demandId"])
    page = browser_as(browser, platform, owner)
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.goto(f"/assets/{asset_id}/manage")
    page.locator(f"#pledge-{pledge_id} button[data-act=cancel-pledge]").click()
    sign(page, "#state-result")
    assert f"Pledge {pledge_id} is cancelled" in outcome(page, "#state-result")
    assert api.pledge(pledge_id)["status"] == "cancelled" and asked == ["Are you sure? This cannot be undone."]
    assert page.locator(f"#pledge-{pledge_id}").get_attribute("data-status") == "cancelled"
    page.locator("#listing-state button[data-act=cancel-listing]").click()
    assert f"Listing {listing_id} is cancelled" in outcome(page, "#state-result")
    assert api.listing(listing_id)["status"] == "cancelled"
    page.goto(f"/market/demands/{demand_id}")
    assert page.locator("#answer-form").is_hidden(), "a poster does not answer its own demand"
    page.locator("button[data-act=close-demand]").click()
    sign(page, "#act-result")
    assert f"Demand {demand_id} is closed" in outcome(page, "#act-result")
    assert page.locator("#demand-status").get_attribute("data-status") == "closed"
    assert api.demand(demand_id)["status"] == "closed"
    close(page)


def test_refused_acts_show_the_reason_in_chinese_and_nothing_half_done_unsaid(browser, platform, api):
    owner, stranger = Account.create(), Account.create()
    asset_id = register(api, owner, f"钠离子电池 {uuid.uuid4().hex[:6]}")
    page = browser_as(browser, platform, owner, "zh-CN")
    page.goto(f"/assets/{asset_id}/manage")
    assert "拥有此资产" in page.locator("#who").inner_text()
    page.locator("#sale-price").fill("0")
    page.locator("#sale-price").press("Enter")  # the keyboard alone submits a form
    sign(page, "#sale-form .result")
    said = outcome(page, "#sale-form .result")
    assert "价格、金额或预算必须大于零" in said and "授权已经给出" in said, said  # the API's reason, in Chinese
    assert api.listings(asset_id=asset_id)["count"] == 0
    screenshot(page, "manage-zh-CN")

    # the connection to the API is lost: said so, and nothing is proposed
    page.route("**/api/v1/relay/**", lambda route: route.abort())
    page.locator("#pl-pledgee").fill(stranger.address)
    page.locator("#pl-principal").fill("1000")
    page.locator("#pledge-form button[type=submit]").click()
    said = outcome(page, "#pledge-form .result")
    assert "服务器没有响应" in said, said
    page.unroute("**/api/v1/relay/**")
    close(page)

    # a stranger answers a demand with an asset it does not own: refused before anything is signed
    poster = Account.create()
    demand = api.post_demand(poster, 100_000_000, "2030-01-01", {"title": f"求购 {uuid.uuid4().hex[:6]}"})
    demand_id = int(demand["result"]["demandId"])
    page = browser_as(browser, platform, stranger, "zh-CN")
    page.goto(f"/market/demands/{demand_id}")
    page.locator("#a-asset").fill(str(asset_id))
    page.locator("#a-price").fill("50")
    page.locator("#answer-form button[type=submit]").click()
    said = outcome(page, "#answer-form .result")
    assert f"{stranger.address} 不是资产 {asset_id} 的所有人" in said, said  # the API's reason, in Chinese
    assert page.locator("dialog.password-dialog").count() == 0, "a refused act is refused before signing"
    assert api.answers(demand_id)["count"] == 0
    screenshot(page, "market-demand-zh-CN")
    page.goto("/market")
    assert page.locator("h1").inner_text() == "交易市场"
    screenshot(page, "market-zh-CN")
    close(page)


def test_market_on_a_phone_is_one_column_without_sideways_scroll(browser, platform):
    page = new_page(browser, platform, "zh-CN")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/market")
    assert page.locator(".wallet").is_hidden(), "no key: no balance, no faucet"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    supply, demand = page.locator("#supply").bounding_box(), page.locator("#demand").bounding_box()
    assert supply and demand and demand["y"] >= supply["y"] + supply["height"], "boards stack on a phone"
    screenshot(page, "market-zh-CN-390")
    close(page)


def test_manage_page_of_an_unknown_asset_or_demand_is_a_translated_error_page(platform):
    response = httpx.get(f"{platform.url}/assets/999999999/manage", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "未找到" in response.text
    demand = httpx.get(f"{platform.url}/market/demands/999999999", headers={"Accept-Language": "en"})
    assert demand.status_code == 404 and "Not found" in demand.text and "Traceback" not in demand.text


def test_demand_board_pages_by_ten_and_keeps_the_search_in_its_links(platform, api):
    poster = Account.create()
    tag = uuid.uuid4().hex[:8]
    for n in range(11):
        api.post_demand(poster, 1_000_000, "2030-01-01", {"title": f"Cathode {tag} {n}", "field": "H01M"})
    first = httpx.get(f"{platform.url}/market", params={"q": tag, "lang": "en"})
    assert first.status_code == 200 and "Page 1 of 2" in first.text
    assert len(DEMAND_ITEM.findall(first.text)) == 10 and f"Cathode {tag} 10" in first.text, "newest first"
    assert f"q={tag}&amp;sp=1&amp;dp=2" in first.text
    second = httpx.get(f"{platform.url}/market", params={"q": tag, "dp": 2, "lang": "en"})
    assert len(DEMAND_ITEM.findall(second.text)) == 1 and f"Cathode {tag} 0<" in second.text
    none = httpx.get(f"{platform.url}/market", params={"q": tag, "kind": "trademark", "lang": "zh_CN"})
    assert len(DEMAND_ITEM.findall(none.text)) == 0 and "需求清单中没有匹配项" in none.text
