"""Rate limits of POST /relay: per client address first, then per *verified* sender (issue 11, item 10)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_utils import keccak
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from tests.api.test_relay_and_timestamps import assert_problem, signed, stamp_data

ATTACKER = ("203.0.113.66", 40000)
BANK = ("198.51.100.7", 50000)


@pytest.fixture
def app(api_ledger: Ledger) -> Iterator[FastAPI]:
    app = create_app(ledger=api_ledger)
    with TestClient(app):  # runs the lifespan once: app.state.ledger is set for every client below
        yield app


def client_at(app: FastAPI, address: tuple[str, int]) -> TestClient:
    return TestClient(app, client=address, base_url="http://testserver/api/v1")


def garbage(request: dict) -> dict:
    """A random signature of a well-formed shape (low s, v 27): it recovers to a random address or none."""
    return {**request, "signature": "0x" + os.urandom(32).hex() + "00" + os.urandom(31).hex() + "1b"}


def test_relay_1000_garbage_signatures_claiming_a_bank_do_not_stop_its_real_request(app, contract, chain):
    app.state.rate_limiter.rate, app.state.rate_limiter.burst = 1, 5  # a tight per-sender allowance
    bank = Account.create()
    registry = contract("TimestampRegistry").address
    leaf = os.urandom(32)
    bank_client, attacker = client_at(app, BANK), client_at(app, ATTACKER)
    real = signed(bank_client, bank, registry, stamp_data(contract, leaf))
    forged = [garbage(real) for _ in range(1000)]
    block = chain.w3.eth.block_number

    statuses = {attacker.post("/relay", json=request).status_code for request in forged}

    # refused: forged (403) or the attacker's address is flooding (429)
    assert statuses <= {403, 429}, statuses
    assert chain.w3.eth.block_number == block  # nothing was sent for them
    response = bank_client.post("/relay", json=real)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["root"] == "0x" + keccak(leaf).hex()  # a single stamp's root


def test_relay_replays_of_a_banks_relayed_request_do_not_spend_its_allowance(app, contract, chain):
    """A relayed request is public (executeBatch calldata): its signature verifies, but replaying it is
    409, and must not count against the sender, or anyone could keep a bank at 429."""
    app.state.rate_limiter.rate, app.state.rate_limiter.burst = 1, 5  # a tight per-sender allowance
    bank = Account.create()
    registry = contract("TimestampRegistry").address
    bank_client, attacker = client_at(app, BANK), client_at(app, ATTACKER)
    first = signed(bank_client, bank, registry, stamp_data(contract, os.urandom(32)))
    assert bank_client.post("/relay", json=first).status_code == 200
    block = chain.w3.eth.block_number

    statuses = [attacker.post("/relay", json=first).status_code for _ in range(20)]

    assert set(statuses) == {409}, statuses
    assert chain.w3.eth.block_number == block
    second = signed(bank_client, bank, registry, stamp_data(contract, os.urandom(32)))
    response = bank_client.post("/relay", json=second)
    assert response.status_code == 200, response.text


def test_relay_many_senders_from_one_client_address_is_429_whatever_x_forwarded_for_says(app, contract):
    app.state.client_rate_limiter.rate, app.state.client_rate_limiter.burst = 1, 3
    registry = contract("TimestampRegistry").address
    attacker = client_at(app, ATTACKER)
    statuses = []
    for i in range(5):  # a new sender each time, and a new claimed origin in the header
        request = garbage(signed(attacker, Account.create(), registry, stamp_data(contract, os.urandom(32))))
        response = attacker.post("/relay", json=request, headers={"X-Forwarded-For": f"192.0.2.{i}"})
        statuses.append(response.status_code)
    assert statuses[:3] == [403, 403, 403] and statuses[3:] == [429, 429]
    body = assert_problem(response, 429)
    assert ATTACKER[0] in body["detail"]
    # another client address is not affected
    assert client_at(app, BANK).post("/relay", json=request).status_code == 403


def test_relay_behind_a_trusted_proxy_limits_the_forwarded_client(api_ledger, contract):
    settings = api_ledger.settings.model_copy(update={"api_trusted_proxies": [ATTACKER[0]]})
    app = create_app(settings=settings, ledger=api_ledger)
    with TestClient(app, client=ATTACKER, base_url="http://testserver/api/v1") as proxy:
        app.state.client_rate_limiter.rate, app.state.client_rate_limiter.burst = 1, 2
        registry = contract("TimestampRegistry").address
        request = garbage(signed(proxy, Account.create(), registry, stamp_data(contract, os.urandom(32))))

        def post(forwarded_for: str) -> int:
            return proxy.post("/relay", json=request, headers={"X-Forwarded-For": forwarded_for}).status_code

        # the proxy appends the peer it saw; what a client wrote before it is not trusted
        assert [post("10.0.0.1, 192.0.2.10") for _ in range(3)] == [403, 403, 429]
        assert post("10.0.0.1, 192.0.2.11") == 403  # another client behind the same proxy
