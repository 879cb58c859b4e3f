"""LicenseService on a real Anvil: offer, accept, terminate, record, list; refusals as sentences."""

from __future__ import annotations

import os

import pytest

from ledger.context import Ledger
from ledger.encoding import LicenseKind, LicenseStatus
from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.registry.licenses import LicenseTerms
from ledger.registry.metadata import build_document
from ledger.settings import Settings
from tests.contracts.ipkit import DAY, YEAR, IPKit


@pytest.fixture
def ledger(chain, deployment, artifacts, tmp_path) -> Ledger:
    return Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)


@pytest.fixture
def ip(chain, contract, accounts) -> IPKit:
    return IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
                 pledges=contract("PledgeRegistry"), lens=contract("IPLens"), forwarder=contract("IpledgerForwarder"),
                 accounts=accounts)


@pytest.fixture
def asset_id(ledger: Ledger, ip: IPKit) -> int:
    return ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("T"),
                                  sender=ip.owner).asset_id


def terms(ip: IPKit, kind: str = "non-exclusive", **overrides) -> LicenseTerms:
    now = ip.now()
    values = {"licensee": ip.licensee.address, "kind": kind, "start": now, "end": now + YEAR, "territory": "CN",
              "field_of_use": "H04L", "fee": 50_000}
    values.update(overrides)
    return LicenseTerms(**values)


def test_offer_then_accept_makes_an_active_license_with_its_scope(ledger: Ledger, ip: IPKit, asset_id: int):
    offered = ledger.licenses.offer(asset_id, terms(ip, "sole", territory="cn-bj", terms_hash="0x" + "07" * 32),
                                    sender=ip.owner)
    license_id = offered.ids["licenseId"]
    assert ledger.licenses.license_of(license_id).status is LicenseStatus.OFFERED
    ledger.licenses.accept(license_id, sender=ip.licensee)
    lic = ledger.licenses.license_of(license_id)
    assert (lic.kind, lic.status, lic.exclusive) == (LicenseKind.SOLE, LicenseStatus.ACTIVE, True)
    assert (lic.asset_id, lic.licensor, lic.licensee) == (asset_id, ip.owner.address, ip.licensee.address)
    assert (lic.territory, lic.field_of_use, lic.fee, lic.terms_hash) == ("CN-BJ", "H04L", 50_000, "0x" + "07" * 32)
    assert ledger.licenses.active_licenses_of(asset_id) == [lic]


def test_overlapping_license_of_an_exclusive_one_is_refused_naming_it(ledger: Ledger, ip: IPKit, asset_id: int):
    exclusive = ledger.licenses.offer(asset_id, terms(ip, "exclusive", territory="CN"), sender=ip.owner)
    ledger.licenses.accept(exclusive.ids["licenseId"], sender=ip.licensee)
    with pytest.raises(ConflictError) as refused:
        ledger.licenses.offer(asset_id, terms(ip, licensee=ip.buyer.address, territory="CN-SH"), sender=ip.owner)
    assert f"the exclusive license {exclusive.ids['licenseId']} of asset {asset_id}" in str(refused.value)
    assert ledger.licenses.license_count() == 1
    other_field = ledger.licenses.offer(asset_id, terms(ip, licensee=ip.buyer.address, field_of_use="A61K"),
                                        sender=ip.owner)
    assert other_field.ids["licenseId"] == 2


def test_terminate_by_licensee_and_record_filing_by_registrar(ledger: Ledger, ip: IPKit, asset_id: int):
    first = ledger.licenses.offer(asset_id, terms(ip), sender=ip.owner).ids["licenseId"]
    ledger.licenses.accept(first, sender=ip.licensee)
    ledger.licenses.record_filing(first, " 2026990000123 ")
    assert ledger.licenses.license_of(first).recordal_no == "2026990000123"
    ledger.licenses.terminate(first, "0x" + "aa" * 32, sender=ip.licensee)
    assert ledger.licenses.license_of(first).status is LicenseStatus.TERMINATED
    with pytest.raises(ConflictError, match=f"license {first} is not active \\(it is terminated\\)"):
        ledger.licenses.record_filing(first, "2026990000124")


def test_record_filing_by_owner_is_denied(ledger: Ledger, ip: IPKit, asset_id: int):
    license_id = ledger.licenses.offer(asset_id, terms(ip), sender=ip.owner).ids["licenseId"]
    ledger.licenses.accept(license_id, sender=ip.licensee)
    with pytest.raises(PermissionDeniedError, match="registrar"):
        ledger.licenses.record_filing(license_id, "1", sender=ip.owner)
    assert ledger.licenses.license_of(license_id).recordal_no == ""


def test_accept_by_other_than_the_licensee_is_denied(ledger: Ledger, ip: IPKit, asset_id: int):
    license_id = ledger.licenses.offer(asset_id, terms(ip), sender=ip.owner).ids["licenseId"]
    with pytest.raises(PermissionDeniedError, match=f"is not the licensee of license {license_id}"):
        ledger.licenses.accept(license_id, sender=ip.stranger)
    assert ledger.licenses.license_of(license_id).status is LicenseStatus.OFFERED


@pytest.mark.parametrize("overrides, message", [
    ({"kind": "exclusively"}, "unknown license kind"),
    ({"territory": "中国"}, "territory"),
    ({"end": 1}, "must start before it ends"),
    ({"licensee": "0x123"}, "not an account address"),
    ({"fee": "1.5"}, "whole number"),
])
def test_bad_terms_raise_validation_error_and_send_nothing(ledger, ip, asset_id, chain, overrides, message):
    block = chain.w3.eth.block_number
    with pytest.raises(ValidationError, match=message):
        ledger.licenses.offer(asset_id, terms(ip, **overrides), sender=ip.owner)
    assert chain.w3.eth.block_number == block


def test_licenses_of_pages_oldest_first_and_active_only(ledger: Ledger, ip: IPKit, asset_id: int, chain):
    ids = [ledger.licenses.offer(asset_id, terms(ip, licensee=a.address), sender=ip.owner).ids["licenseId"]
           for a in (ip.licensee, ip.buyer, ip.stranger)]
    ledger.licenses.accept(ids[1], sender=ip.buyer)
    page, count = ledger.licenses.licenses_of(asset_id, offset=1, limit=5)
    assert count == 3 and [lic.license_id for lic in page] == ids[1:]
    active, count = ledger.licenses.licenses_of(asset_id, active_only=True)
    assert (count, [lic.license_id for lic in active]) == (1, [ids[1]])
    chain.increase_time(YEAR + DAY)
    assert ledger.licenses.license_of(ids[1]).status is LicenseStatus.EXPIRED
    assert ledger.licenses.licenses_of(asset_id, active_only=True) == ([], 0)


def test_licenses_of_unknown_asset_is_not_found(ledger: Ledger):
    with pytest.raises(NotFoundError, match="asset 77 does not exist"):
        ledger.licenses.licenses_of(77)
    with pytest.raises(NotFoundError, match="license 5 does not exist"):
        ledger.licenses.license_of(5)
