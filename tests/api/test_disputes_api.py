"""Dispute and lineage routes against the real chain, and the registrar's dispute relayed from a signed request."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from api.routers import assets as assets_router
from ledger.context import Ledger
from ledger.registry.metadata import build_document


@pytest.fixture(autouse=True)
def _exact_checks(monkeypatch):
    monkeypatch.setattr(assets_router, "CHECK_HEAD_MAX_AGE", 0.0)


def register(api_ledger: Ledger, owner) -> int:
    return api_ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("t"),
                                      sender=owner).asset_id


def test_disputes_lineage_and_check_routes_show_open_disputes_and_parents(client, api_ledger, accounts):
    parent, child = register(api_ledger, accounts[1]), register(api_ledger, accounts[1])
    api_ledger.disputes.set_parent(child, parent, sender=accounts[1])
    dispute_id = api_ledger.disputes.open_dispute(child, "ownership", "(2025)JING73MINCHU1").ids["disputeId"]
    body = client.get(f"/assets/{child}/disputes").json()
    assert body["count"] == 1 and body["data"][0]["dispute_id"] == dispute_id
    assert body["data"][0]["blocks_moves"] is True
    assert client.get(f"/disputes/{dispute_id}").json()["kind"] == "ownership"
    assert client.get(f"/assets/{parent}/lineage").json() == {"asset_id": parent, "parent_id": None,
                                                              "children": [child]}
    check = client.get(f"/assets/{child}/check").json()
    assert check["red_flags"][0]["code"] == "ownership_disputed" and check["parent_id"] == parent
    assert check["disputes"][0]["outcome"] == "open"
    missing = client.get("/disputes/999")
    assert missing.status_code == 404 and missing.json()["error"] == "IPRegistryUnknownDispute"
    assert client.get("/assets/999/lineage").status_code == 404
    assert client.get("/assets/999/disputes").status_code == 404


def test_registrar_opens_dispute_by_relayed_request_with_the_case_as_text(client, api_ledger, accounts):
    asset_id = register(api_ledger, accounts[1])
    registrar = accounts[0]
    body = client.post("/relay/prepare", json={
        "from": registrar.address, "contract": "IPRegistry", "function": "openDispute",
        "args": {"assetId": asset_id, "kind": "infringement-suit", "caseRef": "(2025)hu73minchu9",
                 "evidenceHash": "0x" + "0e" * 32}})
    assert body.status_code == 200, body.text
    prepared = body.json()
    signed = Account.sign_typed_data(registrar.key, full_message=prepared["typed_data"])
    relayed = client.post("/relay", json={**prepared["message"], "signature": "0x" + signed.signature.hex()})
    assert relayed.status_code == 200, relayed.text
    [found] = client.get(f"/assets/{asset_id}/disputes").json()["data"]
    assert (found["kind"], found["ref"], found["blocks_moves"]) == ("infringement-suit", "(2025)HU73MINCHU9", False)
    refused = client.post("/relay/prepare", json={
        "from": accounts[1].address, "contract": "IPRegistry", "function": "openDispute",
        "args": {"assetId": asset_id, "kind": "ownership", "caseRef": "C1", "evidenceHash": None}})
    assert refused.status_code == 403, refused.text


def test_prepare_listing_of_an_asset_under_ownership_dispute_is_refused_naming_it_in_the_stated_language(
        client, api_ledger, accounts):
    owner = accounts[1]
    asset_id = register(api_ledger, owner)
    dispute_id = api_ledger.disputes.open_dispute(asset_id, "ownership", "(2025)JING73MINCHU7").ids["disputeId"]
    act = {"from": owner.address, "contract": "Marketplace", "function": "listAsset",
           "args": [asset_id, api_ledger.market.token().address, 100_000_000, "2030-01-01", "0x" + "00" * 20]}
    zh = client.post("/relay/prepare", json=act, headers={"Accept-Language": "zh-CN"})
    en = client.post("/relay/prepare", json=act)
    assert zh.status_code == en.status_code == 409, en.text  # before anyone signs (the Marketplace would list it)
    assert zh.json()["type"] == en.json()["type"] == "urn:ipledger:problem:refused-by-a-rule-of-the-ledger"
    assert f"资产 {asset_id} 不能出售" in zh.json()["detail"] and f"争议 {dispute_id}" in zh.json()["detail"]
    assert en.json()["detail"].startswith(f"asset {asset_id} cannot be offered for sale: its ownership is in "
                                          f"dispute (dispute {dispute_id}, case (2025)JING73MINCHU7)")
    answer = {**act, "function": "answerDemand", "args": [1, asset_id, 1]}  # offering it to a demand: the same
    assert client.post("/relay/prepare", json=answer).status_code == 409
    co_listed = {**act, "contract": "CoOwnership"}  # a co-owned listing: the same
    assert client.post("/relay/prepare", json=co_listed).status_code == 409
    # a buyer's escrowed offer: its money could only sit in escrow, so it is refused before it is signed
    offer = {"from": accounts[2].address, "contract": "Marketplace", "function": "makeOffer",
             "args": [asset_id, api_ledger.market.token().address, 5_000_000, "2030-01-01"]}
    zh = client.post("/relay/prepare", json=offer, headers={"Accept-Language": "zh-CN"})
    en = client.post("/relay/prepare", json=offer)
    assert zh.status_code == en.status_code == 409, en.text
    assert en.json()["detail"].startswith(f"asset {asset_id} cannot receive an offer: its ownership is in dispute "
                                          f"(dispute {dispute_id}, case (2025)JING73MINCHU7)")
    assert f"资产 {asset_id} 不能接受报价" in zh.json()["detail"], zh.text
    api_ledger.disputes.resolve_dispute(dispute_id, "dismissed")
    refused = client.post("/relay/prepare", json=act)  # resolved: the chain's own rule (no approval yet) speaks
    assert refused.status_code == 409 and refused.json()["error"] == "MarketplaceTransferNotApproved"
