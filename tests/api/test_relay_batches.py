"""Batches under attack: gas caps and packing (item 12), one sender's nonce twice (item 13); issue 11."""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Iterator

import httpx
import pytest
from eth_account import Account
from fastapi import FastAPI

from api.main import create_app
from ledger.context import Ledger
from ledger.relay.service import sign_request
from tests.api.test_relay_and_timestamps import stamp_data
from tests.api.test_relay_checks import mining_paused, wait_for_pool
from tests.serving import serve_on_loopback


def stamp_request(chain, contract, user, *, nonce: int = 0, gas: int = 200_000) -> dict:
    registry = contract("TimestampRegistry")
    return sign_request(user, chain_id=chain.chain_id, forwarder=contract("IpledgerForwarder").address,
                        to=registry.address, data=stamp_data(contract, os.urandom(32)), nonce=nonce,
                        gas=gas).as_json()


def in_one_window(live_api: str, api_ledger: Ledger, chain, contract, requests: list[dict],
                  timeout: float = 60) -> list[httpx.Response]:
    """Post ``requests`` at once while the relayer waits for a transaction, so they meet in its next batch."""
    with mining_paused(chain), concurrent.futures.ThreadPoolExecutor(len(requests) + 1) as pool:
        def post(request: dict) -> httpx.Response:
            return httpx.post(f"{live_api}/api/v1/relay", json=request, timeout=timeout)

        plug = pool.submit(post, stamp_request(chain, contract, Account.create()))
        wait_for_pool(chain, 1)  # the relaying thread now waits for the plug's receipt
        futures = [pool.submit(post, r) for r in requests]
        deadline = time.monotonic() + 30
        while api_ledger.relay._batcher.backlog() + sum(f.done() for f in futures) < len(requests):
            assert time.monotonic() < deadline, "the requests were neither answered nor queued"
            time.sleep(0.02)
        chain.rpc("evm_mine")
        assert plug.result().status_code == 200
        chain.rpc("evm_setAutomine", [True])  # what was queued goes out now, in as few batches as fit
        return [f.result() for f in futures]


def test_relay_oversized_requests_fail_alone_and_honest_ones_in_the_same_window_land(live_api, api_ledger, chain,
                                                                                   contract):
    honest = [stamp_request(chain, contract, Account.create()) for _ in range(10)]
    poison = [stamp_request(chain, contract, Account.create(), gas=10_000_000) for _ in range(4)]
    responses = in_one_window(live_api, api_ledger, chain, contract, poison + honest)
    assert [r.status_code for r in responses[4:]] == [200] * 10, [r.text for r in responses[4:]]
    for response in responses[:4]:
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["gas"] == 10_000_000 and body["max_gas"] == 2_000_000 and "cap" in body["detail"]
    forwarder = contract("IpledgerForwarder")
    assert [chain.call(forwarder.functions.nonces(r["from"])) for r in poison] == [0] * 4


def test_relay_request_with_a_blocks_worth_of_gas_is_400_naming_max_gas_and_nothing_is_sent(live_api, chain,
                                                                                            contract):
    """The cap is the relay's (IPLEDGER_RELAY_MAX_REQUEST_GAS), answered as documented whatever the gas asked."""
    user = Account.create()
    for gas in (30_000_000, 2**64):
        response = httpx.post(f"{live_api}/api/v1/relay", json=stamp_request(chain, contract, user, gas=gas),
                              timeout=60)
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["gas"] == gas and body["max_gas"] == 2_000_000 and "cap" in body["detail"]
    assert chain.call(contract("IpledgerForwarder").functions.nonces(user.address)) == 0


def test_relay_requests_whose_total_gas_exceeds_the_block_limit_are_split_across_batches(live_api, api_ledger,
                                                                                       chain, contract):
    gas_limit = chain.w3.eth.get_block("latest")["gasLimit"]
    big = [stamp_request(chain, contract, Account.create(), gas=1_900_000) for _ in range(20)]
    assert 20 * 1_900_000 > gas_limit  # together they cannot share one block
    responses = in_one_window(live_api, api_ledger, chain, contract, big)
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses if r.status_code != 200]
    transactions = {r.json()["tx_hash"] for r in responses}
    assert len(transactions) >= 2
    assert all(chain.receipt(tx).gas_used < gas_limit for tx in transactions)


def test_relay_two_requests_with_one_senders_nonce_in_one_window_the_second_is_409_naming_the_nonce(
        live_api, api_ledger, chain, contract):
    user = Account.create()
    first, second = (stamp_request(chain, contract, user, nonce=0) for _ in range(2))  # two leaves, one nonce
    assert first["signature"] != second["signature"]
    responses = in_one_window(live_api, api_ledger, chain, contract, [first, second], timeout=20)
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["nonce"] == 0 and "nonce 0" in refused.json()["detail"]
    landed = next(r for r in responses if r.status_code == 200).json()
    assert len([e for e in landed["events"] if e["name"] == "Stamped"]) == 1  # its own answer, not the other's
    assert chain.call(contract("IpledgerForwarder").functions.nonces(user.address)) == 1
    # the nonce is free again once the first settled: the refused request is now simply stale
    stale = second if responses[1] is refused else first
    again = httpx.post(f"{live_api}/api/v1/relay", json=stale, timeout=20)
    assert again.status_code == 409 and again.json()["expected_nonce"] == 1


@pytest.fixture(scope="module")
def live_app(api_ledger: Ledger) -> Iterator[tuple[str, FastAPI]]:
    """The API on loopback with its app at hand (its limits can be tightened)."""
    app = create_app(ledger=api_ledger)
    with serve_on_loopback(app) as url:
        yield url, app


def test_relay_batch_with_a_sender_over_its_limit_and_a_duplicate_answers_429_and_409_and_lands_the_rest(
        live_app, api_ledger, chain, contract):
    """Claims, limits and nonce slots are taken for a whole batch at once: each request still gets its own answer."""
    url, app = live_app
    limiter = app.state.rate_limiter
    rate, burst = limiter.rate, limiter.burst
    spent, duplicated = Account.create(), Account.create()
    limiter.rate, limiter.burst = 0.001, 1
    try:
        limiter.check(spent.address.lower())  # its one token is gone
        over = stamp_request(chain, contract, spent)
        twice = stamp_request(chain, contract, duplicated)
        honest = [stamp_request(chain, contract, Account.create()) for _ in range(3)]
        limiter.burst = 1_000_000  # the others' buckets start full; spent's stays empty (rate 0.001/s)
        responses = in_one_window(url, api_ledger, chain, contract, [over, twice, twice, *honest])
    finally:
        limiter.rate, limiter.burst = rate, burst
    assert responses[0].status_code == 429, responses[0].text
    assert sorted(r.status_code for r in responses[1:3]) == [200, 409], [r.text for r in responses[1:3]]
    assert [r.status_code for r in responses[3:]] == [200] * 3, [r.text for r in responses[3:]]
    landed = {r.json()["tx_hash"] for r in responses if r.status_code == 200}
    assert len(landed) == 1  # one executeBatch
    forwarder = contract("IpledgerForwarder")
    assert chain.call(forwarder.functions.nonces(spent.address)) == 0
    assert chain.call(forwarder.functions.nonces(duplicated.address)) == 1
    again = httpx.post(f"{url}/api/v1/relay", json=twice, timeout=20)  # settled: the replay names its transaction
    assert again.status_code == 409 and again.json()["tx_hash"] in landed
