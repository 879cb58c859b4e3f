"""``/api/v1/docs``: Swagger UI served from the pinned npm package ``swagger-ui-dist``, never from a CDN.

FastAPI's own ``/docs`` page loads Swagger UI's script, style sheet and favicon from jsDelivr
and fastapi.tiangolo.com, so on a machine without internet (a bank's network, a laptop on a
train) it is blank. This router serves the page and the few files it needs from
the pinned npm package ``swagger-ui-dist`` (``node_modules`` in a checkout, the copy a wheel carries
otherwise: ``api.npm``); ReDoc, which would need another bundle and web fonts, is off.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from ledger.errors import ConfigurationError, NotFoundError

from .deps import SettingsDep
from .npm import DOCS_ASSETS, SWAGGER, missing_message, npm_file
from .paths import API_PREFIX

router = APIRouter(include_in_schema=False)

ASSETS_PATH = "/docs/assets"

ASSETS = DOCS_ASSETS


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for ``/openapi.json``, every asset from this server."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{API_PREFIX}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{API_PREFIX}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{API_PREFIX}{ASSETS_PATH}/favicon-32x32.png",
        oauth2_redirect_url=f"{root}{API_PREFIX}/docs/oauth2-redirect",
        # No badge from validator.swagger.io: nothing leaves the machine.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get(ASSETS_PATH + "/{name}")
def swagger_asset(name: str, settings: SettingsDep) -> FileResponse:
    """One of :data:`ASSETS` from the installed ``swagger-ui-dist``."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundError(f"no documentation asset {name!r}")
    path = npm_file(f"{SWAGGER}/{name}", settings.project_root)
    if path is None:
        raise ConfigurationError(missing_message("Swagger UI", f"{SWAGGER}/{name}", settings.project_root))
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
