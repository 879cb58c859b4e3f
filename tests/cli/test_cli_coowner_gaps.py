"""`ipledger coowners ...` where users met gaps: an asset that does not exist is said not to exist (not "not
co-owned"), and an act's contract or terms are given as the file itself. In process, on the session's Anvil."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ledger.chain.devchain import DEV_ADDRESSES
from tests.cli.test_cli_sealing import ok, refused, run  # noqa: F401 - `run` is the in-process CLI fixture

A, BANK = DEV_ADDRESSES[1], DEV_ADDRESSES[4]
UNKNOWN = "999999"
PLEDGE = ("pledge", "--to", BANK, "--principal", "5000000", "--maturity", "2031-06-30")


def test_coowners_commands_on_unknown_asset_say_it_does_not_exist(run, tmp_path: Path):  # noqa: F811
    act_id = "0x" + "11" * 32
    for command in (("coowners", "show", UNKNOWN), ("coowners", "status", UNKNOWN, *PLEDGE),
                    ("coowners", "status", UNKNOWN, "--act-id", act_id),
                    ("--dev-account", "1", "coowners", "consent", UNKNOWN, "--act-id", act_id),
                    ("--dev-account", "1", "coowners", "consent", UNKNOWN, *PLEDGE),
                    ("--dev-account", "1", "coowners", "withdraw-consent", UNKNOWN, "--act-id", act_id),
                    ("--dev-account", "1", "coowners", "act", UNKNOWN, "transfer", "--to", BANK),
                    ("--dev-account", "1", "coowners", "act", UNKNOWN, "license", "--to", BANK, "--start",
                     "2026-01-01", "--end", "2030-01-01"),
                    ("--dev-account", "1", "coowners", "distribute", UNKNOWN)):
        refused(run(*command), 1, f"asset {UNKNOWN} does not exist")
    # an asset that exists but is not co-owned is still said so
    (tmp_path / "plain.txt").write_text("a plain patent, not co-owned")
    plain = json.loads(ok(run("--dev-account", "1", "asset", "register", "--kind", "invention-patent", "--file",
                              str(tmp_path / "plain.txt"), "--title", "Plain", "--json")))["asset_id"]
    refused(run("coowners", "show", str(plain)), 1, f"asset {plain} is not co-owned")
    refused(run("--dev-account", "1", "coowners", "consent", str(plain), "--act-id", act_id), 1,
            f"asset {plain} is not co-owned")


def test_coowners_act_with_contract_or_terms_file_hashes_it_like_the_hash_option(run, tmp_path: Path):  # noqa: F811
    B = DEV_ADDRESSES[2]
    claims, loan, terms = (tmp_path / name for name in ("claims.txt", "loan.pdf", "licence.pdf"))
    claims.write_text("a co-owned method, claimed")
    loan.write_bytes(b"%PDF loan contract " * 1000)
    terms.write_bytes(b"%PDF exclusive licence " * 1000)
    loan_hash = "0x" + hashlib.sha256(loan.read_bytes()).hexdigest()
    terms_hash = "0x" + hashlib.sha256(terms.read_bytes()).hexdigest()
    asset = str(json.loads(ok(run("--dev-account", "1", "asset", "register", "--kind", "invention-patent", "--file",
                                  str(claims), "--title", "Co-owned", "--co-owner", f"{A}:6000", "--co-owner",
                                  f"{B}:4000", "--json")))["asset_id"])
    ok(run("role", "grant", "pledgee", BANK))
    # B consents naming the file; the act is the same as the one named by the file's hash
    ok(run("--dev-account", "2", "coowners", "consent", asset, *PLEDGE, "--contract-file", str(loan)))
    status = json.loads(ok(run("coowners", "status", asset, *PLEDGE, "--contract-hash", loan_hash, "--json")))
    assert (status["given"], status["missing"]) == ([B], [A])
    pledged = json.loads(ok(run("--dev-account", "1", "coowners", "act", asset, *PLEDGE, "--contract-file", str(loan),
                                "--json")))
    shown = json.loads(ok(run("pledge", "show", str(pledged["pledgeId"]), "--json")))
    assert shown["contract_hash"] == loan_hash

    licence = ("license", "--to", BANK, "--kind", "exclusive", "--start", "2026-01-01", "--end", "2030-01-01")
    ok(run("--dev-account", "2", "coowners", "consent", asset, *licence, "--terms-file", str(terms)))
    granted = json.loads(ok(run("--dev-account", "1", "coowners", "act", asset, *licence, "--terms-hash", terms_hash,
                                "--json")))
    assert json.loads(ok(run("license", "show", str(granted["licenseId"]), "--json")))["terms_hash"] == terms_hash

    refused(run("coowners", "status", asset, *PLEDGE, "--contract-file", str(loan), "--contract-hash", loan_hash), 2,
            "give the contract as a hash or as a file, not both")
    refused(run("coowners", "status", asset, *licence, "--terms-file", str(tmp_path / "missing.pdf")), 2,
            "missing.pdf")
