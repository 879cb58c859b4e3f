"""Jinja2 for the pages: one environment per language, with gettext and Babel's locale formats.

One environment per locale (not one whose translations are swapped per request) so that two
requests in different languages rendered at once by the thread pool never see each other's
catalog. Filters format dates, numbers and money the way the page's locale writes them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request

from . import i18n

TEMPLATES = Path(__file__).parent / "templates"


def _as_datetime(value: Any) -> dt.datetime | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def json_script(element_id: str, value: Any) -> Markup:
    """``value`` as a ``<script type="application/json">`` a page module reads (safe inside HTML)."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(f'<script type="application/json" id="{element_id}">{text}</script>')


@functools.cache
def environment(locale: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    translations = i18n.translations(locale)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    where = i18n.babel_locale(locale)

    def plural_forms(singular: str, plural: str) -> dict[str, str]:
        """A message with a ``{count}`` as each plural category of the locale (CLDR: ``one``, ``other``...) reads
        it, for a page script that knows the count only later: ``messages.js`` ``t(key, {count})`` picks the
        form by ``Intl.PluralRules``. (A count the page knows: ``ngettext``.)"""
        forms: dict[str, str] = {}
        for n in range(200):  # a number of each category: 1 is English's "one", 0 and 2 its "other"
            forms.setdefault(str(where.plural_form(n)), translations.ngettext(singular, plural, n))
        return forms

    def date_filter(value: Any) -> str:
        moment = _as_datetime(value)
        return format_date(moment.date(), format="medium", locale=where) if moment else "—"

    def datetime_filter(value: Any) -> str:
        moment = _as_datetime(value)
        return f"{format_datetime(moment, format='medium', tzinfo=dt.UTC, locale=where)} UTC" if moment else "—"

    def number_filter(value: Any) -> str:
        return format_decimal(value, locale=where) if value is not None else "—"

    def money_filter(units: Any, decimals: int = 6, symbol: str = "") -> str:
        """Token units as money: ``260000000`` with 6 decimals is ``260.00`` (plus the token's symbol)."""
        if units is None:
            return "—"
        amount = Decimal(int(units)).scaleb(-decimals)
        text = format_decimal(amount, format="#,##0.00####", locale=where)
        return f"{text} {symbol}".strip()

    env.filters.update(date=date_filter, datetime=datetime_filter, number=number_filter, money=money_filter)
    env.globals.update(json_script=json_script, plural_forms=plural_forms, LANGUAGES=i18n.LANGUAGES, locale=locale,
                       html_lang=i18n.html_lang(locale))
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` in the request's language; the response sets the ``lang`` cookie when ``?lang=`` chose it."""
    locale = i18n.negotiate(request)
    page = environment(locale).get_template(template)
    html = page.render(request=request, path=request.url.path, query=str(request.url.query), **context)
    response = HTMLResponse(html, status_code=status_code, headers={"Content-Language": i18n.html_lang(locale),
                                                                   "Vary": "Accept-Language, Cookie"})
    if request.query_params.get("lang"):
        response.set_cookie(i18n.COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response
