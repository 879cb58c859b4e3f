"""Web pages served by the API: verify a file in the browser (it is hashed there, never uploaded)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGES = Path(__file__).parent / "pages"


@router.get("/", response_class=HTMLResponse)
def verify_page() -> HTMLResponse:
    return HTMLResponse((_PAGES / "verify.html").read_text())
