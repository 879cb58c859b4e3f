"""POST /relay checks what the forwarder will check before the relayer pays (issue 11, items 11 and 14)."""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak
from hexbytes import HexBytes

from tests.api.test_relay_and_timestamps import assert_problem, signed, stamp_data

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@contextmanager
def mining_paused(chain) -> Iterator[None]:
    """Anvil keeps transactions in its pool until ``evm_mine``; automine again on the way out."""
    chain.rpc("evm_setAutomine", [False])
    try:
        yield
    finally:
        chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_mine")


def wait_for_pool(chain, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while int(chain.rpc("txpool_status")["pending"], 16) < count:
        assert time.monotonic() < deadline, f"fewer than {count} transactions reached the pool"
        time.sleep(0.02)


def test_relay_to_a_contract_that_does_not_trust_the_forwarder_is_403_and_sends_nothing(client, contract, chain,
                                                                                       user):
    lens = contract("IPLens")
    data = lens.functions.registry()._encode_transaction_data()  # a call that would not revert
    block = chain.w3.eth.block_number
    body = assert_problem(client.post("/relay", json=signed(client, user, lens.address, data)), 403,
                          "ERC2771UntrustfulTarget")
    assert body["arguments"] == {"target": lens.address, "forwarder": contract("IpledgerForwarder").address}
    assert "does not trust the forwarder" in body["detail"]
    assert chain.w3.eth.block_number == block


def test_relay_high_s_twin_of_a_valid_signature_is_400_and_sends_nothing(client, contract, chain, user):
    request = signed(client, user, contract("TimestampRegistry").address, stamp_data(contract, os.urandom(32)))
    raw = HexBytes(request["signature"])
    s, v = int.from_bytes(raw[32:64], "big"), raw[64]
    twin = raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # eth_account recovers the user
    block = chain.w3.eth.block_number
    body = assert_problem(client.post("/relay", json={**request, "signature": "0x" + twin.hex()}), 400,
                          "ECDSAInvalidSignatureS")
    assert "high-s" in body["detail"] and "n - s" in body["detail"]
    assert chain.w3.eth.block_number == block
    assert client.post("/relay", json=request).status_code == 200  # the low-s original still goes through


def test_relay_signature_with_v_0_or_1_is_400_naming_the_fix_and_sends_nothing(client, contract, chain, user):
    request = signed(client, user, contract("TimestampRegistry").address, stamp_data(contract, os.urandom(32)))
    raw = HexBytes(request["signature"])
    block = chain.w3.eth.block_number
    recovery_id = "0x" + (raw[:64] + bytes([raw[64] - 27])).hex()  # what some wallets return
    body = assert_problem(client.post("/relay", json={**request, "signature": recovery_id}), 400,
                          "ECDSAInvalidSignature")
    assert body["arguments"] == {"v": raw[64] - 27} and "add 27" in body["detail"]
    assert chain.w3.eth.block_number == block


def test_relay_deadline_inside_the_safety_margin_is_400_and_sends_nothing(client, contract, chain, user):
    now = max(int(time.time()), chain.block_time("latest"))
    soon = now + 10  # not expired yet, but could be by its block (the margin is 30s by default)
    request = signed(client, user, contract("TimestampRegistry").address, stamp_data(contract, os.urandom(32)),
                     deadline=soon)
    block = chain.w3.eth.block_number
    body = assert_problem(client.post("/relay", json=request), 400, "ERC2771ForwarderExpiredRequest")
    assert body["arguments"] == {"deadline": soon} and "expire" in body["detail"]
    assert chain.w3.eth.block_number == block


@pytest.mark.anvil_only  # pauses mining (evm_setAutomine) and reads the pool (txpool_status), as only Anvil serves both
def test_relay_request_that_failed_on_chain_replayed_is_409_and_never_paid_again(client, live_api, contract, chain,
                                                                                 accounts, user):
    token = contract("SettlementToken")
    chain.transact(token.functions.faucet(user.address, 100))
    chain.rpc("anvil_setBalance", [user.address, hex(10**18)])  # so the user can spend the tokens directly
    bank = Account.create().address
    request = signed(client, user, token.address, token.functions.transfer(bank, 100)._encode_transaction_data())
    with mining_paused(chain), concurrent.futures.ThreadPoolExecutor(1) as pool:
        relayed = pool.submit(httpx.post, f"{live_api}/api/v1/relay", json=request, timeout=60)
        wait_for_pool(chain, 1)  # checked (the user holds 100) and sent
        # ... and then the user spends the tokens first, with a higher tip: the relayed call will revert
        spend = token.functions.transfer(accounts[3].address, 100).build_transaction({
            "from": user.address, "nonce": 0, "gas": 100_000, "chainId": chain.chain_id,
            "maxFeePerGas": 200 * 10**9, "maxPriorityFeePerGas": 100 * 10**9})
        chain.w3.eth.send_raw_transaction(user.sign_transaction(spend).raw_transaction)
        wait_for_pool(chain, 2)
        chain.rpc("evm_mine")
        failed = relayed.result()
    body = assert_problem(failed, 409)
    assert chain.receipt(body["tx_hash"]).status == 0  # the relayer paid for it once
    chain.transact(token.functions.faucet(user.address, 100))  # the call would succeed again now
    block = chain.w3.eth.block_number

    replay = assert_problem(client.post("/relay", json=request), 409)

    assert replay["tx_hash"] == body["tx_hash"] and "already relayed" in replay["detail"]
    assert chain.w3.eth.block_number == block  # not paid a second time
    assert chain.call(token.functions.balanceOf(bank)) == 0


def test_relay_gas_too_low_for_the_call_is_400_with_the_estimate_which_then_succeeds(client, contract, chain, user):
    registry = contract("TimestampRegistry")
    leaf = os.urandom(32)
    block = chain.w3.eth.block_number
    body = assert_problem(client.post("/relay", json=signed(client, user, registry.address,
                                                            stamp_data(contract, leaf), gas=21_000)), 400)
    assert "insufficient" in body["detail"] and "error" not in body
    assert body["gas"] == 21_000 and body["estimated_gas"] > 21_000
    assert str(body["estimated_gas"]) in body["detail"]
    assert chain.w3.eth.block_number == block
    # the estimate is enough: the same call signed with exactly that gas goes through
    response = client.post("/relay", json=signed(client, user, registry.address, stamp_data(contract, leaf),
                                                 gas=body["estimated_gas"]))
    assert response.status_code == 200, response.text
    # a single stamp is recorded under its one-leaf StandardMerkleTree root, keccak256(leaf)
    assert chain.call(registry.functions.recordOf(keccak(leaf)))[0] == user.address


def test_relay_calldata_the_target_cannot_take_is_400_not_502(client, contract, chain, user):
    registry = contract("TimestampRegistry").address
    body = assert_problem(client.post("/relay", json=signed(client, user, registry, "0xdeadbeef")), 400)
    assert "reverts without a reason" in body["detail"] and "estimated_gas" not in body


def test_openapi_relay_documents_each_refusal_with_a_real_example(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/relay"]["post"]
    examples = {status: set(operation["responses"][status]["content"]["application/problem+json"]["examples"])
                for status in ("400", "403", "409", "429")}
    assert examples == {"400": {"insufficient_gas", "gas_over_cap", "high_s", "expired"},
                        "403": {"untrusted", "signer"}, "409": {"replayed", "nonce_in_flight", "stale_nonce"},
                        "429": {"client"}}
    request = spec["components"]["schemas"]["ForwardRequestCreate"]["examples"][0]
    assert request["data"][:10] == "0x" + HexBytes(keccak(text="stamp(bytes32)")[:4]).hex()  # a real function
    assert request["to"] == client.get("/chain").json()["contracts"]["TimestampRegistry"]


def test_relay_nonce_ahead_of_the_senders_is_409_with_the_next_one_and_sends_nothing(client, contract, chain):
    """The pre-check asks the forwarder's verify(); only a refused request has its sender's nonce read, to say
    why. A nonce from the future is refused like a replayed one, naming the nonce to use."""
    user = Account.create()
    registry = contract("TimestampRegistry").address
    block = chain.w3.eth.block_number
    ahead = signed(client, user, registry, stamp_data(contract, os.urandom(32)), nonce=5)
    body = assert_problem(client.post("/relay", json=ahead), 409)
    assert body["nonce"] == 5 and body["expected_nonce"] == 0
    assert "nonce 5" in body["detail"] and "(0)" in body["detail"]
    assert chain.w3.eth.block_number == block
    # the same user's request with the right nonce then goes through
    response = client.post("/relay", json=signed(client, user, registry, stamp_data(contract, os.urandom(32))))
    assert response.status_code == 200, response.text


def test_relay_batch_with_stale_and_good_requests_refuses_only_the_stale_ones(live_api, contract, chain):
    """In one admitted batch, requests verify() refuses get their own 409 (their nonces read in one more round
    trip), and the others are sent together."""
    registry = contract("TimestampRegistry").address
    with httpx.Client(base_url=f"{live_api}/api/v1", timeout=30) as api:
        users = [Account.create() for _ in range(6)]
        bodies = [signed(api, user, registry, stamp_data(contract, os.urandom(32)), nonce=3 if n % 2 else 0)
                  for n, user in enumerate(users)]
        with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
            responses = list(pool.map(lambda body: api.post("/relay", json=body), bodies))
    for n, response in enumerate(responses):
        if n % 2:
            assert response.status_code == 409 and response.json()["expected_nonce"] == 0, response.text
        else:
            assert response.status_code == 200, response.text
    assert [chain.call(contract("IpledgerForwarder").functions.nonces(u.address)) for u in users] == [1, 0] * 3
