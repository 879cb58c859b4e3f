"""What every ``ipledger`` command shares: the consoles, the common options, opening the ledger,
JSON output, and the one mapping of ledger errors to exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console

from ledger.context import Ledger, open_ledger
from ledger.errors import (
    ChainError,
    ChainUnavailableError,
    ConfigurationError,
    HistoryUnavailableError,
    LedgerError,
    ValidationError,
    VerificationError,
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ApiOption = Annotated[
    str | None,
    typer.Option("--api", envvar="IPLEDGER_API_URL",
                 help="Act through this ipledger API (requests signed here, relayed there) instead of the chain."),
]


def exit_code(exc: LedgerError) -> int:
    """The one mapping of ledger errors to exit codes."""
    if isinstance(exc, (ChainUnavailableError, HistoryUnavailableError)):  # the chain cannot answer this
        return 3
    if isinstance(exc, VerificationError):
        return 1
    if isinstance(exc, (ValidationError, ConfigurationError)):
        return 2
    if isinstance(exc, ChainError):
        return 3 if isinstance(exc, ChainUnavailableError) else 1
    return 1


def prompt_password(label: str) -> str:
    if not sys.stdin.isatty():
        raise ValidationError(f"{label}: no terminal to ask for it; set IPLEDGER_PASSWORD")
    return str(typer.prompt(label, hide_input=True))


@contextmanager
def ledger(need_account: bool = True) -> Iterator[Ledger]:
    with open_ledger(need_account=need_account, prompt=prompt_password) as opened:
        for notice in opened.notices:
            err.print(f"[dim]note: {notice}[/dim]")
        yield opened


def dev_note(address: str) -> str:
    """`` (Anvil's development account 0: act as it with --dev-account 0)`` for a public dev address, else ``""``."""
    from ledger.chain.devchain import DEV_ADDRESSES

    if address not in DEV_ADDRESSES:
        return ""
    index = DEV_ADDRESSES.index(address)
    return f" (Anvil's development account {index}: act as it with --dev-account {index})"


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))
