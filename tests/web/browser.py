"""The web platform in a real browser (helpers and fixtures; conftest.py registers the fixtures): ``ipledger up``
subprocess, and Debian's Chromium driven by Playwright for Python.

Playwright's own browser download cannot work here, so Chromium is launched from the system
(``IPLEDGER_CHROMIUM`` or ``chromium`` on PATH; ``.ci/run`` installs it). A missing Chromium is a
failure with a clear message, never a skip. Screenshots go to ``IPLEDGER_SCREENSHOTS`` (default
``tests/web/artifacts``); ``IPLEDGER_SCREENSHOTS=docs/screenshots`` refreshes the README's set.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain.client import dev_accounts
from tests.cliproc import run_ipledger
from tests.serving import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("IPLEDGER_SCREENSHOTS", ROOT / "tests" / "web" / "artifacts"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
"""Without the networking flags Chromium keeps dialing Google's hosts, which this closed network refuses."""
PASSWORD = "correct horse battery"


def chromium_path() -> str:
    for candidate in (os.environ.get("IPLEDGER_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("Chromium is not installed: `apt-get install chromium fonts-noto-cjk` (.ci/run does it), or set "
                "IPLEDGER_CHROMIUM to a Chromium binary", pytrace=False)


@dataclass
class Platform:
    """A running ``ipledger up``: its address, its data folder, and its CLI."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "IPLEDGER_DATA_DIR": str(self.data_dir), "PYTHONPATH": str(ROOT), **extra}

    def cli(self, *args: str, password: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``ipledger ARGS`` against this platform's chain (its data folder), as a user in a shell runs it."""
        env = self.env(**({"IPLEDGER_PASSWORD": password} if password else {}))
        done = run_ipledger(args, env=env, timeout=180, cwd=ROOT)
        if check and done.returncode != 0:
            raise AssertionError(f"ipledger {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """``ipledger up`` on a free port with its own data folder, as ``make up`` runs it."""
    data_dir = tmp_path_factory.mktemp("web-platform")
    port = free_port()
    log = data_dir / "up.log"
    env = {**os.environ, "IPLEDGER_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "ledger.cli.main", "up", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            pytest.fail(f"`ipledger up` exited {process.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            if httpx.get(f"{url}/api/v1/chain", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"`ipledger up` did not serve {url} in 180 s:\n{log.read_text()}", pytrace=False)
        time.sleep(0.3)
    yield Platform(url, data_dir, process, log)
    # SIGTERM: the same clean stop as Ctrl-C (`ipledger up` handles both), but also where the run was started
    # in the background with SIGINT ignored, which `up` inherits (it then sat out the 30 s and was SIGKILLed).
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(params=["en", "zh-CN"])
def lang(request: pytest.FixtureRequest) -> str:
    """Both languages of the pages (a test taking ``lang`` runs once in each)."""
    return str(request.param)


def new_page(browser, platform: Platform, locale: str = "en"):  # type: ignore[no-untyped-def]
    """A fresh browser profile (empty localStorage) in ``locale``, on the platform; console errors fail the test."""
    context = browser.new_context(locale=locale, base_url=platform.url, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(browser, platform: Platform) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """An English page in a fresh profile; its uncaught script errors fail the test."""
    opened = new_page(browser, platform, "en")
    yield opened
    errors = opened.console_errors
    opened.context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save the whole page as ``<name>.png`` under SCREENSHOTS (a test artifact; the README's set when asked)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def dev_key(index: int) -> LocalAccount:
    """Anvil's dev account ``index`` (0: the admin, the service centre's registrar; see ``ipledger up``'s roles)."""
    return dev_accounts(index + 1)[index]


def keystore_file(tmp_path: Path, account: LocalAccount | None = None, password: str = PASSWORD) -> Path:
    """A keystore in the CLI's format (eth-account's ``Account.encrypt``), as ``ipledger account new`` writes it."""
    import json

    account = account or Account.create()
    path = tmp_path / f"{account.address}.json"
    # scrypt n=2**14 keeps the browser's decryption quick in tests; `ipledger account new`'s own 2**18 is tested too.
    path.write_text(json.dumps(Account.encrypt(account.key, password, iterations=2**14)))
    return path


def give_key(page, account: LocalAccount, name: str = "me", password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Put ``account`` in the page's browser profile as an active keystore (what importing it on /keys does).

    For journeys whose subject is not the import itself; /keys's own test imports through the page.
    Call before the first ``goto`` of the profile.
    """
    import json

    keystore = json.dumps(Account.encrypt(account.key, password, iterations=2**14))
    entry = {"name": name, "address": account.address, "json": keystore}
    page.context.add_init_script(
        "if (!localStorage.getItem('ipledger.keystores')) {"
        f"localStorage.setItem('ipledger.keystores', JSON.stringify([{json.dumps(entry)}]));"
        f"localStorage.setItem('ipledger.active', JSON.stringify({{kind: 'keystore', address: '{account.address}'}}));"
        "}")


def enter_password(page, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Answer the keystore password dialog the page opens when it first signs."""
    dialog = page.locator("dialog.password-dialog")
    dialog.wait_for(state="visible")
    dialog.locator("input[type=password]").fill(password)
    dialog.locator("button[value=ok]").click()


def import_cli_keystore(page, platform: Platform, prefix: str = "owner") -> str:  # type: ignore[no-untyped-def]
    """A keystore made by ``ipledger account new`` in the platform's data folder, imported through /keys; its
    address (the page's active key from then on)."""
    import secrets

    name = f"{prefix}{secrets.token_hex(4)}"
    platform.cli("account", "new", name, password=PASSWORD)
    page.goto("/keys")
    page.set_input_files("#import-file", str(platform.data_dir / "keystores" / f"{name}.json"))
    page.fill("#import-name", name)
    page.fill("#import-password", PASSWORD)
    page.click("#import-form button[type=submit]")
    page.locator("#import-result.ok").wait_for(timeout=120_000)
    return str(page.evaluate("JSON.parse(localStorage.getItem('ipledger.active')).address"))
