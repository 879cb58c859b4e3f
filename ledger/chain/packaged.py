"""The compiled contracts an installed wheel carries: ABIs and bytecode built from ``contracts/`` at build time.

A source checkout compiles ``contracts/`` (:func:`ledger.chain.toolchain.compile_contracts`, Node and solcjs).
An installed wheel has no sources, no Node and no solc: building it (``scripts/wheel_build.py``, run by
``python -m build --wheel``) compiles through that same function and writes the result into
``ledger/chain/artifacts/``: one ``<Contract>.json`` per contract (Hardhat's artifact fields, so other tools
read them) and ``manifest.json`` with the hash of every compile input (the sources, the compiler settings, the
solc shim and ``package-lock.json``: :func:`ledger.chain.toolchain.compile_inputs`). ``compile_contracts`` reads
these files when the sources are absent. ``docs/artifacts.md`` describes the format.

A stale copy is refused where it can be seen: :func:`check_fresh` compares the manifest's hash with the sources'
(the wheel test runs it on every build, so CI fails on a wheel whose contracts are not the checkout's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypedDict

from ledger.errors import ConfigurationError

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
"""Where an installed wheel keeps its compiled contracts (absent in a source checkout)."""

FORMAT = "ipledger-artifacts/1"
MANIFEST = "manifest.json"


class PackagedContract(TypedDict):
    """One compiled contract as a wheel carries it (the field names of Hardhat's artifacts)."""

    contractName: str
    sourceName: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployedBytecode: str


def write_artifacts(folder: Path, contracts: Iterable[PackagedContract], source_hash: str,
                    compiler: dict[str, Any]) -> Path:
    """Write one file per contract and the manifest naming them with their ``source_hash``; return the manifest.

    Plain writes, not :func:`ledger.files.write_json_atomic`: this runs once at build time into a fresh build
    folder, and the files must keep the usual 0644 mode in the wheel (a temporary file is 0600).
    """
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for contract in contracts:
        name = contract["contractName"]
        files[name] = f"{name}.json"
        (folder / files[name]).write_text(json.dumps(contract, indent=1, sort_keys=True) + "\n")
    manifest = {"format": FORMAT, "source_hash": source_hash, "compiler": compiler, "contracts": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return folder / MANIFEST


def read_manifest(folder: Path = ARTIFACTS_DIR) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigurationError(
            f"no contract sources and no compiled contracts: {path} is missing. Install ipledger from a wheel "
            "(built with `python -m build --wheel` in a checkout with `npm ci` done), or run it from a source "
            "checkout (or point IPLEDGER_PROJECT_ROOT at one)") from None
    except ValueError as exc:
        raise ConfigurationError(f"the packaged contracts' manifest {path} is malformed: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise ConfigurationError(f"{path} is in format {manifest.get('format')!r}; this ipledger reads {FORMAT}")
    return manifest


def read_artifacts(folder: Path = ARTIFACTS_DIR, *, evm_version: str | None = None) -> list[PackagedContract]:
    """Every contract the manifest names; a missing or malformed file is a :class:`ConfigurationError`, and so
    are contracts compiled for another EVM version than ``evm_version`` (when given): a wheel carries one target."""
    manifest = read_manifest(folder)
    built_for = manifest["compiler"].get("evmVersion")
    if evm_version is not None and built_for != evm_version:
        raise ConfigurationError(
            f"this ipledger's contracts are compiled for the EVM version {built_for!r}, not {evm_version!r} "
            "(IPLEDGER_EVM_VERSION): unset it, or install a wheel built with that EVM version")
    contracts: list[PackagedContract] = []
    for name, file in sorted(manifest["contracts"].items()):
        try:
            contract: PackagedContract = json.loads((folder / file).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"the packaged contract {name} cannot be read from {folder / file}: {exc}") \
                from None
        if contract.get("contractName") != name:
            raise ConfigurationError(f"{folder / file} holds {contract.get('contractName')!r}, not {name}")
        contracts.append(contract)
    return contracts


def check_fresh(source_hash: str, folder: Path = ARTIFACTS_DIR) -> None:
    """Refuse packaged contracts that were not compiled from these sources and compiler settings."""
    packaged = read_manifest(folder)["source_hash"]
    if packaged != source_hash:
        raise ConfigurationError(
            f"the packaged contracts in {folder} are stale: compiled from inputs {packaged[:12]}..., the sources "
            f"and compiler settings hash to {source_hash[:12]}...; rebuild the wheel (`python -m build --wheel`)")
