"""``api.js`` in a real page: each call states the page's language, problems read as a headline for their status
followed by the API's reason in that language; what the user reads is never the raw problem."""

from __future__ import annotations

import httpx
import pytest

from tests.web.browser import new_page

CALL = """async ([method, path, body]) => {
    const api = await import('/static/js/api.js');
    try {
        await (method === 'get' ? api.get(path) : api.post(path, body));
        return {message: 'answered'};
    } catch (error) {
        return {message: error.message, status: error.status, problem: error.problem,
                isProblem: error instanceof api.ProblemError};
    }
}"""

MISSING_ASSET = 987_654_321


def call(page, method: str, path: str, body: object = None) -> dict:  # type: ignore[no-untyped-def]
    return dict(page.evaluate(CALL, [method, path, body]))


@pytest.mark.parametrize("locale, expected", [
    ("zh-CN", f"未找到：资产 {MISSING_ASSET} 不存在"),
    ("en", f"Not found: asset {MISSING_ASSET} does not exist"),
])
def test_get_of_a_missing_asset_reads_not_found_and_the_ledgers_reason_in_the_page_language(
        browser, platform, locale, expected):
    page = new_page(browser, platform, locale)
    page.goto("/verify")
    answer = call(page, "get", f"/assets/{MISSING_ASSET}")
    assert answer["isProblem"] and answer["status"] == 404
    assert answer["message"] == expected
    page.context.close()


def test_page_in_chinese_for_a_browser_asking_for_a_language_we_lack_gets_the_apis_reason_in_chinese(
        browser, platform):
    """French is not offered: the page falls back to Chinese (the district's language), and so must the API's
    reason, though the browser's own Accept-Language alone would get English from the JSON API."""
    page = new_page(browser, platform, "fr-FR")
    page.goto("/verify")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    bare = httpx.get(f"{platform.url}/api/v1/assets/{MISSING_ASSET}", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert bare.json()["detail"] == f"asset {MISSING_ASSET} does not exist"
    assert call(page, "get", f"/assets/{MISSING_ASSET}")["message"] == f"未找到：资产 {MISSING_ASSET} 不存在"
    page.context.close()


def test_page_switched_to_english_reads_english_reasons_though_the_browser_asks_for_chinese(browser, platform):
    page = new_page(browser, platform, "zh-CN")
    page.goto("/verify?lang=en")
    assert page.evaluate("document.documentElement.lang") == "en"
    answer = call(page, "post", "/relay/prepare", {"from": "0x" + "12" * 20, "contract": "NoSuchContract",
                                                   "function": "register", "args": {}})
    assert answer["status"] in (400, 422)
    assert answer["message"].startswith("The request was not accepted: ")
    assert not any("\u4e00" <= c <= "\u9fff" for c in answer["message"]), answer["message"]
    page.context.close()


def test_problem_without_a_body_the_api_wrote_reads_as_unavailable_not_as_its_raw_text(browser, platform, lang):
    """A proxy's 502 page in front of the API: its HTML is never what the user reads."""
    page = new_page(browser, platform, lang)
    page.route("**/api/v1/chain", lambda route: route.fulfill(
        status=502, content_type="text/html", body="<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"))
    page.goto("/verify")
    answer = call(page, "get", "/chain")
    assert answer["status"] == 502
    assert answer["message"] == ("区块链或服务器暂不可用；未记录任何内容。请稍后重试。" if lang == "zh-CN"
                                 else "The chain or the server is unavailable; nothing was recorded. Try again later.")
    page.context.close()


def test_request_of_the_wrong_shape_reads_not_accepted_not_refused_by_the_ledger(browser, platform, lang):
    page = new_page(browser, platform, lang)
    page.goto("/verify")
    answer = call(page, "post", "/relay/prepare", {"contract": "IPRegistry"})
    assert answer["status"] == 422
    assert answer["problem"]["title"] == ("无效请求" if lang == "zh-CN" else "Invalid request")
    assert answer["message"].startswith("请求未被接受：" if lang == "zh-CN" else "The request was not accepted: ")
    page.context.close()
