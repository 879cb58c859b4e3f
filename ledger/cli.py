"""The ``ipledger`` command: a thin shell over the services in ``ledger``.

Each command parses its input, opens the ledger, calls one service and renders
the result (a Rich table, or JSON with ``--json``). Exit codes: 0 ok, 1 the
ledger said no (a rule, a failed verification), 2 bad usage or input, 3 the
chain or network is unavailable.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from . import cli_market, cli_registry
from .accounts import Keystores
from .context import Ledger, open_ledger
from .errors import (
    ChainError,
    ChainUnavailableError,
    ConfigurationError,
    LedgerError,
    ValidationError,
    VerificationError,
)
from .proofs import Certificate, certificate_path
from .settings import get_settings

app = typer.Typer(
    name="ipledger",
    help="A blockchain ledger for intellectual property: timestamps, assets, licenses, pledges.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
account_app = typer.Typer(help="Manage your keys (encrypted keystores).", no_args_is_help=True)
app.add_typer(account_app, name="account")
cli_registry.register(app)  # asset, license, pledge, role, check, and the global --account option
cli_market.register(app)  # market ... (listings, offers, license sales, the demand board)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ApiOption = Annotated[
    str | None,
    typer.Option("--api", envvar="IPLEDGER_API_URL",
                 help="Act through this ipledger API (requests signed here, relayed there) instead of the chain."),
]


def exit_code(exc: LedgerError) -> int:
    """The one mapping of ledger errors to exit codes."""
    if isinstance(exc, ChainUnavailableError):
        return 3
    if isinstance(exc, VerificationError):
        return 1
    if isinstance(exc, (ValidationError, ConfigurationError)):
        return 2
    if isinstance(exc, ChainError):
        return 3 if isinstance(exc, ChainUnavailableError) else 1
    return 1


def _prompt_password(label: str) -> str:
    if not sys.stdin.isatty():
        raise ValidationError(f"{label}: no terminal to ask for it; set IPLEDGER_PASSWORD")
    return str(typer.prompt(label, hide_input=True))


@contextmanager
def ledger(need_account: bool = True) -> Iterator[Ledger]:
    with open_ledger(need_account=need_account, prompt=_prompt_password) as opened:
        for notice in opened.notices:
            err.print(f"[dim]note: {notice}[/dim]")
        yield opened


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


# -- timestamps --------------------------------------------------------------------


@app.command()
def stamp(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to stamp (one transaction).")],
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Timestamp files: an author-bound commitment on chain, a certificate beside each file."""
    from .timestamps import collect_files

    files = collect_files(paths)
    total = sum(f.stat().st_size for f in files)
    if api is not None:
        certificates, batch = _stamp_via_api(api, files)
        _print_stamped(certificates, batch, as_json)
        return
    with ledger() as opened:
        service = opened.timestamps
        signer = opened.client.signer()
        with Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=err, transient=True, disable=len(files) < 50 and total < 50_000_000,
        ) as progress:
            task = progress.add_task(f"hashing {len(files)} files", total=total)
            batch = service.prepare(files, signer.address, lambda n: progress.advance(task, n))
            progress.update(task, description="sending")
            certificates = service.send(batch, signer)
    _print_stamped(certificates, batch, as_json)


def _stamp_via_api(api: str, files: list[Path]) -> tuple[list[Certificate], Any]:
    from .api_client import ApiClient
    from .context import resolve_account
    from .remote import stamp_via_api
    from .timestamps import TimestampService

    settings = get_settings()
    account = resolve_account(settings, embedded=False, prompt=_prompt_password, notices=[])
    if account is None:
        raise ValidationError("acting through the API needs your account: `ipledger account new`")
    client = ApiClient(api)
    try:
        batch = TimestampService.prepare_files(files, account.address)
        return stamp_via_api(client, account, batch, settings), batch
    finally:
        client.close()


def _print_stamped(certificates: list[Certificate], batch: Any, as_json: bool) -> None:
    if as_json:
        print_json([c.model_dump(mode="json") for c in certificates])
        return
    first = certificates[0]
    what = "1 file" if len(certificates) == 1 else f"{len(certificates)} files in one batch"
    out.print(
        f"Stamped {what} for {first.author} in block {first.block_number} "
        f"at {first.block_time_iso} (tx {first.tx_hash})."
    )
    if len(certificates) <= 20:
        for item in batch.items:
            out.print(f"  certificate: {item.certificate}")
    else:
        out.print(f"  {len(certificates)} certificates written beside the files (*.ipledger.json)")


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="The file that was stamped.")],
    certificate: Annotated[
        Path | None, typer.Argument(help="Its certificate (default: FILE.ipledger.json).")
    ] = None,
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Verify a file against its certificate and the chain: who committed it, and when."""
    cert = Certificate.load(certificate or certificate_path(file))
    if api is not None:
        from .api_client import ApiClient
        from .remote import verify_via_api

        client = ApiClient(api)
        try:
            result = verify_via_api(client, file, cert)
        finally:
            client.close()
        if as_json:
            print_json(result)
        else:
            out.print(f"[green]VALID[/green] {file} was committed by {result['author']} at "
                      f"{result['block_time_iso']} (block {result['block_number']}, tx {result['tx_hash']}, "
                      f"chain {result['chain_id']}).")
        return
    with ledger(need_account=False) as opened:
        verified = opened.timestamps.verify(file, cert)
    if as_json:
        print_json({"valid": True, **asdict(verified)})
        return
    out.print(
        f"[green]VALID[/green] {file} was committed by {verified.author} at {verified.block_time_iso} "
        f"(block {verified.block_number}, tx {verified.tx_hash}, chain {verified.chain_id})."
    )
    if verified.stamper != verified.author:
        out.print(f"  sent on chain by {verified.stamper}; the commitment binds the author above")


@app.command()
def reconcile(as_json: JsonOption = False) -> None:
    """Re-send journaled transactions the chain lost and refresh their certificates."""
    with ledger(need_account=False) as opened:
        moved = opened.client.reconcile()
        refreshed = opened.timestamps.refresh_certificates(moved)
    if as_json:
        print_json({"resent": [r.tx_hash for r in moved], "certificates": len(refreshed)})
        return
    out.print(f"{len(moved)} transactions restored, {len(refreshed)} certificates refreshed.")


# -- accounts ----------------------------------------------------------------------


@account_app.command("new")
def account_new(
    name: Annotated[str, typer.Argument(help="A name for the key.")] = "default",
    import_key: Annotated[
        bool, typer.Option("--import", help="Import an existing private key (asked for, hidden).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create (or import) a key, stored encrypted with a password."""
    settings = get_settings()
    key = None
    if import_key:
        key = _prompt_password("Private key (hex)") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if settings.password is not None:
        password = settings.password.get_secret_value()
    else:
        password = _prompt_password("New password")
        if _prompt_password("Repeat the password") != password:
            raise ValidationError("the passwords differ")
    info = Keystores(settings.data_dir).new(name, password, key)
    if as_json:
        print_json({"name": info.name, "address": info.address, "keystore": str(info.path)})
        return
    out.print(f"Created account {info.name}: {info.address} (keystore {info.path})")


@account_app.command("list")
def account_list(as_json: JsonOption = False) -> None:
    """List the keys in this data folder."""
    stores = Keystores(get_settings().data_dir).list()
    if as_json:
        print_json([{"name": s.name, "address": s.address, "keystore": str(s.path)} for s in stores])
        return
    if not stores:
        out.print("No accounts yet: `ipledger account new`.")
        return
    table = Table("name", "address", "keystore")
    for s in stores:
        table.add_row(s.name, s.address, str(s.path))
    out.print(table)


# -- chain -------------------------------------------------------------------------


@app.command()
def deploy(as_json: JsonOption = False) -> None:
    """Deploy the contract suite to IPLEDGER_RPC_URL (or the embedded chain); idempotent."""
    from .chain import ChainClient
    from .context import resolve_account
    from .deploy import deploy_suite, manifest_path
    from .toolchain import compile_contracts

    settings = get_settings()
    if settings.rpc_url is None:
        with ledger() as opened:
            deployment = opened.deployment
            path = manifest_path(settings.data_dir, opened.client.chain_id)
    else:
        artifacts = compile_contracts()
        notices: list[str] = []
        account = resolve_account(settings, embedded=False, prompt=_prompt_password, notices=notices)
        if account is None:
            raise ValidationError("deploying needs an account: `ipledger account new` or IPLEDGER_PRIVATE_KEY")
        client = ChainClient(settings.rpc_url, account, journal_dir=settings.data_dir / "journal",
                             error_abis=[a.abi for a in artifacts.values()])
        path = manifest_path(settings.data_dir, client.chain_id)
        deployment = deploy_suite(client, path, artifacts=artifacts)
        client.close()
    if as_json:
        print_json({"manifest": str(path), **deployment.model_dump()})
        return
    out.print(f"Deployment on chain {deployment.chain_id} (manifest {path}):")
    for name, contract in deployment.contracts.items():
        out.print(f"  {name:<20} {contract.address}  (block {contract.block_number})")


@app.command()
def up(
    api: Annotated[bool, typer.Option(help="Also serve the HTTP API.")] = True,
    index: Annotated[bool, typer.Option(help="Also run the indexer (IPLEDGER_DB_URL, default SQLite).")] = True,
    host: Annotated[str, typer.Option(help="API host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
) -> None:
    """Run the embedded local chain (state kept on disk), deploy if needed, index it and serve the API,
    until Ctrl-C."""
    from .deploy import manifest_path
    from .devchain import embedded_chain
    from .indexer import run_indexer_in_thread
    from .store import default_db_url

    settings = get_settings()
    if settings.rpc_url is not None:
        raise ValidationError("`ipledger up` runs the embedded chain; unset IPLEDGER_RPC_URL")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with embedded_chain(settings.data_dir, register=True) as url:
        with open_ledger(settings, need_account=False) as opened:
            out.print(f"Local chain {url} (chain {opened.client.chain_id}), data in {settings.data_dir}")
            for name, contract in opened.deployment.contracts.items():
                out.print(f"  {name:<20} {contract.address}")
            deployment, artifacts, chain_id = opened.deployment, opened.artifacts, opened.client.chain_id
        indexer = None
        if index:
            db_url = settings.db_url or default_db_url(settings)
            indexer = run_indexer_in_thread(url, deployment, artifacts, db_url,
                                            manifest=manifest_path(settings.data_dir, chain_id))
            out.print(f"Indexer into {db_url}")
        server = _start_api(host, port) if api else None
        out.print("Running; press Ctrl-C to stop.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
            if server is not None:
                server.should_exit = True
            if indexer is not None:
                indexer.stop()
    out.print("Stopped; the chain's state is saved.")


def _start_api(host: str, port: int) -> Any:
    """Serve the API in a thread, if the API package provides an app."""
    try:
        import uvicorn

        from api.main import create_app
    except ImportError:
        return None
    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    out.print(f"API on http://{host}:{port} (docs: /docs)")
    return server


# -- indexer and audit -------------------------------------------------------------

audit_app = typer.Typer(
    help="Audit the indexed history: queries, totals, exports, and a re-check against the chain.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@contextmanager
def _indexed_chain() -> Iterator[Ledger]:
    """The chain and deployment to index or verify (read-only: no account, no re-sending)."""
    with open_ledger(need_account=False, reconcile=False) as opened:
        yield opened


@contextmanager
def _store() -> Iterator[Any]:
    from .store import Store, default_db_url

    store = Store(default_db_url(get_settings()))
    try:
        yield store
    finally:
        store.dispose()


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Ctrl-C or SIGTERM set the event: the indexer ends after its current chunk, committed."""
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        err.print("[dim]stopping after the current chunk (Ctrl-C again to abort it)[/dim]")
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@app.command()
def index(
    once: Annotated[bool, typer.Option("--once", help="Index up to the head and exit.")] = False,
    confirmations: Annotated[
        int, typer.Option("--confirmations", min=0, help="Stay this many blocks behind the head.")
    ] = 0,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between polls for new blocks.")] = 1.0,
    as_json: JsonOption = False,
) -> None:
    """Follow every contract event into IPLEDGER_DB_URL; resumable, reorg-safe; Ctrl-C stops cleanly."""
    import time

    from .deploy import manifest_path
    from .indexer import ChunkReport, Indexer, ManifestWatcher, SyncReport, sources_from_deployment

    last_note = [0.0]

    def progress(chunk: ChunkReport) -> None:
        if not as_json and time.monotonic() - last_note[0] > 2:
            last_note[0] = time.monotonic()
            err.print(f"[dim]indexed to block {chunk.to_block} of {chunk.head}[/dim]")

    def summary(report: SyncReport) -> None:
        if as_json:
            print_json(report.as_dict())
            return
        for old, ancestor in report.reorgs:
            out.print(f"reorg: rolled back from block {old} to the common ancestor {ancestor}")
        for name in report.backfilled:
            out.print(f"back-filled {name} (new in the deployment)")
        out.print(f"Indexed blocks {report.start_block}..{report.end_block}: {report.events} events "
                  f"in {report.seconds:.1f}s ({report.events_per_second:,.0f}/s).")

    with _store() as store, _indexed_chain() as opened:
        indexer = Indexer(opened.client, store, sources_from_deployment(opened.deployment, opened.artifacts),
                          confirmations=confirmations, on_chunk=progress)
        with _stop_on_signals() as stop:
            if once:
                summary(indexer.sync(stop))
                return
            if not as_json:
                out.print(f"Indexing chain {opened.client.chain_id} into {store.display_url}; Ctrl-C stops.")
            watcher = ManifestWatcher(manifest_path(opened.settings.data_dir, opened.client.chain_id),
                                      opened.artifacts)
            indexer.run(stop, poll_interval=poll, on_sync=summary, refresh_sources=watcher)
    if not as_json:
        out.print("Stopped; the index is consistent up to its last block.")


def _history_query(
    asset: str | None, account: str | None, event: str | None, contract: str | None,
    from_block: int | None, to_block: int | None, since: str | None, until: str | None,
) -> Any:
    from .audit import HistoryQuery, normalize_account, normalize_asset, parse_time

    return HistoryQuery(
        asset_id=normalize_asset(asset) if asset is not None else None,
        account=normalize_account(account) if account is not None else None,
        event=event, contract=contract, from_block=from_block, to_block=to_block,
        since=parse_time(since) if since else None, until=parse_time(until) if until else None,
    )


@audit_app.command("history")
def audit_history(
    asset: Annotated[str | None, typer.Option("--asset", help="Events of this asset id.")] = None,
    account: Annotated[str | None, typer.Option("--account", help="Events naming this address.")] = None,
    event: Annotated[str | None, typer.Option("--event", help="Events of this kind (Name or Contract.Name).")] = None,
    contract: Annotated[str | None, typer.Option("--contract", help="Events of this contract.")] = None,
    from_block: Annotated[int | None, typer.Option("--from-block", min=0)] = None,
    to_block: Annotated[int | None, typer.Option("--to-block", min=0)] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this time (2026-05-20, ISO or Unix).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this time, inclusive.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Rows per page (default 50 on screen, all for exports).")
    ] = None,
    after: Annotated[str | None, typer.Option("--after", help="Page token printed by the previous page.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Export CSV to FILE ('-': stdout).")] = None,
    chain_id: Annotated[int | None, typer.Option("--chain-id", help="When the index holds several chains.")] = None,
    as_json: JsonOption = False,
) -> None:
    """History by asset, account, kind of event, block or time range; oldest first, paginated."""
    from .audit import AuditService, write_csv, write_json

    query = _history_query(asset, account, event, contract, from_block, to_block, since, until)
    with _store() as store:
        audit = AuditService(store, chain_id)
        if csv_file is not None or as_json:
            rows: Any
            if limit is not None:
                page = audit.history(query, limit=limit, after=after)
                rows = page.rows
                if page.next:
                    err.print(f"[dim]more rows: --after {page.next}[/dim]")
            else:
                rows = audit.iter_history(query)
            if csv_file is not None and str(csv_file) != "-":
                with open(csv_file, "w", newline="", encoding="utf-8") as fh:
                    count = write_csv(rows, fh)
                err.print(f"wrote {count} rows to {csv_file}")
            elif csv_file is not None:
                write_csv(rows, sys.stdout)
            else:
                write_json(rows, sys.stdout)
            return
        page = audit.history(query, limit=limit or 50, after=after)
    table = Table("block", "time (UTC)", "tx", "event", "asset", "args")
    for row in page.rows:
        args = json.dumps(row.args, separators=(",", ":"))
        table.add_row(str(row.block_number), row.block_time_iso, row.tx_hash[:12] + "…",
                      f"{row.contract}.{row.event}", row.asset_id or "", args if len(args) < 90 else args[:89] + "…")
    out.print(table if page.rows else "No events match.")
    if page.next:
        out.print(f"More: --after {page.next}")


@audit_app.command("totals")
def audit_totals(
    chain_id: Annotated[int | None, typer.Option("--chain-id", help="When the index holds several chains.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Counts of events by contract and kind, and the registry totals (registrations, licenses, pledges, sales)."""
    from .audit import AuditService

    with _store() as store:
        totals = AuditService(store, chain_id).totals()
    if as_json:
        print_json(totals.as_json())
        return
    out.print(f"Chain {totals.chain_id}, indexed to block {totals.indexed_to}: {totals.events} events, "
              f"{totals.accounts} accounts, {totals.assets} assets.")
    table = Table("contract", "event", "count")
    for row in totals.by_event:
        table.add_row(row["contract"], row["event"], str(row["count"]))
    out.print(table)
    for name, value in totals.registry.items():
        out.print(f"{name}: {json.dumps(value, default=str)}")


@audit_app.command("verify")
def audit_verify(
    from_block: Annotated[int | None, typer.Option("--from-block", min=0)] = None,
    to_block: Annotated[int | None, typer.Option("--to-block", min=0)] = None,
    range_size: Annotated[int, typer.Option("--range-size", min=1, help="Blocks per compared range.")] = 2_000,
    as_json: JsonOption = False,
) -> None:
    """Re-check the database against the chain: counts and hashes per block range; exit 1 on any difference."""
    from .audit import AuditService
    from .indexer import sources_from_deployment

    with _store() as store, _indexed_chain() as opened:
        audit = AuditService(store, opened.client.chain_id)
        report = audit.verify(opened.client, sources_from_deployment(opened.deployment, opened.artifacts),
                              from_block=from_block, to_block=to_block, range_size=range_size)
    if as_json:
        print_json(report.as_json())
    else:
        summary = report.as_json()
        out.print(f"Compared blocks {report.from_block}..{report.to_block} in {len(report.ranges)} ranges: "
                  f"{summary['events_on_chain']} events on chain, {summary['events_in_db']} in the database, "
                  f"{report.blocks_checked} stored block hashes.")
        for check in report.differences:
            out.print(f"[red]DIFFERS[/red] blocks {check.from_block}..{check.to_block}: chain {check.chain_events} "
                      f"events, database {check.db_events}")
            for label, keys in (("missing", check.missing), ("extra", check.extra), ("changed", check.changed)):
                for key in keys[:20]:
                    out.print(f"  {label}: {key}")
        if report.block_mismatches:
            out.print(f"[red]DIFFERS[/red] stored block hashes not on chain: {report.block_mismatches[:20]}")
        if report.ok:
            out.print("[green]OK[/green] the database matches the chain.")
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    """Console entry point: run the app and turn ledger errors into messages and exit codes."""
    try:
        app()
    except LedgerError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(exit_code(exc))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
