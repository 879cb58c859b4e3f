"""``ipledger market ...``: trade IP from the command line, over :class:`ledger.market.service.MarketService`.

Amounts are typed in tokens (``250``, ``12.5``, ``1,000``) and turned into token units with the
token's decimals; expiries and deadlines are dates (``2026-12-31``) or times from now (``7d``,
``12h``). Each command checks its input first (bad input exits 2 before any chain is touched),
opens the ledger, calls the service and prints a sentence, a table, or JSON with ``--json``.
A contract's refusal is printed as its sentence (exit 1) by ``ledger.cli.main``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ledger.chain.abi import Act
from ledger.cli import shell
from ledger.encoding import LicenseKind, day, parse_address, parse_date, parse_hash32
from ledger.errors import ValidationError
from ledger.market.service import Amount, Deadline, MarketService, Token
from ledger.timestamps.proofs import file_digest

market_app = typer.Typer(help="Trade IP: listings, escrowed offers, license sales and the demand board.",
                         no_args_is_help=True)
demand_app = typer.Typer(help="The demand board: post a need, answer it with an asset, accept an answer.",
                         no_args_is_help=True)
market_app.add_typer(demand_app, name="demand")

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AssetIdArg = Annotated[int, typer.Argument(min=1, help="The asset id.")]
ListingIdArg = Annotated[int, typer.Argument(min=1, help="The listing id.")]
OfferIdArg = Annotated[int, typer.Argument(min=1, help="The offer id.")]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="Settle in this ERC-20 (default: the ledger's settlement token).")
]
Limit = Annotated[int, typer.Option("--limit", min=1, max=500)]
Offset = Annotated[int, typer.Option("--offset", min=0)]
AssetFilter = Annotated[int | None, typer.Option("--asset", min=1, help="Only those of this asset.")]
SeenPrice = Annotated[
    str | None, typer.Option("--price", help="The price you saw, in tokens (default: the listing's price now).")
]
SeenNonce = Annotated[
    int | None, typer.Option("--nonce", min=0, help="The listing's nonce you saw (default: its nonce now).")
]


def register(app: typer.Typer) -> None:
    """Add ``ipledger market ...`` to the ``ipledger`` app."""
    app.add_typer(market_app, name="market")


# -- parsing and rendering ---------------------------------------------------------------------------


def _amount(text: str, what: str) -> Amount:
    amount = Amount.parse(text, what)
    if amount.value == 0:
        raise ValidationError(f"{what} must be greater than zero")
    return amount


def _token(text: str | None) -> str | None:
    return parse_address(text, "the token") if text else None


def _done(sentence: str, result: Act, as_json: bool, **extra: Any) -> None:
    if as_json:
        shell.print_json({**result.as_json(), **extra})
        return
    shell.out.print(f"{sentence} (block {result.block_number}, tx {result.tx_hash}).", highlight=False)


def _money(market: MarketService, token: str, units: int) -> str:
    return market.token(token).format(units)


def _fee(bps: int) -> str:
    """A fee in basis points as a percentage: 250 -> "2.5%"."""
    text = f"{Decimal(bps) / 100:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def _when(seconds: int) -> str:
    return day(seconds)


def _page_note(shown: int, count: int, what: str) -> None:
    if shown:
        shell.out.print(f"{shown} of {count} open {what}.")


# -- the token -----------------------------------------------------------------------------------------


@market_app.command("faucet")
def faucet(
    amount: Annotated[str, typer.Argument(help="Tokens to mint (at most 1,000,000).")] = "1000",
    to: Annotated[str | None, typer.Option("--to", help="Mint to this address (default: you).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Mint settlement tokens (development chains only)."""
    tokens = _amount(amount, "the amount")
    recipient = parse_address(to, "the recipient") if to else None
    with shell.ledger() as opened:
        market = opened.market
        token = market.token()
        units = token.units(tokens)
        result = market.faucet(units, recipient)
        holder = recipient or opened.client.signer().address
        balance = market.balance_of(holder)
    _done(f"Minted {token.format(units)} to {holder}; it holds {token.format(balance)}", result, as_json,
          to=holder, amount=units, balance=balance)


@market_app.command("balance")
def balance(
    address: Annotated[str | None, typer.Argument(help="Whose balance (default: yours).")] = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """An account's balance of the settlement token (or of --token)."""
    holder = parse_address(address, "the address") if address else None
    token_address = _token(token)
    with shell.ledger(need_account=holder is None) as opened:
        market = opened.market
        holder = holder or opened.client.signer().address
        info = market.token(token_address)
        units = market.balance_of(holder, info.address)
    if as_json:
        shell.print_json({"address": holder, "token": info.as_json(), "balance": units,
                          "balance_text": info.format(units)})
        return
    shell.out.print(f"{holder} holds {info.format(units)} ({units:,} units).", highlight=False)


# -- listings ------------------------------------------------------------------------------------------


@market_app.command("list")
def list_asset(
    asset_id: AssetIdArg,
    price: Annotated[str, typer.Option("--price", help="The price in tokens, e.g. 250 or 12.5.")],
    expires: Annotated[str, typer.Option("--expires", help="Until: a date (2026-12-31) or from now (7d, 12h).")]
    = "30d",
    buyer: Annotated[str | None, typer.Option("--buyer", help="Reserve it for this buyer (needed for a pledged "
                                                               "asset: the one its pledgee consented to).")] = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List your asset at a fixed price (the market is approved for it first if needed)."""
    amount = _amount(price, "the price")
    until = Deadline.parse(expires, "the expiry")
    reserved = parse_address(buyer, "the buyer") if buyer else None
    token_address = _token(token)
    with shell.ledger() as opened:
        market = opened.market
        result = market.list_asset(asset_id, amount, until, buyer=reserved, token=token_address)
        listing = market.listing_of(result.ids["listingId"])
        shown = market.token(listing.token).format(listing.price)
    _done(f"Listed asset {asset_id} as listing {listing.listing_id} for {shown} until {_when(listing.expiry)}"
          + (f", for {reserved} only" if reserved else "")
          + f"; its sale pays a protocol fee of at most {_fee(listing.fee_bps)}, fixed now", result, as_json,
          listing=listing.as_json())


@market_app.command("update")
def update_listing(
    listing_id: ListingIdArg,
    price: Annotated[str, typer.Option("--price", help="The new price in tokens.")],
    expires: Annotated[str, typer.Option("--expires", help="The new expiry: a date or from now (7d).")] = "30d",
    as_json: JsonOption = False,
) -> None:
    """Change your listing's price and expiry; buyers who saw the old price are refused."""
    amount = _amount(price, "the price")
    until = Deadline.parse(expires, "the expiry")
    with shell.ledger() as opened:
        market = opened.market
        result = market.update_listing(listing_id, amount, until)
        listing = market.listing_of(listing_id)
        shown = _money(market, listing.token, listing.price)
    _done(f"Listing {listing_id} is now {shown} until {_when(listing.expiry)} (nonce {listing.nonce})", result,
          as_json, listing=listing.as_json())


@market_app.command("cancel")
def cancel(listing_id: ListingIdArg, as_json: JsonOption = False) -> None:
    """Cancel your listing."""
    with shell.ledger() as opened:
        result = opened.market.cancel_listing(listing_id)
    _done(f"Listing {listing_id} is cancelled", result, as_json)


@market_app.command("buy")
def buy(listing_id: ListingIdArg, price: SeenPrice = None, nonce: SeenNonce = None,
        as_json: JsonOption = False) -> None:
    """Buy a listed asset: you pay and receive it in one transaction.

    The buy names the price and nonce you saw (by default the listing's now): a listing changed
    since is refused.
    """
    seen = Amount.parse(price, "the price") if price is not None else None
    with shell.ledger() as opened:
        market = opened.market
        listing = market.listing_of(listing_id)
        result = market.buy(listing_id, listing.price if seen is None else seen,
                            listing.nonce if nonce is None else nonce)
        shown = _money(market, listing.token, listing.price)
    _done(f"Bought asset {listing.asset_id} from {listing.seller} for {shown}", result, as_json,
          price=listing.price, token=listing.token)


def _listings_table(market: MarketService, listings: list[Any]) -> Table:
    table = Table("id", "asset", "seller", "price", "fee", "expires", "nonce", "buyer")
    for column in table.columns:
        column.overflow = "fold"
    for x in listings:
        table.add_row(str(x.listing_id), str(x.asset_id), x.seller, _money(market, x.token, x.price),
                      _fee(x.fee_bps), _when(x.expiry), str(x.nonce), x.buyer or "anyone")
    return table


@market_app.command("listings")
def listings(asset: AssetFilter = None, limit: Limit = 50, offset: Offset = 0, as_json: JsonOption = False) -> None:
    """The open listings (the supply list), oldest first."""
    with shell.ledger(need_account=False) as opened:
        market = opened.market
        page, count = market.open_listings(offset=offset, limit=limit, asset_id=asset)
        if as_json:
            shell.print_json({"data": [x.as_json() for x in page], "count": count})
            return
        shell.out.print(_listings_table(market, page) if page else "No open listings.")
    _page_note(len(page), count, "listings")


# -- offers --------------------------------------------------------------------------------------------


@market_app.command("offer")
def offer(
    asset_id: AssetIdArg,
    amount: Annotated[str, typer.Option("--amount", help="The amount offered, in tokens (held in escrow).")],
    expires: Annotated[str, typer.Option("--expires", help="Open until: a date or from now (7d).")] = "7d",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offer an amount for an asset; it is held in escrow until the owner accepts or you withdraw it."""
    tokens = _amount(amount, "the amount")
    until = Deadline.parse(expires, "the expiry")
    token_address = _token(token)
    with shell.ledger() as opened:
        market = opened.market
        result = market.make_offer(asset_id, tokens, until, token=token_address)
        made = market.offer_of(result.ids["offerId"])
        shown = _money(market, made.token, made.amount)
    _done(f"Offered {shown} for asset {asset_id} to {made.seller} as offer {made.offer_id}, in escrow until "
          f"{_when(made.expiry)}", result, as_json, offer=made.as_json())


@market_app.command("accept")
def accept(offer_id: OfferIdArg, as_json: JsonOption = False) -> None:
    """Accept an offer for your asset: the escrow pays you and the asset goes to the buyer."""
    with shell.ledger() as opened:
        market = opened.market
        result = market.accept_offer(offer_id)
        done = market.offer_of(offer_id)
        shown = _money(market, done.token, done.amount)
    _done(f"Sold asset {done.asset_id} to {done.buyer} for {shown} (offer {offer_id})", result, as_json)


@market_app.command("refuse")
def refuse(offer_id: OfferIdArg, as_json: JsonOption = False) -> None:
    """Refuse an offer for your asset; the buyer may withdraw it at once."""
    with shell.ledger() as opened:
        result = opened.market.refuse_offer(offer_id)
    _done(f"Offer {offer_id} is refused", result, as_json)


@market_app.command("withdraw")
def withdraw(offer_id: OfferIdArg, as_json: JsonOption = False) -> None:
    """Take your offer's amount back out of escrow (once refused, expired or void)."""
    with shell.ledger() as opened:
        market = opened.market
        done = market.offer_of(offer_id)
        result = market.withdraw_offer(offer_id)
        shown = _money(market, done.token, done.amount)
    _done(f"Withdrew {shown} of offer {offer_id}", result, as_json, amount=done.amount)


@market_app.command("offers")
def offers(asset: AssetFilter = None, limit: Limit = 50, offset: Offset = 0, as_json: JsonOption = False) -> None:
    """The offers open now (acceptable by their sellers), oldest first."""
    with shell.ledger(need_account=False) as opened:
        market = opened.market
        page, count = market.open_offers(offset=offset, limit=limit, asset_id=asset)
        if as_json:
            shell.print_json({"data": [x.as_json() for x in page], "count": count})
            return
        table = Table("id", "asset", "buyer", "seller", "amount", "fee", "expires")
        for column in table.columns:
            column.overflow = "fold"
        for x in page:
            table.add_row(str(x.offer_id), str(x.asset_id), x.buyer, x.seller, _money(market, x.token, x.amount),
                          _fee(x.fee_bps), _when(x.expiry))
        shell.out.print(table if page else "No open offers.")
    _page_note(len(page), count, "offers")


# -- license listings ------------------------------------------------------------------------------------


@market_app.command("license-offer")
def license_offer(
    asset_id: AssetIdArg,
    kind: Annotated[str, typer.Option("--kind", help=f"One of: {', '.join(LicenseKind.labels())}.")],
    end: Annotated[str, typer.Option("--end", help="End of each license's term (exclusive), e.g. 2030-12-31.")],
    price: Annotated[str, typer.Option("--price", help="The price of one license, in tokens.")],
    supply: Annotated[int, typer.Option("--supply", min=1, max=65_535, help="How many can be sold (1 if exclusive "
                                                                            "or sole).")] = 1,
    start: Annotated[str | None, typer.Option("--start", help="Start of the term (default: now).")] = None,
    territory: Annotated[str, typer.Option(
        "--territory", help="A country (CN, CHN, China) or subdivision (CN-BJ); default: the world.")] = "",
    field: Annotated[str, typer.Option("--field", help="IPC prefix of the field of use, e.g. H04L (default all).")]
    = "",
    terms_hash: Annotated[str | None, typer.Option("--terms-hash", help="SHA-256 (0x...) of the contract.")] = None,
    terms_file: Annotated[Path | None, typer.Option("--terms-file", help="The license contract (hashed).")] = None,
    sublicensable: Annotated[bool, typer.Option("--sublicensable", help="Allow sublicensing.")] = False,
    expires: Annotated[str, typer.Option("--expires", help="Offer open until: a date or from now (30d).")] = "30d",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offer licenses of your asset for sale: each buyer pays and gets an active license in one transaction."""
    from ledger.registry.licenses import LicenseTerms

    amount = _amount(price, "the price")
    until = Deadline.parse(expires, "the expiry")
    if terms_hash is not None and terms_file is not None:
        raise ValidationError("give the terms as a hash or as a file, not both")
    digest = file_digest(terms_file) if terms_file is not None else parse_hash32(terms_hash, "the terms hash")
    token_address = _token(token)
    terms = LicenseTerms(
        licensee="0x" + "00" * 20, kind=LicenseKind.parse(kind),
        start=parse_date(start, "the start") if start else int(time.time()),
        end=parse_date(end, "the end", allow_zero=False), territory=territory, field_of_use=field,
        terms_hash="0x" + digest.hex(), fee=0, sublicensable=sublicensable,
    )
    terms.encode()
    with shell.ledger() as opened:
        market = opened.market
        units = market.token(token_address).units(amount, "the price")
        result = market.list_license(asset_id, replace(terms, fee=units), units, supply, until, token=token_address)
        listing = market.license_listing_of(result.ids["listingId"])
        shown = _money(market, listing.token, listing.price)
    _done(f"Offered {supply} {LicenseKind.parse(kind).label} license{'s' if supply > 1 else ''} of asset {asset_id} "
          f"for {shown} each as license listing {listing.listing_id}, until {_when(listing.expiry)}", result, as_json,
          listing=listing.as_json())


@market_app.command("buy-license")
def buy_license(listing_id: ListingIdArg, price: SeenPrice = None, nonce: SeenNonce = None,
                as_json: JsonOption = False) -> None:
    """Buy one license of a license listing: you pay and become the licensee of an active license."""
    seen = Amount.parse(price, "the price") if price is not None else None
    with shell.ledger() as opened:
        market = opened.market
        listing = market.license_listing_of(listing_id)
        result = market.buy_license(listing_id, listing.price if seen is None else seen,
                                    listing.nonce if nonce is None else nonce)
        shown = _money(market, listing.token, listing.price)
    _done(f"Bought license {result.ids['licenseId']} of asset {listing.asset_id} for {shown}", result, as_json)


@market_app.command("license-offers")
def license_offers(asset: AssetFilter = None, limit: Limit = 50, offset: Offset = 0,
                   as_json: JsonOption = False) -> None:
    """The license listings open now, oldest first."""
    with shell.ledger(need_account=False) as opened:
        market = opened.market
        page, count = market.open_license_listings(offset=offset, limit=limit, asset_id=asset)
        if as_json:
            shell.print_json({"data": [x.as_json() for x in page], "count": count})
            return
        table = Table("id", "asset", "seller", "kind", "territory", "field", "term", "price", "fee", "left",
                      "expires")
        for column in table.columns:
            column.overflow = "fold"
        for x in page:
            t = x.terms
            table.add_row(str(x.listing_id), str(x.asset_id), x.seller, LicenseKind.parse(t.kind).label,
                          t.territory or "all", t.field_of_use or "all", f"{day(t.start)} – {day(t.end)}",
                          _money(market, x.token, x.price), _fee(x.fee_bps), f"{x.supply - x.sold}/{x.supply}",
                          _when(x.expiry))
        shell.out.print(table if page else "No open license listings.")
    _page_note(len(page), count, "license listings")


# -- the demand board ----------------------------------------------------------------------------------


@demand_app.command("post")
def demand_post(
    budget: Annotated[str, typer.Option("--budget", help="Up to how much, in tokens.")],
    title: Annotated[str | None, typer.Option("--title", help="What is needed (a description document is "
                                                               "stored here and published by the API).")] = None,
    text: Annotated[str | None, typer.Option("--text", help="More about the need (in the document).")] = None,
    description_hash: Annotated[
        str | None, typer.Option("--description-hash", help="Instead of --title: SHA-256 of a description "
                                                            "published at --uri.")
    ] = None,
    uri: Annotated[str | None, typer.Option("--uri", help="Where the description is published.")] = None,
    deadline: Annotated[str, typer.Option("--deadline", help="Answers until: a date or from now (30d).")] = "30d",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Post a need on the demand board: owners answer with assets, you accept one."""
    from ledger.registry.metadata import build_document

    amount = _amount(budget, "the budget")
    until = Deadline.parse(deadline, "the deadline")
    token_address = _token(token)
    description: Any
    if (title is None) == (description_hash is None):
        raise ValidationError("describe the need with --title, or give --description-hash and --uri")
    if description_hash is not None:
        description = parse_hash32(description_hash, "the description hash", allow_zero=False)
        if not uri:
            raise ValidationError("a description given by its hash needs --uri")
    else:
        description = build_document(title or "", description=text)
    with shell.ledger() as opened:
        market = opened.market
        result = market.post_demand(description, amount, until, uri=uri, token=token_address)
        demand = market.demand_of(result.ids["demandId"])
        shown = _money(market, demand.token, demand.budget)
    _done(f"Posted demand {demand.demand_id}: up to {shown} until {_when(demand.deadline)} ({demand.uri})", result,
          as_json, demand=demand.as_json())


@demand_app.command("answer")
def demand_answer(
    demand_id: Annotated[int, typer.Argument(min=1, help="The demand id.")],
    asset_id: AssetIdArg,
    price: Annotated[str, typer.Option("--price", help="Your price in tokens (within the budget).")],
    as_json: JsonOption = False,
) -> None:
    """Answer a demand with your asset at a price."""
    amount = _amount(price, "the price")
    with shell.ledger() as opened:
        market = opened.market
        result = market.answer_demand(demand_id, asset_id, amount)
        answer = market.answer_of(result.ids["answerId"])
        shown = _money(market, market.demand_of(demand_id).token, answer.price)
    _done(f"Answered demand {demand_id} with asset {asset_id} at {shown} (answer {answer.answer_id})", result, as_json)


@demand_app.command("accept")
def demand_accept(
    answer_id: Annotated[int, typer.Argument(min=1, help="The answer id.")],
    expires: Annotated[str, typer.Option("--expires", help="The offer is open until: a date or from now (7d).")]
    = "7d",
    as_json: JsonOption = False,
) -> None:
    """Accept an answer to your demand: its price goes into escrow as an offer to the answerer.

    The answerer completes the sale with `ipledger market accept OFFER`.
    """
    until = Deadline.parse(expires, "the expiry")
    with shell.ledger() as opened:
        market = opened.market
        result = market.accept_answer(answer_id, until)
        made = market.offer_of(result.ids["offerId"])
        shown = _money(market, made.token, made.amount)
    _done(f"Accepted answer {answer_id}: offer {made.offer_id} holds {shown} in escrow for asset {made.asset_id}; "
          f"{made.seller} completes the sale with `ipledger market accept {made.offer_id}`", result, as_json)


@demand_app.command("close")
def demand_close(demand_id: Annotated[int, typer.Argument(min=1, help="The demand id.")],
                 as_json: JsonOption = False) -> None:
    """Close your demand: no more answers or acceptances."""
    with shell.ledger() as opened:
        result = opened.market.close_demand(demand_id)
    _done(f"Demand {demand_id} is closed", result, as_json)


@demand_app.command("answers")
def demand_answers(
    demand_id: Annotated[int, typer.Argument(min=1, help="The demand id.")],
    limit: Limit = 50, offset: Offset = 0, as_json: JsonOption = False,
) -> None:
    """The open answers to a demand, oldest first."""
    with shell.ledger(need_account=False) as opened:
        market = opened.market
        page, count = market.open_answers(demand_id, offset=offset, limit=limit)
        if as_json:
            shell.print_json({"data": [x.as_json() for x in page], "count": count})
            return
        token: Token = market.token(market.demand_of(demand_id).token)
        table = Table("id", "asset", "answerer", "price")
        for column in table.columns:
            column.overflow = "fold"
        for x in page:
            table.add_row(str(x.answer_id), str(x.asset_id), x.answerer, token.format(x.price))
        shell.out.print(table if page else f"No open answers to demand {demand_id}.")
    _page_note(len(page), count, "answers")


@market_app.command("demands")
def demands(limit: Limit = 50, offset: Offset = 0, as_json: JsonOption = False) -> None:
    """The open demands (the demand list), oldest first."""
    with shell.ledger(need_account=False) as opened:
        market = opened.market
        page, count = market.open_demands(offset=offset, limit=limit)
        if as_json:
            shell.print_json({"data": [x.as_json() for x in page], "count": count})
            return
        table = Table("id", "need", "poster", "budget", "deadline")
        for column in table.columns:
            column.overflow = "fold"
        for x in page:
            table.add_row(str(x.demand_id), x.title or x.uri or x.description_hash, x.poster,
                          _money(market, x.token, x.budget), _when(x.deadline))
        shell.out.print(table if page else "No open demands.")
    _page_note(len(page), count, "demands")
