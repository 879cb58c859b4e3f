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

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


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
) -> None:
    """Timestamp files: an author-bound commitment on chain, a certificate beside each file."""
    from .timestamps import collect_files

    files = collect_files(paths)
    total = sum(f.stat().st_size for f in files)
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
    if as_json:
        print_json([c.model_dump(mode="json") for c in certificates])
        return
    first = certificates[0]
    what = "1 file" if len(certificates) == 1 else f"{len(certificates)} files in one batch"
    out.print(
        f"Stamped {what} for {first.author} in block {first.block_number} "
        f"at {first.block_time_iso} (tx {first.tx_hash})."
    )
    for cert, item in zip(certificates, batch.items, strict=True):
        if len(certificates) <= 20:
            out.print(f"  certificate: {item.certificate}")
        del cert
    if len(certificates) > 20:
        out.print(f"  {len(certificates)} certificates written beside the files (*.ipledger.json)")


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="The file that was stamped.")],
    certificate: Annotated[
        Path | None, typer.Argument(help="Its certificate (default: FILE.ipledger.json).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a file against its certificate and the chain: who committed it, and when."""
    cert = Certificate.load(certificate or certificate_path(file))
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
    host: Annotated[str, typer.Option(help="API host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
) -> None:
    """Run the embedded local chain (state kept on disk), deploy if needed, until Ctrl-C."""
    from .devchain import embedded_chain

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
        server = _start_api(host, port) if api else None
        out.print("Running; press Ctrl-C to stop.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if server is not None:
                server.should_exit = True
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
