"""The web platform: server-rendered pages (Jinja2, zh-CN and en) over the same ledger as the JSON API.

Pages read the ledger's services directly; every write happens in the browser, which signs the
EIP-712 request that ``/api/v1/relay/prepare`` builds and posts it to ``/api/v1/relay``: the
server never holds a user's key.
"""

from __future__ import annotations

from fastapi import APIRouter

from .routes import ROUTERS
from .static import router as static_router

router = APIRouter(include_in_schema=False)
router.include_router(static_router)
for _page_router in ROUTERS:
    router.include_router(_page_router)

__all__ = ["router"]
