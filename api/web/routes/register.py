"""Register an asset: the content hashed in the browser, the metadata document built as
``ipledger asset register`` builds it, the registration signed in the browser and relayed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledger.registry.metadata import MAX_TITLE, SCHEMA

from ..templating import render

router = APIRouter(include_in_schema=False)


@router.get("/assets/new", response_class=HTMLResponse)
def register(request: Request) -> HTMLResponse:
    return render(request, "register.html", schema=SCHEMA, max_title=MAX_TITLE)
