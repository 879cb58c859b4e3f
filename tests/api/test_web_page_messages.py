"""Page texts as the server renders them (no browser): counts in their plural forms in English and Chinese
("1 confirmation", never "1 confirmations"), on the bank check page and in the verify page's script messages
(read by messages.js, run here in Node); the verify page's message for a certificate that is not JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.registry.metadata import build_document
from ledger.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MESSAGES_JS = ROOT / "api" / "web" / "static" / "js" / "messages.js"


@pytest.fixture
def one_confirmation_ledger(chain, deployment, artifacts, tmp_path) -> Iterator[Ledger]:
    """A ledger of its own (a record it registers has one confirmation until the next block)."""
    ledger = Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)
    yield ledger
    ledger.store.dispose()


@pytest.fixture
def pages(one_confirmation_ledger: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger=one_confirmation_ledger), follow_redirects=False) as test_client:
        yield test_client


def page_messages(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r'<script type="application/json" id="page-messages">(.*?)</script>', html, re.S)
    assert found, "the page carries its messages"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def t_in_node(lang: str, messages: dict, calls: list[tuple[str, dict]]) -> list[str]:  # type: ignore[type-arg]
    """``t(key, values)`` of messages.js for each call, on a page in ``lang`` carrying ``messages``."""
    script = (
        "const [lang, messages, calls] = JSON.parse(process.argv[2]);"
        "globalThis.document = { documentElement: { lang },"
        "  getElementById: (id) => id === 'page-messages' ? { textContent: JSON.stringify(messages) } : null };"
        "const { t } = await import(process.argv[1]);"
        "console.log(JSON.stringify(calls.map(([key, values]) => t(key, values))));"
    )
    done = subprocess.run(["node", "--input-type=module", "-e", script, MESSAGES_JS.as_uri(),
                           json.dumps([lang, messages, calls])], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_verify_page_finality_messages_have_plural_forms_that_messages_js_chooses_by_count(pages):
    en = page_messages(pages.get("/verify?lang=en").text)
    assert en["finalNow"] == {"one": "final ({count} confirmation)", "other": "final ({count} confirmations)"}
    calls = [("finalNow", {"count": 1}), ("finalNow", {"count": 12}), ("notFinal", {"count": 1}),
             ("notFinal", {"count": 0}), ("valid", {})]
    assert t_in_node("en", en, calls) == [
        "final (1 confirmation)", "final (12 confirmations)",
        "not final yet (1 confirmation): the chain may still drop this record",
        "not final yet (0 confirmations): the chain may still drop this record", "Valid."]
    zh = page_messages(pages.get("/verify?lang=zh").text)
    assert zh["finalNow"] == {"other": "已最终确认（{count} 个确认）"}  # Chinese has one form
    assert t_in_node("zh-CN", zh, calls[:3]) == ["已最终确认（1 个确认）", "已最终确认（12 个确认）",
                                                 "尚未最终确认（1 个确认）：链仍可能丢弃此记录"]


@pytest.mark.parametrize("lang, says", [("en", "The certificate is not a JSON file."), ("zh", "证书不是 JSON 文件。")])
def test_verify_page_message_for_a_certificate_that_is_not_json_carries_no_parser_text(pages, lang, says):
    """verify.js fills ``{reason}`` with the browser's JSON.parse error, in English: the message names none."""
    message = page_messages(pages.get(f"/verify?lang={lang}").text)["notJson"]
    assert message.startswith(says) and ".ipledger.json" in message and "{" not in message
    shown = t_in_node(lang, {"notJson": message}, [("notJson", {"reason": "Unexpected token 'w', \"why\" is not"})])
    assert shown == [message]


@pytest.mark.parametrize("lang, one", [("en", ["1 confirmation of the latest change"]), ("zh", ["已有 1 个确认。"])])
def test_bank_check_page_says_one_confirmation_in_the_singular(pages, one_confirmation_ledger, accounts, lang, one):
    ref = f"CN{int.from_bytes(os.urandom(5)):012d}.3"
    registered = one_confirmation_ledger.assets.register(os.urandom(32), "design", ref, build_document("A lamp"),
                                                         sender=accounts[1])
    html = pages.get(f"/assets/{registered.asset_id}/check?lang={lang}").text
    finality = re.search(r'<p class="finality[^>]*>(.*?)</p>', html, re.S)
    assert finality, html[:2000]
    text = " ".join(finality.group(1).split())
    for part in one:
        assert part in text, text
    assert "1 confirmations" not in text


@pytest.mark.parametrize("lang, says", [
    ("en", "the maturity must be in the future: 2020-01-01 00:00:00 UTC is not after the chain&#39;s time"),
    ("zh", "到期日必须在将来：2020-01-01 00:00:00 UTC 不晚于链上当前时间"),
])
def test_bank_check_page_with_a_past_maturity_says_it_must_be_in_the_future(pages, one_confirmation_ledger, accounts,
                                                                             lang, says):
    registered = one_confirmation_ledger.assets.register(os.urandom(32), "design", None, build_document("A lamp"),
                                                         sender=accounts[1])
    answer = pages.get(f"/assets/{registered.asset_id}/check?maturity=2020-01-01&lang={lang}")
    assert answer.status_code == 400, answer.text[:2000]
    assert says in answer.text and "Traceback" not in answer.text
