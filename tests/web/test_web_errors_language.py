"""The ledger's refusals in the requester's language: every template translated, the API answering in the
language a page's fetch states (``lang`` cookie, ``Accept-Language``) and in English when none is stated."""

from __future__ import annotations

import os
import string
from decimal import Decimal

import httpx
import pytest
from eth_account import Account

from api import refusals, validation
from api.errors import STATUS
from api.web import catalogs, i18n
from ledger import messages
from ledger.chain.client import ErrorDecoder
from ledger.errors import ChainUnavailableError, ValidationError, contract_error
from ledger.settings import Settings

ASSET_HASH = "0x" + "ab" * 32


def fields(template: str) -> set[tuple[str, str]]:
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


def every_english_text() -> dict[str, str]:
    """Every text of the error path that a catalog must translate -> where it comes from."""
    texts = {template: f"SENTENCES[{name}]" for name, template in messages.SENTENCES.items()}
    texts.update({template: f"NOTICES[{key}]" for key, template in messages.NOTICES.items()})
    texts.update({word: "value_words()" for word in messages.value_words()})
    texts.update({title: "a problem title" for title in refusals.TITLES})
    texts.update({text: "a fixed detail" for text in refusals.FIXED})
    texts.update({text: "a field error (api/validation.py)" for text in validation.TEXTS})
    return texts


def ipst(units: int) -> str:
    return f"{Decimal(units).scaleb(-6).normalize():,f} IPST"


def test_errors_catalog_translates_every_sentence_notice_word_and_title_with_the_same_placeholders():
    have = catalogs.translated("zh_CN")
    missing = [f"{text!r} ({where})" for text, where in every_english_text().items() if text not in have]
    assert not missing, "untranslated in errors.po: " + "; ".join(missing[:20])
    wrong = [text for text in every_english_text() if fields(have[text][0]) != fields(text)]
    assert not wrong, f"translations whose placeholders differ from their template's: {wrong[:10]}"


def test_every_problem_title_of_the_api_is_in_the_translated_titles():
    assert {title for _, _, title in STATUS} <= set(refusals.TITLES)


def test_detail_in_chinese_renders_the_translated_template_with_the_same_arguments():
    error = contract_error("IPRegistryContentAlreadyRegistered", {"contentHash": ASSET_HASH, "assetId": 7},
                           "english")
    assert refusals.detail(error, "zh_CN") == f"此内容（{ASSET_HASH}）已登记为资产 7"
    status = contract_error("LicenseRegistryNotOffered", {"licenseId": 3, "status": 2}, "english")
    assert refusals.detail(status, "zh_CN") == "许可 3 不是待接受的要约（其状态为有效）"
    price = contract_error("MarketplacePriceChanged", {"listingId": 1, "price": 260_500_000, "nonce": 2}, "english")
    tail = "序号 2；请重新查看后再购买"
    assert refusals.detail(price, "zh_CN", ipst) == f"挂牌 1 在您查看后已变更：现价为 260.5 IPST，{tail}"
    assert refusals.detail(price, "zh_CN") == f"挂牌 1 在您查看后已变更：现价为 260,500,000 个代币单位，{tail}"
    frozen = contract_error("PledgeRegistryAssetFrozen", {"assetId": 4, "until": 1_900_000_000}, "english")
    assert refusals.detail(frozen, "zh_CN") == "资产 4 已被法院裁定冻结至 2030-03-17 17:46:40 UTC；不能质押"


def test_detail_without_a_stated_language_is_the_english_message_unchanged():
    decoder = ErrorDecoder()
    for error in (contract_error("ERC721NonexistentToken", {"tokenId": 9}, "asset 9 does not exist"),
                  decoder.decode("0xdeadbeef" + "00" * 32), ValidationError("a message of its own"),
                  ChainUnavailableError(**messages.notice("chain-stopped", url="http://x", reason="refused"))):
        assert refusals.detail(error, None) == error.message
    english = contract_error("ERC721NonexistentToken", {"tokenId": 9}, messages.sentence("ERC721NonexistentToken",
                                                                                          {"tokenId": 9}))
    assert refusals.detail(english, "en") == "asset 9 does not exist"


def test_detail_of_an_error_nobody_can_explain_is_a_generic_sentence_never_the_raw_revert_data():
    raw = "0xdeadbeef" + "12" * 32
    unknown_data = ErrorDecoder().decode(raw)
    unknown_name = contract_error("AccessControlBadConfirmation", {}, messages.sentence("AccessControlBadConfirmation",
                                                                                         {}))
    for error in (unknown_data, unknown_name):
        english, chinese = refusals.detail(error, "en"), refusals.detail(error, "zh_CN")
        assert english == refusals.UNEXPLAINED
        assert chinese == "ipledger 无法说明此次拒绝的原因（此版本不认识该错误）；未做任何更改"
        assert "deadbeef" not in english + chinese and "AccessControlBadConfirmation" not in english + chinese


def test_relay_refusals_keep_their_english_text_and_say_it_in_chinese():
    deadline, now = 1_900_000_000, 1_900_000_010
    expired = messages.notice("relay-deadline", deadline=deadline, margin=30, now=now)
    assert expired["message"] == (
        "the request expired or would expire before it is mined: its deadline is 1900000000 (2030-03-17 17:46:40 "
        "UTC), and the relay needs at least 30s after now (1900000010 (2030-03-17 17:46:50 UTC), the later of the "
        "clock and the last block's time); sign it again with a later deadline")
    error = contract_error("ERC2771ForwarderExpiredRequest", {"deadline": deadline}, **expired)
    assert refusals.detail(error, "en") == expired["message"]
    assert refusals.detail(error, "zh_CN").startswith(
        "请求已过期，或将在上链前过期：其截止时间为 1900000000 (2030-03-17 17:46:40 UTC)")
    signer = "0x" + "11" * 20
    wrong = contract_error("ERC2771ForwarderInvalidSigner", {"signer": signer, "from": ASSET_HASH[:42]},
                           **messages.notice("signed-by-another", signer=signer, sender=ASSET_HASH[:42]))
    assert refusals.detail(wrong, "zh_CN").startswith(f"请求由 {signer} 签名，而不是由其发送方 {ASSET_HASH[:42]} 签名")


@pytest.mark.parametrize("headers, cookies, expected", [
    ({}, {}, None),
    ({"Accept-Language": "zh-CN,zh;q=0.9"}, {}, "zh_CN"),
    ({"Accept-Language": "fr"}, {}, None),
    ({"Accept-Language": "zh-CN"}, {i18n.COOKIE: "en"}, "en"),
    ({}, {i18n.COOKIE: "zh_CN"}, "zh_CN"),
])
def test_api_language_is_the_stated_one_and_none_when_nothing_is_stated(headers, cookies, expected):
    from starlette.requests import Request

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if cookies:
        raw.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    request = Request({"type": "http", "method": "GET", "path": "/api/v1/x", "query_string": b"", "headers": raw})
    assert refusals.requested(request) == expected
    assert i18n.negotiate(request) == (expected or i18n.DEFAULT)


# -- against the running platform ---------------------------------------------------------------


def register(platform, content: str) -> dict:  # type: ignore[no-untyped-def]
    return {"contract": "IPRegistry", "function": "register",
            "args": {"contentHash": content, "kind": "software-copyright", "ref": None,
                     "metadataHash": "0x" + "d2" * 32, "uri": "https://example.org/meta.json"}}


def registered_content(platform) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A fresh content hash registered as an asset through the API (prepare, sign here, relay)."""
    owner = Account.create()
    content = "0x" + os.urandom(32).hex()
    body = httpx.post(f"{platform.url}/api/v1/relay/prepare", json={"from": owner.address,
                                                                    **register(platform, content)}, timeout=30)
    assert body.status_code == 200, body.text
    prepared = body.json()
    signed = Account.sign_typed_data(owner.key, full_message=prepared["typed_data"])
    relayed = httpx.post(f"{platform.url}/api/v1/relay",
                         json={**prepared["message"], "signature": "0x" + signed.signature.hex()}, timeout=60)
    assert relayed.status_code == 200, relayed.text
    return content, int(relayed.json()["result"]["assetId"])


def test_prepare_of_content_already_registered_with_a_chinese_cookie_answers_the_reason_in_chinese(platform):
    content, asset_id = registered_content(platform)
    again = {"from": Account.create().address, **register(platform, content)}
    zh = httpx.post(f"{platform.url}/api/v1/relay/prepare", json=again, cookies={i18n.COOKIE: "zh_CN"}, timeout=30)
    assert zh.status_code == 409 and zh.headers["content-type"] == "application/problem+json"
    problem = zh.json()
    assert problem["detail"] == f"此内容（{content}）已登记为资产 {asset_id}"
    assert problem["title"] == "账本规则拒绝"
    assert problem["type"] == "urn:ipledger:problem:refused-by-a-rule-of-the-ledger"
    assert problem["error"] == "IPRegistryContentAlreadyRegistered"
    assert problem["arguments"] == {"contentHash": content, "assetId": asset_id}
    assert zh.headers["content-language"] == "zh-CN"
    by_header = httpx.post(f"{platform.url}/api/v1/relay/prepare", json=again,
                           headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, timeout=30)
    assert by_header.json()["detail"] == problem["detail"]
    english = httpx.post(f"{platform.url}/api/v1/relay/prepare", json=again, timeout=30)
    assert english.json()["detail"] == f"this content ({content}) is already registered as asset {asset_id}"
    assert english.json()["title"] == "Refused by a rule of the ledger" and "content-language" not in english.headers


def test_relay_of_a_request_signed_by_another_key_answers_in_chinese_naming_both_accounts(platform):
    sender, forger = Account.create(), Account.create()
    prepared = httpx.post(f"{platform.url}/api/v1/relay/prepare",
                          json={"from": sender.address, **register(platform, "0x" + os.urandom(32).hex())},
                          timeout=30).json()
    forged = Account.sign_typed_data(forger.key, full_message=prepared["typed_data"])
    answer = httpx.post(f"{platform.url}/api/v1/relay", cookies={i18n.COOKIE: "zh_CN"}, timeout=30,
                        json={**prepared["message"], "signature": "0x" + forged.signature.hex()})
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"].startswith(f"请求由 {forger.address} 签名，而不是由其发送方 {sender.address} 签名")
    assert answer.json()["title"] == "无权操作"


def test_unknown_page_says_there_is_no_page_in_the_readers_language_not_starlettes_english(platform):
    zh = httpx.get(f"{platform.url}/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 404 and "此地址没有页面；请从首页重新开始" in zh.text and "Not Found" not in zh.text
    en = httpx.get(f"{platform.url}/no-such-page", cookies={i18n.COOKIE: "en"})
    assert "there is no page at this address; start again from the start page" in en.text


def test_request_over_the_body_limit_is_refused_in_the_stated_language(platform):
    huge = b"x" * (Settings().api_max_body_bytes + 1)
    zh = httpx.post(f"{platform.url}/api/v1/relay/prepare", content=huge, cookies={i18n.COOKIE: "zh_CN"},
                    headers={"Content-Type": "application/json"})
    assert zh.status_code == 413 and zh.json()["title"] == "请求过大"
    assert zh.json()["detail"] == f"请求体超过 {Settings().api_max_body_bytes} 字节"
    en = httpx.post(f"{platform.url}/api/v1/relay/prepare", content=huge, headers={"Content-Type": "application/json"})
    assert en.json()["detail"] == f"the request body exceeds {Settings().api_max_body_bytes} bytes"
