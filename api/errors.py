"""The one place where ledger errors become HTTP statuses and RFC 9457 problem JSON."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ConflictError,
    ContractError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    TransactionFailedError,
    ValidationError,
    VerificationError,
)

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
    (TransactionFailedError, 502, "Transaction failed"),
    (ConfigurationError, 503, "Service not configured"),
    (LedgerError, 400, "Refused"),
]


# Context an error may carry that a client can act on; each becomes a member of the problem JSON.
PUBLIC_CONTEXT = ("tx_hash", "estimated_gas", "gas", "max_gas", "nonce", "expected_nonce")


class TooManyRequests(LedgerError):
    """A sender exceeded its request rate."""


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    body = {"type": f"urn:ipledger:problem:{slug}", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def status_of(exc: LedgerError) -> tuple[int, str]:
    if isinstance(exc, TooManyRequests):
        return 429, "Too many requests"
    for cls, status, title in STATUS:
        if isinstance(exc, cls):
            return status, title
    return 400, "Refused"


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        status, title = status_of(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, ContractError):
            extra = {"error": exc.name, "arguments": exc.arguments}
        extra.update({k: exc.context[k] for k in PUBLIC_CONTEXT if exc.context.get(k) is not None})
        return problem(status, title, exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail) if exc.status_code != 404 else "Not found",
                       str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged")
