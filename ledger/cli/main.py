"""The ``ipledger`` command: a thin shell over the services in ``ledger``.

Each command parses its input, opens the ledger, calls one service and renders
the result (a Rich table, or JSON with ``--json``). Exit codes: 0 ok, 1 the
ledger said no (a rule, a failed verification), 2 bad usage or input, 3 the
chain or network is unavailable.

The app is assembled here from one module per command group; the modules share
:mod:`ledger.cli.shell` and never import this one, so there is no import circle.
"""

from __future__ import annotations

import sys

import typer

from ledger.cli import accounts, audit, chain, coowners, documents, market, registry, sealing, timestamps
from ledger.cli.shell import err, exit_code
from ledger.encoding import role_name
from ledger.errors import ContractError, LedgerError
from ledger.settings import get_settings

app = typer.Typer(
    name="ipledger",
    help=("A blockchain ledger for intellectual property: timestamps, assets, licenses, pledges, a market. "
          "Exit codes: 0 ok, 1 the ledger said no (a rule, a failed verification), 2 bad usage or input "
          "(a wrong password too), 3 the chain is unavailable."),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
timestamps.register(app)  # stamp, verify
chain.register(app)  # reconcile, deploy, up, serve
accounts.register(app)  # account new|import|export|address|list
registry.register(app)  # asset, license, pledge, role, check, and the global --account option
coowners.register(app)  # coowners show|consent|withdraw-consent|status|act|distribute|withdraw
market.register(app)  # market ... (listings, offers, license sales, the demand board)
audit.register(app)  # index, audit history|totals|verify|report
documents.register(app)  # certificate render, recheck
sealing.register(app)  # keys publish|show|rotate|revoke, seal, unseal, disclose, sealed list


def role_hint(exc: LedgerError) -> str | None:
    """For a refusal for want of a role: who can act, and how (on the embedded chain, the dev account)."""
    if not isinstance(exc, ContractError) or exc.name != "AccessControlUnauthorizedAccount":
        return None
    role = role_name(str(exc.arguments.get("neededRole", "")))
    embedded = get_settings().rpc_url is None
    if role == "pledgee":
        how = "the admin grants it: `ipledger role grant pledgee ADDRESS`"
    else:
        how = "`ipledger role list` shows who holds it; act as that account with --account"
    if embedded:
        how += ("; on the embedded chain Anvil's development account 0 is the admin and the registrar: "
                "add --dev-account 0 (e.g. `ipledger --dev-account 0 role grant pledgee ADDRESS`)")
    return how


def main() -> None:
    """Console entry point: run the app and turn ledger errors into messages and exit codes."""
    try:
        app()
    except LedgerError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        hint = role_hint(exc)
        if hint:
            err.print(f"[dim]hint: {hint}[/dim]", highlight=False)
        sys.exit(exit_code(exc))
    except RecursionError:
        # Only a document nested absurdly deep gets here (ipledger itself never recurses deeply, see
        # ledger/__init__.py): a crafted or damaged file, or an answer, that a reader did not refuse itself.
        err.print("[red]error:[/red] the input nests too deeply to be read (nested brackets, "
                  "as only a damaged or crafted file has)", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
