"""RelayService on the session chain: the forwarder's rules checked before anything is sent (issue 11)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from ledger.errors import ChainUnavailableError, ConflictError, ValidationError
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


def test_a_refused_requests_nonce_that_cannot_be_read_refuses_it_alone(relay, contract, monkeypatch):
    """The nonce is read only to explain why verify() refused a request: if that read fails, the request is
    still refused (verify said so), and the others of the batch are not."""
    registry = contract("TimestampRegistry")
    deadline = int(time.time()) + 3600

    def request(nonce: int):  # type: ignore[no-untyped-def]
        return sign_request(Account.create(), chain_id=relay.client.chain_id, forwarder=relay.forwarder.address,
                            to=registry.address, data=registry.functions.stamp(keccak(text=str(nonce)))
                            ._encode_transaction_data(), nonce=nonce, deadline=deadline)

    good, ahead = request(0), request(7)
    nonce_reads: list[int] = []
    original = relay.client.rpc_batch

    def node_gone_for_nonces(calls, *, raw=False):  # type: ignore[no-untyped-def]
        if all(method == "eth_call" and params[0]["data"].startswith("0x7ecebe00") for method, params in calls):
            nonce_reads.append(len(calls))  # nonces(address): the node drops this one round trip
            raise ChainUnavailableError("the chain at the test's node stopped answering")
        return original(calls, raw=raw)

    monkeypatch.setattr(relay.client, "rpc_batch", node_gone_for_nonces)
    fine, refused = relay._check_on_chain_many([good, ahead])
    assert nonce_reads == [1]  # only the refused request's sender, in one more round trip
    assert fine is None
    assert isinstance(refused, ConflictError) and "verify() refuses" in refused.message


def test_recover_signer_agrees_with_eth_account() -> None:
    """The relay's own EIP-712 digest and coincurve recovery give what eth_account's generic encoder gives."""
    import os

    from eth_account.messages import encode_typed_data
    from hexbytes import HexBytes

    from ledger.relay.service import FORWARD_REQUEST_TYPES, domain, recover_signer, request_digest

    forwarder = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    TARGET = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"  # noqa: N806
    for size in (0, 4, 36, 100, 1000):
        user = Account.create()
        request = sign_request(user, chain_id=31337, forwarder=forwarder, to=TARGET,
                               data=os.urandom(size), nonce=size * 7, gas=21_000 + size, deadline=2**48 - 1 - size)
        message = {"from": request.sender, "to": request.to, "value": request.value, "gas": request.gas,
                   "nonce": request.nonce, "deadline": request.deadline, "data": HexBytes(request.data)}
        encoded = encode_typed_data(domain(31337, forwarder), FORWARD_REQUEST_TYPES, message)
        signed_bytes = b"\x19" + encoded.version + encoded.header + encoded.body
        assert request_digest(request, 31337, forwarder) == keccak(signed_bytes)
        assert recover_signer(request, 31337, forwarder) == user.address == Account.recover_message(
            encoded, signature=HexBytes(request.signature))
        assert recover_signer(request, 1, forwarder) != user.address  # another chain's domain
