"""The market's money rules on a real Anvil: the protocol fee, exact payments (a fee-on-transfer token
is refused), the reentrancy guard against a malicious token and a malicious receiver, escrow that
is never stuck, the SettlementToken's faucet, and a sentence for every market error.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from eth_utils import function_signature_to_4byte_selector

from ledger.chain.deployment import SUITE
from ledger.chain.toolchain import Artifact
from ledger.errors import PermissionDeniedError, ValidationError
from ledger.messages import SENTENCES
from tests.contracts.ipkit import DAY, ZERO_ADDRESS, IPKit
from tests.contracts.test_marketplace import (
    MAX,
    O_ACCEPTED,
    O_WITHDRAWN,
    OPEN,
    SOLD,
    UNIT,
    MarketKit,
    market_kit,
)


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    return market_kit(ip, contract, artifacts)


ADMIN_ROLE = "0x" + "00" * 32
REENTRANT_CALL = "0x" + function_signature_to_4byte_selector("ReentrancyGuardReentrantCall()").hex()
HOOK_TRANSFER, HOOK_RECEIVE = 1, 2

# -- the protocol fee --------------------------------------------------------------------------


def test_set_fee_by_admin_records_it_and_emits_fee_set(market: MarketKit):
    receipt = market.send(market.market.functions.setFee(market.treasury.address, 250), market.ip.admin)
    assert market.events(market.market, receipt) == [("FeeSet", {"treasury": market.treasury.address,
                                                                  "feeBps": 250})]
    assert market.call(market.market.functions.fee()) == [market.treasury.address, 250]
    assert market.call(market.market.functions.MAX_FEE_BPS()) == 1_000


def test_set_fee_by_stranger_reverts_with_unauthorized_account(market: MarketKit):
    error = market.ip.refused(market.market.functions.setFee(market.ip.stranger.address, 100), market.ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("AccessControlUnauthorizedAccount", {
        "account": market.ip.stranger.address, "neededRole": ADMIN_ROLE})
    assert market.call(market.market.functions.fee()) == [ZERO_ADDRESS, 0]


@pytest.mark.parametrize("bad", ["over the cap", "zero treasury"])
def test_set_fee_out_of_bounds_reverts_with_validation_error(market: MarketKit, bad):
    treasury, bps = market.treasury.address, 1_001
    expected = ("MarketplaceInvalidFee", {"feeBps": 1_001, "maxFeeBps": 1_000})
    if bad == "zero treasury":
        treasury, bps, expected = ZERO_ADDRESS, 10, ("MarketplaceZeroAddress", {})
    error = market.ip.refused(market.market.functions.setFee(treasury, bps), market.ip.admin)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == expected
    assert market.call(market.market.functions.fee()) == [ZERO_ADDRESS, 0]


def test_set_fee_to_the_cap_and_back_to_zero_without_treasury(market: MarketKit):
    market.send(market.market.functions.setFee(market.treasury.address, 1_000), market.ip.admin)
    market.send(market.market.functions.setFee(ZERO_ADDRESS, 0), market.ip.admin)
    assert market.call(market.market.functions.fee()) == [ZERO_ADDRESS, 0]


def test_buy_with_fee_pays_the_treasury_its_share_and_the_seller_the_rest(market: MarketKit):
    market.send(market.market.functions.setFee(market.treasury.address, 250), market.ip.admin)
    listing_id = market.list_asset(market.ip.register(), 100 * UNIT)
    with market.ledger() as moved:
        receipt = market.buy(listing_id)
    assert moved == {market.buyer.address: -100 * UNIT, market.seller.address: 97_500_000,
                     market.treasury.address: 2_500_000}
    assert market.events(market.market, receipt)[0][1]["fee"] == 2_500_000


def test_accept_offer_with_fee_pays_the_treasury_from_escrow(market: MarketKit):
    market.send(market.market.functions.setFee(market.treasury.address, 1_000), market.ip.admin)
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, 80 * UNIT)
    market.approve_asset(asset_id)
    with market.ledger() as moved:
        receipt = market.send(market.market.functions.acceptOffer(offer_id), market.seller)
    assert moved == {market.market.address: -80 * UNIT, market.seller.address: 72 * UNIT,
                     market.treasury.address: 8 * UNIT}
    assert market.events(market.market, receipt)[0][1]["fee"] == 8 * UNIT


def test_buy_license_pays_the_marketplaces_fee(market: MarketKit):
    market.send(market.market.functions.setFee(market.treasury.address, 500), market.ip.admin)
    listing_id = market.list_license(market.ip.register(), 10 * UNIT)
    with market.ledger() as moved:
        receipt = market.buy_license(listing_id)
    assert moved == {market.buyer.address: -10 * UNIT, market.seller.address: 9_500_000,
                     market.treasury.address: 500_000}
    assert market.events(market.licenses_market, receipt)[0][1]["fee"] == 500_000


@pytest.mark.parametrize("sale", ["buy", "accept offer", "buy license"])
def test_sale_after_the_admin_raised_the_fee_pays_the_fee_fixed_when_listed(market: MarketKit, sale):
    """The attacker's test: the admin raises the fee from 2.5% to the 10% cap between the parties' look
    and the sale; the sale still pays the 2.5% of its listing or offer."""
    market.send(market.market.functions.setFee(market.treasury.address, 250), market.ip.admin)
    asset_id = market.ip.register()
    if sale == "buy":
        item = market.list_asset(asset_id, 100 * UNIT)
        assert market.listing(item)["feeBps"] == 250
    elif sale == "accept offer":
        item = market.offer(asset_id, 100 * UNIT)
        assert market.offer_of(item)["feeBps"] == 250
        market.approve_asset(asset_id)
    else:
        item = market.list_license(asset_id, 100 * UNIT)
        assert market.license_listing(item)["feeBps"] == 250
    market.send(market.market.functions.setFee(market.treasury.address, 1_000), market.ip.admin)
    with market.ledger() as moved:
        if sale == "buy":
            receipt, contract = market.buy(item), market.market
        elif sale == "accept offer":
            receipt, contract = market.send(market.market.functions.acceptOffer(item), market.seller), market.market
        else:
            receipt, contract = market.buy_license(item), market.licenses_market
    payer = market.market.address if sale == "accept offer" else market.buyer.address
    assert moved == {payer: -100 * UNIT, market.seller.address: 97_500_000, market.treasury.address: 2_500_000}
    assert market.events(contract, receipt)[0][1]["fee"] == 2_500_000


def test_sale_after_the_admin_lowered_the_fee_pays_the_lower_fee(market: MarketKit):
    market.send(market.market.functions.setFee(market.treasury.address, 1_000), market.ip.admin)
    listing_id = market.list_asset(market.ip.register(), 100 * UNIT)
    market.send(market.market.functions.setFee(ZERO_ADDRESS, 0), market.ip.admin)
    with market.ledger() as moved:
        market.buy(listing_id)
    assert moved == {market.buyer.address: -100 * UNIT, market.seller.address: 100 * UNIT}


def test_fee_rounds_down_and_a_treasury_that_buys_pays_no_fee_to_itself(market: MarketKit):
    market.send(market.market.functions.setFee(market.treasury.address, 250), market.ip.admin)
    cheap = market.list_asset(market.ip.register(), 39)  # 39 * 2.5% = 0.975 units: no fee
    with market.ledger() as moved:
        market.buy(cheap)
    assert moved == {market.buyer.address: -39, market.seller.address: 39}
    listing_id = market.list_asset(market.ip.register(), 100 * UNIT)
    with market.ledger() as moved:
        market.buy(listing_id, market.treasury)
    assert moved == {market.treasury.address: -97_500_000, market.seller.address: 97_500_000}


# -- exact payments: a fee-on-transfer token is refused -------------------------------------------


def _fee_token(market: MarketKit, bps: int = 100):
    token = market.deploy("FeeOnTransferToken", bps)
    for account in (market.seller, market.buyer):
        market.fund(account, 1_000 * UNIT, token)
    return token


def test_buy_in_fee_on_transfer_token_reverts_with_inexact_payment(market: MarketKit):
    token = _fee_token(market)
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT, token=token.address)
    with market.ledger(token) as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceInexactPayment", {
        "token": token.address, "expected": 100 * UNIT, "received": 99 * UNIT})
    assert market.listing(listing_id)["status"] == OPEN
    assert market.ip.owner_of(asset_id) == market.seller.address


def test_offer_in_fee_on_transfer_token_reverts_with_inexact_payment(market: MarketKit):
    token = _fee_token(market)
    fn = market.market.functions.makeOffer(market.ip.register(), token.address, 50 * UNIT, market.later())
    with market.ledger(token) as moved:
        error = market.ip.refused(fn, market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceInexactPayment", {
        "token": token.address, "expected": 50 * UNIT, "received": 49_500_000})
    assert market.call(market.market.functions.counts())[1] == 0


def test_buy_license_in_fee_on_transfer_token_reverts_with_inexact_payment(market: MarketKit):
    token = _fee_token(market)
    asset_id = market.ip.register()
    market.approve_licensing()
    fn = market.licenses_market.functions.listLicense(asset_id, market.ip.terms(ZERO_ADDRESS), token.address,
                                                      10 * UNIT, 1, market.later())
    market.send(fn, market.seller)
    with market.ledger(token) as moved:
        error = market.ip.refused(market.licenses_market.functions.buyLicense(1, 10 * UNIT, 0), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceInexactPayment", {
        "token": token.address, "expected": 10 * UNIT, "received": 9_900_000})
    assert market.call(market.ip.licenses.functions.licenseCount()) == 0


def test_offer_in_a_token_that_starts_charging_cannot_be_accepted_but_is_always_withdrawn(market: MarketKit):
    """Escrow is never stuck: the refund has no exactness check, whatever the token does later."""
    token = _fee_token(market, bps=0)
    asset_id = market.ip.register()
    offer_id = market.offer(asset_id, 50 * UNIT, token=token.address, expiry=market.later(1))
    market.send(token.functions.setFeeBps(200), market.ip.admin)
    market.approve_asset(asset_id)
    error = market.ip.refused(market.market.functions.acceptOffer(offer_id), market.seller)
    assert (error.name, error.arguments) == ("MarketplaceInexactPayment", {
        "token": token.address, "expected": 50 * UNIT, "received": 49 * UNIT})
    assert market.ip.owner_of(asset_id) == market.seller.address
    market.chain.increase_time(DAY + 1)
    before = market.balance(market.buyer, token)
    market.send(market.market.functions.withdrawOffer(offer_id), market.buyer)
    assert market.balance(market.buyer, token) - before == 49 * UNIT  # the token burnt its 2%
    assert market.escrow(token) == 0 == market.balance(market.market.address, token)
    assert market.offer_of(offer_id)["status"] == O_WITHDRAWN


# -- reentrancy: a malicious token ---------------------------------------------------------------


def _reentrant_token(market: MarketKit):
    token = market.deploy("ReentrantToken")
    for account in (market.seller, market.buyer, market.buyer2):
        market.fund(account, 1_000 * UNIT, token)
    return token


def test_token_reentering_buy_during_payment_is_refused_and_the_sale_happens_once(market: MarketKit):
    token = _reentrant_token(market)
    asset_id, other_id = market.ip.register(), market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT, token=token.address)
    other = market.list_asset(other_id, 100 * UNIT, token=token.address)
    for target in (listing_id, other):  # the same listing again, then another one
        payload = market.market.functions.buy(target, 100 * UNIT, 0)._encode_transaction_data()
        market.send(token.functions.arm(HOOK_TRANSFER, market.market.address, payload, False), market.ip.admin)
        with market.ledger(token) as moved:
            market.buy(listing_id if target == listing_id else other)
        assert moved == {market.buyer.address: -100 * UNIT, market.seller.address: 100 * UNIT}
        assert market.call(token.functions.reentered()) is False
        assert "0x" + market.call(token.functions.lastResult()).hex() == REENTRANT_CALL
    assert market.call(token.functions.attempts()) == 2
    assert market.ip.owner_of(asset_id) == market.ip.owner_of(other_id) == market.buyer.address


def test_token_whose_reentry_fails_the_payment_leaves_no_half_done_sale(market: MarketKit):
    token = _reentrant_token(market)
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT, token=token.address)
    payload = market.market.functions.buy(listing_id, 100 * UNIT, 0)._encode_transaction_data()
    market.send(token.functions.arm(HOOK_TRANSFER, market.market.address, payload, True), market.ip.admin)
    with market.ledger(token) as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert error.name == "ReentrancyGuardReentrantCall"
    assert market.listing(listing_id)["status"] == OPEN
    assert market.ip.owner_of(asset_id) == market.seller.address


def test_token_reentering_withdraw_during_a_refund_cannot_withdraw_twice(market: MarketKit):
    """The attacker is the token and the buyer; another buyer's escrow in the same token stays whole."""
    token = _reentrant_token(market)
    attacker = token.address
    market.send(token.functions.mint(attacker, 100 * UNIT), market.ip.admin)
    market.send(token.functions.act(token.address, token.functions.approve(market.market.address, MAX)
                                    ._encode_transaction_data()), market.ip.admin)
    asset_id = market.ip.register()
    honest = market.offer(asset_id, 70 * UNIT, buyer=market.buyer2, token=token.address)
    make = market.market.functions.makeOffer(asset_id, token.address, 60 * UNIT, market.later())
    market.send(token.functions.act(market.market.address, make._encode_transaction_data()), market.ip.admin)
    offer_id = honest + 1
    market.send(market.market.functions.refuseOffer(offer_id), market.seller)
    withdraw = market.market.functions.withdrawOffer(offer_id)._encode_transaction_data()
    market.send(token.functions.arm(HOOK_TRANSFER, market.market.address, withdraw, False), market.ip.admin)
    with market.ledger(token) as moved:
        market.send(token.functions.act(market.market.address, withdraw), market.ip.admin)
    assert moved == {market.market.address: -60 * UNIT, attacker: 60 * UNIT}
    assert market.call(token.functions.reentered()) is False
    assert "0x" + market.call(token.functions.lastResult()).hex() == REENTRANT_CALL
    assert market.escrow(token) == 70 * UNIT == market.balance(market.market.address, token)
    assert market.offer_of(honest)["amount"] == 70 * UNIT


def test_token_reentering_withdraw_during_an_accepted_offers_payout_is_refused(market: MarketKit):
    token = _reentrant_token(market)
    attacker = token.address
    market.send(token.functions.mint(attacker, 100 * UNIT), market.ip.admin)
    market.send(token.functions.act(token.address, token.functions.approve(market.market.address, MAX)
                                    ._encode_transaction_data()), market.ip.admin)
    asset_id = market.ip.register()
    make = market.market.functions.makeOffer(asset_id, token.address, 60 * UNIT, market.later())
    market.send(token.functions.act(market.market.address, make._encode_transaction_data()), market.ip.admin)
    withdraw = market.market.functions.withdrawOffer(1)._encode_transaction_data()
    market.send(token.functions.arm(HOOK_TRANSFER, market.market.address, withdraw, False), market.ip.admin)
    market.approve_asset(asset_id)
    with market.ledger(token) as moved:
        market.send(market.market.functions.acceptOffer(1), market.seller)
    assert moved == {market.market.address: -60 * UNIT, market.seller.address: 60 * UNIT}
    assert market.call(token.functions.reentered()) is False
    assert market.ip.owner_of(asset_id) == attacker
    assert market.offer_of(1)["status"] == O_ACCEPTED


# -- reentrancy: a malicious receiver ------------------------------------------------------------


def test_receiver_reentering_buy_from_on_erc721_received_is_refused(market: MarketKit):
    """The buyer is a contract that tries to buy a second listing while receiving the first asset."""
    attacker = market.deploy("ReentrantToken")
    assets = [market.ip.register(), market.ip.register()]
    listings = [market.list_asset(a, 100 * UNIT) for a in assets]
    market.send(market.token.functions.faucet(attacker.address, 300 * UNIT), market.ip.admin)
    approve = market.token.functions.approve(market.market.address, MAX)._encode_transaction_data()
    market.send(attacker.functions.act(market.token.address, approve), market.ip.admin)
    second = market.market.functions.buy(listings[1], 100 * UNIT, 0)._encode_transaction_data()
    market.send(attacker.functions.arm(HOOK_RECEIVE, market.market.address, second, False), market.ip.admin)
    first = market.market.functions.buy(listings[0], 100 * UNIT, 0)._encode_transaction_data()
    with market.ledger() as moved:
        market.send(attacker.functions.act(market.market.address, first), market.ip.admin)
    assert moved == {attacker.address: -100 * UNIT, market.seller.address: 100 * UNIT}
    assert market.call(attacker.functions.reentered()) is False
    assert "0x" + market.call(attacker.functions.lastResult()).hex() == REENTRANT_CALL
    assert market.ip.owner_of(assets[0]) == attacker.address
    assert market.ip.owner_of(assets[1]) == market.seller.address
    assert [market.listing(i)["status"] for i in listings] == [SOLD, OPEN]


def test_receiver_whose_reentry_fails_the_transfer_undoes_the_payment(market: MarketKit):
    attacker = market.deploy("ReentrantToken")
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT)
    market.send(market.token.functions.faucet(attacker.address, 100 * UNIT), market.ip.admin)
    approve = market.token.functions.approve(market.market.address, MAX)._encode_transaction_data()
    market.send(attacker.functions.act(market.token.address, approve), market.ip.admin)
    again = market.market.functions.buy(listing_id, 100 * UNIT, 0)._encode_transaction_data()
    market.send(attacker.functions.arm(HOOK_RECEIVE, market.market.address, again, True), market.ip.admin)
    with market.ledger() as moved, pytest.raises(Exception) as caught:
        market.send(attacker.functions.act(market.market.address, again), market.ip.admin)
    assert moved == {}
    assert getattr(caught.value, "name", None) == "ReentrancyGuardReentrantCall"
    assert market.ip.owner_of(asset_id) == market.seller.address
    assert market.listing(listing_id)["status"] == OPEN


# -- the SettlementToken -------------------------------------------------------------------------


def test_settlement_token_has_6_decimals_and_a_dev_faucet(market: MarketKit):
    token = market.token
    assert market.call(token.functions.decimals()) == 6
    assert market.call(token.functions.symbol()) == "IPST"
    assert market.call(token.functions.faucetEnabled()) is True
    limit = market.call(token.functions.FAUCET_LIMIT())
    assert limit == 1_000_000 * UNIT
    error = market.ip.refused(token.functions.faucet(market.ip.stranger.address, limit + 1), market.ip.stranger)
    assert (error.name, error.arguments) == ("SettlementTokenFaucetLimit", {"amount": limit + 1, "limit": limit})


def test_settlement_token_of_a_production_deployment_has_no_faucet(market: MarketKit):
    args = dict(SUITE)["SettlementToken"]({"IpledgerForwarder": market.ip.forwarder.address},
                                          market.ip.admin.address, False)
    assert args == [market.ip.forwarder.address, False]
    receipt = market.chain.deploy(market.artifacts["SettlementToken"], *args, sender=market.ip.admin)
    token = market.chain.contract(market.artifacts["SettlementToken"].abi, receipt.contract_address)
    assert market.call(token.functions.faucetEnabled()) is False
    error = market.ip.refused(token.functions.faucet(market.ip.stranger.address, 1), market.ip.stranger)
    assert (error.name, error.arguments) == ("SettlementTokenFaucetDisabled", {})
    assert market.call(token.functions.totalSupply()) == 0


# -- sentences -----------------------------------------------------------------------------------


def test_every_market_error_has_a_sentence_naming_only_its_arguments(artifacts):
    errors = {}
    for name in ("Marketplace", "LicenseMarket", "SettlementToken", "LicenseRegistry"):
        for item in artifacts[name].abi:
            if item["type"] == "error":
                errors[item["name"]] = {i["name"] for i in item["inputs"]}
    missing = sorted(set(errors) - set(SENTENCES))
    assert not missing, f"errors without a sentence in ledger/messages.py: {missing}"
    for name, inputs in errors.items():
        fields = {f for _, f, _, _ in string.Formatter().parse(SENTENCES[name]) if f}
        assert fields <= inputs, f"{name}: the sentence names {fields - inputs}, not arguments of the error"
