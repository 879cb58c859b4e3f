"""`ipledger asset register --co-owner`, `ipledger coowners ...` as co-owners run them: a co-owned patent
registered with three co-owners, pledged once every other co-owner consented, a licence by one alone."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.chain.devchain import DEV_ADDRESSES
from tests.cli.test_cli_registry import ok, refused, run

A, B, C, BANK = DEV_ADDRESSES[1], DEV_ADDRESSES[2], DEV_ADDRESSES[3], DEV_ADDRESSES[4]
PLEDGE = ("pledge", "--to", BANK, "--principal", "5000000", "--maturity", "2031-06-30")


def test_co_owned_patent_registered_pledged_with_every_consent_and_licensed_by_one(tmp_path: Path):
    data = tmp_path / "data"
    (tmp_path / "claims.txt").write_text("what is claimed is a co-owned method")
    as_a, as_b, as_c = (("--dev-account", str(n)) for n in (1, 2, 3))
    refused(run(*as_a, "asset", "register", "--kind", "invention-patent", "--file", str(tmp_path / "claims.txt"),
                "--title", "Co-owned", "--co-owner", f"{A}:5000", "--co-owner", f"{B}:4000", data=data), 2,
            "sum to 9000 basis points, not 10000")
    registered = json.loads(ok(run(
        *as_a, "asset", "register", "--kind", "invention-patent", "--file", str(tmp_path / "claims.txt"),
        "--title", "Co-owned", "--co-owner", f"{A}:5000", "--co-owner", f"{B}:30%", "--co-owner", f"{C}:2000",
        "--json", data=data)))
    asset_id = str(registered["asset_id"])
    shown = json.loads(ok(run("coowners", "show", asset_id, "--json", data=data)))
    assert [(c["address"], c["bps"]) for c in shown["co_owners"]] == [(A, 5000), (B, 3000), (C, 2000)]
    assert json.loads(ok(run("asset", "show", asset_id, "--json", data=data)))["owner"] == shown["vault"]
    ok(run("--dev-account", "0", "role", "grant", "pledgee", BANK, data=data))
    refused(run(*as_a, "coowners", "act", asset_id, *PLEDGE, data=data), 1, "consent")
    ok(run(*as_b, "coowners", "consent", asset_id, *PLEDGE, data=data))
    status = json.loads(ok(run("coowners", "status", asset_id, *PLEDGE, "--json", data=data)))
    assert (status["given"], status["missing"]) == ([B], [A, C])
    consented = json.loads(ok(run(*as_c, "coowners", "consent", asset_id, *PLEDGE, "--json", data=data)))
    ok(run(*as_c, "coowners", "withdraw-consent", asset_id, "--act-id", consented["act_id"], data=data))
    refused(run(*as_a, "coowners", "act", asset_id, *PLEDGE, data=data), 1, "consent")
    ok(run(*as_c, "coowners", "consent", asset_id, *PLEDGE, data=data))
    pledged = json.loads(ok(run(*as_a, "coowners", "act", asset_id, *PLEDGE, "--json", data=data)))
    assert pledged["pledgeId"] == 1
    licence = json.loads(ok(run(*as_c, "coowners", "act", asset_id, "license", "--to", BANK, "--kind",
                                "non-exclusive", "--start", "2026-01-01", "--end", "2030-01-01", "--json",
                                data=data)))
    assert licence["licenseId"] == 1
    refused(run(*as_c, "coowners", "act", asset_id, "license", "--to", BANK, "--kind", "exclusive",
                "--start", "2026-01-01", "--end", "2030-01-01", data=data), 1, "consent")
    refused(run(*as_a, "coowners", "consent", asset_id, data=data), 2, "name the act")
    # the bank's text check names the co-owners and how final the record is, as its JSON does (it showed only
    # the vault as owner, and no finality)
    said = " ".join(ok(run("check", asset_id, data=data)).split())
    assert f"co-owners {A} 50 %, {B} 30 %, {C} 20 %" in said and "(the co-ownership vault)" in said
    assert "finality not final yet:" in said
    refused(run("--dev-account", "5", "coowners", "consent", asset_id, *PLEDGE, data=data), 1,
            "is not a co-owner of asset")
    # an ownership dispute: a co-owned sale is refused before it is sent (no buyer could complete it)
    ok(run("--dev-account", "0", "dispute", "open", asset_id, "--kind", "ownership", "--case", "C9", data=data))
    refused(run(*as_a, "coowners", "act", asset_id, "sale", "--price", "100", "--expiry", "2031-01-01",
                data=data), 1,
            f"asset {asset_id} cannot be offered for sale: its ownership is in dispute (dispute 1, case C9)")
