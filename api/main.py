"""The HTTP API: ``create_app()`` builds it; ``ipledger up`` serves it beside the chain."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

from eth_account import Account
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from ledger.chain.client import dev_accounts
from ledger.context import Ledger, open_ledger
from ledger.settings import Settings, get_settings

from . import docs, errors
from .limits import BodySizeLimit, JsonDepthLimit, RateLimiter, SenderAdmission
from .paths import API_PREFIX
from .routers import (
    assets,
    audit,
    chain,
    coowners,
    disputes,
    documents,
    licenses,
    market,
    metadata,
    pledges,
    prepare,
    relay,
    sealed,
    stamps,
    timestamps,
)
from .web import router as pages_router

DESCRIPTION = """
A ledger for intellectual property on an EVM chain.

**Reads** are public. **Writes** are ERC-2771 requests that users sign with EIP-712 using
their own keys; the server relays them through OpenZeppelin's `ERC2771Forwarder` and never
sees a user's key. Any EIP-712 wallet (ethers, viem, MetaMask's `eth_signTypedData_v4`) writes
in three calls:

Every JSON route is under `/api/v1`; the web pages are at plain paths (`/`, `/verify`, ...).

1. `GET /api/v1/chain/contracts`: the contracts' names, addresses and ABIs, the forwarder's domain and
   `ForwardRequest` type, the enum tables (number, Solidity name, label).
2. `POST /api/v1/relay/prepare` with `{"from", "contract", "function", "args"}` (human values: kinds by
   label, dates, official numbers): the typed data to sign (`domain`, `types`, `primaryType`,
   `message` with calldata, forwarder nonce, estimated gas and deadline).
3. `POST /api/v1/relay` with the `message` and the wallet's `signature` over it.
Errors are RFC 9457 problem documents; a contract's custom error is named in `error`.
"""


def freeze_startup_heap() -> None:
    """Exempt what a serving process built at start-up from the cyclic garbage collector.

    The modules, the app and its schemas, web3's contracts and ABIs live as long as the process,
    yet every full collection walked all of them again: 140 ms with every thread stopped, twice
    in a 1,000-request benchmark run (benchmarks/api.md). ``gc.freeze`` is the standard library's
    way to say so; objects made later are collected as before. Called once, by the commands that
    serve (``serve``, ``up``), not by ``create_app``: a test process builds many apps.
    """
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def open_api_ledger(settings: Settings) -> Iterator[Ledger]:
    """The ledger the API serves: acting as the relayer (IPLEDGER_RELAYER_KEY, or the account)."""
    relayer = None
    if settings.relayer_key is not None:
        relayer = Account.from_key(settings.relayer_key.get_secret_value())
    elif settings.rpc_url is None:
        relayer = dev_accounts(1)[0]
    with open_ledger(settings, account=relayer, need_account=relayer is None) as ledger:
        yield ledger


@contextlib.contextmanager
def _stamp_service(ledger: Ledger) -> Iterator[None]:
    """Run the ledger's stamp service (if it has one) while the app serves."""
    service = ledger.stamp_service
    if service is not None:
        service.start()
    try:
        yield
    finally:
        if service is not None:
            service.stop()


def _share_limits(app: FastAPI, ledger: Ledger) -> None:
    """Replicas on one database share their buckets (SQLite serves one process: kept in memory)."""
    if ledger.shared is not None and ledger.shared.dialect.name != "sqlite":
        for limiter in (app.state.rate_limiter, app.state.client_rate_limiter, app.state.stamp_rate_limiter):
            limiter.engine = ledger.shared


def _openapi_states_settings(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI schema states the limits this server is configured with, which no schema class can know:
    ``StampsCreate.leaves`` at most ``IPLEDGER_STAMP_MAX_LEAVES_PER_REQUEST`` items."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            leaves = schema["components"]["schemas"]["StampsCreate"]["properties"]["leaves"]
            leaves["maxItems"] = settings.stamp_max_leaves_per_request
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    """Build the app; with ``ledger`` it serves that open ledger, else it opens one per its settings."""
    settings = settings or (ledger.settings if ledger else get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ledger is not None:  # `ipledger serve` and `up` hand over the ledger they opened
            app.state.ledger = ledger
            _share_limits(app, ledger)
            with _stamp_service(ledger):
                yield
            return
        with open_api_ledger(settings) as opened, _stamp_service(opened):
            app.state.ledger = opened
            _share_limits(app, opened)
            yield

    # /api/v1/docs is served by api.docs from the pinned swagger-ui-dist (FastAPI's own loads it from a CDN).
    app = FastAPI(title="ipledger", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    app.state.rate_limiter = RateLimiter(settings.api_rate_per_second, 2 * settings.api_rate_per_second)
    app.state.client_rate_limiter = RateLimiter(settings.api_client_rate_per_second,
                                                2 * settings.api_client_rate_per_second)
    app.state.stamp_rate_limiter = RateLimiter(settings.stamp_client_leaves_per_second,
                                               2 * settings.stamp_client_leaves_per_second)
    app.state.sender_admission = SenderAdmission(app.state.rate_limiter)
    app.state.trusted_proxies = tuple(settings.api_trusted_proxies)
    errors.install(app)
    app.add_middleware(JsonDepthLimit)  # inside BodySizeLimit (added after it: outermost), so on bounded bodies
    app.add_middleware(BodySizeLimit, limit=settings.api_max_body_bytes,
                       overrides={f"{API_PREFIX}/sealed": settings.sealed_max_bytes + 2_000_000})
    for router in (chain.router, prepare.router, relay.router, timestamps.router, stamps.router, assets.router,
                   disputes.router, licenses.router, pledges.router, market.router, metadata.router, audit.router,
                   documents.router, sealed.router, sealed.keys_router, coowners.router, docs.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(pages_router)
    _openapi_states_settings(app, settings)
    return app


__all__ = ["create_app", "open_api_ledger", "HTMLResponse"]
