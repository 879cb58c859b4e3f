"""Dependencies the routers share, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ledger.context import Ledger
from ledger.settings import Settings

from . import refusals


# ``async def``: these only read app state, and a plain ``def`` dependency would cost every request a
# hand-off to the thread pool and back (measured on the relay's hot path, benchmarks/api.md).
async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def get_settings_dep(request: Request) -> Settings:
    ledger: Ledger = request.app.state.ledger
    return ledger.settings


def get_locale(request: Request) -> str | None:
    """The language the request states (``?lang=``, the ``lang`` cookie, Accept-Language); None: English."""
    return refusals.requested(request)


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
LocaleDep = Annotated[str | None, Depends(get_locale)]
"""For a route that words a reason itself (not through an exception): ``refusals.detail(exc, locale)``."""
