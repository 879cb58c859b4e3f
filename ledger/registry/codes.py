"""Canonical licence territories and fields of use: what the chain accepts, from what people type.

The LicenseRegistry accepts only canonical codes (``contracts/types/Codes.sol``), so that "CN",
"CHN", "156" and "cn" cannot be four exclusive licences for China:

- territory: empty (the whole world), an assigned ISO 3166-1 alpha-2 country in capitals
  (``CN``), or an ISO 3166-2 subdivision (``CN-BJ``, ``US-CA``);
- field of use: empty (every field), or an IPC section (``H``), class (``H04``), subclass
  (``H04L``) or main group (``H04L9/00``); subgroups (``H04L9/32``) are refused: a main group
  covers its subgroups, which the chain's prefix rule cannot tell.

People may type other spellings; :func:`canonical_territory` maps them with ``pycountry``
(alpha-3 ``CHN``, numeric ``156``, lower case ``cn``, the name ``China``; ``WW``, ``world``,
``*``, ``all`` or nothing for the world), :func:`canonical_field` normalises case, spaces and
leading zeros. Anything else is a :class:`~ledger.errors.ValidationError` naming the input.
"""

from __future__ import annotations

import re

import pycountry

from ledger.errors import ValidationError
from ledger.messages import notice

WORLD = ""
"""The world (every territory) and every field: the zero code on chain."""

_WORLD_SPELLINGS = frozenset({"", "*", "ALL", "WW", "WORLD", "WORLDWIDE", "GLOBAL"})
_SUBDIVISION = re.compile(r"^([A-Z]{2})-([A-Z0-9]{1,3})$")
_FIELD = re.compile(r"^([A-H])(?:(\d{2})(?:([A-Z])(?:(\d{1,4})/(\d{1,6}))?)?)?$")


def canonical_territory(text: str | None) -> str:
    """The canonical territory code of ``text`` (empty for the world); ValidationError if unknown."""
    raw = (text or "").strip()
    upper = raw.upper().replace(" ", "") if len(raw) <= 6 else raw.upper()
    if upper in _WORLD_SPELLINGS:
        return WORLD
    match = _SUBDIVISION.match(upper)
    if match:
        country = _country(match.group(1), raw)
        code = f"{country}-{match.group(2)}"
        if pycountry.subdivisions.get(code=code) is None:  # type: ignore[no-untyped-call]
            raise ValidationError(**notice("territory-subdivision-unknown", text=repr(raw), country=country,
                                           example=_example_subdivision(country)))
        return code
    return _country(raw, raw)


def canonical_field(text: str | None) -> str:
    """The canonical IPC code of ``text`` (empty for every field); ValidationError if not one."""
    raw = (text or "").strip()
    cleaned = raw.upper().replace(" ", "")
    if cleaned in ("", "*", "ALL"):
        return WORLD
    match = _FIELD.match(cleaned)
    if not match:
        raise ValidationError(**notice("field-not-ipc", text=repr(raw)))
    section, klass, subclass, group, subgroup = match.groups()
    if group is None:
        return cleaned
    if int(subgroup) != 0:
        raise ValidationError(**notice("field-subgroup", text=repr(raw),
                                       group=f"{section}{klass}{subclass}{int(group)}/00"))
    if int(group) == 0:
        raise ValidationError(**notice("field-group-zero", text=repr(raw)))
    return f"{section}{klass}{subclass}{int(group)}/00"


def _country(text: str, shown: str) -> str:
    try:
        country = pycountry.countries.lookup(text.strip())
    except LookupError:
        raise ValidationError(**notice("territory-unknown", text=repr(shown))) from None
    return str(country.alpha_2)


def _example_subdivision(country: str) -> str:
    found = pycountry.subdivisions.get(country_code=country)  # type: ignore[no-untyped-call]
    codes = sorted(str(s.code) for s in found or [])
    return codes[0] if codes else f"{country}-01"
