"""CoOwnership on a real Anvil: co-owned assets with shares, every rule allowed and refused by error name.

Co-owners A (50 %), B (30 %), C (20 %) (see ``cokit``). The attacker's test tries every path around
the vault (the registries and markets called directly, the vault called directly, a relayed request
signed by the wrong key) and each is refused by name with nothing changed.
"""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.relay.service import sign_request
from tests.contracts.cokit import (
    CANCEL_PLEDGE,
    CO_OWNERS_CHANGE,
    FREE_SHARE_TRANSFER,
    LICENSE,
    LICENSE_LISTING,
    OFFER_ACCEPTANCE,
    PLEDGE,
    SALE,
    SHARE_TRANSFER,
    TRANSFER,
    UNANIMOUS_LICENSING,
    CoKit,
)
from tests.contracts.ipkit import EXCLUSIVE, NON_EXCLUSIVE, P_ACTIVE, SOLE, YEAR, ZERO32, ZERO_ADDRESS
from tests.contracts.test_marketplace import UNIT

CNY = b"CNY"
CONTRACT_HASH = b"\x09" * 32


def _pledge_args(co: CoKit) -> tuple:
    return (co.ip.bank.address, 5_000_000_00, CNY, co.ip.now() + YEAR, CONTRACT_HASH)


# -- registration -------------------------------------------------------------------------------


def test_register_with_three_co_owners_mints_to_vault_and_records_shares(co: CoKit):
    receipt = co.ip.send(co.register_fn(flags=FREE_SHARE_TRANSFER, agreement=b"\x0a" * 32), co.b)
    [(_, args)] = [e for e in co.ip.events(co.co, receipt) if e[0] == "CoOwnersSet"]
    asset_id = args["assetId"]
    vault = co.vault(asset_id)
    assert co.ip.owner_of(asset_id) == vault  # truthful: no single person owns it
    assert co.co_owners(asset_id) == {
        "shares": co.shares(), "agreement": (b"\x0a" * 32, FREE_SHARE_TRANSFER), "vault": vault, "epoch": 1}
    vault_contract = co.ip.chain.contract(co.artifacts["CoOwnedAsset"].abi, vault)
    assert co.ip.call(vault_contract.functions.assetId()) == asset_id
    assert co.ip.call(vault_contract.functions.coOwnership()) == co.co.address
    assert co.ip.call(co.co.functions.isCoOwned(asset_id)) is True
    [(_, registered)] = [e for e in co.ip.events(co.ip.registry, receipt) if e[0] == "AssetRegistered"]
    assert registered["owner"] == vault


def test_register_with_one_co_owner_is_allowed(co: CoKit):
    asset_id = co.register(co.shares((co.a, 10_000)))
    assert co.co_owners(asset_id)["shares"] == [(co.a.address, 10_000)]


@pytest.mark.parametrize(("case", "error"), [
    ("none", ("CoOwnershipInvalidCoOwnerCount", {"count": 0})),
    ("seventeen", ("CoOwnershipInvalidCoOwnerCount", {"count": 17})),
    ("zero address", ("CoOwnershipInvalidCoOwner", {"account": ZERO_ADDRESS})),
    ("twice", ("CoOwnershipInvalidCoOwner", {"account": "A"})),
    ("zero share", ("CoOwnershipInvalidCoOwner", {"account": "B"})),
    ("not whole", ("CoOwnershipSharesNotWhole", {"total": 9_999})),
    ("bad flags", ("CoOwnershipInvalidAgreement", {"flags": 4})),
])
def test_register_with_bad_shares_reverts_by_name(co: CoKit, case, error):
    a, b = co.a.address, co.b.address
    shares, flags = {
        "none": ([], 0),
        "seventeen": ([(to_checksum_address(f"0x{i:040x}"), 1) for i in range(1, 17)] + [(a, 10_000 - 16)], 0),
        "zero address": ([(ZERO_ADDRESS, 5_000), (a, 5_000)], 0),
        "twice": ([(a, 5_000), (a, 5_000)], 0),
        "zero share": ([(a, 10_000), (b, 0)], 0),
        "not whole": ([(a, 5_000), (b, 4_999)], 0),
        "bad flags": ([(a, 10_000)], 4),
    }[case]
    count = co.ip.call(co.ip.registry.functions.assetCount())
    caught = co.ip.refused(co.register_fn(shares, flags=flags), co.a)
    name, args = error
    args = {k: {"A": a, "B": b}.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
    assert (caught.name, caught.arguments) == (name, args)
    assert isinstance(caught, ValidationError | ConflictError)
    assert co.ip.call(co.ip.registry.functions.assetCount()) == count


def test_co_own_existing_asset_moves_it_to_vault_and_by_non_owner_reverts(co: CoKit):
    asset_id = co.ip.register(co.a)
    co.ip.send(co.ip.registry.functions.approve(co.co.address, asset_id), co.a)
    error = co.ip.refused(co.co.functions.coOwn(asset_id, co.shares(), (ZERO32, 0)), co.b)
    assert (error.name, error.arguments) == ("CoOwnershipNotOwner", {"assetId": asset_id, "account": co.b.address})
    co.ip.send(co.co.functions.coOwn(asset_id, co.shares(), (ZERO32, 0)), co.a)
    assert co.ip.owner_of(asset_id) == co.vault(asset_id)
    assert co.co_owners(asset_id)["shares"] == co.shares()


# -- consents -----------------------------------------------------------------------------------


def test_consent_rules_refuse_stranger_duplicate_and_unknown_withdrawal(co: CoKit):
    asset_id = co.register()
    act = co.act_id(asset_id, TRANSFER, co.ip.stranger.address)
    error = co.ip.refused(co.co.functions.consent(asset_id, act), co.ip.stranger)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "CoOwnershipNotCoOwner", {"assetId": asset_id, "account": co.ip.stranger.address})
    receipt = co.ip.send(co.co.functions.consent(asset_id, act), co.b)
    assert co.ip.events(co.co, receipt) == [("ConsentGiven", {"assetId": asset_id, "actId": act,
                                                              "coOwner": co.b.address})]
    error = co.ip.refused(co.co.functions.consent(asset_id, act), co.b)
    assert (error.name, error.arguments) == (
        "CoOwnershipConsentExists", {"assetId": asset_id, "actId": act, "coOwner": co.b.address})
    receipt = co.ip.send(co.co.functions.withdrawConsent(asset_id, act), co.b)
    assert co.ip.events(co.co, receipt) == [("ConsentWithdrawn", {"assetId": asset_id, "actId": act,
                                                                  "coOwner": co.b.address})]
    assert not co.has_consented(asset_id, act, co.b)
    error = co.ip.refused(co.co.functions.withdrawConsent(asset_id, act), co.b)
    assert error.name == "CoOwnershipConsentMissing"
    error = co.ip.refused(co.co.functions.consent(99, act), co.b)
    assert isinstance(error, NotFoundError)
    assert (error.name, error.arguments) == ("CoOwnershipNotCoOwned", {"assetId": 99})


def test_relayed_consent_signed_by_co_owner_counts_and_forged_one_is_refused(co: CoKit):
    asset_id = co.register()
    act = co.act_id(asset_id, TRANSFER, co.ip.stranger.address)
    data = co.co.functions.consent(asset_id, act)._encode_transaction_data()
    nonce = co.ip.call(co.ip.forwarder.functions.nonces(co.b.address))
    request = sign_request(co.b, chain_id=co.ip.chain.chain_id, forwarder=co.ip.forwarder.address,
                           to=co.co.address, data=data, nonce=nonce, deadline=co.ip.now() + 600)
    forged = sign_request(co.ip.stranger, chain_id=co.ip.chain.chain_id, forwarder=co.ip.forwarder.address,
                          to=co.co.address, data=data, nonce=nonce, deadline=co.ip.now() + 600)
    bad = (co.b.address, co.co.address, 0, forged.gas, forged.deadline, bytes.fromhex(data[2:]),
           bytes.fromhex(forged.signature[2:]))
    error = co.ip.refused(co.ip.forwarder.functions.execute(bad), co.ip.stranger)
    assert error.name == "ERC2771ForwarderInvalidSigner"
    assert not co.has_consented(asset_id, act, co.b)
    good = (request.sender, request.to, 0, request.gas, request.deadline, bytes.fromhex(data[2:]),
            bytes.fromhex(request.signature[2:]))
    co.ip.send(co.ip.forwarder.functions.execute(good), co.ip.stranger)  # anyone relays it; B sends nothing
    assert co.has_consented(asset_id, act, co.b)


# -- licences -----------------------------------------------------------------------------------


def test_non_exclusive_licence_by_one_co_owner_alone_is_offered_by_vault(co: CoKit):
    asset_id = co.register()
    terms = co.ip.terms(kind=NON_EXCLUSIVE)
    receipt = co.ip.send(co.co.functions.offerLicense(asset_id, terms), co.c)
    assert co.performed(receipt) == [{"assetId": asset_id, "actId": "0x" + ZERO32.hex(), "kind": LICENSE,
                                      "by": co.c.address}]
    license_id = co.ip.call(co.ip.licenses.functions.licenseCount())
    assert co.ip.license_of(license_id)["licensor"] == co.vault(asset_id)
    co.ip.accept_license(license_id)
    error = co.ip.refused(co.co.functions.offerLicense(asset_id, co.ip.terms()), co.ip.stranger)
    assert error.name == "CoOwnershipNotCoOwner"


@pytest.mark.parametrize("kind", [EXCLUSIVE, SOLE])
def test_exclusive_licence_needs_every_consent_bound_to_terms_and_single_use(co: CoKit, kind):
    asset_id = co.register()
    terms = co.ip.terms(kind=kind)
    fn = co.co.functions.offerLicense(asset_id, terms)
    act = co.act_id(asset_id, LICENSE, terms)
    error = co.ip.refused(fn, co.a)
    assert isinstance(error, PermissionDeniedError)
    assert (error.name, error.arguments) == (
        "CoOwnershipConsentMissing", {"assetId": asset_id, "actId": act, "coOwner": co.b.address})
    co.consent(asset_id, act, co.b)
    assert co.ip.refused(fn, co.a).arguments["coOwner"] == co.c.address  # one short
    other_terms = co.ip.terms(kind=kind, fee=1)  # C consents to other terms: not this act
    co.consents(asset_id, LICENSE, other_terms, by=(co.c,))
    assert co.ip.refused(fn, co.a).arguments["coOwner"] == co.c.address
    co.consent(asset_id, act, co.c)
    count = co.ip.call(co.ip.licenses.functions.licenseCount())
    receipt = co.ip.send(fn, co.a)
    assert co.performed(receipt) == [{"assetId": asset_id, "actId": act, "kind": LICENSE, "by": co.a.address}]
    assert co.ip.call(co.ip.licenses.functions.licenseCount()) == count + 1
    assert not co.has_consented(asset_id, act, co.b) and not co.has_consented(asset_id, act, co.c)  # used up
    assert co.ip.refused(fn, co.a).name == "CoOwnershipConsentMissing"  # single use


def test_withdrawn_consent_no_longer_counts(co: CoKit):
    asset_id = co.register()
    terms = co.ip.terms(kind=EXCLUSIVE)
    act = co.consents(asset_id, LICENSE, terms)
    co.ip.send(co.co.functions.withdrawConsent(asset_id, act), co.c)
    error = co.ip.refused(co.co.functions.offerLicense(asset_id, terms), co.a)
    assert error.arguments == {"assetId": asset_id, "actId": act, "coOwner": co.c.address}


def test_unanimous_licensing_agreement_makes_non_exclusive_licence_need_consents(co: CoKit):
    asset_id = co.register(flags=UNANIMOUS_LICENSING)
    terms = co.ip.terms(kind=NON_EXCLUSIVE)
    assert co.ip.refused(co.co.functions.offerLicense(asset_id, terms), co.a).name == "CoOwnershipConsentMissing"
    co.consents(asset_id, LICENSE, terms)
    co.ip.send(co.co.functions.offerLicense(asset_id, terms), co.a)


def test_licence_sale_by_one_co_owner_splits_fees_by_share_with_dust_to_first(co: CoKit):
    asset_id = co.register()
    m = co.market
    terms = co.ip.terms(ZERO_ADDRESS, kind=NON_EXCLUSIVE)
    price, expiry = 10 * UNIT + 7, m.later()
    co.ip.send(co.co.functions.listLicense(asset_id, terms, m.token.address, price, 3, expiry), co.b)
    listing_id = m.call(m.licenses_market.functions.licenseListingCount())
    assert m.license_listing(listing_id)["seller"] == co.vault(asset_id)
    m.tracked.extend([co.vault(asset_id), co.co.address])
    with m.ledger() as moves:
        m.buy_license(listing_id)
        m.buy_license(listing_id, m.buyer2)
    assert moves[co.vault(asset_id)] == 2 * price
    with m.ledger():
        receipt = co.ip.send(co.co.functions.distribute(asset_id, m.token.address), co.ip.stranger)  # anyone
    total = 2 * price
    parts = {co.c.address: total * 2_000 // 10_000, co.b.address: total * 3_000 // 10_000}
    parts[co.a.address] = total - sum(parts.values())  # the rounding remainder to the first co-owner
    credited = {a["account"]: a["amount"] for n, a in co.ip.events(co.co, receipt) if n == "ProceedsCredited"}
    assert credited == parts and sum(credited.values()) == total
    assert m.balance(co.vault(asset_id)) == 0
    with m.ledger() as moves:
        for who in (co.a, co.b, co.c):
            co.ip.send(co.co.functions.withdraw(m.token.address), who)
    assert moves == {**parts, co.co.address: -total}
    assert m.balance(co.co.address) == 0  # nothing stuck
    error = co.ip.refused(co.co.functions.withdraw(m.token.address), co.a)
    assert (error.name, error.arguments) == ("CoOwnershipNothingToWithdraw", {"token": m.token.address})


def test_exclusive_licence_listing_needs_consents_and_cancel_only_by_lister(co: CoKit):
    asset_id = co.register()
    m = co.market
    exclusive = co.ip.terms(ZERO_ADDRESS, kind=EXCLUSIVE)
    args = (m.token.address, 10 * UNIT, 1, m.later())
    fn = co.co.functions.listLicense(asset_id, exclusive, *args)
    assert co.ip.refused(fn, co.a).name == "CoOwnershipConsentMissing"
    co.consents(asset_id, LICENSE_LISTING, exclusive, *args)
    co.ip.send(fn, co.a)
    listing_id = m.call(m.licenses_market.functions.licenseListingCount())
    error = co.ip.refused(co.co.functions.cancelLicenseListing(asset_id, listing_id), co.b)
    assert (error.name, error.arguments) == ("CoOwnershipNotLister", {"listingId": listing_id,
                                                                     "account": co.b.address})
    co.ip.send(co.co.functions.cancelLicenseListing(asset_id, listing_id), co.a)


# -- sale, offers, pledges, transfers -----------------------------------------------------------


def test_sale_needs_every_consent_and_settles_to_vault_for_split(co: CoKit):
    asset_id = co.register()
    m = co.market
    args = (m.token.address, 100 * UNIT, m.later(), ZERO_ADDRESS)
    fn = co.co.functions.listAsset(asset_id, *args)
    assert co.ip.refused(fn, co.c).arguments["coOwner"] == co.a.address
    co.consents(asset_id, SALE, *args, by=(co.a, co.b))
    co.ip.send(fn, co.c)
    listing_id = m.call(m.market.functions.counts())[0]
    m.buy(listing_id)
    assert co.ip.owner_of(asset_id) == m.buyer.address
    co.ip.send(co.co.functions.distribute(asset_id, m.token.address), co.a)
    assert (co.credit(co.a), co.credit(co.b), co.credit(co.c)) == (50 * UNIT, 30 * UNIT, 20 * UNIT)
    error = co.ip.refused(co.co.functions.transferShare(asset_id, co.ip.stranger.address, 1), co.a)
    assert (error.name, error.arguments) == ("CoOwnershipAssetGone", {"assetId": asset_id,
                                                                     "owner": m.buyer.address})


def test_cancel_listing_by_any_co_owner_withdraws_approval(co: CoKit):
    asset_id = co.register()
    m = co.market
    args = (m.token.address, 100 * UNIT, m.later(), ZERO_ADDRESS)
    co.consents(asset_id, SALE, *args)
    co.ip.send(co.co.functions.listAsset(asset_id, *args), co.a)
    listing_id = m.call(m.market.functions.counts())[0]
    co.ip.send(co.co.functions.cancelListing(asset_id, listing_id), co.c)
    assert co.ip.call(co.ip.registry.functions.getApproved(asset_id)) == ZERO_ADDRESS


def test_offer_acceptance_needs_every_consent(co: CoKit):
    asset_id = co.register()
    m = co.market
    offer_id = m.offer(asset_id, 90 * UNIT)
    fn = co.co.functions.acceptOffer(asset_id, offer_id)
    assert co.ip.refused(fn, co.a).name == "CoOwnershipConsentMissing"
    co.consents(asset_id, OFFER_ACCEPTANCE, offer_id)
    co.ip.send(fn, co.a)
    assert co.ip.owner_of(asset_id) == m.buyer.address
    assert m.balance(co.vault(asset_id)) == 90 * UNIT


def test_pledge_needs_every_consent_then_bank_accepts(co: CoKit):
    asset_id = co.register()
    args = _pledge_args(co)
    fn = co.co.functions.proposePledge(asset_id, *args)
    assert co.ip.refused(fn, co.a).name == "CoOwnershipConsentMissing"
    co.consents(asset_id, PLEDGE, *args, by=(co.b,))
    assert co.ip.refused(fn, co.a).arguments["coOwner"] == co.c.address
    co.consents(asset_id, PLEDGE, *args, by=(co.c,))
    co.ip.send(fn, co.a)
    pledge_id = co.ip.call(co.ip.pledges.functions.pledgeCount())
    assert co.ip.pledge_of(pledge_id)["pledgor"] == co.vault(asset_id)
    co.ip.accept_pledge(pledge_id)
    assert co.ip.pledge_of(pledge_id)["status"] == P_ACTIVE


def test_cancel_pledge_by_any_co_owner(co: CoKit):
    asset_id = co.register()
    args = _pledge_args(co)
    co.consents(asset_id, PLEDGE, *args)
    co.ip.send(co.co.functions.proposePledge(asset_id, *args), co.a)
    pledge_id = co.ip.call(co.ip.pledges.functions.pledgeCount())
    receipt = co.ip.send(co.co.functions.cancelPledge(asset_id, pledge_id), co.c)
    assert co.performed(receipt)[0]["kind"] == CANCEL_PLEDGE


def test_transfer_of_asset_needs_every_consent(co: CoKit):
    asset_id = co.register()
    to = co.ip.stranger.address
    fn = co.co.functions.transfer(asset_id, to)
    assert co.ip.refused(fn, co.b).name == "CoOwnershipConsentMissing"
    co.consents(asset_id, TRANSFER, to, by=(co.a, co.c))
    co.ip.send(fn, co.b)
    assert co.ip.owner_of(asset_id) == to


# -- the co-owners ------------------------------------------------------------------------------


def test_change_co_owners_needs_every_consent_and_voids_older_consents(co: CoKit):
    asset_id = co.register()
    pledge = _pledge_args(co)
    co.consents(asset_id, PLEDGE, *pledge)  # given under epoch 1
    new = co.shares((co.a, 6_000), (co.b, 4_000))
    agreement = (b"\x0b" * 32, 0)
    fn = co.co.functions.changeCoOwners(asset_id, new, agreement)
    assert co.ip.refused(fn, co.a).name == "CoOwnershipConsentMissing"
    co.consents(asset_id, CO_OWNERS_CHANGE, new, agreement)
    co.ip.send(fn, co.a)
    assert co.co_owners(asset_id) == {"shares": new, "agreement": agreement, "vault": co.vault(asset_id), "epoch": 2}
    co.consents(asset_id, PLEDGE, *pledge, by=())
    error = co.ip.refused(co.co.functions.proposePledge(asset_id, *pledge), co.a)  # B's epoch-1 consent is void
    assert error.arguments["coOwner"] == co.b.address
    assert co.ip.refused(co.co.functions.offerLicense(asset_id, co.ip.terms()), co.c).name == "CoOwnershipNotCoOwner"


def test_change_distributes_pending_proceeds_at_old_shares(co: CoKit):
    asset_id = co.register()
    m = co.market
    terms = co.ip.terms(ZERO_ADDRESS, kind=NON_EXCLUSIVE)
    co.ip.send(co.co.functions.listLicense(asset_id, terms, m.token.address, 10 * UNIT, 1, m.later()), co.a)
    m.buy_license(m.call(m.licenses_market.functions.licenseListingCount()))
    new = co.shares((co.a, 10_000))
    co.consents(asset_id, CO_OWNERS_CHANGE, new, (ZERO32, 0))
    co.ip.send(co.co.functions.changeCoOwners(asset_id, new, (ZERO32, 0)), co.a)
    assert (co.credit(co.a), co.credit(co.b), co.credit(co.c)) == (5 * UNIT, 3 * UNIT, 2 * UNIT)


def test_share_transfer_needs_others_consent_unless_agreed(co: CoKit):
    asset_id = co.register()
    to = co.ip.stranger.address
    fn = co.co.functions.transferShare(asset_id, to, 1_000)
    assert co.ip.refused(fn, co.b).name == "CoOwnershipConsentMissing"
    co.consents(asset_id, SHARE_TRANSFER, co.b.address, to, 1_000, by=(co.a, co.c))
    receipt = co.ip.send(fn, co.b)
    assert ("ShareTransferred", {"assetId": asset_id, "from": co.b.address, "to": to, "bps": 1_000}) in (
        co.ip.events(co.co, receipt))
    assert co.co_owners(asset_id)["shares"] == [(co.a.address, 5_000), (co.b.address, 2_000),
                                                (co.c.address, 2_000), (to, 1_000)]
    error = co.ip.refused(co.co.functions.transferShare(asset_id, to, 2_001), co.c)
    assert (error.name, error.arguments) == ("CoOwnershipInvalidShareTransfer",
                                             {"assetId": asset_id, "bps": 2_001, "held": 2_000})
    free = co.register(flags=FREE_SHARE_TRANSFER)
    co.ip.send(co.co.functions.transferShare(free, to, 2_000), co.c)  # the whole share, alone
    assert co.co_owners(free)["shares"] == [(co.a.address, 5_000), (co.b.address, 3_000), (to, 2_000)]


# -- the attacker -------------------------------------------------------------------------------


def test_every_path_around_the_vault_is_refused_by_name(co: CoKit):
    asset_id = co.register()
    vault = co.vault(asset_id)
    m = co.market
    offer_id = m.offer(asset_id, 90 * UNIT)
    ip = co.ip
    vault_contract = ip.chain.contract(co.artifacts["CoOwnedAsset"].abi, vault)
    transfer_data = ip.registry.functions.transferFrom(vault, co.a.address, asset_id)._encode_transaction_data()
    attempts = {
        "licence offered directly": (ip.licenses.functions.offer(asset_id, ip.terms(kind=EXCLUSIVE)),
                                     "LicenseRegistryNotOwner"),
        "pledge proposed directly": (ip.pledges.functions.propose(asset_id, *_pledge_args(co)),
                                     "PledgeRegistryNotOwner"),
        "asset listed directly": (m.market.functions.listAsset(asset_id, m.token.address, UNIT, m.later(),
                                                               ZERO_ADDRESS), "MarketplaceNotOwner"),
        "licence listed directly": (m.licenses_market.functions.listLicense(
            asset_id, ip.terms(ZERO_ADDRESS), m.token.address, UNIT, 1, m.later()), "MarketplaceNotOwner"),
        "offer accepted directly": (m.market.functions.acceptOffer(offer_id), "MarketplaceNotSeller"),
        "token moved directly": (ip.registry.functions.transferFrom(vault, co.a.address, asset_id),
                                 "ERC721InsufficientApproval"),
        "vault told directly": (vault_contract.functions.execute(ip.registry.address,
                                                                 bytes.fromhex(transfer_data[2:])),
                                "CoOwnedAssetUnauthorizedCaller"),
        "approval given directly": (ip.registry.functions.approve(co.a.address, asset_id),
                                    "ERC721InvalidApprover"),
    }
    for what, (fn, name) in attempts.items():
        error = ip.refused(fn, co.a)
        assert error.name == name, what
    assert ip.owner_of(asset_id) == vault
    assert ip.call(ip.pledges.functions.pledgeCount()) == 0
    assert ip.call(ip.licenses.functions.licenseCount()) == 0


def test_pledged_co_owned_asset_moves_only_with_bank_and_every_co_owner(co: CoKit):
    asset_id = co.register()
    args = _pledge_args(co)
    co.consents(asset_id, PLEDGE, *args)
    co.ip.send(co.co.functions.proposePledge(asset_id, *args), co.a)
    pledge_id = co.ip.call(co.ip.pledges.functions.pledgeCount())
    co.ip.accept_pledge(pledge_id)
    to = co.ip.stranger.address
    co.consents(asset_id, TRANSFER, to)
    error = co.ip.refused(co.co.functions.transfer(asset_id, to), co.a)
    assert error.name == "IPRegistryAssetPledged"  # every co-owner agreed, the bank did not
    co.ip.send(co.ip.pledges.functions.consentToTransfer(pledge_id, to), co.ip.bank)
    co.ip.send(co.co.functions.transfer(asset_id, to), co.a)
    assert co.ip.owner_of(asset_id) == to


def test_act_id_is_keccak_of_kind_asset_epoch_and_params(co: CoKit):
    asset_id = co.register()
    params = abi_encode(["address"], [co.ip.stranger.address])
    expected = keccak(abi_encode(["uint8", "uint256", "uint32", "bytes32"], [TRANSFER, asset_id, 1, keccak(params)]))
    assert co.act_id(asset_id, TRANSFER, co.ip.stranger.address) == "0x" + expected.hex()


def test_unanimous_act_uses_the_actors_own_consent_too(co: CoKit):
    asset_id = co.register()
    terms = co.ip.terms(kind=EXCLUSIVE)
    act = co.consents(asset_id, LICENSE, terms, by=(co.a, co.b, co.c))
    co.ip.send(co.co.functions.offerLicense(asset_id, terms), co.a)
    assert not any(co.has_consented(asset_id, act, who) for who in (co.a, co.b, co.c))
    co.consents(asset_id, LICENSE, terms, by=(co.c,))  # a repeat: A's earlier consent must not count for B
    assert co.ip.refused(co.co.functions.offerLicense(asset_id, terms), co.b).arguments["coOwner"] == co.a.address
