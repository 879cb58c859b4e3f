"""The demand board on a real Anvil: post, answer, accept (an escrowed offer to the answerer), complete.

The flow: a firm posts a demand (description hash and URI, token, budget, deadline); an owner
answers with an asset and a price within the budget; the poster accepts the answer, which moves the
price into escrow as an offer for that asset to the answerer; the answerer completes the sale with
``acceptOffer`` (or refuses it and the poster withdraws).
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.chain.toolchain import Artifact
from ledger.errors import PermissionDeniedError, ValidationError
from tests.contracts.ipkit import DAY, ZERO_ADDRESS, IPKit
from tests.contracts.test_marketplace import (
    A_ACCEPTED,
    A_OPEN,
    A_WITHDRAWN,
    ANSWER_FIELDS,
    D_CLOSED,
    D_EXPIRED,
    D_OPEN,
    DEMAND_FIELDS,
    O_ACCEPTED,
    O_OPEN,
    UNIT,
    MarketKit,
    market_kit,
)


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    return market_kit(ip, contract, artifacts)


# -- post and close ----------------------------------------------------------------------------


def test_post_demand_records_it_and_emits_demand_posted_with_its_uri(market: MarketKit):
    deadline = market.later(30)
    receipt = market.send(market.market.functions.postDemand(b"\x0d" * 32, "ipfs://need", market.token.address,
                                                             500 * UNIT, deadline), market.buyer)
    assert market.events(market.market, receipt) == [("DemandPosted", {
        "demandId": 1, "poster": market.buyer.address, "token": market.token.address, "budget": 500 * UNIT,
        "deadline": deadline, "descriptionHash": "0x" + "0d" * 32, "uri": "ipfs://need"})]
    assert market.demand_of(1) == {"poster": market.buyer.address, "deadline": deadline, "status": D_OPEN,
                                   "token": market.token.address, "budget": 500 * UNIT,
                                   "descriptionHash": b"\x0d" * 32}
    assert market.balance(market.market.address) == 0  # nothing is escrowed by posting


@pytest.mark.parametrize("bad", ["zero hash", "zero token", "zero budget", "past deadline"])
def test_post_demand_with_bad_terms_reverts_with_validation_error(market: MarketKit, bad):
    description, token, budget, deadline = b"\x0d" * 32, market.token.address, UNIT, market.later()
    if bad == "zero hash":
        description, expected = b"\0" * 32, ("MarketplaceZeroHash", {})
    elif bad == "zero token":
        token, expected = ZERO_ADDRESS, ("MarketplaceZeroAddress", {})
    elif bad == "zero budget":
        budget, expected = 0, ("MarketplaceZeroAmount", {})
    else:
        deadline = market.ip.now() - DAY
        expected = ("MarketplaceInvalidExpiry", {"expiry": deadline})
    fn = market.market.functions.postDemand(description, "", token, budget, deadline)
    error = market.ip.refused(fn, market.buyer)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == expected
    assert market.call(market.market.functions.counts())[2] == 0


def test_close_demand_by_poster_stops_answers(market: MarketKit):
    demand_id = market.post_demand()
    receipt = market.send(market.market.functions.closeDemand(demand_id), market.buyer)
    assert market.events(market.market, receipt) == [("DemandClosed", {"demandId": demand_id,
                                                                        "poster": market.buyer.address})]
    asset_id = market.ip.register()
    error = market.ip.refused(market.market.functions.answerDemand(demand_id, asset_id, UNIT), market.seller)
    assert (error.name, error.arguments) == ("MarketplaceDemandNotOpen", {"demandId": demand_id, "status": D_CLOSED})
    error = market.ip.refused(market.market.functions.closeDemand(demand_id), market.buyer)
    assert (error.name, error.arguments) == ("MarketplaceDemandNotOpen", {"demandId": demand_id, "status": D_CLOSED})


def test_close_demand_by_stranger_reverts_with_not_poster(market: MarketKit):
    demand_id = market.post_demand()
    error = market.ip.refused(market.market.functions.closeDemand(demand_id), market.ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("MarketplaceNotPoster", {"demandId": demand_id,
                                                                       "account": market.ip.stranger.address})
    assert market.demand_of(demand_id)["status"] == D_OPEN


# -- answer --------------------------------------------------------------------------------------


def test_answer_by_owner_within_budget_records_it_and_emits_demand_answered(market: MarketKit):
    demand_id = market.post_demand(500 * UNIT)
    asset_id = market.ip.register()
    receipt = market.send(market.market.functions.answerDemand(demand_id, asset_id, 500 * UNIT), market.seller)
    assert market.events(market.market, receipt) == [("DemandAnswered", {
        "answerId": 1, "demandId": demand_id, "assetId": asset_id, "answerer": market.seller.address,
        "price": 500 * UNIT})]
    assert market.answer_of(1) == {"answerer": market.seller.address, "demandId": demand_id, "status": A_OPEN,
                                   "assetId": asset_id, "price": 500 * UNIT}


@pytest.mark.parametrize("bad", ["over budget", "zero price", "not owner", "poster", "frozen", "past deadline",
                                 "unknown demand"])
def test_answer_refused(market: MarketKit, bad):
    demand_id = market.post_demand(500 * UNIT, deadline=market.later(2))
    asset_id = market.ip.register()
    sender, price, demand = market.seller, 100 * UNIT, demand_id
    if bad == "over budget":
        price = 501 * UNIT
        expected = ("MarketplaceOverBudget", {"demandId": demand_id, "price": price, "budget": 500 * UNIT})
    elif bad == "zero price":
        price, expected = 0, ("MarketplaceZeroAmount", {})
    elif bad == "not owner":
        sender = market.ip.stranger
        expected = ("MarketplaceNotOwner", {"assetId": asset_id, "account": sender.address})
    elif bad == "poster":
        sender = market.buyer
        expected = ("MarketplaceInvalidCounterparty", {"account": sender.address})
    elif bad == "frozen":
        until = market.later(5)
        market.ip.freeze(asset_id, until=until)
        expected = ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})
    elif bad == "past deadline":
        market.chain.increase_time(2 * DAY + 1)
        expected = ("MarketplaceDemandNotOpen", {"demandId": demand_id, "status": D_EXPIRED})
    else:
        demand, expected = 9, ("MarketplaceUnknownDemand", {"demandId": 9})
    error = market.ip.refused(market.market.functions.answerDemand(demand, asset_id, price), sender)
    assert (error.name, error.arguments) == expected
    assert market.call(market.market.functions.counts())[3] == 0


def test_withdraw_answer_by_answerer_and_not_by_others(market: MarketKit):
    demand_id = market.post_demand()
    answer_id = market.answer(demand_id, market.ip.register())
    error = market.ip.refused(market.market.functions.withdrawAnswer(answer_id), market.ip.stranger)
    assert (error.name, error.arguments) == ("MarketplaceNotSeller", {"id": answer_id,
                                                                       "account": market.ip.stranger.address})
    receipt = market.send(market.market.functions.withdrawAnswer(answer_id), market.seller)
    assert market.events(market.market, receipt) == [("AnswerWithdrawn", {
        "answerId": answer_id, "demandId": demand_id, "answerer": market.seller.address})]
    assert market.answer_of(answer_id)["status"] == A_WITHDRAWN
    error = market.ip.refused(market.market.functions.acceptAnswer(answer_id, market.later()), market.buyer)
    assert (error.name, error.arguments) == ("MarketplaceAnswerNotOpen", {"answerId": answer_id,
                                                                           "status": A_WITHDRAWN})


# -- accept: demand -> escrowed offer -> sale ---------------------------------------------------


def test_demand_to_sale_poster_accepts_answer_then_answerer_completes_the_sale(market: MarketKit):
    demand_id = market.post_demand(500 * UNIT)
    asset_id = market.ip.register()
    answer_id = market.answer(demand_id, asset_id, 300 * UNIT)
    expiry = market.later(7)
    with market.ledger() as moved:
        receipt = market.send(market.market.functions.acceptAnswer(answer_id, expiry), market.buyer)
    assert moved == {market.buyer.address: -300 * UNIT, market.market.address: 300 * UNIT}
    assert market.events(market.market, receipt) == [
        ("OfferMade", {"offerId": 1, "assetId": asset_id, "buyer": market.buyer.address,
                       "seller": market.seller.address, "token": market.token.address, "amount": 300 * UNIT,
                       "expiry": expiry, "pledgeId": 0, "feeBps": 0}),
        ("AnswerAccepted", {"answerId": answer_id, "demandId": demand_id, "offerId": 1}),
    ]
    assert market.answer_of(answer_id)["status"] == A_ACCEPTED
    assert market.offer_of(1)["status"] == O_OPEN
    assert market.demand_of(demand_id)["status"] == D_OPEN  # a demand may be met by several answers

    market.approve_asset(asset_id)
    with market.ledger() as moved:
        market.send(market.market.functions.acceptOffer(1), market.seller)
    assert moved == {market.market.address: -300 * UNIT, market.seller.address: 300 * UNIT}
    assert market.ip.owner_of(asset_id) == market.buyer.address
    assert market.offer_of(1)["status"] == O_ACCEPTED


def test_demand_offer_refused_by_answerer_is_withdrawn_by_poster(market: MarketKit):
    demand_id = market.post_demand()
    answer_id = market.answer(demand_id, market.ip.register(), 300 * UNIT)
    offer_id = market.call(market.market.functions.counts())[1] + 1
    market.send(market.market.functions.acceptAnswer(answer_id, market.later()), market.buyer)
    market.send(market.market.functions.refuseOffer(offer_id), market.seller)
    with market.ledger() as moved:
        market.send(market.market.functions.withdrawOffer(offer_id), market.buyer)
    assert moved == {market.market.address: -300 * UNIT, market.buyer.address: 300 * UNIT}


@pytest.mark.parametrize("bad", ["stranger", "twice", "changed hands", "frozen", "closed", "past expiry",
                                 "unknown answer"])
def test_accept_answer_refused_and_nothing_escrowed(market: MarketKit, bad):
    demand_id = market.post_demand()
    asset_id = market.ip.register()
    answer_id = market.answer(demand_id, asset_id, 300 * UNIT)
    sender, answer, expiry = market.buyer, answer_id, market.later()
    if bad == "stranger":
        sender = market.ip.stranger
        expected = ("MarketplaceNotPoster", {"demandId": demand_id, "account": sender.address})
    elif bad == "twice":
        market.send(market.market.functions.acceptAnswer(answer_id, expiry), market.buyer)
        expected = ("MarketplaceAnswerNotOpen", {"answerId": answer_id, "status": A_ACCEPTED})
    elif bad == "changed hands":
        market.ip.transfer(market.seller, market.ip.other.address, asset_id)
        expected = ("MarketplaceAssetChangedHands", {"assetId": asset_id, "seller": market.seller.address,
                                                     "owner": market.ip.other.address})
    elif bad == "frozen":
        until = market.later(3)
        market.ip.freeze(asset_id, until=until)
        expected = ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})
    elif bad == "closed":
        market.send(market.market.functions.closeDemand(demand_id), market.buyer)
        expected = ("MarketplaceDemandNotOpen", {"demandId": demand_id, "status": D_CLOSED})
    elif bad == "past expiry":
        expiry = market.ip.now()
        expected = ("MarketplaceInvalidExpiry", {"expiry": expiry})
    else:
        answer, expected = 77, ("MarketplaceUnknownAnswer", {"answerId": 77})
    escrow = market.escrow()
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.acceptAnswer(answer, expiry), sender)
    assert moved == {}
    assert (error.name, error.arguments) == expected
    assert market.escrow() == escrow


def test_accept_answer_for_pledged_asset_completes_only_with_the_pledgees_consent(market: MarketKit):
    demand_id = market.post_demand()
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    answer_id = market.answer(demand_id, asset_id, 300 * UNIT)
    market.send(market.market.functions.acceptAnswer(answer_id, market.later()), market.buyer)
    assert market.offer_of(1)["pledgeId"] == pledge_id
    market.approve_asset(asset_id)
    error = market.ip.refused(market.market.functions.acceptOffer(1), market.seller)
    assert (error.name, error.arguments) == ("IPRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    with market.ledger() as moved:
        market.send(market.market.functions.acceptOffer(1), market.seller)
    assert moved == {market.market.address: -300 * UNIT, market.seller.address: 300 * UNIT}
    assert market.ip.owner_of(asset_id) == market.buyer.address


# -- browsing ------------------------------------------------------------------------------------


def test_open_demands_and_open_answers_page_by_id_range(market: MarketKit):
    first = market.post_demand(deadline=market.later(1))
    second = market.post_demand()
    third = market.post_demand(poster=market.buyer2)
    market.send(market.market.functions.closeDemand(third), market.buyer2)
    a1 = market.answer(second, market.ip.register(), UNIT)
    a2 = market.answer(second, market.ip.register(), 2 * UNIT)
    a3 = market.answer(first, market.ip.register(), 3 * UNIT)
    market.send(market.market.functions.withdrawAnswer(a1), market.seller)
    market.chain.increase_time(DAY + 1)
    ids, rows = market.call(market.market.functions.openDemands(1, 10))
    assert ids == [second]
    assert dict(zip(DEMAND_FIELDS, rows[0], strict=True))["poster"] == market.buyer.address
    assert market.demand_of(first)["status"] == D_EXPIRED
    ids, rows = market.call(market.market.functions.openAnswers(second, 0, 100))
    assert ids == [a2]
    assert dict(zip(ANSWER_FIELDS, rows[0], strict=True))["price"] == 2 * UNIT
    assert market.call(market.market.functions.openAnswers(first, 0, 100))[0] == [a3]
    assert market.call(market.market.functions.openAnswers(second, a2 + 1, 100)) == [[], []]
