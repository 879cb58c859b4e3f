"""``ipledger coowners ...``: co-owned assets (shares, consents, the acts that need every co-owner).

An act that needs every co-owner (``pledge``, ``transfer``, an exclusive or sole ``license``, ``sell``,
``accept-offer``, ``change``, ``share-transfer``) is described once by its options; each other
co-owner runs ``coowners consent ASSET ACT`` with the same options (or ``--act-id``), then one
co-owner runs the act itself. Dates must be exact (``2027-06-30``), not relative: a consent is
bound to the act's exact terms. ``coowners status ASSET ACT ...`` shows who consented.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from ledger.cli import shell
from ledger.cli.registry import JsonOption, _done, _facts, _hash_option
from ledger.context import Ledger
from ledger.encoding import CoOwnerAct, parse_address
from ledger.errors import ValidationError
from ledger.registry.coowners import check_shares, parse_share

coowners_app = typer.Typer(help=(
    "Co-owned assets (shares in basis points, 10,000 in all): show the co-owners; consent to (or withdraw "
    "from) an act that needs every co-owner; perform it; split and withdraw the proceeds. A co-owner alone may "
    "grant a non-exclusive licence; a pledge, a transfer, a sale, an exclusive or sole licence and a change of "
    "co-owners need every co-owner's consent."
), no_args_is_help=True)

AssetIdArg = Annotated[int, typer.Argument(min=1, help="The asset id.")]
ActArg = Annotated[str, typer.Argument(help=(
    "The act: pledge, transfer, license, sale, offer-acceptance, share-transfer, co-owners-change, "
    "license-listing."))]
CoOwnerOption = Annotated[
    list[str] | None, typer.Option("--co-owner", help="A co-owner as ADDRESS:BPS (basis points; repeatable).")
]
AgreementOption = Annotated[
    list[str] | None, typer.Option("--agreement", help="A rule of the co-owners' agreement: free-share-transfer "
                                   "or unanimous-licensing (repeatable).")
]
AgreementHashOption = Annotated[
    str | None, typer.Option("--agreement-hash", help="SHA-256 (0x...) of the co-owners' agreement.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(coowners_app, name="coowners")


def shares_of(items: list[str] | None) -> list[tuple[str, int]]:
    """The ``--co-owner ADDRESS:BPS`` options, checked (ValidationError before any chain is touched)."""
    return check_shares([parse_share(item) for item in items or []])


def _spec(opened: Ledger, options: dict[str, Any]) -> dict[str, Any]:
    """The service's act description from the command's options (a price in tokens becomes units)."""
    from ledger.market.service import Amount

    options = dict(options)
    for name, what in (("contract", "the contract"), ("terms", "the terms")):  # a file is hashed as the registry's
        digest = _hash_option(options.pop(f"{name}_hash", None), options.pop(f"{name}_file", None), what)
        options[f"{name}_hash"] = None if digest is None else "0x" + digest.hex()
    spec = {k: v for k, v in options.items() if v is not None}
    spec["license_kind"] = spec.pop("kind", None)
    spec["offer_id"] = spec.pop("offer", None)
    if "co_owner" in spec:
        spec["co_owners"] = [parse_share(item) for item in spec.pop("co_owner")]
    if spec.get("giver") is None and opened.client.account is not None:
        spec["giver"] = opened.client.account.address  # a share transfer gives the acting co-owner's share
    if "price" in spec or "expiry" in spec:
        token = parse_address(spec["token"], "the token") if spec.get("token") else opened.market.token().address
        spec["token"] = token
        if "price" in spec:
            spec["price"] = opened.market.token(token).units(Amount.parse(spec["price"], "the price"), "the price")
    return spec


def _act_options(
    to: Annotated[str | None, typer.Option("--to", help="The recipient, licensee or pledgee.")] = None,
    principal: Annotated[str | None, typer.Option("--principal", help="A pledge's principal (integer).")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="A pledge's currency (ISO 4217).")] = None,
    maturity: Annotated[str | None, typer.Option("--maturity", help="A pledge's maturity (a date).")] = None,
    contract_hash: Annotated[str | None, typer.Option("--contract-hash", help="SHA-256 of the loan contract.")]
    = None,
    contract_file: Annotated[Path | None, typer.Option(
        "--contract-file", help="A pledge's loan contract: its SHA-256 is the contract hash.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="A licence's kind.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="A licence's start (a date).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="A licence's end (a date).")] = None,
    territory: Annotated[str | None, typer.Option("--territory", help="A licence's territory.")] = None,
    field: Annotated[str | None, typer.Option("--field", help="A licence's field of use.")] = None,
    fee: Annotated[str | None, typer.Option("--fee", help="A licence's fee (integer).")] = None,
    terms_hash: Annotated[str | None, typer.Option("--terms-hash", help="SHA-256 of the licence contract.")]
    = None,
    terms_file: Annotated[Path | None, typer.Option(
        "--terms-file", help="A licence's contract: its SHA-256 is the terms hash.")] = None,
    price: Annotated[str | None, typer.Option("--price", help="A sale's or listing's price in tokens.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="The ERC-20 (default: the settlement token).")]
    = None,
    expiry: Annotated[str | None, typer.Option("--expiry", help="A listing's expiry (a date).")] = None,
    buyer: Annotated[str | None, typer.Option("--buyer", help="A sale reserved for this buyer.")] = None,
    supply: Annotated[int | None, typer.Option("--supply", help="How many licences a listing sells.")] = None,
    offer: Annotated[int | None, typer.Option("--offer", help="The offer id to accept.")] = None,
    bps: Annotated[int | None, typer.Option("--bps", help="Basis points of a share transfer.")] = None,
    giver: Annotated[str | None, typer.Option("--from", help="The co-owner giving a share (default: you).")]
    = None,
    co_owner: CoOwnerOption = None,
    agreement: AgreementOption = None,
    agreement_hash: AgreementHashOption = None,
) -> dict[str, Any]:
    return dict(locals())


def _resolve_act(opened: Ledger, asset_id: int, act: str, act_id: str | None, options: dict[str, Any]) -> str:
    if act_id:
        return act_id
    if not act:
        raise ValidationError("name the act (e.g. pledge) with its options, or give --act-id")
    kind = CoOwnerAct.parse(act)
    params = opened.coowners.act_params(kind, _spec(opened, options))
    return opened.coowners.act_id(asset_id, kind, *params)


def _with_act_options(function: Callable[..., None]) -> Callable[..., None]:
    """``function(asset_id, act, act_id, as_json, options)`` as a Typer command that also takes every
    option of :func:`_act_options` (Typer reads the signature; the options arrive as one dict)."""
    hints = get_type_hints(_act_options, include_extras=True)
    option_params = [p.replace(annotation=hints[p.name]) for p in inspect.signature(_act_options).parameters.values()]
    own = get_type_hints(function, include_extras=True)
    base = [p.replace(annotation=own[p.name]) for p in inspect.signature(function).parameters.values()
            if p.name != "options"]
    names = {p.name for p in option_params}

    @functools.wraps(function)
    def command(**kwargs: Any) -> None:
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        function(**kwargs, options=options)

    command.__signature__ = inspect.Signature(base + option_params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in base + option_params}
    return command


ActIdOption = Annotated[str | None, typer.Option("--act-id", help="The act's id (0x...), instead of its options.")]


# -- commands ----------------------------------------------------------------------------------------


@coowners_app.command("show")
def show(asset_id: AssetIdArg, as_json: JsonOption = False) -> None:
    """The co-owners of an asset, their shares and agreement, and the vault that holds it for them."""
    with shell.ledger(need_account=False) as opened:
        co = opened.coowners.co_owners_of(asset_id)
    if as_json:
        shell.print_json(co.as_json())
        return
    rows = [("asset", str(asset_id)), ("held by", f"{co.vault} (the co-ownership vault)" if co.held
                                        else f"{co.vault} (no longer holds it)")]
    rows += [(f"co-owner {n}", f"{a}  {bps / 100:g} %") for n, (a, bps) in enumerate(co.shares, 1)]
    rows += [("agreement", ", ".join(co.as_json()["agreement"]) or "the defaults"),
             ("agreement hash", co.agreement_hash), ("epoch", str(co.epoch))]
    _facts(rows)


def consent(asset_id: AssetIdArg, act: ActArg = "", act_id: ActIdOption = None, as_json: JsonOption = False,
            options: dict[str, Any] | None = None) -> None:
    """Consent to one act that needs every co-owner, on its exact terms; withdrawable until used."""
    with shell.ledger() as opened:
        key = _resolve_act(opened, asset_id, act, act_id, options or {})
        result = opened.coowners.consent(asset_id, key)
    _done(f"Consented to act {key} of asset {asset_id}", result, as_json, act_id=key)


def withdraw_consent(asset_id: AssetIdArg, act: ActArg = "", act_id: ActIdOption = None,
                     as_json: JsonOption = False, options: dict[str, Any] | None = None) -> None:
    """Withdraw your unused consent to an act."""
    with shell.ledger() as opened:
        key = _resolve_act(opened, asset_id, act, act_id, options or {})
        result = opened.coowners.withdraw_consent(asset_id, key)
    _done(f"Withdrew your consent to act {key} of asset {asset_id}", result, as_json, act_id=key)


def status(asset_id: AssetIdArg, act: ActArg = "", act_id: ActIdOption = None, as_json: JsonOption = False,
           options: dict[str, Any] | None = None) -> None:
    """Who has consented to an act (unused), and who not yet."""
    with shell.ledger(need_account=False) as opened:
        key = _resolve_act(opened, asset_id, act, act_id, options or {})
        consents = opened.coowners.consents(asset_id, key)
    if as_json:
        shell.print_json(consents.as_json())
        return
    _facts([("act", consents.act_id), ("consented", ", ".join(consents.given) or "nobody yet"),
            ("not yet", ", ".join(consents.missing) or "nobody: every co-owner consented")])


def perform(asset_id: AssetIdArg, act: ActArg = "", as_json: JsonOption = False,
            options: dict[str, Any] | None = None) -> None:
    """Perform an act on the co-owned asset as one co-owner (the others' consents are used up)."""
    kind = CoOwnerAct.parse(act)
    with shell.ledger() as opened:
        service = opened.coowners
        spec = _spec(opened, options or {})
        call = service.act_call(asset_id, kind, spec)
        fn = getattr(service.contract.functions, call.function)
        params = (asset_id, *service.act_params(kind, spec))
        if kind == CoOwnerAct.SHARE_TRANSFER:
            params = (asset_id, *params[2:])  # the giver is the sender
        result = service.perform(fn(*params), kind, asset_id=asset_id)
    _done(f"Asset {asset_id}: {kind.label} done", result, as_json)


coowners_app.command("consent")(_with_act_options(consent))
coowners_app.command("withdraw-consent")(_with_act_options(withdraw_consent))
coowners_app.command("status")(_with_act_options(status))
coowners_app.command("act")(_with_act_options(perform))


@coowners_app.command("distribute")
def distribute(
    asset_id: AssetIdArg,
    token: Annotated[str | None, typer.Option("--token", help="The ERC-20 (default: the settlement token).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Credit the co-owners, by share, with the proceeds the asset's vault received (anyone may)."""
    with shell.ledger() as opened:
        address = parse_address(token, "the token") if token else opened.market.token().address
        result = opened.coowners.distribute(asset_id, address)
    _done(f"Distributed the proceeds of asset {asset_id}", result, as_json)


@coowners_app.command("withdraw")
def withdraw(
    token: Annotated[str | None, typer.Option("--token", help="The ERC-20 (default: the settlement token).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw your credited share of co-owned assets' proceeds."""
    with shell.ledger() as opened:
        address = parse_address(token, "the token") if token else opened.market.token().address
        result = opened.coowners.withdraw(address)
    _done("Withdrew your proceeds", result, as_json)
