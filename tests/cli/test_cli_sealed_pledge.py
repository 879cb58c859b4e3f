"""`ipledger pledge propose --contract-file --seal-to --api`: the loan contract is sealed to the bank (and the
owner, and whoever --seal-to names) and stored on the API, where the bank lists it and opens it. In process, on
the session's Anvil, with the API of tests/api on loopback."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ledger.chain.devchain import DEV_ADDRESSES
from tests.api.conftest import api_ledger, live_api  # noqa: F401 - the API on the session chain, on loopback
from tests.cli.test_cli_sealing import ok, refused, run  # noqa: F401 - `run` is the in-process CLI fixture

OWNER, BANK, CENTRE = DEV_ADDRESSES[0], DEV_ADDRESSES[1], DEV_ADDRESSES[3]


def test_pledge_propose_with_seal_to_and_api_stores_the_contract_the_bank_lists_and_opens(
        run, live_api, tmp_path: Path):  # noqa: F811
    claims, loan = tmp_path / "claims.pdf", tmp_path / "loan.pdf"
    claims.write_bytes(b"%PDF claims " + os.urandom(64))
    loan.write_bytes(b"%PDF loan contract " + os.urandom(200_000))
    for account in ("0", "1", "3"):
        ok(run("--dev-account", account, "keys", "publish"))
    ok(run("role", "grant", "pledgee", BANK))
    asset = json.loads(ok(run("asset", "register", "--kind", "invention-patent", "--file", str(claims), "--title",
                              "Claims", "--json")))["asset_id"]

    proposed = json.loads(ok(run("pledge", "propose", str(asset), "--to", BANK, "--principal", "5000000",
                                 "--maturity", "2031-06-30", "--contract-file", str(loan), "--seal-to", BANK,
                                 "--seal-to", CENTRE, "--api", live_api, "--json")))
    assert proposed["sealed_file"] == str(loan) + ".sealed" and proposed["sealed_id"].startswith("0x")

    listed = json.loads(ok(run("--dev-account", "1", "sealed", "list", "--api", live_api, "--json")))
    [doc] = [d for d in listed["data"] if d["sealed_id"] == proposed["sealed_id"]]
    assert sorted(r["address"] for r in doc["recipients"]) == sorted([BANK, OWNER, CENTRE])  # the bank once
    opened = tmp_path / "opened.pdf"
    said = json.loads(ok(run("--dev-account", "1", "unseal", proposed["sealed_id"], "-o", str(opened), "--api",
                             live_api, "--json")))
    assert opened.read_bytes() == loan.read_bytes()
    assert [(m["kind"], m["id"]) for m in said["matches"]] == [("pledge", proposed["pledgeId"])]
    ok(run("sealed", "upload", proposed["sealed_file"], "--api", live_api))  # storing it again is harmless


def test_pledge_propose_with_api_unreachable_or_seal_to_alone_refuses_before_proposing(run, tmp_path: Path):  # noqa: F811
    claims, loan = tmp_path / "claims.pdf", tmp_path / "loan.pdf"
    claims.write_bytes(b"%PDF claims " + os.urandom(64))
    loan.write_bytes(b"%PDF loan " + os.urandom(64))
    ok(run("role", "grant", "pledgee", BANK))
    asset = json.loads(ok(run("asset", "register", "--kind", "invention-patent", "--file", str(claims), "--title",
                              "Claims", "--json")))["asset_id"]
    pledge = ("pledge", "propose", str(asset), "--to", BANK, "--principal", "5000000", "--maturity", "2031-06-30")
    refused(run(*pledge, "--contract-file", str(loan), "--api", "http://127.0.0.1:9"), 3, "does not answer")
    refused(run(*pledge, "--seal-to", CENTRE), 2, "--seal-to seals the loan contract: it goes with --contract-file")
    assert not Path(str(loan) + ".sealed").exists()
    assert json.loads(ok(run("check", str(asset), "--json")))["pledge"] is None  # nothing was proposed
