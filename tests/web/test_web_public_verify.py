"""/verify in Chromium: two files stamped together by the CLI (a batch certificate with a Merkle proof)
verify in the page; a tampered copy, a file that is not a certificate and a missing file each get a
clear message in the page's language."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ledger.documents.certificate import verify_url
from ledger.timestamps.proofs import Certificate
from tests.web.browser import Platform, new_page, screenshot

TEXT = {
    "en": {"valid": "Valid.", "invalid": "Not valid.", "other": "not the one the certificate was made for",
           "not_json": "The certificate is not a JSON file", "not_cert": "is not an ipledger certificate",
           "no_file": "Choose the file to verify.", "batch": "one of 2 files stamped together",
           "single": "a single file"},
    "zh-CN": {"valid": "有效。", "invalid": "无效。", "other": "不是该证书所针对的文件",
              "not_json": "证书不是 JSON 文件", "not_cert": "不是 ipledger 证书",
              "no_file": "请选择要验证的文件。", "batch": "2 个文件之一", "single": "单个文件"},
}


@pytest.fixture(scope="module")
def stamped(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two files stamped in one CLI call (one batch), a tampered copy of the first, and two non-certificates."""
    folder = tmp_path_factory.mktemp("verify")
    first, second = folder / "claims.txt", folder / "drawings.bin"
    first.write_bytes(b"claims " + os.urandom(32).hex().encode())
    second.write_bytes(os.urandom(4096))
    platform.cli("--dev-account", "1", "stamp", str(first), str(second))
    alone = folder / "alone.txt"
    alone.write_bytes(b"stamped alone " + os.urandom(16).hex().encode())
    platform.cli("--dev-account", "2", "stamp", str(alone))
    tampered = folder / "claims-tampered.txt"
    tampered.write_bytes(first.read_bytes() + b" and one more claim")
    not_json = folder / "notes.ipledger.json"
    not_json.write_text("this is not JSON {")
    not_cert = folder / "package.json"
    not_cert.write_text(json.dumps({"name": "something", "version": "1.0.0"}))
    return {"first": first, "second": second, "cert1": folder / "claims.txt.ipledger.json",
            "cert2": folder / "drawings.bin.ipledger.json", "alone": alone,
            "alone_cert": folder / "alone.txt.ipledger.json", "tampered": tampered, "not_json": not_json,
            "not_cert": not_cert}


def _verify(page, file: Path | None, certificate: Path | None) -> str:  # type: ignore[no-untyped-def]
    if file is not None:
        page.locator("#file").set_input_files(str(file))
    if certificate is not None:
        page.locator("#cert").set_input_files(str(certificate))
    page.locator("#verify-form button").click()
    result = page.locator("#result")
    result.locator("strong").wait_for()
    page.wait_for_function("!document.querySelector('#verify-form button').disabled")
    return str(result.inner_text())


def test_verify_batch_stamped_files_shows_valid_with_author_block_and_tx(browser, platform, stamped, lang):
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    certificate = json.loads(stamped["cert1"].read_text())
    assert certificate["batch_size"] == 2 and certificate["proof"], "the CLI stamped both files in one batch"
    text = _verify(page, stamped["first"], stamped["cert1"])
    assert "result ok" in str(page.locator("#result").get_attribute("class"))
    assert text.startswith(TEXT[lang]["valid"]) and TEXT[lang]["batch"] in text
    for value in (certificate["author"], certificate["tx_hash"], str(certificate["block_number"]), "31337"):
        assert value in text
    screenshot(page, f"verify-valid-{lang}")
    text = _verify(page, stamped["second"], stamped["cert2"])
    assert text.startswith(TEXT[lang]["valid"]) and json.loads(stamped["cert2"].read_text())["tx_hash"] in text
    alone = json.loads(stamped["alone_cert"].read_text())
    assert alone["batch_size"] == 1 and not alone["proof"]
    text = _verify(page, stamped["alone"], stamped["alone_cert"])
    assert text.startswith(TEXT[lang]["valid"]) and TEXT[lang]["single"] in text and alone["author"] in text
    assert not page.console_errors
    page.context.close()


def test_verify_tampered_copy_shows_not_valid_with_the_reason(browser, platform, stamped, lang):
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    text = _verify(page, stamped["tampered"], stamped["cert1"])
    assert "result bad" in str(page.locator("#result").get_attribute("class"))
    assert text.startswith(TEXT[lang]["invalid"]) and TEXT[lang]["other"] in text
    assert json.loads(stamped["cert1"].read_text())["digest"] in text
    screenshot(page, f"verify-tampered-{lang}")
    assert not page.console_errors
    page.context.close()


def test_verify_certificate_altered_to_the_tampered_digest_is_refused_by_the_chain(page, stamped, tmp_path):
    forged = json.loads(stamped["cert1"].read_text())
    import hashlib

    forged["digest"] = "0x" + hashlib.sha256(stamped["tampered"].read_bytes()).hexdigest()
    path = tmp_path / "forged.ipledger.json"
    path.write_text(json.dumps(forged))
    page.goto("/verify")
    text = _verify(page, stamped["tampered"], path)
    assert text.startswith("Not valid.") and "The chain does not confirm this certificate" in text


def test_verify_not_a_certificate_shows_a_message_in_the_pages_language(browser, platform, stamped, lang):
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    text = _verify(page, stamped["first"], stamped["not_json"])
    assert TEXT[lang]["not_json"] in text
    text = _verify(page, stamped["first"], stamped["not_cert"])
    assert TEXT[lang]["not_cert"] in text and "package.json" in text
    screenshot(page, f"verify-not-certificate-{lang}")
    assert not page.console_errors
    page.context.close()


def test_verify_without_a_file_says_what_is_missing(browser, platform, stamped, lang):
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    text = _verify(page, None, stamped["cert1"])
    assert TEXT[lang]["no_file"] in text
    assert not page.console_errors
    page.context.close()


def test_a_second_certificate_link_opened_in_the_same_tab_replaces_the_first(browser, platform, stamped, lang):
    """Two QR codes scanned one after the other in one tab: only the fragment changes (no reload), yet the page
    verifies against the second link's certificate and leaves nothing of the first's verdict."""
    first, second = (json.loads(stamped[name].read_text()) for name in ("cert1", "alone_cert"))
    assert first["author"] != second["author"]
    link_a, link_b = (verify_url(Certificate.model_validate(c), platform.url) for c in (first, second))
    page = new_page(browser, platform, lang)
    page.goto(link_a)
    note = page.locator("#linked-certificate")
    assert first["author"] in note.inner_text()
    assert _verify(page, stamped["first"], None).startswith(TEXT[lang]["valid"])
    page.evaluate("window.sameDocument = true")
    page.goto(link_b)
    page.wait_for_function(f"document.getElementById('linked-certificate').textContent.includes('{second['author']}')",
                           timeout=5_000)
    assert page.evaluate("window.sameDocument"), "only the fragment changed: no reload"
    assert first["author"] not in note.inner_text() and page.locator("#result").inner_text() == ""
    text = _verify(page, stamped["alone"], None)
    assert text.startswith(TEXT[lang]["valid"]) and second["author"] in text and second["tx_hash"] in text
    # the skip link's fragment carries no certificate: the second one stays
    page.evaluate("new Promise((done) => { addEventListener('hashchange', done, { once: true }); "
                  "location.hash = 'main' })")
    assert second["author"] in note.inner_text()
    assert _verify(page, stamped["alone"], None).startswith(TEXT[lang]["valid"])
    assert not page.console_errors
    page.context.close()


def test_hash_of_a_file_larger_than_one_piece_streams_with_progress_and_equals_hashlib(page, tmp_path):
    import hashlib

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1 << 20) * 41 + b"tail")  # past the one-piece limit: streamed in 8 MB chunks
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    page.goto("/verify")
    for path in (big, empty):
        page.locator("#file").set_input_files(str(path))
        result = page.evaluate("""async () => {
            const { sha256File } = await import("/static/js/hash.js");
            const seen = [];
            const file = document.getElementById("file").files[0];
            const digest = await sha256File(file, (done, total) => seen.push([done, total]));
            return { digest, seen };
        }""")
        assert result["digest"] == "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
        size = path.stat().st_size
        assert result["seen"][0] == [0, size] and result["seen"][-1] == [size, size]
        assert [done for done, _ in result["seen"]] == sorted(done for done, _ in result["seen"])
        if path is big:
            assert len(result["seen"]) == 1 + 6, "six 8 MB pieces, each reported"


def test_verify_when_the_connection_is_lost_says_nothing_was_sent_in_the_pages_language(browser, platform, stamped):
    page = new_page(browser, platform, "zh-CN")
    page.route("**/api/v1/timestamps/verify", lambda route: route.abort("connectionrefused"))
    page.goto("/verify")
    text = _verify(page, stamped["first"], stamped["cert1"])
    assert text.startswith("错误。") and "服务器没有响应" in text
    assert not page.console_errors
    page.context.close()
