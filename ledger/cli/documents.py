"""``ipledger certificate render`` and ``ipledger recheck``: documents people keep, and their re-check.

The other documents hang off the commands whose data they print: ``stamp --pdf``, ``check --pdf``
and ``audit report``. Every document is written whole or not at all (a temp file, then a rename):
bad input leaves no partial file behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.markup import escape

from ledger.cli.shell import JsonOption, ledger, out, print_json
from ledger.errors import ValidationError
from ledger.files import atomic_writer
from ledger.settings import get_settings

certificate_app = typer.Typer(help="Certificates as documents: HTML or PDF, Chinese or English, with a QR code.",
                              no_args_is_help=True)

LangOption = Annotated[str, typer.Option("--lang", help="The document's language: zh or en.")]
FormatOption = Annotated[str, typer.Option("--format", help="pdf or html.")]


def public_url(chain_id: int) -> str:
    """Where the QR codes of chain ``chain_id``'s certificates point (see :func:`public_url_of`)."""
    from ledger.documents.tokens import public_url_of

    return public_url_of(get_settings(), chain_id)


def write_document(path: Path, data: bytes) -> None:
    """Write a document a user named (or one beside a certificate): whole or not at all, with the mode the umask
    gives a new file (documents are for sharing), into a folder that exists; else "cannot write" (exit 2)."""
    with output_file(path) as fh:
        fh.write(data)


@contextmanager
def output_file(path: Path, *, text: bool = False) -> Iterator[IO[Any]]:
    """A file a command writes at the user's request (a document, an export): a temp file beside ``path``,
    renamed onto it when the block completes (``text``: UTF-8, newlines as written). A folder that does not
    exist, a ``path`` that is a folder or a device, a full disk: ValidationError "cannot write PATH: why"
    (exit 2), and no partial file is left behind."""
    try:
        with atomic_writer(path, text=text, shared=True, make_parents=False) as fh:
            yield fh
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror or exc}", path=str(path)) from None


@certificate_app.command("render")
def certificate_render(
    certificate: Annotated[Path, typer.Argument(help="The certificate: FILE.ipledger.json (or a certificate PDF).")],
    fmt: FormatOption = "pdf",
    lang: LangOption = "zh",
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="Where to write it (default: beside the certificate, "
                                                     "FILE.ipledger.pdf or .html).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Render a certificate as a PDF or HTML document, with a QR code that opens the verify page.

    The PDF carries the certificate JSON, so `ipledger verify FILE CERT.pdf` verifies from it alone.
    Nothing is read from the chain: render first, verify whenever.
    """
    from ledger.documents.certificate import render_certificate
    from ledger.documents.i18n import locale_of
    from ledger.timestamps.proofs import Certificate

    locale_of(lang)
    if fmt not in ("pdf", "html"):
        raise ValidationError(f"--format is pdf or html, not {fmt!r}")
    cert = Certificate.load(certificate)
    target = output or _beside(certificate, fmt)
    if target.resolve() == certificate.resolve():
        raise ValidationError(f"{target} is the certificate itself; choose another name with -o")
    data = render_certificate(cert, fmt=fmt, lang=lang, public_url=public_url(cert.chain_id),
                              zone=get_settings().document_timezone)
    write_document(target, data)
    if as_json:
        print_json({"certificate": str(certificate), "document": str(target), "format": fmt, "lang": lang,
                    "bytes": len(data)})
        return
    out.print(f"Wrote {target} ({fmt}, {lang}, {len(data):,} bytes).", highlight=False)


def _beside(certificate: Path, fmt: str) -> Path:
    name = certificate.name
    stem = name[: -len(".json")] if name.endswith(".json") else (name[: -len(".pdf")] if name.endswith(".pdf")
                                                                 else name)
    return certificate.with_name(f"{stem}.{fmt}")


def recheck(
    report: Annotated[Path, typer.Argument(help="A due-diligence report: its PDF (or its JSON).")],
    as_json: JsonOption = False,
) -> None:
    """Re-check a due-diligence report: read the chain again AT the report's block and compare.

    Exit 0 if the chain says what the report says, 1 if anything differs (an altered report), 3 if
    this node keeps no state of the report's block (a restarted embedded chain, a pruning node): then
    what needs no state (the block, the asset's events) is compared, and an archive node can say the rest.
    """
    from ledger.documents.due_diligence import load_report
    from ledger.documents.due_diligence import recheck as compare

    try:
        raw = report.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {report}: {exc.strerror or exc}", path=str(report)) from None
    data = load_report(raw, str(report))
    with ledger(need_account=False) as opened:
        result = compare(data, opened.client.chain_id, opened.check.due_diligence_at, opened.check.trail_at)
    if as_json:
        print_json(result.as_json())
    elif result.ok:
        out.print(f"[green]OK[/green] the report of asset {result.asset_id} holds: the chain at block "
                  f"{result.block_number} says exactly what it says.", highlight=False)
    elif result.status == "unverifiable":
        out.print(f"[yellow]NOT RE-CHECKED[/yellow] the report of asset {result.asset_id}: "
                  f"{escape(result.unverifiable or '')}", highlight=False)
        for line in result.checked:
            out.print(f"  still holds: {line}", highlight=False, markup=False)
    else:
        out.print(f"[red]ALTERED[/red] the report of asset {result.asset_id} differs from the chain at block "
                  f"{result.block_number}:", highlight=False)
        for line in result.differences[:40]:
            out.print(f"  {line}", highlight=False, markup=False)
    if result.status == "unverifiable":
        raise typer.Exit(3)  # the chain cannot answer (README: 3), not a failed verification (1)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``certificate`` and ``recheck`` to the ``ipledger`` app."""
    app.add_typer(certificate_app, name="certificate")
    app.command()(recheck)
