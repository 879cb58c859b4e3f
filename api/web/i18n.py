"""Languages of the pages: which one a request wants, and its gettext catalog.

Translations are gettext catalogs (``locales/<locale>/LC_MESSAGES/<domain>.po``, one domain per
area of the platform so that areas are translated independently); the English source strings are
the message ids, so English needs no catalog. Catalogs are compiled in memory at start with Babel
(``ledger.documents.i18n.compile_catalogs``, which the documents use too: no ``.mo`` files to forget).
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

from babel import Locale, negotiate_locale
from starlette.requests import Request

from ledger.documents.i18n import compile_catalogs

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
"""Locale -> its name in itself (what the switch on every page shows)."""
DEFAULT = "zh_CN"
"""The district's language, when a request states no preference we support."""
COOKIE = "lang"


def negotiate(request: Request) -> str:
    """The page's locale: ``?lang=``, then the ``lang`` cookie (the switch sets it), then Accept-Language."""
    return stated(request) or DEFAULT


def stated(request: Request) -> str | None:
    """The supported locale the request asks for (as :func:`negotiate` reads it), or None if it asks for none.

    The JSON API answers in English when a request states no language (its clients and the CLI), so it
    uses this rather than :func:`negotiate`, whose default is the district's language.
    """
    for chosen in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if chosen:
            normal = chosen.replace("-", "_")
            for locale in LANGUAGES:
                if normal.lower() in (locale.lower(), locale.split("_")[0].lower()):
                    return locale
    preferred = [part.split(";")[0].strip().replace("-", "_")
                 for part in request.headers.get("accept-language", "").split(",") if part.strip()]
    return negotiate_locale(preferred, list(LANGUAGES), sep="_") or _by_language(preferred)


def _by_language(preferred: list[str]) -> str | None:
    """``zh_TW`` or ``en_GB`` asked for: the supported locale of the same language."""
    for wanted in preferred:
        for locale in LANGUAGES:
            if wanted.split("_")[0].lower() == locale.split("_")[0].lower():
                return locale
    return None


def domains() -> list[str]:
    return sorted(p.stem for p in (LOCALES_DIR / DEFAULT / "LC_MESSAGES").glob("*.po"))


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """Every domain's catalog for ``locale``, merged; English (the source language) translates to itself."""
    return compile_catalogs(LOCALES_DIR / locale / "LC_MESSAGES", locale)


def babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def html_lang(locale: str) -> str:
    """The ``lang`` attribute of the page (BCP 47: ``zh-CN``)."""
    return locale.replace("_", "-")
