"""``ipledger index`` and ``ipledger audit ...``: the indexer and the auditor's queries."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO, cast

import typer
from rich.table import Table

from ledger.cli.shell import JsonOption, err, out, print_json
from ledger.context import Ledger, open_ledger
from ledger.settings import get_settings

# -- indexer and audit -------------------------------------------------------------

audit_app = typer.Typer(
    help="Audit the indexed history: queries, totals, exports, and a re-check against the chain.",
    no_args_is_help=True,
)


@contextmanager
def _indexed_chain() -> Iterator[Ledger]:
    """The chain and deployment to index or verify (read-only: no account, no re-sending)."""
    with open_ledger(need_account=False, reconcile=False) as opened:
        yield opened


@contextmanager
def _store() -> Iterator[Any]:
    from ledger.audit.store import Store, default_db_url

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

    from ledger.audit.indexer import ChunkReport, Indexer, ManifestWatcher, SyncReport, sources_from_deployment
    from ledger.chain.deployment import manifest_path

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
                          confirmations=confirmations, on_chunk=progress,
                          finalized_only=get_settings().index_finalized_only)
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
    from ledger.audit.queries import HistoryQuery, normalize_account, normalize_asset, parse_time

    return HistoryQuery(
        asset_id=normalize_asset(asset) if asset is not None else None,
        account=normalize_account(account) if account is not None else None,
        event=event, contract=contract, from_block=from_block, to_block=to_block,
        since=parse_time(since) if since else None, until=parse_time(until) if until else None,
    )


def _declared_events() -> set[tuple[str, str]]:
    """``(contract, event)`` of every event the ledger's contracts declare (compiled, cached), or none when the
    contracts cannot be read here (the index's own events still name the known kinds)."""
    from ledger.audit.indexer import UNKNOWN_EVENT
    from ledger.chain.toolchain import compile_contracts
    from ledger.errors import LedgerError

    try:
        artifacts = compile_contracts()
    except LedgerError:
        return set()
    return {(name, str(item["name"])) for name, artifact in artifacts.items() for item in artifact.abi
            if item.get("type") == "event"} | {(name, UNKNOWN_EVENT) for name in artifacts}


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
    from ledger.audit.queries import AuditService, write_csv, write_json

    query = _history_query(asset, account, event, contract, from_block, to_block, since, until)
    with _store() as store:
        audit = AuditService(store, chain_id)
        if event is not None:
            audit.check_event_name(event, _declared_events())
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
                from ledger.cli.documents import output_file

                with output_file(csv_file, text=True) as fh:  # whole or not at all; "cannot write" is exit 2
                    count = write_csv(rows, cast(TextIO, fh))
                err.print(f"wrote {count} rows to {csv_file}", highlight=False)
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
    from ledger.audit.queries import AuditService

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
    from ledger.audit.indexer import sources_from_deployment
    from ledger.audit.queries import AuditService

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
        behind = f" ({report.behind_blocks} blocks behind)" if report.behind_blocks else ""
        out.print(f"Indexed to block {report.indexed_to}; the chain's head is block {report.head}{behind}.")
        if report.unfollowed:
            out.print(f"[red]DIFFERS[/red] contracts of the deployment the index does not follow: "
                      f"{', '.join(report.unfollowed)}")
        if report.unindexed_events:
            out.print(f"[red]DIFFERS[/red] the chain holds {report.unindexed_events} events of the followed "
                      f"contracts that the database lacks (after block {report.indexed_to}, or of contracts not "
                      "followed): run `ipledger index`.")
        if report.ok:
            out.print("[green]OK[/green] the database matches the chain.")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("report")
def audit_report(
    since: Annotated[str, typer.Option("--from", help="The period's first day or time (2026-05-01, ISO or Unix).")],
    until: Annotated[str, typer.Option("--to", help="The period's last day (inclusive: all of 2026-05-31) or time.")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the report as a PDF to this file.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the report as HTML to this file.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="The documents' language: zh or en.")] = "zh",
    check: Annotated[bool, typer.Option("--check/--no-check",
                                        help="Check the index against the chain over the period's blocks.")] = True,
    as_json: JsonOption = False,
) -> None:
    """The audit report of a period: totals, a chart, its pledges and licence recordals, and the index's
    consistency with the chain. A period without events is refused (exit 1) and writes nothing."""
    from ledger.audit.indexer import sources_from_deployment
    from ledger.audit.queries import AuditService
    from ledger.cli.documents import write_document
    from ledger.documents.audit_report import build_audit_report, parse_period, render_audit_report
    from ledger.documents.i18n import locale_of

    locale_of(lang)
    start, end = parse_period(since, until)
    if pdf is not None and lang == "zh":  # no CJK font: said before the chain is checked
        from ledger.documents.fonts import require_cjk_font

        require_cjk_font()
    with _store() as store:
        if check:
            with _indexed_chain() as opened:
                audit = AuditService(store, opened.client.chain_id)
                sources = sources_from_deployment(opened.deployment, opened.artifacts)
                report = build_audit_report(audit, start, end, lambda first, last: audit.verify(
                    opened.client, sources, from_block=first, to_block=last))
        else:
            report = build_audit_report(AuditService(store), start, end)
    zone = get_settings().document_timezone
    for target, fmt in ((pdf, "pdf"), (html, "html")):
        if target is not None:
            write_document(target, render_audit_report(report, fmt=fmt, lang=lang, zone=zone))
            err.print(f"wrote {target}", highlight=False)
    if as_json:
        print_json(report.as_json())
        return
    out.print(f"Chain {report.chain_id}, {report.as_json()['from']} to {report.as_json()['to']}: {report.events} "
              f"events in blocks {report.first_block}..{report.last_block}; {len(report.pledges)} pledges, "
              f"{len(report.recordals)} licence recordals.")
    if report.consistency is not None:
        verdict = "[green]OK[/green] the index matches the chain" if report.consistency["ok"] else \
            "[red]DIFFERS[/red] the index does not match the chain (`ipledger audit verify` says where)"
        out.print(verdict)


def register(app: typer.Typer) -> None:
    """Add ``index`` and ``audit`` to the ``ipledger`` app."""
    app.command()(index)
    app.add_typer(audit_app, name="audit")
