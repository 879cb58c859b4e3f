"""PledgeRegistry on a real Anvil: propose, accept, cancel, release, enforce, consents, and every refusal."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tests.contracts.ipkit import (
    DAY,
    EXCLUSIVE,
    EXPIRED,
    GRANTED,
    INVALIDATED,
    INVALIDATION_REQUESTED,
    L_ACTIVE,
    L_OFFERED,
    LAPSED,
    NON_EXCLUSIVE,
    P_ACTIVE,
    P_CANCELLED,
    P_ENFORCED,
    P_PROPOSED,
    P_RELEASED,
    SOLE,
    YEAR,
    ZERO_ADDRESS,
    IPKit,
    hex32,
)

PLEDGEE_ROLE = "0x" + keccak(text="PLEDGEE_ROLE").hex()
TERMS_TYPE = "(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool)"  # ILicenseRegistry.LicenseTerms


def test_propose_by_owner_records_proposal_and_emits_pledge_proposed(ip: IPKit):
    asset_id = ip.register()
    maturity = ip.now() + YEAR
    fn = ip.pledges.functions.propose(asset_id, ip.bank.address, 5_000_000_00, b"CNY", maturity, b"\x09" * 32)
    receipt = ip.send(fn, ip.owner)
    assert ip.events(ip.pledges, receipt) == [("PledgeProposed", {
        "pledgeId": 1, "assetId": asset_id, "pledgee": ip.bank.address, "pledgor": ip.owner.address,
        "principal": 5_000_000_00, "currency": "0x434e59", "maturity": maturity,
        "contractHash": "0x" + "09" * 32})]
    assert ip.pledge_of(1) == {
        "assetId": asset_id, "pledgor": ip.owner.address, "status": P_PROPOSED, "pledgee": ip.bank.address,
        "maturity": maturity, "currency": b"CNY", "principal": 5_000_000_00, "contractHash": b"\x09" * 32,
    }
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == 0  # proposed is not pledged
    assert ip.call(ip.pledges.functions.pledgeCount()) == 1


def test_propose_by_non_owner_reverts_with_not_owner(ip: IPKit):
    asset_id = ip.register()
    fn = ip.pledges.functions.propose(asset_id, ip.bank.address, 1, b"CNY", ip.now() + YEAR, b"\1" * 32)
    error = ip.refused(fn, ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotOwner", {"assetId": asset_id, "account": ip.stranger.address})
    assert ip.call(ip.pledges.functions.pledgeCount()) == 0


def test_propose_to_unaccredited_pledgee_reverts_with_access_control(ip: IPKit):
    asset_id = ip.register()
    fn = ip.pledges.functions.propose(asset_id, ip.stranger.address, 1, b"CNY", ip.now() + YEAR, b"\1" * 32)
    error = ip.refused(fn, ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "AccessControlUnauthorizedAccount", {"account": ip.stranger.address, "neededRole": PLEDGEE_ROLE})
    assert ip.call(ip.pledges.functions.pledgeCount()) == 0


@pytest.mark.parametrize(("change", "name", "arguments"), [
    ({"principal": 0}, "PledgeRegistryZeroPrincipal", {}),
    ({"currency": b"\0\0\0"}, "PledgeRegistryZeroCurrency", {}),
    ({"pledgee": "owner"}, "PledgeRegistryInvalidPledgee", {"pledgee": "owner"}),
    ({"maturity": "past"}, "PledgeRegistryInvalidMaturity", {"maturity": "past"}),
])
def test_propose_with_bad_terms_reverts_with_validation_error(ip: IPKit, change, name, arguments):
    asset_id = ip.register()
    ip.send(ip.registry.functions.grantRole(PLEDGEE_ROLE, ip.owner.address), ip.admin)  # so the role is not the issue
    past = ip.now() - 1
    values = {"principal": 1_000, "currency": b"CNY", "pledgee": ip.bank.address, "maturity": ip.now() + YEAR}
    values.update({k: {"owner": ip.owner.address, "past": past}.get(v, v) if isinstance(v, str) else v
                   for k, v in change.items()})
    fn = ip.pledges.functions.propose(asset_id, values["pledgee"], values["principal"], values["currency"],
                                      values["maturity"], b"\1" * 32)
    error = ip.refused(fn, ip.owner)
    assert isinstance(error, ValidationError)
    expected = {k: {"owner": ip.owner.address, "past": past}.get(v, v) for k, v in arguments.items()}
    assert (error.name, error.arguments) == (name, expected)
    assert ip.call(ip.pledges.functions.pledgeCount()) == 0


def test_propose_when_frozen_reverts_with_asset_frozen(ip: IPKit):
    asset_id = ip.register()
    until = ip.now() + 10 * DAY
    ip.freeze(asset_id, until=until)
    error = ip.refused(ip.pledges.functions.propose(asset_id, ip.bank.address, 1, b"CNY", ip.now() + YEAR,
                                                    b"\1" * 32), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("PledgeRegistryAssetFrozen", {"assetId": asset_id, "until": until})
    assert ip.call(ip.pledges.functions.pledgeCount()) == 0


@pytest.mark.parametrize("status", [INVALIDATED, LAPSED, EXPIRED])
def test_propose_when_invalidated_lapsed_or_expired_reverts_with_not_pledgeable(ip: IPKit, status):
    asset_id = ip.register()
    ip.send(ip.registry.functions.setLegalStatus(asset_id, status), ip.admin)
    error = ip.refused(ip.pledges.functions.propose(asset_id, ip.bank.address, 1, b"CNY", ip.now() + YEAR,
                                                    b"\1" * 32), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == (
        "PledgeRegistryAssetNotPledgeable", {"assetId": asset_id, "status": status})
    assert ip.call(ip.pledges.functions.pledgeCount()) == 0


@pytest.mark.parametrize("status", [GRANTED, INVALIDATION_REQUESTED])
def test_propose_when_granted_or_invalidation_requested_records_proposal(ip: IPKit, status):
    asset_id = ip.register()
    ip.send(ip.registry.functions.setLegalStatus(asset_id, status), ip.admin)
    assert ip.propose(asset_id) == 1


def test_propose_when_expiry_date_passed_reverts_with_past_expiry(ip: IPKit):
    asset_id = ip.register()
    expires = ip.now() + 100
    ip.set_dates(asset_id, expires)
    ip.chain.increase_time(101)
    error = ip.refused(ip.pledges.functions.propose(asset_id, ip.bank.address, 1, b"CNY", ip.now() + DAY,
                                                    b"\1" * 32), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == (
        "PledgeRegistryAssetPastExpiry", {"assetId": asset_id, "expiresAt": expires})


def test_propose_with_maturity_after_expiry_reverts_with_maturity_after_expiry(ip: IPKit):
    asset_id = ip.register()
    expires = ip.now() + YEAR
    ip.set_dates(asset_id, expires)
    error = ip.refused(ip.pledges.functions.propose(asset_id, ip.bank.address, 1, b"CNY", expires + 1,
                                                    b"\1" * 32), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == (
        "PledgeRegistryMaturityAfterExpiry", {"maturity": expires + 1, "expiresAt": expires})
    assert ip.propose(asset_id, maturity=expires) == 1  # maturing on the expiry date is allowed


def test_propose_when_pledged_reverts_with_already_pledged(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    error = ip.refused(ip.pledges.functions.propose(asset_id, ip.bank2.address, 1, b"CNY", ip.now() + YEAR,
                                                    b"\1" * 32), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == (
        "PledgeRegistryAlreadyPledged", {"assetId": asset_id, "pledgeId": pledge_id})


# -- accept ------------------------------------------------------------------------------------


def test_accept_by_pledgee_activates_pledge_and_emits_pledge_accepted(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    receipt = ip.accept_pledge(pledge_id)
    assert ip.events(ip.pledges, receipt) == [
        ("PledgeAccepted", {"pledgeId": pledge_id, "assetId": asset_id, "pledgee": ip.bank.address})]
    assert ip.pledge_of(pledge_id)["status"] == P_ACTIVE
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id


def test_accept_by_other_than_pledgee_reverts_with_not_pledgee(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank2)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotPledgee", {"pledgeId": pledge_id, "account": ip.bank2.address})
    assert ip.pledge_of(pledge_id)["status"] == P_PROPOSED


def test_accept_when_pledgee_lost_accreditation_reverts_with_access_control(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    ip.send(ip.registry.functions.revokeRole(PLEDGEE_ROLE, ip.bank.address), ip.admin)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert (error.name, error.arguments) == (
        "AccessControlUnauthorizedAccount", {"account": ip.bank.address, "neededRole": PLEDGEE_ROLE})
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == 0


def test_accept_when_asset_changed_hands_reverts_with_proposal_stale(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    ip.transfer(ip.owner, ip.other.address, asset_id)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("PledgeRegistryProposalStale", {
        "pledgeId": pledge_id, "pledgor": ip.owner.address, "owner": ip.other.address})
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == 0


def test_accept_when_another_pledge_active_reverts_with_already_pledged(ip: IPKit):
    asset_id = ip.register()
    first = ip.propose(asset_id, pledgee=ip.bank.address)
    second = ip.propose(asset_id, pledgee=ip.bank2.address)
    ip.accept_pledge(first, ip.bank)
    error = ip.refused(ip.accept_fn(second), ip.bank2)
    assert (error.name, error.arguments) == ("PledgeRegistryAlreadyPledged", {"assetId": asset_id, "pledgeId": first})
    assert ip.pledge_of(second)["status"] == P_PROPOSED
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == first


def test_accept_when_frozen_since_proposal_reverts_with_asset_frozen(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    until = ip.now() + DAY
    ip.freeze(asset_id, until=until)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert (error.name, error.arguments) == ("PledgeRegistryAssetFrozen", {"assetId": asset_id, "until": until})
    assert ip.pledge_of(pledge_id)["status"] == P_PROPOSED


def test_accept_when_invalidated_since_proposal_reverts_with_not_pledgeable(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    ip.send(ip.registry.functions.setLegalStatus(asset_id, INVALIDATED), ip.admin)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert (error.name, error.arguments) == (
        "PledgeRegistryAssetNotPledgeable", {"assetId": asset_id, "status": INVALIDATED})


def test_accept_after_maturity_passed_reverts_with_invalid_maturity(ip: IPKit):
    asset_id = ip.register()
    maturity = ip.now() + 100
    pledge_id = ip.propose(asset_id, maturity=maturity)
    ip.chain.increase_time(101)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert (error.name, error.arguments) == ("PledgeRegistryInvalidMaturity", {"maturity": maturity})


def test_accept_twice_reverts_with_not_proposed(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("PledgeRegistryNotProposed", {"pledgeId": pledge_id, "status": P_ACTIVE})


def test_accept_unknown_pledge_reverts_with_unknown_pledge(ip: IPKit):
    error = ip.refused(ip.accept_fn(77), ip.bank)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("PledgeRegistryUnknownPledge", {"pledgeId": 77})


# -- cancel ------------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["owner", "bank"])
def test_cancel_by_pledgor_or_pledgee_cancels_proposal(ip: IPKit, party):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    signer = getattr(ip, party)
    receipt = ip.send(ip.pledges.functions.cancel(pledge_id), signer)
    assert ip.events(ip.pledges, receipt) == [
        ("PledgeCancelled", {"pledgeId": pledge_id, "assetId": asset_id, "by": signer.address})]
    assert ip.pledge_of(pledge_id)["status"] == P_CANCELLED
    error = ip.refused(ip.accept_fn(pledge_id), ip.bank)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotProposed", {"pledgeId": pledge_id, "status": P_CANCELLED})


def test_cancel_by_stranger_reverts_with_not_party(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    error = ip.refused(ip.pledges.functions.cancel(pledge_id), ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotParty", {"pledgeId": pledge_id, "account": ip.stranger.address})
    assert ip.pledge_of(pledge_id)["status"] == P_PROPOSED


def test_cancel_when_active_reverts_with_not_proposed(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    error = ip.refused(ip.pledges.functions.cancel(pledge_id), ip.owner)
    assert (error.name, error.arguments) == ("PledgeRegistryNotProposed", {"pledgeId": pledge_id, "status": P_ACTIVE})
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id


# -- release -----------------------------------------------------------------------------------


def test_release_by_pledgee_frees_asset_and_emits_pledge_released(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    receipt = ip.send(ip.pledges.functions.release(pledge_id), ip.bank)
    assert ip.events(ip.pledges, receipt) == [
        ("PledgeReleased", {"pledgeId": pledge_id, "assetId": asset_id, "pledgee": ip.bank.address})]
    assert ip.pledge_of(pledge_id)["status"] == P_RELEASED
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == 0
    assert ip.pledge(asset_id, bank=ip.bank2) == 2  # free to pledge again


def test_release_by_owner_reverts_with_not_pledgee(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    error = ip.refused(ip.pledges.functions.release(pledge_id), ip.owner)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotPledgee", {"pledgeId": pledge_id, "account": ip.owner.address})
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id


def test_release_when_not_active_reverts_with_not_active(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    error = ip.refused(ip.pledges.functions.release(pledge_id), ip.bank)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("PledgeRegistryNotActive", {"pledgeId": pledge_id, "status": P_PROPOSED})


# -- enforce -----------------------------------------------------------------------------------


def test_enforce_before_maturity_reverts_with_not_matured(ip: IPKit):
    asset_id = ip.register()
    maturity = ip.now() + DAY
    pledge_id = ip.pledge(asset_id, maturity=maturity)
    error = ip.refused(ip.pledges.functions.enforce(pledge_id, ZERO_ADDRESS), ip.bank)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("PledgeRegistryNotMatured", {"pledgeId": pledge_id, "maturity": maturity})
    assert ip.owner_of(asset_id) == ip.owner.address
    assert ip.pledge_of(pledge_id)["status"] == P_ACTIVE


def test_enforce_after_maturity_without_buyer_moves_asset_to_pledgee(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id, maturity=ip.now() + DAY)
    ip.chain.increase_time(DAY + 1)
    receipt = ip.send(ip.pledges.functions.enforce(pledge_id, ZERO_ADDRESS), ip.bank)
    assert ip.events(ip.pledges, receipt) == [("PledgeEnforced", {
        "pledgeId": pledge_id, "assetId": asset_id, "pledgee": ip.bank.address, "to": ip.bank.address})]
    assert ip.events(ip.registry, receipt) == [
        ("Transfer", {"from": ip.owner.address, "to": ip.bank.address, "tokenId": asset_id})]
    assert ip.owner_of(asset_id) == ip.bank.address
    assert ip.pledge_of(pledge_id)["status"] == P_ENFORCED
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == 0


def test_enforce_after_maturity_with_buyer_moves_asset_to_buyer(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id, maturity=ip.now() + DAY)
    ip.chain.increase_time(DAY + 1)
    ip.send(ip.pledges.functions.enforce(pledge_id, ip.buyer.address), ip.bank)
    assert ip.owner_of(asset_id) == ip.buyer.address
    assert ip.call(ip.registry.functions.balanceOf(ip.owner.address)) == 0


def test_enforce_when_frozen_reverts_with_asset_frozen_and_keeps_pledge(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id, maturity=ip.now() + DAY)
    until = ip.now() + 10 * DAY
    ip.freeze(asset_id, until=until)
    ip.chain.increase_time(DAY + 1)
    error = ip.refused(ip.pledges.functions.enforce(pledge_id, ZERO_ADDRESS), ip.bank)
    assert (error.name, error.arguments) == ("IPRegistryAssetFrozen", {"assetId": asset_id, "until": until})
    assert ip.owner_of(asset_id) == ip.owner.address
    assert ip.pledge_of(pledge_id)["status"] == P_ACTIVE
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == pledge_id


def test_enforce_by_other_than_pledgee_reverts_with_not_pledgee(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id, maturity=ip.now() + DAY)
    ip.chain.increase_time(DAY + 1)
    error = ip.refused(ip.pledges.functions.enforce(pledge_id, ip.bank2.address), ip.bank2)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotPledgee", {"pledgeId": pledge_id, "account": ip.bank2.address})
    assert ip.owner_of(asset_id) == ip.owner.address


def test_enforce_when_released_reverts_with_not_active(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id, maturity=ip.now() + DAY)
    ip.send(ip.pledges.functions.release(pledge_id), ip.bank)
    ip.chain.increase_time(DAY + 1)
    error = ip.refused(ip.pledges.functions.enforce(pledge_id, ZERO_ADDRESS), ip.bank)
    assert (error.name, error.arguments) == ("PledgeRegistryNotActive", {"pledgeId": pledge_id, "status": P_RELEASED})
    assert ip.owner_of(asset_id) == ip.owner.address


# -- consents ----------------------------------------------------------------------------------


def test_consent_to_transfer_by_pledgee_records_recipient_and_emits(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    receipt = ip.send(ip.pledges.functions.consentToTransfer(pledge_id, ip.buyer.address), ip.bank)
    assert ip.events(ip.pledges, receipt) == [("TransferConsented", {
        "pledgeId": pledge_id, "assetId": asset_id, "recipient": ip.buyer.address})]
    assert ip.call(ip.pledges.functions.transferConsentOf(pledge_id)) == ip.buyer.address


def test_consent_to_transfer_withdrawn_blocks_transfer_again(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    ip.send(ip.pledges.functions.consentToTransfer(pledge_id, ip.buyer.address), ip.bank)
    ip.send(ip.pledges.functions.consentToTransfer(pledge_id, ZERO_ADDRESS), ip.bank)
    error = ip.refused(ip.registry.functions.transferFrom(ip.owner.address, ip.buyer.address, asset_id), ip.owner)
    assert error.name == "IPRegistryAssetPledged"


@pytest.mark.parametrize("act", ["consentToTransfer", "consentToLicense"])
def test_consent_by_other_than_pledgee_reverts_with_not_pledgee(ip: IPKit, act):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms()
    fn = (ip.pledges.functions.consentToTransfer(pledge_id, ip.owner.address) if act == "consentToTransfer"
          else ip.pledges.functions.consentToLicense(pledge_id, terms))
    error = ip.refused(fn, ip.owner)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotPledgee", {"pledgeId": pledge_id, "account": ip.owner.address})
    assert ip.call(ip.pledges.functions.transferConsentOf(pledge_id)) == ZERO_ADDRESS
    consent_id = ip.call(ip.pledges.functions.licenseConsentId(terms))
    assert ip.call(ip.pledges.functions.isLicenseConsented(pledge_id, consent_id)) is False


def test_consent_when_not_active_reverts_with_not_active(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.propose(asset_id)
    error = ip.refused(ip.pledges.functions.consentToTransfer(pledge_id, ip.buyer.address), ip.bank)
    assert (error.name, error.arguments) == ("PledgeRegistryNotActive", {"pledgeId": pledge_id, "status": P_PROPOSED})


def test_consent_to_license_by_pledgee_records_terms_and_emits(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms(kind=EXCLUSIVE, territory="CN", fee=123)
    consent_id = keccak(abi_encode([TERMS_TYPE], [terms]))
    receipt = ip.send(ip.pledges.functions.consentToLicense(pledge_id, terms), ip.bank)
    [(name, args)] = ip.events(ip.pledges, receipt)
    assert (name, args["pledgeId"], args["assetId"], args["consentId"]) == (
        "LicenseConsented", pledge_id, asset_id, hex32(consent_id))
    assert args["terms"]["fee"] == 123 and args["terms"]["licensee"] == ip.licensee.address
    assert ip.call(ip.pledges.functions.licenseConsentId(terms)) == consent_id
    assert ip.call(ip.pledges.functions.isLicenseConsented(pledge_id, consent_id)) is True


def test_consent_to_license_twice_unused_reverts_with_consent_exists(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms()  # once: its start is the latest block's time, and a node may move that each block
    consent_id = ip.consent_to_license(pledge_id, terms)
    error = ip.refused(ip.pledges.functions.consentToLicense(pledge_id, terms), ip.bank)
    assert (error.name, error.arguments) == (
        "PledgeRegistryLicenseConsentExists", {"pledgeId": pledge_id, "consentId": hex32(consent_id)})


# -- license consents bind terms, are withdrawable and die with the pledge (issue 11 item 1) ---------


def test_license_consent_used_for_other_terms_reverts_with_asset_pledged(ip: IPKit):
    """The attack: the bank consents to a modest licence; the owner uses the consent for an exclusive,
    worldwide, zero-fee, long licence to an accomplice (the consent was a licence *number*)."""
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    modest = ip.terms(kind=NON_EXCLUSIVE, territory="CN-11", field="H04L", fee=900_000)
    ip.consent_to_license(pledge_id, modest)
    accomplice = ip.offer(asset_id, licensee=ip.other.address, kind=EXCLUSIVE, fee=0, end=ip.now() + 50 * YEAR)
    error = ip.refused(ip.licenses.functions.accept(accomplice), ip.other)
    assert (error.name, error.arguments) == (
        "LicenseRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    assert ip.license_of(accomplice)["status"] == L_OFFERED
    # One term changed is other terms, too: the fee, the licensee, the kind.
    for changed in ({"fee": 899_999}, {"licensee": ip.other.address}, {"kind": SOLE}):
        terms = {"kind": NON_EXCLUSIVE, "territory": "CN-11", "field": "H04L", "fee": 900_000,
                 "start": modest[2], "end": modest[3], **changed}
        other = ip.offer(asset_id, **terms)
        signer = ip.other if changed.get("licensee") else ip.licensee
        assert ip.refused(ip.licenses.functions.accept(other), signer).name == "LicenseRegistryAssetPledged"


def test_license_consent_used_for_its_exact_terms_activates_once_and_emits_used(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms(territory="CN", fee=900_000)
    consent_id = ip.consent_to_license(pledge_id, terms)
    first = ip.offer(asset_id, start=terms[2], end=terms[3], territory="CN", fee=900_000)
    receipt = ip.accept_license(first)
    assert ("LicenseConsentUsed", {"pledgeId": pledge_id, "assetId": asset_id, "consentId": hex32(consent_id),
                                   "licenseId": first}) in ip.events(ip.pledges, receipt)
    assert ip.license_of(first)["status"] == L_ACTIVE
    assert ip.call(ip.pledges.functions.isLicenseConsented(pledge_id, consent_id)) is False
    again = ip.offer(asset_id, start=terms[2], end=terms[3], territory="CN", fee=900_000)
    error = ip.refused(ip.licenses.functions.accept(again), ip.licensee)  # used up: one consent, one licence
    assert error.name == "LicenseRegistryAssetPledged"


def test_license_consent_for_anyone_activates_those_terms_for_any_licensee(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms(ZERO_ADDRESS, territory="US", fee=7)
    ip.consent_to_license(pledge_id, terms)
    license_id = ip.offer(asset_id, licensee=ip.other.address, start=terms[2], end=terms[3], territory="US", fee=7)
    ip.accept_license(license_id, ip.other)
    assert ip.license_of(license_id)["status"] == L_ACTIVE


def test_withdraw_license_consent_then_accept_reverts_with_asset_pledged(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms(territory="CN")
    consent_id = ip.consent_to_license(pledge_id, terms)
    receipt = ip.send(ip.pledges.functions.withdrawLicenseConsent(pledge_id, consent_id), ip.bank)
    assert ip.events(ip.pledges, receipt) == [("LicenseConsentWithdrawn", {
        "pledgeId": pledge_id, "assetId": asset_id, "consentId": hex32(consent_id)})]
    assert ip.call(ip.pledges.functions.isLicenseConsented(pledge_id, consent_id)) is False
    license_id = ip.offer(asset_id, start=terms[2], end=terms[3], territory="CN")
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert (error.name, error.arguments) == (
        "LicenseRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    assert ip.license_of(license_id)["status"] == L_OFFERED


def test_withdraw_license_consent_unknown_or_used_reverts_with_no_license_consent(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms()
    consent_id = ip.consent_to_license(pledge_id, terms)
    ip.accept_license(ip.offer(asset_id, start=terms[2], end=terms[3]))
    error = ip.refused(ip.pledges.functions.withdrawLicenseConsent(pledge_id, consent_id), ip.bank)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNoLicenseConsent", {"pledgeId": pledge_id, "consentId": hex32(consent_id)})


def test_withdraw_license_consent_by_other_than_pledgee_reverts_with_not_pledgee(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    consent_id = ip.consent_to_license(pledge_id, ip.terms())
    error = ip.refused(ip.pledges.functions.withdrawLicenseConsent(pledge_id, consent_id), ip.owner)
    assert (error.name, error.arguments) == (
        "PledgeRegistryNotPledgee", {"pledgeId": pledge_id, "account": ip.owner.address})
    assert ip.call(ip.pledges.functions.isLicenseConsented(pledge_id, consent_id)) is True


@pytest.mark.parametrize("end", ["release", "enforce"])
def test_license_consent_after_release_or_enforcement_is_void_under_new_pledge(ip: IPKit, end):
    """A new pledge must not inherit the old pledge's consents."""
    asset_id = ip.register()
    maturity = ip.now() + DAY
    old = ip.pledge(asset_id, maturity=maturity)
    terms = ip.terms(territory="CN", end=ip.now() + YEAR)
    consent_id = ip.consent_to_license(old, terms)
    if end == "release":
        ip.send(ip.pledges.functions.release(old), ip.bank)
    else:
        ip.chain.increase_time(DAY + 1)
        ip.send(ip.pledges.functions.enforce(old, ip.owner.address), ip.bank)  # sold back to the owner
    assert ip.call(ip.pledges.functions.isLicenseConsented(old, consent_id)) is False
    new = ip.pledge(asset_id)
    license_id = ip.offer(asset_id, start=terms[2], end=terms[3], territory="CN")
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert (error.name, error.arguments) == ("LicenseRegistryAssetPledged", {"assetId": asset_id, "pledgeId": new})
    assert ip.license_of(license_id)["status"] == L_OFFERED


def test_authorize_license_by_anyone_but_license_registry_reverts_with_unauthorized_caller(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    terms = ip.terms()
    consent_id = ip.consent_to_license(pledge_id, terms)
    error = ip.refused(ip.pledges.functions.authorizeLicense(asset_id, 1, terms), ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("PledgeRegistryUnauthorizedCaller", {"caller": ip.owner.address})
    assert ip.call(ip.pledges.functions.isLicenseConsented(pledge_id, consent_id)) is True


def test_set_license_registry_again_reverts_with_already_set(ip: IPKit):
    wired = ip.call(ip.pledges.functions.licenseRegistry())
    assert wired == ip.licenses.address
    error = ip.refused(ip.pledges.functions.setLicenseRegistry(ip.stranger.address), ip.admin)
    assert (error.name, error.arguments) == ("PledgeRegistryLicenseRegistryAlreadySet", {"licenseRegistry": wired})
    error = ip.refused(ip.pledges.functions.setLicenseRegistry(ip.stranger.address), ip.stranger)
    assert error.name == "AccessControlUnauthorizedAccount"


# -- the bank's acceptance names the encumbrances it checked (issue 11 item 2) ----------------------


def test_accept_after_accomplice_accepted_exclusive_offer_since_check_reverts_with_encumbrances_changed(ip: IPKit):
    """The attack: a pre-made exclusive offer is accepted between the bank's check and its acceptance."""
    asset_id = ip.register()
    offer = ip.offer(asset_id, licensee=ip.other.address, kind=EXCLUSIVE)
    pledge_id = ip.propose(asset_id)
    checked = ip.call(ip.lens.functions.dueDiligence(asset_id, 0))
    seen = checked[-1]  # the report's encumbranceVersion
    assert seen == ip.encumbrance_version(asset_id) and checked[-3] == [offer]  # the offer is in the report
    ip.accept_license(offer, ip.other)
    error = ip.refused(ip.pledges.functions.accept(pledge_id, seen), ip.bank)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("PledgeRegistryEncumbrancesChanged", {
        "pledgeId": pledge_id, "expectedVersion": seen, "version": seen + 1})
    assert ip.pledge_of(pledge_id)["status"] == P_PROPOSED
    assert ip.call(ip.pledges.functions.activePledgeOf(asset_id)) == 0


@pytest.mark.parametrize("change", ["offer", "terminate", "accept"])
def test_accept_after_any_license_change_since_check_reverts_with_encumbrances_changed(ip: IPKit, change):
    asset_id = ip.register()
    pending = ip.offer(asset_id)
    pledge_id = ip.propose(asset_id)
    seen = ip.encumbrance_version(asset_id)
    if change == "offer":
        ip.offer(asset_id, licensee=ip.other.address, kind=SOLE)
    elif change == "terminate":
        ip.send(ip.licenses.functions.terminate(pending, b"\1" * 32), ip.owner)
    else:
        ip.accept_license(pending)
    error = ip.refused(ip.pledges.functions.accept(pledge_id, seen), ip.bank)
    assert error.name == "PledgeRegistryEncumbrancesChanged"
    assert ip.pledge_of(pledge_id)["status"] == P_PROPOSED
    ip.accept_pledge(pledge_id)  # a fresh check's version goes through
    assert ip.pledge_of(pledge_id)["status"] == P_ACTIVE


def test_accept_with_version_of_unchanged_asset_activates(ip: IPKit):
    asset_id = ip.register()
    ip.license(asset_id, territory="US")
    pledge_id = ip.propose(asset_id)
    seen = ip.call(ip.lens.functions.dueDiligence(asset_id, 0))[-1]
    ip.register()  # other assets' changes do not matter
    ip.license(2, territory="US")
    ip.accept_pledge(pledge_id, version=seen)
    assert ip.pledge_of(pledge_id)["status"] == P_ACTIVE


def test_authorize_transfer_by_anyone_but_registry_reverts_with_unauthorized_caller(ip: IPKit):
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    ip.send(ip.pledges.functions.consentToTransfer(pledge_id, ip.buyer.address), ip.bank)
    error = ip.refused(ip.pledges.functions.authorizeTransfer(asset_id, ip.buyer.address), ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("PledgeRegistryUnauthorizedCaller", {"caller": ip.owner.address})
    assert ip.call(ip.pledges.functions.transferConsentOf(pledge_id)) == ip.buyer.address


def test_pledge_of_unknown_pledge_reverts_with_unknown_pledge(ip: IPKit):
    with pytest.raises(NotFoundError) as caught:
        ip.call(ip.pledges.functions.pledgeOf(3))
    assert caught.value.name == "PledgeRegistryUnknownPledge"  # type: ignore[attr-defined]
