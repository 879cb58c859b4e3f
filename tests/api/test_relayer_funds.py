"""The relayer watches its balance: below the threshold it refuses with a clear 503 before it runs dry."""

from __future__ import annotations

import os

from ledger.chain.client import ChainClient
from ledger.context import Ledger
from tests.api.test_relay_and_timestamps import assert_problem, signed, stamp_data


def set_balance(chain: ChainClient, address: str, wei: int) -> None:
    """A dev node's balance setter (tests only): Anvil's, else Hardhat's or Ganache's own."""
    for method in ("anvil_setBalance", "hardhat_setBalance", "evm_setAccountBalance"):
        try:
            chain.rpc(method, [address, hex(wei)])
            return
        except Exception:  # noqa: BLE001 - the node has another name for it
            continue
    raise AssertionError("the node sets no balances")


def test_relay_when_the_relayer_is_below_its_threshold_answers_503_with_the_reason(
    client, api_ledger: Ledger, chain, contract, user
):
    relayer = chain.signer().address
    before = chain.balance(relayer)
    threshold = api_ledger.relay.min_balance
    assert threshold == 10**17  # the default: 0.1 ether
    registry = contract("TimestampRegistry")
    try:
        set_balance(chain, relayer, threshold - 1)
        api_ledger.relay.balance(max_age=0)  # the service reads it every 2 s: now
        health = client.get("/health").json()
        assert health["relayer"] == {"address": relayer, "balance": threshold - 1, "min_balance": threshold,
                                     "ok": False}
        request = signed(client, user, registry.address, stamp_data(contract, os.urandom(32)))
        nonce = chain.w3.eth.get_transaction_count(relayer)
        body = assert_problem(client.post("/relay", json=request), 503)
        assert body["title"] == "Relayer low on funds"
        assert body["detail"] == (
            f"the relayer {relayer} is low on funds (0.099999999999999999 ETH, below its threshold of 0.1 ETH), "
            "so it relays no more requests until it is topped up; nothing was sent")
        assert chain.w3.eth.get_transaction_count(relayer) == nonce
        set_balance(chain, relayer, before)  # topped up: the very same signed request goes through
        api_ledger.relay.balance(max_age=0)
        assert client.post("/relay", json=request).status_code == 200
    finally:
        set_balance(chain, relayer, before)
        api_ledger.relay.balance(max_age=0)


def test_relay_when_fees_are_above_the_cap_answers_503_and_sends_nothing(client, chain, contract, user):
    registry = contract("TimestampRegistry")
    request = signed(client, user, registry.address, stamp_data(contract, os.urandom(32)))
    saved = (chain.max_fee_per_gas, chain.priority_fee_per_gas)
    chain.max_fee_per_gas, chain.priority_fee_per_gas = 1, 0
    try:
        body = assert_problem(client.post("/relay", json=request), 503)
    finally:
        chain.max_fee_per_gas, chain.priority_fee_per_gas = saved
    assert body["title"] == "Chain fees above the cap" and "nothing was sent" in body["detail"]
    assert client.post("/relay", json=request).status_code == 200  # refused before its signature was used
