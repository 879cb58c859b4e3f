"""The files of pinned npm packages the API serves: the pages' browser libraries (``/vendor``) and Swagger UI
(``/api/v1/docs``); no CDN, so the platform works on a bank's closed network.

In a source checkout they come from ``node_modules`` (pinned in ``package.json`` / ``package-lock.json``,
installed by ``npm ci``). A wheel carries copies: building it (``scripts/wheel_build.py``) copies exactly the
files listed here, with each package's licence and ``package.json``, into ``api/npm/<package>/``, the same
layout as ``node_modules``. So an API installed with pip serves every page with no Node on the machine.

This module imports nothing but the standard library: the wheel build reads it before any dependency exists.
"""

from __future__ import annotations

from pathlib import Path

PACKAGED = Path(__file__).parent / "npm"
"""Where a wheel keeps its copies (absent in a source checkout)."""

JS = "text/javascript; charset=utf-8"

VENDOR: dict[str, tuple[str, str]] = {
    "ethers.js": ("ethers/dist/ethers.min.js", JS),
    "hash-wasm.js": ("hash-wasm/dist/index.esm.min.js", JS),
    "echarts.js": ("echarts/dist/echarts.esm.min.mjs", JS),
}
"""``/vendor/<name>`` -> (file under ``node_modules``, content type): ES modules the pages import."""

VENDOR_TREES: dict[str, str] = {
    "hpke-core": "@hpke/core/esm",
    "hpke-common": "@hpke/common/esm",
}
"""``/vendor/<tree>/...`` -> folder under ``node_modules``: ES module trees (several files importing each other;
the page maps their bare ``@hpke/common`` import with an import map). Only ``.js`` files inside are served."""

SWAGGER = "swagger-ui-dist"

DOCS_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": JS,
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
"""The files of ``swagger-ui-dist`` the docs page loads, with their content types (nothing else is served)."""

LICENSES = ("LICENSE", "LICENSE.md", "NOTICE", "package.json")
"""Copied beside each package's files: their licences (MIT, Apache-2.0) ask for it; package.json names the version."""


CHECKOUT_NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"


def served_files(node_modules: Path = CHECKOUT_NODE_MODULES) -> list[str]:
    """Every file the API serves from ``node_modules``, relative to it (the trees' files as found there)."""
    tree_files = {path.relative_to(node_modules).as_posix()
                  for folder in VENDOR_TREES.values() for path in (node_modules / folder).rglob("*.js")}
    return sorted({path for path, _ in VENDOR.values()} | {f"{SWAGGER}/{name}" for name in DOCS_ASSETS} | tree_files)


def npm_tree(folder: str, project_root: Path) -> Path | None:
    """A package folder (``@hpke/core/esm``) from the checkout's ``node_modules``, else the wheel's copy."""
    for root in (project_root / "node_modules", PACKAGED):
        if (root / folder).is_dir():
            return root / folder
    return None


def npm_file(relative: str, project_root: Path) -> Path | None:
    """``ethers/dist/ethers.min.js`` from the checkout's ``node_modules``, else the wheel's copy; None if neither."""
    for folder in (project_root / "node_modules", PACKAGED):
        if (folder / relative).is_file():
            return folder / relative
    return None


def missing_message(what: str, relative: str, project_root: Path) -> str:
    return (f"{what} is not installed: neither {project_root / 'node_modules' / relative} (a source checkout: run "
            f"`npm ci` there) nor {PACKAGED / relative} (a wheel carries it: reinstall ipledger from its wheel) exists")
