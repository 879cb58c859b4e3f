"""Co-owner routes against the real chain: a co-owned asset registered by relayed request, its co-owners read,
a pledge's act described, consented by relayed requests signed by the co-owners (who hold no ether), and
performed through the relay; bad input answered with a 4xx problem."""

from __future__ import annotations

import os
import time

from eth_account import Account

from ledger.context import Ledger
from ledger.registry.metadata import build_document

PLEDGE = {"act": "pledge", "principal": 5_000_000, "currency": "CNY", "maturity": "2031-06-30"}


def relay(client, signer, contract: str, function: str, args) -> dict:
    prepared = client.post("/relay/prepare", json={"from": signer.address, "contract": contract,
                                                   "function": function, "args": args})
    assert prepared.status_code == 200, prepared.text
    body = prepared.json()
    signed = Account.sign_typed_data(signer.key, full_message=body["typed_data"])
    relayed = client.post("/relay", json={**body["message"], "signature": "0x" + signed.signature.hex()})
    assert relayed.status_code == 200, relayed.text
    return relayed.json()


def test_co_owned_asset_registered_consented_and_pledged_by_relayed_requests(client, api_ledger: Ledger, accounts):
    a, b = Account.create(), Account.create()  # fresh keys with no ether: everything is relayed
    bank = accounts[4]
    role = api_ledger.client.call(api_ledger.contract("IPRegistry").functions.PLEDGEE_ROLE())
    api_ledger.client.transact(api_ledger.contract("IPRegistry").functions.grantRole(role, bank.address))
    stored = api_ledger.metadata.put(build_document("Co-owned method"))
    relay(client, a, "CoOwnership", "register", {
        "contentHash": "0x" + os.urandom(32).hex(), "kind": "invention-patent", "ref": None,
        "metadataHash": stored.hash, "uri": stored.uri,
        "shares": [{"account": a.address, "bps": 6000}, {"account": b.address, "bps": 4000}],
        "agreement": {"hash": None, "flags": 0}})
    asset_id = api_ledger.coowners.co_owners_of(int(api_ledger.client.call(
        api_ledger.contract("IPRegistry").functions.assetCount()))).asset_id
    shown = client.get(f"/co-owners/{asset_id}").json()
    assert [(c["address"], c["bps"]) for c in shown["co_owners"]] == [(a.address, 6000), (b.address, 4000)]
    assert client.get(f"/assets/{asset_id}").json()["owner"] == shown["vault"]

    described = client.post(f"/co-owners/{asset_id}/acts", json={**PLEDGE, "to": bank.address})
    assert described.status_code == 200, described.text
    act = described.json()
    assert (act["function"], act["given"], act["missing"]) == ("proposePledge", [], [a.address, b.address])
    relay(client, b, "CoOwnership", "consent", [asset_id, act["act_id"]])
    consents = client.get(f"/co-owners/{asset_id}/acts/{act['act_id']}").json()
    assert (consents["given"], consents["missing"]) == ([b.address], [a.address])
    relay(client, a, act["contract"], act["function"], act["args"])
    count = api_ledger.client.call(api_ledger.contract("PledgeRegistry").functions.pledgeCount())
    pledge = api_ledger.pledges.pledge_of(count)
    assert (pledge.asset_id, pledge.pledgor) == (asset_id, shown["vault"])


def test_co_owner_routes_refuse_bad_input_with_problems(client, api_ledger: Ledger, accounts):
    asset_id = api_ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("t"),
                                          sender=accounts[1]).asset_id
    missing = client.get(f"/co-owners/{asset_id}")
    assert missing.status_code == 404 and missing.json()["error"] == "CoOwnershipNotCoOwned"
    a = accounts[1].address
    co = api_ledger.coowners.register(os.urandom(32), "invention-patent", None, build_document("c"),
                                      [(a, 10_000)], sender=accounts[1]).asset_id
    unknown = client.post(f"/co-owners/{co}/acts", json={"act": "dance"})
    assert unknown.status_code == 400 and "unknown co owner act" in unknown.json()["detail"]
    incomplete = client.post(f"/co-owners/{co}/acts", json={"act": "pledge"})
    assert incomplete.status_code == 400 and "needs to" in incomplete.json()["detail"]
    bad = client.post(f"/co-owners/{co}/acts", json={"act": "co-owners-change", "co_owners": [
        {"address": a, "bps": 5000}]})
    assert bad.status_code == 400 and "sum to 5000" in bad.json()["detail"]
    assert client.get(f"/co-owners/credits/{a}/{a}").json()["amount"] == 0


def test_bank_check_shows_co_owners_and_flags_a_pledge_without_every_consent(client, api_ledger: Ledger, accounts):
    a, b, bank = accounts[1], accounts[2], accounts[4]
    asset_id = api_ledger.coowners.register(os.urandom(32), "invention-patent", None, build_document("c"),
                                            [(a.address, 7_000), (b.address, 3_000)], sender=a).asset_id
    check = client.get(f"/assets/{asset_id}/check").json()
    assert [(c["address"], c["bps"]) for c in check["co_owners"]["co_owners"]] == [(a.address, 7000),
                                                                                  (b.address, 3000)]
    assert check["red_flags"][0]["code"] == "co_owners_not_consented"
    assert "70 %" in check["red_flags"][0]["message"]
    role = api_ledger.client.call(api_ledger.contract("IPRegistry").functions.PLEDGEE_ROLE())
    api_ledger.client.transact(api_ledger.contract("IPRegistry").functions.grantRole(role, bank.address))
    params = api_ledger.coowners.pledge_params(bank.address, 1_000, "CNY", "2031-06-30")
    api_ledger.coowners.consent(asset_id, api_ledger.coowners.act_id(asset_id, "pledge", *params), sender=b)
    api_ledger.coowners.propose_pledge(asset_id, bank.address, 1_000, "CNY", "2031-06-30", sender=a)
    proposed_at = api_ledger.client.w3.eth.block_number
    deadline = time.monotonic() + 10  # the API may serve a report up to CHECK_HEAD_MAX_AGE behind the head
    while (check := client.get(f"/assets/{asset_id}/check").json())["block_number"] < proposed_at:
        assert time.monotonic() < deadline, "the bank check never read the block of the proposal"
        time.sleep(0.05)
    assert "co_owners_not_consented" not in [f["code"] for f in check["red_flags"]]
    plain = api_ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("p"), sender=a)
    assert client.get(f"/assets/{plain.asset_id}/check").json()["co_owners"] is None


def test_co_owner_routes_and_page_on_unknown_asset_answer_404_it_does_not_exist(client, api_ledger: Ledger):
    unknown = int(api_ledger.client.call(api_ledger.contract("IPRegistry").functions.assetCount())) + 1000
    for answer in (client.get(f"/co-owners/{unknown}"),
                   client.post(f"/co-owners/{unknown}/acts", json={"act": "transfer", "to": "0x" + "22" * 20}),
                   client.get(f"/co-owners/{unknown}/acts/0x{'11' * 32}")):
        assert answer.status_code == 404, answer.text
        assert (answer.json()["error"], answer.json()["detail"]) == ("ERC721NonexistentToken",
                                                                    f"asset {unknown} does not exist")
    # a wallet preparing a co-owner's act on it is told the same, before signing (the contract says "not co-owned")
    for function, args in (("consent", [unknown, "0x" + "11" * 32]), ("distribute", [unknown, "0x" + "22" * 20]),
                           ("listAsset", [unknown, "0x" + "22" * 20, 1, "2031-01-01", "0x" + "00" * 20])):
        answer = client.post("/relay/prepare", json={"from": "0x" + "33" * 20, "contract": "CoOwnership",
                                                     "function": function, "args": args})
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"] == f"asset {unknown} does not exist", function
    page = client.get(f"http://testserver/assets/{unknown}/co-owners?lang=en")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert f"asset {unknown} does not exist" in page.text
