"""Market routes against the real chain: the token, the boards with pagination, 404 problems, relayed trades."""

from __future__ import annotations

import os

import pytest

from ledger.client.api import ApiClient
from ledger.context import Ledger
from ledger.errors import ConflictError
from ledger.market.service import Deadline
from ledger.registry.licenses import LicenseTerms
from ledger.registry.metadata import build_document

UNIT = 10**6
YEAR = 365 * 86_400


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and "Traceback" not in response.text
    return body


def register(api_ledger: Ledger, owner, title: str = "A pledging method") -> int:
    return api_ledger.assets.register(os.urandom(32), "invention-patent", None, build_document(title),
                                      sender=owner).asset_id


def test_token_and_balances(client, api_ledger, accounts):
    token = client.get("/market/token").json()
    assert (token["symbol"], token["decimals"], token["faucet_enabled"], token["fee_bps"], token["treasury"]) == (
        "IPST", 6, True, 0, None)
    assert token["address"] == api_ledger.deployment.address("SettlementToken")
    api_ledger.market.faucet(12_500_000, sender=accounts[7])
    balance = client.get(f"/market/balances/{accounts[7].address}").json()
    assert (balance["balance"], balance["balance_text"]) == (12_500_000, "12.5 IPST")
    problem(client.get("/market/balances/0x1234"), 422)


def test_boards_are_paginated_with_count_and_items_are_read_by_id(client, api_ledger, accounts):
    market, seller, buyer = api_ledger.market, accounts[1], accounts[6]
    assets = [register(api_ledger, seller, f"asset {i}") for i in range(3)]
    listings = [market.list_asset(a, (i + 1) * UNIT, Deadline.parse("7d"), sender=seller).ids["listingId"]
                for i, a in enumerate(assets)]
    page = client.get("/market/listings", params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [x["listing_id"] for x in page["data"]] == [listings[1]]
    assert page["data"][0]["price"] == 2 * UNIT and page["data"][0]["status"] == "open"
    only = client.get("/market/listings", params={"asset_id": assets[2]}).json()
    assert only["count"] == 1 and only["data"][0]["asset_id"] == assets[2]
    assert client.get(f"/market/listings/{listings[0]}").json()["seller"] == seller.address

    market.faucet(1_000 * UNIT, sender=buyer)
    offer_id = market.make_offer(assets[0], 5 * UNIT, Deadline.parse("7d"), sender=buyer).ids["offerId"]
    offers = client.get("/market/offers").json()
    assert offers["count"] == 1 and offers["data"][0] == client.get(f"/market/offers/{offer_id}").json()
    assert offers["data"][0]["amount"] == 5 * UNIT

    now = api_ledger.client.block_time("latest")
    terms = LicenseTerms(buyer.address, "non-exclusive", now, now + YEAR, "CN")
    license_listing = market.list_license(assets[1], terms, 3 * UNIT, 4, Deadline.parse("30d"),
                                          sender=seller).ids["listingId"]
    licenses = client.get("/market/license-offers").json()
    assert licenses["count"] == 1 and licenses["data"][0]["terms"]["territory"] == "CN"
    assert client.get(f"/market/license-offers/{license_listing}").json()["remaining"] == 4

    demand_id = market.post_demand(build_document("Battery recycling patents"), 50 * UNIT, Deadline.parse("30d"),
                                   sender=buyer).ids["demandId"]
    answer_id = market.answer_demand(demand_id, assets[2], 40 * UNIT, sender=seller).ids["answerId"]
    demands = client.get("/market/demands").json()
    assert demands["count"] == 1 and demands["data"][0]["title"] == "Battery recycling patents"
    assert client.get(demands["data"][0]["uri"]).json()["title"] == "Battery recycling patents"  # GET /metadata/..
    assert client.get(f"/market/demands/{demand_id}").json() == demands["data"][0]
    answers = client.get(f"/market/demands/{demand_id}/answers").json()
    assert answers["count"] == 1 and answers["data"][0] == client.get(f"/market/answers/{answer_id}").json()
    problem(client.get("/market/listings", params={"limit": 0}), 422)
    problem(client.get("/market/demands", params={"offset": -1}), 422)


def test_unknown_ids_are_404_problems_naming_the_contract_error(client):
    for path, error in [
        ("/market/listings/99", "MarketplaceUnknownListing"), ("/market/offers/99", "MarketplaceUnknownOffer"),
        ("/market/license-offers/99", "MarketplaceUnknownLicenseListing"),
        ("/market/demands/99", "MarketplaceUnknownDemand"), ("/market/demands/99/answers", "MarketplaceUnknownDemand"),
        ("/market/answers/99", "MarketplaceUnknownAnswer"),
    ]:
        body = problem(client.get(path), 404)
        assert body["error"] == error and "99 does not exist" in body["detail"]
    problem(client.get("/market/listings/0"), 422)


def test_relayed_buy_and_offer_through_the_api_move_money_and_assets(live_api, api_ledger, user, accounts):
    market, seller = api_ledger.market, accounts[1]
    first, second = register(api_ledger, seller, "one"), register(api_ledger, seller, "two")
    api = ApiClient(live_api)
    try:
        api.faucet(user, 500 * UNIT)
        assert api.market_balance(user.address) == 500 * UNIT
        listed = api.list_asset(seller, first, 120 * UNIT, api_ledger.client.block_time("latest") + 86_400)
        listing_id = listed["result"]["listingId"]
        assert api.listings()["count"] == 1
        with pytest.raises(ConflictError, match=f"listing {listing_id} changed since you saw it"):
            api.buy(user, listing_id, price=100 * UNIT)
        bought = api.buy(user, listing_id)
        assert bought["result"] == {"listingId": listing_id, "assetId": first}
        assert api.asset(first)["owner"] == user.address and api.listings()["count"] == 0

        offered = api.make_offer(user, second, 80 * UNIT, api_ledger.client.block_time("latest") + 86_400)
        offer_id = offered["result"]["offerId"]
        assert api.offer(offer_id)["status"] == "open" and market.escrow_of() == 80 * UNIT
        api.accept_offer(seller, offer_id, asset_id=second)
        assert api.asset(second)["owner"] == user.address and market.escrow_of() == 0
        assert api.market_balance(user.address) == 300 * UNIT
        assert market.balance_of(seller.address) == 200 * UNIT
        assert api_ledger.client.w3.eth.get_balance(user.address) == 0  # no gas: every act was relayed
    finally:
        api.close()


def test_relayed_buy_of_a_listing_whose_asset_came_back_is_a_409_naming_why(live_api, api_ledger, user, accounts):
    """Issue 11 items 7 and 8 through the API: the listing shows the fee fixed when listed and the transfer
    count it depends on; after A -> B -> A and a new approval, the relayed buy is refused (409) with the reason."""
    market, seller, other = api_ledger.market, accounts[1], accounts[2]
    market.set_fee(accounts[8].address, 250)
    asset_id = register(api_ledger, seller)
    api = ApiClient(live_api)
    try:
        api.faucet(user, 50 * UNIT)
        listing_id = api.list_asset(seller, asset_id, 10 * UNIT,
                                    api_ledger.client.block_time("latest") + 86_400)["result"]["listingId"]
        seen = api.listing(listing_id)
        assert (seen["fee_bps"], seen["transfers"], seen["status"]) == (250, 0, "open")
        for sender, to in ((seller, other), (other, seller)):
            api.call(sender, "IPRegistry", "safeTransferFrom(address,address,uint256)", sender.address, to.address,
                     asset_id)
        api.call(seller, "IPRegistry", "approve(address,uint256)", api.address("Marketplace"), asset_id)
        assert api.listing(listing_id)["status"] == "void"
        with pytest.raises(ConflictError) as refused:
            api.buy(user, listing_id, price=seen["price"], nonce=seen["nonce"])
        problem_json = refused.value.context["problem"]
        assert (problem_json["status"], problem_json["error"]) == (409, "MarketplaceAssetMovedSinceListed")
        assert "moved since it was listed (transfer count 0 then, 2 now)" in str(refused.value)
        assert api.asset(asset_id)["owner"] == seller.address and api.market_balance(user.address) == 50 * UNIT
    finally:
        api.close()
