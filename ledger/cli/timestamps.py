"""``ipledger stamp`` and ``ipledger verify``: proofs of existence from the command line."""

from __future__ import annotations

from collections.abc import Callable
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
    from ledger.timestamps.proofs import Certificate
    from ledger.timestamps.service import StampResult, Verified
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
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write each new certificate as a PDF beside its JSON "
                                                    "(FILE.ipledger.pdf), with a QR code; it verifies alone.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="The PDF's language: zh or en.")] = "zh",
    revises: Annotated[Path | None, typer.Option(
        "--revises", help="The certificate of the earlier version this file revises (OLD.ipledger.json): the "
                          "new stamp binds it, forming a version chain `ipledger verify` shows back to the first "
                          "version. One file only.")] = None,
    as_json: JsonOption = False,
    api: ApiOption = None,
    service_url: Annotated[str | None, typer.Option(
        "--service", envvar="IPLEDGER_STAMP_SERVICE_URL",
        help="Stamp through this server's stamp service (the address --api takes): only the leaves travel, the "
             "service signs a pending receipt at once and anchors them with others' in its next round (a few gas "
             "each); the certificates are written when the round is anchored.")] = None,
) -> None:
    """Timestamp files: an author-bound commitment on chain, a certificate beside each file.

    A certificate is never overwritten: a file whose content already has a certificate on
    this chain is kept as it is (the earliest proof is the valuable one), and a file changed
    since gets its new certificate beside the earlier one (FILE.ipledger.2.json, ...).
    """
    from ledger.timestamps.service import StampResult, collect_files

    if pdf:
        from ledger.documents.i18n import locale_of

        locale_of(lang)  # bad input before anything is sent
    files = collect_files(paths, include_certificates)
    if pdf:  # no CJK font: refused before anything is sent, not after the stamp with empty boxes in its PDF
        from ledger.documents.fonts import require_cjk_font

        require_cjk_font(*([] if lang == "zh" else [f.name for f in files]))
    total = sum(f.stat().st_size for f in files)
    earlier = None
    if revises is not None:
        from ledger.timestamps.proofs import Certificate

        earlier = Certificate.load(revises)
        if len(files) != 1:
            raise ValidationError(f"--revises names the earlier version of one file; {len(files)} files were given")
        if api is not None or service_url is not None:
            raise ValidationError("a revision is stamped with the local ledger, not through --api or --service")
    if api is not None and service_url is not None:
        raise ValidationError("--api relays your own stamp transaction, --service has the stamp service anchor it: "
                              "choose one")
    if service_url is not None:
        result = _stamp_via_service(service_url, files)
        _print_stamped(result, as_json, _write_pdfs(result, lang) if pdf else [])
        return
    if api is not None:
        result = _stamp_via_api(api, files)
        _print_stamped(result, as_json, _write_pdfs(result, lang) if pdf else [])
        return
    with ledger() as opened:
        service = opened.timestamps
        signer = opened.client.signer()
        with Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=err, transient=True, disable=len(files) < 50 and total < 50_000_000,
        ) as progress:
            task = progress.add_task(f"hashing {len(files)} files", total=total)
            plan = service.plan(files, signer.address, lambda n: progress.advance(task, n), revises=earlier)
            progress.update(task, description="sending")
            result = (
                service.send(plan.batch, signer).with_kept(plan.kept)
                if plan.batch is not None else StampResult(kept=plan.kept)
            )
    _print_stamped(result, as_json, _write_pdfs(result, lang) if pdf else [])


def _write_pdfs(result: StampResult, lang: str) -> list[str]:
    """A PDF beside each new certificate (``FILE.ipledger.pdf``); the JSON stays the proof of record."""
    from ledger.cli.documents import public_url, write_document
    from ledger.documents.certificate import render_certificate
    from ledger.timestamps.proofs import certificate_pdf_path

    zone = get_settings().document_timezone
    written = []
    for cert, path in zip(result.certificates, result.paths, strict=True):
        target = certificate_pdf_path(path)
        write_document(target, render_certificate(cert, fmt="pdf", lang=lang, public_url=public_url(cert.chain_id),
                                                  zone=zone))
        written.append(str(target))
    return written


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


def _stamp_via_service(url: str, files: list[Path]) -> StampResult:
    from ledger.client.api import ApiClient
    from ledger.client.remote import anchored_via_api, sign_service_batch, stamp_via_service
    from ledger.context import resolve_account
    from ledger.timestamps.service import StampResult, TimestampService

    settings = get_settings()
    # The service sends the stamp, so the author signs the batch's root: without that signature a
    # certificate would name an author nobody can hold to it (anyone may send anyone's address).
    account = resolve_account(settings, embedded=False, prompt=prompt_password, notices=[])
    if account is None:
        raise ValidationError("a stamp names its author, who signs it: create your account with `ipledger account new`")
    client = ApiClient(url)
    try:
        plan = TimestampService.plan_files(files, account.address, anchored_via_api(client))
        if plan.batch is None:
            return StampResult(kept=plan.kept)
        batch = sign_service_batch(client, plan.batch, account)
        with err.status(f"waiting for the stamp service to anchor {len(batch.items)} leaves"):
            return stamp_via_service(client, batch, settings).with_kept(plan.kept)
    finally:
        client.close()


def _print_stamped(result: StampResult, as_json: bool, pdfs: list[str] | None = None) -> None:
    pdfs = pdfs or []
    if as_json:
        entries = result.as_json()
        for entry, pdf in zip(entries, pdfs, strict=False):  # written certificates come first
            entry["pdf_file"] = pdf
        print_json(entries)
        return
    if result.certificates:
        first = result.certificates[0]
        n = len(result.certificates)
        what = "1 file" if n == 1 else f"{n} files in one batch"
        out.print(
            f"Stamped {what} for {first.author} in block {first.block_number} "
            f"at {first.block_time_iso} (tx {first.tx_hash})."
        )
        if first.revises is not None:
            out.print(f"  revises {first.revises.certificate.file_name} (root {first.revises.root}, block "
                      f"{first.revises.certificate.block_number}); version {len(first.chain())} of its chain")
        if n <= 20:
            for path in result.paths:
                out.print(f"  certificate: {path}")
            for pdf in pdfs:
                out.print(f"  PDF: {pdf}")
        else:
            out.print(f"  {n} certificates written beside the files (*.ipledger.json)")
    else:
        out.print("Nothing sent: every file already has a certificate on this chain.")
    if result.kept:
        out.print(f"Kept {len(result.kept)} earlier certificate{'s' if len(result.kept) != 1 else ''} "
                  "(unchanged content already proven; the earliest proof stands, it was not stamped again):")
        for k in result.kept[:20]:
            how = "restored from the stamp archive (it was missing)" if k.restored else "kept"
            out.print(f"  {how}: {k.certificate_file} (block {k.certificate.block_number} "
                      f"at {k.certificate.block_time_iso})")
        if len(result.kept) > 20:
            out.print(f"  ... and {len(result.kept) - 20} more")


def verify(
    file: Annotated[Path, typer.Argument(help="The file that was stamped, or a folder: every file in it.")],
    certificate: Annotated[
        Path | None,
        typer.Argument(help="Its certificate, JSON or PDF (default: every FILE.ipledger[.N].json; the earliest "
                            "that holds)."),
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
        _verify_with(file, certificate, opened.timestamps.check, as_json, opened.timestamps.verify_chain)


def _verify_with(file: Path, certificate: Path | None, check: Checker, as_json: bool,
                 chain_of: Callable[[Certificate], list[Verified]] | None = None) -> None:
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
    versions: list[tuple[Certificate, Verified]] = []
    if verdict.verified is not None and verdict.certificate_file and chain_of is not None:
        from ledger.timestamps.proofs import Certificate

        held = Certificate.load(verdict.certificate_file)
        if held.revises is not None:
            versions = list(zip(held.chain(), chain_of(held), strict=True))  # a broken link raises here
    if as_json:
        data = verdict.as_json()  # the reason too when it fails, then the exit code says so
        if versions:
            data["versions"] = [{"version": n, "file_name": c.file_name, "root": c.root, "leaf": c.leaf,
                                 "digest": c.digest, "author": v.author, "block_number": v.block_number,
                                 "block_time_iso": v.block_time_iso, "tx_hash": v.tx_hash, "valid": True}
                                for n, (c, v) in enumerate(versions, start=1)]
        print_json(data)
    if verdict.verified is None:
        raise verdict.error or VerificationError(verdict.reason or "the certificate does not hold")
    if as_json:
        return
    verified = verdict.verified
    out.print(
        f"[green]VALID[/green] {file} was committed by {verified.author} at {verified.block_time_iso} "
        f"(block {verified.block_number}, tx {verified.tx_hash}, chain {verified.chain_id})."
    )
    if verified.finality is not None:
        out.print(f"  {verified.finality.sentence()}", markup=False, highlight=False)
    if verified.stamper != verified.author:
        out.print(f"  sent on chain by {verified.stamper}; the author signed the commitment (its authorship "
                  "signature is checked)")
    if verdict.certificate_file and certificate is None and verdict.certificate_file != str(certificate_path(file)):
        out.print(f"  certificate: {verdict.certificate_file}")
    if versions:
        out.print(f"  version {len(versions)} of a chain of {len(versions)}; every link verifies on its own:")
        for n, (cert, link) in enumerate(versions, start=1):
            out.print(f"    {n}. {cert.file_name}  sha256 {cert.digest}  by {link.author} at {link.block_time_iso} "
                      f"(block {link.block_number}, tx {link.tx_hash})", markup=False, highlight=False)
        authors = list(dict.fromkeys(link.author for _, link in versions))
        if len(authors) > 1:  # anyone may revise a stamp they hold the certificate of: say so, never imply one author
            out.print(f"  note: the chain has {len(authors)} authors ({', '.join(authors)}); each version proves "
                      "only its own author", markup=False, highlight=False)


def _verdict_line(verdict: Verdict) -> str:
    if verdict.verified is None:
        return f"FAILED {verdict.file}: {verdict.reason}"
    v = verdict.verified
    name = Path(verdict.certificate_file or "").name
    final = f"; {v.finality.sentence()}" if v.finality is not None else ""
    return (f"VALID  {verdict.file}: committed by {v.author} at {v.block_time_iso} "
            f"(block {v.block_number}, tx {v.tx_hash}; {name}{final})")


def register(app: typer.Typer) -> None:
    """Add ``stamp`` and ``verify`` to the ``ipledger`` app."""
    app.command()(stamp)
    app.command()(verify)
