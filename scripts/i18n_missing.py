"""Print the pages' untranslated messages as .po entries: ``python scripts/i18n_missing.py [LOCALE]``.

Paste them, translated, into the catalog of their area (``api/web/locales/<locale>/LC_MESSAGES``).
"""

from __future__ import annotations

import json
import sys

from api.web import catalogs, i18n


def main() -> int:
    locale = sys.argv[1] if len(sys.argv) > 1 else i18n.DEFAULT
    todo = catalogs.missing(locale)
    for msgid, where in sorted(todo.items(), key=lambda item: item[1][0]):
        print(f"#: {' '.join(where)}\nmsgid {json.dumps(msgid, ensure_ascii=False)}\nmsgstr \"\"\n")
    print(f"# {len(todo)} untranslated for {locale}", file=sys.stderr)
    return 1 if todo else 0


if __name__ == "__main__":
    raise SystemExit(main())
