"""Marketplace on a real Anvil: asset listings (list, update, cancel, buy) and every rule of a sale.

This module also holds the market's test kit (:class:`MarketKit`, the ``market`` fixture and the
enum values), which the other ``test_marketplace_*`` modules and the stateful test import.

Every test that moves money runs inside :meth:`MarketKit.ledger`, which checks that the tracked
holders (Anvil's ten accounts, the two market contracts and any test contract) hold the whole
supply of each token before and after, that the sum did not change (the fee goes to a tracked
treasury), and that the Marketplace holds exactly its accounted escrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from ledger.chain.client import ChainClient, Receipt
from ledger.chain.toolchain import Artifact
from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.relay.service import sign_request
from tests.contracts.ipkit import DAY, ZERO_ADDRESS, IPKit

UNIT = 10**6  # the SettlementToken has 6 decimals
MAX = 2**256 - 1

# IMarketplaceBase.ListingStatus / OfferStatus / DemandStatus / AnswerStatus
NONE, OPEN, SOLD, CANCELLED, EXPIRED, VOID = range(6)
O_NONE, O_OPEN, O_REFUSED, O_ACCEPTED, O_WITHDRAWN, O_EXPIRED, O_VOID = range(7)
D_NONE, D_OPEN, D_CLOSED, D_EXPIRED = range(4)
A_NONE, A_OPEN, A_ACCEPTED, A_WITHDRAWN = range(4)

LISTING_FIELDS = ("seller", "assetId", "status", "feeBps", "token", "expiry", "nonce", "price", "buyer", "pledgeId",
                  "transfers")
OFFER_FIELDS = ("buyer", "expiry", "status", "feeBps", "seller", "assetId", "token", "pledgeId", "amount")
LICENSE_LISTING_FIELDS = ("seller", "assetId", "status", "token", "expiry", "nonce", "price", "pledgeId", "supply",
                          "sold", "transfers", "operatorEpoch", "feeBps", "terms")
DEMAND_FIELDS = ("poster", "deadline", "status", "token", "budget", "descriptionHash")
ANSWER_FIELDS = ("answerer", "demandId", "status", "assetId", "price")


@dataclass
class MarketKit:
    """The market contracts of the session deployment, the IP kit's parties, and the common acts.

    Parties: the IP kit's [1] owner is the usual seller, [6] buyer the usual buyer, [3] (the IP
    kit's licensee) a second buyer, [8] the treasury.
    """

    ip: IPKit
    market: Contract
    licenses_market: Contract
    token: Contract
    artifacts: dict[str, Artifact]
    tracked: list[str] = field(default_factory=list)

    @property
    def chain(self) -> ChainClient:
        return self.ip.chain

    @property
    def seller(self) -> LocalAccount:
        return self.ip.owner

    @property
    def buyer(self) -> LocalAccount:
        return self.ip.buyer

    @property
    def buyer2(self) -> LocalAccount:
        return self.ip.licensee

    @property
    def treasury(self) -> LocalAccount:
        return self.ip.accounts[8]

    def holders(self) -> list[str]:
        contracts = [self.market.address, self.licenses_market.address, *self.tracked]
        return [a.address for a in self.ip.accounts] + contracts

    # -- plumbing --------------------------------------------------------------------------------

    def send(self, fn: ContractFunction, sender: LocalAccount) -> Receipt:
        return self.ip.send(fn, sender)

    def call(self, fn: ContractFunction) -> Any:
        return self.ip.call(fn)

    def events(self, contract: Contract, receipt: Receipt) -> list[tuple[str, dict[str, Any]]]:
        return self.ip.events(contract, receipt)

    def deploy(self, name: str, *args: Any) -> Contract:
        """A test-only contract (contracts/test), tracked as a token holder."""
        receipt = self.chain.deploy(self.artifacts[name], *args, sender=self.ip.admin)
        assert receipt.contract_address is not None
        self.tracked.append(receipt.contract_address)
        return self.chain.contract(self.artifacts[name].abi, receipt.contract_address)

    def later(self, days: float = 7) -> int:
        return self.ip.now() + int(days * DAY)

    # -- money -----------------------------------------------------------------------------------

    def fund(self, account: LocalAccount, amount: int = 1_000 * UNIT, token: Contract | None = None) -> None:
        """Mint `amount` to `account` and approve both market contracts for all of it."""
        token = token or self.token
        if token.address == self.token.address:
            self.send(token.functions.faucet(account.address, amount), account)
        else:
            self.send(token.functions.mint(account.address, amount), account)
        for spender in (self.market.address, self.licenses_market.address):
            self.send(token.functions.approve(spender, MAX), account)

    def balance(self, who: str | LocalAccount, token: Contract | None = None) -> int:
        address = who if isinstance(who, str) else who.address
        return int(self.call((token or self.token).functions.balanceOf(address)))

    def balances(self, token: Contract) -> dict[str, int]:
        return {h: self.balance(h, token) for h in self.holders()}

    @contextmanager
    def ledger(self, *tokens: Contract) -> Iterator[dict[str, int]]:
        """Yields the balance changes of the first token (filled on exit); checks conservation."""
        tokens = tokens or (self.token,)
        before = {t.address: self.balances(t) for t in tokens}
        supply = {t.address: self.call(t.functions.totalSupply()) for t in tokens}
        moves: dict[str, int] = {}
        yield moves
        for t in tokens:
            after = self.balances(t)
            assert self.call(t.functions.totalSupply()) == supply[t.address], "tokens were minted or burnt"
            assert sum(before[t.address].values()) == supply[t.address], "a holder is not tracked"
            assert sum(after.values()) == sum(before[t.address].values()), "balances not conserved"
            assert self.call(self.market.functions.escrowOf(t.address)) == after[self.market.address], (
                "the Marketplace holds more or less than its escrow")
            assert after[self.licenses_market.address] == 0, "the LicenseMarket holds money"
            if t is tokens[0]:
                moves.update({h: after[h] - before[t.address][h] for h in after if after[h] != before[t.address][h]})

    # -- assets and listings ---------------------------------------------------------------------

    def approve_asset(self, asset_id: int, owner: LocalAccount | None = None, to: str | None = None) -> None:
        self.send(self.ip.registry.functions.approve(to or self.market.address, asset_id), owner or self.seller)

    def list_asset(
        self,
        asset_id: int,
        price: int = 100 * UNIT,
        *,
        seller: LocalAccount | None = None,
        expiry: int | None = None,
        buyer: str = ZERO_ADDRESS,
        token: str | None = None,
        approve: bool = True,
    ) -> int:
        seller = seller or self.seller
        if approve:
            self.approve_asset(asset_id, seller)
        fn = self.market.functions.listAsset(asset_id, token or self.token.address, price, expiry or self.later(),
                                             buyer)
        receipt = self.send(fn, seller)
        [args] = [a for n, a in self.events(self.market, receipt) if n == "AssetListed"]
        return int(args["listingId"])

    def listing(self, listing_id: int) -> dict[str, Any]:
        return dict(zip(LISTING_FIELDS, self.call(self.market.functions.listingOf(listing_id)), strict=True))

    def buy(self, listing_id: int, buyer: LocalAccount | None = None, *, price: int | None = None,
            nonce: int | None = None) -> Receipt:
        listing = self.listing(listing_id)
        fn = self.market.functions.buy(listing_id, listing["price"] if price is None else price,
                                       listing["nonce"] if nonce is None else nonce)
        return self.send(fn, buyer or self.buyer)

    def buy_fn(self, listing_id: int) -> ContractFunction:
        listing = self.listing(listing_id)
        return self.market.functions.buy(listing_id, listing["price"], listing["nonce"])

    # -- offers ----------------------------------------------------------------------------------

    def offer(self, asset_id: int, amount: int = 80 * UNIT, *, buyer: LocalAccount | None = None,
              expiry: int | None = None, token: str | None = None) -> int:
        fn = self.market.functions.makeOffer(asset_id, token or self.token.address, amount, expiry or self.later())
        receipt = self.send(fn, buyer or self.buyer)
        [args] = [a for n, a in self.events(self.market, receipt) if n == "OfferMade"]
        return int(args["offerId"])

    def offer_of(self, offer_id: int) -> dict[str, Any]:
        return dict(zip(OFFER_FIELDS, self.call(self.market.functions.offerOf(offer_id)), strict=True))

    def escrow(self, token: Contract | None = None) -> int:
        return int(self.call(self.market.functions.escrowOf((token or self.token).address)))

    # -- licenses --------------------------------------------------------------------------------

    def approve_licensing(self, owner: LocalAccount | None = None, approved: bool = True) -> Receipt:
        fn = self.ip.licenses.functions.setOperator(self.licenses_market.address, approved)
        return self.send(fn, owner or self.seller)

    def list_license(self, asset_id: int, price: int = 10 * UNIT, supply: int = 3, *,
                     seller: LocalAccount | None = None, expiry: int | None = None, approve: bool = True,
                     **terms: Any) -> int:
        seller = seller or self.seller
        if approve:
            self.approve_licensing(seller)
        fn = self.licenses_market.functions.listLicense(
            asset_id, self.ip.terms(ZERO_ADDRESS, **terms), self.token.address, price, supply,
            expiry or self.later())
        receipt = self.send(fn, seller)
        [args] = [a for n, a in self.events(self.licenses_market, receipt) if n == "LicenseListed"]
        return int(args["listingId"])

    def license_listing(self, listing_id: int) -> dict[str, Any]:
        row = self.call(self.licenses_market.functions.licenseListingOf(listing_id))
        return dict(zip(LICENSE_LISTING_FIELDS, row, strict=True))

    def buy_license(self, listing_id: int, buyer: LocalAccount | None = None) -> Receipt:
        return self.send(self.buy_license_fn(listing_id), buyer or self.buyer)

    def buy_license_fn(self, listing_id: int) -> ContractFunction:
        listing = self.license_listing(listing_id)
        return self.licenses_market.functions.buyLicense(listing_id, listing["price"], listing["nonce"])

    # -- demands ---------------------------------------------------------------------------------

    def post_demand(self, budget: int = 500 * UNIT, *, poster: LocalAccount | None = None,
                    deadline: int | None = None, description: bytes = b"\x0d" * 32,
                    uri: str = "ipfs://demand") -> int:
        fn = self.market.functions.postDemand(description, uri, self.token.address, budget,
                                              deadline or self.later(30))
        receipt = self.send(fn, poster or self.buyer)
        [args] = [a for n, a in self.events(self.market, receipt) if n == "DemandPosted"]
        return int(args["demandId"])

    def answer(self, demand_id: int, asset_id: int, price: int = 300 * UNIT,
               answerer: LocalAccount | None = None) -> int:
        receipt = self.send(self.market.functions.answerDemand(demand_id, asset_id, price), answerer or self.seller)
        [args] = [a for n, a in self.events(self.market, receipt) if n == "DemandAnswered"]
        return int(args["answerId"])

    def demand_of(self, demand_id: int) -> dict[str, Any]:
        return dict(zip(DEMAND_FIELDS, self.call(self.market.functions.demandOf(demand_id)), strict=True))

    def answer_of(self, answer_id: int) -> dict[str, Any]:
        return dict(zip(ANSWER_FIELDS, self.call(self.market.functions.answerOf(answer_id)), strict=True))


def market_kit(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    """The market kit; the seller, both buyers and the treasury start with 1,000 tokens each.

    Each market test module makes it its ``market`` fixture (``@pytest.fixture(name="market")``).
    """
    kit = MarketKit(ip=ip, market=contract("Marketplace"), licenses_market=contract("LicenseMarket"),
                    token=contract("SettlementToken"), artifacts=artifacts)
    for account in (kit.seller, kit.buyer, kit.buyer2, kit.treasury):
        kit.fund(account)
    return kit


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    return market_kit(ip, contract, artifacts)


# -- list --------------------------------------------------------------------------------------


def test_list_by_owner_with_approval_records_listing_and_emits_asset_listed(market: MarketKit):
    asset_id = market.ip.register()
    market.approve_asset(asset_id)
    expiry = market.later()
    receipt = market.send(market.market.functions.listAsset(asset_id, market.token.address, 100 * UNIT, expiry,
                                                            ZERO_ADDRESS), market.seller)
    assert market.events(market.market, receipt) == [("AssetListed", {
        "listingId": 1, "assetId": asset_id, "seller": market.seller.address, "token": market.token.address,
        "price": 100 * UNIT, "expiry": expiry, "buyer": ZERO_ADDRESS, "pledgeId": 0, "feeBps": 0})]
    assert market.listing(1) == {
        "seller": market.seller.address, "assetId": asset_id, "status": OPEN, "feeBps": 0,
        "token": market.token.address,
        "expiry": expiry, "nonce": 0, "price": 100 * UNIT, "buyer": ZERO_ADDRESS, "pledgeId": 0, "transfers": 0}
    assert market.call(market.market.functions.listingOfAsset(asset_id)) == 1
    assert market.call(market.market.functions.counts()) == [1, 0, 0, 0]
    assert market.ip.owner_of(asset_id) == market.seller.address  # non-custodial


def test_list_by_non_owner_reverts_with_not_owner(market: MarketKit):
    asset_id = market.ip.register()
    market.approve_asset(asset_id)
    fn = market.market.functions.listAsset(asset_id, market.token.address, UNIT, market.later(), ZERO_ADDRESS)
    error = market.ip.refused(fn, market.ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "MarketplaceNotOwner", {"assetId": asset_id, "account": market.ip.stranger.address})
    assert market.call(market.market.functions.counts())[0] == 0


@pytest.mark.parametrize("approval", ["none", "operator", "other"])
def test_list_without_token_approval_reverts_with_transfer_not_approved(market: MarketKit, approval):
    """A listing needs the ERC-721 approval for that asset (an operator approval does not do)."""
    asset_id = market.ip.register()
    if approval == "operator":
        market.send(market.ip.registry.functions.setApprovalForAll(market.market.address, True), market.seller)
    elif approval == "other":
        market.approve_asset(asset_id, to=market.ip.stranger.address)
    fn = market.market.functions.listAsset(asset_id, market.token.address, UNIT, market.later(), ZERO_ADDRESS)
    error = market.ip.refused(fn, market.seller)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("MarketplaceTransferNotApproved", {"assetId": asset_id})
    assert market.call(market.market.functions.counts())[0] == 0


@pytest.mark.parametrize("bad", ["zero price", "zero token", "past expiry", "self as buyer"])
def test_list_with_bad_terms_reverts_with_validation_error(market: MarketKit, bad):
    asset_id = market.ip.register()
    market.approve_asset(asset_id)
    token, price, expiry, buyer = market.token.address, UNIT, market.later(), ZERO_ADDRESS
    if bad == "zero price":
        price, expected = 0, ("MarketplaceZeroAmount", {})
    elif bad == "zero token":
        token, expected = ZERO_ADDRESS, ("MarketplaceZeroAddress", {})
    elif bad == "past expiry":
        expiry = market.ip.now() - 1
        expected = ("MarketplaceInvalidExpiry", {"expiry": expiry})
    else:
        buyer, expected = market.seller.address, ("MarketplaceInvalidCounterparty", {"account": market.seller.address})
    error = market.ip.refused(market.market.functions.listAsset(asset_id, token, price, expiry, buyer), market.seller)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == expected
    assert market.call(market.market.functions.counts())[0] == 0


def test_list_when_frozen_reverts_with_asset_frozen(market: MarketKit):
    asset_id = market.ip.register()
    until = market.later(30)
    market.ip.freeze(asset_id, until=until)
    market.approve_asset(asset_id)
    fn = market.market.functions.listAsset(asset_id, market.token.address, UNIT, market.later(), ZERO_ADDRESS)
    error = market.ip.refused(fn, market.seller)
    assert (error.name, error.arguments) == ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})
    assert market.call(market.market.functions.counts())[0] == 0


@pytest.mark.parametrize("case", ["open to anyone", "reserved, no consent", "reserved, consent to another"])
def test_list_when_pledged_without_consent_for_the_buyer_reverts_with_pledgee_not_consented(market: MarketKit,
                                                                                           case):
    """The refusal names its true reason: the asset was never listed, so it was not "pledged after it was
    listed"; its pledgee has not consented to a transfer to this listing's buyer."""
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    market.approve_asset(asset_id)
    buyer = ZERO_ADDRESS if case == "open to anyone" else market.buyer.address
    if case == "reserved, consent to another":
        market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer2.address), market.ip.bank)
    fn = market.market.functions.listAsset(asset_id, market.token.address, UNIT, market.later(), buyer)
    error = market.ip.refused(fn, market.seller)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("MarketplacePledgeeNotConsented", {
        "assetId": asset_id, "pledgeId": pledge_id, "buyer": buyer})
    assert "after it was listed" not in str(error)
    assert market.call(market.market.functions.counts())[0] == 0


def test_list_when_pledged_with_consent_for_the_reserved_buyer_records_the_pledge(market: MarketKit):
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    listing_id = market.list_asset(asset_id, buyer=market.buyer.address)
    listing = market.listing(listing_id)
    assert (listing["status"], listing["buyer"], listing["pledgeId"]) == (OPEN, market.buyer.address, pledge_id)


def test_list_again_cancels_the_earlier_listing_of_the_asset(market: MarketKit):
    asset_id = market.ip.register()
    first = market.list_asset(asset_id, 100 * UNIT)
    receipt = market.send(market.market.functions.listAsset(asset_id, market.token.address, 90 * UNIT,
                                                            market.later(), ZERO_ADDRESS), market.seller)
    assert [n for n, _ in market.events(market.market, receipt)] == ["ListingCancelled", "AssetListed"]
    assert market.listing(first)["status"] == CANCELLED
    assert market.call(market.market.functions.listingOfAsset(asset_id)) == 2
    # A buyer who saw the first listing cannot buy through it.
    error = market.ip.refused(market.market.functions.buy(first, 100 * UNIT, 0), market.buyer)
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": first, "status": CANCELLED})


# -- buy ---------------------------------------------------------------------------------------


def test_buy_pays_the_seller_and_moves_the_asset_in_one_transaction(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT)
    with market.ledger() as moved:
        receipt = market.buy(listing_id)
    assert moved == {market.buyer.address: -100 * UNIT, market.seller.address: 100 * UNIT}
    assert market.ip.owner_of(asset_id) == market.buyer.address
    assert market.events(market.market, receipt) == [("AssetSold", {
        "listingId": listing_id, "assetId": asset_id, "buyer": market.buyer.address,
        "seller": market.seller.address, "token": market.token.address, "price": 100 * UNIT, "fee": 0})]
    assert [n for n, _ in market.events(market.ip.registry, receipt)] == ["Transfer"]
    assert market.listing(listing_id)["status"] == SOLD


def test_buy_twice_reverts_with_listing_not_open(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    market.buy(listing_id)
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer2)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": listing_id, "status": SOLD})
    assert market.ip.owner_of(asset_id) == market.buyer.address


def test_buy_unknown_listing_reverts_with_unknown_listing(market: MarketKit):
    error = market.ip.refused(market.market.functions.buy(7, UNIT, 0), market.buyer)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("MarketplaceUnknownListing", {"listingId": 7})


def test_buy_by_the_seller_reverts_with_invalid_counterparty(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    error = market.ip.refused(market.buy_fn(listing_id), market.seller)
    assert (error.name, error.arguments) == ("MarketplaceInvalidCounterparty", {"account": market.seller.address})
    assert market.listing(listing_id)["status"] == OPEN


@pytest.mark.parametrize("seen", ["lower price", "higher price", "old nonce"])
def test_buy_naming_another_price_or_nonce_reverts_with_price_changed(market: MarketKit, seen):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT)
    price, nonce = {"lower price": (90 * UNIT, 0), "higher price": (110 * UNIT, 0), "old nonce": (100 * UNIT, 0)}[seen]
    current_nonce = 0
    if seen == "old nonce":  # the seller changed the price and back: same price, another nonce
        market.send(market.market.functions.updateListing(listing_id, 120 * UNIT, market.later()), market.seller)
        market.send(market.market.functions.updateListing(listing_id, 100 * UNIT, market.later()), market.seller)
        current_nonce = 2
    with market.ledger() as moved:
        error = market.ip.refused(market.market.functions.buy(listing_id, price, nonce), market.buyer)
    assert moved == {}
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == (
        "MarketplacePriceChanged", {"listingId": listing_id, "price": 100 * UNIT, "nonce": current_nonce})
    assert market.ip.owner_of(asset_id) == market.seller.address


def test_update_listing_by_seller_bumps_nonce_and_the_new_terms_sell(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT)
    expiry = market.later(3)
    receipt = market.send(market.market.functions.updateListing(listing_id, 70 * UNIT, expiry), market.seller)
    assert market.events(market.market, receipt) == [
        ("ListingUpdated", {"listingId": listing_id, "price": 70 * UNIT, "expiry": expiry, "nonce": 1})]
    with market.ledger() as moved:
        market.send(market.market.functions.buy(listing_id, 70 * UNIT, 1), market.buyer)
    assert moved == {market.buyer.address: -70 * UNIT, market.seller.address: 70 * UNIT}


@pytest.mark.parametrize("bad", ["stranger", "zero price", "past expiry", "cancelled", "expired"])
def test_update_listing_refused(market: MarketKit, bad):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT, expiry=market.later(1))
    sender, price, expiry = market.seller, 50 * UNIT, market.later(2)
    if bad == "stranger":
        sender, expected = market.ip.stranger, ("MarketplaceNotSeller", {"id": listing_id,
                                                                          "account": market.ip.stranger.address})
    elif bad == "zero price":
        price, expected = 0, ("MarketplaceZeroAmount", {})
    elif bad == "past expiry":
        expiry = market.ip.now() - 5
        expected = ("MarketplaceInvalidExpiry", {"expiry": expiry})
    elif bad == "cancelled":
        market.send(market.market.functions.cancelListing(listing_id), market.seller)
        expected = ("MarketplaceListingNotOpen", {"listingId": listing_id, "status": CANCELLED})
    else:
        market.chain.increase_time(2 * DAY)
        expiry = market.later(2)
        expected = ("MarketplaceListingNotOpen", {"listingId": listing_id, "status": EXPIRED})
    before = market.call(market.market.functions.listingOf(listing_id))
    error = market.ip.refused(market.market.functions.updateListing(listing_id, price, expiry), sender)
    assert (error.name, error.arguments) == expected
    assert market.call(market.market.functions.listingOf(listing_id)) == before


def test_cancel_listing_by_seller_closes_it_and_a_buy_reverts(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    receipt = market.send(market.market.functions.cancelListing(listing_id), market.seller)
    assert market.events(market.market, receipt) == [
        ("ListingCancelled", {"listingId": listing_id, "assetId": asset_id, "by": market.seller.address})]
    error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": listing_id,
                                                                             "status": CANCELLED})
    error = market.ip.refused(market.market.functions.cancelListing(listing_id), market.seller)
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": listing_id,
                                                                             "status": CANCELLED})


def test_cancel_listing_by_stranger_reverts_with_not_seller(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    error = market.ip.refused(market.market.functions.cancelListing(listing_id), market.ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("MarketplaceNotSeller", {"id": listing_id,
                                                                       "account": market.ip.stranger.address})
    assert market.listing(listing_id)["status"] == OPEN


def test_buy_after_expiry_reverts_with_listing_not_open_expired(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, expiry=market.later(1))
    market.chain.increase_time(DAY + 1)
    assert market.listing(listing_id)["status"] == EXPIRED
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": listing_id, "status": EXPIRED})


def test_buy_reserved_listing_by_another_reverts_with_reserved_listing(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, buyer=market.buyer.address)
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer2)
    assert moved == {}
    assert (error.name, error.arguments) == (
        "MarketplaceReservedListing", {"listingId": listing_id, "buyer": market.buyer.address})
    market.buy(listing_id, market.buyer)
    assert market.ip.owner_of(asset_id) == market.buyer.address


def test_buy_without_allowance_reverts_with_insufficient_allowance_and_sells_nothing(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT)
    market.send(market.token.functions.approve(market.market.address, 99 * UNIT), market.buyer)
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("ERC20InsufficientAllowance", {
        "spender": market.market.address, "allowance": 99 * UNIT, "needed": 100 * UNIT})
    assert market.listing(listing_id)["status"] == OPEN
    assert market.ip.owner_of(asset_id) == market.seller.address


# -- void listings: the asset changed hands, was pledged or frozen ---------------------------------


def test_buy_after_the_asset_changed_hands_reverts_with_asset_changed_hands(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    market.ip.transfer(market.seller, market.ip.other.address, asset_id)
    # The new owner approving the market for its own reasons does not revive the old listing.
    market.approve_asset(asset_id, market.ip.other)
    assert market.listing(listing_id)["status"] == VOID
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceAssetChangedHands", {
        "assetId": asset_id, "seller": market.seller.address, "owner": market.ip.other.address})
    assert market.ip.owner_of(asset_id) == market.ip.other.address


def test_buy_after_the_asset_went_away_and_came_back_reverts_with_asset_moved_since_listed(market: MarketKit):
    """The attacker's test: listed at 100, the asset goes A -> B -> A and A approves the market again
    (to accept an offer, say); the watcher who saw the old listing cannot buy it: it died for good."""
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    assert market.listing(listing_id)["transfers"] == 0
    market.ip.transfer(market.seller, market.ip.other.address, asset_id)
    market.ip.transfer(market.ip.other, market.seller.address, asset_id)
    assert market.listing(listing_id)["status"] == VOID
    market.approve_asset(asset_id)
    assert market.call(market.ip.registry.functions.transferCountOf(asset_id)) == 2
    assert market.listing(listing_id)["status"] == VOID
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceAssetMovedSinceListed", {
        "assetId": asset_id, "transfers": 0, "currentTransfers": 2})
    assert market.ip.owner_of(asset_id) == market.seller.address
    # A new listing of the returned asset records the new count and sells.
    again = market.list_asset(asset_id)
    assert market.listing(again)["transfers"] == 2
    market.buy(again)
    assert market.ip.owner_of(asset_id) == market.buyer.address


def test_buy_after_the_asset_was_pledged_reverts_with_asset_pledged(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    pledge_id = market.ip.pledge(asset_id)
    # Even the pledgee's consent to this buyer does not revive a listing made before the pledge.
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    assert market.listing(listing_id)["status"] == VOID
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    assert market.ip.owner_of(asset_id) == market.seller.address


def test_buy_while_frozen_reverts_with_asset_frozen_and_sells_after_the_freeze_is_lifted(market: MarketKit):
    """A listing is void while the asset is frozen; lifting the freeze lifts the voidness."""
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id)
    until = market.later(3)
    market.ip.freeze(asset_id, until=until)
    assert market.listing(listing_id)["status"] == VOID
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})
    market.send(market.ip.registry.functions.unfreeze(asset_id, b"\x02" * 32), market.ip.admin)
    assert market.listing(listing_id)["status"] == OPEN
    market.buy(listing_id)
    assert market.ip.owner_of(asset_id) == market.buyer.address


# -- pledged listings: the pledgee's consent, decided by the IPRegistry's guard ---------------------


def test_buy_pledged_listing_by_the_consented_buyer_moves_the_asset_with_its_pledge(market: MarketKit):
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    listing_id = market.list_asset(asset_id, 100 * UNIT, buyer=market.buyer.address)
    with market.ledger() as moved:
        receipt = market.buy(listing_id)
    assert moved == {market.buyer.address: -100 * UNIT, market.seller.address: 100 * UNIT}
    assert market.ip.owner_of(asset_id) == market.buyer.address
    assert ("TransferConsentUsed", {"pledgeId": pledge_id, "assetId": asset_id, "recipient": market.buyer.address}) in (
        market.events(market.ip.pledges, receipt))
    # The pledge follows the asset (PledgeRegistry.consentToTransfer), and the consent is used up.
    assert market.call(market.ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id
    assert market.call(market.ip.pledges.functions.transferConsentOf(pledge_id)) == ZERO_ADDRESS


def test_buy_pledged_listing_after_the_consent_was_withdrawn_reverts_in_the_registry_guard(market: MarketKit):
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    listing_id = market.list_asset(asset_id, buyer=market.buyer.address)
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, ZERO_ADDRESS), market.ip.bank)
    with market.ledger() as moved:
        error = market.ip.refused(market.buy_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("IPRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    assert market.ip.owner_of(asset_id) == market.seller.address
    assert market.listing(listing_id)["status"] == OPEN


def test_buy_pledged_listing_after_the_pledge_was_released_sells_unencumbered(market: MarketKit):
    asset_id = market.ip.register()
    pledge_id = market.ip.pledge(asset_id)
    market.send(market.ip.pledges.functions.consentToTransfer(pledge_id, market.buyer.address), market.ip.bank)
    listing_id = market.list_asset(asset_id, buyer=market.buyer.address)
    market.send(market.ip.pledges.functions.release(pledge_id), market.ip.bank)
    market.buy(listing_id)
    assert market.ip.owner_of(asset_id) == market.buyer.address
    assert market.call(market.ip.pledges.functions.activePledgeOf(asset_id)) == 0


# -- gasless: a relayed buy --------------------------------------------------------------------


def test_buy_through_the_forwarder_acts_for_the_signer_not_the_relayer(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT)
    signer, relayer, forwarder = market.ip.accounts[9], market.ip.stranger, market.ip.forwarder
    market.send(market.token.functions.faucet(signer.address, 100 * UNIT), relayer)

    def relay(target: Contract, fn: ContractFunction) -> Receipt:
        nonce = market.call(forwarder.functions.nonces(signer.address))
        request = sign_request(signer, chain_id=market.chain.chain_id, forwarder=forwarder.address,
                               to=target.address, data=fn._encode_transaction_data(), nonce=nonce,
                               deadline=market.ip.now() + 600)
        on_chain = (request.sender, request.to, 0, request.gas, request.deadline, bytes.fromhex(request.data[2:]),
                    bytes.fromhex(request.signature[2:]))
        return market.send(forwarder.functions.execute(on_chain), relayer)

    relay(market.token, market.token.functions.approve(market.market.address, 100 * UNIT))
    with market.ledger() as moved:
        receipt = relay(market.market, market.market.functions.buy(listing_id, 100 * UNIT, 0))
    assert moved == {signer.address: -100 * UNIT, market.seller.address: 100 * UNIT}
    assert market.ip.owner_of(asset_id) == signer.address
    [(_, args)] = market.events(market.market, receipt)
    assert args["buyer"] == signer.address


# -- browsing ------------------------------------------------------------------------------------


def test_open_listings_pages_by_id_range_and_skips_closed_expired_and_void(market: MarketKit):
    ids = [market.list_asset(market.ip.register(), (i + 1) * UNIT, expiry=market.later(1 if i == 1 else 9))
           for i in range(6)]
    market.send(market.market.functions.cancelListing(ids[0]), market.seller)  # cancelled
    market.buy(ids[2])  # sold
    market.ip.transfer(market.seller, market.ip.other.address, market.listing(ids[3])["assetId"])  # void
    market.chain.increase_time(2 * DAY)  # ids[1] expired
    open_ids, rows = market.call(market.market.functions.openListings(0, 100))
    assert open_ids == [ids[4], ids[5]]
    assert [dict(zip(LISTING_FIELDS, r, strict=True))["price"] for r in rows] == [5 * UNIT, 6 * UNIT]
    assert market.call(market.market.functions.openListings(ids[4], ids[5]))[0] == [ids[4]]
    assert market.call(market.market.functions.openListings(ids[5] + 1, 100)) == [[], []]
    assert market.call(market.market.functions.openListings(9, 3)) == [[], []]
    assert [market.listing(i)["status"] for i in ids] == [CANCELLED, EXPIRED, SOLD, VOID, OPEN, OPEN]

