"""The pages' own scripts and styles (``/static``) and the pinned browser libraries (``/vendor``).

Every browser library comes from a pinned npm package and is served by ipledger itself: no CDN, so the
platform works on a bank's closed network. ``api.npm`` lists them and finds them in ``node_modules`` (a
checkout) or in the copies a wheel carries. Only the files listed there are served.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ledger.errors import ConfigurationError, NotFoundError

from ..deps import SettingsDep
from ..npm import VENDOR, VENDOR_TREES, missing_message, npm_file, npm_tree

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"

TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
         ".png": "image/png", ".ico": "image/x-icon"}

CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/vendor/{name}")
def vendor(name: str, settings: SettingsDep) -> FileResponse:
    """One pinned browser library (an ES module)."""
    entry = VENDOR.get(name)
    if entry is None:
        raise NotFoundError(f"no browser library {name!r}")
    path = npm_file(entry[0], settings.project_root)
    if path is None:
        raise ConfigurationError(missing_message(f"the browser library {name}", entry[0], settings.project_root))
    return FileResponse(path, media_type=entry[1], headers=CACHE)


@router.get("/vendor/{tree}/{path:path}")
def vendor_tree(tree: str, path: str, settings: SettingsDep) -> FileResponse:
    """One file of a pinned browser library shipped as an ES module tree (@hpke/core and @hpke/common)."""
    folder = VENDOR_TREES.get(tree)
    if folder is None:
        raise NotFoundError(f"no browser library {tree!r}")
    found = npm_tree(folder, settings.project_root)
    if found is None:
        raise ConfigurationError(missing_message(f"the browser library {tree}", folder, settings.project_root))
    root = found.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file() or target.suffix != ".js":
        raise NotFoundError(f"no file {path!r} in the browser library {tree}")
    return FileResponse(target, media_type=TYPES[".js"], headers=CACHE)


@router.get("/static/{path:path}")
def static(path: str) -> FileResponse:
    """A file of the pages' own (``api/web/static``); nothing outside that folder."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file() or target.suffix not in TYPES:
        raise NotFoundError(f"no static file {path!r}")
    return FileResponse(target, media_type=TYPES[target.suffix], headers=CACHE)
