"""Whether this machine can print Chinese: a PDF with CJK text needs a CJK font installed.

The templates ask for "Noto Sans CJK SC" (any font fontconfig finds for Chinese will do). Without
one, WeasyPrint prints every Chinese character as an empty box and says nothing: a certificate or a
report nobody can read. So a PDF with CJK text is refused before it is printed (:func:`require_cjk_font`,
a :class:`~ledger.errors.ConfigurationError`: the CLI's exit 2, the API's 503), naming the fix.

The question is fontconfig's own ``fc-list :lang=zh-cn`` (through libfontconfig, which WeasyPrint
loads anyway: no subprocess, and no need for the ``fc-list`` program), asked once per process.
``FONTCONFIG_FILE`` pointing to a configuration without font folders makes it answer "none".
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import re
from collections.abc import Iterable

from ledger.errors import ConfigurationError

logger = logging.getLogger(__name__)

FIX = "apt-get install fonts-noto-cjk"
"""How to get one on Debian and Ubuntu (``.ci/run`` installs it)."""
_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u31ef\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
"""CJK ideographs, punctuation, kana, bopomofo and full-width forms: what a Latin font has no glyph for."""


def has_cjk(texts: Iterable[str]) -> bool:
    """Whether any of ``texts`` has a character that needs a CJK font."""
    return any(_CJK.search(text) for text in texts)


class _FcFontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(ctypes.c_void_p))]


def fontconfig_fonts(query: bytes = b":lang=zh-cn") -> int | None:
    """How many fonts fontconfig lists for ``query`` (``fc-list :lang=zh-cn``; ``b":"`` all of them); None
    if libfontconfig is not there to ask (WeasyPrint itself then cannot print)."""
    name = ctypes.util.find_library("fontconfig")
    try:
        fc = ctypes.CDLL(name or "libfontconfig.so.1")
    except OSError:
        return None
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcNameParse.argtypes = [ctypes.c_char_p]
    fc.FcObjectSetBuild.restype = ctypes.c_void_p  # variadic: "family", NULL
    fc.FcFontList.restype = ctypes.POINTER(_FcFontSet)
    fc.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    fc.FcFontSetDestroy.argtypes = [ctypes.POINTER(_FcFontSet)]
    fc.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    fc.FcObjectSetDestroy.argtypes = [ctypes.c_void_p]
    pattern = fc.FcNameParse(query)
    objects = fc.FcObjectSetBuild(ctypes.c_char_p(b"family"), ctypes.c_char_p(None))
    try:
        found = fc.FcFontList(None, pattern, objects)  # None: the default configuration, FONTCONFIG_FILE's
        if not found:
            return 0
        count = int(found.contents.nfont)
        fc.FcFontSetDestroy(found)
        return count
    finally:
        fc.FcObjectSetDestroy(objects)
        fc.FcPatternDestroy(pattern)


def check_fonts(fonts: int | None, cjk_fonts: int | None, needs_cjk: bool) -> None:
    """Refuse (a ConfigurationError naming the fix) a document fontconfig's answers say cannot be printed:
    ``fonts`` fonts in all (none: WeasyPrint cannot lay out a page), ``cjk_fonts`` of them for Chinese, which
    a document with CJK text (``needs_cjk``) needs. None (fontconfig not asked) refuses nothing."""
    if fonts == 0:
        raise ConfigurationError(f"this machine has no fonts at all, so no document can be printed: install some "
                                 f"(`{FIX}` has Latin and Chinese)", fix=FIX)
    if needs_cjk and cjk_fonts == 0:
        raise ConfigurationError(
            "this machine has no Chinese (CJK) font, so Chinese text would print as empty boxes: install one "
            f"(`{FIX}`), or choose English (--lang en / ?lang=en)", fix=FIX)


@functools.cache
def _fonts_of_this_process() -> tuple[int | None, int | None]:
    counts = fontconfig_fonts(b":"), fontconfig_fonts(b":lang=zh-cn")
    if counts[0] is None:
        logger.warning("libfontconfig not found: cannot tell whether fonts (a CJK font) are installed")
    return counts


def require_cjk_font(*texts: str) -> None:
    """Refuse to print ``texts`` (all of a document's text; none: a Chinese document) when this machine has
    no font for them (:func:`check_fonts`). fontconfig is asked once per process (fonts installed later need
    a restart of a long-running service)."""
    fonts, cjk_fonts = _fonts_of_this_process()
    check_fonts(fonts, cjk_fonts, not texts or has_cjk(texts))
