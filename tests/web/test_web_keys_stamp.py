"""Stamping in Chromium (/stamp): hashed, committed and signed in the browser, one stampBatch for
several files; the downloaded certificates are the CLI's, byte for byte, and `ipledger verify` accepts
them; a tampered file fails; a file stamped again is kept, nothing sent, nothing overwritten."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
from eth_account import Account

from ledger.timestamps.proofs import Certificate
from tests.web.browser import enter_password, give_key, import_cli_keystore, new_page, screenshot


def _download_all(page, folder: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    saved = []
    links = page.locator("#results a[download]")
    for i in range(links.count()):
        with page.expect_download() as download:
            links.nth(i).click()
        path = folder / download.value.suggested_filename
        download.value.save_as(str(path))
        saved.append(path)
    return saved


def _stamp(page, *files: Path) -> None:  # type: ignore[no-untyped-def]
    """Stamp in the author's own transaction (the page's default, the stamp service, is in test_web_stamp_service)."""
    page.check("input[name=how][value=chain]")
    page.set_input_files("#files", [str(f) for f in files])
    page.click("#stamp-form button[type=submit]")


def test_stamp_two_files_with_cli_keystore_then_cli_verifies_both_and_fails_a_tampered_one(browser, platform, lang,
                                                                                         tmp_path):
    page = new_page(browser, platform, lang)
    address = import_cli_keystore(page, platform, "stamper")
    files = [tmp_path / "claims.txt", tmp_path / "drawing.svg"]
    for f in files:
        f.write_text(f"{f.name} {secrets.token_hex(16)}\n")
    page.goto("/stamp")
    screenshot(page, f"stamp-empty-{lang}")
    _stamp(page, *files)
    enter_password(page)  # the key was opened on /keys; a new page asks again
    page.locator("#status.ok").wait_for(timeout=120_000)
    out = tmp_path / "downloads"
    out.mkdir()
    certs = _download_all(page, out)
    assert sorted(c.name for c in certs) == ["claims.txt.ipledger.json", "drawing.svg.ipledger.json"]
    screenshot(page, f"stamp-{lang}")
    roots = set()
    for f in files:
        text = (out / f"{f.name}.ipledger.json").read_text()
        cert = Certificate.loads(text)
        assert cert.dumps() == text, "the CLI's own bytes"
        assert cert.author == cert.stamper == address and cert.batch_size == 2 and len(cert.proof) == 1
        roots.add(cert.root)
        platform.cli("verify", str(f), str(out / f"{f.name}.ipledger.json"))
    assert len(roots) == 1, "one stampBatch for both files"
    record = httpx.get(f"{platform.url}/api/v1/timestamps/{roots.pop()}").json()
    assert record["batch_size"] == 2 and record["stamper"] == address
    files[0].write_text(files[0].read_text() + "tampered\n")
    tampered = platform.cli("verify", str(files[0]), str(out / "claims.txt.ipledger.json"), check=False)
    assert tampered.returncode == 1
    assert not page.console_errors
    page.context.close()


def test_stamp_again_same_content_is_kept_nothing_sent_and_a_changed_file_gets_the_next_name(page, platform, tmp_path):
    account = Account.create()
    give_key(page, account)
    work = tmp_path / "report.pdf"
    work.write_bytes(b"%PDF-1.7 " + secrets.token_bytes(64))
    page.goto("/stamp")
    _stamp(page, work)
    enter_password(page)
    page.locator("#status.ok").wait_for(timeout=60_000)
    first = _download_all(page, tmp_path)
    assert [p.name for p in first] == ["report.pdf.ipledger.json"]
    text = first[0].read_text()
    cert = Certificate.loads(text)
    assert cert.dumps() == text and cert.batch_size == 1 and cert.proof == [] and cert.author == account.address
    nonce = httpx.get(f"{platform.url}/api/v1/relay/nonce/{account.address}").json()["nonce"]

    _stamp(page, work)  # same content, same author: the earlier certificate stands
    page.locator("#status.warn").wait_for()
    assert "Nothing was sent" in page.locator("#status").inner_text()
    assert "Already stamped" in page.locator("#results").inner_text()
    assert httpx.get(f"{platform.url}/api/v1/relay/nonce/{account.address}").json()["nonce"] == nonce
    (tmp_path / "again").mkdir()
    again = _download_all(page, tmp_path / "again")
    assert again[0].read_text() == text, "the earlier certificate, unchanged"

    work.write_bytes(work.read_bytes() + b"v2")
    _stamp(page, work)
    page.locator("#status.ok").wait_for(timeout=60_000)
    second = _download_all(page, tmp_path)
    assert [p.name for p in second] == ["report.pdf.ipledger.2.json"], "a new certificate never takes the old name"
    platform.cli("verify", str(work), str(second[0]))


def test_stamp_a_file_with_its_earlier_certificate_given_in_a_fresh_browser_is_kept(browser, platform, tmp_path):
    account = Account.create()
    first = new_page(browser, platform)
    give_key(first, account)
    work = tmp_path / "notes.md"
    work.write_text(f"notes {secrets.token_hex(8)}")
    first.goto("/stamp")
    _stamp(first, work)
    enter_password(first)
    first.locator("#status.ok").wait_for(timeout=60_000)
    cert = _download_all(first, tmp_path)[0]
    first.context.close()

    fresh = new_page(browser, platform)  # another browser profile: no journal of its own
    give_key(fresh, account)
    fresh.goto("/stamp")
    _stamp(fresh, work, cert)
    fresh.locator("#status.warn").wait_for()
    assert "1" in fresh.locator("#status").inner_text()
    assert fresh.locator("dialog.password-dialog").count() == 0, "nothing to sign"
    fresh.context.close()


def test_stamp_without_a_key_or_only_a_certificate_says_what_to_do(page, tmp_path):
    page.goto("/stamp")
    assert "My key" in page.locator("#status.warn").inner_text()
    work = tmp_path / "a.txt"
    work.write_text("a")
    _stamp(page, work)
    page.locator("#status.bad").wait_for()
    assert "No key is open" in page.locator("#status").inner_text()
    assert json.loads(page.evaluate("localStorage.getItem('ipledger.pending-stamps') || '[]'")) == []


def test_browser_merkle_tree_and_commitments_equal_the_clis_for_odd_and_even_batches(page):
    from ledger.timestamps.proofs import MerkleTree, commitment

    page.goto("/stamp")
    author = Account.create().address
    for size in (1, 2, 5, 8):
        triples = [(secrets.token_bytes(32), secrets.token_bytes(32)) for _ in range(size)]
        leaves = [commitment(d, author, s) for d, s in triples]
        tree = MerkleTree(leaves)
        browser = page.evaluate("""async ([author, triples]) => {
          const { MerkleTree, commitment } = await import('/static/js/proofs.js');
          const leaves = triples.map(([d, s]) => commitment(d, author, s));
          const tree = new MerkleTree(leaves);
          return { leaves, root: tree.root, proofs: leaves.map((_, i) => tree.proof(i)) };
        }""", [author.lower(), [["0x" + d.hex(), "0x" + s.hex()] for d, s in triples]])
        assert browser["leaves"] == ["0x" + c.hex() for c in leaves]
        assert browser["root"] == "0x" + tree.root.hex()
        assert browser["proofs"] == [["0x" + p.hex() for p in tree.proof(i)] for i in range(size)]


def test_stamp_whose_answer_is_lost_keeps_its_salts_and_the_next_visit_recovers_the_certificates(page, platform,
                                                                                              tmp_path):
    account = Account.create()
    give_key(page, account)
    work = tmp_path / "lab-notes.txt"
    work.write_text(f"measured {secrets.token_hex(8)}")
    page.goto("/stamp")
    page.route("**/api/v1/timestamps/0x*", lambda route: route.abort("internetdisconnected"))
    _stamp(page, work)
    enter_password(page)
    failed = page.locator("#status.bad")
    failed.wait_for(timeout=60_000)
    assert "does not answer" in failed.inner_text() and "recovered the next time" in failed.inner_text()
    pending = json.loads(page.evaluate("localStorage.getItem('ipledger.pending-stamps')"))
    assert len(pending) == 1
    record = httpx.get(f"{platform.url}/api/v1/timestamps/{pending[0]['root']}")
    assert record.status_code == 200, "the stamp went out; only its answer was lost"

    page.unroute("**/api/v1/timestamps/0x*")
    page.reload()
    page.locator("#status.ok").wait_for(timeout=30_000)
    assert "Recovered" in page.locator("#results").inner_text()
    cert = _download_all(page, tmp_path)[0]
    assert cert.name == "lab-notes.txt.ipledger.json"
    platform.cli("verify", str(work), str(cert))
    assert page.evaluate("localStorage.getItem('ipledger.pending-stamps')") == "[]"


def test_stamp_declined_in_the_password_dialog_sends_nothing_and_keeps_nothing(page, platform, tmp_path):
    account = Account.create()
    give_key(page, account)
    work = tmp_path / "draft.txt"
    work.write_text(f"draft {secrets.token_hex(8)}")
    page.goto("/stamp")
    _stamp(page, work)
    page.locator("dialog.password-dialog button[value=cancel]").click()
    page.locator("#status.bad").wait_for()
    assert "declined" in page.locator("#status").inner_text()
    assert page.evaluate("localStorage.getItem('ipledger.pending-stamps')") == "[]"
    assert httpx.get(f"{platform.url}/api/v1/relay/nonce/{account.address}").json()["nonce"] == 0
