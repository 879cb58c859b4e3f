"""``ipledger account new|import|export|address|list``: the user's keys, as encrypted keystores."""

from __future__ import annotations

import sys
from pathlib import Path
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


@account_app.command("import", help=(
    "Import an encrypted keystore file (Ethereum Web3 Secret Storage v3): one the /keys page exported, "
    "`ipledger account export` wrote, or another wallet made. Its password is asked (or taken from "
    "IPLEDGER_PASSWORD) and must open it; the file is kept as it is, encrypted. A wrong password, a file that is "
    "not a keystore, or a name or an address already here exits 2 with nothing written."))
def account_import(
    file: Annotated[Path, typer.Argument(help="The keystore file (JSON).")],
    name: Annotated[str | None, typer.Option(
        "--name", help="The name to keep it under (default: the file's name without .json).")] = None,
    as_json: JsonOption = False,
) -> None:
    settings = get_settings()
    keystores = Keystores(settings.data_dir)
    keystore = keystores.read_import(file, name)  # everything that needs no password, before asking it
    password = (settings.password.get_secret_value() if settings.password is not None
                else prompt_password(f"Password of the keystore {file.name}"))
    info = keystores.import_file(keystore, password)
    if as_json:
        print_json({"name": info.name, "address": info.address, "keystore": str(info.path)})
        return
    out.print(f"Imported account {info.name}: {info.address} (keystore {info.path})", highlight=False)


@account_app.command("export", help=(
    "Write a keystore, as stored (encrypted with its password: never the private key), to a file of mode 0600: "
    "for the /keys page (Import a keystore), a backup, or `ipledger account import` elsewhere. An existing file is "
    "not replaced unless --force."))
def account_export(
    name: Annotated[str, typer.Argument(help="The keystore's name or address.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write, e.g. alice.json.")],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
    as_json: JsonOption = False,
) -> None:
    info = Keystores(get_settings().data_dir).export(name, output, force=force)
    if as_json:
        print_json({"name": info.name, "address": info.address, "file": str(output)})
        return
    out.print(f"Exported account {info.name} ({info.address}) to {output}: encrypted, its password opens it",
              highlight=False)


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
