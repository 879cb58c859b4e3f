"""Stamp files as their author: hashed, committed and signed in the browser, relayed; certificates
downloaded in the CLI's format (``ipledger verify FILE CERT`` accepts them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..templating import render

router = APIRouter(include_in_schema=False)


@router.get("/stamp", response_class=HTMLResponse)
def stamp(request: Request) -> HTMLResponse:
    return render(request, "stamp.html")
