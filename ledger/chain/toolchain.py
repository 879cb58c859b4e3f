"""Compile the contracts with py-solc-x driving solcjs through ``scripts/solc``.

Native solc cannot be downloaded on the machines we run on, so the npm package
``solc`` is the compiler and ``scripts/solc`` makes it look like a solc binary.
Compiling OpenZeppelin-based sources with solcjs takes seconds, so artifacts are
cached on disk by a hash of every input (sources, compiler, settings, EVM version).

**The EVM version** is a setting (``IPLEDGER_EVM_VERSION``, default :data:`DEFAULT_EVM_VERSION`):
consortium chains (Besu/QBFT, Ganache) often run Shanghai, without Cancun's transient storage
(EIP-1153). For a target before Cancun the import of OpenZeppelin's ``ReentrancyGuardTransient``
is remapped to ``contracts-compat/pre-cancun/`` (the same modifier and error over a storage slot),
so there is one set of sources for every target. ``foundry.toml`` builds the default the same way.

An installed wheel has no sources and no Node: it carries the artifacts compiled when it was built
(:mod:`ledger.chain.packaged`), which :func:`compile_contracts` returns when ``contracts/`` is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from ledger.errors import CompilationError, ConfigurationError
from ledger.settings import get_settings

EVM_VERSIONS = ("paris", "shanghai", "cancun", "prague")
"""The EVM targets the contracts are built and tested for (oldest first)."""

DEFAULT_EVM_VERSION = "shanghai"
"""The default target: what consortium chains (Besu/QBFT genesis configs, Ganache 7) run today, and
what every newer fork executes unchanged."""

_TRANSIENT_STORAGE_FROM = "cancun"

OPTIMIZER_RUNS = 10_000

_REMAPPINGS = ["@openzeppelin/=node_modules/@openzeppelin/"]
_PRE_CANCUN_REMAPPINGS = [
    "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol="
    "contracts-compat/pre-cancun/ReentrancyGuardTransient.sol",
]


def evm_version(value: str | None = None) -> str:
    """``value`` (default the ``evm_version`` setting) checked against :data:`EVM_VERSIONS`."""
    chosen = (value or get_settings().evm_version).strip().lower()
    if chosen not in EVM_VERSIONS:
        raise ConfigurationError(
            f"unsupported EVM version {chosen!r} (IPLEDGER_EVM_VERSION): choose one of {', '.join(EVM_VERSIONS)}"
        )
    return chosen


def remappings(version: str) -> list[str]:
    """Import remappings for a target: before Cancun, the storage-slot reentrancy guard."""
    if EVM_VERSIONS.index(version) < EVM_VERSIONS.index(_TRANSIENT_STORAGE_FROM):
        return [*_PRE_CANCUN_REMAPPINGS, *_REMAPPINGS]
    return list(_REMAPPINGS)


@dataclass(frozen=True)
class Artifact:
    """What deploying and calling one contract needs."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def solc_shim(project_root: Path | None = None) -> Path:
    """The solc look-alike; fails clearly if Node or the npm packages are missing."""
    root = project_root or get_settings().project_root
    shim = root / "scripts" / "solc"
    if not (root / "node_modules" / "solc").is_dir():
        raise ConfigurationError(
            f"the Solidity compiler is not installed: {root / 'node_modules' / 'solc'} is missing. "
            "Run `npm ci` in the project folder (or `make install`)."
        )
    return shim


def _sources(contracts_dir: Path) -> dict[str, Path]:
    files = sorted(contracts_dir.rglob("*.sol"))
    if not files:
        raise ConfigurationError(f"no Solidity sources under {contracts_dir}")
    return {f"contracts/{p.relative_to(contracts_dir).as_posix()}": p for p in files}


def _standard_input(sources: dict[str, Path], version: str) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {key: {"content": path.read_text()} for key, path in sources.items()},
        "settings": {
            "evmVersion": version,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "remappings": remappings(version),
            "outputSelection": {
                key: {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
                for key in sources
            },
        },
    }


def _cache_key(standard_input: dict[str, Any], shim: Path, root: Path) -> str:
    """The EVM version (in the settings of the input, and first in the name) and every input's hash."""
    digest = hashlib.sha256()
    digest.update(json.dumps(standard_input, sort_keys=True).encode())
    for compat in sorted((root / "contracts-compat").rglob("*.sol")):  # remapped imports, read by solc
        digest.update(compat.read_bytes())
    digest.update(shim.read_bytes())
    lock = root / "package-lock.json"
    if lock.exists():
        digest.update(lock.read_bytes())
    return f"{standard_input['settings']['evmVersion']}-{digest.hexdigest()}"


def compile_contracts(contracts_dir: Path | None = None, *, evm: str | None = None) -> dict[str, Artifact]:
    """Compile every contract under ``contracts_dir`` (default ``contracts/``) for the EVM version ``evm``
    (default the ``evm_version`` setting), cached.

    Raises CompilationError with solc's own ``file:line`` messages on failure.
    """
    settings = get_settings()
    if contracts_dir is None and not settings.contracts_dir.is_dir():
        return _packaged_artifacts()  # an installed wheel: no sources, the contracts compiled at its build
    root = settings.project_root
    contracts_dir = contracts_dir or settings.contracts_dir
    shim = solc_shim(root)
    standard_input = _standard_input(_sources(contracts_dir), evm_version(evm))
    key = _cache_key(standard_input, shim, root)
    cache_file = settings.cache_dir / "artifacts" / f"{key}.json"
    if cache_file.exists():
        return _artifacts(json.loads(cache_file.read_text()))

    try:
        output = solcx.compile_standard(
            standard_input, solc_binary=shim, allow_paths=[str(root)]
        )
    except SolcError as exc:
        raise CompilationError(_solc_messages(exc)) from None
    except FileNotFoundError as exc:
        raise ConfigurationError(f"cannot run the compiler: {exc}. Is Node.js installed?") from None

    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    compiled = {
        source: {name: data for name, data in contracts.items()}
        for source, contracts in output.get("contracts", {}).items()
        if source in standard_input["sources"]
    }
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    # Write atomically so a concurrent compile never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(compiled, fh)
    os.replace(tmp, cache_file)
    return _artifacts(compiled)


def compile_inputs(contracts_dir: Path | None = None) -> tuple[str, dict[str, Any]]:
    """The hash of every compile input (the cache key: sources, compiler settings, solc shim, package-lock)
    and the compiler settings: what a wheel's packaged artifacts record (:mod:`ledger.chain.packaged`)."""
    settings = get_settings()
    root = settings.project_root
    standard_input = _standard_input(_sources(contracts_dir or settings.contracts_dir), evm_version())
    compiler = {key: value for key, value in standard_input["settings"].items() if key != "outputSelection"}
    return _cache_key(standard_input, solc_shim(root), root), compiler


def _packaged_artifacts() -> dict[str, Artifact]:
    from ledger.chain.packaged import read_artifacts

    return {c["contractName"]: Artifact(name=c["contractName"], source=c["sourceName"], abi=c["abi"],
                                        bytecode=c["bytecode"], deployed_bytecode=c["deployedBytecode"])
            for c in read_artifacts(evm_version=evm_version())}


def _solc_messages(exc: SolcError) -> str:
    try:
        output = json.loads(exc.stdout_data or "")
        messages = [e.get("formattedMessage", e["message"]) for e in output.get("errors", [])
                    if e.get("severity") == "error"]
        if messages:
            return "\n".join(messages)
    except (ValueError, TypeError, KeyError):
        pass
    return f"solc failed: {exc.message}\n{exc.stderr_data}".strip()


def _artifacts(compiled: dict[str, dict[str, Any]]) -> dict[str, Artifact]:
    artifacts: dict[str, Artifact] = {}
    for source, contracts in compiled.items():
        for name, data in contracts.items():
            if name in artifacts:
                raise CompilationError(
                    f"two contracts are named {name}: {artifacts[name].source} and {source}"
                )
            artifacts[name] = Artifact(
                name=name,
                source=source,
                abi=data["abi"],
                bytecode="0x" + data["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
            )
    return artifacts
