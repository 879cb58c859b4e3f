"""Stateful property test of the market: random acts on a real Anvil vs. a plain Python model.

A Hypothesis ``RuleBasedStateMachine`` drives random sequences of market acts: list (with or
without a reserved buyer), update the price, cancel, buy (sometimes naming a stale price or nonce),
make an offer, accept, refuse, withdraw, approve the Marketplace for an asset, set the protocol
fee (raised or lowered under open listings and offers, which pay the lower of their own fee and the
fee now); and the interference the market must withstand: transfers outside the market, round trips (the
asset goes away and comes back and its owner approves the Marketplace again: an epoch change that
must not revive a listing), pledges (to an
accredited bank), the bank's transfer consents and releases, court freezes and their lifting, and
time travel (``evm_increaseTime``, no sleeps). Acts are done by their rightful party most of the
time and by another trader otherwise. The registrar's ownership disputes stop every move the market makes
(a listing sale, an accepted offer) until resolved.

A plain model (:class:`Model`) says for every act whether the rules allow it and, if not, which
custom error the contracts must revert with (in the contracts' order of checks; the IPRegistry's
transfer guard decides the pledge consents). Every allowed act must succeed; every forbidden one
must revert on chain (mined with a fixed gas limit) with that error. After every step one JSON-RPC
batch of views is compared with the model:

* escrow: the Marketplace's token balance equals ``escrowOf`` equals the sum of the amounts of the
  offers the model holds (open, refused, expired or void: not yet accepted or withdrawn);
* every account's token balance, and the total supply (balances are conserved: the fee goes to a
  tracked treasury);
* every asset's owner, active pledge and freeze;
* every listing's and offer's status as of now (``Expired`` and ``Void`` included), price, nonce;
  the open listings and offers the paging views return.

Times sit on a grid the chain never reaches: every expiry or freeze end is half a day past a whole
number of days from the example's start, and time travels by whole days.

Size: IPLEDGER_PROPERTY_EXAMPLES (default 6; 50 with IPLEDGER_DEEP_TESTS=1) examples of
IPLEDGER_PROPERTY_STEPS (default 25; deep 50) steps;
each example starts from the same chain state (``evm_snapshot``/``evm_revert``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types, to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from ledger.chain.client import ChainClient
from ledger.chain.toolchain import Artifact
from ledger.errors import ContractError
from tests.contracts.ipkit import DAY, ZERO_ADDRESS, IPKit
from tests.contracts.test_marketplace import (
    CANCELLED,
    EXPIRED,
    MAX,
    O_ACCEPTED,
    O_EXPIRED,
    O_OPEN,
    O_REFUSED,
    O_VOID,
    O_WITHDRAWN,
    OPEN,
    SOLD,
    UNIT,
    VOID,
    MarketKit,
    market_kit,
)
from tests.depth import depth


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    return market_kit(ip, contract, artifacts)


STEPS = depth(25, 50, "IPLEDGER_PROPERTY_STEPS")
EXAMPLES = depth(6, 50, "IPLEDGER_PROPERTY_EXAMPLES")

GAS = 3_000_000  # fixed: a forbidden act is mined and reverts on chain instead of failing its estimate
ADMIN, SELLER_A, SELLER_B, BUYER_A, BANK, OWNER_C, BUYER_B, STRANGER, TREASURY, BUYER_C = range(10)
TRADERS = (SELLER_A, SELLER_B, BUYER_A, BUYER_B, BUYER_C)
ASSETS_PER_SELLER = 2
FUNDS = 10_000 * UNIT

STATS: Counter[str] = Counter()

# The acts a step draws from, repeated by weight.
ACTS = (("list",) * 3 + ("update", "cancel") + ("buy",) * 4 + ("offer",) * 3 + ("accept",) * 3
        + ("refuse",) + ("withdraw",) * 2 + ("interfere",) * 3 + ("travel",))


class Refusal(NamedTuple):
    name: str
    args: dict[str, Any] | None = None


@dataclass
class MAsset:
    id: int
    owner: str
    approved: bool = False  # the Marketplace's ERC-721 approval for this asset (cleared by every transfer)
    frozen_until: int = 0
    pledge: int = 0
    consent: str = ZERO_ADDRESS  # the pledgee's transfer consent
    transfers: int = 0  # the IPRegistry's transfer count: every move adds one
    dispute: int = 0  # the open ownership dispute that stops every move and new pledge, or 0


@dataclass
class MListing:
    id: int
    seller: str
    asset: int
    price: int
    expiry: int
    buyer: str
    pledge: int
    transfers: int  # the asset's transfer count when listed: once it changed, the listing is dead for good
    fee_bps: int  # the protocol fee when listed: the most its sale pays
    nonce: int = 0
    status: int = OPEN


@dataclass
class MOffer:
    id: int
    buyer: str
    seller: str
    asset: int
    amount: int
    expiry: int
    pledge: int
    fee_bps: int  # the protocol fee when made: the most its acceptance pays
    status: int = O_OPEN


class Model:
    def __init__(self, t0: int) -> None:
        self.t0 = t0
        self.days = 0
        self.assets: dict[int, MAsset] = {}
        self.listings: dict[int, MListing] = {}
        self.listing_of_asset: dict[int, int] = {}
        self.offers: dict[int, MOffer] = {}
        self.balances: dict[str, int] = {}
        self.fee_bps = 0
        self.pledges = 0
        self.disputes = 0  # ownership disputes opened (ids are sequential)

    @property
    def now(self) -> int:
        return self.t0 + self.days * DAY

    def at(self, days: int) -> int:
        """A time on the grid: `days` whole days from now, plus half a day."""
        return self.now + days * DAY + DAY // 2

    def frozen(self, a: MAsset) -> bool:
        return a.frozen_until > self.now

    def obstacle(self, asset_id: int, seller: str, pledge: int, transfers: int | None) -> Refusal | None:
        """Why a sale cannot happen; `transfers` is a listing's recorded transfer count (None: an offer)."""
        listing = transfers is not None
        a = self.assets[asset_id]
        if a.owner != seller:
            return Refusal("MarketplaceAssetChangedHands", {"assetId": asset_id, "seller": seller, "owner": a.owner})
        if listing and a.transfers != transfers:
            return Refusal("MarketplaceAssetMovedSinceListed", {"assetId": asset_id, "transfers": transfers,
                                                                "currentTransfers": a.transfers})
        if self.frozen(a):
            return Refusal("MarketplaceAssetFrozen", {"assetId": asset_id, "until": a.frozen_until})
        if a.pledge not in (0, pledge):
            return Refusal("MarketplaceAssetPledged", {"assetId": asset_id, "pledgeId": a.pledge})
        if listing and not a.approved:
            return Refusal("MarketplaceTransferNotApproved", {"assetId": asset_id})
        return None

    def listing_status(self, x: MListing) -> int:
        if x.status != OPEN:
            return x.status
        if x.expiry <= self.now:
            return EXPIRED
        return VOID if self.obstacle(x.asset, x.seller, x.pledge, x.transfers) else OPEN

    def offer_status(self, x: MOffer) -> int:
        if x.status != O_OPEN:
            return x.status
        if x.expiry <= self.now:
            return O_EXPIRED
        return O_VOID if self.obstacle(x.asset, x.seller, x.pledge, None) else O_OPEN

    def escrow(self) -> int:
        return sum(o.amount for o in self.offers.values() if o.status in (O_OPEN, O_REFUSED))

    def guard(self, a: MAsset, to: str) -> Refusal | None:
        """The IPRegistry's transfer guard (the freeze is checked by the market first)."""
        if self.frozen(a):
            return Refusal("IPRegistryAssetFrozen", {"assetId": a.id, "until": a.frozen_until})
        if a.dispute:
            return Refusal("IPRegistryAssetDisputed", {"assetId": a.id, "disputeId": a.dispute})
        if a.pledge and a.consent != to:
            return Refusal("IPRegistryAssetPledged", {"assetId": a.id, "pledgeId": a.pledge})
        return None

    def move(self, a: MAsset, to: str) -> None:
        a.owner = to
        a.approved = False
        a.transfers += 1
        if a.pledge:
            a.consent = ZERO_ADDRESS  # used up; the pledge follows the asset

    def pay(self, payer: str, seller: str, amount: int, fixed_bps: int) -> None:
        """`amount` from `payer` (a buyer, or the escrow: "market"): the fee to the treasury (the lower of
        `fixed_bps`, the listing's or offer's, and the fee now), the rest to the seller."""
        fee = amount * min(fixed_bps, self.fee_bps) // 10_000
        treasury = TREASURY_ADDRESS[0]
        if payer != treasury:
            self.balances[payer] -= fee
            self.balances[treasury] += fee
        self.balances[payer] -= amount - fee
        self.balances[seller] += amount - fee


TREASURY_ADDRESS: list[str] = []


class MarketMachine(RuleBasedStateMachine):
    """Bound to the session's chain and market kit by the test before Hypothesis runs it."""

    chain: ChainClient
    kit: MarketKit
    accounts: list[LocalAccount]
    asset_owners: dict[int, int]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot_id = self.chain.snapshot()
        self.chain.rpc("evm_mine")
        k = self.kit
        self.market, self.registry, self.pledges, self.token = k.market, k.ip.registry, k.ip.pledges, k.token
        self.addr = [a.address for a in self.accounts]
        self.m = Model(t0=self.chain.block_time("latest"))
        for asset_id, owner in self.asset_owners.items():
            self.m.assets[asset_id] = MAsset(asset_id, self.addr[owner])
        self.holders = [*self.addr, self.market.address]
        self.reader = ViewReader(self.chain, self.market, self.registry, self.pledges, self.token)
        self.m.balances = dict(zip(self.holders, self.reader.read(
            [(h, self.token, "balanceOf", (h,)) for h in self.holders]).values(), strict=True))
        self.supply = sum(self.m.balances.values())
        self.changed = False
        self.view: dict[str, Any] | None = None
        self.last = "init"

    def teardown(self) -> None:
        self.chain.revert(self.snapshot_id)

    # -- plumbing ---------------------------------------------------------------------------------

    def act(self, label: str, fn: ContractFunction, sender: int, refusal: Refusal | None) -> bool:
        """Send `fn` as `sender`; it must succeed iff the model allows it (refusal None)."""
        STATS["steps"] += 1
        self.last = label
        try:
            self.chain.transact(fn, sender=self.accounts[sender], gas=GAS)
        except ContractError as error:
            if refusal is None:
                raise AssertionError(f"{label}: the model allows it, the chain refused with "
                                     f"{error.name}{error.arguments}") from None
            assert error.name == refusal.name, f"{label}: expected {refusal}, got {error.name}{error.arguments}"
            if refusal.args is not None:
                assert error.arguments == refusal.args, f"{label}: {error.name}{error.arguments}, expected {refusal}"
            STATS[f"refused {refusal.name}"] += 1
            return False
        assert refusal is None, f"{label}: the model forbids it ({refusal}), the chain allowed it"
        STATS[f"allowed {label}"] += 1
        self.changed = True
        return True

    def party(self, data: st.DataObject, rightful: int) -> int:
        """The rightful party most of the time, another trader otherwise."""
        if data.draw(st.integers(0, 5), label="rightful?") < 5:
            return rightful
        return data.draw(st.sampled_from(TRADERS), label="who")

    def index(self, address: str) -> int:
        return self.addr.index(address)

    def pick_asset(self, data: st.DataObject) -> MAsset:
        return self.m.assets[data.draw(st.sampled_from(sorted(self.m.assets)), label="asset")]

    def pick_listing(self, data: st.DataObject) -> MListing:
        """An open listing most of the time (so that sales happen), any listing otherwise."""
        m = self.m
        live = [i for i, x in m.listings.items() if m.listing_status(x) == OPEN]
        ids = live if live and data.draw(st.integers(0, 3), label="live?") < 3 else sorted(m.listings)
        return m.listings[data.draw(st.sampled_from(ids), label="listing")]

    def pick_offer(self, data: st.DataObject) -> MOffer:
        m = self.m
        live = [i for i, x in m.offers.items() if m.offer_status(x) == O_OPEN]
        ids = live if live and data.draw(st.integers(0, 3), label="live?") < 3 else sorted(m.offers)
        return m.offers[data.draw(st.sampled_from(ids), label="offer")]

    # -- the one rule -----------------------------------------------------------------------------
    # One rule that draws the act, weighted towards trading: Hypothesis's swarm testing disables a
    # random subset of a machine's rules in each example, which with a dozen rules and a few examples
    # left most examples without a sale.

    @rule(data=st.data(), what=st.sampled_from(ACTS))
    def step(self, data: st.DataObject, what: str) -> None:
        if what in ("update", "cancel", "buy") and not self.m.listings:
            what = "list"
        if what in ("accept", "refuse", "withdraw") and not self.m.offers:
            what = "offer"
        STATS[f"act {what}"] += 1
        {
            "list": self.list_asset, "update": self.update_listing, "cancel": self.cancel_listing,
            "buy": self.buy, "offer": self.make_offer, "accept": self.accept_offer, "refuse": self.refuse_offer,
            "withdraw": self.withdraw_offer, "interfere": self.interfere, "travel": self.travel,
        }[what](data)

    # -- listings ---------------------------------------------------------------------------------

    def list_asset(self, data: st.DataObject) -> None:
        m = self.m
        price = data.draw(st.integers(1, 100), label="price")
        days = data.draw(st.integers(0, 8), label="days")
        reserve = data.draw(st.integers(0, 5), label="reserve")
        a = self.pick_asset(data)
        sender = self.party(data, self.index(a.owner))
        seller = self.addr[sender]
        if reserve == 0 and a.pledge and a.consent != ZERO_ADDRESS:
            buyer = a.consent  # the buyer the pledgee consented to
        elif reserve == 1:
            buyer = self.addr[data.draw(st.sampled_from(TRADERS), label="reserved")]
        else:
            buyer = ZERO_ADDRESS
        if seller == a.owner and data.draw(st.integers(0, 9), label="approve first?") < 9:
            self.act("approve", self.registry.functions.approve(self.market.address, a.id), sender, None)
            a.approved = True
        expiry = m.at(days)
        refusal = None
        if seller != a.owner:
            refusal = Refusal("MarketplaceNotOwner", {"assetId": a.id, "account": seller})
        elif not a.approved:
            refusal = Refusal("MarketplaceTransferNotApproved", {"assetId": a.id})
        elif buyer == seller:
            refusal = Refusal("MarketplaceInvalidCounterparty", {"account": seller})
        elif m.frozen(a):
            refusal = Refusal("MarketplaceAssetFrozen", {"assetId": a.id, "until": a.frozen_until})
        elif a.pledge and (buyer == ZERO_ADDRESS or a.consent != buyer):
            refusal = Refusal("MarketplacePledgeeNotConsented", {"assetId": a.id, "pledgeId": a.pledge,
                                                                 "buyer": buyer})
        fn = self.market.functions.listAsset(a.id, self.token.address, price * UNIT, expiry, buyer)
        if self.act("list", fn, sender, refusal):
            previous = m.listing_of_asset.get(a.id)
            if previous and m.listings[previous].status == OPEN:
                m.listings[previous].status = CANCELLED
            listing_id = len(m.listings) + 1
            m.listings[listing_id] = MListing(listing_id, seller, a.id, price * UNIT, expiry, buyer, a.pledge,
                                              a.transfers, m.fee_bps)
            m.listing_of_asset[a.id] = listing_id

    def update_listing(self, data: st.DataObject) -> None:
        m = self.m
        price = data.draw(st.integers(1, 100), label="price")
        days = data.draw(st.integers(1, 8), label="days")
        x = m.listings[data.draw(st.sampled_from(sorted(m.listings)), label="listing")]
        sender = self.party(data, self.index(x.seller))
        refusal = None
        if self.addr[sender] != x.seller:
            refusal = Refusal("MarketplaceNotSeller", {"id": x.id, "account": self.addr[sender]})
        elif x.status != OPEN or x.expiry <= m.now:
            refusal = Refusal("MarketplaceListingNotOpen", {"listingId": x.id, "status": m.listing_status(x)})
        expiry = m.at(days)
        if self.act("update listing", self.market.functions.updateListing(x.id, price * UNIT, expiry), sender,
                    refusal):
            x.price, x.expiry, x.nonce = price * UNIT, expiry, x.nonce + 1

    def cancel_listing(self, data: st.DataObject) -> None:
        m = self.m
        x = m.listings[data.draw(st.sampled_from(sorted(m.listings)), label="listing")]
        sender = self.party(data, self.index(x.seller))
        refusal = None
        if self.addr[sender] != x.seller:
            refusal = Refusal("MarketplaceNotSeller", {"id": x.id, "account": self.addr[sender]})
        elif x.status != OPEN:
            refusal = Refusal("MarketplaceListingNotOpen", {"listingId": x.id, "status": x.status})
        if self.act("cancel listing", self.market.functions.cancelListing(x.id), sender, refusal):
            x.status = CANCELLED

    def buy(self, data: st.DataObject) -> None:
        m = self.m
        stale = data.draw(st.integers(0, 9), label="stale?")
        x = self.pick_listing(data)
        rightful = self.index(x.buyer) if x.buyer != ZERO_ADDRESS else BUYER_A
        sender = self.party(data, rightful)
        buyer = self.addr[sender]
        price, nonce = x.price, x.nonce
        if stale == 0:
            price += UNIT
        elif stale == 1 and x.nonce:
            nonce -= 1
        a = m.assets[x.asset]
        refusal = None
        if x.status != OPEN:
            refusal = Refusal("MarketplaceListingNotOpen", {"listingId": x.id, "status": x.status})
        elif x.expiry <= m.now:
            refusal = Refusal("MarketplaceListingNotOpen", {"listingId": x.id, "status": EXPIRED})
        elif (price, nonce) != (x.price, x.nonce):
            refusal = Refusal("MarketplacePriceChanged", {"listingId": x.id, "price": x.price, "nonce": x.nonce})
        elif x.buyer not in (ZERO_ADDRESS, buyer):
            refusal = Refusal("MarketplaceReservedListing", {"listingId": x.id, "buyer": x.buyer})
        elif buyer == x.seller:
            refusal = Refusal("MarketplaceInvalidCounterparty", {"account": buyer})
        else:
            refusal = m.obstacle(x.asset, x.seller, x.pledge, x.transfers) or m.guard(a, buyer)
        if self.act("buy", self.market.functions.buy(x.id, price, nonce), sender, refusal):
            x.status = SOLD
            m.pay(buyer, x.seller, x.price, x.fee_bps)
            m.move(a, buyer)

    # -- offers -----------------------------------------------------------------------------------

    def make_offer(self, data: st.DataObject) -> None:
        m = self.m
        amount = data.draw(st.integers(1, 100), label="amount")
        days = data.draw(st.integers(0, 8), label="days")
        a = self.pick_asset(data)
        sender = data.draw(st.sampled_from(TRADERS), label="buyer")
        buyer = self.addr[sender]
        expiry = m.at(days)
        refusal = None
        if buyer == a.owner:
            refusal = Refusal("MarketplaceInvalidCounterparty", {"account": buyer})
        elif m.frozen(a):
            refusal = Refusal("MarketplaceAssetFrozen", {"assetId": a.id, "until": a.frozen_until})
        fn = self.market.functions.makeOffer(a.id, self.token.address, amount * UNIT, expiry)
        if self.act("make offer", fn, sender, refusal):
            offer_id = len(m.offers) + 1
            m.offers[offer_id] = MOffer(offer_id, buyer, a.owner, a.id, amount * UNIT, expiry, a.pledge, m.fee_bps)
            m.balances[buyer] -= amount * UNIT
            m.balances[self.market.address] += amount * UNIT

    def accept_offer(self, data: st.DataObject) -> None:
        m = self.m
        x = self.pick_offer(data)
        sender = self.party(data, self.index(x.seller))
        a = m.assets[x.asset]
        if self.addr[sender] == a.owner and data.draw(st.integers(0, 4), label="approve first?") < 4:
            self.act("approve", self.registry.functions.approve(self.market.address, a.id), sender, None)
            a.approved = True
        refusal = None
        if self.addr[sender] != x.seller:
            refusal = Refusal("MarketplaceNotSeller", {"id": x.id, "account": self.addr[sender]})
        elif x.status != O_OPEN:
            refusal = Refusal("MarketplaceOfferNotOpen", {"offerId": x.id, "status": x.status})
        elif x.expiry <= m.now:
            refusal = Refusal("MarketplaceOfferNotOpen", {"offerId": x.id, "status": O_EXPIRED})
        else:
            refusal = m.obstacle(x.asset, x.seller, x.pledge, None)
            if refusal is None and not a.approved:
                refusal = Refusal("ERC721InsufficientApproval", {"operator": self.market.address, "tokenId": a.id})
            refusal = refusal or m.guard(a, x.buyer)
        if self.act("accept offer", self.market.functions.acceptOffer(x.id), sender, refusal):
            x.status = O_ACCEPTED
            m.pay(self.market.address, x.seller, x.amount, x.fee_bps)
            m.move(a, x.buyer)

    def refuse_offer(self, data: st.DataObject) -> None:
        x = self.pick_offer(data)
        sender = self.party(data, self.index(x.seller))
        refusal = None
        if self.addr[sender] != x.seller:
            refusal = Refusal("MarketplaceNotSeller", {"id": x.id, "account": self.addr[sender]})
        elif x.status != O_OPEN:
            refusal = Refusal("MarketplaceOfferNotOpen", {"offerId": x.id, "status": x.status})
        if self.act("refuse offer", self.market.functions.refuseOffer(x.id), sender, refusal):
            x.status = O_REFUSED

    def withdraw_offer(self, data: st.DataObject) -> None:
        m = self.m
        x = self.pick_offer(data)
        sender = self.party(data, self.index(x.buyer))
        refusal = None
        if self.addr[sender] != x.buyer:
            refusal = Refusal("MarketplaceNotBuyer", {"offerId": x.id, "account": self.addr[sender]})
        elif x.status == O_OPEN and m.offer_status(x) == O_OPEN:
            refusal = Refusal("MarketplaceOfferStillOpen", {"offerId": x.id, "expiry": x.expiry})
        elif x.status not in (O_OPEN, O_REFUSED):
            refusal = Refusal("MarketplaceOfferNotOpen", {"offerId": x.id, "status": x.status})
        if self.act("withdraw offer", self.market.functions.withdrawOffer(x.id), sender, refusal):
            x.status = O_WITHDRAWN
            m.balances[self.market.address] -= x.amount
            m.balances[x.buyer] += x.amount

    def set_fee(self, bps: int, admin: bool) -> None:
        sender = ADMIN if admin else STRANGER
        refusal = None
        if not admin:
            refusal = Refusal("AccessControlUnauthorizedAccount", {"account": self.addr[STRANGER],
                                                                   "neededRole": "0x" + "00" * 32})
        elif bps > 1_000:
            refusal = Refusal("MarketplaceInvalidFee", {"feeBps": bps, "maxFeeBps": 1_000})
        if self.act("set fee", self.market.functions.setFee(self.addr[TREASURY], bps), sender, refusal):
            self.m.fee_bps = bps

    # -- interference -----------------------------------------------------------------------------

    def interfere(self, data: st.DataObject) -> None:
        """The acts around the market."""
        what = data.draw(st.sampled_from(("transfer", "round trip", "pledge", "bank", "freeze", "fee", "approve",
                                          "dispute")), label="what")
        if what == "transfer":
            self.transfer_outside_the_market(data)
        elif what == "round trip":
            self.round_trip(data)
        elif what == "pledge":
            self.pledge(data)
        elif what == "bank":
            self.bank_acts(data, data.draw(st.integers(0, 3), label="release?") == 0)
        elif what == "freeze":
            self.freeze_or_unfreeze(data, data.draw(st.integers(0, 4), label="days"))
        elif what == "dispute":
            self.open_or_resolve_dispute(data)
        elif what == "fee":
            self.set_fee(data.draw(st.sampled_from((0, 25, 250, 1_000, 1_001)), label="bps"),
                         data.draw(st.integers(0, 3), label="admin?") > 0)
        else:
            a = self.pick_asset(data)
            self.act("approve", self.registry.functions.approve(self.market.address, a.id), self.index(a.owner), None)
            a.approved = True

    def transfer_outside_the_market(self, data: st.DataObject) -> None:
        a = self.pick_asset(data)
        to = self.addr[data.draw(st.sampled_from([t for t in TRADERS if self.addr[t] != a.owner]), label="to")]
        fn = self.registry.functions.safeTransferFrom(a.owner, to, a.id)
        if self.act("transfer", fn, self.index(a.owner), self.m.guard(a, to)):
            self.m.move(a, to)

    def round_trip(self, data: st.DataObject) -> None:
        """The asset goes away and comes back, and its owner approves the Marketplace again: its listings
        from before stay dead (the epoch change the market must withstand)."""
        a = self.pick_asset(data)
        owner = a.owner
        to = self.addr[data.draw(st.sampled_from([t for t in TRADERS if self.addr[t] != owner]), label="to")]
        if self.act("transfer", self.registry.functions.safeTransferFrom(owner, to, a.id), self.index(owner),
                    self.m.guard(a, to)):
            self.m.move(a, to)
            back = self.registry.functions.safeTransferFrom(to, owner, a.id)
            if self.act("transfer back", back, self.index(to), self.m.guard(a, owner)):
                self.m.move(a, owner)
                self.act("approve", self.registry.functions.approve(self.market.address, a.id), self.index(owner),
                         None)
                a.approved = True

    def open_or_resolve_dispute(self, data: st.DataObject) -> None:
        """The registrar opens an ownership dispute over an asset (every move by the market, a listing sale or
        an accepted offer, then fails in the transfer guard), or resolves the open one."""
        m = self.m
        a = self.pick_asset(data)
        if a.dispute:
            self.act("resolve dispute", self.registry.functions.resolveDispute(a.dispute, 2, b"\x0d" * 32), ADMIN,
                     None)
            a.dispute = 0
        else:
            fn = self.registry.functions.openDispute(a.id, 0, b"(2026)JING73MINCHU1".ljust(32, b"\0"), b"\x0e" * 32)
            self.act("open dispute", fn, ADMIN, None)
            m.disputes += 1
            a.dispute = m.disputes

    def pledge(self, data: st.DataObject) -> None:
        m = self.m
        a = self.pick_asset(data)
        if a.pledge or m.frozen(a) or a.dispute:
            return
        owner = self.index(a.owner)
        fn = self.pledges.functions.propose(a.id, self.addr[BANK], 1_000_000, b"CNY", m.at(365), b"\x09" * 32)
        self.act("propose pledge", fn, owner, None)
        m.pledges += 1
        version = self.chain.call(self.kit.ip.licenses.functions.encumbranceVersionOf(a.id))  # as the bank check shows
        self.act("accept pledge", self.pledges.functions.accept(m.pledges, version), BANK, None)
        a.pledge, a.consent = m.pledges, ZERO_ADDRESS

    def bank_acts(self, data: st.DataObject, release: bool) -> None:
        """The bank releases a pledge, or consents to (or withdraws its consent to) a transfer."""
        pledged = [a for a in self.m.assets.values() if a.pledge]
        if not pledged:
            return
        a = data.draw(st.sampled_from(pledged), label="pledged asset")
        if release:
            self.act("release pledge", self.pledges.functions.release(a.pledge), BANK, None)
            a.pledge, a.consent = 0, ZERO_ADDRESS
        else:
            to = self.addr[data.draw(st.sampled_from(TRADERS), label="consent to")]
            to = ZERO_ADDRESS if to == a.owner else to
            self.act("consent to transfer", self.pledges.functions.consentToTransfer(a.pledge, to), BANK, None)
            a.consent = to

    def freeze_or_unfreeze(self, data: st.DataObject, days: int) -> None:
        m = self.m
        a = self.pick_asset(data)
        if m.frozen(a):
            self.act("unfreeze", self.registry.functions.unfreeze(a.id, b"\x02" * 32), ADMIN, None)
            a.frozen_until = 0
        else:
            until = m.at(days)
            fn = self.registry.functions.freeze(a.id, "court", "case", b"\x01" * 32, until)
            self.act("freeze", fn, ADMIN, None)
            a.frozen_until = until

    def travel(self, data: st.DataObject) -> None:
        days = data.draw(st.integers(1, 4), label="days")
        STATS["steps"] += 1
        STATS["time travel"] += 1
        self.chain.increase_time(days * DAY)
        self.m.days += days
        self.changed = True
        self.last = "travel"

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def escrow_balances_and_records_match_the_model(self) -> None:
        m, mk, tk = self.m, self.market, self.token
        calls: list[tuple[str, Contract, str, tuple[Any, ...]]] = [
            ("escrowOf", mk, "escrowOf", (tk.address,)), ("supply", tk, "totalSupply", ()),
            ("counts", mk, "counts", ()),
            ("openListings", mk, "openListings", (1, len(m.listings) + 1)),
            ("openOffers", mk, "openOffers", (1, len(m.offers) + 1)),
        ]
        calls += [(f"balance {h}", tk, "balanceOf", (h,)) for h in self.holders]
        for a in m.assets.values():
            calls += [(f"owner {a.id}", self.registry, "ownerOf", (a.id,)),
                      (f"pledge {a.id}", self.pledges, "activePledgeOf", (a.id,)),
                      (f"frozen {a.id}", self.registry, "isFrozen", (a.id,))]
        calls += [(f"listing {i}", mk, "listingOf", (i,)) for i in m.listings]
        calls += [(f"offer {i}", mk, "offerOf", (i,)) for i in m.offers]
        view = self.reader.read(calls)

        escrow = m.escrow()
        assert view["escrowOf"] == view[f"balance {mk.address}"] == escrow, (
            f"after {self.last}: escrowOf {view['escrowOf']}, held {view[f'balance {mk.address}']}, "
            f"open offers {escrow}")
        assert view["supply"] == self.supply == sum(view[f"balance {h}"] for h in self.holders), self.last
        expected: dict[str, Any] = {f"balance {h}": m.balances[h] for h in self.holders}
        expected["counts"] = (len(m.listings), len(m.offers), 0, 0)
        for a in m.assets.values():
            expected |= {f"owner {a.id}": a.owner, f"pledge {a.id}": a.pledge, f"frozen {a.id}": m.frozen(a)}
        for x in m.listings.values():
            expected[f"listing {x.id}"] = (x.seller, x.asset, m.listing_status(x), x.fee_bps, self.token.address,
                                           x.expiry, x.nonce, x.price, x.buyer, x.pledge, x.transfers)
        for o in m.offers.values():
            expected[f"offer {o.id}"] = (o.buyer, o.expiry, m.offer_status(o), o.fee_bps, o.seller, o.asset,
                                         self.token.address, o.pledge, o.amount)
        expected["openListings"] = tuple(x.id for x in m.listings.values() if m.listing_status(x) == OPEN)
        expected["openOffers"] = tuple(o.id for o in m.offers.values() if m.offer_status(o) == O_OPEN)
        actual = dict(view)
        actual["openListings"], actual["openOffers"] = view["openListings"][0], view["openOffers"][0]
        diff = {k: (actual.get(k), v) for k, v in expected.items() if actual.get(k) != v}
        assert not diff, f"after {self.last}: chain vs model differ (chain, model): {diff}"
        if not self.changed and self.view is not None:
            assert view == self.view, f"after {self.last}: a refused act changed the chain"
        self.view, self.changed = view, False


class ViewReader:
    """Many view calls in ONE raw JSON-RPC batch, encoded and decoded with eth_abi."""

    def __init__(self, chain: ChainClient, *contracts: Contract) -> None:
        self.chain = chain
        self.functions: dict[tuple[str, str], tuple[bytes, list[str], list[str]]] = {}
        for contract in contracts:
            for item in contract.abi:
                if item.get("type") == "function" and item.get("stateMutability") in ("view", "pure"):
                    self.functions[(contract.address, item["name"])] = (
                        function_abi_to_4byte_selector(item), get_abi_input_types(item), get_abi_output_types(item))

    def read(self, calls: list[tuple[str, Contract, str, tuple[Any, ...]]]) -> dict[str, Any]:
        requests = []
        for _, contract, name, args in calls:
            selector, inputs, _ = self.functions[(contract.address, name)]
            data = "0x" + (selector + abi_encode(inputs, list(args))).hex()
            requests.append(("eth_call", [{"to": contract.address, "data": data}, "latest"]))
        view = {}
        for (key, contract, name, _), raw in zip(calls, self.chain.rpc_batch(requests), strict=True):
            values = abi_decode(self.functions[(contract.address, name)][2], bytes.fromhex(raw[2:]))
            view[key] = _normal(values[0] if len(values) == 1 else values)
        return view


def _normal(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_normal(v) for v in value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


# -- the test ---------------------------------------------------------------------------------------


def test_market_random_acts_keep_escrow_balances_and_ownership_as_the_model(chain: ChainClient, market: MarketKit,
                                                                             accounts):
    ip = market.ip
    ip.bank  # noqa: B018 - accredits account [4] (PLEDGEE_ROLE)
    owners: dict[int, int] = {}
    for seller in (SELLER_A, SELLER_B):
        for _ in range(ASSETS_PER_SELLER):
            owners[ip.register(accounts[seller])] = seller
    for trader in TRADERS:
        market.send(market.token.functions.faucet(accounts[trader].address, FUNDS), accounts[trader])
        market.send(market.token.functions.approve(market.market.address, MAX), accounts[trader])
    TREASURY_ADDRESS[:] = [accounts[TREASURY].address]
    MarketMachine.chain, MarketMachine.kit, MarketMachine.accounts = chain, market, list(accounts)
    MarketMachine.asset_owners = owners
    STATS.clear()
    started = time.monotonic()
    run_state_machine_as_test(MarketMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
    ))
    elapsed = time.monotonic() - started
    refused = sum(v for k, v in STATS.items() if k.startswith("refused"))
    print(f"\nstateful market: {STATS['steps']} acts ({refused} refused, {STATS['time travel']} time travels) "
          f"in {elapsed:.1f}s")
    for key, value in sorted(STATS.items()):
        print(f"  {key:<55} {value:>6}")
    assert STATS["steps"] >= EXAMPLES * 10, "the machine barely ran"
