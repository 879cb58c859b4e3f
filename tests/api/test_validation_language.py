"""A request's shape errors (pydantic's 422) and the prepare path's argument refusals (400) in the language the
request states (``Accept-Language``, the ``lang`` cookie), with ``type``, ``loc`` and codes unchanged for programs;
pydantic's English when none is stated."""

from __future__ import annotations

import re

import pytest

from api import validation

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
HAN = re.compile(r"[\u4e00-\u9fff]")
OWNER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"


def test_metadata_with_a_too_long_title_in_chinese_translates_the_message_and_keeps_type_and_loc(client):
    body = {"title": "x" * 501}
    zh = client.post("/metadata", json=body, headers=ZH)
    en = client.post("/metadata", json=body)
    assert zh.status_code == en.status_code == 422
    assert zh.json()["type"] == en.json()["type"] == "urn:ipledger:problem:invalid-request"
    assert zh.headers["content-language"] == "zh-CN"
    (error,) = zh.json()["errors"]
    assert error == {"type": "string_too_long", "loc": ["body", "title"], "msg": "最多 500 个字符"}
    assert zh.json()["detail"] == "title：最多 500 个字符" and zh.json()["title"] == "无效请求"
    (english,) = en.json()["errors"]
    assert english["type"] == "string_too_long" and english["loc"] == ["body", "title"]
    assert english["msg"] == "String should have at most 500 characters"  # pydantic's, for API clients


def test_prepare_with_missing_and_malformed_fields_in_chinese_says_each_in_chinese(client):
    answer = client.post("/relay/prepare", json={"from": "0x12", "contract": "", "valid_for": "soon"},
                         headers={"Cookie": "lang=zh-CN"})
    assert answer.status_code == 422
    by_type = {e["type"]: e for e in answer.json()["errors"]}
    assert set(by_type) == {"string_pattern_mismatch", "string_too_short", "missing", "int_parsing"}
    assert by_type["missing"] == {"type": "missing", "loc": ["body", "function"], "msg": "此项必填"}
    assert by_type["int_parsing"]["msg"] == "必须是整数"
    assert by_type["string_pattern_mismatch"]["msg"] == "必须是账户地址（0x 加 40 位十六进制数字）"
    assert by_type["string_too_short"]["msg"] == "至少需要 1 个字符"
    assert all(HAN.search(e["msg"]) for e in answer.json()["errors"])
    assert "function：此项必填" in answer.json()["detail"]


@pytest.mark.parametrize(("path", "params", "kind", "expected"), [
    ("/audit/history", {"limit": 100000}, "less_than_equal", "不得大于 1000"),
    ("/audit/pledges", {"bank": "0x" + "aB" * 20}, "value_error", "EIP-55 校验和"),  # our validator, its notice
    ("/licenses/codes", {"territory": "Atlantis", "field_of_use": ""}, "value_error", "地域 'Atlantis' 不是国家"),
    ("/licenses/codes", {"territory": "CN", "field_of_use": "H04L 9/12"}, "value_error", "IPC 小组"),
    ("/assets/1/check", {"maturity": "soon"}, "date_from_datetime_parsing", "必须是日期"),
])
def test_query_errors_in_chinese_are_in_chinese_with_the_type_unchanged(client, path, params, kind, expected):
    answer = client.get(path, params=params, headers=ZH)
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert error["type"] == kind and error["loc"][0] == "query"
    assert expected in error["msg"] and expected in answer.json()["detail"]


def test_prepare_with_a_bad_argument_in_chinese_names_the_argument_and_the_reason_in_chinese(client):
    act = {"from": OWNER, "contract": "PledgeRegistry", "function": "propose",
           "args": [1, "0x12", 5_000_000, "CNY", "next summer", None]}
    zh = client.post("/relay/prepare", json=act, headers=ZH)
    en = client.post("/relay/prepare", json=act)
    assert zh.status_code == en.status_code == 400
    assert zh.json()["detail"] == ("PledgeRegistry.propose：参数 pledgee：地址 '0x12' 不是账户地址"
                                   "（应为 0x 加 40 位十六进制数字）")
    assert en.json()["detail"] == ("PledgeRegistry.propose: argument pledgee: the address '0x12' is not an account "
                                   "address (0x and 40 hex digits)")
    dated = client.post("/relay/prepare", json={**act, "args": [1, OWNER, 5_000_000, "CNY", "next summer", None]},
                        headers=ZH)
    assert dated.status_code == 400
    assert dated.json()["detail"].startswith("PledgeRegistry.propose：参数 maturity：日期 'next summer' 不是日期")


def test_every_field_error_text_is_translated_with_the_same_placeholders():
    from api.web import catalogs

    have = catalogs.translated("zh_CN")
    for text in validation.TEXTS:
        assert text in have, text
        assert set(re.findall(r"\{\w+\}", have[text][0])) == set(re.findall(r"\{\w+\}", text)), text


def test_an_error_type_without_a_sentence_reads_as_a_generic_chinese_sentence_never_english():
    assert validation.message({"type": "uuid_parsing", "msg": "Input should be a valid UUID"}, "zh_CN") == "此值无效"
    assert validation.message({"type": "value_error", "ctx": {"error": ValueError("something odd")}}, "zh_CN") \
        == "此值无效"


def test_page_address_with_a_malformed_id_shows_the_error_page_in_chinese(client):
    answer = client.get("http://testserver/assets/abc/manage", headers=ZH)
    assert answer.status_code == 400 and "text/html" in answer.headers["content-type"]
    assert "asset_id：必须是整数" in answer.text and "Input should be" not in answer.text
