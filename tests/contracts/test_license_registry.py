"""LicenseRegistry on a real Anvil: offer, accept, terminate, recordal, expiry, and the exclusivity rules."""

from __future__ import annotations

import re

import pycountry
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tests.contracts.ipkit import (
    DAY,
    EXCLUSIVE,
    L_ACTIVE,
    L_EXPIRED,
    L_OFFERED,
    L_TERMINATED,
    NON_EXCLUSIVE,
    REVERTS,
    SOLE,
    YEAR,
    ZERO_ADDRESS,
    IPKit,
    b32,
    hex32,
    revert_data,
)
from tests.depth import depth

REGISTRAR_ROLE = "0x" + keccak(text="REGISTRAR_ROLE").hex()


# -- offer -------------------------------------------------------------------------------------


def test_offer_by_owner_records_offer_and_emits_license_offered(ip: IPKit):
    asset_id = ip.register()
    terms = ip.terms(kind=SOLE, territory="CN", field="H04L", fee=123, sublicensable=True)
    receipt = ip.send(ip.licenses.functions.offer(asset_id, terms), ip.owner)
    [(name, args)] = ip.events(ip.licenses, receipt)
    assert name == "LicenseOffered"
    assert {k: args[k] for k in ("licenseId", "assetId", "licensee", "licensor")} == {
        "licenseId": 1, "assetId": asset_id, "licensee": ip.licensee.address, "licensor": ip.owner.address}
    # decoded events are JSON-ready: bytes32 fields of a struct come as 0x-hex like top-level ones
    assert tuple(args["terms"].values()) == (
        ip.licensee.address, SOLE, terms[2], terms[3], "0x" + b32("CN").hex(), "0x" + b32("H04L").hex(),
        "0x" + "07" * 32, 123, True)
    assert ip.license_of(1) == {
        "assetId": asset_id, "licensor": ip.owner.address, "kind": SOLE, "status": L_OFFERED,
        "sublicensable": True, "licensee": ip.licensee.address, "start": terms[2], "end": terms[3],
        "territory": b32("CN"), "fieldOfUse": b32("H04L"), "termsHash": b"\x07" * 32, "fee": 123,
        "recordalNo": b"\0" * 32,
    }
    assert ip.call(ip.licenses.functions.licensesOf(asset_id)) == [1]
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id)) == [[], []]  # offered is not active


def test_offer_by_non_owner_reverts_with_not_owner(ip: IPKit):
    asset_id = ip.register()
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms()), ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "LicenseRegistryNotOwner", {"assetId": asset_id, "account": ip.stranger.address})
    assert ip.call(ip.licenses.functions.licenseCount()) == 0


def test_offer_of_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    error = ip.refused(ip.licenses.functions.offer(99, ip.terms()), ip.owner)
    assert (error.name, error.arguments) == ("ERC721NonexistentToken", {"tokenId": 99})


@pytest.mark.parametrize("licensee", ["zero", "owner"])
def test_offer_to_zero_or_self_reverts_with_invalid_licensee(ip: IPKit, licensee):
    asset_id = ip.register()
    address = ZERO_ADDRESS if licensee == "zero" else ip.owner.address
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms(address)), ip.owner)
    assert (error.name, error.arguments) == ("LicenseRegistryInvalidLicensee", {"licensee": address})


@pytest.mark.parametrize("term", ["start_after_end", "empty", "ended"])
def test_offer_with_bad_term_reverts_with_invalid_term(ip: IPKit, term):
    asset_id = ip.register()
    now = ip.now()
    start, end = {"start_after_end": (now + 2 * DAY, now + DAY), "empty": (now + DAY, now + DAY),
                  "ended": (now - 2 * DAY, now - DAY)}[term]
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms(start=start, end=end)), ip.owner)
    assert (error.name, error.arguments) == ("LicenseRegistryInvalidTerm", {"start": start, "end": end})
    assert ip.call(ip.licenses.functions.licenseCount()) == 0


def test_offer_when_frozen_reverts_with_asset_frozen(ip: IPKit):
    asset_id = ip.register()
    until = ip.now() + DAY
    ip.freeze(asset_id, until=until)
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms()), ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("LicenseRegistryAssetFrozen", {"assetId": asset_id, "until": until})
    assert ip.call(ip.licenses.functions.licenseCount()) == 0


def test_offer_overlapping_active_exclusive_reverts_with_exclusivity_conflict(ip: IPKit):
    asset_id = ip.register()
    exclusive = ip.license(asset_id, kind=EXCLUSIVE, territory="CN")
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms(ip.other.address, territory="CN-11")),
                       ip.owner)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("LicenseRegistryExclusivityConflict", {
        "assetId": asset_id, "conflictingLicenseId": exclusive, "conflictingKind": EXCLUSIVE})
    assert ip.call(ip.licenses.functions.licensesOf(asset_id)) == [exclusive]


# -- accept ------------------------------------------------------------------------------------


def test_accept_by_licensee_activates_license_and_emits_license_accepted(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id, kind=EXCLUSIVE)
    receipt = ip.accept_license(license_id)
    assert ip.events(ip.licenses, receipt) == [
        ("LicenseAccepted", {"licenseId": license_id, "assetId": asset_id, "licensee": ip.licensee.address})]
    assert ip.license_of(license_id)["status"] == L_ACTIVE
    ids, licenses = ip.call(ip.licenses.functions.activeLicensesOf(asset_id))
    assert ids == [license_id] and licenses[0][2] == EXCLUSIVE


def test_accept_by_other_than_licensee_reverts_with_not_licensee(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id)
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "LicenseRegistryNotLicensee", {"licenseId": license_id, "account": ip.stranger.address})
    assert ip.license_of(license_id)["status"] == L_OFFERED


def test_accept_twice_reverts_with_not_offered(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id)
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("LicenseRegistryNotOffered", {"licenseId": license_id, "status": L_ACTIVE})


def test_accept_unknown_license_reverts_with_unknown_license(ip: IPKit):
    error = ip.refused(ip.licenses.functions.accept(5), ip.licensee)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("LicenseRegistryUnknownLicense", {"licenseId": 5})


def test_accept_after_term_ended_reverts_with_license_ended(ip: IPKit):
    asset_id = ip.register()
    end = ip.now() + 100
    license_id = ip.offer(asset_id, end=end)
    ip.chain.increase_time(101)
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert (error.name, error.arguments) == ("LicenseRegistryLicenseEnded", {"licenseId": license_id, "end": end})
    assert ip.license_of(license_id)["status"] == L_OFFERED


def test_accept_when_frozen_since_offer_reverts_with_asset_frozen(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id)
    until = ip.now() + DAY
    ip.freeze(asset_id, until=until)
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert (error.name, error.arguments) == ("LicenseRegistryAssetFrozen", {"assetId": asset_id, "until": until})
    assert ip.license_of(license_id)["status"] == L_OFFERED


def test_accept_after_freeze_lapsed_activates_license(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id)
    ip.freeze(asset_id, until=ip.now() + 100)
    ip.chain.increase_time(101)
    ip.accept_license(license_id)
    assert ip.license_of(license_id)["status"] == L_ACTIVE


def test_accept_when_pledged_without_consent_reverts_with_asset_pledged(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id)
    pledge_id = ip.pledge(asset_id)
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == (
        "LicenseRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    assert ip.license_of(license_id)["status"] == L_OFFERED


def test_accept_when_pledged_with_consent_for_that_license_activates_it(ip: IPKit):
    asset_id = ip.register()
    consented = ip.offer(asset_id)
    other = ip.offer(asset_id, licensee=ip.other.address)
    pledge_id = ip.pledge(asset_id)
    ip.consent_to_license(pledge_id, ip.license_terms(consented))
    ip.accept_license(consented)
    assert ip.license_of(consented)["status"] == L_ACTIVE
    error = ip.refused(ip.licenses.functions.accept(other), ip.other)  # consent is per license
    assert (error.name, error.arguments) == (
        "LicenseRegistryAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})


def test_accept_when_asset_changed_hands_reverts_with_offer_stale(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id)
    ip.transfer(ip.owner, ip.other.address, asset_id)
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("LicenseRegistryOfferStale", {
        "licenseId": license_id, "licensor": ip.owner.address, "owner": ip.other.address})
    assert ip.license_of(license_id)["status"] == L_OFFERED


def test_license_accepted_before_transfer_survives_transfer(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id, kind=EXCLUSIVE)
    ip.transfer(ip.owner, ip.other.address, asset_id)
    assert ip.license_of(license_id)["status"] == L_ACTIVE
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0] == [license_id]
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms(ip.buyer.address)), ip.other)
    assert error.name == "LicenseRegistryExclusivityConflict"  # still binds the new owner


# -- exclusivity -------------------------------------------------------------------------------


@pytest.mark.parametrize(("active_kind", "new_kind"), [
    (EXCLUSIVE, NON_EXCLUSIVE), (EXCLUSIVE, EXCLUSIVE), (SOLE, NON_EXCLUSIVE), (SOLE, SOLE),
    (NON_EXCLUSIVE, EXCLUSIVE), (NON_EXCLUSIVE, SOLE), (EXCLUSIVE, SOLE),
])
def test_accept_overlapping_when_either_is_exclusive_or_sole_reverts_with_exclusivity_conflict(
    ip: IPKit, active_kind, new_kind
):
    asset_id = ip.register()
    pending = ip.offer(asset_id, licensee=ip.other.address, kind=new_kind)  # offered before the conflict
    active = ip.license(asset_id, kind=active_kind)
    error = ip.refused(ip.licenses.functions.accept(pending), ip.other)
    assert (error.name, error.arguments) == ("LicenseRegistryExclusivityConflict", {
        "assetId": asset_id, "conflictingLicenseId": active, "conflictingKind": active_kind})
    assert ip.license_of(pending)["status"] == L_OFFERED
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0] == [active]


def test_accept_non_exclusive_beside_non_exclusive_activates_both(ip: IPKit):
    asset_id = ip.register()
    first = ip.license(asset_id)
    second = ip.license(asset_id, licensee=ip.other.address)
    assert sorted(ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0]) == [first, second]


def test_accept_second_exclusive_offer_after_first_accepted_reverts_with_exclusivity_conflict(ip: IPKit):
    asset_id = ip.register()
    first = ip.offer(asset_id, kind=EXCLUSIVE)
    second = ip.offer(asset_id, licensee=ip.other.address, kind=EXCLUSIVE)
    ip.accept_license(first)
    error = ip.refused(ip.licenses.functions.accept(second), ip.other)
    assert error.arguments["conflictingLicenseId"] == first


@pytest.mark.parametrize(("active", "new"), [
    ({"territory": "CN-11"}, {"territory": "CN-31"}),      # Beijing vs Shanghai
    ({"territory": "CN"}, {"territory": "US"}),
    ({"field": "H04L"}, {"field": "A61K"}),
    ({"field": "H04L9/00"}, {"field": "H04L12/00"}),
    ({"start": 0, "end": 100}, {"start": 100, "end": 200}),  # [0,100) and [100,200) touch, do not overlap
    ({"start": 100, "end": 200}, {"start": 0, "end": 100}),
])
def test_accept_exclusive_disjoint_in_scope_or_time_activates(ip: IPKit, active, new):
    asset_id = ip.register()
    now = ip.now() + 1_000
    shift = {k: (now + v if k in ("start", "end") else v) for k, v in active.items()}
    ip.license(asset_id, kind=EXCLUSIVE, **shift)
    shift = {k: (now + v if k in ("start", "end") else v) for k, v in new.items()}
    second = ip.license(asset_id, licensee=ip.other.address, kind=EXCLUSIVE, **shift)
    assert ip.license_of(second)["status"] == L_ACTIVE


@pytest.mark.parametrize(("active", "new"), [
    ({"territory": "CN"}, {"territory": "CN-11"}),          # a country covers its provinces
    ({"territory": "CN-11"}, {"territory": "CN"}),
    ({"territory": ""}, {"territory": "JP"}),               # zero = worldwide
    ({"territory": "DE"}, {"territory": ""}),
    ({"field": "H04"}, {"field": "H04L9/00"}),              # an IPC class covers its subclasses
    ({"field": ""}, {"field": "A61K"}),
    ({"start": 0, "end": 101}, {"start": 100, "end": 200}),
])
def test_accept_exclusive_overlapping_in_scope_and_time_reverts_with_exclusivity_conflict(ip: IPKit, active, new):
    asset_id = ip.register()
    now = ip.now() + 1_000
    shift = {k: (now + v if k in ("start", "end") else v) for k, v in active.items()}
    first = ip.license(asset_id, kind=EXCLUSIVE, **shift)
    shift = {k: (now + v if k in ("start", "end") else v) for k, v in new.items()}
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms(ip.other.address, kind=SOLE, **shift)),
                       ip.owner)
    assert error.name == "LicenseRegistryExclusivityConflict"
    assert error.arguments["conflictingLicenseId"] == first


def test_accept_after_exclusive_expired_activates_new_license(ip: IPKit):
    asset_id = ip.register()
    exclusive = ip.license(asset_id, kind=EXCLUSIVE, end=ip.now() + 100)
    pending = ip.offer(asset_id, licensee=ip.other.address, start=ip.now() + 200, end=ip.now() + YEAR)
    ip.chain.increase_time(101)
    assert ip.license_of(exclusive)["status"] == L_EXPIRED
    ip.accept_license(pending, ip.other)
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0] == [pending]


def test_accept_after_exclusive_terminated_activates_new_license(ip: IPKit):
    asset_id = ip.register()
    exclusive = ip.license(asset_id, kind=EXCLUSIVE)
    ip.send(ip.licenses.functions.terminate(exclusive, b"\x04" * 32), ip.licensee)
    second = ip.license(asset_id, licensee=ip.other.address, kind=EXCLUSIVE)
    assert ip.license_of(second)["status"] == L_ACTIVE


def _codes(n: int) -> list[str]:
    """``n`` territory codes none of which is a prefix of another: assigned ISO 3166-1 countries (the
    registry accepts only canonical codes)."""
    return sorted(c.alpha_2 for c in pycountry.countries)[:n]


def test_accept_beyond_exclusive_limit_reverts_with_active_license_limit(ip: IPKit):
    asset_id = ip.register()
    limit = ip.call(ip.licenses.functions.MAX_ACTIVE_LICENSES())
    end = ip.now() + 500
    codes = _codes(limit + 1)
    for code in codes[:limit]:
        ip.license(asset_id, kind=EXCLUSIVE, territory=code, end=end)
    extra = ip.offer(asset_id, licensee=ip.other.address, kind=SOLE, territory=codes[limit])
    error = ip.refused(ip.licenses.functions.accept(extra), ip.other)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("LicenseRegistryActiveLicenseLimit", {"assetId": asset_id, "max": limit})
    assert len(ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0]) == limit
    ip.chain.increase_time(501)  # the others expire; accepting prunes them
    ip.accept_license(extra, ip.other)
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0] == [extra]


def test_accept_beyond_shared_scope_limit_reverts_with_shared_scope_limit(ip: IPKit):
    """Non-exclusive licenses count by scope: a new scope past the bound is refused, one more license
    in a scope already active is not, and the exclusive slots stay free."""
    asset_id = ip.register()
    limit = ip.call(ip.licenses.functions.MAX_SHARED_SCOPES())
    start, end = ip.now(), ip.now() + 500
    codes = _codes(limit + 2)
    for code in codes[:limit]:
        ip.license(asset_id, territory=code, start=start, end=end)
    extra = ip.offer(asset_id, licensee=ip.other.address, territory=codes[limit])
    error = ip.refused(ip.licenses.functions.accept(extra), ip.other)
    assert (error.name, error.arguments) == ("LicenseRegistrySharedScopeLimit", {"assetId": asset_id, "max": limit})
    same_scope = ip.license(asset_id, licensee=ip.other.address, territory=codes[0], start=start, end=end)
    exclusive = ip.license(asset_id, licensee=ip.other.address, kind=EXCLUSIVE, territory=codes[limit + 1])
    assert ip.license_of(same_scope)["status"] == ip.license_of(exclusive)["status"] == L_ACTIVE
    assert len(ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0]) == limit + 2
    ip.chain.increase_time(501)  # the scopes expire; accepting a new scope prunes them
    ip.accept_license(extra, ip.other)
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0] == [extra, exclusive]


def test_accept_many_non_exclusive_in_one_scope_leaves_exclusive_elsewhere_possible(ip: IPKit):
    """The attacker's test: 40 non-exclusive licenses of one scope (CN) take one scope slot, so the owner
    still licenses DE exclusively; CN stays blocked for an exclusive license while any of them is active."""
    asset_id = ip.register()
    start, end = ip.now(), ip.now() + YEAR
    blocked = ip.offer(asset_id, licensee=ip.other.address, kind=SOLE, territory="CN-11")
    ids = [ip.license(asset_id, licensee=ip.stranger.address, territory="CN", start=start, end=end)
           for _ in range(40)]
    exclusive = ip.license(asset_id, licensee=ip.other.address, kind=EXCLUSIVE, territory="DE")
    assert ip.license_of(exclusive)["status"] == L_ACTIVE
    error = ip.refused(ip.licenses.functions.accept(blocked), ip.other)
    assert (error.name, error.arguments) == ("LicenseRegistryExclusivityConflict", {
        "assetId": asset_id, "conflictingLicenseId": ids[0], "conflictingKind": NON_EXCLUSIVE})
    for license_id in ids[:-1]:
        ip.send(ip.licenses.functions.terminate(license_id, b"\x04" * 32), ip.stranger)
    error = ip.refused(ip.licenses.functions.accept(blocked), ip.other)  # the last one still blocks
    assert error.name == "LicenseRegistryExclusivityConflict"
    ip.send(ip.licenses.functions.terminate(ids[-1], b"\x04" * 32), ip.stranger)
    ip.accept_license(blocked, ip.other)
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0] == [blocked, exclusive]


# -- terminate, expiry, recordal ---------------------------------------------------------------


@pytest.mark.parametrize("party", ["owner", "licensee"])
def test_terminate_by_owner_or_licensee_ends_license_and_emits(ip: IPKit, party):
    asset_id = ip.register()
    license_id = ip.license(asset_id)
    signer = getattr(ip, party)
    receipt = ip.send(ip.licenses.functions.terminate(license_id, b"\x04" * 32), signer)
    assert ip.events(ip.licenses, receipt) == [("LicenseTerminated", {
        "licenseId": license_id, "assetId": asset_id, "by": signer.address, "reasonHash": hex32(b"\x04" * 32)})]
    assert ip.license_of(license_id)["status"] == L_TERMINATED
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id)) == [[], []]


def test_terminate_offer_by_licensee_declines_it(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id)
    ip.send(ip.licenses.functions.terminate(license_id, b"\x04" * 32), ip.licensee)
    error = ip.refused(ip.licenses.functions.accept(license_id), ip.licensee)
    assert (error.name, error.arguments) == (
        "LicenseRegistryNotOffered", {"licenseId": license_id, "status": L_TERMINATED})


def test_terminate_after_transfer_by_new_owner_ends_and_by_old_owner_reverts(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id)
    ip.transfer(ip.owner, ip.other.address, asset_id)
    error = ip.refused(ip.licenses.functions.terminate(license_id, b"\x04" * 32), ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "LicenseRegistryNotParty", {"licenseId": license_id, "account": ip.owner.address})
    assert ip.license_of(license_id)["status"] == L_ACTIVE
    ip.send(ip.licenses.functions.terminate(license_id, b"\x04" * 32), ip.other)
    assert ip.license_of(license_id)["status"] == L_TERMINATED


def test_terminate_by_stranger_reverts_with_not_party(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id)
    error = ip.refused(ip.licenses.functions.terminate(license_id, b"\x04" * 32), ip.stranger)
    assert error.name == "LicenseRegistryNotParty"
    assert ip.license_of(license_id)["status"] == L_ACTIVE


@pytest.mark.parametrize("how", ["terminated", "expired"])
def test_terminate_when_closed_reverts_with_closed(ip: IPKit, how):
    asset_id = ip.register()
    license_id = ip.license(asset_id, end=ip.now() + 100)
    if how == "terminated":
        ip.send(ip.licenses.functions.terminate(license_id, b"\x04" * 32), ip.owner)
    else:
        ip.chain.increase_time(101)
    error = ip.refused(ip.licenses.functions.terminate(license_id, b"\x04" * 32), ip.owner)
    assert isinstance(error, ConflictError)
    status = L_TERMINATED if how == "terminated" else L_EXPIRED
    assert (error.name, error.arguments) == ("LicenseRegistryClosed", {"licenseId": license_id, "status": status})


def test_license_after_end_reads_expired_and_leaves_active_set(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id, kind=SOLE, end=ip.now() + 100)
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0] == [license_id]
    ip.chain.increase_time(101)
    assert ip.license_of(license_id)["status"] == L_EXPIRED
    assert ip.call(ip.licenses.functions.activeLicensesOf(asset_id)) == [[], []]


def test_record_filing_by_registrar_records_number_and_emits(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id)
    number = b32("2024990000123")
    receipt = ip.send(ip.licenses.functions.recordFiling(license_id, number), ip.admin)
    assert ip.events(ip.licenses, receipt) == [("LicenseRecorded", {
        "licenseId": license_id, "assetId": asset_id, "recordalNo": hex32(number), "registrar": ip.admin.address})]
    assert ip.license_of(license_id)["recordalNo"] == number


def test_record_filing_by_non_registrar_reverts_with_access_control(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id)
    error = ip.refused(ip.licenses.functions.recordFiling(license_id, b32("2024990000123")), ip.owner)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "AccessControlUnauthorizedAccount", {"account": ip.owner.address, "neededRole": REGISTRAR_ROLE})
    assert ip.license_of(license_id)["recordalNo"] == b"\0" * 32


def test_record_filing_of_offer_reverts_with_not_active(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.offer(asset_id)
    error = ip.refused(ip.licenses.functions.recordFiling(license_id, b32("2024990000123")), ip.admin)
    assert (error.name, error.arguments) == ("LicenseRegistryNotActive", {"licenseId": license_id, "status": L_OFFERED})


def test_record_filing_with_zero_number_reverts_with_zero_recordal_no(ip: IPKit):
    asset_id = ip.register()
    license_id = ip.license(asset_id)
    error = ip.refused(ip.licenses.functions.recordFiling(license_id, b"\0" * 32), ip.admin)
    assert (error.name, error.arguments) == ("LicenseRegistryZeroRecordalNo", {})


# -- canonical codes (contracts/types/Codes.sol) ------------------------------------------------


def _canonical_territory(code: str) -> bool:
    """The reference model: zero, an assigned ISO 3166-1 alpha-2 country, or one with a subdivision."""
    if code == "":
        return True
    match = re.fullmatch(r"([A-Z]{2})(-[A-Z0-9]{1,3})?", code)
    return match is not None and pycountry.countries.get(alpha_2=match.group(1)) is not None


def _canonical_field(code: str) -> bool:
    """The reference model: zero, or an IPC section, class, subclass or main group."""
    grammar = r"|[A-H]|[A-H][0-9]{2}|[A-H][0-9]{2}[A-Z]|[A-H][0-9]{2}[A-Z][1-9][0-9]{0,3}/00"
    return re.fullmatch(grammar, code) is not None


@pytest.mark.parametrize("territory", ["cn", "CHN", "156", "Cn", "C", "CN-", "CN-1234", "CN_11", "XX", "WW", "ZZ",
                                       "CN 11", "China"])
def test_offer_with_non_canonical_territory_reverts_with_non_canonical_territory(ip: IPKit, territory):
    asset_id = ip.register()
    count = ip.call(ip.licenses.functions.licenseCount())
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms(territory=territory)), ip.owner)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == (
        "LicenseRegistryNonCanonicalTerritory", {"territory": hex32(b32(territory))})
    assert ip.call(ip.licenses.functions.licenseCount()) == count
    assert ip.call(ip.licenses.functions.licensesOf(asset_id)) == []


@pytest.mark.parametrize("field", ["h04l", "H04l", "H4", "H04L9/32", "H04L09/00", "H04L12345/00", "I01", "H04L9",
                                   "H04L9/0", "medicine"])
def test_offer_with_non_canonical_field_reverts_with_non_canonical_field(ip: IPKit, field):
    asset_id = ip.register()
    error = ip.refused(ip.licenses.functions.offer(asset_id, ip.terms(field=field)), ip.owner)
    assert (error.name, error.arguments) == ("LicenseRegistryNonCanonicalField", {"fieldOfUse": hex32(b32(field))})
    assert ip.call(ip.licenses.functions.licensesOf(asset_id)) == []


def test_offer_with_code_followed_by_garbage_after_a_zero_byte_reverts_with_non_canonical_territory(ip: IPKit):
    asset_id = ip.register()
    padded = b"CN\0X".ljust(32, b"\0")
    terms = (*ip.terms()[:4], padded, *ip.terms()[5:])
    error = ip.refused(ip.licenses.functions.offer(asset_id, terms), ip.owner)
    assert (error.name, error.arguments) == ("LicenseRegistryNonCanonicalTerritory", {"territory": hex32(padded)})


@pytest.mark.parametrize(("territory", "field"), [("", ""), ("CN", "H"), ("CN-11", "H04"), ("US-CA", "H04L"),
                                                  ("GB-ENG", "H04L9/00"), ("DE", "A61K1234/00")])
def test_offer_with_canonical_codes_records_them(ip: IPKit, territory, field):
    asset_id = ip.register()
    license_id = ip.offer(asset_id, territory=territory, field=field)
    got = ip.license_of(license_id)
    assert (got["territory"], got["fieldOfUse"]) == (b32(territory), b32(field))


@pytest.mark.parametrize("spelling", ["CHN", "156", "cn"])
def test_offer_exclusive_for_china_spelled_otherwise_reverts_instead_of_second_exclusive(ip: IPKit, spelling):
    """The attack: "CN", "CHN", "156" and "cn" were four exclusive licenses for one country."""
    asset_id = ip.register()
    ip.license(asset_id, kind=EXCLUSIVE, territory="CN")
    error = ip.refused(
        ip.licenses.functions.offer(asset_id, ip.terms(ip.other.address, kind=EXCLUSIVE, territory=spelling)), ip.owner)
    assert error.name == "LicenseRegistryNonCanonicalTerritory"
    assert ip.call(ip.licenses.functions.licensesOf(asset_id)) == [1]
    assert len(ip.call(ip.licenses.functions.activeLicensesOf(asset_id))[0]) == 1


_CODE_CHARS = "ACDEHNRSUWXZacn0123456789-/ "


@settings(max_examples=depth(60, 2000), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(territory=st.text(_CODE_CHARS, max_size=7), field=st.text("ABHIZhl0149/", max_size=11))
def test_offer_accepts_exactly_the_codes_of_the_reference_model(ip: IPKit, territory, field):
    """Every code the chain takes is canonical by the model (regex + pycountry), and the other way round."""
    asset_id = 1 if ip.call(ip.registry.functions.assetCount()) else ip.register()
    owner = ip.owner_of(asset_id)
    fn = ip.licenses.functions.offer(asset_id, ip.terms(territory=territory, field=field))
    try:
        fn.call({"from": owner})
        refused = None
    except REVERTS as exc:
        refused = revert_data(exc)[:10]
    if not _canonical_territory(territory):
        assert refused == _selector("LicenseRegistryNonCanonicalTerritory(bytes32)")
    elif not _canonical_field(field):
        assert refused == _selector("LicenseRegistryNonCanonicalField(bytes32)")
    else:
        assert refused is None


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()
