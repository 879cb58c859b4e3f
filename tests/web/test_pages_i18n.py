"""Every page string is translated; pages answer in the language asked, with a switch; errors are pages."""

from __future__ import annotations

import re

import httpx
from babel.messages.pofile import read_po

from api.web import catalogs, i18n
from tests.web.browser import new_page, screenshot


def test_catalogs_translate_every_message_the_pages_use():
    missing = catalogs.missing("zh_CN")
    assert not missing, "untranslated (run scripts/i18n_missing.py): " + "; ".join(
        f"{msgid!r} at {where[0]}" for msgid, where in list(missing.items())[:20])


def test_catalogs_translate_a_message_the_same_way_in_every_domain():
    """Domains are merged into one catalog: a message translated twice, differently, would silently lose one."""
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((i18n.LOCALES_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="zh_CN"):
                if not message.id or not message.string:
                    continue
                earlier = seen.setdefault(str(message.id), (str(message.string), po.name))
                if earlier[0] != str(message.string):
                    clashes.append(f"{message.id!r}: {earlier[0]!r} ({earlier[1]}) vs {message.string!r} ({po.name})")
    assert not clashes, "\n".join(clashes)


def test_messages_carry_no_bare_percent_sign_that_newstyle_gettext_would_misformat():
    """Jinja's newstyle gettext %-formats every message: only ``%(name)s`` placeholders and ``%%`` may appear."""
    bare = [m for m in catalogs.extracted() if "%" in re.sub(r"%\(\w+\)s|%%", "", m)]
    assert not bare


def test_home_in_chinese_when_the_browser_asks_for_it_and_english_by_switch(platform):
    zh = httpx.get(platform.url + "/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text and "共享账本上的知识产权" in zh.text
    en = httpx.get(platform.url + "/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in en.text and "Intellectual property on a shared ledger" in en.text
    assert en.cookies.get(i18n.COOKIE) == "en"
    again = httpx.get(platform.url + "/verify", headers={"Accept-Language": "zh-CN"}, cookies={i18n.COOKIE: "en"})
    assert "Verify a file" in again.text, "the switch's choice outlives one page"


def test_unknown_page_is_a_page_in_the_readers_language_not_json(platform):
    response = httpx.get(platform.url + "/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html") and "未找到" in response.text
    api = httpx.get(platform.url + "/api/v1/no-such-route")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_browser_libraries_are_served_from_the_pinned_npm_packages(platform):
    for name, marker in (("ethers.js", b"Wallet"), ("hash-wasm.js", b"createSHA256"), ("echarts.js", b"echarts")):
        response = httpx.get(f"{platform.url}/vendor/{name}")
        assert response.status_code == 200 and marker in response.content, name
    assert httpx.get(f"{platform.url}/vendor/package.json").status_code == 404
    assert httpx.get(f"{platform.url}/static/../../main.py").status_code == 404


def test_home_renders_in_chromium_in_both_languages_with_chinese_glyphs(browser, platform, lang):
    page = new_page(browser, platform, lang)
    page.goto("/")
    expected = "共享账本上的知识产权" if lang == "zh-CN" else "Intellectual property on a shared ledger"
    assert page.locator("h1").inner_text() == expected
    screenshot(page, f"home-{lang}")
    assert not page.console_errors
    page.context.close()
