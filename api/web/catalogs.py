"""The pages' messages against the catalogs: what the templates ask for that a catalog lacks.

Used by the test that fails on an untranslated string, and by ``scripts/i18n_missing.py``,
which prints the missing entries as ``.po`` text to translate.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from . import i18n

WEB = Path(__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "plural_forms": (1, 2)}
"""The translating calls (``plural_forms``: ``api.web.templating``); a plural message is named by its singular."""


def extracted() -> dict[str, list[str]]:
    """Every message id the pages use -> where (``file:line``)."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(WEB), METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def translated(locale: str) -> dict[str, tuple[str, Path]]:
    """Message id -> (its translation, the catalog file) over every domain of ``locale``; fuzzy ones left out."""
    out: dict[str, tuple[str, Path]] = {}
    for po in sorted((i18n.LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for message in catalog:
            forms = [message.string] if isinstance(message.string, str) else list(message.string or ())
            if message.id and all(forms) and not message.fuzzy:
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                out[msgid] = (forms[0], po)
    return out


def missing(locale: str) -> dict[str, list[str]]:
    """What the pages use that ``locale``'s catalogs do not translate."""
    have = translated(locale)
    return {msgid: where for msgid, where in extracted().items() if msgid not in have}
