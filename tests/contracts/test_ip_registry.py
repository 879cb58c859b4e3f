"""IPRegistry on a real Anvil: registration, uniqueness, the registrar's acts, freezes, the transfer guard."""

from __future__ import annotations

import os

import pytest
from eth_utils import keccak

from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.relay.service import sign_request
from tests.contracts.ipkit import (
    DAY,
    EXPIRED,
    FILED,
    GRANTED,
    INVALIDATED,
    INVENTION_PATENT,
    TRADEMARK,
    URI,
    ZERO_ADDRESS,
    IPKit,
    b32,
    hex32,
)

REF = b32("CN202010123456.7")
REGISTRAR_ROLE = "0x" + keccak(text="REGISTRAR_ROLE").hex()
PLEDGEE_ROLE = "0x" + keccak(text="PLEDGEE_ROLE").hex()


# -- registration ------------------------------------------------------------------------------


def test_register_when_new_mints_to_caller_and_emits_transfer_and_asset_registered(ip: IPKit):
    content, metadata = os.urandom(32), os.urandom(32)
    receipt = ip.send(ip.registry.functions.register(content, INVENTION_PATENT, REF, metadata, URI), ip.owner)
    assert ip.events(ip.registry, receipt) == [
        ("Transfer", {"from": ZERO_ADDRESS, "to": ip.owner.address, "tokenId": 1}),
        ("AssetRegistered", {
            "assetId": 1, "owner": ip.owner.address, "ref": hex32(REF), "kind": INVENTION_PATENT,
            "contentHash": hex32(content), "metadataHash": hex32(metadata), "uri": URI,
        }),
    ]
    assert ip.owner_of(1) == ip.owner.address
    assert ip.call(ip.registry.functions.balanceOf(ip.owner.address)) == 1
    assert ip.asset(1) == {
        "owner": ip.owner.address, "kind": INVENTION_PATENT, "status": FILED, "verified": False,
        "expiresAt": 0, "feesPaidUntil": 0, "frozenUntil": 0, "holderDisputed": False,
    }
    assert ip.call(ip.registry.functions.assetIdOfContent(content)) == 1
    assert ip.call(ip.registry.functions.assetIdOfRef(REF)) == 1


def test_register_twice_gives_sequential_ids_from_one(ip: IPKit):
    assert [ip.register(), ip.register(ip.other, kind=TRADEMARK), ip.register()] == [1, 2, 3]
    assert ip.call(ip.registry.functions.assetCount()) == 3
    assert ip.call(ip.registry.functions.balanceOf(ip.owner.address)) == 2
    assert ip.asset(2)["kind"] == TRADEMARK and ip.owner_of(2) == ip.other.address


def test_register_without_ref_many_times_claims_no_ref(ip: IPKit):
    first, second = ip.register(), ip.register()
    assert (first, second) == (1, 2)
    assert ip.call(ip.registry.functions.assetIdOfRef(b"\0" * 32)) == 0


def test_register_when_content_registered_reverts_with_content_already_registered(ip: IPKit):
    content = os.urandom(32)
    ip.register(content=content)
    error = ip.refused(ip.registry.functions.register(content, TRADEMARK, b32("X1"), os.urandom(32), URI), ip.other)
    assert isinstance(error, ConflictError)
    assert error.name == "IPRegistryContentAlreadyRegistered"
    assert error.arguments == {"contentHash": hex32(content), "assetId": 1}
    assert ip.call(ip.registry.functions.assetCount()) == 1
    assert ip.call(ip.registry.functions.assetIdOfRef(b32("X1"))) == 0
    assert ip.call(ip.registry.functions.balanceOf(ip.other.address)) == 0


def test_register_when_ref_registered_reverts_with_ref_already_registered(ip: IPKit):
    ip.register(ref=REF)
    content = os.urandom(32)
    error = ip.refused(ip.registry.functions.register(content, INVENTION_PATENT, REF, os.urandom(32), URI), ip.other)
    assert isinstance(error, ConflictError)
    assert error.name == "IPRegistryRefAlreadyRegistered"
    assert error.arguments == {"ref": hex32(REF), "assetId": 1}
    assert "is already registered as asset 1" in str(error)
    assert ip.call(ip.registry.functions.assetIdOfContent(content)) == 0
    assert ip.call(ip.registry.functions.assetCount()) == 1


@pytest.mark.parametrize(("content", "metadata", "name"), [
    (b"\0" * 32, b"\1" * 32, "IPRegistryZeroContentHash"),
    (b"\1" * 32, b"\0" * 32, "IPRegistryZeroMetadataHash"),
])
def test_register_with_zero_hash_reverts_with_zero_hash(ip: IPKit, content, metadata, name):
    error = ip.refused(ip.registry.functions.register(content, INVENTION_PATENT, REF, metadata, URI), ip.owner)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == (name, {})
    assert ip.call(ip.registry.functions.assetCount()) == 0


def test_register_through_forwarder_mints_to_signer_not_relayer(ip: IPKit, chain):
    content = os.urandom(32)
    fn = ip.registry.functions.register(content, INVENTION_PATENT, REF, os.urandom(32), URI)
    data = fn._encode_transaction_data()
    nonce = ip.call(ip.forwarder.functions.nonces(ip.owner.address))
    request = sign_request(ip.owner, chain_id=chain.chain_id, forwarder=ip.forwarder.address,
                           to=ip.registry.address, data=data, nonce=nonce, deadline=ip.now() + 600)
    on_chain = (request.sender, request.to, 0, request.gas, request.deadline, bytes.fromhex(request.data[2:]),
                bytes.fromhex(request.signature[2:]))
    receipt = ip.send(ip.forwarder.functions.execute(on_chain), ip.stranger)
    [_, (name, args)] = ip.events(ip.registry, receipt)
    assert name == "AssetRegistered" and args["owner"] == ip.owner.address
    assert ip.owner_of(1) == ip.owner.address


# -- the registrar -----------------------------------------------------------------------------


def test_set_verified_by_registrar_marks_asset_and_emits_verification_changed(ip: IPKit):
    asset_id = ip.register()
    receipt = ip.send(ip.registry.functions.setVerified(asset_id, True), ip.admin)
    assert ip.events(ip.registry, receipt) == [
        ("VerificationChanged", {"assetId": asset_id, "verified": True, "by": ip.admin.address})
    ]
    assert ip.asset(asset_id)["verified"] is True


@pytest.mark.parametrize("act", ["setVerified", "setLegalStatus", "setDates", "freeze"])
def test_registrar_act_by_non_registrar_reverts_with_access_control(ip: IPKit, act):
    asset_id = ip.register()
    fn = {
        "setVerified": lambda: ip.registry.functions.setVerified(asset_id, True),
        "setLegalStatus": lambda: ip.registry.functions.setLegalStatus(asset_id, GRANTED),
        "setDates": lambda: ip.registry.functions.setDates(asset_id, ip.now() + DAY, ip.now() + DAY),
        "freeze": lambda: ip.registry.functions.freeze(asset_id, "court", "case", b"\1" * 32, ip.now() + DAY),
    }[act]()
    error = ip.refused(fn, ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert error.name == "AccessControlUnauthorizedAccount"
    assert error.arguments == {"account": ip.owner.address, "neededRole": REGISTRAR_ROLE}
    assert ip.asset(asset_id) == {
        "owner": ip.owner.address, "kind": INVENTION_PATENT, "status": FILED, "verified": False,
        "expiresAt": 0, "feesPaidUntil": 0, "frozenUntil": 0, "holderDisputed": False,
    }


def test_set_legal_status_by_registrar_sets_status_and_emits(ip: IPKit):
    asset_id = ip.register()
    receipt = ip.send(ip.registry.functions.setLegalStatus(asset_id, INVALIDATED), ip.admin)
    assert ip.events(ip.registry, receipt) == [
        ("LegalStatusChanged", {"assetId": asset_id, "status": INVALIDATED, "registrar": ip.admin.address})
    ]
    assert ip.asset(asset_id)["status"] == INVALIDATED


def test_set_dates_by_registrar_sets_dates_and_emits(ip: IPKit):
    asset_id = ip.register()
    expires, fees = ip.now() + 10 * 365 * DAY, ip.now() + 200 * DAY
    receipt = ip.send(ip.registry.functions.setDates(asset_id, expires, fees), ip.admin)
    assert ip.events(ip.registry, receipt) == [("DatesChanged", {
        "assetId": asset_id, "expiresAt": expires, "feesPaidUntil": fees, "registrar": ip.admin.address})]
    assert (ip.asset(asset_id)["expiresAt"], ip.asset(asset_id)["feesPaidUntil"]) == (expires, fees)


def test_registrar_act_on_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    error = ip.refused(ip.registry.functions.setLegalStatus(42, EXPIRED), ip.admin)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("ERC721NonexistentToken", {"tokenId": 42})


def test_asset_of_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    with pytest.raises(NotFoundError) as caught:
        ip.call(ip.registry.functions.assetOf(7))
    assert caught.value.name == "ERC721NonexistentToken"  # type: ignore[attr-defined]


# -- roles -------------------------------------------------------------------------------------


def test_grant_role_by_admin_grants_and_by_others_reverts(ip: IPKit):
    error = ip.refused(ip.registry.functions.grantRole(PLEDGEE_ROLE, ip.stranger.address), ip.owner)
    assert error.name == "AccessControlUnauthorizedAccount"
    assert error.arguments == {"account": ip.owner.address, "neededRole": "0x" + "00" * 32}
    assert ip.call(ip.registry.functions.hasRole(PLEDGEE_ROLE, ip.stranger.address)) is False
    ip.send(ip.registry.functions.grantRole(REGISTRAR_ROLE, ip.stranger.address), ip.admin)
    assert ip.call(ip.registry.functions.hasRole(REGISTRAR_ROLE, ip.stranger.address)) is True
    ip.send(ip.registry.functions.revokeRole(REGISTRAR_ROLE, ip.stranger.address), ip.admin)
    assert ip.call(ip.registry.functions.hasRole(REGISTRAR_ROLE, ip.stranger.address)) is False


def test_deployment_wires_pledge_registry_and_makes_deployer_admin_and_registrar(ip: IPKit):
    assert ip.call(ip.registry.functions.pledgeRegistry()) == ip.pledges.address
    assert ip.call(ip.registry.functions.hasRole("0x" + "00" * 32, ip.admin.address)) is True
    assert ip.call(ip.registry.functions.hasRole(REGISTRAR_ROLE, ip.admin.address)) is True
    assert ip.call(ip.registry.functions.REGISTRAR_ROLE()) == bytes.fromhex(REGISTRAR_ROLE[2:])


def test_set_pledge_registry_when_wired_reverts_with_already_set(ip: IPKit):
    error = ip.refused(ip.registry.functions.setPledgeRegistry(ip.stranger.address), ip.admin)
    assert error.name == "IPRegistryPledgeRegistryAlreadySet"
    assert error.arguments == {"pledgeRegistry": ip.pledges.address}
    assert ip.call(ip.registry.functions.pledgeRegistry()) == ip.pledges.address


def test_set_pledge_registry_by_non_admin_reverts_with_access_control(ip: IPKit):
    error = ip.refused(ip.registry.functions.setPledgeRegistry(ip.stranger.address), ip.owner)
    assert error.name == "AccessControlUnauthorizedAccount"


def test_enforce_transfer_by_anyone_but_pledge_registry_reverts_with_unauthorized_caller(ip: IPKit):
    asset_id = ip.register()
    error = ip.refused(ip.registry.functions.enforceTransfer(asset_id, ip.stranger.address), ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("IPRegistryUnauthorizedCaller", {"caller": ip.owner.address})
    assert ip.owner_of(asset_id) == ip.owner.address


def test_token_uri_is_base_uri_and_id_set_by_admin_only(ip: IPKit):
    asset_id = ip.register()
    assert ip.call(ip.registry.functions.tokenURI(asset_id)) == ""
    error = ip.refused(ip.registry.functions.setBaseURI("https://evil/"), ip.owner)
    assert error.name == "AccessControlUnauthorizedAccount"
    receipt = ip.send(ip.registry.functions.setBaseURI("https://ipledger.example/assets/"), ip.admin)
    assert ip.events(ip.registry, receipt) == [("BaseURISet", {"baseURI": "https://ipledger.example/assets/"})]
    assert ip.call(ip.registry.functions.tokenURI(asset_id)) == f"https://ipledger.example/assets/{asset_id}"


def test_supports_interface_for_erc721_access_control_and_registry(ip: IPKit):
    for interface in ("0x80ac58cd", "0x7965db0b", "0x01ffc9a7"):
        assert ip.call(ip.registry.functions.supportsInterface(interface)) is True
    assert ip.call(ip.registry.functions.supportsInterface("0xffffffff")) is False


# -- transfers ---------------------------------------------------------------------------------


def test_transfer_when_free_moves_asset_and_balances(ip: IPKit):
    asset_id = ip.register()
    receipt = ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ip.events(ip.registry, receipt) == [
        ("Transfer", {"from": ip.owner.address, "to": ip.other.address, "tokenId": asset_id})
    ]
    assert ip.owner_of(asset_id) == ip.other.address
    assert ip.call(ip.registry.functions.balanceOf(ip.owner.address)) == 0
    assert ip.call(ip.registry.functions.balanceOf(ip.other.address)) == 1
    ip.transfer(ip.other, ip.buyer.address, asset_id)  # a second move (ERC-721's own owner slot by now)
    assert ip.owner_of(asset_id) == ip.buyer.address
    assert ip.call(ip.registry.functions.balanceOf(ip.other.address)) == 0


def test_transfer_counts_every_move_in_transfer_count_of(ip: IPKit):
    """The count only grows: an asset that went away and came back is told from one that stayed."""
    asset_id, other_id = ip.register(), ip.register()
    assert ip.call(ip.registry.functions.transferCountOf(asset_id)) == 0
    ip.transfer(ip.owner, ip.other.address, asset_id)
    ip.transfer(ip.other, ip.owner.address, asset_id)
    ip.send(ip.registry.functions.approve(ip.other.address, asset_id), ip.owner)  # an approval is not a move
    assert ip.owner_of(asset_id) == ip.owner.address
    assert ip.call(ip.registry.functions.transferCountOf(asset_id)) == 2
    assert ip.call(ip.registry.functions.transferCountOf(other_id)) == 0
    error = ip.refused(ip.registry.functions.transferCountOf(99), ip.owner)
    assert (error.name, error.arguments) == ("ERC721NonexistentToken", {"tokenId": 99})


def test_transfer_when_verified_clears_verified_and_emits(ip: IPKit):
    asset_id = ip.register()
    ip.send(ip.registry.functions.setVerified(asset_id, True), ip.admin)
    receipt = ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ip.events(ip.registry, receipt)[0] == (
        "VerificationChanged", {"assetId": asset_id, "verified": False, "by": ip.owner.address})
    assert ip.asset(asset_id)["verified"] is False


def test_transfer_by_stranger_reverts_with_insufficient_approval(ip: IPKit):
    asset_id = ip.register()
    error = ip.refused(
        ip.registry.functions.transferFrom(ip.owner.address, ip.stranger.address, asset_id), ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "ERC721InsufficientApproval", {"operator": ip.stranger.address, "tokenId": asset_id})
    assert ip.owner_of(asset_id) == ip.owner.address


def test_transfer_by_approved_operator_moves_asset(ip: IPKit):
    asset_id = ip.register()
    ip.send(ip.registry.functions.approve(ip.stranger.address, asset_id), ip.owner)
    ip.transfer(ip.stranger, ip.other.address, asset_id, owner=ip.owner.address)
    assert ip.owner_of(asset_id) == ip.other.address
    assert ip.call(ip.registry.functions.getApproved(asset_id)) == ZERO_ADDRESS


def test_transfer_of_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    error = ip.refused(ip.registry.functions.transferFrom(ip.owner.address, ip.other.address, 9), ip.owner)
    assert error.name == "ERC721NonexistentToken"


# -- freezes -----------------------------------------------------------------------------------


def test_freeze_by_registrar_records_order_and_emits_asset_frozen(ip: IPKit):
    asset_id = ip.register()
    until = ip.now() + 30 * DAY
    receipt = ip.send(ip.registry.functions.freeze(asset_id, "北京知识产权法院", "(2024)京73民初123号",
                                                   b"\x05" * 32, until), ip.admin)
    assert ip.events(ip.registry, receipt) == [("AssetFrozen", {
        "assetId": asset_id, "court": "北京知识产权法院", "caseNumber": "(2024)京73民初123号",
        "reasonHash": hex32(b"\x05" * 32), "until": until, "registrar": ip.admin.address})]
    assert ip.call(ip.registry.functions.isFrozen(asset_id)) is True
    court, case, reason, frozen_at, term, lifted = ip.call(ip.registry.functions.freezeOf(asset_id))
    assert (court, case, reason, term, lifted) == (
        "北京知识产权法院", "(2024)京73民初123号", b"\x05" * 32, until, 0)
    assert frozen_at == ip.chain.block_time(receipt.block_number)
    assert ip.asset(asset_id)["frozenUntil"] == until


def test_transfer_when_frozen_reverts_with_asset_frozen(ip: IPKit):
    asset_id = ip.register()
    until = ip.now() + 30 * DAY
    ip.freeze(asset_id, until=until)
    error = ip.refused(ip.registry.functions.safeTransferFrom(ip.owner.address, ip.other.address, asset_id), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("IPRegistryAssetFrozen", {"assetId": asset_id, "until": until})
    assert ip.owner_of(asset_id) == ip.owner.address


def test_transfer_after_freeze_term_lapses_moves_asset(ip: IPKit):
    asset_id = ip.register()
    ip.freeze(asset_id, until=ip.now() + 100)
    ip.chain.increase_time(101)
    assert ip.call(ip.registry.functions.isFrozen(asset_id)) is False
    ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ip.owner_of(asset_id) == ip.other.address


def test_freeze_when_frozen_reverts_with_already_frozen(ip: IPKit):
    asset_id = ip.register()
    until = ip.now() + DAY
    ip.freeze(asset_id, until=until)
    error = ip.refused(ip.registry.functions.freeze(asset_id, "c", "n", b"\1" * 32, until + DAY), ip.admin)
    assert (error.name, error.arguments) == ("IPRegistryAlreadyFrozen", {"assetId": asset_id, "until": until})
    assert ip.asset(asset_id)["frozenUntil"] == until


def test_freeze_after_lapse_records_new_order(ip: IPKit):
    asset_id = ip.register()
    ip.freeze(asset_id, until=ip.now() + 50)
    ip.chain.increase_time(51)
    until = ip.now() + DAY
    ip.send(ip.registry.functions.freeze(asset_id, "上海知识产权法院", "(2025)沪73执1号", b"\2" * 32, until), ip.admin)
    assert ip.call(ip.registry.functions.freezeOf(asset_id))[:2] == ("上海知识产权法院", "(2025)沪73执1号")


def test_freeze_with_past_term_reverts_with_invalid_freeze_term(ip: IPKit):
    asset_id = ip.register()
    until = ip.now() - 1
    error = ip.refused(ip.registry.functions.freeze(asset_id, "c", "n", b"\1" * 32, until), ip.admin)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == ("IPRegistryInvalidFreezeTerm", {"until": until})
    assert ip.call(ip.registry.functions.isFrozen(asset_id)) is False


@pytest.mark.parametrize(("court", "case"), [("", "(2024)京73民初123号"), ("北京知识产权法院", "")])
def test_freeze_without_court_or_case_reverts_with_empty_court_order(ip: IPKit, court, case):
    asset_id = ip.register()
    error = ip.refused(ip.registry.functions.freeze(asset_id, court, case, b"\1" * 32, ip.now() + DAY), ip.admin)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == ("IPRegistryEmptyCourtOrder", {})
    assert ip.call(ip.registry.functions.isFrozen(asset_id)) is False


def test_renew_freeze_extends_term_past_original(ip: IPKit):
    asset_id = ip.register()
    first = ip.now() + 100
    ip.freeze(asset_id, until=first)
    later = first + DAY
    receipt = ip.send(ip.registry.functions.renewFreeze(asset_id, later), ip.admin)
    assert ip.events(ip.registry, receipt) == [
        ("FreezeRenewed", {"assetId": asset_id, "until": later, "registrar": ip.admin.address})]
    ip.chain.increase_time(200)
    error = ip.refused(ip.registry.functions.transferFrom(ip.owner.address, ip.other.address, asset_id), ip.owner)
    assert error.arguments == {"assetId": asset_id, "until": later}
    assert ip.call(ip.registry.functions.freezeOf(asset_id))[4] == later


def test_renew_freeze_with_earlier_term_reverts_with_invalid_freeze_term(ip: IPKit):
    asset_id = ip.register()
    until = ip.now() + DAY
    ip.freeze(asset_id, until=until)
    error = ip.refused(ip.registry.functions.renewFreeze(asset_id, until), ip.admin)
    assert (error.name, error.arguments) == ("IPRegistryInvalidFreezeTerm", {"until": until})
    assert ip.asset(asset_id)["frozenUntil"] == until


def test_renew_freeze_when_lapsed_reverts_with_not_frozen(ip: IPKit):
    asset_id = ip.register()
    ip.freeze(asset_id, until=ip.now() + 50)
    ip.chain.increase_time(51)
    error = ip.refused(ip.registry.functions.renewFreeze(asset_id, ip.now() + DAY), ip.admin)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("IPRegistryNotFrozen", {"assetId": asset_id})


def test_unfreeze_by_registrar_lifts_freeze_and_transfer_moves(ip: IPKit):
    asset_id = ip.register()
    ip.freeze(asset_id)
    receipt = ip.send(ip.registry.functions.unfreeze(asset_id, b"\x03" * 32), ip.admin)
    assert ip.events(ip.registry, receipt) == [("AssetUnfrozen", {
        "assetId": asset_id, "reasonHash": hex32(b"\x03" * 32), "registrar": ip.admin.address})]
    assert ip.call(ip.registry.functions.isFrozen(asset_id)) is False
    assert ip.call(ip.registry.functions.freezeOf(asset_id))[5] == ip.chain.block_time(receipt.block_number)
    ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ip.owner_of(asset_id) == ip.other.address


def test_unfreeze_when_not_frozen_reverts_with_not_frozen(ip: IPKit):
    asset_id = ip.register()
    error = ip.refused(ip.registry.functions.unfreeze(asset_id, b"\x03" * 32), ip.admin)
    assert (error.name, error.arguments) == ("IPRegistryNotFrozen", {"assetId": asset_id})


def test_unfreeze_by_non_registrar_reverts_with_access_control(ip: IPKit):
    asset_id = ip.register()
    ip.freeze(asset_id)
    error = ip.refused(ip.registry.functions.unfreeze(asset_id, b"\x03" * 32), ip.owner)
    assert error.name == "AccessControlUnauthorizedAccount"
    assert ip.call(ip.registry.functions.isFrozen(asset_id)) is True


# -- pledged assets ----------------------------------------------------------------------------


def test_transfer_when_pledged_reverts_with_asset_pledged(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    error = ip.refused(ip.registry.functions.safeTransferFrom(ip.owner.address, ip.other.address, asset_id), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("IPRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    assert ip.owner_of(asset_id) == ip.owner.address


def test_transfer_when_pledged_with_consent_moves_once_to_that_recipient(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    ip.send(ip.pledges.functions.consentToTransfer(pledge_id, ip.other.address), ip.bank)
    error = ip.refused(ip.registry.functions.transferFrom(ip.owner.address, ip.buyer.address, asset_id), ip.owner)
    assert error.name == "IPRegistryAssetPledged"  # consent is for `other`, not `buyer`
    receipt = ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ("TransferConsentUsed", {"pledgeId": pledge_id, "assetId": asset_id, "recipient": ip.other.address}) in (
        ip.events(ip.pledges, receipt))
    assert ip.owner_of(asset_id) == ip.other.address
    assert ip.call(ip.pledges.functions.transferConsentOf(pledge_id)) == ZERO_ADDRESS
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id  # the pledge follows the asset
    error = ip.refused(ip.registry.functions.transferFrom(ip.other.address, ip.owner.address, asset_id), ip.other)
    assert (error.name, error.arguments) == ("IPRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})


def test_transfer_after_release_moves_asset(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    ip.send(ip.pledges.functions.release(pledge_id), ip.bank)
    ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ip.owner_of(asset_id) == ip.other.address


# -- squatting: the registrar's remedy -----------------------------------------------------------

REASON = b"\x5a" * 32


def test_unbind_ref_of_squatter_frees_ref_for_real_holder_and_marks_squatter(ip: IPKit):
    """The attack: a stranger registers a public patent number first; the real owner could never register."""
    squatter = ip.register(ip.stranger, ref=REF)
    ip.send(ip.registry.functions.setVerified(squatter, True), ip.admin)
    assert ip.refused(ip.registry.functions.register(os.urandom(32), INVENTION_PATENT, REF, os.urandom(32), URI),
                      ip.owner).name == "IPRegistryRefAlreadyRegistered"
    receipt = ip.send(ip.registry.functions.unbindRef(REF, REASON), ip.admin)
    assert ip.events(ip.registry, receipt) == [
        ("RefUnbound", {"ref": hex32(REF), "assetId": squatter, "reasonHash": hex32(REASON),
                        "registrar": ip.admin.address}),
        ("HolderDisputeChanged", {"assetId": squatter, "disputed": True, "reasonHash": hex32(REASON),
                                  "registrar": ip.admin.address}),
        ("VerificationChanged", {"assetId": squatter, "verified": False, "by": ip.admin.address}),
    ]
    assert ip.call(ip.registry.functions.assetIdOfRef(REF)) == 0
    assert ip.asset(squatter)["holderDisputed"] is True and ip.asset(squatter)["verified"] is False
    assert ip.owner_of(squatter) == ip.stranger.address  # the asset stays, marked
    real = ip.register(ref=REF)
    assert ip.call(ip.registry.functions.assetIdOfRef(REF)) == real
    assert ip.asset(real)["holderDisputed"] is False


def test_unbind_content_of_squatter_frees_content_for_real_holder(ip: IPKit):
    content = os.urandom(32)
    squatter = ip.register(ip.stranger, content=content)
    receipt = ip.send(ip.registry.functions.unbindContent(content, REASON), ip.admin)
    assert ip.events(ip.registry, receipt) == [
        ("ContentUnbound", {"contentHash": hex32(content), "assetId": squatter, "reasonHash": hex32(REASON),
                            "registrar": ip.admin.address}),
        ("HolderDisputeChanged", {"assetId": squatter, "disputed": True, "reasonHash": hex32(REASON),
                                  "registrar": ip.admin.address}),
    ]
    assert ip.call(ip.registry.functions.assetIdOfContent(content)) == 0
    real = ip.register(content=content)
    assert ip.call(ip.registry.functions.assetIdOfContent(content)) == real


def test_unbind_ref_unknown_reverts_with_unknown_ref(ip: IPKit):
    ip.register(ref=REF)
    other = b32("CN000000000000.0")
    error = ip.refused(ip.registry.functions.unbindRef(other, REASON), ip.admin)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("IPRegistryUnknownRef", {"ref": hex32(other)})
    assert ip.call(ip.registry.functions.assetIdOfRef(REF)) == 1


def test_unbind_content_unknown_reverts_with_unknown_content(ip: IPKit):
    content = os.urandom(32)
    error = ip.refused(ip.registry.functions.unbindContent(content, REASON), ip.admin)
    assert (error.name, error.arguments) == ("IPRegistryUnknownContent", {"contentHash": hex32(content)})


@pytest.mark.parametrize("act", ["unbindRef", "unbindContent", "setHolderDisputed"])
def test_squatting_remedy_by_non_registrar_reverts_with_access_control(ip: IPKit, act):
    content = os.urandom(32)
    asset_id = ip.register(content=content, ref=REF)
    fn = {
        "unbindRef": lambda: ip.registry.functions.unbindRef(REF, REASON),
        "unbindContent": lambda: ip.registry.functions.unbindContent(content, REASON),
        "setHolderDisputed": lambda: ip.registry.functions.setHolderDisputed(asset_id, True, REASON),
    }[act]()
    error = ip.refused(fn, ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert error.arguments == {"account": ip.owner.address, "neededRole": REGISTRAR_ROLE}
    assert ip.call(ip.registry.functions.assetIdOfRef(REF)) == asset_id
    assert ip.call(ip.registry.functions.assetIdOfContent(content)) == asset_id
    assert ip.asset(asset_id)["holderDisputed"] is False


def test_set_holder_disputed_by_registrar_marks_and_clears_with_events(ip: IPKit):
    asset_id = ip.register()
    receipt = ip.send(ip.registry.functions.setHolderDisputed(asset_id, True, REASON), ip.admin)
    assert ip.events(ip.registry, receipt) == [("HolderDisputeChanged", {
        "assetId": asset_id, "disputed": True, "reasonHash": hex32(REASON), "registrar": ip.admin.address})]
    assert ip.asset(asset_id)["holderDisputed"] is True
    ip.send(ip.registry.functions.setHolderDisputed(asset_id, False, REASON), ip.admin)
    assert ip.asset(asset_id)["holderDisputed"] is False


def test_set_holder_disputed_on_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    error = ip.refused(ip.registry.functions.setHolderDisputed(9, True, REASON), ip.admin)
    assert (error.name, error.arguments) == ("ERC721NonexistentToken", {"tokenId": 9})


@pytest.mark.parametrize("act", ["unbindRef", "unbindContent"])
def test_unbind_zero_key_reverts_with_zero_before_the_role(ip: IPKit, act):
    ip.register(ref=REF)
    fn = getattr(ip.registry.functions, act)(b"\0" * 32, REASON)
    for sender in (ip.admin, ip.stranger):  # bad input is bad input, whoever sends it
        error = ip.refused(fn, sender)
        assert isinstance(error, ValidationError)
        assert error.name == ("IPRegistryZeroRef" if act == "unbindRef" else "IPRegistryZeroContentHash")
    assert ip.call(ip.registry.functions.assetIdOfRef(REF)) == 1
