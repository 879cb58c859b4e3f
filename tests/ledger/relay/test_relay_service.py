"""RelayService on the session chain: the forwarder's rules checked before anything is sent (issue 11)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account

from ledger.errors import ValidationError
from ledger.relay.service import RelayService, sign_request


@pytest.fixture
def relay(chain, contract, tmp_path: Path) -> RelayService:
    registry = contract("TimestampRegistry")
    return RelayService(chain, contract("IpledgerForwarder"), {registry.address: registry}, tmp_path / "relay.sqlite")


def stamp_request(relay: RelayService, contract, deadline: int):
    data = contract("TimestampRegistry").functions.stamp(b"\1" * 32)._encode_transaction_data()
    return sign_request(Account.create(), chain_id=relay.client.chain_id, forwarder=relay.forwarder.address,
                        to=contract("TimestampRegistry").address, data=data, nonce=0, deadline=deadline)


def test_check_deadline_past_by_wall_clock_though_not_by_a_quiet_chains_head_is_refused(relay, contract):
    wall = int(time.time())
    quiet_head = wall - 3600  # no block for an hour: the next block will carry the wall clock's time
    with pytest.raises(ValidationError) as refused:
        relay.check_deadline(stamp_request(relay, contract, deadline=wall - 60), quiet_head)
    assert refused.value.name == "ERC2771ForwarderExpiredRequest"  # type: ignore[attr-defined]
    assert refused.value.arguments == {"deadline": wall - 60}  # type: ignore[attr-defined]
    relay.check_deadline(stamp_request(relay, contract, deadline=wall + relay.deadline_margin + 60), quiet_head)


def test_check_deadline_before_a_head_ahead_of_the_wall_clock_is_refused(relay, contract):
    wall = int(time.time())
    head = wall + 7 * 86_400  # a dev chain moved a week ahead
    with pytest.raises(ValidationError):
        relay.check_deadline(stamp_request(relay, contract, deadline=wall + 3600), head)
    relay.check_deadline(stamp_request(relay, contract, deadline=head + relay.deadline_margin), head)
