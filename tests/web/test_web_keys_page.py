"""My key (/keys) in Chromium: keystores both ways between the browser and ``ipledger account`` (its import and
export), a wrong password refused with nothing kept, and an injected EIP-1193 wallet whose signature lands."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
from eth_account import Account
from eth_utils import keccak

from tests.web.browser import PASSWORD, keystore_file, new_page, screenshot

STAMP_IN_PAGE = """async (leaf) => {
  const { act } = await import('/static/js/relay.js');
  const relayed = await act('TimestampRegistry', 'stamp', [leaf]);
  return relayed.tx_hash;
}"""


def _stamper_of(platform, leaf: str) -> str:
    record = httpx.get(f"{platform.url}/api/v1/timestamps/0x{keccak(hexstr=leaf).hex()}").json()
    return str(record["stamper"])


def _kept(page) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(page.evaluate("JSON.parse(localStorage.getItem('ipledger.keystores') || '[]')"))


def _import(page, path: Path, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.set_input_files("#import-file", str(path))
    page.fill("#import-name", name)
    page.fill("#import-password", password)
    page.click("#import-form button[type=submit]")


def test_import_keystore_made_by_cli_signs_an_act_that_lands(browser, platform, lang, tmp_path):
    name = f"cli{secrets.token_hex(4)}"
    platform.cli("account", "new", name, password=PASSWORD)
    made = platform.data_dir / "keystores" / f"{name}.json"
    address = json.loads(platform.cli("account", "list", "--json").stdout)
    address = next(a["address"] for a in address if a["name"] == name)
    page = new_page(browser, platform, lang)
    page.goto("/keys")
    screenshot(page, f"keys-empty-{lang}")
    _import(page, made, name, PASSWORD)
    result = page.locator("#import-result.ok")
    result.wait_for(timeout=120_000)  # the CLI's scrypt (N = 2**18) in JavaScript
    assert address in result.inner_text()
    assert page.locator("#key-rows tr", has_text=address).locator(".badge.ok").count() == 1
    assert _kept(page)[0]["json"] == made.read_text(), "kept as the CLI wrote it, so an export is the same file"
    leaf = "0x" + secrets.token_hex(32)
    page.evaluate(STAMP_IN_PAGE, leaf)
    assert _stamper_of(platform, leaf) == address
    screenshot(page, f"keys-{lang}")
    assert not page.console_errors
    page.context.close()


def test_create_key_in_browser_then_exported_keystore_opens_and_stamps_with_cli(page, platform, tmp_path):
    name = f"web{secrets.token_hex(4)}"
    page.goto("/keys")
    page.fill("#create-name", name)
    page.fill("#create-password", PASSWORD)
    page.fill("#create-password2", PASSWORD)
    page.click("#create-form button[type=submit]")
    page.locator("#create-result.ok").wait_for(timeout=120_000)
    address = _kept(page)[0]["address"]
    with page.expect_download() as download:
        page.locator("#key-rows tr", has_text=address).locator("button[data-action=download]").click()
    assert download.value.suggested_filename == f"{name}.json"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(str(saved))
    refused = platform.cli("account", "import", str(saved), password="not the password", check=False)
    assert refused.returncode == 2 and "wrong password" in refused.stderr
    imported = json.loads(platform.cli("account", "import", str(saved), "--json", password=PASSWORD).stdout)
    assert (imported["name"], imported["address"]) == (name, address)  # named after the downloaded file
    listed = json.loads(platform.cli("account", "list", "--json").stdout)
    assert {"name": name, "address": address} in [{k: a[k] for k in ("name", "address")} for a in listed]
    again = tmp_path / "again.json"
    platform.cli("account", "export", name, "-o", str(again))
    assert again.read_bytes() == saved.read_bytes() and _kept(page)[0]["json"] == saved.read_text()
    work = tmp_path / "note.txt"
    work.write_text(f"made with a browser key {secrets.token_hex(8)}")
    platform.cli("--account", name, "stamp", str(work), "--api", platform.url, password=PASSWORD)
    cert = json.loads((tmp_path / "note.txt.ipledger.json").read_text())
    assert cert["author"] == address == cert["stamper"]
    wrong = platform.cli("--account", name, "stamp", str(work), "--api", platform.url, password="not the password",
                         check=False)
    assert wrong.returncode == 2


def test_create_key_with_short_or_differing_passwords_is_refused_and_nothing_kept(page):
    page.goto("/keys")
    page.fill("#create-name", "short")
    page.fill("#create-password", PASSWORD)
    page.fill("#create-password2", PASSWORD + "x")
    page.click("#create-form button[type=submit]")
    assert "differ" in page.locator("#create-result.bad").inner_text()
    page.evaluate("""async () => {
      const { createKeystore } = await import('/static/js/keys.js');
      try { await createKeystore('short', '1234567'); } catch (e) { window.refused = e.message; }
    }""")
    assert "8" in page.evaluate("window.refused")
    assert _kept(page) == []


def test_import_with_wrong_password_or_not_a_keystore_is_refused_and_nothing_kept(browser, platform, lang, tmp_path):
    page = new_page(browser, platform, lang)
    page.goto("/keys")
    _import(page, keystore_file(tmp_path), "mine", "wrong password")
    refused = page.locator("#import-result.bad")
    refused.wait_for()
    assert ("Wrong password" if lang == "en" else "密码") in refused.inner_text()
    assert _kept(page) == [] and page.evaluate("localStorage.getItem('ipledger.active')") is None
    other = tmp_path / "notes.json"
    other.write_text('{"title": "not a key"}')
    _import(page, other, "notes", PASSWORD)
    page.wait_for_function("document.querySelector('#import-result.bad') && "
                           "!document.querySelector('#import-form button').disabled")
    assert ("keystore" if lang == "en" else "密钥库") in page.locator("#import-result").inner_text()
    assert _kept(page) == []
    screenshot(page, f"keys-refused-{lang}")
    assert not page.console_errors
    page.context.close()


def test_forget_key_asks_first_then_removes_it_from_the_browser(page, tmp_path):
    page.goto("/keys")
    _import(page, keystore_file(tmp_path), "gone", PASSWORD)
    page.locator("#import-result.ok").wait_for()
    page.click("#key-rows button[data-action=forget]")
    page.click("#key-rows button[data-action=forget-no]")
    assert len(_kept(page)) == 1
    page.click("#key-rows button[data-action=forget]")
    page.click("#key-rows button[data-action=forget-yes]")
    assert _kept(page) == [] and page.locator("#no-keys").is_visible()


WALLET = """(() => {
  const KEY = %s;
  let wallet;
  const open = async () => {
    if (!wallet) { const { Wallet } = await import('/vendor/ethers.js'); wallet = new Wallet(KEY); }
    return wallet;
  };
  window.signedByWallet = 0;
  window.ethereum = {
    isTestWallet: true,
    on() {},
    async request({ method, params }) {
      const w = await open();
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [w.address];
      if (method === 'eth_signTypedData_v4') {
        if (window.walletDeclines) throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
        const [from, text] = params;
        if (from.toLowerCase() !== w.address.toLowerCase()) {
          throw Object.assign(new Error('unknown account'), { code: 4100 });
        }
        const typed = JSON.parse(text);
        const types = { ...typed.types };
        delete types.EIP712Domain;
        window.signedByWallet += 1;
        return w.signTypedData(typed.domain, types, typed.message);
      }
      throw Object.assign(new Error('unsupported ' + method), { code: 4200 });
    },
  };
})();"""


def test_injected_wallet_connects_and_its_signed_act_lands(page, platform):
    account = Account.create()
    page.context.add_init_script(WALLET % json.dumps("0x" + account.key.hex().removeprefix("0x")))
    page.goto("/keys")
    page.click("#connect-wallet")
    assert account.address in page.locator("#wallet-result.ok").inner_text()
    assert account.address in page.locator("#key-rows").inner_text()
    leaf = "0x" + secrets.token_hex(32)
    page.evaluate(STAMP_IN_PAGE, leaf)
    assert page.evaluate("window.signedByWallet") == 1
    assert _stamper_of(platform, leaf) == account.address


def test_keys_page_without_wallet_says_so(page):
    page.goto("/keys")
    assert "EIP-1193" in page.locator("#wallet-result.warn").inner_text()
    page.click("#connect-wallet")
    assert "EIP-1193" in page.locator("#wallet-result.bad").inner_text()


def test_injected_wallet_declining_to_sign_sends_nothing(page, platform):
    account = Account.create()
    page.context.add_init_script(WALLET % json.dumps("0x" + account.key.hex().removeprefix("0x")))
    page.goto("/keys")
    page.click("#connect-wallet")
    page.locator("#wallet-result.ok").wait_for()
    page.evaluate("window.walletDeclines = true")
    message = page.evaluate("""async (leaf) => {
      const { act } = await import('/static/js/relay.js');
      try { await act('TimestampRegistry', 'stamp', [leaf]); return 'sent'; } catch (e) { return e.message; }
    }""", "0x" + secrets.token_hex(32))
    assert message == "You declined to sign; nothing was sent."
    assert httpx.get(f"{platform.url}/api/v1/relay/nonce/{account.address}").json()["nonce"] == 0
    page.click("#key-rows button[data-action=disconnect]")
    assert page.evaluate("localStorage.getItem('ipledger.active')") is None
