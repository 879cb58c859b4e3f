"""TimestampRegistry on a real Anvil: first-come stamps, batches, errors naming the first record."""

from __future__ import annotations

import os

import pytest
from eth_utils import keccak

from ledger.chain.client import ChainClient
from ledger.errors import ConflictError, ContractError, ValidationError

ZERO = "0x0000000000000000000000000000000000000000"


def test_stamp_when_new_records_its_one_leaf_root_and_emits_stamped(chain, contract, accounts):
    registry = contract("TimestampRegistry")
    leaf = os.urandom(32)
    root = keccak(leaf)  # StandardMerkleTree of the one commitment: keccak256(bytes.concat(leaf))
    receipt = chain.transact(registry.functions.stamp(leaf), sender=accounts[1])
    stamper, block_number, timestamp = chain.call(registry.functions.recordOf(root))
    assert stamper == accounts[1].address
    assert block_number == receipt.block_number
    assert timestamp == chain.block_time(receipt.block_number)
    assert chain.call(registry.functions.recordOf(leaf)) == (ZERO, 0, 0)  # the raw leaf is not a key
    events = chain.events(registry, receipt)
    assert [(e.name, e.args) for e in events] == [
        ("Stamped", {"root": "0x" + root.hex(), "stamper": accounts[1].address})
    ]
    # One rule for every stamp: the empty proof leads from the leaf to the recorded root.
    assert chain.call(registry.functions.verifyBatchMember([], root, leaf)) is True
    assert chain.call(registry.functions.verifyBatchMember([], leaf, leaf)) is False


def test_stamp_when_already_stamped_reverts_naming_first_record(chain: ChainClient, contract, accounts):
    registry = contract("TimestampRegistry")
    leaf = os.urandom(32)
    first = chain.transact(registry.functions.stamp(leaf), sender=accounts[1])
    with pytest.raises(ConflictError) as caught:
        chain.transact(registry.functions.stamp(leaf), sender=accounts[2])
    error = caught.value
    assert isinstance(error, ContractError)
    assert error.name == "TimestampRegistryAlreadyStamped"
    assert error.arguments["key"] == "0x" + keccak(leaf).hex()
    assert error.arguments["stamper"] == accounts[1].address
    assert error.arguments["blockNumber"] == first.block_number
    assert f"block {first.block_number}" in str(error)
    assert chain.call(registry.functions.recordOf(keccak(leaf)))[0] == accounts[1].address


def test_stamp_batch_of_one_when_leaf_stamped_alone_reverts_naming_first_record(chain, contract, accounts):
    """A single stamp and a batch of one are the same tree: whichever comes second reverts."""
    registry = contract("TimestampRegistry")
    leaf, other = os.urandom(32), os.urandom(32)
    first = chain.transact(registry.functions.stamp(leaf), sender=accounts[1])
    with pytest.raises(ContractError) as caught:
        chain.transact(registry.functions.stampBatch(keccak(leaf), 1), sender=accounts[2])
    assert caught.value.name == "TimestampRegistryAlreadyStamped"
    assert (caught.value.arguments["key"], caught.value.arguments["stamper"], caught.value.arguments["blockNumber"]) \
        == ("0x" + keccak(leaf).hex(), accounts[1].address, first.block_number)
    batch = chain.transact(registry.functions.stampBatch(keccak(other), 1), sender=accounts[2])
    with pytest.raises(ContractError) as caught:
        chain.transact(registry.functions.stamp(other), sender=accounts[1])
    assert caught.value.name == "TimestampRegistryAlreadyStamped"
    assert caught.value.arguments["stamper"] == accounts[2].address
    assert caught.value.arguments["blockNumber"] == batch.block_number
    assert chain.call(registry.functions.recordOf(keccak(other)))[:2] == (accounts[2].address, batch.block_number)


def test_stamp_batch_when_root_already_stamped_reverts(chain, contract):
    registry = contract("TimestampRegistry")
    key = os.urandom(32)
    chain.transact(registry.functions.stampBatch(key, 2))
    with pytest.raises(ContractError) as caught:
        chain.transact(registry.functions.stampBatch(key, 3))
    assert caught.value.name == "TimestampRegistryAlreadyStamped"


def test_stamp_batch_with_zero_count_reverts_with_empty_batch(chain, contract):
    registry = contract("TimestampRegistry")
    with pytest.raises(ValidationError) as caught:
        chain.transact(registry.functions.stampBatch(os.urandom(32), 0))
    assert caught.value.name == "TimestampRegistryEmptyBatch"  # type: ignore[attr-defined]


@pytest.mark.parametrize("act", ["stamp", "stampBatch"])
def test_stamp_zero_key_reverts_with_zero_key(chain, contract, act):
    registry = contract("TimestampRegistry")
    fn = registry.functions.stamp(b"\0" * 32) if act == "stamp" else registry.functions.stampBatch(b"\0" * 32, 1)
    with pytest.raises(ContractError) as caught:
        chain.transact(fn)
    assert caught.value.name == "TimestampRegistryZeroKey"
    assert chain.call(registry.functions.recordOf(keccak(b"\0" * 32))) == (ZERO, 0, 0)


def test_record_of_unknown_key_is_all_zero(chain, contract):
    registry = contract("TimestampRegistry")
    assert chain.call(registry.functions.recordOf(os.urandom(32))) == (
        "0x0000000000000000000000000000000000000000", 0, 0)


def test_stamp_batch_emits_count_and_verifies_members_with_merkle_proof(chain, contract):
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
