"""License sales on a real Anvil: the LicenseRegistry's operator hook (setOperator, grant) and the
LicenseMarket (list, update, cancel, buy), with every license rule applying to a sale.

Every money-moving test runs in :meth:`MarketKit.ledger` (balances conserved, no money left in the
LicenseMarket).
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.chain.toolchain import Artifact
from ledger.errors import ConflictError, PermissionDeniedError, ValidationError
from tests.contracts.ipkit import DAY, EXCLUSIVE, L_ACTIVE, NON_EXCLUSIVE, SOLE, ZERO_ADDRESS, IPKit, b32
from tests.contracts.test_marketplace import (
    CANCELLED,
    EXPIRED,
    LICENSE_LISTING_FIELDS,
    OPEN,
    SOLD,
    UNIT,
    VOID,
    MarketKit,
    market_kit,
)


@pytest.fixture(name="market")
def _market(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> MarketKit:
    return market_kit(ip, contract, artifacts)


# -- the LicenseRegistry's operator hook -------------------------------------------------------------


def test_set_operator_records_approval_and_emits_operator_set(market: MarketKit):
    lic = market.ip.licenses
    receipt = market.approve_licensing()
    assert market.events(lic, receipt) == [("OperatorSet", {
        "owner": market.seller.address, "operator": market.licenses_market.address, "approved": True})]
    assert market.call(lic.functions.isOperator(market.seller.address, market.licenses_market.address)) is True
    market.approve_licensing(approved=False)
    assert market.call(lic.functions.isOperator(market.seller.address, market.licenses_market.address)) is False


@pytest.mark.parametrize("operator", ["zero", "self"])
def test_set_operator_to_zero_or_self_reverts_with_invalid_operator(market: MarketKit, operator):
    address = ZERO_ADDRESS if operator == "zero" else market.seller.address
    error = market.ip.refused(market.ip.licenses.functions.setOperator(address, True), market.seller)
    assert (error.name, error.arguments) == ("LicenseRegistryInvalidOperator", {"operator": address})


def test_grant_by_operator_offers_and_activates_in_one_step(market: MarketKit):
    ip = market.ip
    asset_id = ip.register()
    operator = ip.stranger
    market.send(ip.licenses.functions.setOperator(operator.address, True), market.seller)
    terms = ip.terms(kind=SOLE, territory="CN")
    receipt = market.send(ip.licenses.functions.grant(asset_id, terms), operator)
    assert [n for n, _ in market.events(ip.licenses, receipt)] == ["LicenseOffered", "LicenseAccepted",
                                                                    "LicenseGranted"]
    assert market.events(ip.licenses, receipt)[2][1] == {"licenseId": 1, "assetId": asset_id,
                                                          "operator": operator.address}
    license = ip.license_of(1)
    assert (license["licensor"], license["licensee"], license["status"], license["kind"]) == (
        market.seller.address, ip.licensee.address, L_ACTIVE, SOLE)


def test_grant_by_non_operator_reverts_with_unauthorized_operator(market: MarketKit):
    ip = market.ip
    asset_id = ip.register()
    error = ip.refused(ip.licenses.functions.grant(asset_id, ip.terms()), ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == ("LicenseRegistryUnauthorizedOperator", {
        "owner": market.seller.address, "operator": ip.stranger.address})
    assert market.call(ip.licenses.functions.licenseCount()) == 0


def test_grant_keeps_the_offer_and_accept_rules(market: MarketKit):
    """Frozen, conflicting, and pledged without consent: refused exactly as offer/accept refuse."""
    ip = market.ip
    operator = ip.stranger
    market.send(ip.licenses.functions.setOperator(operator.address, True), market.seller)
    frozen, conflicted, pledged = ip.register(), ip.register(), ip.register()
    until = market.later(5)
    ip.freeze(frozen, until=until)
    exclusive = ip.license(conflicted, kind=EXCLUSIVE, territory="CN")
    pledge_id = ip.pledge(pledged)

    error = ip.refused(ip.licenses.functions.grant(frozen, ip.terms()), operator)
    assert (error.name, error.arguments) == ("LicenseRegistryAssetFrozen", {"assetId": frozen, "until": until})
    error = ip.refused(ip.licenses.functions.grant(conflicted, ip.terms(ip.buyer.address, territory="CN-11")), operator)
    assert (error.name, error.arguments) == ("LicenseRegistryExclusivityConflict", {
        "assetId": conflicted, "conflictingLicenseId": exclusive, "conflictingKind": EXCLUSIVE})
    error = ip.refused(ip.licenses.functions.grant(pledged, ip.terms()), operator)
    assert (error.name, error.arguments) == ("LicenseRegistryAssetPledged", {"assetId": pledged,
                                                                              "pledgeId": pledge_id})
    error = ip.refused(ip.licenses.functions.grant(pledged, ip.terms(market.seller.address)), operator)
    assert (error.name, error.arguments) == ("LicenseRegistryInvalidLicensee", {"licensee": market.seller.address})
    assert market.call(ip.licenses.functions.licenseCount()) == 1
    # The pledgee's consent names the license's terms.
    terms = ip.terms()
    market.send(ip.pledges.functions.consentToLicense(pledge_id, terms), ip.bank)
    market.send(ip.licenses.functions.grant(pledged, terms), operator)
    assert ip.license_of(2)["status"] == L_ACTIVE


# -- list ----------------------------------------------------------------------------------------


def test_list_license_records_listing_and_emits_license_listed(market: MarketKit):
    ip = market.ip
    asset_id = ip.register()
    market.approve_licensing()
    terms = ip.terms(ZERO_ADDRESS, territory="CN", field="H04L")
    expiry = market.later()
    receipt = market.send(market.licenses_market.functions.listLicense(
        asset_id, terms, market.token.address, 10 * UNIT, 5, expiry), market.seller)
    [(name, args)] = market.events(market.licenses_market, receipt)
    assert name == "LicenseListed"
    assert {k: v for k, v in args.items() if k != "terms"} == {
        "listingId": 1, "assetId": asset_id, "seller": market.seller.address, "token": market.token.address,
        "price": 10 * UNIT, "supply": 5, "expiry": expiry, "pledgeId": 0, "feeBps": 0}
    # decoded events are JSON-ready: bytes32 fields of a struct come as 0x-hex like top-level ones
    assert tuple(args["terms"].values()) == tuple("0x" + v.hex() if isinstance(v, bytes) else v for v in terms)
    listing = market.license_listing(1)
    assert {k: v for k, v in listing.items() if k != "terms"} == {
        "seller": market.seller.address, "assetId": asset_id, "status": OPEN, "token": market.token.address,
        "expiry": expiry, "nonce": 0, "price": 10 * UNIT, "pledgeId": 0, "supply": 5, "sold": 0, "transfers": 0,
        "operatorEpoch": 1, "feeBps": 0}
    assert tuple(listing["terms"]) == terms
    assert market.call(market.licenses_market.functions.licenseListingCount()) == 1


def test_list_license_without_operator_approval_reverts_with_licensing_not_approved(market: MarketKit):
    asset_id = market.ip.register()
    fn = market.licenses_market.functions.listLicense(asset_id, market.ip.terms(ZERO_ADDRESS), market.token.address,
                                                      UNIT, 1, market.later())
    error = market.ip.refused(fn, market.seller)
    assert isinstance(error, ConflictError)
    assert (error.name, error.arguments) == ("MarketplaceLicensingNotApproved", {"owner": market.seller.address})


def test_list_license_by_non_owner_reverts_with_not_owner(market: MarketKit):
    asset_id = market.ip.register()
    market.approve_licensing(market.ip.stranger)
    fn = market.licenses_market.functions.listLicense(asset_id, market.ip.terms(ZERO_ADDRESS), market.token.address,
                                                      UNIT, 1, market.later())
    error = market.ip.refused(fn, market.ip.stranger)
    assert (error.name, error.arguments) == ("MarketplaceNotOwner", {"assetId": asset_id,
                                                                      "account": market.ip.stranger.address})


@pytest.mark.parametrize("bad", ["licensee set", "ended term", "zero supply", "exclusive supply 2", "sole supply 3",
                                 "supply over 65535", "zero price", "past expiry", "territory CHN", "field h04l"])
def test_list_license_with_bad_terms_reverts_with_validation_error(market: MarketKit, bad):
    ip = market.ip
    asset_id = ip.register()
    market.approve_licensing()
    terms, price, supply, expiry = ip.terms(ZERO_ADDRESS), UNIT, 2, market.later()
    now = ip.now()
    if bad == "licensee set":
        terms = ip.terms(ip.buyer.address)
        expected = ("MarketplaceInvalidLicensee", {"licensee": ip.buyer.address})
    elif bad == "ended term":
        terms = ip.terms(ZERO_ADDRESS, start=now - 2 * DAY, end=now - DAY)
        expected = ("MarketplaceInvalidTerm", {"start": now - 2 * DAY, "end": now - DAY})
    elif bad == "zero supply":
        supply, expected = 0, ("MarketplaceInvalidSupply", {"supply": 0})
    elif bad == "exclusive supply 2":
        terms, expected = ip.terms(ZERO_ADDRESS, kind=EXCLUSIVE), ("MarketplaceInvalidSupply", {"supply": 2})
    elif bad == "sole supply 3":
        terms, supply = ip.terms(ZERO_ADDRESS, kind=SOLE), 3
        expected = ("MarketplaceInvalidSupply", {"supply": 3})
    elif bad == "supply over 65535":
        supply, expected = 65_536, ("MarketplaceInvalidSupply", {"supply": 65_536})
    elif bad == "zero price":
        price, expected = 0, ("MarketplaceZeroAmount", {})
    elif bad == "territory CHN":  # a listing the registry would refuse at every sale is refused when listed
        terms = ip.terms(ZERO_ADDRESS, territory="CHN")
        expected = ("LicenseRegistryNonCanonicalTerritory", {"territory": "0x" + b"CHN".ljust(32, b"\0").hex()})
    elif bad == "field h04l":
        terms = ip.terms(ZERO_ADDRESS, field="h04l")
        expected = ("LicenseRegistryNonCanonicalField", {"fieldOfUse": "0x" + b"h04l".ljust(32, b"\0").hex()})
    else:
        expiry = now
        expected = ("MarketplaceInvalidExpiry", {"expiry": now})
    fn = market.licenses_market.functions.listLicense(asset_id, terms, market.token.address, price, supply, expiry)
    error = ip.refused(fn, market.seller)
    assert isinstance(error, ValidationError)
    assert (error.name, error.arguments) == expected
    assert market.call(market.licenses_market.functions.licenseListingCount()) == 0


def test_list_license_of_frozen_asset_reverts_with_asset_frozen(market: MarketKit):
    asset_id = market.ip.register()
    until = market.later(3)
    market.ip.freeze(asset_id, until=until)
    market.approve_licensing()
    fn = market.licenses_market.functions.listLicense(asset_id, market.ip.terms(ZERO_ADDRESS), market.token.address,
                                                      UNIT, 1, market.later())
    error = market.ip.refused(fn, market.seller)
    assert (error.name, error.arguments) == ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})


# -- buy -----------------------------------------------------------------------------------------


def test_buy_license_many_times_from_one_listing_leaves_the_owner_free_to_license_elsewhere(market: MarketKit):
    """The attacker's test: a stranger buys 40 non-exclusive licenses (CN) of a supply-100 listing, more
    than the asset's 32 slots; the owner still grants an exclusive license in DE, and a sole one in CN
    is still refused (the licenses sold there are active)."""
    ip = market.ip
    asset_id = ip.register()
    blocked = ip.offer(asset_id, licensee=ip.other.address, kind=SOLE, territory="CN")
    listing_id = market.list_license(asset_id, UNIT, 100, territory="CN")
    market.fund(ip.stranger, 40 * UNIT)
    sold = [market.buy_license(listing_id, ip.stranger) for _ in range(40)]
    assert len(sold) == 40 and market.license_listing(listing_id)["sold"] == 40
    exclusive = ip.license(asset_id, licensee=ip.other.address, kind=EXCLUSIVE, territory="DE")
    assert ip.license_of(exclusive)["status"] == L_ACTIVE
    error = ip.refused(ip.licenses.functions.accept(blocked), ip.other)
    assert error.name == "LicenseRegistryExclusivityConflict"
    assert len(market.call(ip.licenses.functions.activeLicensesOf(asset_id))[0]) == 41




def test_buy_license_pays_the_seller_and_creates_the_buyers_active_license_in_one_transaction(market: MarketKit):
    ip = market.ip
    asset_id = ip.register()
    listing_id = market.list_license(asset_id, 10 * UNIT, 2, territory="CN")
    with market.ledger() as moved:
        receipt = market.buy_license(listing_id)
    assert moved == {market.buyer.address: -10 * UNIT, market.seller.address: 10 * UNIT}
    assert [n for n, _ in market.events(ip.licenses, receipt)] == ["LicenseOffered", "LicenseAccepted",
                                                                    "LicenseGranted"]
    assert market.events(market.licenses_market, receipt) == [("LicenseSold", {
        "listingId": listing_id, "licenseId": 1, "buyer": market.buyer.address, "assetId": asset_id,
        "seller": market.seller.address, "token": market.token.address, "price": 10 * UNIT, "fee": 0})]
    license = ip.license_of(1)
    assert (license["licensor"], license["licensee"], license["status"], license["territory"]) == (
        market.seller.address, market.buyer.address, L_ACTIVE, b32("CN"))
    assert market.license_listing(listing_id)["sold"] == 1
    assert market.license_listing(listing_id)["status"] == OPEN


def test_buy_license_up_to_the_supply_then_it_is_sold_out(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_license(asset_id, 10 * UNIT, 2)
    market.buy_license(listing_id, market.buyer)
    market.buy_license(listing_id, market.buyer2)
    listing = market.license_listing(listing_id)
    assert (listing["sold"], listing["status"]) == (2, SOLD)
    with market.ledger() as moved:
        error = market.ip.refused(market.licenses_market.functions.buyLicense(listing_id, 10 * UNIT, 0),
                                  market.ip.accounts[9])
    assert moved == {}
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": listing_id, "status": SOLD})
    assert market.call(market.ip.licenses.functions.licenseCount()) == 2


def test_buy_exclusive_license_listing_sells_it_once(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_license(asset_id, 50 * UNIT, 1, kind=EXCLUSIVE)
    market.buy_license(listing_id)
    assert market.license_listing(listing_id)["status"] == SOLD
    ids, licenses = market.call(market.ip.licenses.functions.activeLicensesOf(asset_id))
    assert ids == [1] and licenses[0][2] == EXCLUSIVE


def test_buy_license_conflicting_with_an_active_exclusive_license_reverts_and_charges_nothing(market: MarketKit):
    ip = market.ip
    asset_id = ip.register()
    exclusive = ip.license(asset_id, kind=EXCLUSIVE, territory="CN")
    listing_id = market.list_license(asset_id, 10 * UNIT, 3, kind=NON_EXCLUSIVE, territory="CN-11")
    with market.ledger() as moved:
        error = ip.refused(market.buy_license_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("LicenseRegistryExclusivityConflict", {
        "assetId": asset_id, "conflictingLicenseId": exclusive, "conflictingKind": EXCLUSIVE})
    assert market.license_listing(listing_id)["sold"] == 0


def test_buy_license_by_the_seller_reverts_with_invalid_counterparty(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_license(asset_id)
    error = market.ip.refused(market.buy_license_fn(listing_id), market.seller)
    assert (error.name, error.arguments) == ("MarketplaceInvalidCounterparty", {"account": market.seller.address})


def test_buy_license_naming_an_old_price_or_nonce_reverts_with_price_changed(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_license(asset_id, 10 * UNIT)
    expiry = market.later(4)
    receipt = market.send(market.licenses_market.functions.updateLicenseListing(listing_id, 12 * UNIT, expiry),
                          market.seller)
    assert market.events(market.licenses_market, receipt) == [("LicenseListingUpdated", {
        "listingId": listing_id, "price": 12 * UNIT, "expiry": expiry, "nonce": 1})]
    with market.ledger() as moved:
        error = market.ip.refused(market.licenses_market.functions.buyLicense(listing_id, 10 * UNIT, 0), market.buyer)
        error2 = market.ip.refused(market.licenses_market.functions.buyLicense(listing_id, 12 * UNIT, 0), market.buyer)
    assert moved == {}
    for e in (error, error2):
        assert (e.name, e.arguments) == ("MarketplacePriceChanged", {"listingId": listing_id, "price": 12 * UNIT,
                                                                      "nonce": 1})
    with market.ledger() as moved:
        market.send(market.licenses_market.functions.buyLicense(listing_id, 12 * UNIT, 1), market.buyer)
    assert moved == {market.buyer.address: -12 * UNIT, market.seller.address: 12 * UNIT}


def test_buy_license_after_expiry_or_cancel_reverts_with_listing_not_open(market: MarketKit):
    asset_id = market.ip.register()
    short = market.list_license(asset_id, expiry=market.later(1))
    cancelled = market.list_license(asset_id)
    receipt = market.send(market.licenses_market.functions.cancelLicenseListing(cancelled), market.seller)
    assert market.events(market.licenses_market, receipt) == [("LicenseListingCancelled", {
        "listingId": cancelled, "assetId": asset_id, "by": market.seller.address})]
    market.chain.increase_time(DAY + 1)
    error = market.ip.refused(market.licenses_market.functions.buyLicense(short, 10 * UNIT, 0), market.buyer)
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": short, "status": EXPIRED})
    error = market.ip.refused(market.licenses_market.functions.buyLicense(cancelled, 10 * UNIT, 0), market.buyer)
    assert (error.name, error.arguments) == ("MarketplaceListingNotOpen", {"listingId": cancelled,
                                                                             "status": CANCELLED})


def test_cancel_or_update_license_listing_by_stranger_reverts_with_not_seller(market: MarketKit):
    asset_id = market.ip.register()
    listing_id = market.list_license(asset_id)
    for fn in (market.licenses_market.functions.cancelLicenseListing(listing_id),
               market.licenses_market.functions.updateLicenseListing(listing_id, UNIT, market.later())):
        error = market.ip.refused(fn, market.ip.stranger)
        assert (error.name, error.arguments) == ("MarketplaceNotSeller", {"id": listing_id,
                                                                           "account": market.ip.stranger.address})
    assert market.license_listing(listing_id)["status"] == OPEN


# -- void license listings ---------------------------------------------------------------------


@pytest.mark.parametrize("voided_by", ["transfer", "pledge", "freeze", "operator revoked",
                                       "operator revoked and approved again", "went away and came back"])
def test_buy_license_of_a_void_listing_reverts_and_charges_nothing(market: MarketKit, voided_by):
    """The last two are the attacker's tests: a watcher of a licence listing the seller ended by revoking
    the LicenseMarket, or by selling the asset, cannot buy from it once the seller approves again or
    gets the asset back."""
    ip = market.ip
    asset_id = ip.register()
    listing_id = market.list_license(asset_id)
    if voided_by == "transfer":
        ip.transfer(market.seller, ip.other.address, asset_id)
        market.approve_licensing(ip.other)  # the new owner's operator approval does not revive it
        expected = ("MarketplaceAssetChangedHands", {"assetId": asset_id, "seller": market.seller.address,
                                                     "owner": ip.other.address})
    elif voided_by == "pledge":
        pledge_id = ip.pledge(asset_id)
        expected = ("MarketplaceAssetPledged", {"assetId": asset_id, "pledgeId": pledge_id})
    elif voided_by == "freeze":
        until = market.later(2)
        ip.freeze(asset_id, until=until)
        expected = ("MarketplaceAssetFrozen", {"assetId": asset_id, "until": until})
    elif voided_by == "operator revoked":
        market.approve_licensing(approved=False)
        expected = ("MarketplaceLicensingApprovalChanged", {"owner": market.seller.address, "epoch": 1,
                                                            "currentEpoch": 2})
    elif voided_by == "operator revoked and approved again":
        market.approve_licensing(approved=False)
        market.approve_licensing()
        assert market.call(ip.licenses.functions.operatorOf(market.seller.address,
                                                            market.licenses_market.address)) == [True, 3]
        expected = ("MarketplaceLicensingApprovalChanged", {"owner": market.seller.address, "epoch": 1,
                                                            "currentEpoch": 3})
    else:
        ip.transfer(market.seller, ip.other.address, asset_id)
        ip.transfer(ip.other, market.seller.address, asset_id)
        expected = ("MarketplaceAssetMovedSinceListed", {"assetId": asset_id, "transfers": 0,
                                                         "currentTransfers": 2})
    assert market.license_listing(listing_id)["status"] == VOID
    with market.ledger() as moved:
        error = ip.refused(market.buy_license_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == expected
    assert market.call(ip.licenses.functions.licenseCount()) == 0


def test_buy_license_of_pledged_asset_needs_the_pledgees_consent_to_that_license(market: MarketKit):
    """Listed while pledged: each sale needs the pledgee's consent to the listing's terms (for anyone)."""
    ip = market.ip
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    listing_id = market.list_license(asset_id, 10 * UNIT)
    assert market.license_listing(listing_id)["pledgeId"] == pledge_id
    with market.ledger() as moved:
        error = ip.refused(market.buy_license_fn(listing_id), market.buyer)
    assert moved == {}
    assert (error.name, error.arguments) == ("LicenseRegistryAssetPledged", {"assetId": asset_id,
                                                                              "pledgeId": pledge_id})
    next_id = market.call(ip.licenses.functions.licenseCount()) + 1
    terms = market.license_listing(listing_id)["terms"]  # licensee zero: whoever buys
    market.send(ip.pledges.functions.consentToLicense(pledge_id, terms), ip.bank)
    with market.ledger() as moved:
        market.buy_license(listing_id)
    assert moved == {market.buyer.address: -10 * UNIT, market.seller.address: 10 * UNIT}
    assert ip.license_of(next_id)["licensee"] == market.buyer.address
    with market.ledger() as moved:  # one consent, one sale
        error = ip.refused(market.buy_license_fn(listing_id), market.buyer)
    assert moved == {} and error.name == "LicenseRegistryAssetPledged"


def test_open_license_listings_pages_by_id_range(market: MarketKit):
    ip = market.ip
    assets = [ip.register() for _ in range(3)]
    ids = [market.list_license(a, supply=1) for a in assets]
    market.buy_license(ids[0])
    ip.freeze(assets[1])
    open_ids, rows = market.call(market.licenses_market.functions.openLicenseListings(0, 10))
    assert open_ids == [ids[2]]
    assert dict(zip(LICENSE_LISTING_FIELDS, rows[0], strict=True))["assetId"] == assets[2]
    assert market.call(market.licenses_market.functions.openLicenseListings(1, 3)) == [[], []]
