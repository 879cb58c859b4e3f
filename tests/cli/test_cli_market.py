"""`ipledger market ...` as users run it: real processes, the embedded chain, two keystore accounts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cliproc import run_ipledger

PASSWORD = {"IPLEDGER_PASSWORD": "correct horse battery"}


def run(*args: str, data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "COLUMNS": "200", **PASSWORD, **(env or {})})
    return run_ipledger(args, env=environment)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], code: int, sentence: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_faucet_register_list_and_buy_as_another_account_empties_the_listings(tmp_path):
    data = tmp_path / "data"
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"%PDF-1.7 a chair that folds " * 50)
    seller = json.loads(ok(run("account", "new", "seller", "--json", data=data)))["address"]
    buyer = json.loads(ok(run("account", "new", "buyer", "--json", data=data)))["address"]
    as_buyer = {"IPLEDGER_ACCOUNT": "buyer"}  # the environment, or --account as for the seller below

    minted = json.loads(ok(run("market", "faucet", "1,000", "--json", data=data, env=as_buyer)))
    assert (minted["to"], minted["amount"], minted["balance"]) == (buyer, 1_000_000_000, 1_000_000_000)
    asset_id = json.loads(ok(run("--account", "seller", "asset", "register", "--kind", "design", "--file",
                                 str(claims), "--title", "A folding chair", "--json", data=data)))["asset_id"]
    listed = json.loads(ok(run("--account", "seller", "market", "list", str(asset_id), "--price", "250.5",
                               "--expires", "7d", "--json", data=data)))
    listing_id = listed["listingId"]
    assert (listed["listing"]["seller"], listed["listing"]["price"], listed["listing"]["status"]) == (
        seller, 250_500_000, "open")
    board = json.loads(ok(run("market", "listings", "--json", data=data)))
    assert board["count"] == 1 and board["data"][0]["listing_id"] == listing_id

    # a mistyped price on an unchanged listing is the buyer's input, not a change of the listing
    refused(run("market", "buy", str(listing_id), "--price", "250", data=data, env=as_buyer), 2,
            f"listing {listing_id} has not changed (nonce 0): its price is 250.5 IPST, not the 250 IPST you named")
    bought = json.loads(ok(run("market", "buy", str(listing_id), "--json", data=data, env=as_buyer)))
    assert (bought["listingId"], bought["assetId"], bought["price"]) == (listing_id, asset_id, 250_500_000)

    assert json.loads(ok(run("market", "listings", "--json", data=data))) == {"data": [], "count": 0}
    assert json.loads(ok(run("asset", "show", str(asset_id), "--json", data=data)))["owner"] == buyer
    held = ok(run("market", "balance", seller, data=data))
    assert f"{seller} holds 250.5 IPST (250,500,000 units)." in held


@pytest.mark.parametrize("args, message", [
    (("market", "list", "1", "--price", "12.5.0"), "the price '12.5.0' is not an amount of tokens"),
    (("market", "offer", "1", "--amount", "5", "--expires", "someday"), "the expiry 'someday' is not a date"),
])
def test_bad_amount_or_expiry_exits_two_before_touching_the_chain(tmp_path, args, message):
    data = tmp_path / "data"
    refused(run(*args, data=data), 2, message)
    assert not (data / "devchain").exists()


def test_buy_of_a_listing_whose_asset_went_away_and_came_back_exits_one_saying_why(tmp_path):
    """Issue 11 item 7 as a user meets it: the listing shows its fixed fee, and once the asset went to the
    buyer and back, the buyer's `market buy` of the old listing is refused (exit 1) with the reason."""
    data = tmp_path / "data"
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"%PDF-1.7 a lamp that bends " * 50)
    seller = json.loads(ok(run("account", "new", "seller", "--json", data=data)))["address"]
    buyer = json.loads(ok(run("account", "new", "buyer", "--json", data=data)))["address"]
    as_seller, as_buyer = {"IPLEDGER_ACCOUNT": "seller"}, {"IPLEDGER_ACCOUNT": "buyer"}
    asset_id = json.loads(ok(run("asset", "register", "--kind", "design", "--file", str(claims), "--title",
                                 "A bending lamp", "--json", data=data, env=as_seller)))["asset_id"]
    listed = ok(run("market", "list", str(asset_id), "--price", "10", data=data, env=as_seller))
    assert "its sale pays a protocol fee of at most 0%, fixed now" in listed
    listing_id = json.loads(ok(run("market", "listings", "--json", data=data)))["data"][0]["listing_id"]
    ok(run("asset", "transfer", str(asset_id), buyer, data=data, env=as_seller))
    ok(run("asset", "transfer", str(asset_id), seller, data=data, env=as_buyer))
    ok(run("market", "faucet", "100", data=data, env=as_buyer))
    refused(run("market", "buy", str(listing_id), "--price", "10", "--nonce", "0", data=data, env=as_buyer), 1,
            f"asset {asset_id} moved since it was listed (transfer count 0 then, 2 now): the listing is void for good")
