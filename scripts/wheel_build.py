"""The wheel's build step: compile the contracts and copy the served npm files into the wheel.

setuptools runs :class:`BuildPy` as its ``build_py`` command (``[tool.setuptools.cmdclass]`` in
pyproject.toml) when ``python -m build --wheel`` or ``pip wheel .`` builds ipledger from a checkout with
``npm ci`` done (Node, solcjs and OpenZeppelin are needed to build, never to run). Into the build folder
it writes:

- ``ledger/chain/artifacts/``: every contract compiled by ``ledger.chain.toolchain.compile_contracts``, the
  very function a checkout runs (same settings, same cache), with the hash of every compile input
  (``ledger.chain.packaged``; format in docs/artifacts.md);
- ``api/npm/``: the browser libraries and Swagger UI files the API serves, with their licences (``api.npm``).

An editable install (``pip install -e .``) runs from the checkout, which compiles its own sources: nothing
is written then. Building from an sdist is not supported (it has no ``contracts/`` nor ``node_modules``):
build the wheel from a checkout.

Only ``py-solc-x`` and ``pydantic-settings`` are build requirements, so the build imports the toolchain
without ``ledger/chain/__init__.py`` (which imports web3, a run-time dependency only).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import types
from pathlib import Path
from typing import Any

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parents[1]


def _project_modules() -> tuple[Any, Any, Any]:
    """``ledger.chain.toolchain``, ``ledger.chain.packaged`` and ``api.npm`` of this checkout."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["IPLEDGER_PROJECT_ROOT"] = str(ROOT)
    if "ledger.chain" not in sys.modules:
        chain = types.ModuleType("ledger.chain")
        chain.__path__ = [str(ROOT / "ledger" / "chain")]
        sys.modules["ledger.chain"] = chain
    from api import npm
    from ledger.chain import packaged, toolchain
    from ledger.settings import get_settings

    get_settings.cache_clear()
    return toolchain, packaged, npm


def build_artifacts(target: Path) -> Path:
    """Compile ``contracts/`` and write the packaged artifacts into ``target``; return the manifest."""
    toolchain, packaged, _ = _project_modules()
    artifacts = toolchain.compile_contracts(ROOT / "contracts")
    source_hash, compiler = toolchain.compile_inputs(ROOT / "contracts")
    solc = json.loads((ROOT / "node_modules" / "solc" / "package.json").read_text())["version"]
    if target.exists():
        shutil.rmtree(target)  # a contract removed from the sources must not survive from an earlier build
    contracts = [{"contractName": a.name, "sourceName": a.source, "abi": a.abi, "bytecode": a.bytecode,
                  "deployedBytecode": a.deployed_bytecode} for a in artifacts.values()]
    return Path(packaged.write_artifacts(target, contracts, source_hash, {"solc": solc, **compiler}))


def _package_of(relative: str) -> str:
    parts = relative.split("/")
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def copy_npm_files(target: Path) -> list[str]:
    """Copy the npm files the API serves (and each package's licence) into ``target``; return what was copied."""
    _, _, npm = _project_modules()
    node_modules = ROOT / "node_modules"
    if target.exists():
        shutil.rmtree(target)
    copied: list[str] = []
    files = npm.served_files(node_modules)
    for package in sorted({_package_of(f) for f in files}):
        files += [f"{package}/{name}" for name in npm.LICENSES if (node_modules / package / name).is_file()]
    for relative in files:
        source = node_modules / relative
        if not source.is_file():
            raise RuntimeError(f"cannot build the wheel: {source} is missing; run `npm ci` in {ROOT}")
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / relative)
        copied.append(relative)
    return copied


class BuildPy(build_py):  # type: ignore[misc]  # setuptools ships no type hints
    """``build_py``, then the compiled contracts and the npm files the API serves."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for needed in (ROOT / "contracts", ROOT / "node_modules" / "solc"):
            if not needed.is_dir():
                raise RuntimeError(
                    f"cannot build the wheel: {needed} is missing. Build it from a source checkout with `npm ci` done "
                    "(`python -m build --wheel` or `make wheel`); an sdist has no contracts/ nor node_modules")
        build = Path(self.build_lib)
        manifest = build_artifacts(build / "ledger" / "chain" / "artifacts")
        copied = copy_npm_files(build / "api" / "npm")
        self.announce(f"ipledger: packaged contracts ({manifest}) and {len(copied)} npm files", level=2)
