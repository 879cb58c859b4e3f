"""IPRegistry disputes and parents on a real Anvil: the registrar's record of disputes, the rule that an
open ownership dispute stops every move of the asset and every new pledge, and assets naming parents.

The attacker's test tries every path that moves a token (both ``safeTransferFrom``, ``transferFrom``, an
approved operator, a relayed request, the market's sale and escrow offer, pledge enforcement and the
pledgee's consent) while an ownership dispute is open: each is refused by name and nothing changed.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from ledger.chain.toolchain import Artifact
from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.relay.service import sign_request
from tests.contracts.ipkit import DAY, REVERTS, ZERO32, ZERO_ADDRESS, IPKit, b32, hex32, revert_data
from tests.contracts.test_marketplace import UNIT, MarketKit, market_kit

OWNERSHIP, INVALIDATION_REQUEST, INFRINGEMENT_SUIT, OTHER = range(4)
OPEN, UPHELD, DISMISSED, SETTLED, WITHDRAWN = range(5)
CASE = b32("(2025)JING73MINCHU1")
EVIDENCE = b"\x0e" * 32
DECISION = b"\x0d" * 32
DISPUTE_FIELDS = ("assetId", "kind", "outcome", "openedAt", "resolvedAt", "ref", "evidenceHash", "resolutionHash")


def open_dispute(ip: IPKit, asset_id: int, kind: int = OWNERSHIP, ref: bytes = CASE) -> int:
    receipt = ip.send(ip.registry.functions.openDispute(asset_id, kind, ref, EVIDENCE), ip.admin)
    [args] = [a for n, a in ip.events(ip.registry, receipt) if n == "DisputeOpened"]
    return int(args["disputeId"])


def dispute_of(ip: IPKit, dispute_id: int) -> dict[str, Any]:
    return dict(zip(DISPUTE_FIELDS, ip.call(ip.registry.functions.disputeOf(dispute_id)), strict=True))


# -- open and resolve ---------------------------------------------------------------------------


def test_open_dispute_by_registrar_records_it_and_emits_dispute_opened(ip: IPKit):
    asset_id = ip.register()
    receipt = ip.send(ip.registry.functions.openDispute(asset_id, INFRINGEMENT_SUIT, CASE, EVIDENCE), ip.admin)
    assert ip.events(ip.registry, receipt) == [("DisputeOpened", {
        "assetId": asset_id, "disputeId": 1, "kind": INFRINGEMENT_SUIT, "ref": hex32(CASE),
        "evidenceHash": hex32(EVIDENCE), "registrar": ip.admin.address})]
    assert dispute_of(ip, 1) == {
        "assetId": asset_id, "kind": INFRINGEMENT_SUIT, "outcome": OPEN,
        "openedAt": ip.chain.block_time(receipt.block_number), "resolvedAt": 0, "ref": CASE,
        "evidenceHash": EVIDENCE, "resolutionHash": ZERO32}
    assert ip.call(ip.registry.functions.openDisputesOf(asset_id)) == [1]
    assert ip.call(ip.registry.functions.ownershipDisputeOf(asset_id)) == 0  # not of ownership
    assert ip.call(ip.registry.functions.disputeCount()) == 1


def test_resolve_dispute_records_outcome_and_emits_dispute_resolved(ip: IPKit):
    asset_id = ip.register()
    first, second, third = (open_dispute(ip, asset_id, kind) for kind in (OWNERSHIP, OTHER, INVALIDATION_REQUEST))
    assert ip.call(ip.registry.functions.ownershipDisputeOf(asset_id)) == first
    receipt = ip.send(ip.registry.functions.resolveDispute(first, SETTLED, DECISION), ip.admin)
    assert ip.events(ip.registry, receipt) == [("DisputeResolved", {
        "assetId": asset_id, "disputeId": first, "outcome": SETTLED, "resolutionHash": hex32(DECISION),
        "registrar": ip.admin.address})]
    resolved = dispute_of(ip, first)
    assert (resolved["outcome"], resolved["resolvedAt"], resolved["resolutionHash"]) == (
        SETTLED, ip.chain.block_time(receipt.block_number), DECISION)
    assert ip.call(ip.registry.functions.ownershipDisputeOf(asset_id)) == 0
    assert sorted(ip.call(ip.registry.functions.openDisputesOf(asset_id))) == [second, third]
    ip.send(ip.registry.functions.resolveDispute(third, DISMISSED, DECISION), ip.admin)
    assert ip.call(ip.registry.functions.openDisputesOf(asset_id)) == [second]


@pytest.mark.parametrize("act", ["openDispute", "resolveDispute"])
def test_dispute_act_by_non_registrar_reverts_with_access_control(ip: IPKit, act):
    asset_id = ip.register()
    dispute_id = open_dispute(ip, asset_id)
    fn = (ip.registry.functions.openDispute(asset_id, OWNERSHIP, CASE, EVIDENCE) if act == "openDispute"
          else ip.registry.functions.resolveDispute(dispute_id, DISMISSED, DECISION))
    error = ip.refused(fn, ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("AccessControlUnauthorizedAccount", {
        "account": ip.owner.address, "neededRole": "0x" + ip.call(ip.registry.functions.REGISTRAR_ROLE()).hex()})
    assert dispute_of(ip, dispute_id)["outcome"] == OPEN
    assert ip.call(ip.registry.functions.disputeCount()) == 1


def test_open_dispute_on_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    error = ip.refused(ip.registry.functions.openDispute(9, OWNERSHIP, CASE, EVIDENCE), ip.admin)
    assert (error.name, error.arguments) == ("ERC721NonexistentToken", {"tokenId": 9})


def test_open_dispute_without_case_reverts_with_zero_dispute_ref(ip: IPKit):
    asset_id = ip.register()
    error = ip.refused(ip.registry.functions.openDispute(asset_id, OWNERSHIP, ZERO32, EVIDENCE), ip.admin)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == ("IPRegistryZeroDisputeRef", {})
    assert ip.call(ip.registry.functions.disputeCount()) == 0


def test_open_second_ownership_dispute_reverts_with_ownership_already_disputed(ip: IPKit):
    asset_id = ip.register()
    first = open_dispute(ip, asset_id)
    error = ip.refused(ip.registry.functions.openDispute(asset_id, OWNERSHIP, b32("OTHER-CASE"), EVIDENCE), ip.admin)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("IPRegistryOwnershipAlreadyDisputed",
                                             {"assetId": asset_id, "disputeId": first})
    assert ip.call(ip.registry.functions.openDisputesOf(asset_id)) == [first]
    ip.send(ip.registry.functions.resolveDispute(first, DISMISSED, DECISION), ip.admin)
    assert open_dispute(ip, asset_id) == first + 1  # a new case once the first ended


def test_resolve_unknown_dispute_reverts_with_unknown_dispute(ip: IPKit):
    error = ip.refused(ip.registry.functions.resolveDispute(5, DISMISSED, DECISION), ip.admin)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("IPRegistryUnknownDispute", {"disputeId": 5})
    error = ip.refused(ip.registry.functions.disputeOf(5), ip.admin)
    assert error.name == "IPRegistryUnknownDispute"


def test_resolve_resolved_dispute_reverts_with_dispute_not_open(ip: IPKit):
    asset_id = ip.register()
    dispute_id = open_dispute(ip, asset_id)
    ip.send(ip.registry.functions.resolveDispute(dispute_id, UPHELD, DECISION), ip.admin)
    error = ip.refused(ip.registry.functions.resolveDispute(dispute_id, WITHDRAWN, b"\1" * 32), ip.admin)
    assert (error.name, error.arguments) == ("IPRegistryDisputeNotOpen", {"disputeId": dispute_id, "outcome": UPHELD})
    assert dispute_of(ip, dispute_id)["resolutionHash"] == DECISION


def test_resolve_with_open_outcome_reverts_with_invalid_dispute_outcome(ip: IPKit):
    asset_id = ip.register()
    dispute_id = open_dispute(ip, asset_id)
    error = ip.refused(ip.registry.functions.resolveDispute(dispute_id, OPEN, DECISION), ip.admin)
    assert isinstance(error, ValidationError)
    assert error.name == "IPRegistryInvalidDisputeOutcome"
    assert ip.call(ip.registry.functions.ownershipDisputeOf(asset_id)) == dispute_id


# -- the rule: an open ownership dispute stops every move ------------------------------------------


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    return market_kit(ip, contract, artifacts)


def test_every_path_around_an_open_ownership_dispute_is_refused_and_nothing_moves(market: MarketKit):
    """The attacker's test: the owner, an operator, a relayer, the market and the pledgee each try to
    move a disputed asset; every attempt fails with IPRegistryAssetDisputed and nothing changes."""
    ip = market.ip
    market.fund(market.buyer)
    asset_id = ip.register()
    listing_id = market.list_asset(asset_id, 100 * UNIT)  # listed and approved before the dispute
    offer_id = market.offer(asset_id, 90 * UNIT)
    pledged_id = ip.register()
    pledge_id = ip.pledge(pledged_id, maturity=ip.now() + DAY)
    ip.send(ip.pledges.functions.consentToTransfer(pledge_id, ip.other.address), ip.bank)
    ip.send(ip.registry.functions.setApprovalForAll(ip.stranger.address, True), ip.owner)
    dispute_id = open_dispute(ip, asset_id)
    pledged_dispute = open_dispute(ip, pledged_id)
    ip.chain.increase_time(DAY + 1)  # the pledge matured: enforcement would be allowed but for the dispute

    owner, other, registry = ip.owner.address, ip.other.address, ip.registry.functions
    relayed = bytes.fromhex(registry.transferFrom(owner, other, asset_id)._encode_transaction_data()[2:])
    nonce = ip.call(ip.forwarder.functions.nonces(owner))
    request = sign_request(ip.owner, chain_id=ip.chain.chain_id, forwarder=ip.forwarder.address,
                           to=ip.registry.address, data="0x" + relayed.hex(), nonce=nonce, deadline=ip.now() + 600)
    on_chain = (request.sender, request.to, 0, request.gas, request.deadline, bytes.fromhex(request.data[2:]),
                bytes.fromhex(request.signature[2:]))
    attempts = {
        "transferFrom": (registry.transferFrom(owner, other, asset_id), ip.owner, asset_id, dispute_id),
        "safeTransferFrom": (registry.safeTransferFrom(owner, other, asset_id), ip.owner, asset_id, dispute_id),
        "safeTransferFrom with data": (registry.safeTransferFrom(owner, other, asset_id, b"\x01"), ip.owner,
                                       asset_id, dispute_id),
        "approved operator": (registry.transferFrom(owner, ip.stranger.address, asset_id), ip.stranger, asset_id,
                              dispute_id),
        "to itself": (registry.transferFrom(owner, owner, asset_id), ip.owner, asset_id, dispute_id),
        "market sale": (market.buy_fn(listing_id), market.buyer, asset_id, dispute_id),
        "escrow offer accepted": (market.market.functions.acceptOffer(offer_id), ip.owner, asset_id, dispute_id),
        "pledgee's consent": (registry.transferFrom(owner, other, pledged_id), ip.owner, pledged_id, pledged_dispute),
        "pledge enforcement": (ip.pledges.functions.enforce(pledge_id, ZERO_ADDRESS), ip.bank, pledged_id,
                               pledged_dispute),
    }
    before = {i: (ip.owner_of(i), ip.call(registry.transferCountOf(i))) for i in (asset_id, pledged_id)}
    with market.ledger() as moved:
        for path, (fn, sender, target, blocking) in attempts.items():
            error = ip.refused(fn, sender)
            assert isinstance(error, ConflictError), path
            assert (error.name, error.arguments) == ("IPRegistryAssetDisputed",
                                                     {"assetId": target, "disputeId": blocking}), path
        error = ip.refused(ip.forwarder.functions.execute(on_chain), ip.stranger)  # a relayed transfer
        assert (error.name, error.arguments) == ("FailedCall", {})  # the forwarder reports the call failed...
        with pytest.raises(REVERTS) as inner:  # ...and the call it made fails with the guard's error
            ip.chain.w3.eth.call({"from": ip.forwarder.address, "to": ip.registry.address,
                                  "data": relayed + bytes.fromhex(owner[2:])})
        expected = keccak(text="IPRegistryAssetDisputed(uint256,uint256)")[:4] + abi_encode(
            ["uint256", "uint256"], [asset_id, dispute_id])
        assert revert_data(inner.value) == "0x" + expected.hex()
    assert moved == {}
    assert {i: (ip.owner_of(i), ip.call(registry.transferCountOf(i))) for i in (asset_id, pledged_id)} == before
    assert ip.pledge_of(pledge_id)["status"] == 2  # still active
    assert ip.call(ip.pledges.functions.transferConsentOf(pledge_id)) == other  # consent not used up
    assert market.listing(listing_id)["status"] == 1 and market.offer_of(offer_id)["status"] == 1

    ip.send(registry.resolveDispute(dispute_id, DISMISSED, DECISION), ip.admin)
    market.buy(listing_id)  # once resolved the sale settles
    assert ip.owner_of(asset_id) == market.buyer.address


@pytest.mark.parametrize("kind", [INVALIDATION_REQUEST, INFRINGEMENT_SUIT, OTHER])
def test_transfer_when_other_dispute_open_moves_asset(ip: IPKit, kind):
    asset_id = ip.register()
    open_dispute(ip, asset_id, kind)
    ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ip.owner_of(asset_id) == ip.other.address


def test_propose_pledge_when_ownership_disputed_reverts_with_asset_disputed(ip: IPKit):
    asset_id = ip.register()
    dispute_id = open_dispute(ip, asset_id)
    count = ip.call(ip.pledges.functions.pledgeCount())
    fn = ip.pledges.functions.propose(asset_id, ip.bank.address, 1_000, b"CNY", ip.now() + DAY, b"\x09" * 32)
    error = ip.refused(fn, ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("PledgeRegistryAssetDisputed", {"assetId": asset_id,
                                                                            "disputeId": dispute_id})
    assert ip.call(ip.pledges.functions.pledgeCount()) == count


def test_accept_pledge_when_ownership_disputed_after_proposal_reverts_with_asset_disputed(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    dispute_id = open_dispute(ip, asset_id)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert (error.name, error.arguments) == ("PledgeRegistryAssetDisputed", {"assetId": asset_id,
                                                                            "disputeId": dispute_id})
    assert ip.pledge_of(pledge_id)["status"] == 1 and ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == 0
    ip.send(ip.registry.functions.resolveDispute(dispute_id, WITHDRAWN, DECISION), ip.admin)
    ip.accept_pledge(pledge_id)
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id


def test_propose_pledge_when_infringement_suit_open_is_allowed(ip: IPKit):
    asset_id = ip.register()
    open_dispute(ip, asset_id, INFRINGEMENT_SUIT)
    assert ip.pledge(asset_id) > 0


# -- parents --------------------------------------------------------------------------------------


def test_set_parent_by_owner_links_both_assets_and_emits_parent_set(ip: IPKit):
    parent = ip.register(ip.other)
    child, grandchild = ip.register(), ip.register()
    receipt = ip.send(ip.registry.functions.setParent(child, parent), ip.owner)
    assert ip.events(ip.registry, receipt) == [("ParentSet", {
        "assetId": child, "parentId": parent, "owner": ip.owner.address})]
    ip.send(ip.registry.functions.setParent(grandchild, child), ip.owner)
    assert ip.call(ip.registry.functions.parentOf(child)) == parent
    assert ip.call(ip.registry.functions.childrenOf(parent)) == [child]
    assert ip.call(ip.registry.functions.childrenOf(child)) == [grandchild]
    assert ip.call(ip.registry.functions.parentOf(parent)) == 0


def test_set_parent_by_non_owner_reverts_with_not_owner(ip: IPKit):
    parent, child = ip.register(), ip.register()
    error = ip.refused(ip.registry.functions.setParent(child, parent), ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("IPRegistryNotOwner", {"assetId": child, "caller": ip.stranger.address})
    assert ip.call(ip.registry.functions.parentOf(child)) == 0


@pytest.mark.parametrize("which", ["zero", "itself", "later asset", "unregistered"])
def test_set_parent_to_no_earlier_asset_reverts_with_invalid_parent(ip: IPKit, which):
    child = ip.register()
    later = ip.register()
    parent = {"zero": 0, "itself": child, "later asset": later, "unregistered": 99}[which]
    error = ip.refused(ip.registry.functions.setParent(child, parent), ip.owner)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == ("IPRegistryInvalidParent", {"assetId": child, "parentId": parent})
    assert ip.call(ip.registry.functions.childrenOf(parent)) == []


def test_set_parent_twice_reverts_with_parent_already_set(ip: IPKit):
    first, second, child = ip.register(), ip.register(), ip.register()
    ip.send(ip.registry.functions.setParent(child, first), ip.owner)
    error = ip.refused(ip.registry.functions.setParent(child, second), ip.owner)
    assert (error.name, error.arguments) == ("IPRegistryParentAlreadySet", {"assetId": child, "parentId": first})
    assert ip.call(ip.registry.functions.childrenOf(second)) == []


def test_set_parent_of_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    error = ip.refused(ip.registry.functions.setParent(7, 1), ip.owner)
    assert (error.name, error.arguments) == ("ERC721NonexistentToken", {"tokenId": 7})

