"""What a new user meets first, in-process through ``ledger.cli.main.main``: addresses typed by hand,
passwords, the choices ``--help`` lists, money as people read it, and the roles of the local chain."""

from __future__ import annotations

import pytest

from ledger.chain.accounts import Keystores

GOOD = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
BAD = "0x15D34AAf54267DB7D7c367839AAf71A00a2C6A65"  # a wrong EIP-55 checksum


def refused_with_checksum(run, what: str) -> None:
    assert run.code == 2, (run.code, run.out, run.err)
    assert f"{what} '{BAD}' has a wrong EIP-55 checksum" in run.err
    assert GOOD not in run.err + run.out
    assert "Traceback" not in run.err


# -- 24: addresses with a wrong checksum ------------------------------------------------------------


@pytest.mark.parametrize("args, what", [
    (("asset", "transfer", "1", BAD), "the recipient"),
    (("license", "offer", "1", "--to", BAD, "--kind", "exclusive", "--end", "2031-01-01"), "the licensee"),
    (("pledge", "propose", "1", "--to", BAD, "--principal", "5000000", "--maturity", "2031-01-01"), "the pledgee"),
    (("pledge", "consent-transfer", "1", BAD), "the recipient"),
    (("role", "grant", "pledgee", BAD), "address"),
    (("role", "show", BAD), "address"),
    (("market", "balance", BAD), "the address"),
    (("market", "list", "1", "--price", "10", "--expires", "7d", "--buyer", BAD), "the buyer"),
    (("audit", "history", "--account", BAD), "the account"),
])
def test_command_when_address_checksum_wrong_exits_2_before_the_chain(cli, data_dir, args, what):
    run = cli(*args)
    refused_with_checksum(run, what)
    assert not (data_dir / "devchain").exists()  # refused before any chain was started


def test_account_option_when_address_checksum_wrong_exits_2(cli, data_dir, accounts):
    password = "correct horse battery"
    Keystores(data_dir).new("bank", password, accounts[4].key.hex())
    assert accounts[4].address == GOOD
    run = cli("--account", BAD, "pledge", "accept", "1", env={"IPLEDGER_PASSWORD": password})
    refused_with_checksum(run, "the account")
    assert "does not exist" not in run.err  # nothing was sent as the bank


# -- 25: a wrong password, and the choices --help and the README list ----------------------------------


def test_command_when_password_wrong_exits_2_before_the_chain(cli, data_dir):
    assert cli("account", "new", "alice", env={"IPLEDGER_PASSWORD": "correct horse battery"}).code == 0
    run = cli("asset", "verify", "1", env={"IPLEDGER_PASSWORD": "wrong horse battery"})
    assert run.code == 2, (run.code, run.out, run.err)
    assert "wrong password for account alice (0x" in run.err and "IPLEDGER_PASSWORD" in run.err
    assert "Traceback" not in run.err
    assert not (data_dir / "devchain").exists()  # refused before any chain was started


def test_account_new_when_password_short_exits_2_naming_the_rule(cli, data_dir):
    run = cli("account", "new", "alice", env={"IPLEDGER_PASSWORD": "seven77"})
    assert run.code == 2 and "the password must have at least 8 characters" in run.err
    assert not (data_dir / "keystores" / "alice.json").exists()


def _help(cli, *args: str) -> str:
    run = cli(*args, "--help", env={"COLUMNS": "400"})
    assert run.code == 0, run.err
    return " ".join(run.out.split())


def test_help_lists_every_choice_and_the_password_rule(cli):
    from ledger.encoding import ROLES, AssetKind, LegalStatus, LicenseKind

    assert all(k in _help(cli, "asset", "register") for k in AssetKind.labels())
    assert all(s in _help(cli, "asset", "status") for s in LegalStatus.labels())
    assert all(k in _help(cli, "license", "offer") for k in LicenseKind.labels())
    assert all(k in _help(cli, "market", "license-offer") for k in LicenseKind.labels())
    roles = _help(cli, "role")
    assert all(f"{name} ({'DEFAULT_ADMIN' if name == 'admin' else name.upper()}_ROLE)" in roles for name in ROLES)
    assert "registrar, pledgee" in _help(cli, "role", "grant")
    account_new = _help(cli, "account", "new")
    assert "at least 8 characters" in account_new and "--import-key" in account_new
    assert "2 bad usage or input (a wrong password too)" in _help(cli)


def test_readme_lists_every_choice_and_the_password_rule():
    from ledger.encoding import ROLES, AssetKind, LegalStatus, LicenseKind
    from ledger.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    for label in [*AssetKind.labels(), *LegalStatus.labels(), *LicenseKind.labels(), *ROLES]:
        assert f"`{label}`" in readme, label
    assert "at least 8 characters" in readme and "2 bad usage or input (a wrong password too)" in readme


# -- 23: money as people read it ---------------------------------------------------------------------


def test_market_buy_when_listing_changed_or_money_short_says_so_in_tokens(cli, tmp_path):
    env = {"IPLEDGER_PASSWORD": "correct horse battery"}
    assert cli("account", "new", "seller", env=env).code == 0
    assert cli("account", "new", "buyer", env=env).code == 0
    seller, buyer = {**env, "IPLEDGER_ACCOUNT": "seller"}, {**env, "IPLEDGER_ACCOUNT": "buyer"}
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"a folding chair")
    registered = cli("asset", "register", "--kind", "design", "--file", str(claims), "--title", "A chair", env=seller)
    assert registered.code == 0
    assert cli("market", "list", "1", "--price", "250.5", "--expires", "7d", env=seller).code == 0
    updated = cli("market", "update", "1", "--price", "240", "--expires", "7d", env=seller)
    assert updated.code == 0 and "240 IPST" in updated.out

    stale = cli("market", "buy", "1", "--price", "250.5", "--nonce", "0", env=buyer)
    assert stale.code == 1, (stale.out, stale.err)
    assert "listing 1 changed since you saw it: its price is now 240 IPST at nonce 1" in stale.err
    assert "240000000" not in stale.err

    short = cli("market", "buy", "1", env=buyer)
    assert short.code == 1, (short.out, short.err)
    assert "holds 0 IPST, not the 240 IPST needed" in short.err


# -- 22: who the admin is on the embedded chain, and acting as it --------------------------------------

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_dev_addresses_are_anvils_development_accounts():
    from ledger.chain.client import dev_accounts
    from ledger.chain.devchain import DEV_ADDRESSES

    assert [a.address for a in dev_accounts(10)] == list(DEV_ADDRESSES)


def test_role_list_on_a_fresh_embedded_chain_names_the_admin_and_how_to_act_as_it(cli):
    listed = cli("role", "list")
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    note = "(Anvil's development account 0: act as it with --dev-account 0)"
    assert f"admin      {DEV0} {note}" in lines and f"registrar  {DEV0} {note}" in lines
    assert any(line.startswith("pledgee    nobody") for line in lines)
    assert cli("role", "list", "--json").out.replace(" ", "").replace("\n", "") == (
        f'{{"admin":["{DEV0}"],"registrar":["{DEV0}"],"pledgee":[]}}')


def test_role_grant_as_a_keystore_is_refused_with_a_hint_and_dev_account_0_grants_it(cli, tmp_path):
    env = {"IPLEDGER_PASSWORD": "correct horse battery"}
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"what is claimed")
    assert cli("account", "new", "owner", env=env).code == 0
    assert cli("account", "new", "bank", env=env).code == 0
    bank = cli("account", "address", "bank").out.strip()
    assert bank.startswith("0x") and len(bank) == 42

    refused = cli("--account", "owner", "role", "grant", "pledgee", bank, env=env)
    assert refused.code == 1
    assert "does not hold the role admin (DEFAULT_ADMIN_ROLE)" in refused.err
    assert "hint:" in refused.err and "--dev-account 0" in refused.err

    assert cli("--account", "owner", "asset", "register", "--kind", "design", "--file", str(claims), "--title", "T",
               env=env).code == 0
    proposed = cli("--account", "owner", "pledge", "propose", "1", "--to", bank, "--principal", "5000000",
                   "--maturity", "2031-01-01", env=env)
    assert proposed.code == 1 and "ipledger role grant pledgee ADDRESS" in proposed.err  # the hint for pledgee

    granted = cli("--dev-account", "0", "role", "grant", "pledgee", bank, env={**env, "IPLEDGER_ACCOUNT": "owner"})
    assert granted.code == 0, granted.err
    assert cli("role", "show", bank).out.strip() == f"{bank}: pledgee"


def test_dev_account_on_a_chain_that_is_not_a_local_anvil_exits_2_and_sends_nothing(cli):
    from ledger.chain.devchain import Anvil

    with Anvil(chain_id=1337) as node:
        run = cli("--dev-account", "0", "deploy", env={"IPLEDGER_RPC_URL": node.url})
        assert run.code == 2, (run.out, run.err)
        assert "only on the embedded chain or a local Anvil (chain 31337), not on chain 1337" in run.err
        from web3 import HTTPProvider, Web3

        assert Web3(HTTPProvider(node.url)).eth.block_number == 0  # nothing was deployed


def test_deploy_production_on_the_embedded_chain_exits_2(cli):
    run = cli("deploy", "--production")
    assert run.code == 2 and "--production is for a real chain" in run.err


@pytest.mark.parametrize("public_url", [None, "http://127.0.0.1:8000", "http://localhost:8000/", "ip.example.org"])
def test_deploy_production_without_a_public_url_exits_2_naming_the_setting(cli, public_url):
    env = {"IPLEDGER_RPC_URL": "http://127.0.0.1:9"}  # refused before any chain is asked
    if public_url is not None:
        env["IPLEDGER_PUBLIC_URL"] = public_url
    run = cli("deploy", "--production", env=env)
    assert run.code == 2, (run.out, run.err)
    assert "IPLEDGER_PUBLIC_URL" in run.err and "Traceback" not in run.err


def test_up_prints_who_holds_each_role_and_how_to_act_as_the_admin(data_dir):
    import os
    import signal
    import subprocess
    import sys

    from ledger.settings import PROJECT_ROOT

    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data_dir), "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"})
    process = subprocess.Popen([sys.executable, "-m", "ledger.cli.main", "up", "--no-api", "--no-index"],
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Running"):
                break
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    note = "(Anvil's development account 0: act as it with --dev-account 0)"
    assert f"  admin      {DEV0} {note}" in lines, lines
    assert f"  registrar  {DEV0} {note}" in lines and "  pledgee    nobody yet" in lines


def test_command_when_account_unknown_exits_2_before_the_chain(cli, data_dir):
    """A mistyped --account is bad input (exit 2), like a wrong password; the ledger was not asked."""
    assert cli("account", "new", "alice", env={"IPLEDGER_PASSWORD": "correct horse battery"}).code == 0
    run = cli("--account", "alcie", "asset", "verify", "1", env={"IPLEDGER_PASSWORD": "correct horse battery"})
    assert run.code == 2, (run.code, run.out, run.err)
    assert "no account 'alcie'" in run.err and "Traceback" not in run.err
    assert not (data_dir / "devchain").exists()  # refused before any chain was started
    assert cli("account", "address", "alcie").code == 2
