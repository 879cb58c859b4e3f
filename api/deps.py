"""Dependencies the routers share, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ledger.context import Ledger
from ledger.settings import Settings


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


def get_settings_dep(request: Request) -> Settings:
    ledger: Ledger = request.app.state.ledger
    return ledger.settings


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
