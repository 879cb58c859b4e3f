"""The market (Marketplace, LicenseMarket, SettlementToken): listings, escrowed offers, license sales, demands.

Method names mirror the contracts' functions (``listAsset`` → ``list_asset``, ``buyLicense`` →
``buy_license`` ...). Money is an ``int`` of token units everywhere; what a user types ("12.5",
"1,000") is an :class:`Amount`, turned into units with the token's decimals in ONE place
(:meth:`Amount.units`: exact ``Decimal`` arithmetic, never floats). Expiries and deadlines are
unix seconds, or a :class:`Deadline` ("7d", "2026-12-31") resolved against the chain's clock.

The acts that need an approval first give it as needed. When the approval is missing, the act
is first run as the sender without sending anything (``eth_estimateGas``): a refusal the
contract finds before it looks for the approval (a changed price, a closed demand, not the
owner) raises the contract's error, as a sentence, and nothing is sent; if the missing approval
is the refusal, the approval is sent, then the act (which a rule checked after the approval,
e.g. a listing's freeze, can still refuse):

* listing an asset approves the Marketplace for that asset (ERC-721 ``approve``);
* listing licenses makes the LicenseMarket an operator in the LicenseRegistry (``setOperator``);
* buying, offering, buying a license and accepting a demand's answer approve the market
  contract for the amount it takes (ERC-20 ``approve``), once the payer is known to hold it.

A buy names the price and the nonce the buyer saw (read the listing first, pass them): if the
seller changed the listing in between, the contract refuses with ``MarketplacePriceChanged``.

Browsing reads the contracts' views. ``open...(fromId, toId)`` returns the items open *now*
(not expired, not void), so a page with its total is a scan of every id, in chunks of
:data:`SCAN_CHUNK` ids, all chunks in ONE JSON-RPC batch.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, cast

from eth_account.signers.local import LocalAccount

from ledger import messages
from ledger.chain.abi import (
    Act,
    LogDecoder,
    call_request,
    decode_output,
    function_abi,
    logs_request,
    raw_results,
    uint_topic,
)
from ledger.chain.client import ChainClient, Contract, Receipt
from ledger.encoding import (
    ZERO_ADDRESS,
    AnswerStatus,
    DemandStatus,
    LicenseKind,
    ListingStatus,
    OfferStatus,
    decode_ascii32,
    iso,
    parse_address,
    parse_date,
    parse_hash32,
)
from ledger.errors import ContractError, ValidationError, contract_error
from ledger.registry.assets import act
from ledger.registry.disputes import refuse_sale_if_disputed
from ledger.registry.licenses import LicenseTerms
from ledger.registry.metadata import MetadataStore, StoredMetadata, parse_hash

MAX_PAGE = 500
SCAN_CHUNK = 200
"""Ids per ``open...`` view call when scanning a board (each call stays far below a block's gas)."""

UINT256_MAX = 2**256 - 1


# -- amounts and deadlines as users type them ---------------------------------------------------------

_AMOUNT = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class Amount:
    """An amount of tokens as a user types it (``250``, ``12.5``, ``1,000``): exact, never a float.

    Its units depend on the token's decimals, so :meth:`units` is where it becomes money;
    the market's methods take an :class:`Amount` or an ``int`` of units.
    """

    text: str
    value: Decimal

    @classmethod
    def parse(cls, text: str | Decimal, what: str = "the amount") -> Amount:
        if isinstance(text, Decimal):
            if not text.is_finite() or text < 0:
                raise ValidationError(f"{what} {text} is not an amount of tokens")
            return cls(str(text), text)
        cleaned = text.strip().replace("_", "").replace(",", "")
        if not _AMOUNT.match(cleaned):
            raise ValidationError(f"{what} {text!r} is not an amount of tokens: use digits and one point, e.g. 12.5")
        try:
            return cls(text.strip(), Decimal(cleaned))
        except InvalidOperation:
            raise ValidationError(f"{what} {text!r} is not an amount of tokens") from None

    def units(self, decimals: int, what: str = "the amount") -> int:
        """The amount in token units: ``12.5`` with 6 decimals is 12,500,000 (exactly, or ValidationError)."""
        with localcontext() as ctx:
            ctx.prec = 200  # 2**256 has 78 digits: never round
            scaled = self.value.scaleb(decimals)
            if scaled != scaled.to_integral_value():
                raise ValidationError(
                    f"{what} {self.text} has more decimals than the token's {decimals}")
            units = int(scaled)
        if units > UINT256_MAX:
            raise ValidationError(f"{what} {self.text} is out of range")
        return units


_RELATIVE = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_SECONDS = {"m": 60, "min": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}


@dataclass(frozen=True)
class Deadline:
    """An expiry or deadline as a user types it: a date (``2026-12-31``, ISO, unix seconds) or a time
    from now on the chain's clock (``90m``, ``12h``, ``7d``, ``2w``)."""

    at: int = 0
    after: int = 0

    @classmethod
    def parse(cls, text: str | int, what: str = "the expiry") -> Deadline:
        if isinstance(text, str):
            match = _RELATIVE.match(text.strip().lower())
            if match:
                seconds = int(match.group(1)) * _SECONDS[match.group(2)]
                if seconds <= 0:
                    raise ValidationError(f"{what} must be in the future, not {text!r}")
                return cls(after=seconds)
        return cls(at=parse_date(text, what, allow_zero=False))

    def resolve(self, now: int) -> int:
        return self.at or now + self.after


# -- the token ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """An ERC-20 the market settles in."""

    address: str
    name: str
    symbol: str
    decimals: int

    def units(self, amount: int | Amount, what: str = "the amount") -> int:
        """Token units from units (``int``) or from an :class:`Amount` typed by a user."""
        if isinstance(amount, Amount):
            return amount.units(self.decimals, what)
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= UINT256_MAX:
            raise ValidationError(f"{what} must be a whole number of token units, got {amount!r}")
        return amount

    def format(self, units: int) -> str:
        """``12.5 IPST`` for 12,500,000 units of a 6-decimal token."""
        with localcontext() as ctx:
            ctx.prec = 200
            value = Decimal(units).scaleb(-self.decimals).normalize()
        return f"{value:,f} {self.symbol}"

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "name": self.name, "symbol": self.symbol, "decimals": self.decimals}


# -- the boards ----------------------------------------------------------------------------------------


def _require_seen_price(what: str, listing_id: int, price: int, nonce: int, named_price: int, named_nonce: int,
                        token: Token) -> None:
    """A buyer who names the listing's current nonce with another price mistyped the price: say so,
    rather than the contract's "changed since you saw it" (which stays the answer when the nonce differs)."""
    if named_nonce == nonce and named_price != price:
        raise ValidationError(
            f"{what} {listing_id} has not changed (nonce {nonce}): its price is {token.format(price)}, "
            f"not the {token.format(named_price)} you named; name its price to buy", price=price, nonce=nonce)


def _optional(address: str) -> str | None:
    return None if int(address, 16) == 0 else parse_address(address)


@dataclass(frozen=True)
class Listing:
    """``IMarketplace.Listing``: an asset for sale, with its status now; ``buyer`` None: anyone may buy.

    ``fee_bps`` is the protocol fee when listed, the most its sale pays (the lower of it and the fee at
    the sale); ``transfers`` the asset's transfer count when listed: once the asset moved, the listing
    is void for good, even if it came back to the seller.
    """

    listing_id: int
    asset_id: int
    seller: str
    status: ListingStatus
    token: str
    price: int
    expiry: int
    nonce: int
    buyer: str | None
    pledge_id: int
    fee_bps: int = 0
    transfers: int = 0

    @classmethod
    def from_tuple(cls, listing_id: int, raw: Any) -> Listing:
        seller, asset_id, status, fee_bps, token, expiry, nonce, price, buyer, pledge_id, transfers = raw
        return cls(int(listing_id), int(asset_id), parse_address(seller), ListingStatus(status), parse_address(token),
                   int(price), int(expiry), int(nonce), _optional(buyer), int(pledge_id), int(fee_bps),
                   int(transfers))

    def as_json(self) -> dict[str, Any]:
        return {
            "listing_id": self.listing_id, "asset_id": self.asset_id, "seller": self.seller,
            "status": self.status.label, "token": self.token, "price": self.price, "nonce": self.nonce,
            "expiry": self.expiry, "expires_on": iso(self.expiry), "buyer": self.buyer, "pledge_id": self.pledge_id,
            "fee_bps": self.fee_bps, "transfers": self.transfers,
        }


@dataclass(frozen=True)
class Offer:
    """``IMarketplace.Offer``: an amount in escrow for an asset, with its status now; ``fee_bps`` is the
    protocol fee when the offer was made, the most its acceptance pays."""

    offer_id: int
    asset_id: int
    buyer: str
    seller: str
    status: OfferStatus
    token: str
    amount: int
    expiry: int
    pledge_id: int
    fee_bps: int = 0

    @classmethod
    def from_tuple(cls, offer_id: int, raw: Any) -> Offer:
        buyer, expiry, status, fee_bps, seller, asset_id, token, pledge_id, amount = raw
        return cls(int(offer_id), int(asset_id), parse_address(buyer), parse_address(seller), OfferStatus(status),
                   parse_address(token), int(amount), int(expiry), int(pledge_id), int(fee_bps))

    def as_json(self) -> dict[str, Any]:
        return {
            "offer_id": self.offer_id, "asset_id": self.asset_id, "buyer": self.buyer, "seller": self.seller,
            "status": self.status.label, "token": self.token, "amount": self.amount, "expiry": self.expiry,
            "expires_on": iso(self.expiry), "pledge_id": self.pledge_id, "fee_bps": self.fee_bps,
        }


def _terms_json(terms: LicenseTerms) -> dict[str, Any]:
    kind = LicenseKind.parse(terms.kind)
    return {
        "kind": kind.label, "exclusive": kind != LicenseKind.NON_EXCLUSIVE, "start": terms.start, "end": terms.end,
        "starts_on": iso(terms.start), "ends_on": iso(terms.end), "territory": terms.territory,
        "field_of_use": terms.field_of_use, "terms_hash": terms.terms_hash, "fee": terms.fee,
        "sublicensable": terms.sublicensable,
    }


@dataclass(frozen=True)
class LicenseListing:
    """``ILicenseMarket.LicenseListing``: licenses for sale on ``terms`` (each buyer is the licensee).

    ``fee_bps`` is the protocol fee when listed (the most each sale pays); ``transfers`` the asset's
    transfer count and ``operator_epoch`` the epoch of the seller's operator approval when listed: once
    either changed, the listing is void for good.
    """

    listing_id: int
    asset_id: int
    seller: str
    status: ListingStatus
    token: str
    price: int
    expiry: int
    nonce: int
    pledge_id: int
    supply: int
    sold: int
    terms: LicenseTerms
    fee_bps: int = 0
    transfers: int = 0
    operator_epoch: int = 0

    @classmethod
    def from_tuple(cls, listing_id: int, raw: Any) -> LicenseListing:
        (seller, asset_id, status, token, expiry, nonce, price, pledge_id, supply, sold, transfers, operator_epoch,
         fee_bps, terms) = raw
        _, kind, start, end, territory, field_of_use, terms_hash, fee, sublicensable = terms
        return cls(
            int(listing_id), int(asset_id), parse_address(seller), ListingStatus(status), parse_address(token),
            int(price), int(expiry), int(nonce), int(pledge_id), int(supply), int(sold),
            LicenseTerms(ZERO_ADDRESS, LicenseKind(kind), int(start), int(end), decode_ascii32(territory),
                         decode_ascii32(field_of_use), "0x" + bytes(terms_hash).hex(), int(fee), bool(sublicensable)),
            int(fee_bps), int(transfers), int(operator_epoch),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "listing_id": self.listing_id, "asset_id": self.asset_id, "seller": self.seller,
            "status": self.status.label, "token": self.token, "price": self.price, "nonce": self.nonce,
            "expiry": self.expiry, "expires_on": iso(self.expiry), "pledge_id": self.pledge_id,
            "supply": self.supply, "sold": self.sold, "remaining": self.supply - self.sold,
            "fee_bps": self.fee_bps, "transfers": self.transfers, "operator_epoch": self.operator_epoch,
            "terms": _terms_json(self.terms),
        }


@dataclass(frozen=True)
class Demand:
    """``IMarketplace.Demand`` with its status now, the URI of its description (from ``DemandPosted``)
    and the description document when this ledger stores it."""

    demand_id: int
    poster: str
    status: DemandStatus
    token: str
    budget: int
    deadline: int
    description_hash: str
    uri: str | None
    document: dict[str, Any] | None

    @classmethod
    def from_tuple(cls, demand_id: int, raw: Any, uri: str | None, document: dict[str, Any] | None) -> Demand:
        poster, deadline, status, token, budget, description_hash = raw
        return cls(int(demand_id), parse_address(poster), DemandStatus(status), parse_address(token), int(budget),
                   int(deadline), "0x" + bytes(description_hash).hex(), uri, document)

    @property
    def title(self) -> str | None:
        title = (self.document or {}).get("title")
        return title if isinstance(title, str) else None

    def as_json(self) -> dict[str, Any]:
        return {
            "demand_id": self.demand_id, "poster": self.poster, "status": self.status.label, "token": self.token,
            "budget": self.budget, "deadline": self.deadline, "deadline_on": iso(self.deadline),
            "description_hash": self.description_hash, "uri": self.uri, "title": self.title,
            "description": self.document,
        }


@dataclass(frozen=True)
class Answer:
    """``IMarketplace.Answer``: an owner's answer to a demand, an asset at a price."""

    answer_id: int
    demand_id: int
    asset_id: int
    answerer: str
    status: AnswerStatus
    price: int

    @classmethod
    def from_tuple(cls, answer_id: int, raw: Any) -> Answer:
        answerer, demand_id, status, asset_id, price = raw
        return cls(int(answer_id), int(demand_id), int(asset_id), parse_address(answerer), AnswerStatus(status),
                    int(price))

    def as_json(self) -> dict[str, Any]:
        return {
            "answer_id": self.answer_id, "demand_id": self.demand_id, "asset_id": self.asset_id,
            "answerer": self.answerer, "status": self.status.label, "price": self.price,
        }


@dataclass(frozen=True)
class Counts:
    """The latest id of each board (ids start at 1)."""

    listings: int
    offers: int
    demands: int
    answers: int
    license_listings: int


def _page_bounds(offset: int, limit: int) -> None:
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError(f"limit must be 1..{MAX_PAGE} and offset at least 0")


# -- the service -------------------------------------------------------------------------------------


class MarketService:
    """Trade assets and licenses in an ERC-20, post and answer demands, browse the boards."""

    def __init__(
        self,
        client: ChainClient,
        market: Contract,
        license_market: Contract,
        token: Contract,
        registry: Contract,
        licenses: Contract,
        metadata: MetadataStore,
        from_block: int = 0,
    ) -> None:
        self.client = client
        self.market = market
        self.license_market = license_market
        self.settlement = token
        """The SettlementToken of this deployment: the default token of every act."""
        self.registry = registry
        self.licenses = licenses
        self.metadata = metadata
        self.from_block = from_block
        """The Marketplace's deploy block: event reads start there."""
        self._tokens: dict[str, Token] = {}
        self._decoder = LogDecoder({market.address: ("Marketplace", market.abi)})
        self._posted_topic = self._decoder.topic("DemandPosted")

    # -- the token -------------------------------------------------------------------------------

    def _erc20(self, address: str | None) -> Contract:
        if address is None or parse_address(address, "the token") == self.settlement.address:
            return self.settlement
        return self.client.contract(cast("list[dict[str, Any]]", self.settlement.abi),
                                    parse_address(address, "the token"))

    def token(self, address: str | None = None) -> Token:
        """The token at ``address`` (default: the SettlementToken): name, symbol, decimals (cached)."""
        contract = self._erc20(address)
        known = self._tokens.get(contract.address)
        if known is not None:
            return known
        if not self.client.code_at(contract.address):
            raise ValidationError(f"{contract.address} is not a token contract (no code at that address)")
        fns = contract.functions
        name, symbol, decimals = self.client.batch_call([fns.name(), fns.symbol(), fns.decimals()])
        token = Token(contract.address, str(name), str(symbol), int(decimals))
        self._tokens[contract.address] = token
        return token

    def faucet_enabled(self) -> bool:
        return bool(self.client.call(self.settlement.functions.faucetEnabled()))

    def faucet(self, amount: int | Amount, to: str | None = None, *, sender: LocalAccount | None = None) -> Act:
        """Mint SettlementTokens to ``to`` (default: the sender); development chains only."""
        signer = self.client.signer(sender)
        recipient = parse_address(to, "the recipient") if to else signer.address
        units = self.token().units(amount)
        receipt = self.client.transact(self.settlement.functions.faucet(recipient, units), sender=signer)
        return Act(receipt.tx_hash, receipt.block_number)

    def balance_of(self, account: str, token: str | None = None) -> int:
        return int(self.client.call(self._erc20(token).functions.balanceOf(parse_address(account, "the account"))))

    def allowance(self, owner: str, spender: str, token: str | None = None) -> int:
        fn = self._erc20(token).functions.allowance(parse_address(owner, "the owner"),
                                                    parse_address(spender, "the spender"))
        return int(self.client.call(fn))

    def approve(self, spender: str, amount: int | Amount, token: str | None = None, *,
                sender: LocalAccount | None = None) -> Act:
        """Allow ``spender`` (a market contract) to take up to ``amount`` of the sender's tokens."""
        contract = self._erc20(token)
        units = self.token(contract.address).units(amount)
        fn = contract.functions.approve(parse_address(spender, "the spender"), units)
        receipt = self.client.transact(fn, sender=sender)
        return Act(receipt.tx_hash, receipt.block_number)

    # -- approvals as needed -----------------------------------------------------------------------

    def _wants(self, contract: Contract, name: str, args: list[Any], signer: LocalAccount, missing: str) -> bool:
        """Whether the act would fail for want of ``missing`` (an error name) only: it is run as the
        signer and nothing is sent. Any other refusal raises its decoded error now."""
        try:
            self.client.estimate_gas({"from": signer.address, "to": contract.address,
                                      "data": contract.encode_abi(name, args)})
        except ContractError as exc:
            if exc.name == missing:
                return True
            raise
        return False

    def _transact(self, contract: Contract, name: str, args: list[Any], signer: LocalAccount) -> Receipt:
        return self.client.transact(getattr(contract.functions, name)(*args), sender=signer)

    def _pay(self, contract: Contract, name: str, args: list[Any], token: Token, amount: int,
             signer: LocalAccount) -> Receipt:
        """Send an act in which ``contract`` takes ``amount`` of ``token`` from the signer, approving it first
        if needed (and only if the act would then go through and the signer holds the amount)."""
        if self.allowance(signer.address, contract.address, token.address) < amount and self._wants(
                contract, name, args, signer, "ERC20InsufficientAllowance"):
            balance = self.balance_of(signer.address, token.address)
            if balance < amount:
                facts = {"sender": signer.address, "balance": balance, "needed": amount}
                raise contract_error("ERC20InsufficientBalance", facts,
                                     messages.sentence("ERC20InsufficientBalance", facts, token.format))
            self.approve(contract.address, amount, token.address, sender=signer)
        return self._transact(contract, name, args, signer)

    def _units(self, amount: int | Amount, token: Token, what: str) -> int:
        units = token.units(amount, what)
        if units == 0:
            raise ValidationError(f"{what} must be greater than zero")
        return units

    def _time(self, when: int | Deadline, what: str) -> int:
        if isinstance(when, Deadline):
            return when.resolve(self.client.block_time("latest"))
        return parse_date(when, what, allow_zero=False)

    # -- listings ----------------------------------------------------------------------------------

    def list_asset(
        self, asset_id: int, price: int | Amount, expiry: int | Deadline, *, buyer: str | None = None,
        token: str | None = None, sender: LocalAccount | None = None,
    ) -> Act:
        """List the sender's asset at ``price`` until ``expiry`` (for ``buyer`` only, if given), approving
        the Marketplace for it first if needed; the act's ids carry ``listingId``. Listing an asset
        again replaces its earlier listing."""
        refuse_sale_if_disputed(self.client, self.registry, asset_id)  # before any approval is asked
        signer = self.client.signer(sender)
        settle = self.token(token)
        args = [asset_id, settle.address, self._units(price, settle, "the price"), self._time(expiry, "the expiry"),
                parse_address(buyer, "the buyer") if buyer else ZERO_ADDRESS]
        approved = str(self.client.call(self.registry.functions.getApproved(asset_id))) == self.market.address
        if not approved and self._wants(self.market, "listAsset", args, signer, "MarketplaceTransferNotApproved"):
            self.client.transact(self.registry.functions.approve(self.market.address, asset_id), sender=signer)
        return act(self.client, self.market, self._transact(self.market, "listAsset", args, signer),
                   "listingId", "assetId", event="AssetListed")

    def update_listing(self, listing_id: int, price: int | Amount, expiry: int | Deadline, *,
                       sender: LocalAccount | None = None) -> Act:
        """Change an open listing's price and expiry (seller); its nonce goes up."""
        listing = self.listing_of(listing_id)
        units = self._units(price, self.token(listing.token), "the price")
        fn = self.market.functions.updateListing(listing_id, units, self._time(expiry, "the expiry"))
        return act(self.client, self.market, self.client.transact(fn, sender=sender), "listingId")

    def cancel_listing(self, listing_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Cancel an open listing (seller)."""
        receipt = self.client.transact(self.market.functions.cancelListing(listing_id), sender=sender)
        return act(self.client, self.market, receipt, "listingId", "assetId")

    def buy(self, listing_id: int, price: int | Amount, nonce: int, *, sender: LocalAccount | None = None) -> Act:
        """Buy a listed asset, naming the ``price`` and ``nonce`` the buyer saw (read the listing first):
        payment and transfer in one transaction. A listing changed since is refused
        (``MarketplacePriceChanged``) and nothing is sent."""
        signer = self.client.signer(sender)
        listing = self.listing_of(listing_id)
        settle = self.token(listing.token)
        units = settle.units(price, "the price")
        _require_seen_price("listing", listing_id, listing.price, listing.nonce, units, nonce, settle)
        receipt = self._pay(self.market, "buy", [listing_id, units, nonce], settle, units, signer)
        return act(self.client, self.market, receipt, "listingId", "assetId")

    # -- offers ------------------------------------------------------------------------------------

    def make_offer(
        self, asset_id: int, amount: int | Amount, expiry: int | Deadline, *, token: str | None = None,
        sender: LocalAccount | None = None,
    ) -> Act:
        """Offer ``amount`` for an asset, held in escrow until the owner accepts it or it is withdrawn;
        the act's ids carry ``offerId``. Refused before any payment approval while the asset's ownership is in
        dispute (the escrow could not end in a sale)."""
        refuse_sale_if_disputed(self.client, self.registry, asset_id, offer=True)
        signer = self.client.signer(sender)
        settle = self.token(token)
        units = self._units(amount, settle, "the amount")
        args = [asset_id, settle.address, units, self._time(expiry, "the expiry")]
        return act(self.client, self.market, self._pay(self.market, "makeOffer", args, settle, units, signer),
                   "offerId", "assetId")

    def accept_offer(self, offer_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Accept an offer (the owner it was made to): the escrow pays the sender, the asset goes to the
        buyer. The Marketplace must be approved for the asset; that approval is given first if needed."""
        signer = self.client.signer(sender)
        offer = self.offer_of(offer_id)
        approved, operator = self.client.batch_call([
            self.registry.functions.getApproved(offer.asset_id),
            self.registry.functions.isApprovedForAll(signer.address, self.market.address)])
        if str(approved) != self.market.address and not operator and self._wants(
                self.market, "acceptOffer", [offer_id], signer, "ERC721InsufficientApproval"):
            self.client.transact(self.registry.functions.approve(self.market.address, offer.asset_id), sender=signer)
        receipt = self._transact(self.market, "acceptOffer", [offer_id], signer)
        return act(self.client, self.market, receipt, "offerId", "assetId")

    def refuse_offer(self, offer_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Refuse an offer (its seller); the buyer may withdraw it at once."""
        receipt = self.client.transact(self.market.functions.refuseOffer(offer_id), sender=sender)
        return act(self.client, self.market, receipt, "offerId", "assetId")

    def withdraw_offer(self, offer_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Take an offer's amount back out of escrow (its buyer): refused, expired or void offers."""
        receipt = self.client.transact(self.market.functions.withdrawOffer(offer_id), sender=sender)
        return act(self.client, self.market, receipt, "offerId", "assetId")

    # -- license listings --------------------------------------------------------------------------

    def list_license(
        self, asset_id: int, terms: LicenseTerms, price: int | Amount, supply: int, expiry: int | Deadline, *,
        token: str | None = None, sender: LocalAccount | None = None,
    ) -> Act:
        """List licenses of the sender's asset on ``terms`` (each buyer becomes the licensee: the terms'
        licensee is ignored), ``supply`` of them at ``price`` each, until ``expiry``. The LicenseMarket
        is made the sender's licensing operator first if needed; the act's ids carry ``listingId``."""
        signer = self.client.signer(sender)
        settle = self.token(token)
        if not 0 < supply <= 65_535:
            raise ValidationError(f"a license listing sells 1 to 65,535 licenses, not {supply}")
        encoded = dataclasses.replace(terms, licensee=ZERO_ADDRESS).encode()
        args = [asset_id, encoded, settle.address, self._units(price, settle, "the price"), supply,
                self._time(expiry, "the expiry")]
        operator = bool(self.client.call(self.licenses.functions.isOperator(signer.address,
                                                                            self.license_market.address)))
        if not operator and self._wants(self.license_market, "listLicense", args, signer,
                                        "MarketplaceLicensingNotApproved"):
            fn = self.licenses.functions.setOperator(self.license_market.address, True)
            self.client.transact(fn, sender=signer)
        receipt = self._transact(self.license_market, "listLicense", args, signer)
        return act(self.client, self.license_market, receipt, "listingId", "assetId")

    def update_license_listing(self, listing_id: int, price: int | Amount, expiry: int | Deadline, *,
                               sender: LocalAccount | None = None) -> Act:
        """Change an open license listing's price and expiry (seller); its nonce goes up."""
        listing = self.license_listing_of(listing_id)
        units = self._units(price, self.token(listing.token), "the price")
        fn = self.license_market.functions.updateLicenseListing(listing_id, units, self._time(expiry, "the expiry"))
        return act(self.client, self.license_market, self.client.transact(fn, sender=sender), "listingId")

    def cancel_license_listing(self, listing_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Cancel a license listing (seller); licenses already sold stay."""
        receipt = self.client.transact(self.license_market.functions.cancelLicenseListing(listing_id), sender=sender)
        return act(self.client, self.license_market, receipt, "listingId", "assetId")

    def buy_license(self, listing_id: int, price: int | Amount, nonce: int, *,
                    sender: LocalAccount | None = None) -> Act:
        """Buy one license of a listing, naming the price and nonce seen: the sender pays and becomes
        the licensee of a new active license in one transaction; the act's ids carry ``licenseId``."""
        signer = self.client.signer(sender)
        listing = self.license_listing_of(listing_id)
        settle = self.token(listing.token)
        units = settle.units(price, "the price")
        _require_seen_price("license listing", listing_id, listing.price, listing.nonce, units, nonce, settle)
        receipt = self._pay(self.license_market, "buyLicense", [listing_id, units, nonce], settle, units, signer)
        return act(self.client, self.license_market, receipt, "listingId", "licenseId", "assetId")

    # -- the demand board --------------------------------------------------------------------------

    def post_demand(
        self,
        description: Mapping[str, Any] | StoredMetadata | str | bytes,
        budget: int | Amount,
        deadline: int | Deadline,
        *,
        uri: str | None = None,
        token: str | None = None,
        sender: LocalAccount | None = None,
    ) -> Act:
        """Post a need with a ``budget`` until ``deadline``. ``description`` is a document (stored here
        first, like an asset's metadata; its URI is the default) or the hash of one published at ``uri``.
        The act's ids carry ``demandId``."""
        if isinstance(description, (str, bytes)):
            digest = parse_hash32(description, "the description hash", allow_zero=False)
            if uri is None:
                raise ValidationError("a demand described by a hash needs the URI of its description")
        else:
            stored = description if isinstance(description, StoredMetadata) else self.metadata.put(description)
            digest, uri = stored.hash_bytes, stored.uri if uri is None else uri
        if len(uri) > 2048:
            raise ValidationError(f"the description URI is too long: at most 2048 characters, got {len(uri)}")
        settle = self.token(token)
        fn = self.market.functions.postDemand(digest, uri, settle.address, self._units(budget, settle, "the budget"),
                                              self._time(deadline, "the deadline"))
        return act(self.client, self.market, self.client.transact(fn, sender=sender), "demandId")

    def close_demand(self, demand_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Close a demand (its poster): no more answers or acceptances."""
        receipt = self.client.transact(self.market.functions.closeDemand(demand_id), sender=sender)
        return act(self.client, self.market, receipt, "demandId")

    def answer_demand(self, demand_id: int, asset_id: int, price: int | Amount, *,
                      sender: LocalAccount | None = None) -> Act:
        """Answer a demand with the sender's asset at ``price`` (within the budget); ids carry ``answerId``."""
        refuse_sale_if_disputed(self.client, self.registry, asset_id)
        units = self._units(price, self.token(self.demand_of(demand_id).token), "the price")
        fn = self.market.functions.answerDemand(demand_id, asset_id, units)
        return act(self.client, self.market, self.client.transact(fn, sender=sender), "answerId", "demandId",
                   "assetId")

    def withdraw_answer(self, answer_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Withdraw an answer (its answerer)."""
        receipt = self.client.transact(self.market.functions.withdrawAnswer(answer_id), sender=sender)
        return act(self.client, self.market, receipt, "answerId", "demandId")

    def accept_answer(self, answer_id: int, expiry: int | Deadline, *, sender: LocalAccount | None = None) -> Act:
        """Accept an answer (the demand's poster): its price goes into escrow as an offer for the answer's
        asset, open until ``expiry``; the answerer completes the sale with :meth:`accept_offer`. The
        act's ids carry ``offerId``."""
        signer = self.client.signer(sender)
        answer = self.answer_of(answer_id)
        settle = self.token(self.demand_of(answer.demand_id).token)
        args = [answer_id, self._time(expiry, "the expiry")]
        receipt = self._pay(self.market, "acceptAnswer", args, settle, answer.price, signer)
        return act(self.client, self.market, receipt, "answerId", "demandId", "offerId", "assetId")

    # -- the admin ---------------------------------------------------------------------------------

    def set_fee(self, treasury: str | None, fee_bps: int, *, sender: LocalAccount | None = None) -> Act:
        """Set the protocol fee: ``fee_bps`` basis points of every sale to ``treasury`` (admin)."""
        if not 0 <= fee_bps <= 10_000:
            raise ValidationError(f"a fee is 0 to 10,000 basis points, not {fee_bps}")
        to = parse_address(treasury, "the treasury") if treasury else ZERO_ADDRESS
        receipt = self.client.transact(self.market.functions.setFee(to, fee_bps), sender=sender)
        return Act(receipt.tx_hash, receipt.block_number)

    def fee(self) -> tuple[str | None, int]:
        """The treasury (None: no fee) and the fee in basis points."""
        treasury, fee_bps = self.client.call(self.market.functions.fee())
        return _optional(str(treasury)), int(fee_bps)

    def escrow_of(self, token: str | None = None) -> int:
        """The units of ``token`` the Marketplace holds for offers not yet accepted or withdrawn."""
        return int(self.client.call(self.market.functions.escrowOf(self._erc20(token).address)))

    # -- reads -------------------------------------------------------------------------------------

    def counts(self) -> Counts:
        counts, license_listings = self.client.batch_call([self.market.functions.counts(),
                                                           self.license_market.functions.licenseListingCount()])
        listings, offers, demands, answers = (int(c) for c in counts)
        return Counts(listings, offers, demands, answers, int(license_listings))

    def listing_of(self, listing_id: int) -> Listing:
        """A listing with its status now; NotFoundError (``MarketplaceUnknownListing``) if none."""
        return Listing.from_tuple(listing_id, self.client.call(self.market.functions.listingOf(listing_id)))

    def listing_of_asset(self, asset_id: int) -> Listing | None:
        """The asset's latest listing (whatever its status), or None if it was never listed."""
        listing_id = int(self.client.call(self.market.functions.listingOfAsset(asset_id)))
        return self.listing_of(listing_id) if listing_id else None

    def offer_of(self, offer_id: int) -> Offer:
        return Offer.from_tuple(offer_id, self.client.call(self.market.functions.offerOf(offer_id)))

    def license_listing_of(self, listing_id: int) -> LicenseListing:
        raw = self.client.call(self.license_market.functions.licenseListingOf(listing_id))
        return LicenseListing.from_tuple(listing_id, raw)

    def answer_of(self, answer_id: int) -> Answer:
        return Answer.from_tuple(answer_id, self.client.call(self.market.functions.answerOf(answer_id)))

    def demand_of(self, demand_id: int) -> Demand:
        """A demand with its status now, its description's URI and (if stored here) its document."""
        calls = [call_request(self.market.address, self.market.encode_abi("demandOf", [demand_id])),
                 logs_request([self.market.address], [self._posted_topic, uint_topic(demand_id)], self.from_block)]
        raw, logs = raw_results(self.client, calls)
        (demand,) = decode_output(function_abi(self.market.abi, "demandOf"), raw)
        return self._demands([(demand_id, demand)], logs)[0]

    def _demands(self, found: list[tuple[int, Any]], logs: list[Any]) -> list[Demand]:
        uris: dict[int, str] = {}
        for log in logs:
            event = self._decoder.decode(log)
            if event is not None and event.event == "DemandPosted":
                uris[int(event.args["demandId"])] = str(event.args["uri"])
        demands = []
        for demand_id, raw in found:
            description = "0x" + bytes(raw[5]).hex()
            demands.append(Demand.from_tuple(demand_id, raw, uris.get(demand_id),
                                             self.metadata.find(parse_hash(description))))
        return demands

    def _scan(self, contract: Contract, view: str, count: int, *prefix: int) -> list[tuple[int, Any]]:
        """Every item ``view`` reports open, ids 1..count, in ONE JSON-RPC batch of chunked calls."""
        if count == 0:
            return []
        fn = function_abi(contract.abi, view)
        calls = [call_request(contract.address, contract.encode_abi(view, [*prefix, start,
                                                                           min(start + SCAN_CHUNK, count + 1)]))
                 for start in range(1, count + 1, SCAN_CHUNK)]
        found: list[tuple[int, Any]] = []
        for result in raw_results(self.client, calls):
            ids, items = decode_output(fn, result)
            found.extend((int(i), item) for i, item in zip(ids, items, strict=True))
        return found

    @staticmethod
    def _page(found: list[tuple[int, Any]], offset: int, limit: int,
              keep: Callable[[Any], bool] | None) -> tuple[list[tuple[int, Any]], int]:
        if keep is not None:
            found = [(i, item) for i, item in found if keep(item)]
        return found[offset:offset + limit], len(found)

    def open_listings(self, *, offset: int = 0, limit: int = 50,
                      asset_id: int | None = None) -> tuple[list[Listing], int]:
        """A page of the listings open now (of ``asset_id`` only, if given), oldest first, and how many."""
        _page_bounds(offset, limit)
        found = self._scan(self.market, "openListings", self.counts().listings)
        page, count = self._page(found, offset, limit, None if asset_id is None else lambda x: x[1] == asset_id)
        return [Listing.from_tuple(i, raw) for i, raw in page], count

    def open_offers(self, *, offset: int = 0, limit: int = 50,
                    asset_id: int | None = None) -> tuple[list[Offer], int]:
        """A page of the offers acceptable now (for ``asset_id`` only, if given), oldest first, and how many."""
        _page_bounds(offset, limit)
        found = self._scan(self.market, "openOffers", self.counts().offers)
        page, count = self._page(found, offset, limit, None if asset_id is None else lambda x: x[5] == asset_id)
        return [Offer.from_tuple(i, raw) for i, raw in page], count

    def open_license_listings(self, *, offset: int = 0, limit: int = 50,
                              asset_id: int | None = None) -> tuple[list[LicenseListing], int]:
        """A page of the license listings open now (of ``asset_id`` only, if given), oldest first, and how many."""
        _page_bounds(offset, limit)
        found = self._scan(self.license_market, "openLicenseListings", self.counts().license_listings)
        page, count = self._page(found, offset, limit, None if asset_id is None else lambda x: x[1] == asset_id)
        return [LicenseListing.from_tuple(i, raw) for i, raw in page], count

    def open_demands(self, *, offset: int = 0, limit: int = 50) -> tuple[list[Demand], int]:
        """A page of the demands open now, oldest first, with their URIs and documents, and how many."""
        _page_bounds(offset, limit)
        page, count = self._page(self._scan(self.market, "openDemands", self.counts().demands), offset, limit, None)
        if not page:
            return [], count
        topics = [self._posted_topic, [uint_topic(i) for i, _ in page]]
        (logs,) = raw_results(self.client, [logs_request([self.market.address], topics, self.from_block)])
        return self._demands(page, logs), count

    def open_answers(self, demand_id: int, *, offset: int = 0, limit: int = 50) -> tuple[list[Answer], int]:
        """A page of the open answers to a demand, oldest first, and how many; NotFoundError for no demand."""
        _page_bounds(offset, limit)
        _, counts = self.client.batch_call([self.market.functions.demandOf(demand_id),
                                            self.market.functions.counts()])
        found = self._scan(self.market, "openAnswers", int(counts[3]), demand_id)
        page, count = self._page(found, offset, limit, None)
        return [Answer.from_tuple(i, raw) for i, raw in page], count
