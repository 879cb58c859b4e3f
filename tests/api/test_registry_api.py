"""Registry routes against the real chain: assets, licenses, pledges, the bank check, metadata, relayed writes."""

from __future__ import annotations

import hashlib
import os

import pytest

from api.routers import assets as assets_router
from ledger.client.api import ApiClient
from ledger.context import Ledger
from ledger.errors import ConflictError, PermissionDeniedError
from ledger.registry.licenses import LicenseTerms
from ledger.registry.metadata import build_document
from tests.contracts.ipkit import YEAR


@pytest.fixture(autouse=True)
def _exact_checks(monkeypatch):
    """Tests revert the chain under the API: look at the head on every check (no 50 ms window)."""
    monkeypatch.setattr(assets_router, "CHECK_HEAD_MAX_AGE", 0.0)


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and "Traceback" not in response.text
    return body


def register(api_ledger: Ledger, owner, ref: str | None = None, title: str = "A pledging method") -> int:
    return api_ledger.assets.register(os.urandom(32), "invention-patent", ref, build_document(title),
                                      sender=owner).asset_id


def test_get_asset_shows_the_record_registration_and_title(client, api_ledger, accounts):
    asset_id = register(api_ledger, accounts[1], "CN202010123456.7")
    api_ledger.assets.set_verified(asset_id)
    body = client.get(f"/assets/{asset_id}").json()
    assert (body["asset_id"], body["owner"], body["kind"], body["status"], body["verified"]) == (
        asset_id, accounts[1].address, "invention-patent", "filed", True)
    assert body["registration"]["ref"] == "CN202010123456.7" and body["title"] == "A pledging method"
    assert body["registration"]["uri"] == f"/metadata/{body['registration']['metadata_hash']}"
    assert (body["name"], body["description"]) == ("A pledging method", "invention patent CN202010123456.7, filed")


def test_unknown_ids_are_404_problems(client):
    assert "asset 404 does not exist" in problem(client.get("/assets/404"), 404)["detail"]
    assert problem(client.get("/assets/404/check"), 404)["error"] == "ERC721NonexistentToken"
    problem(client.get("/assets/404/licenses"), 404)
    problem(client.get("/assets/404/pledge"), 404)
    assert problem(client.get("/licenses/9"), 404)["error"] == "LicenseRegistryUnknownLicense"
    assert problem(client.get("/pledges/9"), 404)["error"] == "PledgeRegistryUnknownPledge"
    problem(client.get("/metadata/0x" + "00" * 32), 404)


def test_assets_and_licenses_are_paginated_with_count(client, api_ledger, accounts):
    ids = [register(api_ledger, accounts[1], title=f"t{i}") for i in range(4)]
    page = client.get("/assets", params={"limit": 2, "offset": 1}).json()
    assert page["count"] == 4 and [a["asset_id"] for a in page["data"]] == ids[1:3]
    now = api_ledger.client.block_time("latest")
    for licensee in accounts[3:6]:
        api_ledger.licenses.offer(ids[0], LicenseTerms(licensee.address, "non-exclusive", now, now + YEAR),
                                  sender=accounts[1])
    api_ledger.licenses.accept(2, sender=accounts[4])
    page = client.get(f"/assets/{ids[0]}/licenses", params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [lic["license_id"] for lic in page["data"]] == [2]
    active = client.get(f"/assets/{ids[0]}/licenses", params={"active": True}).json()
    assert active["count"] == 1 and active["data"][0]["status"] == "active"
    assert client.get("/licenses/3").json()["licensee"] == accounts[5].address
    problem(client.get("/assets", params={"limit": 0}), 422)


def test_pledge_routes_and_the_bank_check_with_maturity(client, api_ledger, accounts):
    owner, bank = accounts[1], accounts[4]
    asset_id = register(api_ledger, owner, "CN2020101234")
    api_ledger.assets.grant_role("pledgee", bank.address)
    api_ledger.assets.set_dates(asset_id, api_ledger.client.block_time("latest") + 2 * YEAR, 0)
    assert "is not pledged" in problem(client.get(f"/assets/{asset_id}/pledge"), 404)["detail"]
    pledge_id = api_ledger.pledges.propose(asset_id, bank.address, 5_000_000, "CNY", "2027-06-30",
                                           sender=owner).ids["pledgeId"]
    api_ledger.pledges.accept(pledge_id, api_ledger.check.due_diligence(asset_id).encumbrance_version, sender=bank)
    pledge = client.get(f"/assets/{asset_id}/pledge").json()
    assert (pledge["pledge_id"], pledge["pledgee"], pledge["principal"], pledge["currency"]) == (
        pledge_id, bank.address, 5_000_000, "CNY")
    assert client.get(f"/pledges/{pledge_id}").json() == pledge
    response = client.get(f"/assets/{asset_id}/check", params={"maturity": "2099-01-01"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    report = response.json()
    assert [f["code"] for f in report["red_flags"]] == ["pledged", "expires_before_maturity", "unverified"]
    assert report["ref"] == "CN2020101234" and report["pledge"] == pledge and report["round_trips"] == 1
    assert [e["event"] for e in report["history"]][-2:] == ["PledgeProposed", "PledgeAccepted"]
    assert all(len(e["tx_hash"]) == 66 for e in report["history"])
    api_ledger.pledges.release(pledge_id, sender=bank)
    after = client.get(f"/assets/{asset_id}/check", params={"maturity": "2099-01-01"}).json()
    assert [f["code"] for f in after["red_flags"]] == ["expires_before_maturity", "unverified"]


def test_check_with_a_bad_maturity_is_a_422_problem_and_a_past_one_a_400(client, api_ledger, accounts):
    asset_id = register(api_ledger, accounts[1])
    assert "maturity" in problem(client.get(f"/assets/{asset_id}/check", params={"maturity": "2027-13-45"}),
                                 422)["detail"]
    problem(client.get(f"/assets/{asset_id}/check", params={"maturity": "soon"}), 422)
    for past, shown in (("1900-01-01", "1970-01-01 00:00:01"), ("2020-01-01", "2020-01-01 00:00:00")):
        # refused as `pledge propose` refuses it, not read at today's time
        detail = problem(client.get(f"/assets/{asset_id}/check", params={"maturity": past}), 400)["detail"]
        assert detail.startswith(f"the maturity must be in the future: {shown} UTC is not after the chain's time"), \
            detail
    zh = client.get(f"/assets/{asset_id}/check", params={"maturity": "2020-01-01"}, headers={"Accept-Language": "zh"})
    assert problem(zh, 400)["detail"].startswith("到期日必须在将来：2020-01-01 00:00:00 UTC 不晚于链上当前时间")
    assert client.get(f"/assets/{asset_id}/check", params={"maturity": "2099-01-01"}).status_code == 200


def test_check_is_served_from_memory_while_the_head_stands_still(client, api_ledger, accounts, monkeypatch):
    monkeypatch.setattr(assets_router, "CHECK_HEAD_MAX_AGE", 60.0)
    asset_id = register(api_ledger, accounts[1])
    first = client.get(f"/assets/{asset_id}/check").content
    batches = []
    original = api_ledger.client.rpc_batch
    monkeypatch.setattr(api_ledger.client, "rpc_batch", lambda *a, **k: batches.append(a) or original(*a, **k))
    assert client.get(f"/assets/{asset_id}/check").content == first
    assert all(method == "eth_getBlockByNumber" for calls in batches for method, _ in calls[0])  # the head watcher


def test_metadata_is_stored_and_served_byte_for_byte(client):
    document = {"title": "专利 of a method", "inventors": ["Li Wei"], "claims": 12}
    stored = client.post("/metadata", json=document)
    assert stored.status_code == 201, stored.text
    body = stored.json()
    assert body["uri"] == f"/metadata/{body['hash']}"
    served = client.get(body["uri"])
    assert served.status_code == 200 and served.headers["content-type"] == "application/json"
    assert "0x" + hashlib.sha256(served.content).hexdigest() == body["hash"] and served.json() == document
    decimal = problem(client.post("/metadata", json={"title": "t", "price": 1.5}), 400)["detail"]
    assert "$.price is 1.5" in decimal and "integers" in decimal  # the ledger's rule, before the schema's
    problem(client.post("/metadata", json={"name": "no title"}), 422)


def test_relayed_registration_returns_the_new_asset_id_and_the_user_owns_it(live_api, api_ledger, user, accounts):
    api = ApiClient(live_api)
    try:
        relayed = api.register(user, os.urandom(32), "software-copyright", "2020SR123456",
                               {"title": "ipledger, the software"})
        asset_id = relayed["result"]["assetId"]
        assert asset_id == api_ledger.assets.asset_count()
        asset = api.asset(asset_id)
        assert (asset["owner"], asset["kind"], asset["title"]) == (user.address, "software-copyright",
                                                                   "ipledger, the software")
        assert asset["registration"]["ref"] == "2020SR123456"
        assert api_ledger.client.w3.eth.get_balance(user.address) == 0
        bank = accounts[4]
        api_ledger.assets.grant_role("pledgee", bank.address)
        proposed = api.propose_pledge(user, asset_id, bank.address, 1_000_000, "CNY", "2030-06-30")
        pledge_id = proposed["result"]["pledgeId"]
        api.accept_pledge(bank, pledge_id, api.check(asset_id)["encumbrance_version"])
        assert api.pledge(pledge_id)["status"] == "active"
        assert [f["code"] for f in api.check(asset_id)["red_flags"]] == ["pledged", "unverified"]
        with pytest.raises(ConflictError, match="already registered"):
            api.register(user, os.urandom(32), "design", "2020SR123456", {"title": "copy"})
        with pytest.raises(PermissionDeniedError, match="registrar"):
            api.call(user, "IPRegistry", "setVerified(uint256,bool)", asset_id, True)
    finally:
        api.close()


def test_client_call_data_matches_the_contracts_abi(contract, accounts):
    """The client encodes calls from signatures alone; they must be what the ABI encodes."""
    from ledger.chain.abi import encode_call

    terms = LicenseTerms(accounts[3].address, "sole", 1, 2, "CN", "H04L", "0x" + "07" * 32, 5, True)
    licenses = contract("LicenseRegistry")
    assert "0x" + encode_call(
        "offer(uint256,(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool))", 7, terms.encode()
    ).hex() == licenses.encode_abi("offer", [7, terms.encode()])
    registry = contract("IPRegistry")
    args = [b"\x01" * 32, 3, b"\x02" * 32, b"\x03" * 32, "/metadata/x"]
    assert "0x" + encode_call("register(bytes32,uint8,bytes32,bytes32,string)", *args).hex() == registry.encode_abi(
        "register", args)


def test_relayed_license_offer_and_accept_return_the_license_id(live_api, api_ledger, user):
    """Events with struct arguments (LicenseOffered.terms) decode to JSON through the relay."""
    from eth_account import Account

    api = ApiClient(live_api)
    try:
        registered = api.register(user, os.urandom(32), "invention-patent", None, {"title": "licensed"})
        asset_id = registered["result"]["assetId"]
        licensee = Account.create()
        start = api_ledger.client.block_time("latest")
        terms = LicenseTerms(licensee.address, "non-exclusive", start, start + 86_400 * 365, "CN", "", None, 0, False)
        offered = api.offer_license(user, asset_id, terms)
        license_id = offered["result"]["licenseId"]
        [event] = [e for e in offered["events"] if e["name"] == "LicenseOffered"]
        assert event["args"]["terms"]["licensee"] == licensee.address
        api.accept_license(licensee, license_id)
        assert api_ledger.licenses.license_of(license_id).status.name.lower() == "active"
    finally:
        api.close()


@pytest.mark.parametrize(("spelling", "code"), [("CHN", "CN"), ("156", "CN"), ("cn", "CN"), ("China", "CN"),
                                                ("WW", ""), ("", ""), ("us-ca", "US-CA")])
def test_license_codes_map_every_spelling_of_a_country_to_its_canonical_code(client, spelling, code):
    response = client.get("/licenses/codes", params={"territory": spelling, "field_of_use": "h04l 9/00"})
    assert response.status_code == 200
    assert response.json() == {"territory": code, "field_of_use": "H04L9/00"}


@pytest.mark.parametrize(("params", "says"), [({"territory": "Narnia"}, "is not a country"),
                                              ({"territory": "CN-99"}, "not an ISO 3166-2 subdivision"),
                                              ({"field_of_use": "H04L9/32"}, "is an IPC subgroup"),
                                              ({"field_of_use": "medicine"}, "is not an IPC code")])
def test_license_codes_unknown_is_422_with_the_reason(client, params, says):
    body = problem(client.get("/licenses/codes", params=params), 422)
    assert says in body["detail"]


def test_unbound_ref_shows_the_squatter_disputed_in_asset_and_check(client, api_ledger, accounts):
    squatter, owner = accounts[7], accounts[1]
    squatted = register(api_ledger, squatter, "CN2020555555")
    assert client.get(f"/assets/{squatted}").json()["holder_disputed"] is False
    api_ledger.assets.unbind_ref("CN2020555555", "0x" + "5a" * 32)
    report = client.get(f"/assets/{squatted}/check").json()
    assert [f["code"] for f in report["red_flags"]] == ["holder_disputed", "unverified"]
    assert report["flags"]["holderDisputed"] is True
    assert client.get(f"/assets/{squatted}").json()["holder_disputed"] is True
    real = register(api_ledger, owner, "CN2020555555")
    assert client.get(f"/assets/{real}").json()["registration"]["ref"] == "CN2020555555"


def test_check_shows_pending_offers_and_the_encumbrance_version(client, api_ledger, accounts):
    owner, licensee = accounts[1], accounts[3]
    asset_id = register(api_ledger, owner, "CN2020666666")
    now = api_ledger.client.block_time("latest")
    before = client.get(f"/assets/{asset_id}/check").json()["encumbrance_version"]
    offer = api_ledger.licenses.offer(asset_id, LicenseTerms(licensee.address, "exclusive", now, now + YEAR, "China"),
                                      sender=owner).ids["licenseId"]
    report = client.get(f"/assets/{asset_id}/check").json()
    assert [(o["license_id"], o["territory"], o["status"]) for o in report["offers"]] == [(offer, "CN", "offered")]
    assert report["encumbrance_version"] == before + 1
    assert "exclusively_offered" in [f["code"] for f in report["red_flags"]]
