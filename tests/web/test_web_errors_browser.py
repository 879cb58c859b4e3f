"""Failures in the browser: a lost API, a lost chain, a refused act, a wrong password, an unknown error.

Each shows a clear message in the page's language and leaves nothing half-done: never a stack trace,
a raw revert blob or a blank page. The shared ``platform`` serves every case but the lost chain, which
never touches it: a second `ipledger up` of the test's own has its Anvil killed (its supervisor brings
it back in about 1.5 s: unavailable until then, in the stated language), and for the pages, which need
the chain to stay lost, the API runs on an Anvil this module starts and kills, as production runs it
(IPLEDGER_RPC_URL to a node that went away).
"""

from __future__ import annotations

import contextlib
import json
import os
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
from fastapi import Request
from fastapi.responses import HTMLResponse

from api.main import create_app
from api.web import i18n
from api.web.templating import render
from ledger.chain.client import ChainClient
from ledger.chain.deployment import deploy_suite
from ledger.chain.devchain import Anvil
from ledger.context import Ledger
from ledger.settings import Settings
from tests.serving import free_port, serve_on_loopback
from tests.web.browser import PASSWORD, ROOT, Platform, dev_key, give_key, new_page, screenshot

NETWORK = {"en": "The server does not answer. Check your connection and try again; nothing was sent.",
           "zh-CN": "服务器没有响应。请检查网络连接后重试；未发送任何内容。"}
UNAVAILABLE = {"en": "The chain or the server is unavailable; nothing was recorded. Try again later.",
               "zh-CN": "区块链或服务器暂不可用；未记录任何内容。请稍后重试。"}
REFUSED = {"en": "The ledger refused this act: ", "zh-CN": "账本拒绝了此操作："}
WRONG_PASSWORD = {"en": "Wrong password, or not a keystore: the key was not opened.",
                  "zh-CN": "密码错误，或文件不是密钥库：密钥未打开。"}
DECLINED = {"en": "You declined to sign; nothing was sent.", "zh-CN": "您拒绝了签名；未发送任何内容。"}
STACK_MARKS = ("Traceback", "TypeError", "Failed to fetch", "at async", "NetworkError", "0x08c379a0")


def register_args(content: str) -> dict:
    return {"contentHash": content, "kind": "software-copyright", "ref": None,
            "metadataHash": "0x" + "d2" * 32, "uri": "https://example.org/meta.json"}


def start_act(page, contract: str, function: str, args: dict) -> None:  # type: ignore[no-untyped-def]
    """Run ``relay.js act()`` in the page as the page's scripts do; its outcome (``done`` or the message the
    user reads) is then ``window.__outcome``."""
    page.evaluate("""async ([contract, fn, args]) => {
        const { act } = await import('/static/js/relay.js');
        window.__outcome = act(contract, fn, args).then(() => 'done', (error) => error.message);
    }""", [contract, function, args])


def outcome(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.evaluate("window.__outcome"))


def relay_posts(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Every POST to /api/v1/relay (a signed request sent) the page makes from now on."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith("/api/v1/relay")
            else None)
    return sent


def verify_form(page, tmp_path: Path, certificate: dict | None = None,  # type: ignore[no-untyped-def]
                platform: Platform | None = None) -> Path:
    """Fill the verify form with a file and a certificate: ``certificate``, else one the CLI makes on ``platform``
    (a well-formed certificate, so that the page goes as far as asking the API)."""
    file = tmp_path / "report.txt"
    file.write_text(f"the result of a year of work, {tmp_path.name}\n")
    cert = tmp_path / "report.txt.ipledger.json"
    if certificate is not None:
        cert.write_text(json.dumps(certificate))
    else:
        assert platform is not None, "a made-up certificate is refused by the page before it asks the API"
        platform.cli("--dev-account", "5", "stamp", str(file))
    page.set_input_files("#file", str(file))
    page.set_input_files("#cert", str(cert))
    return file


# -- (a) the API lost ---------------------------------------------------------------------------


def test_verify_when_the_api_is_offline_shows_the_network_message_and_the_form_works_again(
        browser, platform, lang, tmp_path):
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    verify_form(page, tmp_path, platform=platform)
    page.context.set_offline(True)
    page.get_by_role("button", name="验证" if lang == "zh-CN" else "Verify").click()
    result = page.locator("#result.bad")
    result.wait_for()
    assert NETWORK[lang] in result.inner_text()
    assert not any(mark in result.inner_text() for mark in STACK_MARKS)
    button = page.locator("#verify-form button[type=submit]")
    assert button.is_enabled(), "the form is usable again"
    screenshot(page, f"errors-offline-{lang}")
    page.context.set_offline(False)
    button.click()
    page.wait_for_function("""(network) => {
        const result = document.querySelector('#result'), button = document.querySelector('#verify-form button');
        const answered = result.classList.contains('ok') || result.classList.contains('bad');
        return !button.disabled && answered && !result.textContent.includes(network);
    }""", arg=NETWORK[lang])
    assert NETWORK[lang] not in page.locator("#result").inner_text(), "back online, the same form answers"
    assert not page.console_errors
    page.context.close()


# -- (b) the chain lost behind a running API -----------------------------------------------------


@dataclass
class LostChain:
    url: str
    anvil: Anvil
    file: Path
    certificate: dict


@pytest.fixture(scope="module")
def lost_chain(artifacts, tmp_path_factory) -> Iterator[LostChain]:  # type: ignore[no-untyped-def]
    """The API and pages on a chain of their own, with a stamped file; the chain is killed before the tests."""
    data_dir = tmp_path_factory.mktemp("lost-chain")
    anvil = Anvil().start()
    client = ChainClient(anvil.url, dev_key(0), error_abis=[a.abi for a in artifacts.values()])
    deployment = deploy_suite(client, artifacts=artifacts)
    ledger = Ledger(Settings(data_dir=data_dir), client, deployment, artifacts, embedded=False)
    file = data_dir / "report.txt"
    file.write_text("stamped while the chain answered\n")
    ledger.timestamps.stamp_files([file])
    certificate = json.loads((data_dir / "report.txt.ipledger.json").read_text())
    app = create_app(ledger=ledger)

    @app.get("/probe/asset-count", response_class=HTMLResponse, include_in_schema=False)
    def probe(request: Request) -> HTMLResponse:
        """A page that reads the chain server-side, as the asset and bank check pages do."""
        return render(request, "home.html", count=ledger.timestamps.record(b"\x01" * 32))

    with serve_on_loopback(app) as url:
        anvil.stop()  # the node goes away; the API keeps running
        yield LostChain(url, anvil, file, certificate)
    client.close()


@dataclass
class _At:
    url: str


def test_page_that_reads_the_lost_chain_renders_the_error_page_in_the_readers_language(lost_chain, lang):
    response = httpx.get(f"{lost_chain.url}/probe/asset-count", headers={"Accept-Language": lang}, timeout=30)
    assert response.status_code == 503 and response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text
    if lang == "zh-CN":
        assert "服务暂时无法响应" in response.text and "区块链停止响应" in response.text
    else:
        assert "The service cannot answer now" in response.text and "the chain stopped answering" in response.text
    assert "Traceback" not in response.text and "HTTPConnectionPool" not in response.text
    assert lost_chain.anvil.url not in response.text, "a person is not shown the node's address"


def test_error_page_of_the_lost_chain_reads_on_a_phone_without_sideways_scrolling(browser, lost_chain, lang):
    context = browser.new_context(locale=lang, base_url=lost_chain.url, viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    response = page.goto("/probe/asset-count")
    assert response is not None and response.status == 503
    alert = page.get_by_role("alert")
    assert alert.is_visible() and (
        "服务暂时无法响应" if lang == "zh-CN" else "The service cannot answer now") in alert.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.keyboard.press("Tab")  # the skip link first: the page is usable from the keyboard
    assert page.evaluate("document.activeElement.className") == "skip"
    screenshot(page, f"errors-page-chain-lost-phone-{lang}")
    context.close()


def test_api_call_on_the_lost_chain_answers_503_in_the_stated_language(lost_chain):
    zh = httpx.get(f"{lost_chain.url}/api/v1/timestamps/0x{'01' * 32}", cookies={i18n.COOKIE: "zh_CN"}, timeout=30)
    assert zh.status_code == 503 and zh.headers["content-type"] == "application/problem+json"
    assert (zh.json()["title"], zh.json()["detail"]) == ("区块链不可用", "区块链停止响应")
    english = httpx.get(f"{lost_chain.url}/api/v1/timestamps/0x{'01' * 32}", timeout=30)
    assert english.json()["title"] == "Chain unavailable"
    assert english.json()["detail"].startswith(f"the chain at {lost_chain.anvil.url} stopped answering: "), \
        "a client that states no language (an operator's script, the CLI) still gets the node and the cause"


def test_verify_on_the_lost_chain_shows_unavailable_in_the_page_language_and_nothing_raw(
        browser, lost_chain, lang):
    page = new_page(browser, _At(lost_chain.url), lang)  # type: ignore[arg-type]
    page.goto("/verify")
    page.set_input_files("#file", str(lost_chain.file))
    page.set_input_files("#cert", {"name": "report.txt.ipledger.json", "mimeType": "application/json",
                                   "buffer": json.dumps(lost_chain.certificate).encode()})
    page.locator("#verify-form button[type=submit]").click()
    result = page.locator("#result.bad")
    result.wait_for()
    text = result.inner_text()
    aside = "（区块链停止响应）" if lang == "zh-CN" else " (the chain stopped answering)"
    assert text.endswith(UNAVAILABLE[lang] + aside)
    assert "HTTPConnectionPool" not in text and lost_chain.anvil.url not in text
    assert not any(mark in text for mark in STACK_MARKS)
    assert page.locator("#verify-form button[type=submit]").is_enabled()
    screenshot(page, f"errors-chain-lost-{lang}")
    assert not page.console_errors
    page.context.close()


@pytest.fixture
def own_up(tmp_path) -> Iterator[tuple[str, Path]]:  # type: ignore[no-untyped-def]
    """A second `ipledger up` of this test's own (its URL and data folder): its chain may be killed."""
    data_dir, port = tmp_path / "up", free_port()
    with (tmp_path / "up.log").open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "ledger.cli.main", "up", "--port", str(port), "--no-index"],
                                   env={**os.environ, "IPLEDGER_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)},
                                   stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        assert process.poll() is None, (tmp_path / "up.log").read_text()
        try:
            if httpx.get(f"{url}/api/v1/chain", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()
        time.sleep(0.3)
    yield url, data_dir
    os.killpg(process.pid, signal.SIGTERM)  # a clean stop even when this run ignores SIGINT (browser.py)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_chain_killed_under_ipledger_up_is_unavailable_in_chinese_until_up_restarts_it(own_up):
    """The chain first hangs (SIGSTOP) so its loss is seen however fast `ipledger up` restarts a dead
    one (a loaded machine let the restart win the race); then it dies (SIGKILL) and must come back."""
    url, data_dir = own_up
    running = json.loads((data_dir / "devchain" / "running.json").read_text())
    chain_pid = int(running["pid"])  # this test's own `ipledger up`'s Anvil, by its recorded pid
    answers: list[tuple[int, str]] = []

    def ask_until(status: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            response = httpx.get(f"{url}/api/v1/timestamps/0x{'01' * 32}", cookies={i18n.COOKIE: "zh_CN"}, timeout=60)
            answers.append((response.status_code, response.json()["detail"]))
            if response.status_code == status:
                return
            time.sleep(0.05)

    os.kill(chain_pid, signal.SIGSTOP)
    try:
        ask_until(503)
    finally:
        with contextlib.suppress(ProcessLookupError):  # `ipledger up` may have put down the hung chain itself
            os.kill(chain_pid, signal.SIGKILL)
    ask_until(404)  # back: the key was never stamped, said as such
    lost = [detail for status, detail in answers if status == 503]
    assert lost, f"the chain's loss was never seen: {answers[:3]}"
    assert set(lost) <= {"区块链停止响应", "区块链没有响应"}, lost
    assert answers[-1][0] == 404, f"`ipledger up` did not bring its chain back: {answers[-3:]}"
    assert httpx.get(f"{url}/", headers={"Accept-Language": "zh-CN"}).status_code == 200


# -- (c) a refused act, (d) a wrong password, (e) an error nobody can explain ------------------


def registered_content(platform) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A fresh content hash, registered as an asset through the API by a fresh account."""
    owner = Account.create()
    content = "0x" + os.urandom(32).hex()
    prepared = httpx.post(f"{platform.url}/api/v1/relay/prepare", timeout=30, json={
        "from": owner.address, "contract": "IPRegistry", "function": "register", "args": register_args(content)})
    assert prepared.status_code == 200, prepared.text
    body = prepared.json()
    signed = Account.sign_typed_data(owner.key, full_message=body["typed_data"])
    relayed = httpx.post(f"{platform.url}/api/v1/relay", timeout=60,
                         json={**body["message"], "signature": "0x" + signed.signature.hex()})
    assert relayed.status_code == 200, relayed.text
    return content, int(relayed.json()["result"]["assetId"])


def test_register_of_content_already_registered_shows_the_ledgers_reason_naming_the_asset(browser, platform, lang):
    content, asset_id = registered_content(platform)
    page = new_page(browser, platform, lang)
    give_key(page, Account.create())
    sent = relay_posts(page)
    page.goto("/verify")
    start_act(page, "IPRegistry", "register", register_args(content))
    reason = (f"此内容（{content}）已登记为资产 {asset_id}" if lang == "zh-CN"
              else f"this content ({content}) is already registered as asset {asset_id}")
    assert outcome(page) == REFUSED[lang] + reason
    assert not sent and page.locator("dialog.password-dialog").count() == 0, "refused before anyone signs"
    assert not page.console_errors
    page.context.close()


def test_wrong_keystore_password_shows_the_message_in_the_dialog_and_sends_nothing(browser, platform, lang):
    user = Account.create()
    page = new_page(browser, platform, lang)
    give_key(page, user)
    sent = relay_posts(page)
    page.goto("/verify")
    start_act(page, "IPRegistry", "register", register_args("0x" + os.urandom(32).hex()))
    dialog = page.locator("dialog.password-dialog")
    dialog.wait_for(state="visible")
    dialog.locator("input[type=password]").fill(PASSWORD + " but wrong")
    dialog.locator("button[value=ok]").click()
    status = page.locator("dialog.password-dialog .status")
    status.wait_for(state="visible")
    page.wait_for_function("document.querySelector('dialog.password-dialog .status').textContent.length > 0")
    assert status.inner_text() == WRONG_PASSWORD[lang]
    assert page.locator("dialog.password-dialog input").get_attribute("aria-invalid") == "true"
    screenshot(page, f"errors-wrong-password-{lang}")
    page.locator("dialog.password-dialog button[value=cancel]").click()
    assert outcome(page) == DECLINED[lang]
    assert not sent, "nothing was sent"
    nonce = httpx.get(f"{platform.url}/api/v1/relay/nonce/{user.address}", timeout=30).json()["nonce"]
    assert nonce == 0, "nothing was recorded in the user's name"
    assert not page.console_errors
    page.context.close()


def test_act_refused_with_an_error_unknown_to_the_messages_shows_a_generic_sentence_not_raw(
        browser, platform, lang):
    page = new_page(browser, platform, lang)
    give_key(page, Account.create())
    page.goto("/verify")
    start_act(page, "IPRegistry", "renounceRole", {"role": "registrar", "callerConfirmation": dev_key(0).address})
    said = outcome(page)
    generic = ("ipledger 无法说明此次拒绝的原因（此版本不认识该错误）；未做任何更改" if lang == "zh-CN"
               else "ipledger cannot describe this refusal (an error this version does not know); nothing was changed")
    assert said == REFUSED[lang] + generic
    assert "AccessControlBadConfirmation" not in said and "0x" not in said
    assert not page.console_errors
    page.context.close()


# -- a tampered file, a file that is not a certificate: the reason in the page's language -------------


def test_verify_of_a_tampered_file_says_why_in_the_page_language(browser, platform, lang, tmp_path):
    file = tmp_path / "thesis.txt"
    file.write_text("chapter one\n")
    platform.cli("--dev-account", "5", "stamp", str(file))
    certificate = tmp_path / "thesis.txt.ipledger.json"
    file.write_text("chapter one, improved later\n")
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    page.set_input_files("#file", str(file))
    page.set_input_files("#cert", str(certificate))
    page.locator("#verify-form button[type=submit]").click()
    result = page.locator("#result.bad")
    result.wait_for()
    # The page compares the digests itself before asking the chain, and shows both.
    expected = ("无效。 此文件不是该证书所针对的文件：它的 SHA-256 与证书中的不同。" if lang == "zh-CN"
                else "Not valid. This file is not the one the certificate was made for: its SHA-256 differs from the "
                     "certificate's.")
    assert result.inner_text().startswith(expected)
    screenshot(page, f"errors-tampered-{lang}")
    assert not page.console_errors
    page.context.close()


def test_verify_with_a_json_file_that_is_not_a_certificate_says_so_in_the_page_language(
        browser, platform, lang, tmp_path):
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    verify_form(page, tmp_path, {"name": "a package.json, not a certificate"})
    page.locator("#verify-form button[type=submit]").click()
    result = page.locator("#result.bad")
    result.wait_for()
    # The page reads the certificate before asking anyone, and names what it lacks.
    expected = ("错误。 report.txt.ipledger.json 不是 ipledger 证书（缺少 " if lang == "zh-CN"
                else "Error. report.txt.ipledger.json is not an ipledger certificate (it lacks ")
    assert result.inner_text().startswith(expected)
    assert not page.console_errors
    page.context.close()
