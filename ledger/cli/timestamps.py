"""``ipledger stamp`` and ``ipledger verify``: proofs of existence from the command line."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from ledger.cli.shell import ApiOption, JsonOption, err, ledger, out, print_json, prompt_password
from ledger.errors import (
    ValidationError,
)
from ledger.settings import get_settings
from ledger.timestamps.proofs import Certificate, certificate_path

# -- timestamps --------------------------------------------------------------------


def stamp(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to stamp (one transaction).")],
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Timestamp files: an author-bound commitment on chain, a certificate beside each file."""
    from ledger.timestamps.service import collect_files

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
    from ledger.client.api import ApiClient
    from ledger.client.remote import stamp_via_api
    from ledger.context import resolve_account
    from ledger.timestamps.service import TimestampService

    settings = get_settings()
    account = resolve_account(settings, embedded=False, prompt=prompt_password, notices=[])
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
        from ledger.client.api import ApiClient
        from ledger.client.remote import verify_via_api

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


def register(app: typer.Typer) -> None:
    """Add ``stamp`` and ``verify`` to the ``ipledger`` app."""
    app.command()(stamp)
    app.command()(verify)
