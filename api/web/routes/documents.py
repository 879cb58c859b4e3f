"""Documents to download from the pages: a bank's due-diligence report and the audit report of a period.

Links, not forms: ``/assets/{id}/check.pdf?maturity=2030-06-30`` and
``/audit/report.pdf?from=2026-05-01&to=2026-05-31`` (``.html`` for the same document as a page;
``?lang=zh|en``, else the page's language). Errors render the error page in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import LedgerDep
from ledger.audit.indexer import sources_from_deployment
from ledger.documents.audit_report import build_audit_report, parse_period, render_audit_report
from ledger.documents.due_diligence import render_due_diligence

from .. import i18n

MAX_ID = 2**53 - 1
MAX_CHECK_BLOCKS = 10_000
"""Most blocks the audit report's consistency check compares (as ``/api/v1/audit/verify``)."""
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}

router = APIRouter(include_in_schema=False)


def _lang(request: Request, lang: str | None) -> str:
    return lang or ("en" if i18n.negotiate(request) == "en" else "zh")


def _document(data: bytes, fmt: str, name: str) -> Response:
    disposition = "attachment" if fmt == "pdf" else "inline"
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": f'{disposition}; filename="{name}"'})


@router.get("/assets/{asset_id}/check.{fmt}")
def check_report(
    request: Request,
    ledger: LedgerDep,
    asset_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    fmt: Literal["pdf", "html"],
    maturity: Annotated[str | None, Query()] = None,
    lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
) -> Response:
    report = ledger.check.due_diligence(asset_id, maturity or 0)
    data = render_due_diligence(report, chain_id=ledger.client.chain_id, fmt=fmt, lang=_lang(request, lang),
                                zone=ledger.settings.document_timezone)
    return _document(data, fmt, f"due-diligence-{asset_id}-block-{report.block_number}.{fmt}")


@router.get("/audit/report.{fmt}")
def audit_report(
    request: Request,
    ledger: LedgerDep,
    fmt: Literal["pdf", "html"],
    since: Annotated[str, Query(alias="from")],
    until: Annotated[str, Query(alias="to")],
    lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
) -> Response:
    start, end = parse_period(since, until)
    audit = ledger.audit
    sources = sources_from_deployment(ledger.deployment, ledger.artifacts)
    report = build_audit_report(audit, start, end, lambda first, last: audit.verify(
        ledger.client, sources, from_block=first, to_block=last, max_blocks=MAX_CHECK_BLOCKS))
    data = render_audit_report(report, fmt=fmt, lang=_lang(request, lang), zone=ledger.settings.document_timezone)
    days = "-".join(dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%d") for t in (start, end))
    return _document(data, fmt, f"audit-report-{days}.{fmt}")
