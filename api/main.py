"""The HTTP API: ``create_app()`` builds it; ``ipledger up`` serves it beside the chain."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from eth_account import Account
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from ledger.chain.client import dev_accounts
from ledger.context import Ledger, open_ledger
from ledger.settings import Settings, get_settings

from . import docs, errors
from .limits import BodySizeLimit, RateLimiter
from .pages import router as pages_router
from .routers import assets, audit, chain, licenses, market, metadata, pledges, prepare, relay, timestamps

DESCRIPTION = """
A ledger for intellectual property on an EVM chain.

**Reads** are public. **Writes** are ERC-2771 requests that users sign with EIP-712 using
their own keys; the server relays them through OpenZeppelin's `ERC2771Forwarder` and never
sees a user's key. Any EIP-712 wallet (ethers, viem, MetaMask's `eth_signTypedData_v4`) writes
in three calls:

1. `GET /chain/contracts`: the contracts' names, addresses and ABIs, the forwarder's domain and
   `ForwardRequest` type, the enum tables (number, Solidity name, label).
2. `POST /relay/prepare` with `{"from", "contract", "function", "args"}` (human values: kinds by
   label, dates, official numbers): the typed data to sign (`domain`, `types`, `primaryType`,
   `message` with calldata, forwarder nonce, estimated gas and deadline).
3. `POST /relay` with the `message` and the wallet's `signature` over it.
Errors are RFC 9457 problem documents; a contract's custom error is named in `error`.
"""


@contextlib.contextmanager
def _ledger_for(settings: Settings) -> Iterator[Ledger]:
    relayer = None
    if settings.relayer_key is not None:
        relayer = Account.from_key(settings.relayer_key.get_secret_value())
    elif settings.rpc_url is None:
        relayer = dev_accounts(1)[0]
    with open_ledger(settings, account=relayer, need_account=relayer is None) as ledger:
        yield ledger


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    """Build the app; with ``ledger`` it serves that open ledger, else it opens one per its settings."""
    settings = settings or (ledger.settings if ledger else get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ledger is not None:
            app.state.ledger = ledger
            yield
            return
        with _ledger_for(settings) as opened:
            app.state.ledger = opened
            yield

    # /docs is served by api.docs from the pinned swagger-ui-dist (FastAPI's own loads it from a CDN).
    app = FastAPI(title="ipledger", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.rate_limiter = RateLimiter(settings.api_rate_per_second, 2 * settings.api_rate_per_second)
    app.state.client_rate_limiter = RateLimiter(settings.api_client_rate_per_second,
                                                2 * settings.api_client_rate_per_second)
    app.state.trusted_proxies = tuple(settings.api_trusted_proxies)
    errors.install(app)
    app.add_middleware(BodySizeLimit, limit=settings.api_max_body_bytes)
    for router in (chain.router, prepare.router, relay.router, timestamps.router, assets.router, licenses.router,
                   pledges.router, market.router, metadata.router, audit.router, pages_router, docs.router):
        app.include_router(router)
    return app


__all__ = ["create_app", "HTMLResponse"]
