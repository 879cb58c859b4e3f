"""My key: keystores kept in this browser (the CLI's format, both ways) and an injected wallet.

Everything on this page happens in the browser: the server only renders it and never sees a key,
a password or a keystore.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledger.chain.accounts import MIN_PASSWORD_LENGTH

from ..templating import render

router = APIRouter(include_in_schema=False)


@router.get("/keys", response_class=HTMLResponse)
def keys(request: Request) -> HTMLResponse:
    return render(request, "keys.html", min_password=MIN_PASSWORD_LENGTH)
