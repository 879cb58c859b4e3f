"""PledgeService on a real Anvil: propose, accept, cancel, release, enforce, consents; refusals as sentences."""

from __future__ import annotations

import os

import pytest

from ledger.context import Ledger
from ledger.encoding import PledgeStatus
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


def version(ledger: Ledger, pledge_id: int) -> int:
    """The encumbrance version a fresh bank check of the pledge's asset shows."""
    return ledger.check.due_diligence(ledger.pledges.pledge_of(pledge_id).asset_id).encumbrance_version


def propose(ledger: Ledger, ip: IPKit, asset_id: int, maturity: int | None = None) -> int:
    done = ledger.pledges.propose(asset_id, ip.bank.address, 5_000_000, "cny", maturity or ip.now() + YEAR,
                                  "0x" + "09" * 32, sender=ip.owner)
    return done.ids["pledgeId"]


def test_propose_then_accept_pledges_the_asset(ledger: Ledger, ip: IPKit, asset_id: int):
    maturity = ip.now() + YEAR
    pledge_id = propose(ledger, ip, asset_id, maturity)
    assert ledger.pledges.pledge_of(pledge_id).status is PledgeStatus.PROPOSED
    assert ledger.pledges.active_pledge_of(asset_id) is None
    ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.bank)
    pledge = ledger.pledges.require_active_pledge_of(asset_id)
    assert (pledge.pledge_id, pledge.status, pledge.pledgor, pledge.pledgee) == (
        pledge_id, PledgeStatus.ACTIVE, ip.owner.address, ip.bank.address)
    assert (pledge.principal, pledge.currency, pledge.maturity, pledge.contract_hash) == (
        5_000_000, "CNY", maturity, "0x" + "09" * 32)


def test_propose_to_an_account_without_the_pledgee_role_is_denied_naming_the_role(ledger, ip, asset_id):
    with pytest.raises(PermissionDeniedError) as refused:
        ledger.pledges.propose(asset_id, ip.stranger.address, 1, "CNY", ip.now() + YEAR, sender=ip.owner)
    assert str(refused.value) == (f"{ip.stranger.address} does not hold the role pledgee (PLEDGEE_ROLE) "
                                  "needed for this act")
    assert ledger.pledges.pledge_count() == 0


def test_second_pledge_of_a_pledged_asset_is_a_conflict(ledger: Ledger, ip: IPKit, asset_id: int):
    pledge_id = propose(ledger, ip, asset_id)
    ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.bank)
    with pytest.raises(ConflictError, match=f"asset {asset_id} is already pledged \\(pledge {pledge_id}\\)"):
        propose(ledger, ip, asset_id)


def test_release_frees_the_asset_and_a_second_release_says_why_not(ledger: Ledger, ip: IPKit, asset_id: int):
    pledge_id = propose(ledger, ip, asset_id)
    ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.bank)
    ledger.pledges.release(pledge_id, sender=ip.bank)
    assert ledger.pledges.active_pledge_of(asset_id) is None
    with pytest.raises(NotFoundError, match=f"asset {asset_id} is not pledged"):
        ledger.pledges.require_active_pledge_of(asset_id)
    with pytest.raises(ConflictError, match=f"pledge {pledge_id} is not active \\(it is released\\)"):
        ledger.pledges.release(pledge_id, sender=ip.bank)


def test_enforce_before_maturity_is_refused_then_after_it_moves_the_asset_to_the_buyer(ledger, ip, asset_id, chain):
    pledge_id = propose(ledger, ip, asset_id, ip.now() + 30 * DAY)
    ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.bank)
    with pytest.raises(ConflictError, match="only after its maturity"):
        ledger.pledges.enforce(pledge_id, sender=ip.bank)
    assert ip.owner_of(asset_id) == ip.owner.address
    chain.increase_time(31 * DAY)
    ledger.pledges.enforce(pledge_id, ip.buyer.address, sender=ip.bank)
    assert ip.owner_of(asset_id) == ip.buyer.address
    assert ledger.pledges.pledge_of(pledge_id).status is PledgeStatus.ENFORCED


def test_consent_to_transfer_lets_the_pledged_asset_move_once(ledger: Ledger, ip: IPKit, asset_id: int):
    pledge_id = propose(ledger, ip, asset_id)
    ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.bank)
    with pytest.raises(ConflictError, match="is pledged"):
        ledger.assets.transfer(asset_id, ip.buyer.address, sender=ip.owner)
    ledger.pledges.consent_to_transfer(pledge_id, ip.buyer.address, sender=ip.bank)
    assert ledger.pledges.transfer_consent_of(pledge_id) == ip.buyer.address
    ledger.assets.transfer(asset_id, ip.buyer.address, sender=ip.owner)
    assert ip.owner_of(asset_id) == ip.buyer.address
    assert ledger.pledges.transfer_consent_of(pledge_id) is None


def test_consent_to_license_lets_the_licensee_accept(ledger: Ledger, ip: IPKit, asset_id: int):
    pledge_id = propose(ledger, ip, asset_id)
    ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.bank)
    now = ip.now()
    license_id = ledger.licenses.offer(asset_id, LicenseTerms(ip.licensee.address, "non-exclusive", now, now + YEAR),
                                       sender=ip.owner).ids["licenseId"]
    with pytest.raises(ConflictError, match="has not consented to a license on exactly these terms"):
        ledger.licenses.accept(license_id, sender=ip.licensee)
    offered = ledger.licenses.license_of(license_id)
    _, consent_id = ledger.pledges.consent_to_offered_license(pledge_id, offered, sender=ip.bank)
    assert ledger.pledges.is_license_consented(pledge_id, consent_id)
    ledger.licenses.accept(license_id, sender=ip.licensee)
    assert not ledger.pledges.is_license_consented(pledge_id, consent_id)  # used up


def test_consent_to_offered_terms_does_not_cover_other_terms_and_can_be_withdrawn(
        ledger: Ledger, ip: IPKit, asset_id: int):
    pledge_id = propose(ledger, ip, asset_id)
    ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.bank)
    now = ip.now()
    modest = ledger.licenses.offer(asset_id, LicenseTerms(ip.licensee.address, "non-exclusive", now, now + YEAR,
                                                          "CN", "H04L", fee=900_000), sender=ip.owner).ids["licenseId"]
    _, consent_id = ledger.pledges.consent_to_offered_license(
        pledge_id, ledger.licenses.license_of(modest), sender=ip.bank)
    greedy = ledger.licenses.offer(asset_id, LicenseTerms(ip.buyer.address, "exclusive", now, now + 50 * YEAR,
                                                          fee=0), sender=ip.owner).ids["licenseId"]
    with pytest.raises(ConflictError, match="exactly these terms"):
        ledger.licenses.accept(greedy, sender=ip.buyer)
    ledger.pledges.withdraw_license_consent(pledge_id, consent_id, sender=ip.bank)
    with pytest.raises(ConflictError, match="exactly these terms"):
        ledger.licenses.accept(modest, sender=ip.licensee)
    with pytest.raises(NotFoundError, match="no unused license consent"):
        ledger.pledges.withdraw_license_consent(pledge_id, consent_id, sender=ip.bank)


def test_accept_on_a_check_older_than_an_accepted_offer_is_refused_with_a_sentence(
        ledger: Ledger, ip: IPKit, asset_id: int):
    now = ip.now()
    offer = ledger.licenses.offer(asset_id, LicenseTerms(ip.buyer.address, "exclusive", now, now + YEAR),
                                  sender=ip.owner).ids["licenseId"]
    pledge_id = propose(ledger, ip, asset_id)
    report = ledger.check.due_diligence(asset_id)
    assert [o.license_id for o in report.offers] == [offer] and "exclusively_offered" in codes(report)
    ledger.licenses.accept(offer, sender=ip.buyer)  # the accomplice, between the check and the acceptance
    with pytest.raises(ConflictError, match="changed since your check"):
        ledger.pledges.accept(pledge_id, report.encumbrance_version, sender=ip.bank)
    assert ledger.pledges.pledge_of(pledge_id).status is PledgeStatus.PROPOSED


def codes(report) -> list[str]:
    return [f.code for f in report.red_flags]


def test_cancel_by_the_pledgor_and_acts_by_strangers_are_denied(ledger: Ledger, ip: IPKit, asset_id: int):
    pledge_id = propose(ledger, ip, asset_id)
    with pytest.raises(PermissionDeniedError, match=f"is not the pledgee of pledge {pledge_id}"):
        ledger.pledges.accept(pledge_id, version(ledger, pledge_id), sender=ip.stranger)
    ledger.pledges.cancel(pledge_id, sender=ip.owner)
    assert ledger.pledges.pledge_of(pledge_id).status is PledgeStatus.CANCELLED


@pytest.mark.parametrize("principal, currency, maturity, message", [
    (0, "CNY", "2030-01-01", "greater than zero"),
    (1, "RMB1", "2030-01-01", "not a currency code"),
    (1, "CNY", "2030-02-30", "not a date"),
    ("1e6", "CNY", "2030-01-01", "whole number"),
])
def test_bad_proposal_raises_validation_error_and_sends_nothing(ledger, ip, asset_id, chain, principal, currency,
                                                                maturity, message):
    bank = ip.bank.address
    block = chain.w3.eth.block_number
    with pytest.raises(ValidationError, match=message):
        ledger.pledges.propose(asset_id, bank, principal, currency, maturity, sender=ip.owner)
    assert chain.w3.eth.block_number == block


def test_pledge_of_unknown_id_and_pledge_of_unknown_asset_are_not_found(ledger: Ledger):
    with pytest.raises(NotFoundError, match="pledge 3 does not exist"):
        ledger.pledges.pledge_of(3)
    with pytest.raises(NotFoundError, match="asset 42 does not exist"):
        ledger.pledges.require_active_pledge_of(42)
