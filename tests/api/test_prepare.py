"""A wallet that is not ours builds, signs and relays requests from what the API serves.

``GET /chain/contracts`` serves the ABIs, addresses and enum tables; ``POST /relay/prepare``
turns an act with human arguments into EIP-712 typed data; ethers.js v6 (npm, pinned in
package.json) signs it in Node and posts it to ``POST /relay`` with nothing of ours.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_utils import keccak

from ledger.encoding import AssetKind, encode_ref
from ledger.registry.metadata import build_document
from ledger.relay.prepare import ENUMS, signature_of, solidity_member

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("js") / "sign_and_relay.mjs"

CONTENT = "0x" + "c1" * 32
METADATA = "0x" + "d2" * 32
REGISTER = {
    "contract": "IPRegistry", "function": "register",
    "args": {"contentHash": CONTENT, "kind": "software-copyright", "ref": "cn2024sr0012345",
             "metadataHash": METADATA, "uri": "https://example.org/meta.json"},
}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def ethers_wallet(api: str, key: str, body: dict, mode: str = "honest") -> dict:
    """Run the Node script: only ethers v6 and fetch."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the ethers.js wallet test (it also runs the solc shim)"
    assert (ROOT / "node_modules" / "ethers" / "package.json").is_file(), (
        f"ethers is not installed in {ROOT / 'node_modules'}: run `npm ci` (it is pinned in package.json)")
    done = subprocess.run([node, str(SCRIPT), api, key, json.dumps(body), mode], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- what a wallet reads --------------------------------------------------------------------------


def test_contracts_when_read_list_every_deployed_contract_with_address_and_abi(client, deployment, artifacts):
    body = client.get("/chain/contracts").json()
    by_name = {c["name"]: c for c in body["contracts"]}
    assert set(by_name) == set(deployment.contracts)
    for name, c in by_name.items():
        assert c["address"] == deployment.address(name) and c["abi"] == artifacts[name].abi
    assert "register(bytes32,uint8,bytes32,bytes32,string)" in {
        signature_of(f) for f in by_name["IPRegistry"]["abi"] if f["type"] == "function"}
    assert by_name["IPRegistry"]["relayable"] and not by_name["IPLens"]["relayable"]
    assert not by_name["IpledgerForwarder"]["relayable"]
    forwarder = body["forwarder"]
    assert forwarder["address"] == deployment.address("IpledgerForwarder") == forwarder["domain"]["verifyingContract"]
    assert forwarder["primaryType"] == "ForwardRequest"
    assert [f["name"] for f in forwarder["types"]["ForwardRequest"]] == [
        "from", "to", "value", "gas", "nonce", "deadline", "data"]


def test_contracts_when_read_carry_every_enum_as_number_code_name_and_label(client):
    enums = client.get("/chain/contracts").json()["enums"]
    assert set(enums) == {"AssetKind", "LegalStatus", "LicenseKind", "LicenseStatus", "PledgeStatus",
                          "ListingStatus", "OfferStatus", "DemandStatus", "AnswerStatus", "DisputeKind",
                          "DisputeOutcome"}
    assert enums["AssetKind"]["solidity"] == "IIPRegistry.AssetKind"
    assert enums["AssetKind"]["members"][0] == {"value": 0, "name": "InventionPatent", "label": "invention-patent"}
    assert enums["LicenseKind"]["members"][2] == {"value": 2, "name": "NonExclusive", "label": "non-exclusive"}
    assert [m["label"] for m in enums["PledgeStatus"]["members"]] == [
        "none", "proposed", "active", "released", "enforced", "cancelled"]


def test_enum_tables_when_compared_to_the_solidity_sources_match_member_by_member():
    declared: dict[str, list[str]] = {}
    for source in (ROOT / "contracts" / "interfaces").glob("*.sol"):
        for name, body in re.findall(r"enum\s+(\w+)\s*\{([^}]*)\}", source.read_text()):
            declared[name] = [m.strip() for m in re.sub(r"//[^\n]*", "", body).split(",") if m.strip()]
    for cls in ENUMS:
        assert [solidity_member(m.name) for m in cls] == declared[cls.__name__], cls.__name__
        assert [int(m) for m in cls] == list(range(len(declared[cls.__name__])))


def test_openapi_relay_example_when_decoded_calls_a_real_function_of_the_suite(client, artifacts):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ForwardRequestCreate"]
    example = schema["examples"][0]
    data = bytes.fromhex(example["data"][2:])
    functions = {bytes(keccak(text=signature_of(f))[:4]): f for a in artifacts.values() for f in a.abi
                 if f["type"] == "function" and f["stateMutability"] not in ("view", "pure")}
    assert data[:4] in functions, f"selector 0x{data[:4].hex()} is no act of the suite"
    fn = functions[data[:4]]
    abi_decode([i["type"] for i in fn["inputs"]], data[4:])  # the arguments decode with that function's ABI


# -- preparing ---------------------------------------------------------------------------------------


def test_prepare_register_with_human_arguments_encodes_the_calldata_nonce_gas_and_deadline(
        client, deployment, api_ledger):
    user = Account.create()
    response = client.post("/relay/prepare", json={"from": user.address, **REGISTER})
    assert response.status_code == 200, response.text
    body = response.json()
    message = body["message"]
    assert body["primaryType"] == "ForwardRequest" and body["function"] == (
        "register(bytes32,uint8,bytes32,bytes32,string)")
    assert body["domain"] == {"name": "ipledger", "version": "1", "chainId": api_ledger.client.chain_id,
                              "verifyingContract": deployment.address("IpledgerForwarder")}
    assert (message["from"], message["to"], message["value"], message["nonce"]) == (
        user.address, deployment.address("IPRegistry"), 0, 0)
    assert message["gas"] > body["gas_estimate"] > 50_000
    assert message["deadline"] >= api_ledger.client.block_time("latest") + 600 - 5
    data = bytes.fromhex(message["data"][2:])
    assert data[:4] == keccak(text=body["function"])[:4]
    decoded = abi_decode(["bytes32", "uint8", "bytes32", "bytes32", "string"], data[4:])
    assert decoded == (bytes.fromhex(CONTENT[2:]), int(AssetKind.SOFTWARE_COPYRIGHT), encode_ref("CN2024SR0012345"),
                       bytes.fromhex(METADATA[2:]), "https://example.org/meta.json")
    assert body["arguments"]["kind"] == {"value": 3, "label": "software-copyright"}
    assert body["typed_data"]["types"]["EIP712Domain"][0] == {"name": "name", "type": "string"}


def test_prepare_then_sign_typed_data_v4_document_relays_with_plain_eth_account(client, contract):
    """The ``typed_data`` document, as eth_signTypedData_v4 takes it, signs to a request /relay accepts."""
    user = Account.create()
    body = client.post("/relay/prepare", json={"from": user.address, **REGISTER}).json()
    signed = Account.sign_typed_data(user.key, full_message=body["typed_data"])
    relayed = client.post("/relay", json={**body["message"], "signature": "0x" + signed.signature.hex()})
    assert relayed.status_code == 200, relayed.text
    assert contract("IPRegistry").functions.ownerOf(relayed.json()["result"]["assetId"]).call() == user.address


def test_prepare_positional_arguments_with_dates_and_currency_encode_the_pledge_terms(client, api_ledger, accounts):
    owner, bank = accounts[1], accounts[5]
    api_ledger.assets.grant_role("pledgee", bank.address)
    asset_id = api_ledger.assets.register(os.urandom(32), "invention-patent", None, {"title": "t"},
                                          sender=owner).asset_id
    response = client.post("/relay/prepare", json={
        "from": owner.address, "contract": "PledgeRegistry", "function": "propose",
        "args": [asset_id, bank.address, "5_000_000", "cny", "2027-06-30", None]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["arguments"] == {"assetId": asset_id, "pledgee": bank.address, "principal": 5_000_000,
                                 "currency": "0x434e59", "maturity": 1814313600, "contractHash": "0x" + "00" * 32}
    data = bytes.fromhex(body["message"]["data"][2:])
    assert data[:4] == keccak(text="propose(uint256,address,uint256,bytes3,uint40,bytes32)")[:4]


def test_prepare_when_the_asset_does_not_exist_answers_the_contracts_404_before_signing(client, accounts):
    response = client.post("/relay/prepare", json={
        "from": accounts[1].address, "contract": "PledgeRegistry", "function": "propose",
        "args": [404, accounts[5].address, 1, "CNY", "2027-06-30", None]})
    assert problem(response, 404)["error"] == "ERC721NonexistentToken"


@pytest.mark.parametrize(("change", "reason"), [
    ({"contract": "IPLedger"}, "unknown contract 'IPLedger': use one of"),
    ({"contract": "IPLens"}, "IPLens does not take signed requests"),
    ({"function": "registr"}, "IPRegistry has no function 'registr': its acts are"),
    ({"function": "ownerOf"}, "IPRegistry.ownerOf is a read (view)"),
    ({"function": "safeTransferFrom"}, "is overloaded: name one of safeTransferFrom(address,address,uint256)"),
    ({"args": {**REGISTER["args"], "title": "x"}}, "has no argument 'title'"),
    ({"args": {k: v for k, v in REGISTER["args"].items() if k != "uri"}}, "needs the argument 'uri'"),
    ({"args": [CONTENT, "invention-patent"]}, "takes 5 arguments"),
    ({"args": {**REGISTER["args"], "kind": "patent"}}, "argument kind: unknown asset kind 'patent'"),
    ({"args": {**REGISTER["args"], "contentHash": "0x1234"}}, "argument contentHash: the hash '0x1234' is not"),
    ({"args": {**REGISTER["args"], "uri": 7}}, "argument uri: must be a string"),
    ({"contract": "PledgeRegistry", "function": "propose",
      "args": [1, "0x15D34AAF54267db7d7c367839aaf71a00a2c6a65", 1, "CNY", "2027-06-30", None]},
     "argument pledgee: the address '0x15D34AAF54267db7d7c367839aaf71a00a2c6a65' has a wrong EIP-55 checksum"),
    ({"contract": "PledgeRegistry", "function": "propose",
      "args": [1, "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", 1, "CNY", "next summer", None]},
     "argument maturity: the date 'next summer' is not a date"),
    ({"contract": "PledgeRegistry", "function": "propose",
      "args": [1, "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", 1.5, "CNY", "2027-06-30", None]},
     "argument principal: must be a whole number"),
])
def test_prepare_when_input_is_bad_answers_400_problem_with_the_reason(client, change, reason):
    body = problem(client.post("/relay/prepare", json={"from": Account.create().address, **REGISTER, **change}), 400)
    assert reason in body["detail"]


def test_prepare_every_act_when_arguments_have_the_wrong_shape_answers_4xx_never_500(client):
    catalogue = client.get("/chain/contracts").json()["contracts"]
    sender = Account.create().address
    acts = [(c["name"], f) for c in catalogue if c["relayable"] for f in c["abi"]
            if f["type"] == "function" and f["stateMutability"] not in ("view", "pure") and f["inputs"]]
    assert len(acts) > 40
    for name, fn in acts:
        for junk in ({}, [1.5], None, True, "x" * 70, 2**300):
            response = client.post("/relay/prepare", json={
                "from": sender, "contract": name, "function": signature_of(fn), "args": [junk] * len(fn["inputs"])})
            # a string is a valid uri or name (then the contract itself answers: 403 not the admin ...)
            expected = {400} if not isinstance(junk, str) else {400, 403, 404, 409}
            assert response.status_code in expected, (name, signature_of(fn), junk, response.text)
            assert response.headers["content-type"] == "application/problem+json"


def test_prepare_when_sender_checksum_is_wrong_answers_400(client):
    address = Account.create().address
    wrong = address[:2] + "".join(c.swapcase() if c.isalpha() else c for c in address[2:])
    body = problem(client.post("/relay/prepare", json={"from": wrong, **REGISTER}), 400)
    assert "has a wrong EIP-55 checksum" in body["detail"]
    assert client.post("/relay/prepare", json={"from": address.lower(), **REGISTER}).status_code == 200


def test_prepare_when_act_would_be_refused_answers_the_contracts_error_before_signing(client, api_ledger):
    owner = Account.create()
    api_ledger.assets.register(bytes.fromhex(CONTENT[2:]), "invention-patent", None,
                               {"title": "first"}, sender=api_ledger.client.signer())
    body = problem(client.post("/relay/prepare", json={"from": owner.address, **REGISTER}), 409)
    assert body["error"] == "IPRegistryContentAlreadyRegistered"


# -- signing with ethers.js v6 -----------------------------------------------------------------------


def test_ethers_wallet_when_it_prepares_signs_and_relays_registers_the_asset_to_itself(live_api, contract):
    key = "0x" + os.urandom(32).hex()
    out = ethers_wallet(live_api, key, REGISTER)
    assert out["prepared"]["status"] == 200, out["prepared"]
    assert out["relayed"]["status"] == 200, out["relayed"]
    asset_id = out["relayed"]["body"]["result"]["assetId"]
    registry = contract("IPRegistry")
    assert registry.functions.ownerOf(asset_id).call() == out["address"] == Account.from_key(key).address
    assert registry.functions.assetOf(asset_id).call()[1] == int(AssetKind.SOFTWARE_COPYRIGHT)


def test_ethers_wallet_when_signed_message_is_modified_is_refused_and_nothing_happens(live_api, contract):
    key = "0x" + os.urandom(32).hex()
    registry = contract("IPRegistry")
    supply = registry.functions.assetCount().call()
    out = ethers_wallet(live_api, key, REGISTER, mode="tamper")
    assert out["prepared"]["status"] == 200
    assert out["relayed"]["status"] == 403, out["relayed"]
    assert "signed by" in out["relayed"]["body"]["detail"]
    assert registry.functions.assetCount().call() == supply
    assert contract("IpledgerForwarder").functions.nonces(out["address"]).call() == 0


def _client_with_relay_cap(chain, deployment, artifacts, tmp_path, cap: int = 2_000_000, **settings_kw):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from ledger.context import Ledger
    from ledger.settings import Settings

    settings = Settings(**{"data_dir": tmp_path, "api_rate_per_second": 1000, "relay_max_request_gas": cap,
                           **settings_kw})
    return TestClient(create_app(ledger=Ledger(settings, chain, deployment, artifacts, embedded=False)),
                      base_url="http://testserver/api/v1")


def test_prepare_act_needing_more_gas_than_the_relay_cap_is_400_naming_the_cap(chain, deployment, artifacts,
                                                                               tmp_path):
    with _client_with_relay_cap(chain, deployment, artifacts, tmp_path, 60_000) as capped:
        body = problem(capped.post("/relay/prepare", json={"from": Account.create().address, **REGISTER}), 400)
    assert body["max_gas"] == 60_000 and body["gas"] > 60_000 and "cap" in body["detail"]


def test_prepare_margin_never_lifts_the_gas_over_the_relay_cap(client, chain, deployment, artifacts, tmp_path):
    estimate = client.post("/relay/prepare", json={"from": Account.create().address, **REGISTER}).json()[
        "gas_estimate"]
    cap = estimate + 1_000  # the request fits, its usual margin (25% + 10,000) would not
    with _client_with_relay_cap(chain, deployment, artifacts, tmp_path, cap) as capped:
        response = capped.post("/relay/prepare", json={"from": Account.create().address, **REGISTER})
    assert response.status_code == 200, response.text
    assert response.json()["message"]["gas"] == cap


def test_prepare_many_from_one_client_address_is_429_like_relay(chain, deployment, artifacts, tmp_path):
    with _client_with_relay_cap(chain, deployment, artifacts, tmp_path, api_client_rate_per_second=0.5) as limited:
        statuses = [limited.post("/relay/prepare", json={"from": Account.create().address, **REGISTER}).status_code
                    for _ in range(8)]
    assert statuses[0] == 200 and statuses.count(429) >= 4, statuses  # a burst of 1, then one per 2 s


@pytest.mark.parametrize(("territory", "field_of_use"),
                         [("China", "h04l 9/00"), ("CHN", "H04L9/00"), ("156", "h04l9/0")])
def test_prepare_license_offer_maps_any_spelling_to_the_canonical_codes(client, api_ledger, accounts,
                                                                        territory, field_of_use):
    owner = accounts[1]
    asset_id = api_ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("T"),
                                          sender=owner).asset_id
    now = api_ledger.client.block_time("latest")
    terms = {"licensee": accounts[3].address, "kind": "exclusive", "start": now, "end": now + 86_400 * 365,
             "territory": territory, "fieldOfUse": field_of_use, "termsHash": "0x" + "07" * 32, "fee": 5,
             "sublicensable": False}
    response = client.post("/relay/prepare", json={
        "from": owner.address, "contract": "LicenseRegistry", "function": "offer",
        "args": {"assetId": asset_id, "terms": terms}})
    assert response.status_code == 200, response.text
    data = bytes.fromhex(response.json()["message"]["data"][2:])
    (_, encoded) = abi_decode(["uint256", "(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool)"],
                              data[4:])
    assert (encoded[4], encoded[5]) == (b"CN".ljust(32, b"\0"), b"H04L9/00".ljust(32, b"\0"))


def test_prepare_license_offer_with_unknown_territory_answers_400_naming_it(client, accounts):
    terms = {"licensee": accounts[3].address, "kind": "exclusive", "start": 1, "end": 2, "territory": "Narnia",
             "fieldOfUse": "", "termsHash": "0x" + "07" * 32, "fee": 5, "sublicensable": False}
    body = problem(client.post("/relay/prepare", json={
        "from": accounts[1].address, "contract": "LicenseRegistry", "function": "offer",
        "args": {"assetId": 1, "terms": terms}}), 400)
    assert "the territory 'Narnia' is not a country" in body["detail"]
