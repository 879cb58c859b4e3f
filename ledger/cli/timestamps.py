"""``ipledger stamp`` and ``ipledger verify``: proofs of existence from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from ledger.cli.shell import ApiOption, JsonOption, err, ledger, out, print_json, prompt_password
from ledger.errors import (
    ValidationError,
    VerificationError,
)
from ledger.settings import get_settings
from ledger.timestamps.proofs import certificate_path

if TYPE_CHECKING:
    from ledger.timestamps.service import StampResult
    from ledger.timestamps.verification import Checker, Verdict

# -- timestamps --------------------------------------------------------------------


IncludeCertificates = Annotated[
    bool,
    typer.Option("--include-certificates",
                 help="Stamp certificate files (*.ipledger.json) too, named or inside folders; refused otherwise."),
]


def stamp(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to stamp (one transaction).")],
    include_certificates: IncludeCertificates = False,
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Timestamp files: an author-bound commitment on chain, a certificate beside each file.

    A certificate is never overwritten: a file whose content already has a certificate on
    this chain is kept as it is (the earliest proof is the valuable one), and a file changed
    since gets its new certificate beside the earlier one (FILE.ipledger.2.json, ...).
    """
    from ledger.timestamps.service import StampResult, collect_files

    files = collect_files(paths, include_certificates)
    total = sum(f.stat().st_size for f in files)
    if api is not None:
        _print_stamped(_stamp_via_api(api, files), as_json)
        return
    with ledger() as opened:
        service = opened.timestamps
        signer = opened.client.signer()
        with Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=err, transient=True, disable=len(files) < 50 and total < 50_000_000,
        ) as progress:
            task = progress.add_task(f"hashing {len(files)} files", total=total)
            plan = service.plan(files, signer.address, lambda n: progress.advance(task, n))
            progress.update(task, description="sending")
            result = (
                service.send(plan.batch, signer).with_kept(plan.kept)
                if plan.batch is not None else StampResult(kept=plan.kept)
            )
    _print_stamped(result, as_json)


def _stamp_via_api(api: str, files: list[Path]) -> StampResult:
    from ledger.client.api import ApiClient
    from ledger.client.remote import anchored_via_api, stamp_via_api
    from ledger.context import resolve_account
    from ledger.timestamps.service import StampResult, TimestampService

    settings = get_settings()
    account = resolve_account(settings, embedded=False, prompt=prompt_password, notices=[])
    if account is None:
        raise ValidationError("acting through the API needs your account: `ipledger account new`")
    client = ApiClient(api)
    try:
        plan = TimestampService.plan_files(files, account.address, anchored_via_api(client))
        if plan.batch is None:
            return StampResult(kept=plan.kept)
        return stamp_via_api(client, account, plan.batch, settings).with_kept(plan.kept)
    finally:
        client.close()


def _print_stamped(result: StampResult, as_json: bool) -> None:
    if as_json:
        print_json(result.as_json())
        return
    if result.certificates:
        first = result.certificates[0]
        n = len(result.certificates)
        what = "1 file" if n == 1 else f"{n} files in one batch"
        out.print(
            f"Stamped {what} for {first.author} in block {first.block_number} "
            f"at {first.block_time_iso} (tx {first.tx_hash})."
        )
        if n <= 20:
            for path in result.paths:
                out.print(f"  certificate: {path}")
        else:
            out.print(f"  {n} certificates written beside the files (*.ipledger.json)")
    else:
        out.print("Nothing sent: every file already has a certificate on this chain.")
    if result.kept:
        out.print(f"Kept {len(result.kept)} earlier certificate{'s' if len(result.kept) != 1 else ''} "
                  "(unchanged content already proven; the earliest proof stands, it was not stamped again):")
        for k in result.kept[:20]:
            out.print(f"  kept: {k.certificate_file} (block {k.certificate.block_number} "
                      f"at {k.certificate.block_time_iso})")
        if len(result.kept) > 20:
            out.print(f"  ... and {len(result.kept) - 20} more")


def verify(
    file: Annotated[Path, typer.Argument(help="The file that was stamped, or a folder: every file in it.")],
    certificate: Annotated[
        Path | None,
        typer.Argument(help="Its certificate (default: every FILE.ipledger[.N].json; the earliest that holds)."),
    ] = None,
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Verify a file (or every file in a folder) against its certificates and the chain: who
    committed it, and when. Exit 0 only if every file verifies; 1 if one does not."""
    if file.is_dir() and certificate is not None:
        raise ValidationError(f"{file} is a folder: each file in it is verified with its own certificates")
    if api is not None:
        from ledger.client.api import ApiClient
        from ledger.client.remote import check_via_api

        client = ApiClient(api)
        try:
            _verify_with(file, certificate, check_via_api(client), as_json)
        finally:
            client.close()
        return
    with ledger(need_account=False) as opened:
        _verify_with(file, certificate, opened.timestamps.check, as_json)


def _verify_with(file: Path, certificate: Path | None, check: Checker, as_json: bool) -> None:
    from ledger.timestamps.verification import verify_files, verify_folder

    if file.is_dir():
        report = verify_folder(file, check)
        if as_json:
            print_json(report.as_json())
        else:
            for verdict in report.verdicts:
                out.print(_verdict_line(verdict), markup=False, highlight=False)
            out.print(
                f"{report.verified} of {len(report.verdicts)} files verify"
                + ("." if report.valid else f"; {report.failed} fail{'s' if report.failed == 1 else ''}.")
            )
        if not report.valid:
            raise typer.Exit(1)
        return
    [verdict] = verify_files([file], check, certificate)
    if as_json:
        print_json(verdict.as_json())  # the reason too when it fails, then the exit code says so
    if verdict.verified is None:
        raise verdict.error or VerificationError(verdict.reason or "the certificate does not hold")
    if as_json:
        return
    verified = verdict.verified
    out.print(
        f"[green]VALID[/green] {file} was committed by {verified.author} at {verified.block_time_iso} "
        f"(block {verified.block_number}, tx {verified.tx_hash}, chain {verified.chain_id})."
    )
    if verified.stamper != verified.author:
        out.print(f"  sent on chain by {verified.stamper}; the commitment binds the author above")
    if verdict.certificate_file and certificate is None and verdict.certificate_file != str(certificate_path(file)):
        out.print(f"  certificate: {verdict.certificate_file}")


def _verdict_line(verdict: Verdict) -> str:
    if verdict.verified is None:
        return f"FAILED {verdict.file}: {verdict.reason}"
    v = verdict.verified
    name = Path(verdict.certificate_file or "").name
    return (f"VALID  {verdict.file}: committed by {v.author} at {v.block_time_iso} "
            f"(block {v.block_number}, tx {v.tx_hash}; {name})")


def register(app: typer.Typer) -> None:
    """Add ``stamp`` and ``verify`` to the ``ipledger`` app."""
    app.command()(stamp)
    app.command()(verify)
