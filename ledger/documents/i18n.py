"""The documents' languages: gettext catalogs compiled in memory with Babel, one Jinja2 environment per locale.

English source strings are the message ids; Chinese is ``locales/zh_CN/LC_MESSAGES/documents.po``.
The web pages (``api/web``) keep their own catalogs; this loader is the same few lines, kept here so
that ``ledger`` never imports ``api``.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ledger.errors import ValidationError

LOCALES_DIR = Path(__file__).parent / "locales"
TEMPLATES = Path(__file__).parent / "templates"
LOCALES = ("zh_CN", "en")
"""The documents' locales; ``zh_CN`` first: the district's language."""


def locale_of(lang: str) -> str:
    """``zh``, ``zh-CN``, ``zh_CN``, ``en``, ``en-GB`` ... as one of :data:`LOCALES`; anything else is bad input."""
    wanted = lang.strip().replace("-", "_").lower()
    for locale in LOCALES:
        if wanted in (locale.lower(), locale.split("_")[0].lower()) or wanted.split("_")[0] == locale.split("_")[0]:
            return locale
    raise ValidationError(f"documents are in Chinese or English: --lang zh or --lang en, not {lang!r}")


def html_lang(locale: str) -> str:
    return locale.replace("_", "-")


def compile_catalogs(folder: Path, locale: str) -> gettext.NullTranslations:
    """Every ``.po`` catalog in ``folder`` compiled in memory with Babel and merged into one (no ``.mo`` files
    to forget to rebuild); with none, the source language translating to itself. The web pages' catalogs
    (``api/web/i18n.py``) are loaded by this function too."""
    merged: gettext.NullTranslations = gettext.NullTranslations()
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale, domain=po.stem)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        compiled = gettext.GNUTranslations(buffer)
        if isinstance(merged, gettext.GNUTranslations):
            merged._catalog.update(compiled._catalog)  # type: ignore[attr-defined]
        else:
            merged = compiled
    return merged


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """Every catalog of ``locale`` merged; English (the source language) translates to itself."""
    return compile_catalogs(LOCALES_DIR / locale / "LC_MESSAGES", locale)


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"not a time zone: {name!r} (an IANA name such as Asia/Shanghai)") from None


def _moment(value: Any) -> dt.datetime | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@functools.cache
def environment(locale: str, zone: str = "Asia/Shanghai") -> Environment:
    """Jinja2 for ``locale``, with gettext and filters that write dates, times and numbers its way.

    ``zone`` is the "local" time zone documents show beside UTC.
    """
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
                      undefined=StrictUndefined)
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    where = Locale.parse(locale)
    local = time_zone(zone)

    def date_filter(value: Any) -> str:
        moment = _moment(value)
        return format_date(moment.date(), format="long", locale=where) if moment else "—"

    def utc_filter(value: Any) -> str:
        moment = _moment(value)
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"

    def local_filter(value: Any) -> str:
        moment = _moment(value)
        if moment is None:
            return "—"
        shown = moment.astimezone(local)
        return f"{format_datetime(shown, format='medium', tzinfo=local, locale=where)} ({zone}, " \
               f"UTC{shown.strftime('%z')[:3]}:{shown.strftime('%z')[3:]})"

    def number_filter(value: Any) -> str:
        return format_decimal(value, locale=where) if value is not None else "—"

    def money_filter(units: Any, decimals: int = 0, symbol: str = "") -> str:
        if units is None:
            return "—"
        amount = Decimal(int(units)).scaleb(-decimals)
        text = format_decimal(amount, format="#,##0.######" if decimals else "#,##0", locale=where)
        return f"{text} {symbol}".strip()

    env.filters.update(date=date_filter, utc=utc_filter, local=local_filter, number=number_filter,
                       money=money_filter)
    env.globals.update(locale=locale, html_lang=html_lang(locale), zone=zone)
    return env


def render_html(template: str, locale: str, zone: str = "Asia/Shanghai", **context: Any) -> str:
    return environment(locale, zone).get_template(template).render(**context)
