"""The page routers, one module per audience or area; ``ROUTERS`` is what ``api.web`` mounts."""

from __future__ import annotations

from fastapi import APIRouter

from . import assets, audit, bank, coowners, documents, home, keys, manage, market, register, stamp, verify

# register (/assets/new) before any /assets/{id} page, so that "new" is never read as an asset id.
ROUTERS: list[APIRouter] = [home.router, verify.router, keys.router, stamp.router, register.router, assets.router,
                            manage.router, coowners.router, market.router, bank.router, audit.router, documents.router]
