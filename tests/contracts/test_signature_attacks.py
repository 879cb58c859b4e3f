"""Attacks on signed requests and pending transactions, on a real Anvil (issue 7).

- A relayed request (ERC-2771, EIP-712) signed for another chain id or another verifying contract
  does not verify at our forwarder: relaying it reverts and nothing happens in the user's name.
  The same request signed for the right domain goes through once, and a replay of it is refused.
- A pending buy front-run by the seller's price change reverts: the buyer names the price and nonce
  it saw, and pays nothing.
- (A stamp leaf copied from the mempool does not help the copier: tests/ledger/chain/test_durability.py.)
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes

from ledger.chain.client import ChainClient
from ledger.errors import ContractError
from ledger.relay.service import SignedRequest, sign_request
from tests.contracts.ipkit import IPKit, set_automine
from tests.contracts.test_marketplace import UNIT, MarketKit, market_kit


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts) -> MarketKit:
    return market_kit(ip, contract, artifacts)


def _stamp_request(chain: ChainClient, forwarder: Any, stamps: Any, user: LocalAccount, *, chain_id: int,
                   verifying_contract: str) -> tuple[SignedRequest, bytes]:
    leaf = os.urandom(32)
    data = stamps.functions.stamp(leaf)._encode_transaction_data()
    nonce = chain.call(forwarder.functions.nonces(user.address))
    request = sign_request(user, chain_id=chain_id, forwarder=verifying_contract, to=stamps.address, data=data,
                           nonce=nonce, gas=200_000, deadline=int(time.time()) + 3600)
    return request, leaf


def _as_tuple(request: SignedRequest) -> tuple[Any, ...]:
    return (request.sender, request.to, request.value, request.gas, request.deadline,
            HexBytes(request.data), HexBytes(request.signature))


def _stamper(chain: ChainClient, stamps: Any, leaf: bytes) -> str:
    return str(chain.call(stamps.functions.recordOf(keccak(leaf)))[0])  # recorded under its one-leaf root


@pytest.mark.parametrize("wrong", ["chain id", "verifying contract"])
def test_relay_signed_for_another_domain_reverts_and_nothing_happens(ip: IPKit, contract, accounts, wrong):
    chain, forwarder, stamps = ip.chain, ip.forwarder, contract("TimestampRegistry")
    user, relayer = accounts[8], accounts[9]
    domain = {"chain id": (chain.chain_id + 1, forwarder.address),
              "verifying contract": (chain.chain_id, stamps.address)}[wrong]
    request, leaf = _stamp_request(chain, forwarder, stamps, user, chain_id=domain[0], verifying_contract=domain[1])
    assert chain.call(forwarder.functions.verify(_as_tuple(request))) is False
    with pytest.raises(ContractError) as refused:
        chain.transact(forwarder.functions.execute(_as_tuple(request)), sender=relayer)
    assert refused.value.name == "ERC2771ForwarderInvalidSigner"
    assert refused.value.arguments["from"] == user.address
    assert refused.value.arguments["signer"] != user.address
    assert _stamper(chain, stamps, leaf) == "0x" + "00" * 20
    assert chain.call(forwarder.functions.nonces(user.address)) == 0


def test_relay_signed_for_our_domain_lands_once_and_its_replay_reverts(ip: IPKit, contract, accounts):
    chain, forwarder, stamps = ip.chain, ip.forwarder, contract("TimestampRegistry")
    user, relayer = accounts[8], accounts[9]
    request, leaf = _stamp_request(chain, forwarder, stamps, user, chain_id=chain.chain_id,
                                   verifying_contract=forwarder.address)
    assert chain.call(forwarder.functions.verify(_as_tuple(request))) is True
    chain.transact(forwarder.functions.execute(_as_tuple(request)), sender=relayer)
    assert _stamper(chain, stamps, leaf) == user.address  # credited to the signer, not the relayer
    # The nonce was used up: the same signature no longer verifies, on any relayer.
    assert chain.call(forwarder.functions.verify(_as_tuple(request))) is False
    with pytest.raises(ContractError) as replayed:
        chain.transact(forwarder.functions.execute(_as_tuple(request)), sender=ip.stranger)
    assert replayed.value.name == "ERC2771ForwarderInvalidSigner"


def test_buy_front_run_by_price_change_reverts_and_buyer_pays_nothing(market: MarketKit):
    chain, ip = market.ip.chain, market.ip
    asset_id = ip.register(market.seller)
    listing_id = market.list_asset(asset_id, 100 * UNIT)
    seen = market.listing(listing_id)
    buyer_balance = market.balance(market.buyer)
    set_automine(chain, False)
    try:
        # The buyer's transaction waits in the mempool, naming the price and nonce it saw...
        buy = market.market.functions.buy(listing_id, seen["price"], seen["nonce"])
        pending = chain.transact(buy, sender=market.buyer, gas=400_000, wait=False)
        # ...and the seller, watching it, raises the price with a higher tip, to be mined first.
        raise_price = market.market.functions.updateListing(listing_id, 500 * UNIT, market.later())
        tx = raise_price.build_transaction({
            "from": market.seller.address, "nonce": chain.w3.eth.get_transaction_count(market.seller.address),
            "gas": 200_000, "chainId": chain.chain_id, "maxFeePerGas": 80 * 10**9, "maxPriorityFeePerGas": 40 * 10**9,
        })
        front = chain.send_transaction(tx, market.seller, wait=False)
        chain.rpc("evm_mine")
    finally:
        set_automine(chain, True)
    first, second = chain.receipt(front.tx_hash), chain.receipt(pending.tx_hash)
    assert first is not None and second is not None
    assert first.block_number == second.block_number and first.status == 1
    assert second.status == 0  # the buy reverted (MarketplacePriceChanged)
    assert ip.owner_of(asset_id) == market.seller.address
    assert market.balance(market.buyer) == buyer_balance
    assert market.listing(listing_id)["price"] == 500 * UNIT
    with pytest.raises(ContractError) as replay:
        chain.transact(buy, sender=market.buyer)
    assert (replay.value.name, replay.value.arguments) == (
        "MarketplacePriceChanged", {"listingId": listing_id, "price": 500 * UNIT, "nonce": 1})
