"""``ipledger asset|license|pledge|role ...`` and ``ipledger check``: the registry from the command line.

Each command parses and checks its input first (bad input exits 2 before any chain is
touched), opens the ledger, calls one service and renders the result: a sentence or a Rich
table, or JSON with ``--json``. A contract's refusal is printed as its sentence (exit 1) by
``ledger.cli.main``; nothing here catches errors.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ledger.chain.abi import Act
from ledger.cli import shell
from ledger.encoding import (
    AssetKind,
    DisputeKind,
    DisputeOutcome,
    LegalStatus,
    LicenseKind,
    day,
    encode_case_ref,
    encode_currency,
    encode_filing_no,
    encode_ref,
    iso,
    parse_address,
    parse_amount,
    parse_date,
    parse_hash32,
    parse_role,
)
from ledger.errors import ConflictError, LedgerError, NotFoundError, ValidationError
from ledger.sealing.format import Record
from ledger.settings import get_settings
from ledger.timestamps.proofs import file_digest

if TYPE_CHECKING:
    from ledger.client.api import ApiClient

asset_app = typer.Typer(help="Register, show and transfer IP assets; the registrar's acts on them.",
                        no_args_is_help=True)
license_app = typer.Typer(help="Offer, accept, terminate, record and list licenses.", no_args_is_help=True)
pledge_app = typer.Typer(help="Propose, accept, release and enforce pledges; the pledgee's consents.",
                         no_args_is_help=True)
dispute_app = typer.Typer(help=(
    "Disputes over assets recorded by the registrar (the IP service centre, for a court's order or the office's "
    "file): open, resolve, list. An open dispute of ownership stops every transfer of the asset and new pledges."
), no_args_is_help=True)
role_app = typer.Typer(help=(
    "The registry's roles. admin (DEFAULT_ADMIN_ROLE): governance, grants and revokes the other two. "
    "registrar (REGISTRAR_ROLE): the IP service centre: verification, legal status, dates, court freezes, "
    "license filings. pledgee (PLEDGEE_ROLE): an accredited bank; a pledge is proposed to and accepted by one."
), no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AssetArg = Annotated[str, typer.Argument(help="The asset id, or its official number (e.g. CN202010123456.7).")]
AssetIdArg = Annotated[int, typer.Argument(min=1, help="The asset id.")]
LicenseIdArg = Annotated[int, typer.Argument(min=1, help="The license id.")]
PledgeIdArg = Annotated[int, typer.Argument(min=1, help="The pledge id.")]
ReasonOption = Annotated[
    str | None, typer.Option("--reason-hash", help="SHA-256 (0x...) of the order or reason document.")
]
ReasonFileOption = Annotated[
    Path | None, typer.Option("--reason-file", help="The order or reason document (its SHA-256 goes on chain).")
]


def register(app: typer.Typer) -> None:
    """Add the registry's commands and the global ``--account`` option to the ``ipledger`` app."""
    app.callback()(global_options)
    app.add_typer(asset_app, name="asset")
    app.add_typer(license_app, name="license")
    app.add_typer(pledge_app, name="pledge")
    app.add_typer(role_app, name="role")
    app.add_typer(dispute_app, name="dispute")
    app.command("check")(check)


def global_options(
    account: Annotated[
        str | None,
        typer.Option("--account", "-a", help="Act as this keystore account (name or address); "
                     "default IPLEDGER_ACCOUNT, or the only keystore."),
    ] = None,
    dev_account: Annotated[
        int | None,
        typer.Option("--dev-account", min=0, max=9, envvar="IPLEDGER_DEV_ACCOUNT",
                     help="Act as Anvil's public development account N (0-9), on the embedded chain or a local "
                          "Anvil only. Account 0 deployed the embedded chain's contracts: it is the admin and "
                          "the registrar (the IP service centre) there, e.g. `--dev-account 0 role grant pledgee "
                          "0xBANK`."),
    ] = None,
) -> None:
    if account:
        os.environ["IPLEDGER_ACCOUNT"] = account
    if dev_account is not None:
        os.environ["IPLEDGER_DEV_ACCOUNT"] = str(dev_account)
    get_settings.cache_clear()


# -- rendering ---------------------------------------------------------------------------------------


def _done(what: str, result: Act, as_json: bool, **extra: Any) -> None:
    if as_json:
        shell.print_json({**result.as_json(), **extra})
        return
    shell.out.print(f"{what} (block {result.block_number}, tx {result.tx_hash}).", highlight=False)


SealApiOption = Annotated[str | None, typer.Option(
    "--api", envvar="IPLEDGER_API_URL",
    help="Also store the sealed file on this ipledger API (ciphertext only), where its recipients list and open "
         "it (`ipledger sealed list --api`, the bank check page). The act itself is sent to the chain as always.")]


def _sealed_store(api: str | None, opened: Any) -> ApiClient | None:
    """The API that will store a sealed file, checked before any act: it answers, and serves this ledger (its
    IPRegistry is ours), so its recipients find the document beside the records it names."""
    if api is None:
        return None
    from ledger.client.api import ApiClient

    client = ApiClient(api)
    theirs = client.chain()
    ours = opened.contract("IPRegistry").address
    if int(theirs["chain_id"]) != opened.client.chain_id or client.address("IPRegistry").lower() != ours.lower():
        raise ValidationError(f"the API at {api} serves another ledger (chain {theirs['chain_id']}, IPRegistry "
                              f"{client.address('IPRegistry')}; here: chain {opened.client.chain_id}, {ours}): "
                              "the sealed file would not be found beside its record")
    return client


def _seal_recorded(opened: Any, file: Path, to: list[str], record: Record, sealer: str, digest: str,
                   store: ApiClient | None = None) -> dict[str, Any]:
    """Seal a file the ledger just recorded beside it, and store it on ``store`` (an API): ``sealed_file`` and
    ``sealed_id`` (None where not done). A recipient without a usable key is a note, not a failure: the act
    stands; so does a failed upload, but that exits 3 with the command that retries it."""
    unique = list({parse_address(a, "the recipient"): None for a in to})  # the bank named twice is one entry
    sealed, reason = opened.sealing.seal_record_file(file, unique, record, sealer, known_sha256=digest)
    if sealed is None:
        shell.err.print(f"[yellow]note:[/yellow] {file} was not sealed: {reason}", highlight=False)
        return {"sealed_file": None, "sealed_id": None}
    shell.err.print(f"Sealed {file} to {', '.join(r.address for r in sealed.recipients)} -> {sealed.path}",
                    highlight=False)
    done: dict[str, Any] = {"sealed_file": str(sealed.path), "sealed_id": None}
    if store is not None:
        try:
            done["sealed_id"] = store.upload_sealed(sealed.path)["sealed_id"]
        except LedgerError as exc:
            done["upload_error"] = exc.message
            shell.err.print(f"[red]error:[/red] {sealed.path} was not stored on {store.base_url}: {exc.message}; "
                            f"store it with `ipledger sealed upload {sealed.path} --api {store.base_url}`",
                            highlight=False)
        else:
            shell.err.print(f"Stored on {store.base_url} as {done['sealed_id']}", highlight=False)
    return done


def _check_sealable(opened: Any, file: Path, to: list[str]) -> None:
    """Before an act whose file the user asked to seal (``asset register --seal-to``): every recipient (the owner
    too) has a usable published key, else refused with nothing sent and nothing written (exit 1: the ledger's
    state), as the register page does."""
    try:
        opened.sealing.recipients(to)
    except (NotFoundError, ConflictError) as exc:
        raise ConflictError(f"nothing registered: {file} cannot be sealed as --seal-to asks: {exc.message}") from None


def _after_upload(sealing: dict[str, Any]) -> None:
    """Exit 3 (the API did not take it) once the act's result is printed, if the sealed file's upload failed."""
    if sealing.get("upload_error"):
        raise typer.Exit(3)


def _hash_option(text: str | None, path: Path | None, what: str) -> bytes | None:
    if text is not None and path is not None:
        raise ValidationError(f"give {what} as a hash or as a file, not both")
    if path is not None:
        return file_digest(path)
    return parse_hash32(text, what) if text is not None else None


def _facts(rows: list[tuple[str, str]]) -> None:
    """``label  value`` lines; values are never cut (hashes and addresses stay whole)."""
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        shell.out.print(f"[bold]{label.ljust(width)}[/bold]  {value}", highlight=False)


def _yes(value: bool) -> str:
    return "[green]yes[/green]" if value else "[red]no[/red]"


# -- assets ------------------------------------------------------------------------------------------


@asset_app.command("register")
def asset_register(
    kind: Annotated[str, typer.Option("--kind", help=f"The kind of IP, one of: {', '.join(AssetKind.labels())}.")],
    file: Annotated[Path, typer.Option("--file", help="The protected content (claims, code...): its SHA-256 "
                                                      "goes on chain, the file stays here.")],
    title: Annotated[str, typer.Option("--title", help="The title, for the metadata document.")],
    ref: Annotated[str | None, typer.Option("--ref", help="The official number, e.g. CN202010123456.7.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="A description (public).")] = None,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", help="More metadata as KEY=VALUE (repeatable).")
    ] = None,
    uri: Annotated[
        str | None, typer.Option("--uri", help="Where the metadata document is published (default: the API path).")
    ] = None,
    seal_to: Annotated[list[str] | None, typer.Option(
        "--seal-to", help="Also seal the full document (FILE.sealed, docs/sealed-format.md) to you and this "
                          "account (repeatable), e.g. a bank; it opens only as the registered content. Each of "
                          "you must have published an encryption key (`ipledger keys publish`): checked first, "
                          "else nothing is registered (exit 1).")] = None,
    api: SealApiOption = None,
    co_owner: Annotated[
        list[str] | None, typer.Option("--co-owner", help=(
            "Register it co-owned: a co-owner as ADDRESS:BPS (basis points, 10,000 in all; repeatable). "
            "The asset is then held by its co-ownership vault (see `ipledger coowners`)."))
    ] = None,
    agreement: Annotated[
        list[str] | None, typer.Option("--agreement", help="With --co-owner: a rule of the co-owners' agreement "
                                       "(free-share-transfer, unanimous-licensing; repeatable).")
    ] = None,
    agreement_hash: Annotated[
        str | None, typer.Option("--agreement-hash", help="With --co-owner: SHA-256 (0x...) of the agreement.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Register an asset: content hash, kind, official number and a metadata document (kept off chain);
    with --co-owner, co-owned with shares."""
    asset_kind = AssetKind.parse(kind)
    encode_ref(ref)
    extra: dict[str, Any] = {}
    for item in meta or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--meta takes KEY=VALUE, got {item!r}")
        extra[key.strip()] = value
    if not file.is_file():
        raise ValidationError(f"no such file: {file}")
    from ledger.registry.coowners import check_shares, parse_flags, parse_share

    shares = check_shares([parse_share(item) for item in co_owner]) if co_owner else None
    if shares is None and (agreement or agreement_hash):
        raise ValidationError("--agreement and --agreement-hash go with --co-owner")
    flags = parse_flags(agreement)
    recipients = [parse_address(a, "the recipient") for a in seal_to or []]  # a mistyped one: exit 2, nothing done
    sealing: dict[str, Any] = {}
    with shell.ledger() as opened:
        store = _sealed_store(api, opened) if seal_to else None
        if seal_to:
            _check_sealable(opened, file, [opened.client.signer().address, *recipients])
        if shares is None:
            registered = opened.assets.register_file(
                file, asset_kind, ref, title, description=description, extra=extra, uri=uri)
        else:
            registered = opened.coowners.register_file(
                file, asset_kind, ref, title, shares, description=description, extra=extra, uri=uri,
                agreement_hash=parse_hash32(agreement_hash, "the agreement hash") if agreement_hash else None,
                flags=flags)
        if seal_to:
            owner = opened.client.signer().address
            sealing = _seal_recorded(opened, file, [owner, *seal_to], Record("asset", registered.asset_id), owner,
                                     registered.content_hash, store)
    if as_json:
        shell.print_json({"asset_id": registered.asset_id, **registered.as_json(), **sealing})
        _after_upload(sealing)
        return
    shell.out.print(
        f"Registered asset {registered.asset_id} ({asset_kind.label}{', ' + ref.upper() if ref else ''}) "
        f"in block {registered.block_number}, tx {registered.tx_hash}.", highlight=False)
    shell.out.print(f"  content {registered.content_hash}\n  metadata {registered.metadata_hash} "
                    f"({registered.uri})", highlight=False)
    if shares:
        shell.out.print("  co-owned: " + ", ".join(f"{a} {bps / 100:g} %" for a, bps in shares), highlight=False)
    _after_upload(sealing)


@asset_app.command("show")
def asset_show(asset: AssetArg, as_json: JsonOption = False) -> None:
    """Show an asset: owner, kind, official number, legal status, verification, dates, freeze."""
    with shell.ledger(need_account=False) as opened:
        view = opened.assets.show(opened.assets.resolve(asset))
    if as_json:
        shell.print_json(view.as_json())
        return
    a, reg = view.asset, view.registration
    _facts([
        ("asset", f"{a.asset_id}" + (f"  {view.title}" if view.title else "")),
        ("official number", reg.ref if reg and reg.ref else "(none)"),
        ("kind", a.kind.label),
        ("owner", a.owner),
        ("legal status", a.status.label),
        ("verified", _yes(a.verified)),
        ("expires", day(a.expires_at) if a.expires_at else "not known"),
        ("fees paid until", day(a.fees_paid_until) if a.fees_paid_until else "not known"),
        ("frozen", f"[red]until {day(view.freeze.until)}[/red] by {view.freeze.court}, case {view.freeze.case_number}"
         if view.frozen and view.freeze else "no"),
        *([("content hash", reg.content_hash), ("metadata", f"{reg.metadata_hash} ({reg.uri})"),
           ("registered", f"block {reg.block_number}, tx {reg.tx_hash}")] if reg else []),
    ])


@asset_app.command("list")
def asset_list(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """List registered assets, oldest first."""
    with shell.ledger(need_account=False) as opened:
        views, count = opened.assets.page(offset, limit)
    if as_json:
        shell.print_json({"data": [v.as_json() for v in views], "count": count})
        return
    table = Table("id", "kind", "official number", "owner", "status", "verified", "title")
    for column in table.columns:
        column.overflow = "fold"
    for v in views:
        table.add_row(str(v.asset.asset_id), v.asset.kind.label, v.registration.ref if v.registration else "",
                      v.asset.owner, v.asset.status.label, "yes" if v.asset.verified else "no", v.title or "")
    shell.out.print(table if views else "No assets.")
    shell.out.print(f"{len(views)} of {count} assets.")


@asset_app.command("transfer")
def asset_transfer(
    asset_id: AssetIdArg,
    to: Annotated[str, typer.Argument(help="The new owner's address.")],
    as_json: JsonOption = False,
) -> None:
    """Transfer your asset (refused while it is frozen, or pledged without the pledgee's consent)."""
    recipient = parse_address(to, "the recipient")
    with shell.ledger() as opened:
        result = opened.assets.transfer(asset_id, recipient)
    _done(f"Transferred asset {asset_id} to {recipient}", result, as_json)


@asset_app.command("verify")
def asset_verify(
    asset_id: AssetIdArg,
    verified: Annotated[bool, typer.Option("--verified/--unverified", help="Mark reconciled, or clear the mark.")]
    = True,
    as_json: JsonOption = False,
) -> None:
    """Mark an asset reconciled with the official record (registrar)."""
    with shell.ledger() as opened:
        result = opened.assets.set_verified(asset_id, verified)
    _done(f"Asset {asset_id} is {'verified' if verified else 'no longer verified'}", result, as_json)


@asset_app.command("status")
def asset_status(
    asset_id: AssetIdArg,
    status: Annotated[str, typer.Argument(help=f"The legal status, one of: {', '.join(LegalStatus.labels())}.")],
    as_json: JsonOption = False,
) -> None:
    """Set an asset's legal status as in the official register (registrar)."""
    legal = LegalStatus.parse(status)
    with shell.ledger() as opened:
        result = opened.assets.set_legal_status(asset_id, legal)
    _done(f"Asset {asset_id} is {legal.label}", result, as_json)


@asset_app.command("dates")
def asset_dates(
    asset_id: AssetIdArg,
    expires: Annotated[str | None, typer.Option("--expires", help="Expiry date (2040-01-01; 0: not known).")] = None,
    fees_paid_until: Annotated[
        str | None, typer.Option("--fees-paid-until", help="Annual fees paid until (2026-12-31; 0: not known).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Set an asset's expiry date and annual-fees-paid-until date (registrar); an omitted one is kept."""
    if expires is None and fees_paid_until is None:
        raise ValidationError("give --expires, --fees-paid-until or both")
    new_expiry = parse_date(expires, "the expiry date") if expires is not None else None
    new_fees = parse_date(fees_paid_until, "the fees-paid-until date") if fees_paid_until is not None else None
    with shell.ledger() as opened:
        current = opened.assets.asset_of(asset_id)
        expiry = current.expires_at if new_expiry is None else new_expiry
        fees = current.fees_paid_until if new_fees is None else new_fees
        result = opened.assets.set_dates(asset_id, expiry, fees)
    _done(f"Asset {asset_id} expires {day(expiry)}, fees paid until {day(fees)}", result, as_json)


@asset_app.command("freeze")
def asset_freeze(
    asset_id: AssetIdArg,
    court: Annotated[str, typer.Option("--court", help="The court that ordered the freeze.")],
    case: Annotated[str, typer.Option("--case", help="The case number.")],
    until: Annotated[str, typer.Option("--until", help="End of the freeze's term (it lapses by itself then).")],
    reason_hash: ReasonOption = None,
    reason_file: ReasonFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a court freeze (registrar): no transfer, license or pledge until it ends."""
    end = parse_date(until, "the end of the freeze", allow_zero=False)
    reason = _hash_option(reason_hash, reason_file, "the reason")
    if not court.strip() or not case.strip():
        raise ValidationError("a court order must name its court and case number")
    with shell.ledger() as opened:
        result = opened.assets.freeze(asset_id, court, case, reason, end)
    _done(f"Asset {asset_id} is frozen until {day(end)}", result, as_json)


@asset_app.command("renew-freeze")
def asset_renew_freeze(
    asset_id: AssetIdArg,
    until: Annotated[str, typer.Option("--until", help="The new end of the freeze.")],
    as_json: JsonOption = False,
) -> None:
    """Extend an asset's current freeze (registrar)."""
    end = parse_date(until, "the new end", allow_zero=False)
    with shell.ledger() as opened:
        result = opened.assets.renew_freeze(asset_id, end)
    _done(f"Asset {asset_id} stays frozen until {day(end)}", result, as_json)


@asset_app.command("unfreeze")
def asset_unfreeze(
    asset_id: AssetIdArg, reason_hash: ReasonOption = None, reason_file: ReasonFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lift an asset's freeze before its term (registrar), citing the lifting order."""
    reason = _hash_option(reason_hash, reason_file, "the reason")
    with shell.ledger() as opened:
        result = opened.assets.unfreeze(asset_id, reason)
    _done(f"Asset {asset_id} is no longer frozen", result, as_json)


@asset_app.command("unbind-ref")
def asset_unbind_ref(
    ref: Annotated[str, typer.Argument(help="The squatted official number, e.g. CN202010123456.7.")],
    reason_hash: ReasonOption = None, reason_file: ReasonFileOption = None, as_json: JsonOption = False,
) -> None:
    """Free an official number registered by someone who does not hold it (registrar), after checking the
    official register: the real holder can then register it; the squatter's asset is marked "not the
    official holder", a red flag in every bank check."""
    reason = _hash_option(reason_hash, reason_file, "the reason")
    with shell.ledger() as opened:
        result = opened.assets.unbind_ref(ref, reason)
    _done(f"Official number {ref.strip().upper()} is free again; asset {result.ids.get('assetId')} is marked "
          "not the official holder", result, as_json)


@asset_app.command("unbind-content")
def asset_unbind_content(
    content_hash: Annotated[str, typer.Argument(help="The squatted content hash (0x...).")],
    reason_hash: ReasonOption = None, reason_file: ReasonFileOption = None, as_json: JsonOption = False,
) -> None:
    """Free a content hash registered by someone who does not hold it (registrar); the asset is marked."""
    content = parse_hash32(content_hash, "the content hash")
    reason = _hash_option(reason_hash, reason_file, "the reason")
    with shell.ledger() as opened:
        result = opened.assets.unbind_content(content, reason)
    _done(f"Content {content_hash} is free again; asset {result.ids.get('assetId')} is marked not the official "
          "holder", result, as_json)


@asset_app.command("dispute-holder")
def asset_dispute_holder(
    asset_id: AssetIdArg,
    clear: Annotated[bool, typer.Option("--clear", help="Clear the mark instead.")] = False,
    reason_hash: ReasonOption = None, reason_file: ReasonFileOption = None, as_json: JsonOption = False,
) -> None:
    """Mark an asset as registered by someone who is not the official holder (registrar); --clear lifts it."""
    reason = _hash_option(reason_hash, reason_file, "the reason")
    with shell.ledger() as opened:
        result = opened.assets.set_holder_disputed(asset_id, not clear, reason)
    _done(f"Asset {asset_id} is {'no longer ' if clear else ''}marked not the official holder", result, as_json)


@asset_app.command("parent")
def asset_parent(
    asset_id: AssetIdArg,
    parent: Annotated[int | None, typer.Argument(min=1, help="The parent asset's id (registered before this one); "
                                                             "leave out to show the asset's parent and children.")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Name your asset's parent, once (a divisional or continuation application's original, a software
    version's predecessor); without PARENT, show the asset's parent and the assets naming it as theirs."""
    if parent is None:
        with shell.ledger(need_account=False) as opened:
            opened.assets.asset_of(asset_id)
            lineage = opened.disputes.lineage(asset_id)
        if as_json:
            shell.print_json(lineage.as_json())
            return
        _facts([("asset", str(asset_id)), ("parent", str(lineage.parent_id) if lineage.parent_id else "(none)"),
                ("children", ", ".join(map(str, lineage.children)) or "(none)")])
        return
    with shell.ledger() as opened:
        result = opened.disputes.set_parent(asset_id, parent)
    _done(f"Asset {asset_id} names asset {parent} as its parent", result, as_json)


# -- disputes ----------------------------------------------------------------------------------------


DisputeIdArg = Annotated[int, typer.Argument(min=1, help="The dispute id.")]


@dispute_app.command("open")
def dispute_open(
    asset_id: AssetIdArg,
    kind: Annotated[str, typer.Option("--kind", help="ownership, invalidation-request, infringement-suit or other.")],
    case: Annotated[str, typer.Option("--case", help="The case or file number (ASCII, e.g. (2025)JING73MINCHU1).")],
    evidence_hash: Annotated[str | None, typer.Option("--evidence-hash", help="SHA-256 (0x...) of the filing.")]
    = None,
    evidence_file: Annotated[Path | None, typer.Option("--evidence-file", help="The filing (its SHA-256 goes on "
                                                                                "chain).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a dispute over an asset (registrar). One of ownership stops every transfer and new pledges
    until it is resolved."""
    parsed = DisputeKind.parse(kind)
    encode_case_ref(case)
    evidence = _hash_option(evidence_hash, evidence_file, "the evidence")
    with shell.ledger() as opened:
        result = opened.disputes.open_dispute(asset_id, parsed, case, evidence)
    _done(f"Dispute {result.ids.get('disputeId')} ({parsed.label}) is open over asset {asset_id}", result, as_json)


@dispute_app.command("resolve")
def dispute_resolve(
    dispute_id: DisputeIdArg,
    outcome: Annotated[str, typer.Option("--outcome", help="upheld, dismissed, settled or withdrawn.")],
    decision_hash: Annotated[str | None, typer.Option("--decision-hash", help="SHA-256 (0x...) of the decision.")]
    = None,
    decision_file: Annotated[Path | None, typer.Option("--decision-file", help="The decision (its SHA-256 goes on "
                                                                                "chain).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record how a dispute ended (registrar)."""
    parsed = DisputeOutcome.parse(outcome, allowed=[o for o in DisputeOutcome if o != DisputeOutcome.OPEN])
    if parsed == DisputeOutcome.OPEN:
        raise ValidationError("a resolution says how the dispute ended: upheld, dismissed, settled or withdrawn")
    decision = _hash_option(decision_hash, decision_file, "the decision")
    with shell.ledger() as opened:
        result = opened.disputes.resolve_dispute(dispute_id, parsed, decision)
    _done(f"Dispute {dispute_id} is resolved: {parsed.label}", result, as_json)


def _dispute_table(disputes: list[Any]) -> Table:
    table = Table("id", "asset", "kind", "outcome", "case", "opened", "resolved", "evidence hash")
    for column in table.columns:
        column.overflow = "fold"
    for d in disputes:
        outcome = f"[red]{d.outcome.label}[/red]" if d.blocks_moves else d.outcome.label
        table.add_row(str(d.dispute_id), str(d.asset_id), d.kind.label, outcome, d.ref, day(d.opened_at),
                      day(d.resolved_at) if d.resolved_at else "", d.evidence_hash)
    return table


@dispute_app.command("list")
def dispute_list(asset: AssetArg, as_json: JsonOption = False) -> None:
    """The disputes over an asset that are open now."""
    with shell.ledger(need_account=False) as opened:
        found = opened.disputes.open_disputes_of(opened.assets.resolve(asset))
    if as_json:
        shell.print_json({"data": [d.as_json() for d in found], "count": len(found)})
        return
    shell.out.print(_dispute_table(found) if found else "No open disputes.")


@dispute_app.command("show")
def dispute_show(dispute_id: DisputeIdArg, as_json: JsonOption = False) -> None:
    """One dispute, open or resolved."""
    with shell.ledger(need_account=False) as opened:
        found = opened.disputes.dispute_of(dispute_id)
    if as_json:
        shell.print_json(found.as_json())
        return
    shell.out.print(_dispute_table([found]))
    if not found.open:
        shell.out.print(f"decision hash: {found.resolution_hash}", highlight=False)


# -- licenses ----------------------------------------------------------------------------------------


@license_app.command("offer")
def license_offer(
    asset_id: AssetIdArg,
    to: Annotated[str, typer.Option("--to", help="The licensee's address.")],
    kind: Annotated[str, typer.Option("--kind", help=f"The license kind, one of: {', '.join(LicenseKind.labels())} "
                                      "(exclusive and sole licenses may not overlap others).")],
    end: Annotated[str, typer.Option("--end", help="End of the term (exclusive), e.g. 2030-12-31.")],
    start: Annotated[str | None, typer.Option("--start", help="Start of the term (default: now).")] = None,
    territory: Annotated[str, typer.Option("--territory", help=(
        "A country (CN; also CHN, 156, cn or China) or an ISO 3166-2 subdivision (CN-BJ); "
        "default, WW or *: the whole world."))] = "",
    field: Annotated[str, typer.Option("--field", help=(
        "An IPC section, class, subclass or main group of the field of use (H, H04, H04L, H04L9/00); "
        "default: every field."))] = "",
    fee: Annotated[str, typer.Option("--fee", help="The fee in token units (an integer).")] = "0",
    terms_hash: Annotated[str | None, typer.Option("--terms-hash", help="SHA-256 (0x...) of the contract.")] = None,
    terms_file: Annotated[Path | None, typer.Option("--terms-file", help="The license contract (hashed).")] = None,
    sublicensable: Annotated[bool, typer.Option("--sublicensable", help="Allow sublicensing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Offer a license of your asset; it is active once the licensee accepts."""
    from ledger.registry.licenses import LicenseTerms

    terms = LicenseTerms(
        licensee=parse_address(to, "the licensee"), kind=LicenseKind.parse(kind),
        start=parse_date(start, "the start") if start else int(time.time()),
        end=parse_date(end, "the end", allow_zero=False), territory=territory, field_of_use=field,
        terms_hash="0x" + (_hash_option(terms_hash, terms_file, "the terms") or bytes(32)).hex(),
        fee=parse_amount(fee, "the fee"), sublicensable=sublicensable,
    )
    terms.encode()
    with shell.ledger() as opened:
        result = opened.licenses.offer(asset_id, terms)
    _done(f"Offered license {result.ids['licenseId']} of asset {asset_id} to {terms.licensee}", result, as_json)


@license_app.command("accept")
def license_accept(license_id: LicenseIdArg, as_json: JsonOption = False) -> None:
    """Accept a license offered to you: it is active from now on."""
    with shell.ledger() as opened:
        result = opened.licenses.accept(license_id)
    _done(f"License {license_id} is active", result, as_json)


@license_app.command("terminate")
def license_terminate(
    license_id: LicenseIdArg, reason_hash: ReasonOption = None, reason_file: ReasonFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """End a license, or withdraw/decline an offer (the asset's owner or the licensee)."""
    reason = _hash_option(reason_hash, reason_file, "the reason")
    with shell.ledger() as opened:
        result = opened.licenses.terminate(license_id, reason)
    _done(f"License {license_id} is terminated", result, as_json)


@license_app.command("record")
def license_record(
    license_id: LicenseIdArg,
    filing_no: Annotated[str, typer.Argument(help="The filing (备案) number.")],
    as_json: JsonOption = False,
) -> None:
    """Record the filing number of an active license (registrar)."""
    encode_filing_no(filing_no)
    with shell.ledger() as opened:
        result = opened.licenses.record_filing(license_id, filing_no)
    _done(f"License {license_id} is recorded as {filing_no.strip().upper()}", result, as_json)


def _license_table(licenses: list[Any]) -> Table:
    table = Table("id", "kind", "status", "licensee", "territory", "field", "term", "fee", "filing")
    for column in table.columns:
        column.overflow = "fold"
    for lic in licenses:
        kind = f"[bold yellow]{lic.kind.label}[/bold yellow]" if lic.exclusive else lic.kind.label
        table.add_row(str(lic.license_id), kind, lic.status.label, lic.licensee, lic.territory or "all",
                      lic.field_of_use or "all", f"{(iso(lic.start) or '')[:10]} – {(iso(lic.end) or '')[:10]}",
                      f"{lic.fee:,}",
                      lic.recordal_no or "")
    return table


@license_app.command("list")
def license_list(
    asset_id: AssetIdArg,
    active: Annotated[bool, typer.Option("--active", help="Only the active licenses.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """List an asset's licenses, oldest first (exclusive and sole ones highlighted)."""
    with shell.ledger(need_account=False) as opened:
        licenses, count = opened.licenses.licenses_of(asset_id, offset=offset, limit=limit, active_only=active)
    if as_json:
        shell.print_json({"data": [lic.as_json() for lic in licenses], "count": count})
        return
    shell.out.print(_license_table(licenses) if licenses else f"Asset {asset_id} has no licenses.")
    if licenses:
        shell.out.print(f"{len(licenses)} of {count} licenses.")


@license_app.command("show")
def license_show(license_id: LicenseIdArg, as_json: JsonOption = False) -> None:
    """Show one license."""
    with shell.ledger(need_account=False) as opened:
        lic = opened.licenses.license_of(license_id)
    if as_json:
        shell.print_json(lic.as_json())
        return
    shell.out.print(_license_table([lic]))


# -- pledges -----------------------------------------------------------------------------------------


@pledge_app.command("propose")
def pledge_propose(
    asset_id: AssetIdArg,
    to: Annotated[str, typer.Option("--to", help="The pledgee (an accredited bank's address).")],
    principal: Annotated[str, typer.Option("--principal", help="The loan's principal in token units (integer).")],
    maturity: Annotated[str, typer.Option("--maturity", help="The loan's maturity, e.g. 2027-06-30.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code of the principal.")] = "CNY",
    contract_hash: Annotated[
        str | None, typer.Option("--contract-hash", help="SHA-256 (0x...) of the loan contract.")
    ] = None,
    contract_file: Annotated[Path | None, typer.Option(
        "--contract-file", help="The loan contract: hashed for the pledge, and sealed to the bank and you "
                                "(FILE.sealed, docs/sealed-format.md) when both published encryption keys.")]
    = None,
    seal_to: Annotated[list[str] | None, typer.Option(
        "--seal-to", help="With --contract-file: seal the contract to this account too (repeatable), e.g. the "
                          "service centre; the bank and you always.")] = None,
    api: SealApiOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose to pledge your asset to a bank; it is pledged once the bank accepts."""
    pledgee = parse_address(to, "the pledgee")
    amount = parse_amount(principal, "the principal")
    if amount == 0:
        raise ValidationError("a pledge must secure a principal greater than zero")
    encode_currency(currency)
    matures = parse_date(maturity, "the maturity", allow_zero=False)
    document = _hash_option(contract_hash, contract_file, "the contract")
    if contract_file is None and seal_to:
        raise ValidationError("--seal-to seals the loan contract: it goes with --contract-file")
    extra = [parse_address(a, "the recipient") for a in seal_to or []]
    sealing: dict[str, Any] = {}
    with shell.ledger() as opened:
        store = _sealed_store(api, opened) if contract_file is not None else None
        result = opened.pledges.propose(asset_id, pledgee, amount, currency, matures, document)
        if contract_file is not None and document is not None:
            owner = opened.client.signer().address
            sealing = _seal_recorded(opened, contract_file, [pledgee, owner, *extra],
                                     Record("pledge", result.ids["pledgeId"]), owner, "0x" + document.hex(), store)
    _done(f"Proposed pledge {result.ids['pledgeId']} of asset {asset_id} to {pledgee}: {amount:,} "
          f"{currency.upper()}, maturing {day(matures)}", result, as_json, **sealing)
    _after_upload(sealing)


def _pledge_act(verb: str, what: str) -> Any:
    def command(pledge_id: PledgeIdArg, as_json: JsonOption = False) -> None:
        with shell.ledger() as opened:
            result = getattr(opened.pledges, verb)(pledge_id)
        _done(f"Pledge {pledge_id} {what}", result, as_json)

    return command


@pledge_app.command("accept")
def pledge_accept(
    pledge_id: PledgeIdArg,
    version: Annotated[int | None, typer.Option(
        "--encumbrance-version", min=0,
        help="The encumbrance version of the check you rely on (`ipledger check --json`: encumbrance_version). "
             "Default: check the asset now, show its red flags, and accept on that check.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Accept a pledge proposed to you (an accredited bank): the asset is pledged. The acceptance names the
    asset's encumbrance version your check saw: if a license was offered, accepted or ended since, the chain
    refuses and you check again."""
    with shell.ledger() as opened:
        pledge = opened.pledges.pledge_of(pledge_id)
        report = None
        if version is None:
            report = opened.check.due_diligence(pledge.asset_id, pledge.maturity, past_maturity=True)
            version = report.encumbrance_version
        result = opened.pledges.accept(pledge_id, version)
    if as_json:
        shell.print_json({**result.as_json(), "encumbrance_version": version,
                          "red_flags": [f.as_json() for f in report.red_flags] if report else None})
        return
    if report is not None:
        shell.out.print(f"Checked asset {pledge.asset_id} at block {report.block_number} "
                        f"(encumbrance version {version}): "
                        + (f"{len(report.red_flags)} red flag(s)" if report.red_flags else "no red flags"),
                        highlight=False)
        for flag in report.red_flags:
            shell.out.print(f"  • {flag.message}", highlight=False)
    _done(f"Pledge {pledge_id} is active: the asset is pledged", result, False)

pledge_app.command("cancel", help="Withdraw (pledgor) or decline (pledgee) a pending proposal.")(
    _pledge_act("cancel", "is cancelled"))
pledge_app.command("release", help="Release a pledge: the loan was repaid (pledgee).")(
    _pledge_act("release", "is released"))


@pledge_app.command("enforce")
def pledge_enforce(
    pledge_id: PledgeIdArg,
    buyer: Annotated[str | None, typer.Option("--buyer", help="Transfer to this buyer (default: the pledgee).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Enforce a matured pledge: the asset goes to the pledgee or a named buyer (pledgee)."""
    to = parse_address(buyer, "the buyer") if buyer else None
    with shell.ledger() as opened:
        result = opened.pledges.enforce(pledge_id, to)
    _done(f"Pledge {pledge_id} is enforced", result, as_json)


@pledge_app.command("consent-transfer")
def pledge_consent_transfer(
    pledge_id: PledgeIdArg,
    recipient: Annotated[str | None, typer.Argument(help="Who may receive the asset (omit with --withdraw).")]
    = None,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Withdraw the consent.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Consent to one transfer of the pledged asset to RECIPIENT; the pledge follows the asset (pledgee)."""
    if (recipient is None) != withdraw:
        raise ValidationError("name the recipient, or --withdraw the consent")
    to = parse_address(recipient, "the recipient") if recipient else None
    with shell.ledger() as opened:
        result = opened.pledges.consent_to_transfer(pledge_id, to)
    _done(f"Pledge {pledge_id}: transfer {'to ' + to if to else 'consent withdrawn'}", result, as_json)


@pledge_app.command("consent-license")
def pledge_consent_license(
    pledge_id: PledgeIdArg, license_id: LicenseIdArg,
    any_licensee: Annotated[bool, typer.Option(
        "--any-licensee", help="Consent to these terms for whoever takes them (e.g. buyers of a licence listing).")]
    = False,
    as_json: JsonOption = False,
) -> None:
    """Consent to one license of the pledged asset on exactly the terms of offer LICENSE (pledgee): licensee,
    kind, term, territory, field, fee, terms hash and sublicensing. Other terms need another consent; the
    consent is used by one license, can be withdrawn until then, and ends with the pledge."""
    with shell.ledger() as opened:
        offered = opened.licenses.license_of(license_id)
        result, consent_id = opened.pledges.consent_to_offered_license(pledge_id, offered, any_licensee=any_licensee)
    _done(f"Pledge {pledge_id}: consent {consent_id} to the terms of license {license_id} "
          f"({offered.kind.label}, {offered.scope()}, fee {offered.fee:,})", result, as_json, consent_id=consent_id)


@pledge_app.command("withdraw-consent")
def pledge_withdraw_consent(
    pledge_id: PledgeIdArg,
    consent_id: Annotated[str, typer.Argument(help="The consent id (0x...) that consent-license printed.")],
    as_json: JsonOption = False,
) -> None:
    """Withdraw an unused license consent (pledgee)."""
    consent = parse_hash32(consent_id, "the consent id")
    with shell.ledger() as opened:
        result = opened.pledges.withdraw_license_consent(pledge_id, consent)
    _done(f"Pledge {pledge_id}: consent {consent_id} withdrawn", result, as_json)


@pledge_app.command("show")
def pledge_show(pledge_id: PledgeIdArg, as_json: JsonOption = False) -> None:
    """Show one pledge."""
    with shell.ledger(need_account=False) as opened:
        pledge = opened.pledges.pledge_of(pledge_id)
    if as_json:
        shell.print_json(pledge.as_json())
        return
    shell.out.print(
        f"Pledge {pledge.pledge_id} of asset {pledge.asset_id}: {pledge.status.label}; pledgor {pledge.pledgor}, "
        f"pledgee {pledge.pledgee}; {pledge.principal:,} {pledge.currency}, maturing {day(pledge.maturity)}; "
        f"contract {pledge.contract_hash}", highlight=False)


# -- roles -------------------------------------------------------------------------------------------

RoleArg = Annotated[str, typer.Argument(help="One of: registrar, pledgee (admin is granted at deployment).")]
AddressArg = Annotated[str, typer.Argument(help="The account's address.")]


@role_app.command("grant")
def role_grant(role: RoleArg, address: AddressArg, as_json: JsonOption = False) -> None:
    """Grant a role (admin)."""
    parse_role(role)
    account = parse_address(address)
    with shell.ledger() as opened:
        result = opened.assets.grant_role(role, account)
    _done(f"{account} holds the role {role.lower()}", result, as_json)


@role_app.command("revoke")
def role_revoke(role: RoleArg, address: AddressArg, as_json: JsonOption = False) -> None:
    """Revoke a role (admin)."""
    parse_role(role)
    account = parse_address(address)
    with shell.ledger() as opened:
        result = opened.assets.revoke_role(role, account)
    _done(f"{account} no longer holds the role {role.lower()}", result, as_json)


@role_app.command("list")
def role_list(as_json: JsonOption = False) -> None:
    """Who holds each role now (admin, registrar, pledgee), and how to act as a development account."""
    with shell.ledger(need_account=False) as opened:
        holders = opened.assets.role_holders()
    if as_json:
        shell.print_json(holders)
        return
    for name, addresses in holders.items():
        if not addresses:
            how = ("the admin grants it: `ipledger role grant pledgee ADDRESS`" if name == "pledgee"
                   else "the admin grants it: `ipledger role grant registrar ADDRESS`" if name == "registrar"
                   else "the deployment's admin renounced it")
            shell.out.print(f"{name:<10} nobody ({how})", highlight=False)
        for address in addresses:
            shell.out.print(f"{name:<10} {address}{shell.dev_note(address)}", highlight=False)


@role_app.command("show")
def role_show(address: AddressArg, as_json: JsonOption = False) -> None:
    """The roles an account holds."""
    account = parse_address(address)
    with shell.ledger(need_account=False) as opened:
        roles = opened.assets.roles_of(account)
    if as_json:
        shell.print_json({"address": account, "roles": roles})
        return
    shell.out.print(f"{account}: {', '.join(roles) if roles else 'no roles'}", highlight=False)


# -- the bank check ------------------------------------------------------------------------------------


def check(
    asset: AssetArg,
    maturity: Annotated[
        str | None, typer.Option("--maturity", help="The loan's maturity (e.g. 2027-06-30): flags an earlier expiry.")
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write the report as a PDF to this file "
                                                           "(it re-checks with `ipledger recheck FILE`).")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the report as HTML to this file.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="The documents' language: zh or en.")] = "zh",
    as_json: JsonOption = False,
) -> None:
    """A bank's due diligence on an asset in one read: facts, licenses, pledge, history, red flags."""
    when = parse_date(maturity, "the maturity") if maturity else 0
    if not asset.strip().isdigit():
        encode_ref(asset)
    if pdf is not None or html is not None:
        from ledger.documents.i18n import locale_of

        locale_of(lang)
    if pdf is not None and lang == "zh":  # no CJK font: said before the chain is read
        from ledger.documents.fonts import require_cjk_font

        require_cjk_font()
    with shell.ledger(need_account=False) as opened:
        report = opened.check.due_diligence(asset, when)
        chain_id = opened.client.chain_id
    if pdf is not None or html is not None:
        from ledger.cli.documents import write_document
        from ledger.documents.due_diligence import render_due_diligence

        zone = get_settings().document_timezone
        for target, fmt in ((pdf, "pdf"), (html, "html")):
            if target is not None:
                write_document(target, render_due_diligence(report, chain_id=chain_id, fmt=fmt, lang=lang,
                                                            zone=zone))
                shell.err.print(f"wrote {target}", highlight=False)
    if as_json:
        shell.print_json(report.as_json())
        return
    print_report(report)


def print_report(report: Any) -> None:
    out = shell.out
    a = report.asset
    title = f" — {report.title}" if report.title else ""
    out.print(f"[bold]Asset {a.asset_id}[/bold]{title}", highlight=False)
    frozen = "no"
    if report.frozen:
        freeze = report.freeze
        frozen = f"[red]yes[/red], until {day(a.frozen_until)}" + (
            f" ({freeze.court}, case {freeze.case_number})" if freeze else "")
    pledge = report.pledge
    co = report.co_owners
    co_owned = [("co-owners", ", ".join(f"{address} {bps / 100:g} %" for address, bps in co.shares))] if (
        co is not None and co.held) else []
    _facts([
        ("official number", report.ref or "(none)"),
        ("kind", a.kind.label),
        ("owner", f"{a.owner} (the co-ownership vault)" if co_owned else a.owner),
        *co_owned,
        ("legal status", a.status.label),
        ("verified", _yes(a.verified)),
        ("expires", day(a.expires_at) if a.expires_at else "not known"),
        ("fees paid until", day(a.fees_paid_until) if a.fees_paid_until else "not known"),
        ("frozen", frozen),
        ("pledge", "none" if pledge is None else (
            f"[red]pledge {pledge.pledge_id}[/red] to {pledge.pledgee}: {pledge.principal:,} {pledge.currency}, "
            f"maturing {day(pledge.maturity)}")),
        *([("loan maturity", day(report.maturity))] if report.maturity else []),
        ("parent", str(report.parent_id) if report.parent_id else "(none)"),
        ("children", ", ".join(map(str, report.children)) or "(none)"),
        ("as of", f"block {report.block_number}, {day(report.block_time)}"),
        *([("finality", report.finality.sentence())] if report.finality is not None else []),
    ])
    if report.licenses:
        out.print("[bold]Active licenses[/bold]")
        out.print(_license_table(report.licenses))
    else:
        out.print("Active licenses: none")
    if report.offers:
        out.print("[bold]Pending license offers[/bold] (the licensee may accept them at any time)")
        out.print(_license_table(report.offers))
    else:
        out.print("Pending license offers: none")
    open_disputes = [d for d in report.disputes if d.open]
    if open_disputes:
        out.print("[bold]Open disputes[/bold]")
        out.print(_dispute_table(open_disputes))
    else:
        out.print("Open disputes: none")
    out.print(f"Encumbrance version: {report.encumbrance_version} (a pledge accepted on this check names it)",
              highlight=False)
    if report.red_flags:
        out.print(f"[bold red]Red flags ({len(report.red_flags)})[/bold red]")
        for flag in report.red_flags:
            out.print(f"  [red]•[/red] {flag.message}", highlight=False)
    else:
        out.print("[bold green]No red flags.[/bold green]")
    from ledger.registry.check import history_json

    out.print(f"[bold]History ({len(report.history)} events)[/bold]")
    for event in report.history:
        row = history_json(event)
        details = json.dumps({k: v for k, v in row["args"].items() if k not in ("assetId", "tokenId")},
                             separators=(",", ":"), ensure_ascii=False, default=str)
        out.print(f"  block {event.block_number}  {(row['time'] or '')[:19].replace('T', ' ')}  "
                  f"[bold]{event.contract}.{event.event}[/bold]  tx {event.tx_hash}", highlight=False)
        out.print(f"      {details}", highlight=False, soft_wrap=True)
