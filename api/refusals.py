"""Refusals in the requester's language: the ledger's sentence templates through the gettext catalogs.

The ledger words every refusal in English (``ledger.messages``: a template per contract error and
per refusal of its own, rendered with the error's arguments). A request that states a language
(``?lang=``, the ``lang`` cookie the pages' switch sets, ``Accept-Language``: what a page's
``fetch`` sends) is answered with the same template translated (the ``errors`` domain of the
catalogs) and rendered with the same arguments, so numbers, addresses and amounts read the same.
A request that states none gets the English message unchanged: the JSON API's clients and the CLI.

A refusal nobody can explain (a contract error this version has no sentence for, revert data no
ABI decodes) is never shown raw to a person: a request that states a language gets a generic
sentence; the error's name and arguments stay in the problem's ``error`` and ``arguments``. Nor is a node's
address or an HTTP library's complaint: a lost chain reads as such (:data:`PLAIN`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from ledger import messages
from ledger.errors import ContractError, LedgerError

ENGLISH = "en"

UNEXPLAINED = "ipledger cannot describe this refusal (an error this version does not know); nothing was changed"
"""What a person reads for a refusal with no sentence (its name and arguments stay in the problem)."""

UNEXPLAINED_NOTICES = frozenset({"revert-unknown-data"})
"""Notices whose only content is raw data."""

PLAIN: dict[str, str] = {
    "certificate-malformed": "this file is not an ipledger certificate, or it was damaged ({reasons})",
    "chain-no-answer": "the chain does not answer",
    "chain-stopped": "the chain stopped answering",
    "chain-stopped-sending": (
        "the chain stopped answering while sending {tx_hash}; it may still be recorded: look for it once the chain "
        "is back"
    ),
    "chain-stopped-waiting": (
        "the chain stopped answering while waiting for {tx_hash}; it may still be recorded: look for it once the "
        "chain is back"
    ),
}
"""What a person (a request that states a language) reads for a notice whose English is for an operator:
the node's address and the HTTP library's complaint, a validator's field list first. A request that states
no language still gets the operator's English."""

TITLES = ("Verification failed", "Bad request", "Not found", "Forbidden", "Refused by a rule of the ledger",
          "Chain unavailable", "Transaction failed", "Service not configured", "Refused", "Too many requests",
          "Invalid request", "Internal error", "Request too large", "Chain fees above the cap",
          "Relayer low on funds", "Stored data corrupted")
"""Every fixed problem title (api/errors.py, api/limits.py), translated like the sentences."""

NO_PAGE = "there is no page at this address; start again from the start page"
"""What the error page says for an address no page answers (Starlette's bare "Not Found" says nothing)."""

FIXED = ("an unexpected error occurred; it has been logged", UNEXPLAINED, NO_PAGE, *PLAIN.values())
"""Fixed details of the API's own, translated too."""


def requested(request: Request) -> str | None:
    """The locale the request states (see :func:`api.web.i18n.stated`), or None: then the API speaks English."""
    from .web import i18n  # here, not at the top: page modules may import api.errors, which imports this

    return i18n.stated(request)


def gettext(locale: str | None) -> Callable[[str], str]:
    """The catalog of ``locale`` as a function; English (the source language, or none stated) is the identity."""
    if locale is None or locale == ENGLISH:
        return _same
    from .web import i18n

    return i18n.translations(locale).gettext


def _same(text: str) -> str:
    return text


def template_of(exc: LedgerError) -> tuple[str, dict[str, Any]] | None:
    """The English template ``exc``'s message was rendered from and its arguments; None for a message of its own."""
    key = exc.context.get("notice")
    if isinstance(key, str) and key in messages.NOTICES:
        if key in UNEXPLAINED_NOTICES:
            return UNEXPLAINED, {}
        return PLAIN.get(key, messages.NOTICES[key]), dict(exc.context.get("notice_args") or {})
    if isinstance(exc, ContractError):
        template = messages.SENTENCES.get(exc.name)
        return (template, exc.arguments) if template is not None else (UNEXPLAINED, {})
    return None


def detail(exc: LedgerError, locale: str | None, money: messages.Money | None = None) -> str:
    """``exc``'s message in ``locale``: unchanged when no language is stated (None), the same template
    translated and rendered with the same arguments otherwise; an English message of its own stays English."""
    if locale is None:
        return exc.message
    found = template_of(exc)
    if found is None:
        return exc.message
    template, args = found
    if locale == ENGLISH and template is not UNEXPLAINED and template not in PLAIN.values():
        return exc.message  # rendered from this very template and arguments
    translate = gettext(locale)
    reason = exc.context.get("notice_reason")  # a notice inside another (an argument's refusal): said first
    if isinstance(reason, dict):
        args = {**args, "reason": detail(type(exc)(exc.message, **reason), locale, money)}
    return messages.render(translate(template), args, money, translate)


def text(value: str, locale: str | None) -> str:
    """A fixed text of the API's own (a problem's title) in ``locale``."""
    return gettext(locale)(value)


def money_of(request: Request) -> messages.Money | None:
    """How the ledger this app serves shows amounts of tokens (what its English sentences used)."""
    ledger = getattr(request.app.state, "ledger", None)
    return ledger.client.errors.money if ledger is not None else None


def content_language(locale: str | None) -> dict[str, str]:
    """The headers of an answer in ``locale`` (none when the request stated no language)."""
    vary = {"Vary": "Accept-Language, Cookie"}
    return vary if locale is None else {**vary, "Content-Language": locale.replace("_", "-")}
