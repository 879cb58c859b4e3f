"""The one place where ledger errors become HTTP statuses and RFC 9457 problem JSON.

A problem's ``title`` and ``detail`` are in the language the request states (``api.refusals``:
``?lang=``, the ``lang`` cookie, ``Accept-Language``; ``Content-Language`` says which), English when
it states none; its ``type`` is always derived from the English title.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ConflictError,
    ContractError,
    DataCorruptedError,
    FeeCapExceededError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    RelayerFundsLowError,
    TransactionFailedError,
    ValidationError,
    VerificationError,
)

from . import refusals, validation
from .paths import API_PREFIX

log = logging.getLogger("ipledger.api")

PROBLEM = "application/problem+json"

# Most specific first: a class appears before its bases.
STATUS: list[tuple[type[LedgerError], int, str]] = [
    (VerificationError, 422, "Verification failed"),
    (ValidationError, 400, "Bad request"),
    (NotFoundError, 404, "Not found"),
    (PermissionDeniedError, 403, "Forbidden"),
    (ConflictError, 409, "Refused by a rule of the ledger"),
    (ChainUnavailableError, 503, "Chain unavailable"),
    (FeeCapExceededError, 503, "Chain fees above the cap"),
    (RelayerFundsLowError, 503, "Relayer low on funds"),
    (TransactionFailedError, 502, "Transaction failed"),
    (ConfigurationError, 503, "Service not configured"),
    (DataCorruptedError, 500, "Stored data corrupted"),
    (LedgerError, 400, "Refused"),
]


# Context an error may carry that a client can act on; each becomes a member of the problem JSON.
PUBLIC_CONTEXT = ("tx_hash", "estimated_gas", "gas", "max_gas", "nonce", "expected_nonce")


class TooManyRequests(LedgerError):
    """A sender exceeded its request rate."""


def problem(status: int, title: str, detail: str, *, locale: str | None = None, **extra: Any) -> JSONResponse:
    """A problem document; ``title`` (English, it names the ``type``) is given in ``locale`` (None: English)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    body = {"type": f"urn:ipledger:problem:{slug}", "title": refusals.text(title, locale), "status": status,
            "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=refusals.content_language(locale))


def status_of(exc: LedgerError) -> tuple[int, str]:
    if isinstance(exc, TooManyRequests):
        return 429, "Too many requests"
    for cls, status, title in STATUS:
        if isinstance(exc, cls):
            return status, title
    return 400, "Refused"


def is_page(request: Request) -> bool:
    """A web page (answered with an HTML page in the reader's language), not the JSON API or a file."""
    path = request.url.path
    return not path.startswith((API_PREFIX, "/static/", "/vendor/"))


def page_problem(request: Request, status: int, title: str, detail: str | LedgerError, *,
                 translated: bool = False) -> Response:
    """The error page in the reader's language (``detail``: an English text of ours, the ledger's error, or
    a text already in the reader's language when ``translated``)."""
    from .web import i18n  # the pages' language and renderer; only pages need them
    from .web.templating import render

    locale = i18n.negotiate(request)
    if isinstance(detail, LedgerError):
        shown = refusals.detail(detail, locale, refusals.money_of(request))
    else:
        shown = detail if translated else refusals.text(detail, locale)
    return render(request, "error.html", status_code=status, status=status, title=refusals.text(title, locale),
                  detail=shown)


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, exc: LedgerError) -> Response:
        status, title = status_of(exc)
        if is_page(request):
            return page_problem(request, status, title, exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, ContractError):
            extra = {"error": exc.name, "arguments": exc.arguments}
        extra.update({k: exc.context[k] for k in PUBLIC_CONTEXT if exc.context.get(k) is not None})
        locale = refusals.requested(request)
        return problem(status, title, refusals.detail(exc, locale, refusals.money_of(request)), locale=locale,
                       **extra)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if is_page(request):
            from .web import i18n

            shown, _ = validation.problem_parts(exc.errors(), i18n.negotiate(request))
            return page_problem(request, 400, "Bad request", shown, translated=True)
        locale = refusals.requested(request)
        detail, errors = validation.problem_parts(exc.errors(), locale)
        return problem(422, "Invalid request", detail, locale=locale, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page(request):
            detail = refusals.NO_PAGE if exc.status_code == 404 and exc.detail == "Not Found" else str(exc.detail)
            return page_problem(request, exc.status_code, "Not found" if exc.status_code == 404 else str(exc.detail),
                                detail)
        return problem(exc.status_code, str(exc.detail) if exc.status_code != 404 else "Not found",
                       str(exc.detail), locale=refusals.requested(request))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        if is_page(request):
            return page_problem(request, 500, "Internal error", "an unexpected error occurred; it has been logged")
        locale = refusals.requested(request)
        return problem(500, "Internal error", refusals.text("an unexpected error occurred; it has been logged", locale),
                       locale=locale)
