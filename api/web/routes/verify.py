"""Verify a file against its certificate: the file is hashed in the browser, never uploaded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..templating import render

router = APIRouter(include_in_schema=False)


@router.get("/verify", response_class=HTMLResponse)
def verify(request: Request) -> HTMLResponse:
    return render(request, "verify.html")
