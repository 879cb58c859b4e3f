"""API routes against the real chain: signed requests relayed once, every refusal a 4xx problem."""

from __future__ import annotations

import concurrent.futures
import os
import time

from eth_account import Account
from eth_utils import keccak

from ledger.client.api import ApiClient
from ledger.relay.service import sign_request


def stamp_data(contract, leaf: bytes) -> str:
    return contract("TimestampRegistry").functions.stamp(leaf)._encode_transaction_data()


def signed(client, user, to: str, data: str, **overrides):
    info = client.get("/chain").json()
    nonce = client.get(f"/relay/nonce/{user.address}").json()["nonce"]
    args = {"chain_id": info["chain_id"], "forwarder": info["forwarder_domain"]["verifyingContract"],
            "to": to, "data": data, "nonce": nonce, "gas": 200_000}
    args.update(overrides)
    return sign_request(user, **args).as_json()


def assert_problem(response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    if error is not None:
        assert body["error"] == error
    assert "Traceback" not in response.text
    return body


def test_chain_info_names_contracts_and_forwarder_domain(client, deployment, chain):
    body = client.get("/chain").json()
    assert body["contracts"]["TimestampRegistry"] == deployment.address("TimestampRegistry")
    assert body["forwarder_domain"]["verifyingContract"] == deployment.address("IpledgerForwarder")
    assert body["forwarder_domain"]["name"] == "ipledger"
    assert abs(body["head_time"] - chain.block_time("latest")) < 120  # the chain's clock, to sign deadlines from


def test_relay_signed_stamp_lands_as_the_user_without_gas(client, contract, chain, user):
    leaf = os.urandom(32)
    registry = contract("TimestampRegistry")
    response = client.post("/relay", json=signed(client, user, registry.address, stamp_data(contract, leaf)))
    assert response.status_code == 200, response.text
    body = response.json()
    root = keccak(leaf)  # a single stamp is recorded under its one-leaf root
    assert body["result"]["root"] == "0x" + root.hex()
    assert chain.receipt(body["tx_hash"]).status == 1
    assert chain.call(registry.functions.recordOf(root))[0] == user.address  # _msgSender() is the user
    assert chain.w3.eth.get_balance(user.address) == 0
    assert client.get(f"/timestamps/0x{root.hex()}").json()["stamper"] == user.address


def test_relay_signed_by_other_key_is_403_and_sends_nothing(client, contract, chain, user):
    leaf = os.urandom(32)
    registry = contract("TimestampRegistry")
    request = signed(client, Account.create(), registry.address, stamp_data(contract, leaf))
    request["from"] = user.address
    block = chain.w3.eth.block_number
    assert_problem(client.post("/relay", json=request), 403)
    assert chain.w3.eth.block_number == block


def test_relay_replayed_request_is_409_naming_first_tx(client, contract, chain, user):
    request = signed(client, user, contract("TimestampRegistry").address, stamp_data(contract, os.urandom(32)))
    first = client.post("/relay", json=request)
    assert first.status_code == 200
    block = chain.w3.eth.block_number
    body = assert_problem(client.post("/relay", json=request), 409)
    assert body["tx_hash"] == first.json()["tx_hash"]
    assert chain.w3.eth.block_number == block


def test_relay_expired_request_is_400(client, contract, user, chain):
    past = chain.block_time("latest") - 1
    request = signed(client, user, contract("TimestampRegistry").address, stamp_data(contract, os.urandom(32)),
                     deadline=past)
    assert "expired" in assert_problem(client.post("/relay", json=request), 400)["detail"]


def test_relay_to_foreign_contract_is_403(client, user):
    request = signed(client, user, "0x000000000000000000000000000000000000dEaD", "0x12345678")
    assert "not a contract of this ledger" in assert_problem(client.post("/relay", json=request), 403)["detail"]


def test_relay_call_the_contract_refuses_is_4xx_with_error_name(client, contract, user, chain):
    registry = contract("TimestampRegistry").address
    assert_problem(client.post("/relay", json=signed(client, user, registry, stamp_data(contract, b"\0" * 32))),
                   400, "TimestampRegistryZeroKey")
    leaf = os.urandom(32)
    chain.transact(contract("TimestampRegistry").functions.stamp(leaf))
    body = assert_problem(client.post("/relay", json=signed(client, user, registry, stamp_data(contract, leaf))),
                          409, "TimestampRegistryAlreadyStamped")
    assert body["arguments"]["key"] == "0x" + keccak(leaf).hex()


def test_relay_malformed_body_is_422_problem(client):
    assert_problem(client.post("/relay", json={"from": "nope"}), 422)
    assert_problem(client.post("/relay", content=b"{", headers={"content-type": "application/json"}), 422)


def test_body_over_limit_is_413(client):
    assert_problem(client.post("/timestamps/verify-batch", content=b"[" + b" " * 2_000_000 + b"]",
                               headers={"content-type": "application/json"}), 413)


def test_rate_limit_per_sender_is_429(client, contract, user):
    client.app.state.rate_limiter.rate = 1
    client.app.state.rate_limiter.burst = 2
    request = signed(client, user, contract("TimestampRegistry").address, "0x")
    statuses = [client.post("/relay", json=request).status_code for _ in range(4)]
    assert statuses[-1] == 429


def test_verify_certificate_by_digest(client, chain, contract, tmp_path, api_ledger):
    report = tmp_path / "r.txt"
    report.write_text("for the API")
    [cert] = api_ledger.timestamps.stamp_files([report]).certificates
    import hashlib

    digest = "0x" + hashlib.sha256(report.read_bytes()).hexdigest()
    ok = client.post("/timestamps/verify", json={"digest": digest, "certificate": cert.model_dump()}).json()
    assert ok["valid"] and ok["author"] == cert.author and ok["tx_hash"] == cert.tx_hash
    bad = client.post("/timestamps/verify", json={"digest": "0x" + "00" * 32, "certificate": cert.model_dump()})
    assert bad.status_code == 200 and bad.json()["valid"] is False and "modified" in bad.json()["reason"]
    malformed = client.post("/timestamps/verify", json={"digest": digest, "certificate": {"version": 1}}).json()
    assert malformed["valid"] is False and "malformed certificate" in malformed["reason"]


def test_unknown_stamp_is_404(client):
    assert_problem(client.get("/timestamps/0x" + "ab" * 32), 404)


def test_verify_page_is_served_beside_the_api_and_hashes_with_the_served_module(client):
    page = client.get("http://testserver/verify")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '/static/js/verify.js' in page.text
    assert "sha256File" in client.get("http://testserver/static/js/verify.js").text


def test_100_concurrent_signed_requests_land_exactly_once(live_api, contract, chain):
    api = ApiClient(live_api)
    registry = contract("TimestampRegistry")
    users = [Account.create() for _ in range(100)]
    leaves = [os.urandom(32) for _ in users]

    def send(i: int) -> dict:
        return api.relay(users[i], registry.address, stamp_data(contract, leaves[i]), nonce=0, gas=200_000)

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(send, range(100)))
    elapsed = time.monotonic() - start
    assert [r["result"]["root"] for r in results] == ["0x" + keccak(leaf).hex() for leaf in leaves]
    for user, leaf in zip(users, leaves, strict=True):
        assert chain.call(registry.functions.recordOf(keccak(leaf)))[0] == user.address
    # exactly once: the transactions that carried them hold exactly 100 stamps, and each user's nonce is 1
    stamped = [e for tx in {r["tx_hash"] for r in results}
               for e in chain.events(registry, chain.receipt(tx)) if e.name == "Stamped"]
    assert len(stamped) == 100, f"{len(stamped)} stamps in {elapsed:.1f}s"
    forwarder = contract("IpledgerForwarder")
    assert all(chain.call(forwarder.functions.nonces(u.address)) == 1 for u in users)
    api.close()
