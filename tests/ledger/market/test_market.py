"""MarketService on a real Anvil: every act end to end, balances conserved, approvals given as needed.

Parties (Anvil's dev accounts): [0] admin, [1] seller, [3] second buyer, [6] buyer, [7] stranger,
[8] treasury. Every test that moves money runs inside :func:`conserved`, which checks that the
ten accounts and the two market contracts hold the whole supply before and after, that the sum
did not change, and that the Marketplace holds exactly its escrow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from ledger.context import Ledger
from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.market import service as market_module
from ledger.market.service import Amount, Deadline, ListingStatus, OfferStatus, Token
from ledger.registry.licenses import LicenseTerms
from ledger.registry.metadata import build_document
from ledger.settings import Settings

UNIT = 10**6
DAY = 86_400


@pytest.fixture
def ledger(chain, deployment, artifacts, tmp_path) -> Ledger:
    return Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)


@pytest.fixture
def seller(accounts):
    return accounts[1]


@pytest.fixture
def buyer(accounts):
    return accounts[6]


def register(ledger: Ledger, owner, title: str = "A method of pledging patents") -> int:
    return ledger.assets.register(os.urandom(32), "invention-patent", None, build_document(title),
                                  sender=owner).asset_id


@contextmanager
def conserved(ledger: Ledger, accounts) -> Iterator[dict[str, int]]:
    """Yields the balance changes (filled on exit); checks conservation and the escrow."""
    market = ledger.market
    holders = [a.address for a in accounts] + [market.market.address, market.license_market.address]
    supply = ledger.client.call(market.settlement.functions.totalSupply())
    before = {h: market.balance_of(h) for h in holders}
    assert sum(before.values()) == supply, "a holder is not tracked"
    moves: dict[str, int] = {}
    yield moves
    after = {h: market.balance_of(h) for h in holders}
    assert ledger.client.call(market.settlement.functions.totalSupply()) == supply, "tokens were minted or burnt"
    assert sum(after.values()) == supply, "balances not conserved"
    assert market.escrow_of() == after[market.market.address], "the Marketplace holds more or less than its escrow"
    assert after[market.license_market.address] == 0, "the LicenseMarket holds money"
    moves.update({h: after[h] - before[h] for h in holders if after[h] != before[h]})


def sent_by(ledger: Ledger, account) -> int:
    return int(ledger.client.w3.eth.get_transaction_count(account.address))


# -- amounts, the token, the faucet --------------------------------------------------------------------


def test_amounts_parse_exactly_with_the_token_decimals():
    token = Token("0x" + "11" * 20, "ipledger settlement token", "IPST", 6)
    assert token.units(Amount.parse("12.5")) == 12_500_000
    assert token.units(Amount.parse("1,000")) == 1_000 * UNIT
    assert token.units(Amount.parse(".000001")) == 1
    assert token.units(Amount.parse(Decimal("0.1"))) == 100_000
    assert Amount.parse("123456789012345678901234567890.5").units(18) == 123456789012345678901234567890_5 * 10**17
    assert token.units(7) == 7
    assert token.format(12_500_000) == "12.5 IPST" and token.format(1_000 * UNIT) == "1,000 IPST"
    with pytest.raises(ValidationError, match="more decimals than the token's 6"):
        token.units(Amount.parse("0.0000001"))
    for bad in ("abc", "-1", "1e5", "1.2.3", "", "nan"):
        with pytest.raises(ValidationError, match="not an amount of tokens"):
            Amount.parse(bad)
    with pytest.raises(ValidationError, match="out of range"):
        Amount.parse("1" + "0" * 80).units(0)


def test_deadlines_are_dates_or_times_from_now():
    assert Deadline.parse("7d").resolve(1_000) == 1_000 + 7 * DAY
    assert Deadline.parse("12h").resolve(0) == 12 * 3_600 and Deadline.parse("2w").resolve(0) == 14 * DAY
    assert Deadline.parse("2030-01-01").resolve(5) == 1_893_456_000
    for bad in ("soon", "0d", "2030-02-30"):
        with pytest.raises(ValidationError):
            Deadline.parse(bad)


def test_faucet_mints_to_the_sender_and_the_token_is_the_settlement_token(ledger: Ledger, accounts, buyer):
    market = ledger.market
    assert market.token().as_json() == {"address": market.settlement.address, "name": "ipledger settlement token",
                                        "symbol": "IPST", "decimals": 6}
    assert market.faucet_enabled()
    market.faucet(Amount.parse("1,000.5"), sender=buyer)
    market.faucet(5, to=accounts[3].address, sender=buyer)
    assert market.balance_of(buyer.address) == 1_000_500_000 and market.balance_of(accounts[3].address) == 5
    with pytest.raises(ConflictError,
                       match=r"the faucet mints at most 1,000,000 IPST at a time \(1,000,000.000001 IPST asked\)"):
        market.faucet(Amount.parse("1000000.000001"), sender=buyer)
    with pytest.raises(ValidationError, match="is not a token contract"):
        market.token(accounts[2].address)


# -- listings ------------------------------------------------------------------------------------------


def test_list_approves_the_asset_and_buy_pays_the_seller_and_moves_it(ledger: Ledger, accounts, seller, buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    listed = market.list_asset(asset_id, Amount.parse("250.5"), Deadline.parse("7d"), sender=seller)
    listing = market.listing_of(listed.ids["listingId"])
    now = ledger.client.block_time("latest")
    assert (listing.asset_id, listing.seller, listing.status, listing.price, listing.nonce, listing.buyer) == (
        asset_id, seller.address, ListingStatus.OPEN, 250_500_000, 0, None)
    assert now < listing.expiry <= now + 7 * DAY
    assert ledger.client.call(ledger.assets.registry.functions.getApproved(asset_id)) == market.market.address
    assert market.listing_of_asset(asset_id) == listing
    market.faucet(1_000 * UNIT, sender=buyer)
    with conserved(ledger, accounts) as moved:
        bought = market.buy(listing.listing_id, listing.price, listing.nonce, sender=buyer)
    assert moved == {buyer.address: -250_500_000, seller.address: 250_500_000}
    assert bought.ids == {"listingId": listing.listing_id, "assetId": asset_id}
    assert ledger.assets.asset_of(asset_id).owner == buyer.address
    assert market.listing_of(listing.listing_id).status == ListingStatus.SOLD
    assert market.open_listings() == ([], 0)
    assert market.allowance(buyer.address, market.market.address) == 0  # approved for the price, all taken


def test_buy_naming_the_current_nonce_with_another_price_says_the_price_is_mistyped(ledger: Ledger, accounts,
                                                                                       seller, buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    listing_id = market.list_asset(asset_id, 100 * UNIT, Deadline.parse("7d"), sender=seller).ids["listingId"]
    seen = market.listing_of(listing_id)
    market.faucet(1_000 * UNIT, sender=buyer)
    sent = sent_by(ledger, buyer)
    with conserved(ledger, accounts) as moved:
        with pytest.raises(ValidationError) as refused:
            market.buy(listing_id, Amount.parse("10"), seen.nonce, sender=buyer)
    assert moved == {} and sent_by(ledger, buyer) == sent
    assert str(refused.value) == (f"listing {listing_id} has not changed (nonce 0): its price is 100 IPST, not the "
                                  "10 IPST you named; name its price to buy")


def test_buy_naming_a_stale_price_or_nonce_is_refused_and_nothing_is_sent(ledger: Ledger, accounts, seller, buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    listing_id = market.list_asset(asset_id, 100 * UNIT, Deadline.parse("7d"), sender=seller).ids["listingId"]
    seen = market.listing_of(listing_id)
    market.update_listing(listing_id, 120 * UNIT, Deadline.parse("7d"), sender=seller)
    market.faucet(1_000 * UNIT, sender=buyer)
    sent = sent_by(ledger, buyer)
    with conserved(ledger, accounts) as moved:
        with pytest.raises(ConflictError) as refused:
            market.buy(listing_id, seen.price, seen.nonce, sender=buyer)
    assert moved == {} and sent_by(ledger, buyer) == sent  # not even an approval
    assert refused.value.name == "MarketplacePriceChanged"  # type: ignore[attr-defined]
    assert str(refused.value) == (f"listing {listing_id} changed since you saw it: its price is now 120 IPST "
                                  "at nonce 1; look again before buying")
    assert refused.value.arguments["price"] == 120 * UNIT  # type: ignore[attr-defined]  # raw units in the data
    with pytest.raises(ConflictError, match="changed since you saw it"):
        market.buy(listing_id, Amount.parse("120"), seen.nonce, sender=buyer)  # the new price, the old nonce
    now = market.listing_of(listing_id)
    market.buy(listing_id, now.price, now.nonce, sender=buyer)
    assert ledger.assets.asset_of(asset_id).owner == buyer.address


def test_buy_without_the_money_is_refused_with_the_balance_sentence_before_any_approval(ledger: Ledger, seller,
                                                                                     buyer):
    market = ledger.market
    listing_id = market.list_asset(register(ledger, seller), 100 * UNIT, Deadline.parse("1d"),
                                   sender=seller).ids["listingId"]
    market.faucet(40 * UNIT, sender=buyer)
    sent = sent_by(ledger, buyer)
    with pytest.raises(ConflictError) as refused:
        market.buy(listing_id, 100 * UNIT, 0, sender=buyer)
    assert str(refused.value) == f"{buyer.address} holds 40 IPST, not the 100 IPST needed"
    assert sent_by(ledger, buyer) == sent


def test_list_by_a_stranger_is_refused_before_any_approval_and_cancel_closes_a_listing(ledger: Ledger, accounts,
                                                                                     seller, buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    with pytest.raises(PermissionDeniedError, match=f"does not own asset {asset_id}"):
        market.list_asset(asset_id, 1, Deadline.parse("1d"), sender=accounts[7])
    assert int(ledger.client.call(ledger.assets.registry.functions.getApproved(asset_id)), 16) == 0
    with pytest.raises(ValidationError, match="the price must be greater than zero"):
        market.list_asset(asset_id, 0, Deadline.parse("1d"), sender=seller)
    listing_id = market.list_asset(asset_id, 5 * UNIT, Deadline.parse("1d"), sender=seller).ids["listingId"]
    with pytest.raises(PermissionDeniedError, match=f"is not the seller of listing, offer or answer {listing_id}"):
        market.cancel_listing(listing_id, sender=buyer)
    market.cancel_listing(listing_id, sender=seller)
    assert market.listing_of(listing_id).status == ListingStatus.CANCELLED
    with pytest.raises(ConflictError) as refused:
        market.buy(listing_id, 5 * UNIT, 0, sender=buyer)
    assert refused.value.name == "MarketplaceListingNotOpen"  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError, match="listing 99 does not exist"):
        market.listing_of(99)


def test_a_listing_expires_and_becomes_void_when_the_asset_changes_hands(ledger: Ledger, accounts, seller):
    market = ledger.market
    first, second = register(ledger, seller, "one"), register(ledger, seller, "two")
    expiring = market.list_asset(first, UNIT, Deadline.parse("1d"), sender=seller).ids["listingId"]
    voided = market.list_asset(second, UNIT, Deadline.parse("3d"), sender=seller).ids["listingId"]
    ledger.assets.transfer(second, accounts[2].address, sender=seller)
    assert market.listing_of(voided).status == ListingStatus.VOID
    ledger.client.increase_time(2 * DAY)
    assert market.listing_of(expiring).status == ListingStatus.EXPIRED
    assert market.open_listings() == ([], 0)


def test_a_listing_dies_for_good_when_the_asset_comes_back_and_the_buy_says_why(ledger: Ledger, accounts, seller,
                                                                              buyer):
    """Issue 11 item 7: listed at 10, the asset goes A -> B -> A and A approves the market again; a watcher's
    buy of the old listing is refused with the reason, and nothing moves."""
    market = ledger.market
    asset_id = register(ledger, seller)
    listing_id = market.list_asset(asset_id, 10 * UNIT, Deadline.parse("7d"), sender=seller).ids["listingId"]
    assert market.listing_of(listing_id).transfers == 0
    ledger.assets.transfer(asset_id, accounts[2].address, sender=seller)
    ledger.assets.transfer(asset_id, seller.address, sender=accounts[2])
    ledger.client.transact(ledger.assets.registry.functions.approve(market.market.address, asset_id), sender=seller)
    assert market.listing_of(listing_id).status == ListingStatus.VOID
    market.faucet(100 * UNIT, sender=buyer)
    with conserved(ledger, accounts) as moved:
        with pytest.raises(ConflictError) as refused:
            market.buy(listing_id, 10 * UNIT, 0, sender=buyer)
    assert moved == {}
    assert refused.value.name == "MarketplaceAssetMovedSinceListed"  # type: ignore[attr-defined]
    assert str(refused.value) == (
        f"asset {asset_id} moved since it was listed (transfer count 0 then, 2 now): the listing is void for good, "
        "even though its seller holds the asset again; list it anew")
    assert ledger.assets.asset_of(asset_id).owner == seller.address


def test_a_license_listing_dies_for_good_when_its_seller_revokes_the_market(ledger: Ledger, accounts, seller,
                                                                           buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    now = ledger.client.block_time("latest")
    terms = LicenseTerms(buyer.address, "non-exclusive", now, now + 365 * DAY, "CN", "H04L", fee=UNIT)
    listing_id = market.list_license(asset_id, terms, Amount.parse("1"), 5, Deadline.parse("30d"),
                                     sender=seller).ids["listingId"]
    lic = market.licenses
    for approved in (False, True):
        ledger.client.transact(lic.functions.setOperator(market.license_market.address, approved), sender=seller)
    assert market.license_listing_of(listing_id).status == ListingStatus.VOID
    market.faucet(10 * UNIT, sender=buyer)
    with pytest.raises(ConflictError) as refused:
        market.buy_license(listing_id, UNIT, 0, sender=buyer)
    assert refused.value.name == "MarketplaceLicensingApprovalChanged"  # type: ignore[attr-defined]
    assert str(refused.value).startswith(
        f"{seller.address} revoked the license market as its operator after this license listing was made "
        "(approval epoch 1 then, 3 now): the listing is void for good")


def test_listing_a_pledged_asset_without_consent_says_the_pledgee_has_not_consented(ledger: Ledger, accounts,
                                                                                   seller, buyer):
    """Issue 11 item 9: the asset was never listed, so the refusal does not say "pledged after it was listed"."""
    market = ledger.market
    bank = accounts[4]
    ledger.assets.grant_role("pledgee", bank.address)
    asset_id = register(ledger, seller)
    now = ledger.client.block_time("latest")
    pledge_id = ledger.pledges.propose(asset_id, bank.address, 5 * UNIT, "cny", now + 365 * DAY, "0x" + "09" * 32,
                                       sender=seller).ids["pledgeId"]
    ledger.pledges.accept(pledge_id, ledger.check.due_diligence(asset_id).encumbrance_version, sender=bank)
    with pytest.raises(ConflictError) as refused:
        market.list_asset(asset_id, 10 * UNIT, Deadline.parse("7d"), sender=seller)
    assert refused.value.name == "MarketplacePledgeeNotConsented"  # type: ignore[attr-defined]
    assert str(refused.value) == (
        f"asset {asset_id} is pledged (pledge {pledge_id}) and its pledgee has not consented to a transfer to "
        "anyone (the listing names no buyer): a pledged asset is listed only for the buyer its pledgee consented to")
    with pytest.raises(ConflictError, match=f"has not consented to a transfer to {buyer.address}"):
        market.list_asset(asset_id, 10 * UNIT, Deadline.parse("7d"), buyer=buyer.address, sender=seller)


def test_a_sale_pays_the_fee_fixed_when_listed_though_the_admin_raised_it(ledger: Ledger, accounts, seller, buyer):
    """Issue 11 item 8: the admin raises the fee from 2.5 % to 10 % after the buyer saw the listing."""
    market = ledger.market
    treasury = accounts[8]
    market.set_fee(treasury.address, 250)
    asset_id = register(ledger, seller)
    listing_id = market.list_asset(asset_id, 100 * UNIT, Deadline.parse("7d"), sender=seller).ids["listingId"]
    seen = market.listing_of(listing_id)
    assert seen.fee_bps == 250 and seen.as_json()["fee_bps"] == 250
    market.set_fee(treasury.address, 1_000)
    market.faucet(100 * UNIT, sender=buyer)
    with conserved(ledger, accounts) as moved:
        market.buy(listing_id, seen.price, seen.nonce, sender=buyer)
    assert moved == {buyer.address: -100 * UNIT, seller.address: 97_500_000, treasury.address: 2_500_000}


# -- offers --------------------------------------------------------------------------------------------


def test_offer_is_escrowed_and_accepting_it_pays_the_seller_less_the_fee(ledger: Ledger, accounts, seller, buyer):
    market = ledger.market
    treasury = accounts[8]
    market.set_fee(treasury.address, 250)  # 2.5 %, by the admin
    assert market.fee() == (treasury.address, 250)
    asset_id = register(ledger, seller)
    market.faucet(1_000 * UNIT, sender=buyer)
    with conserved(ledger, accounts) as moved:
        offered = market.make_offer(asset_id, Amount.parse("80"), Deadline.parse("7d"), sender=buyer)
    offer_id = offered.ids["offerId"]
    assert moved == {buyer.address: -80 * UNIT, market.market.address: 80 * UNIT}
    assert market.escrow_of() == 80 * UNIT
    offers, count = market.open_offers()
    assert count == 1 and offers[0].offer_id == offer_id and offers[0].seller == seller.address
    assert market.open_offers(asset_id=asset_id) == (offers, 1), "an asset's offers are found by its id"
    assert market.open_offers(asset_id=asset_id + 1) == ([], 0)
    assert market.offer_of(offer_id).status == OfferStatus.OPEN
    with pytest.raises(ConflictError, match=f"offer {offer_id} is open until"):
        market.withdraw_offer(offer_id, sender=buyer)
    with conserved(ledger, accounts) as moved:
        market.accept_offer(offer_id, sender=seller)  # approves the Marketplace for the asset first
    assert moved == {market.market.address: -80 * UNIT, seller.address: 78 * UNIT, treasury.address: 2 * UNIT}
    assert ledger.assets.asset_of(asset_id).owner == buyer.address
    assert market.offer_of(offer_id).status == OfferStatus.ACCEPTED and market.escrow_of() == 0


def test_a_refused_offer_is_withdrawn_whole(ledger: Ledger, accounts, seller, buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    market.faucet(100 * UNIT, sender=buyer)
    offer_id = market.make_offer(asset_id, 60 * UNIT, Deadline.parse("7d"), sender=buyer).ids["offerId"]
    with pytest.raises(PermissionDeniedError, match=f"is not the seller of listing, offer or answer {offer_id}"):
        market.accept_offer(offer_id, sender=buyer)
    market.refuse_offer(offer_id, sender=seller)
    assert market.offer_of(offer_id).status == OfferStatus.REFUSED and market.open_offers() == ([], 0)
    with conserved(ledger, accounts) as moved:
        market.withdraw_offer(offer_id, sender=buyer)
    assert moved == {buyer.address: 60 * UNIT, market.market.address: -60 * UNIT}
    assert ledger.assets.asset_of(asset_id).owner == seller.address


# -- license listings ------------------------------------------------------------------------------------


def test_license_offer_makes_the_market_an_operator_and_a_buyer_gets_an_active_license(ledger: Ledger, accounts,
                                                                                      seller, buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    now = ledger.client.block_time("latest")
    terms = LicenseTerms(buyer.address, "non-exclusive", now, now + 365 * DAY, "CN", "H04L", fee=10 * UNIT)
    listing_id = market.list_license(asset_id, terms, Amount.parse("10"), 2, Deadline.parse("30d"),
                                     sender=seller).ids["listingId"]
    listing = market.license_listing_of(listing_id)
    assert (listing.status, listing.supply, listing.sold, listing.price) == (ListingStatus.OPEN, 2, 0, 10 * UNIT)
    assert listing.as_json()["terms"]["territory"] == "CN" and listing.terms.licensee == "0x" + "00" * 20
    market.faucet(100 * UNIT, sender=buyer)
    with conserved(ledger, accounts) as moved:
        bought = market.buy_license(listing_id, listing.price, listing.nonce, sender=buyer)
    assert moved == {buyer.address: -10 * UNIT, seller.address: 10 * UNIT}
    lic = ledger.licenses.license_of(bought.ids["licenseId"])
    assert (lic.asset_id, lic.licensee, lic.status.label, lic.territory) == (asset_id, buyer.address, "active", "CN")
    page, count = market.open_license_listings()
    assert count == 1 and page[0].sold == 1 and page[0].as_json()["remaining"] == 1
    with pytest.raises(ValidationError, match="1 to 65,535 licenses"):
        market.list_license(asset_id, terms, 1, 0, Deadline.parse("1d"), sender=seller)


# -- the demand board ----------------------------------------------------------------------------------


def test_demand_posted_answered_accepted_and_the_sale_completed(ledger: Ledger, accounts, seller, buyer):
    market = ledger.market
    asset_id = register(ledger, seller)
    posted = market.post_demand(build_document("A patent on battery recycling", description="H01M, CN"),
                                Amount.parse("500"), Deadline.parse("30d"), sender=buyer)
    demand_id = posted.ids["demandId"]
    demands, count = market.open_demands()
    assert count == 1 and demands[0].title == "A patent on battery recycling"
    assert demands[0].uri == f"/metadata/{demands[0].description_hash}" and demands[0].budget == 500 * UNIT
    assert market.demand_of(demand_id) == demands[0]
    with pytest.raises(ConflictError,
                       match=rf"the price 600 IPST exceeds the budget of demand {demand_id} \(500 IPST\)"):
        market.answer_demand(demand_id, asset_id, Amount.parse("600"), sender=seller)
    answer_id = market.answer_demand(demand_id, asset_id, Amount.parse("300"), sender=seller).ids["answerId"]
    answers, count = market.open_answers(demand_id)
    assert count == 1 and (answers[0].answer_id, answers[0].asset_id, answers[0].price) == (
        answer_id, asset_id, 300 * UNIT)
    market.faucet(1_000 * UNIT, sender=buyer)
    with conserved(ledger, accounts) as moved:
        accepted = market.accept_answer(answer_id, Deadline.parse("7d"), sender=buyer)
    assert moved == {buyer.address: -300 * UNIT, market.market.address: 300 * UNIT}
    offer = market.offer_of(accepted.ids["offerId"])
    assert (offer.buyer, offer.seller, offer.asset_id, offer.amount) == (buyer.address, seller.address, asset_id,
                                                                        300 * UNIT)
    assert market.open_answers(demand_id) == ([], 0)
    with conserved(ledger, accounts) as moved:
        market.accept_offer(offer.offer_id, sender=seller)
    assert moved == {market.market.address: -300 * UNIT, seller.address: 300 * UNIT}
    assert ledger.assets.asset_of(asset_id).owner == buyer.address
    market.close_demand(demand_id, sender=buyer)
    assert market.open_demands() == ([], 0) and market.demand_of(demand_id).status.label == "closed"
    with pytest.raises(NotFoundError, match="demand 9 does not exist"):
        market.open_answers(9)


def test_a_demand_by_hash_needs_its_uri(ledger: Ledger, buyer):
    with pytest.raises(ValidationError, match="needs the URI"):
        ledger.market.post_demand("0x" + "ab" * 32, 1, Deadline.parse("1d"), sender=buyer)
    demand_id = ledger.market.post_demand("0x" + "ab" * 32, 1, Deadline.parse("1d"), uri="https://example.org/d",
                                          sender=buyer).ids["demandId"]
    demand = ledger.market.demand_of(demand_id)
    assert (demand.uri, demand.title, demand.description_hash) == ("https://example.org/d", None, "0x" + "ab" * 32)


# -- browsing ------------------------------------------------------------------------------------------


def test_open_boards_are_paginated_with_their_count_across_scan_chunks(ledger: Ledger, seller, monkeypatch):
    monkeypatch.setattr(market_module, "SCAN_CHUNK", 2)
    market = ledger.market
    assets = [register(ledger, seller, f"asset {i}") for i in range(5)]
    listings = [market.list_asset(a, (i + 1) * UNIT, Deadline.parse("7d"), sender=seller).ids["listingId"]
                for i, a in enumerate(assets)]
    market.cancel_listing(listings[1], sender=seller)
    page, count = market.open_listings(offset=1, limit=2)
    assert count == 4 and [x.listing_id for x in page] == [listings[2], listings[3]]
    assert market.open_listings(asset_id=assets[4])[1] == 1
    assert market.open_listings(offset=10) == ([], 4)
    with pytest.raises(ValidationError, match="limit must be 1..500"):
        market.open_listings(limit=0)


def test_list_asset_again_reports_the_new_listing_not_the_one_it_replaced(ledger: Ledger, seller):
    """listAsset emits ListingCancelled(previous) before AssetListed(new): the act names the new one."""
    market = ledger.market
    asset_id = register(ledger, seller)
    first = market.list_asset(asset_id, 250 * UNIT, Deadline.parse("7d"), sender=seller).ids["listingId"]
    again = market.list_asset(asset_id, 100 * UNIT, Deadline.parse("7d"), sender=seller)
    assert again.ids["listingId"] == first + 1
    assert again.ids["assetId"] == asset_id
    assert market.listing_of(first).status == ListingStatus.CANCELLED
    relisted = market.listing_of(again.ids["listingId"])
    assert (relisted.status, relisted.price) == (ListingStatus.OPEN, 100 * UNIT)
