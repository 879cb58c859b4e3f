"""A request's shape errors (pydantic's, as FastAPI reports them) in the requester's language.

pydantic words each error in English (``Field required``, ``String should have at most 500 characters``)
and names it by a ``type`` (``missing``, ``string_too_long``) with its limits in ``ctx``. The problem keeps
``type`` and ``loc`` for programs; a request that states a language (``api.refusals.requested``) reads each
``msg`` from :data:`MESSAGES` (one sentence per type we produce, translated through the catalogs and filled
with the same limits), and a ``value_error`` of ours (a validator's :class:`~ledger.errors.LedgerError`, kept as
the ``ValueError``'s cause) through :func:`api.refusals.detail`, like any refusal. A request that states no
language gets pydantic's English unchanged (the JSON API's clients and the CLI).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.errors import LedgerError

from . import refusals
from .schemas.common import ADDRESS, HEX, HEX32

MESSAGES: dict[str, str] = {
    "missing": "this field is required",
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "string_type": "must be text",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "json_invalid": "the request body is not valid JSON",
    "extra_forbidden": "is not a field of this request",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "string_pattern_mismatch": "does not have the expected form",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number (not nan or inf)",
    "date_parsing": "must be a date (2027-06-30)",
    "date_from_datetime_parsing": "must be a date (2027-06-30)",
    "datetime_parsing": "must be a date and time (2027-06-30T12:00:00Z)",
    "datetime_from_date_parsing": "must be a date and time (2027-06-30T12:00:00Z)",
}
"""pydantic's error types -> what a person reads, by their ``ctx`` (the limits)."""

PATTERNS: dict[str, str] = {
    ADDRESS: "must be an account address (0x and 40 hex digits)",
    HEX32: "must be a hash (0x and 64 hex digits)",
    HEX: "must be 0x and hex digits",
}
"""A ``string_pattern_mismatch`` of one of our patterns: what the regular expression means."""

INVALID = "this value is not valid"
"""A type without a sentence here, or a validator's English with no translation: never shown in English."""

OWN = ("must be 0x followed by 64 hex digits", "not a valid address (or bad checksum)")
"""Validators' fixed English (``ledger.timestamps.proofs``) that the catalogs translate."""

TEXTS = (*MESSAGES.values(), *PATTERNS.values(), INVALID, *OWN)
"""Every English text of this module, translated in the catalogs."""

PARTS = ("body", "query", "path", "header", "cookie")


def message(error: dict[str, Any], locale: str) -> str:
    """One pydantic error's message in ``locale``."""
    translate = refusals.gettext(locale)
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        raised = ctx.get("error")
        cause = getattr(raised, "__cause__", None)
        if isinstance(cause, LedgerError):
            return refusals.detail(cause, locale)
        own = str(raised) if raised is not None else ""
        if own and locale == refusals.ENGLISH:
            return own
        said = translate(own) if own else own
        return said if own and said != own else translate(INVALID)
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERNS:
        return translate(PATTERNS[str(ctx["pattern"])])
    template = MESSAGES.get(kind)
    if template is None:
        return translate(INVALID)
    values = {k: _shown(v) for k, v in ctx.items()}
    return translate(template).format_map(_Keep(values))


def field(loc: Sequence[Any]) -> str:
    """Where the error is, as a person names the field: ``title``, ``args.0`` (``body.`` dropped)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in PARTS:
        parts = parts[1:]
    return ".".join(parts)


def problem_parts(errors: Sequence[Any], locale: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The problem's ``detail`` and ``errors`` (``type``, ``loc``, ``msg``) for a request in ``locale``
    (None: pydantic's English, as before)."""
    out: list[dict[str, Any]] = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        msg = str(e.get("msg", "")) if locale is None else message(e, locale)
        out.append({"type": str(e.get("type", "")), "loc": loc, "msg": msg})
    if locale is None:
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in out) or "invalid request"
        return detail, out
    zh = locale.startswith("zh")
    colon, sep = ("：", "；") if zh else (": ", "; ")
    shown = [f"{field(e['loc'])}{colon}{e['msg']}" if field(e["loc"]) else e["msg"] for e in out]
    return sep.join(shown) or refusals.text(INVALID, locale), out


def _shown(value: Any) -> str:
    return str(value)


class _Keep(dict[str, str]):
    """A placeholder a translation names but the error does not carry stays as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
