"""IPLens on a real Anvil: a bank's due diligence in one eth_call, with the red flags for a loan."""

from __future__ import annotations

import pytest

from ledger.errors import NotFoundError
from tests.contracts.ipkit import (
    DAY,
    EXCLUSIVE,
    GRANTED,
    INVALIDATION_REQUESTED,
    LAPSED,
    NON_EXCLUSIVE,
    P_ACTIVE,
    SOLE,
    TRADEMARK,
    YEAR,
    IPKit,
    b32,
    hex32,
)

FLAGS = ("unverified", "expiresBeforeMaturity", "feesUnpaid", "invalidationPending", "notPledgeable", "frozen",
         "pledged", "exclusivelyLicensed", "holderDisputed", "exclusivelyOffered")


def report(ip: IPKit, asset_id: int, maturity: int = 0) -> dict:
    (asset_id_, ref, asset, frozen, freeze, pledge_id, pledge, license_ids, licenses, flags, block_number,
     timestamp, offer_ids, offers, version) = ip.call(ip.lens.functions.dueDiligence(asset_id, maturity))
    return {
        "assetId": asset_id_, "ref": ref, "asset": asset, "frozen": frozen, "freeze": freeze, "pledgeId": pledge_id,
        "pledge": pledge, "licenseIds": license_ids, "licenses": licenses,
        "flags": {name for name, on in zip(FLAGS, flags, strict=True) if on},
        "blockNumber": block_number, "timestamp": timestamp, "offerIds": offer_ids, "offers": offers,
        "encumbranceVersion": version,
    }


def test_due_diligence_of_clean_verified_asset_raises_no_flags(ip: IPKit):
    asset_id = ip.register(kind=TRADEMARK)
    ip.send(ip.registry.functions.setVerified(asset_id, True), ip.admin)
    ip.send(ip.registry.functions.setLegalStatus(asset_id, GRANTED), ip.admin)
    expires, fees = ip.now() + 5 * YEAR, ip.now() + 3 * YEAR  # fees paid beyond the loan's maturity
    ip.set_dates(asset_id, expires, fees)
    ip.license(asset_id, kind=NON_EXCLUSIVE)
    got = report(ip, asset_id, ip.now() + 2 * YEAR)
    assert got["flags"] == set()
    assert got["asset"] == (ip.owner.address, TRADEMARK, GRANTED, True, expires, fees, 0, False)
    assert (got["frozen"], got["pledgeId"], got["licenseIds"]) == (False, 0, [1])
    assert got["pledge"][2] == 0  # PledgeStatus.None: no pledge
    assert got["freeze"] == ("", "", b"\0" * 32, 0, 0, 0)
    assert got["blockNumber"] == ip.chain.w3.eth.block_number
    assert got["timestamp"] == ip.now()


def test_due_diligence_of_encumbered_asset_raises_every_flag_with_evidence(ip: IPKit):
    asset_id = ip.register()
    expires = ip.now() + YEAR
    ip.set_dates(asset_id, expires, ip.now() + 10)
    exclusive = ip.license(asset_id, kind=EXCLUSIVE, territory="CN", field="H04L")
    other = ip.license(asset_id, licensee=ip.other.address, kind=NON_EXCLUSIVE, territory="US")
    pledge_id = ip.pledge(asset_id, maturity=expires - DAY)
    ip.send(ip.registry.functions.setLegalStatus(asset_id, INVALIDATION_REQUESTED), ip.admin)
    ip.chain.increase_time(11)
    until = ip.now() + 30 * DAY
    ip.freeze(asset_id, until=until)
    got = report(ip, asset_id, expires + DAY)
    assert got["flags"] == {"unverified", "expiresBeforeMaturity", "feesUnpaid", "invalidationPending", "frozen",
                            "pledged", "exclusivelyLicensed"}
    assert got["frozen"] is True and got["asset"][6] == until
    assert got["freeze"][:2] == ("北京知识产权法院", "(2024)京73民初123号") and got["freeze"][4] == until
    assert got["pledgeId"] == pledge_id
    assert got["pledge"][1:5] == (ip.owner.address, P_ACTIVE, ip.bank.address, expires - DAY)
    assert sorted(got["licenseIds"]) == [exclusive, other]
    kinds = {license_id: license[2] for license_id, license in zip(got["licenseIds"], got["licenses"], strict=True)}
    assert kinds == {exclusive: EXCLUSIVE, other: NON_EXCLUSIVE}


@pytest.mark.parametrize(("setup", "flag"), [
    ("lapsed", "notPledgeable"),
    ("past_expiry", "notPledgeable"),
    ("sole", "exclusivelyLicensed"),
])
def test_due_diligence_flags_each_condition(ip: IPKit, setup, flag):
    asset_id = ip.register()
    ip.send(ip.registry.functions.setVerified(asset_id, True), ip.admin)
    if setup == "lapsed":
        ip.send(ip.registry.functions.setLegalStatus(asset_id, LAPSED), ip.admin)
    elif setup == "past_expiry":
        ip.set_dates(asset_id, ip.now() + 10)
        ip.chain.increase_time(11)
    else:
        ip.license(asset_id, kind=SOLE)
    assert report(ip, asset_id)["flags"] == {flag}


def test_due_diligence_without_maturity_never_flags_expiry_before_maturity(ip: IPKit):
    asset_id = ip.register()
    ip.set_dates(asset_id, ip.now() + DAY)
    assert "expiresBeforeMaturity" not in report(ip, asset_id)["flags"]
    assert "expiresBeforeMaturity" in report(ip, asset_id, ip.now() + 2 * DAY)["flags"]


def test_due_diligence_skips_expired_and_terminated_licenses(ip: IPKit):
    asset_id = ip.register()
    ip.license(asset_id, kind=EXCLUSIVE, territory="CN", end=ip.now() + 100)
    ended = ip.license(asset_id, licensee=ip.other.address, kind=NON_EXCLUSIVE, territory="US", end=ip.now() + 1_000)
    ip.send(ip.licenses.functions.terminate(ended, b"\1" * 32), ip.owner)
    ip.chain.increase_time(101)
    got = report(ip, asset_id)
    assert got["licenseIds"] == [] and "exclusivelyLicensed" not in got["flags"]


def test_due_diligence_of_ref_reports_same_asset_with_its_ref(ip: IPKit):
    ref = b32("CN202010123456.7")
    ip.register()
    asset_id = ip.register(ref=ref)
    by_ref = ip.call(ip.lens.functions.dueDiligenceOfRef(ref, 0))
    by_id = ip.call(ip.lens.functions.dueDiligence(asset_id, 0))
    assert by_ref[0] == asset_id and by_ref[1] == ref
    assert by_id[1] == b"\0" * 32
    assert by_ref[2:] == by_id[2:]


def test_due_diligence_of_unknown_ref_reverts_with_unknown_ref(ip: IPKit):
    with pytest.raises(NotFoundError) as caught:
        ip.call(ip.lens.functions.dueDiligenceOfRef(b32("CN000000000000.0"), 0))
    assert caught.value.name == "IPLensUnknownRef"  # type: ignore[attr-defined]
    assert caught.value.arguments == {"ref": hex32(b32("CN000000000000.0"))}  # type: ignore[attr-defined]


def test_due_diligence_of_unknown_asset_reverts_with_nonexistent_token(ip: IPKit):
    with pytest.raises(NotFoundError) as caught:
        ip.call(ip.lens.functions.dueDiligence(12, 0))
    assert caught.value.name == "ERC721NonexistentToken"  # type: ignore[attr-defined]


def test_due_diligence_of_ref_after_unbinding_no_longer_reports_squatter(ip: IPKit):
    ref = b32("CN202010123456.7")
    squatter = ip.register(ip.stranger, ref=ref)
    assert ip.call(ip.lens.functions.dueDiligenceOfRef(ref, 0))[0] == squatter
    ip.send(ip.registry.functions.unbindRef(ref, b"\x5a" * 32), ip.admin)
    with pytest.raises(NotFoundError) as caught:
        ip.call(ip.lens.functions.dueDiligenceOfRef(ref, 0))
    assert caught.value.name == "IPLensUnknownRef"  # type: ignore[attr-defined]
    real = ip.register(ref=ref)
    got = ip.call(ip.lens.functions.dueDiligenceOfRef(ref, 0))
    assert got[0] == real
    assert "holderDisputed" not in report(ip, real)["flags"]


def test_due_diligence_of_asset_of_disputed_holder_raises_holder_disputed(ip: IPKit):
    ref = b32("CN202010123456.7")
    squatter = ip.register(ip.stranger, ref=ref)
    ip.send(ip.registry.functions.setVerified(squatter, True), ip.admin)
    assert report(ip, squatter)["flags"] == set()
    ip.send(ip.registry.functions.unbindRef(ref, b"\x5a" * 32), ip.admin)
    assert report(ip, squatter)["flags"] == {"holderDisputed", "unverified"}


# -- every dated flag against the loan's maturity, at its boundaries --------------------------------


@pytest.mark.parametrize(("paid_until", "flagged"), [(-DAY, True), (-1, True), (0, False), (1, False), (DAY, False)])
def test_due_diligence_fees_paid_until_around_maturity_flags_only_before_maturity(ip: IPKit, paid_until, flagged):
    """Fees paid until 2026-12-31 and a loan maturing 2027-06-30 raised no flag: the fees were judged
    against now. They are judged against the maturity: a day before, a second before, equal, after."""
    asset_id = ip.register()
    maturity = ip.now() + 212 * DAY
    ip.set_dates(asset_id, 0, maturity + paid_until)
    assert ("feesUnpaid" in report(ip, asset_id, maturity)["flags"]) is flagged


def test_due_diligence_fees_paid_until_before_maturity_but_after_now_flags_fees_unpaid(ip: IPKit):
    """The issue's case: paid until the end of the year, the loan matures half a year later."""
    asset_id = ip.register()
    paid_until, maturity = ip.now() + 31 * DAY, ip.now() + 212 * DAY
    ip.set_dates(asset_id, 0, paid_until)
    assert "feesUnpaid" in report(ip, asset_id, maturity)["flags"]
    assert "feesUnpaid" not in report(ip, asset_id)["flags"]  # without a loan: paid for now
    assert "feesUnpaid" not in report(ip, asset_id, paid_until)["flags"]


def test_due_diligence_fees_unpaid_now_flags_even_for_past_maturity(ip: IPKit):
    asset_id = ip.register()
    ip.set_dates(asset_id, 0, ip.now() + 10)
    ip.chain.increase_time(11)
    assert "feesUnpaid" in report(ip, asset_id, ip.now() - DAY)["flags"]
    assert "feesUnpaid" in report(ip, asset_id)["flags"]


@pytest.mark.parametrize(("expires", "flagged"), [(-DAY, True), (-1, True), (0, False), (DAY, False)])
def test_due_diligence_expiry_around_maturity_flags_only_before_maturity(ip: IPKit, expires, flagged):
    asset_id = ip.register()
    maturity = ip.now() + 212 * DAY
    ip.set_dates(asset_id, maturity + expires, 0)
    assert ("expiresBeforeMaturity" in report(ip, asset_id, maturity)["flags"]) is flagged
    assert "notPledgeable" not in report(ip, asset_id, maturity)["flags"]


@pytest.mark.parametrize(("ends", "flagged"), [(-DAY, True), (0, True), (DAY, True)])
def test_due_diligence_exclusive_license_ending_around_maturity_flags_while_active(ip: IPKit, ends, flagged):
    """An exclusive license active now encumbers the loan whether it ends before, at or after maturity."""
    asset_id = ip.register()
    maturity = ip.now() + 212 * DAY
    ip.license(asset_id, kind=EXCLUSIVE, end=maturity + ends)
    assert ("exclusivelyLicensed" in report(ip, asset_id, maturity)["flags"]) is flagged


@pytest.mark.parametrize(("until", "flagged"), [(-DAY, True), (0, True), (DAY, True)])
def test_due_diligence_freeze_ending_around_maturity_flags_while_frozen(ip: IPKit, until, flagged):
    asset_id = ip.register()
    maturity = ip.now() + 212 * DAY
    ip.freeze(asset_id, until=maturity + until)
    assert ("frozen" in report(ip, asset_id, maturity)["flags"]) is flagged


def test_due_diligence_past_expiry_flags_not_pledgeable_for_any_maturity(ip: IPKit):
    asset_id = ip.register()
    ip.set_dates(asset_id, ip.now() + 10)
    ip.chain.increase_time(10)
    for maturity in (0, ip.now() - 1, ip.now(), ip.now() + YEAR):
        assert "notPledgeable" in report(ip, asset_id, maturity)["flags"], maturity


# -- open offers and the encumbrance version (issue 11 item 2) ----------------------------------------


def test_due_diligence_shows_pending_offers_and_flags_exclusive_offer(ip: IPKit):
    """The check showed active licences only: a pre-made exclusive offer was invisible to the bank."""
    asset_id = ip.register()
    ip.send(ip.registry.functions.setVerified(asset_id, True), ip.admin)
    exclusive = ip.offer(asset_id, licensee=ip.other.address, kind=EXCLUSIVE, territory="CN")
    plain = ip.offer(asset_id, kind=NON_EXCLUSIVE, territory="US")
    ended = ip.offer(asset_id, kind=SOLE, territory="JP", end=ip.now() + 50)
    withdrawn = ip.offer(asset_id, kind=SOLE, territory="DE")
    ip.send(ip.licenses.functions.terminate(withdrawn, b"\1" * 32), ip.owner)
    ip.chain.increase_time(51)
    got = report(ip, asset_id)
    assert got["offerIds"] == [exclusive, plain] and ended not in got["offerIds"]
    assert [o[5] for o in got["offers"]] == [ip.other.address, ip.licensee.address]  # their licensees
    assert got["flags"] == {"exclusivelyOffered"}
    assert got["encumbranceVersion"] == 5  # four offers and one withdrawal
    ip.accept_license(exclusive, ip.other)
    got = report(ip, asset_id)
    assert got["offerIds"] == [plain] and got["flags"] == {"exclusivelyLicensed"}
    assert got["encumbranceVersion"] == 6


def test_due_diligence_non_exclusive_offer_raises_no_flag(ip: IPKit):
    asset_id = ip.register()
    ip.send(ip.registry.functions.setVerified(asset_id, True), ip.admin)
    ip.offer(asset_id, kind=NON_EXCLUSIVE)
    got = report(ip, asset_id)
    assert got["flags"] == set() and len(got["offerIds"]) == 1
