"""Marketplace offers on a real Anvil: escrow, accept, refuse, withdraw, and every rule of an offer.

Every money-moving test runs in :meth:`MarketKit.ledger` (balances conserved, escrow exact).
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.chain.toolchain import Artifact
from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tests.contracts.ipkit import DAY, IPKit
from tests.contracts.test_marketplace import (
    O_ACCEPTED,
    O_EXPIRED,
    O_OPEN,
    O_REFUSED,
    O_VOID,
    O_WITHDRAWN,
    OFFER_FIELDS,
    UNIT,
    MarketKit,
    market_kit,
)


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    return market_kit(ip, contract, artifacts)


# -- make ------------------------------------------------------------------------------------------


def test_make_offer_moves_the_amount_into_escrow_and_emits_offer_made(market: MarketKit):
    asset_id = market.ip.register()
    expiry = market.later()
    with market.ledger() as moved:
        receipt = market.send(market.market.functions.makeOffer(asset_id, market.token.address, 80 * UNIT, expiry),
                              market.buyer)
    assert moved == {market.buyer.address: -80 * UNIT, market.market.address: 80 * UNIT}
    assert market.events(market.market, receipt) == [("OfferMade", {
        "offerId": 1, "assetId": asset_id, "buyer": market.buyer.address, "seller": market.seller.address,
        "token": market.token.address, "amount": 80 * UNIT, "expiry": expiry, "pledgeId": 0, "feeBps": 0})]
    assert market.offer_of(1) == {
        "buyer": market.buyer.address, "expiry": expiry, "status": O_OPEN, "feeBps": 0,
        "seller": market.seller.address,
        "assetId": asset_id, "token": market.token.address, "pledgeId": 0, "amount": 80 * UNIT}
    assert market.escrow() == 80 * UNIT


def test_make_offer_for_own_asset_reverts_with_invalid_counterparty(market: MarketKit):
    asset_id = market.ip.register()
    fn = market.market.functions.makeOffer(asset_id, market.token.address, UNIT, market.later())
    with market.ledger() as moved:
        error = market.ip.refused(fn, market.seller)
    assert moved == {}
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == ("MarketplaceInvalidCounterparty", {"account": market.seller.address})


def test_make_offer_for_unknown_asset_reverts_with_nonexistent_token(market: MarketKit):
    error = market.ip.refused(market.market.functions.makeOffer(42, market.token.address, UNIT, market.later()),
                              market.buyer)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("ERC721NonexistentToken", {"tokenId": 42})


@pytest.mark.parametrize("bad", ["zero amount", "zero token", "past expiry"])
def test_make_offer_with_bad_terms_reverts_with_validation_error(market: MarketKit, bad):
    asset_id = market.ip.register()
    token, amount, expiry = market.token.address, UNIT, market.later()
    if bad == "zero amount":
        amount, expected = 0, ("MarketplaceZeroAmount", {})
    elif bad == "zero token":
        token, expected = "0x" + "00" * 20, ("MarketplaceZeroAddress", {})
    else:
        expiry = market.ip.now()
        expected = ("MarketplaceInvalidExpiry", {"expiry": expiry})
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.makeOffer(asset_id, token, amount, expiry), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == expected
    assert market.call(market.market.functions.counts())[1] == 0


def test_make_offer_for_frozen_asset_reverts_with_asset_frozen(market: MarketKit):
    asset_id = market.ip.register()
    until = market.later(10)
    market.ip.freeze(asset_id, until=until)
    fn = market.market.functions.makeOffer(asset_id, market.token.address, UNIT, market.later())
    with market.ledger() as moved:
        error = market.ip.refused(fn, market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})


def test_make_offer_for_pledged_asset_records_the_pledge(market: MarketKit):
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    offer_id = market.offer(asset_id)
    assert market.offer_of(offer_id)["pledgeId"] == pledge_id


# -- accept ------------------------------------------------------------------------------------


def test_accept_offer_pays_the_seller_from_escrow_and_moves_the_asset(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, 80 * UNIT)
    market.approve_asset(asset_id)
    with market.ledger() as moved:
        receipt = market.send(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {market.market.address: -80 * UNIT, market.seller.address: 80 * UNIT}
    assert market.ip.owner_of(asset_id) == market.buyer.address
    assert market.events(market.market, receipt) == [("OfferAccepted", {
        "offerId": offer_id, "assetId": asset_id, "buyer": market.buyer.address, "seller": market.seller.address,
        "amount": 80 * UNIT, "fee": 0})]
    assert market.offer_of(offer_id)["status"] == O_ACCEPTED
    assert market.escrow() == 0


def test_accept_offer_with_operator_approval_works_too(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id)
    market.send(market.ip.registry.functions.setApprovalForAll(market.market.address, True), market.seller)
    market.send(market.market.functions.acceptOffer(offer_id), market.seller)
    assert market.ip.owner_of(asset_id) == market.buyer.address


def test_accept_offer_without_approval_reverts_with_insufficient_approval(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id)
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {}
    assert (error.name, error.arguments) == (
        "ERC721InsufficientApproval", {"operator": market.market.address, "tokenId": asset_id})
    assert market.offer_of(offer_id)["status"] == O_OPEN


def test_accept_offer_by_stranger_reverts_with_not_seller(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id)
    market.approve_asset(asset_id)
    error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("MarketplaceNotSeller", {"id": offer_id,
                                                                       "account": market.ip.stranger.address})
    assert market.offer_of(offer_id)["status"] == O_OPEN


def test_accept_unknown_offer_reverts_with_unknown_offer(market: MarketKit):
    error = market.ip.refused(market.market.functions.acceptOffer(3), market.seller)
    assert (error.name, error.arguments) == ("MarketplaceUnknownOffer", {"offerId": 3})


def test_accept_expired_offer_reverts_with_offer_not_open_expired(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, expiry=market.later(1))
    market.approve_asset(asset_id)
    market.chain.increase_time(DAY + 1)
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceOfferNotOpen", {"offerId": offer_id, "status": O_EXPIRED})


def test_accept_after_the_asset_changed_hands_is_refused_to_old_and_new_owner(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id)
    market.ip.transfer(market.seller, market.ip.other.address, asset_id)
    market.approve_asset(asset_id, market.ip.other)
    assert market.offer_of(offer_id)["status"] == O_VOID
    with market.ledger() as moved:
        old = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
        new = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.ip.other)
    assert moved == {}
    assert (old.name, old.arguments) == ("MarketplaceAssetChangedHands", {
        "assetId": asset_id, "seller": market.seller.address, "owner": market.ip.other.address})
    assert (new.name, new.arguments) == ("MarketplaceNotSeller", {"id": offer_id, "account": market.ip.other.address})


def test_accept_after_the_asset_was_pledged_reverts_with_asset_pledged(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id)
    pledge_id = market.ip.pledge(asset_id)
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    market.approve_asset(asset_id)
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})


def test_accept_while_frozen_reverts_with_asset_frozen(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id)
    market.approve_asset(asset_id)
    until = market.later(2)
    market.ip.freeze(asset_id, until=until)
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})


def test_accept_offer_for_pledged_asset_needs_the_pledgees_consent_to_the_buyer(market: MarketKit):
    """The IPRegistry's guard decides: refused without the consent, done with it (the pledge follows)."""
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    offer_id = market.offer(asset_id, 80 * UNIT)
    market.approve_asset(asset_id)
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {}
    assert (error.name, error.arguments) == ("IPRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    assert market.offer_of(offer_id)["status"] == O_OPEN

    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    with market.ledger() as moved:
        market.send(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {market.market.address: -80 * UNIT, market.seller.address: 80 * UNIT}
    assert market.ip.owner_of(asset_id) == market.buyer.address
    assert market.call(market.ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id


# -- refuse and withdraw -------------------------------------------------------------------------


def test_refuse_offer_lets_the_buyer_withdraw_at_once(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, 80 * UNIT)
    receipt = market.send(market.market.functions.refuseOffer(offer_id), market.seller)
    assert market.events(market.market, receipt) == [
        ("OfferRefused", {"offerId": offer_id, "assetId": asset_id, "seller": market.seller.address})]
    assert market.offer_of(offer_id)["status"] == O_REFUSED
    market.approve_asset(asset_id)
    error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
    assert (error.name, error.arguments) == ("MarketplaceOfferNotOpen", {"offerId": offer_id, "status": O_REFUSED})
    with market.ledger() as moved:
        receipt = market.send(market.market.functions.withdrawOffer(offer_id), market.buyer)
    assert moved == {market.market.address: -80 * UNIT, market.buyer.address: 80 * UNIT}
    assert market.events(market.market, receipt) == [("OfferWithdrawn", {
        "offerId": offer_id, "assetId": asset_id, "buyer": market.buyer.address, "amount": 80 * UNIT})]
    assert market.offer_of(offer_id)["status"] == O_WITHDRAWN


def test_refuse_offer_by_stranger_reverts_with_not_seller(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id)
    error = market.ip.refused(market.market.functions.refuseOffer(offer_id), market.ip.stranger)
    assert (error.name, error.arguments) == ("MarketplaceNotSeller", {"id": offer_id,
                                                                       "account": market.ip.stranger.address})
    assert market.offer_of(offer_id)["status"] == O_OPEN


def test_withdraw_open_offer_before_expiry_reverts_with_offer_still_open(market: MarketKit):
    asset_id = market.ip.register()
    expiry = market.later(2)
    offer_id = market.offer(asset_id, expiry=expiry)
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.withdrawOffer(offer_id), market.buyer)
    assert moved == {}
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("MarketplaceOfferStillOpen", {"offerId": offer_id, "expiry": expiry})


def test_withdraw_expired_offer_returns_the_amount(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, 80 * UNIT, expiry=market.later(2))
    market.chain.increase_time(2 * DAY + 1)
    with market.ledger() as moved:
        market.send(market.market.functions.withdrawOffer(offer_id), market.buyer)
    assert moved == {market.market.address: -80 * UNIT, market.buyer.address: 80 * UNIT}


@pytest.mark.parametrize("voided_by", ["transfer", "pledge", "freeze"])
def test_withdraw_void_offer_returns_the_amount_before_expiry(market: MarketKit, voided_by):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, 80 * UNIT, expiry=market.later(30))
    if voided_by == "transfer":
        market.ip.transfer(market.seller, market.ip.other.address, asset_id)
    elif voided_by == "pledge":
        market.ip.pledge(asset_id)
    else:
        market.ip.freeze(asset_id)
    assert market.offer_of(offer_id)["status"] == O_VOID
    with market.ledger() as moved:
        market.send(market.market.functions.withdrawOffer(offer_id), market.buyer)
    assert moved == {market.market.address: -80 * UNIT, market.buyer.address: 80 * UNIT}


def test_withdraw_by_stranger_reverts_with_not_buyer(market: MarketKit):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, expiry=market.later(1))
    market.chain.increase_time(2 * DAY)
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.withdrawOffer(offer_id), market.ip.stranger)
    assert moved == {}
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("MarketplaceNotBuyer", {"offerId": offer_id,
                                                                      "account": market.ip.stranger.address})


@pytest.mark.parametrize("closed", ["withdrawn", "accepted"])
def test_withdraw_closed_offer_reverts_with_offer_not_open(market: MarketKit, closed):
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, expiry=market.later(1))
    if closed == "accepted":
        market.approve_asset(asset_id)
        market.send(market.market.functions.acceptOffer(offer_id), market.seller)
        status = O_ACCEPTED
    else:
        market.chain.increase_time(2 * DAY)
        market.send(market.market.functions.withdrawOffer(offer_id), market.buyer)
        status = O_WITHDRAWN
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.withdrawOffer(offer_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceOfferNotOpen", {"offerId": offer_id, "status": status})


def test_escrow_of_several_offers_is_their_sum_until_each_closes(market: MarketKit):
    assets = [market.ip.register() for _ in range(3)]
    offers = [market.offer(a, (i + 1) * 10 * UNIT, buyer=b, expiry=market.later(1))
              for i, (a, b) in enumerate(zip(assets, (market.buyer, market.buyer2, market.buyer), strict=True))]
    assert market.escrow() == 60 * UNIT
    market.approve_asset(assets[1])
    market.send(market.market.functions.acceptOffer(offers[1]), market.seller)
    assert market.escrow() == 40 * UNIT
    market.chain.increase_time(2 * DAY)
    with market.ledger() as moved:
        market.send(market.market.functions.withdrawOffer(offers[0]), market.buyer)
        market.send(market.market.functions.withdrawOffer(offers[2]), market.buyer)
    assert moved == {market.market.address: -40 * UNIT, market.buyer.address: 40 * UNIT}
    assert market.escrow() == 0


def test_open_offers_lists_acceptable_offers_by_id_range(market: MarketKit):
    assets = [market.ip.register() for _ in range(4)]
    offers = [market.offer(a, UNIT, expiry=market.later(1 if i == 2 else 9)) for i, a in enumerate(assets)]
    market.send(market.market.functions.refuseOffer(offers[0]), market.seller)
    market.ip.freeze(assets[1])
    market.chain.increase_time(2 * DAY)
    ids, rows = market.call(market.market.functions.openOffers(1, 100))
    assert ids == [offers[3]]
    assert dict(zip(OFFER_FIELDS, rows[0], strict=True))["assetId"] == assets[3]
    assert [market.offer_of(o)["status"] for o in offers] == [O_REFUSED, O_VOID, O_EXPIRED, O_OPEN]
