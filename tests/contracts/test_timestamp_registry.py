"""TimestampRegistry on a real Anvil: first-come stamps, batches, errors naming the first record."""

from __future__ import annotations

import os

import pytest

from ledger.chain.client import ChainClient
from ledger.errors import ConflictError, ContractError, ValidationError


def test_stamp_when_new_records_sender_block_and_emits_stamped(chain, contract, accounts):
    registry = contract("TimestampRegistry")
    leaf = os.urandom(32)
    receipt = chain.transact(registry.functions.stamp(leaf), sender=accounts[1])
    stamper, block_number, timestamp = chain.call(registry.functions.recordOf(leaf))
    assert stamper == accounts[1].address
    assert block_number == receipt.block_number
    assert timestamp == chain.block_time(receipt.block_number)
    events = chain.events(registry, receipt)
    assert [(e.name, e.args) for e in events] == [
        ("Stamped", {"leaf": "0x" + leaf.hex(), "stamper": accounts[1].address})
    ]


def test_stamp_when_already_stamped_reverts_naming_first_record(chain: ChainClient, contract, accounts):
    registry = contract("TimestampRegistry")
    leaf = os.urandom(32)
    first = chain.transact(registry.functions.stamp(leaf), sender=accounts[1])
    with pytest.raises(ConflictError) as caught:
        chain.transact(registry.functions.stamp(leaf), sender=accounts[2])
    error = caught.value
    assert isinstance(error, ContractError)
    assert error.name == "TimestampRegistryAlreadyStamped"
    assert error.arguments["stamper"] == accounts[1].address
    assert error.arguments["blockNumber"] == first.block_number
    assert f"block {first.block_number}" in str(error)
    assert chain.call(registry.functions.recordOf(leaf))[0] == accounts[1].address


def test_stamp_batch_when_root_is_a_stamped_leaf_reverts(chain, contract):
    registry = contract("TimestampRegistry")
    key = os.urandom(32)
    chain.transact(registry.functions.stamp(key))
    with pytest.raises(ContractError) as caught:
        chain.transact(registry.functions.stampBatch(key, 3))
    assert caught.value.name == "TimestampRegistryAlreadyStamped"


def test_stamp_batch_with_zero_count_reverts_with_empty_batch(chain, contract):
    registry = contract("TimestampRegistry")
    with pytest.raises(ValidationError) as caught:
        chain.transact(registry.functions.stampBatch(os.urandom(32), 0))
    assert caught.value.name == "TimestampRegistryEmptyBatch"  # type: ignore[attr-defined]


def test_stamp_zero_key_reverts_with_zero_key(chain, contract):
    registry = contract("TimestampRegistry")
    with pytest.raises(ContractError) as caught:
        chain.transact(registry.functions.stamp(b"\0" * 32))
    assert caught.value.name == "TimestampRegistryZeroKey"


def test_record_of_unknown_key_is_all_zero(chain, contract):
    registry = contract("TimestampRegistry")
    assert chain.call(registry.functions.recordOf(os.urandom(32))) == (
        "0x0000000000000000000000000000000000000000", 0, 0)


def test_stamp_batch_emits_count_and_verifies_members_with_merkle_proof(chain, contract):
    from eth_utils import keccak

    registry = contract("TimestampRegistry")
    a, b = os.urandom(32), os.urandom(32)
    ha, hb = keccak(a), keccak(b)
    root = keccak(min(ha, hb) + max(ha, hb))
    receipt = chain.transact(registry.functions.stampBatch(root, 2))
    [event] = chain.events(registry, receipt)
    assert event.name == "BatchStamped" and event.args["count"] == 2
    assert chain.call(registry.functions.verifyBatchMember([hb], root, a)) is True
    assert chain.call(registry.functions.verifyBatchMember([ha], root, b)) is True
    assert chain.call(registry.functions.verifyBatchMember([ha], root, a)) is False
    assert chain.call(registry.functions.verifyBatchMember([hb], os.urandom(32), a)) is False
