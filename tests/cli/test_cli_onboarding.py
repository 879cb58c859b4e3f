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
