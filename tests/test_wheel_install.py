"""The wheel: built once per session from this checkout, installed in a fresh venv outside it, run with no Node.

The build compiles the contracts into the wheel (scripts/wheel_build.py); the installed ipledger then deploys,
stamps, verifies (on the chain and through the API with the ApiClient) and serves the API and its pages against
the session's Anvil, from a folder with no source tree and a PATH without node, anvil or solc: the document
templates and catalogs (a certificate PDF in Chinese), the pages and the browser libraries come from the wheel.

The fresh venv gets the wheel with ``--no-deps --no-index`` and finds the dependencies through a ``.pth`` line
naming this test run's site-packages (the editable install of the checkout there is not activated: ``.pth``
files are read only in site folders), so the test needs no network beyond the build's own requirements.

The wheel is kept in ``.cache/wheel/<hash>/`` under the hash of every input of the build (:func:`wheel_inputs`):
a later run whose inputs are the same installs that wheel instead of building it again (some 10 s of CPU);
any changed, added or removed input is another hash, so a new build.
``IPLEDGER_WHEEL_REBUILD=1`` builds it regardless.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.npm import LICENSES, served_files
from ledger.chain.devchain import Anvil, anvil_binary
from ledger.chain.packaged import PackagedContract, check_fresh, read_artifacts, write_artifacts
from ledger.chain.toolchain import Artifact, compile_inputs
from ledger.cli.shell import exit_code
from ledger.errors import ConfigurationError
from ledger.settings import get_settings
from tests.serving import free_port

ROOT = Path(__file__).resolve().parents[1]
DEV = "5"  # an Anvil development account no session fixture sends from


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    ipledger: Path
    python: Path


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from this checkout and installed in a fresh venv (once per session)."""
    base = tmp_path_factory.mktemp("wheel")
    # Without this run's PYTHONPATH: pip would take the checkout (its ipledger.egg-info) as ipledger installed.
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    wheel = built_wheel(base, clean)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120, env=clean)
    python = venv / "bin" / "python"
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                          "--no-index", str(wheel)], capture_output=True, text=True, timeout=300, env=clean)
    assert pip.returncode == 0, f"installing the wheel failed:\n{pip.stdout}\n{pip.stderr}"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, env=clean).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "_ipledger_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    return Installed(wheel, venv, venv / "bin" / "ipledger", python)


WHEEL_CACHE = ROOT / ".cache" / "wheel"
WHEEL_SOURCES = ("ledger", "api")
"""The packages the wheel carries: every file under them is an input (not only those git knows)."""
WHEEL_FILES = ("pyproject.toml", "MANIFEST.in", "README.md", "scripts/wheel_build.py", "package.json",
               "package-lock.json", "node_modules/.package-lock.json")
"""The build's other inputs in the checkout (metadata, the build step, the npm packages installed)."""


def wheel_inputs() -> str:
    """The hash of every input of ``pip wheel .``: the files of the packages and the build, the compiled
    contracts' own input hash (sources, solc, settings), the npm files the wheel copies (size and time, as
    ``npm ci`` leaves them), and the Python that builds.

    Not the ``build/`` folder setuptools leaves behind (each build changes it): what a stale one slips into
    a wheel is still caught, since a module removed from the checkout changes the hash, so the wheel is
    built again with that folder, and the first test fails on the module it carries."""
    digest = hashlib.sha256(f"{sys.version}\n".encode())
    paths = sorted(path for folder in WHEEL_SOURCES for path in (ROOT / folder).rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc")
    paths += [ROOT / name for name in WHEEL_FILES if (ROOT / name).is_file()]
    for path in paths:
        digest.update(f"{path.relative_to(ROOT).as_posix()}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    digest.update(compile_inputs()[0].encode())
    node_modules = ROOT / "node_modules"
    npm = served_files(node_modules)
    packages = {"/".join(f.split("/")[:2] if f.startswith("@") else f.split("/")[:1]) for f in npm}
    npm += [f"{package}/{name}" for package in packages for name in LICENSES]  # as scripts/wheel_build.py copies
    for relative in sorted(npm):
        stat = (node_modules / relative).stat() if (node_modules / relative).is_file() else None
        digest.update(f"npm {relative} {stat and (stat.st_size, stat.st_mtime_ns)}\n".encode())
    return digest.hexdigest()


def built_wheel(base: Path, environment: dict[str, str]) -> Path:
    """The wheel of this checkout: the cached one built from the same inputs, else a new build (then cached)."""
    # One build at a time: `pip wheel .` builds in the checkout's own build/ folder, so two test workers that
    # both miss the cache would pull files out from under each other (ENOENT); the second finds the cache.
    WHEEL_CACHE.parent.mkdir(parents=True, exist_ok=True)
    with (WHEEL_CACHE.parent / "wheel.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _built_wheel(base, environment)


def _built_wheel(base: Path, environment: dict[str, str]) -> Path:
    key = wheel_inputs()
    cached = sorted((WHEEL_CACHE / key).glob("ipledger-*.whl"))
    if cached and not os.environ.get("IPLEDGER_WHEEL_REBUILD"):
        return cached[0]
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(base / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=600, env=environment)
    assert built.returncode == 0, f"building the wheel failed:\n{built.stdout}\n{built.stderr}"
    [wheel] = (base / "dist").glob("ipledger-*.whl")
    assert wheel_inputs() == key, "the checkout changed while the wheel was built: run the test again"
    shutil.rmtree(WHEEL_CACHE, ignore_errors=True)  # one entry: the wheel of the checkout as it is now
    staging = WHEEL_CACHE.with_name(f"wheel-{key}.{os.getpid()}.tmp")
    staging.mkdir(parents=True)
    shutil.copy2(wheel, staging / wheel.name)
    WHEEL_CACHE.mkdir(exist_ok=True)
    os.replace(staging, WHEEL_CACHE / key)  # whole or absent: no run finds a half-copied wheel
    return wheel


def bare_environment(installed: Installed, home: Path, **settings: str) -> dict[str, str]:
    """No IPLEDGER_*/PYTHONPATH from this run, and a PATH without node, anvil or solc."""
    path = [str(installed.venv / "bin")] + [
        entry for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and not any(shutil.which(tool, path=entry) for tool in ("node", "anvil", "solc"))]
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("IPLEDGER_", "PYTHON", "VIRTUAL_ENV"))}
    environment.update({"PATH": os.pathsep.join(path), "HOME": str(home), **settings})
    for tool in ("node", "anvil", "solc"):
        assert shutil.which(tool, path=environment["PATH"]) is None, f"{tool} is still on the test's PATH"
    return environment


def test_wheel_carries_the_contracts_compiled_from_these_sources_and_every_served_file(
        installed: Installed, artifacts: dict[str, Artifact], tmp_path: Path) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        wheel.extractall(tmp_path, [n for n in names if n.startswith("ledger/chain/artifacts/")])
        for name in ("ledger/audit/migrations/versions/0001_events.py", "ledger/audit/migrations/env.py",
                     "ledger/documents/templates/certificate.html", "api/web/templates/base.html",
                     "api/web/static/js/relay.js", "ledger/documents/locales/zh_CN/LC_MESSAGES/documents.po",
                     "api/web/locales/zh_CN/LC_MESSAGES/public.po"):
            assert name in names, f"the wheel lacks {name}"
    folder = tmp_path / "ledger" / "chain" / "artifacts"
    source_hash, compiler = compile_inputs()
    check_fresh(source_hash, folder)  # the CI check: a wheel compiled from other sources or settings fails here
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["compiler"]["evmVersion"] == compiler["evmVersion"]
    assert set(manifest["contracts"]) == set(artifacts)
    registry = json.loads((folder / "IPRegistry.json").read_text())
    assert registry["bytecode"] == artifacts["IPRegistry"].bytecode and registry["abi"] == artifacts["IPRegistry"].abi
    for relative in served_files():
        assert f"api/npm/{relative}" in names, f"the wheel lacks the served npm file {relative}"
    assert "api/npm/ethers/LICENSE.md" in names and "api/npm/swagger-ui-dist/LICENSE" in names
    assert not [n for n in names if n.endswith(".sol")]
    stale = [n for n in names if n.endswith(".py") and not (ROOT / n).is_file()]
    assert not stale, f"the wheel holds modules the checkout no longer has (a stale build/ folder?): {stale}"


def test_check_fresh_with_artifacts_of_other_sources_raises_stale(tmp_path: Path) -> None:
    write_artifacts(tmp_path, [], "0" * 64, {"evmVersion": "cancun"})
    with pytest.raises(ConfigurationError, match="stale"):
        check_fresh("f" * 64, tmp_path)


def test_read_artifacts_for_another_evm_version_raises_configuration_error(tmp_path: Path) -> None:
    contract: PackagedContract = {"contractName": "Roles", "sourceName": "contracts/types/Roles.sol", "abi": [],
                                  "bytecode": "0x", "deployedBytecode": "0x"}
    write_artifacts(tmp_path, [contract], "0" * 64, {"evmVersion": "cancun"})
    assert [c["contractName"] for c in read_artifacts(tmp_path, evm_version="cancun")] == ["Roles"]
    with pytest.raises(ConfigurationError, match="compiled for the EVM version 'cancun', not 'shanghai'"):
        read_artifacts(tmp_path, evm_version="shanghai")
    with pytest.raises(ConfigurationError, match="no contract sources and no compiled contracts"):
        read_artifacts(tmp_path / "absent")


def test_wheel_without_node_or_sources_deploys_stamps_verifies_and_serves_the_api(
        installed: Installed, anvil: Anvil, chain: object, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = bare_environment(installed, tmp_path / "home", IPLEDGER_DATA_DIR=str(tmp_path / "data"),
                           IPLEDGER_RPC_URL=anvil.url, IPLEDGER_DEV_ACCOUNT=DEV)

    def ipledger(*args: str, environment: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(installed.ipledger), *args], cwd=work, env=environment,
                              capture_output=True, text=True, timeout=120)

    deployed = ipledger("deploy", "--json")
    assert deployed.returncode == 0, deployed.stderr
    contracts = json.loads(deployed.stdout)["contracts"]
    report = work / "report.pdf"
    report.write_bytes(b"%PDF-1.7 installed from a wheel " + str(time.time_ns()).encode())
    stamped = ipledger("stamp", str(report), "--json")
    assert stamped.returncode == 0, stamped.stderr
    verified = ipledger("verify", str(report))
    assert verified.returncode == 0 and "VALID" in verified.stdout, verified.stdout + verified.stderr

    port = free_port()
    serve = [str(installed.ipledger), "serve", "--port", str(port)]
    server = subprocess.Popen(serve, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, server)
        with httpx.Client(base_url=url, timeout=30) as http:
            listed = http.get("/api/v1/chain/contracts").json()
            assert {c["name"]: c["address"] for c in listed["contracts"]}["IPRegistry"] == \
                contracts["IPRegistry"]["address"]
            for path in ("/vendor/ethers.js", "/vendor/echarts.js", "/vendor/hash-wasm.js",
                         "/api/v1/docs/assets/swagger-ui-bundle.js", "/verify", "/verify?lang=zh"):
                response = http.get(path)
                assert response.status_code == 200, (path, response.text[:500])
            certificate = json.loads(Path(str(report) + ".ipledger.json").read_text())
            pdf = http.post("/api/v1/certificates/render", json=certificate, params={"lang": "zh"})
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:500]
            (work / "certificate.pdf").write_bytes(pdf.content)
        through_api = ipledger("verify", str(report), str(work / "certificate.pdf"), "--api", url)
        assert through_api.returncode == 0 and "VALID" in through_api.stdout, through_api.stdout + through_api.stderr
    finally:
        server.terminate()
        server.wait(10)



def test_embedded_chain_where_ipledger_is_installed_without_anvil_says_to_set_the_rpc_url(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ipledger up` from a wheel: no checkout (no contracts/, no node_modules) where ipledger is installed."""
    monkeypatch.setenv("IPLEDGER_PROJECT_ROOT", str(tmp_path))  # as site-packages: ledger/ and api/, nothing else
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="installed from a wheel") as raised:
            anvil_binary()
        assert "IPLEDGER_RPC_URL" in str(raised.value) and exit_code(raised.value) == 2
    finally:
        get_settings.cache_clear()


def _wait_for(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else ""
            pytest.fail(f"the installed API exited with {server.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("the installed API did not answer within 60 s")
