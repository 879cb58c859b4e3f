"""``ipledger account new|list``: the user's keys, as encrypted keystores."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from ledger.chain.accounts import MIN_PASSWORD_LENGTH, Keystores
from ledger.cli.shell import JsonOption, out, print_json, prompt_password
from ledger.errors import (
    ValidationError,
)
from ledger.settings import get_settings

account_app = typer.Typer(help="Manage your keys (encrypted keystores).", no_args_is_help=True)

# -- accounts ----------------------------------------------------------------------


@account_app.command("new", help=(
    "Create (or import) a key, stored encrypted with a password. The password must have at least "
    f"{MIN_PASSWORD_LENGTH} characters (any characters); it is asked for twice, or taken from "
    "IPLEDGER_PASSWORD, and never stored. A wrong password later exits 2."))
def account_new(
    name: Annotated[str, typer.Argument(help="A name for the key: letters, digits, '.', '_', '-'.")] = "default",
    import_key: Annotated[
        bool, typer.Option("--import-key", "--import",
                           help="Import an existing private key (0x + 64 hex digits): asked for, hidden, "
                                "or read from the first line of stdin.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    settings = get_settings()
    key = None
    if import_key:
        key = prompt_password("Private key (hex)") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if settings.password is not None:
        password = settings.password.get_secret_value()
    else:
        password = prompt_password(f"New password (at least {MIN_PASSWORD_LENGTH} characters)")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        if prompt_password("Repeat the password") != password:
            raise ValidationError("the passwords differ")
    info = Keystores(settings.data_dir).new(name, password, key)
    if as_json:
        print_json({"name": info.name, "address": info.address, "keystore": str(info.path)})
        return
    out.print(f"Created account {info.name}: {info.address} (keystore {info.path})")


@account_app.command("address")
def account_address(
    name: Annotated[str | None, typer.Argument(help="The keystore's name (default: the only one).")] = None,
) -> None:
    """Print a keystore's address alone, e.g. BANK=$(ipledger account address bank)."""
    info = Keystores(get_settings().data_dir).find(name)
    out.print(info.address, highlight=False)


@account_app.command("list")
def account_list(as_json: JsonOption = False) -> None:
    """List the keys in this data folder."""
    stores = Keystores(get_settings().data_dir).list()
    if as_json:
        print_json([{"name": s.name, "address": s.address, "keystore": str(s.path)} for s in stores])
        return
    if not stores:
        out.print("No accounts yet: `ipledger account new`.")
        return
    table = Table("name", "address", "keystore")
    for s in stores:
        table.add_row(s.name, s.address, str(s.path))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add ``account`` to the ``ipledger`` app."""
    app.add_typer(account_app, name="account")
