"""Audit totals over the real registry and market contracts, on SQLite and PostgreSQL: after real acts on the
session chain (assets of several kinds, licenses in every state, pledges to two banks in every state, asset
and license sales in two tokens with a protocol fee), the indexed totals equal a direct read of the chain.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.audit.indexer import Indexer, sources_from_deployment
from ledger.audit.queries import ASSET_KINDS, LICENSE_KINDS, AuditService
from ledger.audit.store import Store
from ledger.chain.client import ChainClient
from tests.contracts.ipkit import (
    DAY,
    DESIGN,
    EXCLUSIVE,
    INVENTION_PATENT,
    L_ACTIVE,
    L_EXPIRED,
    L_OFFERED,
    L_TERMINATED,
    NON_EXCLUSIVE,
    P_ACTIVE,
    P_CANCELLED,
    P_ENFORCED,
    P_PROPOSED,
    P_RELEASED,
    SOFTWARE_COPYRIGHT,
    SOLE,
    TRADEMARK,
    ZERO_ADDRESS,
    IPKit,
)
from tests.contracts.test_marketplace import O_ACCEPTED, SOLD, UNIT, MarketKit, market_kit

LICENSE_STATUS = {L_OFFERED: "offered", L_ACTIVE: "active", L_TERMINATED: "terminated", L_EXPIRED: "expired"}
PLEDGE_STATUS = {P_PROPOSED: "proposed", P_ACTIVE: "active", P_RELEASED: "released", P_ENFORCED: "enforced",
                 P_CANCELLED: "cancelled"}


@pytest.fixture
def ip(chain, contract, accounts) -> IPKit:  # type: ignore[no-untyped-def]
    return IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
                 pledges=contract("PledgeRegistry"), lens=contract("IPLens"), forwarder=contract("IpledgerForwarder"),
                 accounts=accounts)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    yield opened
    opened.dispose()


def index(chain: ChainClient, store: Store, deployment, artifacts) -> AuditService:  # type: ignore[no-untyped-def]
    Indexer(chain, store, sources_from_deployment(deployment, artifacts)).sync()
    return AuditService(store, chain.chain_id)


def currency(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode("ascii")


# -- direct reads of the chain -------------------------------------------------------------------


def chain_registrations(ip: IPKit) -> dict[str, int]:
    count = ip.call(ip.registry.functions.assetCount())
    return dict(Counter(ASSET_KINDS[ip.asset(a)["kind"]] for a in range(1, count + 1)))


def chain_licenses(ip: IPKit) -> list[dict[str, Any]]:
    """Every license with its status as of the latest block (active past its end reads as expired)."""
    now = ip.now()
    found = []
    for license_id in range(1, ip.call(ip.licenses.functions.licenseCount()) + 1):
        lic = ip.license_of(license_id)
        status = LICENSE_STATUS[lic["status"]]
        if status == "active" and lic["end"] <= now:
            status = "expired"
        found.append({**lic, "license_id": license_id, "label": status})
    return found


def chain_pledges(ip: IPKit) -> list[dict[str, Any]]:
    return [{**ip.pledge_of(p), "pledge_id": p, "label": PLEDGE_STATUS[ip.pledge_of(p)["status"]]}
            for p in range(1, ip.call(ip.pledges.functions.pledgeCount()) + 1)]


# -- registry totals --------------------------------------------------------------------------------


def test_registry_totals_equal_a_direct_read_of_the_chain(chain, ip, store, deployment, artifacts):
    owner, other = ip.owner, ip.other
    patents = [ip.register(kind=INVENTION_PATENT) for _ in range(3)]
    mark = ip.register(other, kind=TRADEMARK)
    design = ip.register(kind=DESIGN)
    software = ip.register(other, kind=SOFTWARE_COPYRIGHT)
    # licenses: active of each kind, one terminated, one only offered, one that expires
    ip.license(patents[0], kind=EXCLUSIVE, territory="CN")
    ip.license(patents[0], kind=NON_EXCLUSIVE, territory="US", licensee=ip.buyer.address)
    ip.license(mark, other, kind=SOLE)
    ended = ip.license(design, kind=NON_EXCLUSIVE)
    ip.send(ip.licenses.functions.terminate(ended, b"\x01" * 32), owner)
    ip.offer(software, other, kind=NON_EXCLUSIVE)
    ip.license(patents[1], kind=NON_EXCLUSIVE, end=ip.now() + 2 * DAY)
    # pledges: two banks, two currencies; active, released, proposed, cancelled, enforced
    to_bank = ip.pledge(patents[0], bank=ip.bank)
    ip.send(ip.pledges.functions.propose(patents[2], ip.bank2.address, 7_000_00, b"USD", ip.now() + 300 * DAY,
                                         b"\x02" * 32), owner)
    usd = int(ip.call(ip.pledges.functions.pledgeCount()))
    ip.accept_pledge(usd, ip.bank2)
    released = ip.pledge(mark, owner=other, bank=ip.bank2)
    ip.send(ip.pledges.functions.release(released), ip.bank2)
    ip.propose(design, pledgee=ip.bank2.address)
    cancelled = ip.propose(software, owner=other, pledgee=ip.bank.address)
    ip.send(ip.pledges.functions.cancel(cancelled), other)
    enforced = ip.pledge(patents[1], bank=ip.bank, maturity=ip.now() + DAY)
    ip.chain.increase_time(3 * DAY)  # the short license expires, the short pledge matures
    ip.send(ip.pledges.functions.enforce(enforced, ZERO_ADDRESS), ip.bank)
    assert to_bank != usd

    audit = index(chain, store, deployment, artifacts)
    registry = audit.totals().registry

    assert registry["registrations_by_kind"] == dict(sorted(chain_registrations(ip).items()))
    licenses = chain_licenses(ip)
    active = Counter(LICENSE_KINDS[lic["kind"]] for lic in licenses if lic["label"] == "active")
    assert registry["active_licenses"] == {"total": sum(active.values()), "by_kind": dict(sorted(active.items()))}
    assert registry["active_licenses"]["total"] == 3
    assert registry["licenses_by_status"] == dict(sorted(Counter(lic["label"] for lic in licenses).items()))
    assert set(registry["licenses_by_status"]) == {"active", "terminated", "offered", "expired"}
    pledges = chain_pledges(ip)
    principal: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_bank: dict[str, Counter[str]] = defaultdict(Counter)
    for pledge in pledges:
        by_bank[pledge["pledgee"]][pledge["label"]] += 1
        if pledge["label"] == "active":
            principal[pledge["pledgee"]][currency(pledge["currency"])] += pledge["principal"]
    assert registry["pledged_principal"] == {bank: dict(c) for bank, c in principal.items()}
    assert registry["pledged_principal"] == {ip.bank.address: {"CNY": 5_000_000_00},
                                             ip.bank2.address: {"USD": 7_000_00}}
    assert registry["pledges_by_bank"] == {bank: dict(sorted(c.items())) for bank, c in sorted(by_bank.items())}

    # the lists behind them: every license and pledge in its chain state, filtered by bank and status
    entries, count = audit.licenses(limit=100)
    assert count == len(licenses)
    assert [(e.license_id, e.status, e.licensee, e.end, e.kind) for e in entries] == [
        (lic["license_id"], lic["label"], lic["licensee"], lic["end"], LICENSE_KINDS[lic["kind"]]) for lic in licenses]
    pledged_assets = {p["assetId"]: p["pledgee"] for p in pledges if p["label"] == "active"}
    for bank in (ip.bank.address, ip.bank2.address):
        page, _ = audit.licenses(bank=bank.lower())
        assert [e.license_id for e in page] == [lic["license_id"] for lic in licenses
                                                if pledged_assets.get(lic["assetId"]) == bank]
        for label in PLEDGE_STATUS.values():
            page, n = audit.pledges(bank=bank, status=label)
            assert [e.pledge_id for e in page] == [p["pledge_id"] for p in pledges
                                                   if p["pledgee"] == bank and p["label"] == label]
            assert n == len(page)
    every, _ = audit.pledges()
    assert [(e.pledge_id, e.pledgor, e.principal, e.maturity) for e in every] == [
        (p["pledge_id"], p["pledgor"], p["principal"], p["maturity"]) for p in pledges]


# -- market totals ---------------------------------------------------------------------------------


@pytest.fixture
def market(ip: IPKit, contract, artifacts) -> MarketKit:  # type: ignore[no-untyped-def]
    return market_kit(ip, contract, artifacts)


def chain_sales(market: MarketKit) -> dict[str, dict[str, Any]]:
    """Asset sales (sold listings, accepted offers) and license sales read from the market contracts."""
    assets: dict[str, int] = defaultdict(int)
    licenses: dict[str, int] = defaultdict(int)
    counts = Counter[str]()
    listings, offers, _, _ = market.call(market.market.functions.counts())
    for listing_id in range(1, listings + 1):
        listing = market.listing(listing_id)
        if listing["status"] == SOLD:
            assets[listing["token"]] += listing["price"]
            counts["assets"] += 1
    for offer_id in range(1, offers + 1):
        offer = market.offer_of(offer_id)
        if offer["status"] == O_ACCEPTED:
            assets[offer["token"]] += offer["amount"]
            counts["assets"] += 1
    for listing_id in range(1, market.call(market.licenses_market.functions.licenseListingCount()) + 1):
        listing = market.license_listing(listing_id)
        licenses[listing["token"]] += listing["sold"] * listing["price"]
        counts["licenses"] += listing["sold"]
    return {"assets": {"count": counts["assets"], "volume": dict(assets)},
            "licenses": {"count": counts["licenses"], "volume": dict(licenses)}}


def test_sales_volume_equals_a_direct_read_of_the_market(chain, ip, market, store, deployment, artifacts):
    other_token = market.deploy("FeeOnTransferToken", 0)  # charges nothing: a plain second token
    for account in (market.seller, market.buyer, market.buyer2):
        market.fund(account, 1_000 * UNIT, other_token)
    market.send(market.market.functions.setFee(market.treasury.address, 250), ip.admin)
    tokens = (market.token, other_token)
    treasury_before = {t.address: market.balance(market.treasury, t) for t in tokens}
    # a listing bought, in each token; a listing cancelled and a listing left open
    market.buy(market.list_asset(ip.register(), 100 * UNIT))
    market.buy(market.list_asset(ip.register(), 40 * UNIT, token=other_token.address), market.buyer2)
    market.send(market.market.functions.cancelListing(market.list_asset(ip.register(), 5 * UNIT)), market.seller)
    market.list_asset(ip.register(), 7 * UNIT)
    # an offer accepted, an offer withdrawn after a refusal, a demand answered and its offer accepted
    offered = ip.register()
    offer_id = market.offer(offered, 80 * UNIT, token=other_token.address)
    market.approve_asset(offered)
    market.send(market.market.functions.acceptOffer(offer_id), market.seller)
    refused_asset = ip.register()
    refused = market.offer(refused_asset, 20 * UNIT, buyer=market.buyer2)
    market.send(market.market.functions.refuseOffer(refused), market.seller)
    market.send(market.market.functions.withdrawOffer(refused), market.buyer2)
    wanted = ip.register()
    answer_id = market.answer(market.post_demand(500 * UNIT), wanted, 300 * UNIT)
    market.send(market.market.functions.acceptAnswer(answer_id, market.later()), market.buyer)
    market.approve_asset(wanted)
    market.send(market.market.functions.acceptOffer(market.call(market.market.functions.counts())[1]), market.seller)
    # licenses sold from a listing, twice; another license listing with no sale
    listing_id = market.list_license(ip.register(), 10 * UNIT, 3)
    market.buy_license(listing_id, market.buyer)
    market.buy_license(listing_id, market.buyer2)
    market.list_license(ip.register(), 3 * UNIT, 1, approve=False)

    audit = index(chain, store, deployment, artifacts)
    registry = audit.totals().registry

    on_chain = chain_sales(market)
    assert on_chain["assets"]["count"] == 4 and on_chain["licenses"]["count"] == 2
    volume: dict[str, int] = defaultdict(int)
    for kind in ("assets", "licenses"):
        assert registry["sales"][kind]["count"] == on_chain[kind]["count"]
        assert registry["sales"][kind]["volume"] == dict(sorted(on_chain[kind]["volume"].items()))
        for token, amount in on_chain[kind]["volume"].items():
            volume[token] += amount
    assert registry["sales_volume"] == dict(sorted(volume.items()))
    assert registry["sales_volume"] == {market.token.address: (100 + 300 + 2 * 10) * UNIT,
                                        other_token.address: (40 + 80) * UNIT}
    fees: dict[str, int] = defaultdict(int)
    for kind in ("assets", "licenses"):
        for token, fee in registry["sales"][kind]["fees"].items():
            fees[token] += fee
    assert fees == {t.address: market.balance(market.treasury, t) - treasury_before[t.address] for t in tokens}
    assert fees[market.token.address] == 420 * UNIT * 250 // 10_000
    # the licenses sold are active licenses like any other
    sold = [e for e in audit.licenses(status="active")[0] if e.licensor == market.seller.address]
    assert sorted(e.licensee for e in sold) == sorted([market.buyer.address, market.buyer2.address])


# -- issue 11: the new acts are indexed with their arguments ----------------------------------------


def test_consents_unbinding_and_disputes_are_indexed_with_their_arguments(chain, ip, store, deployment, artifacts):
    ref = b"CN2020777777.7".ljust(32, b"\0")
    squatter = ip.register(ip.stranger, ref=ref)
    ip.send(ip.registry.functions.unbindRef(ref, b"\x5a" * 32), ip.admin)
    asset_id = ip.register()
    pledge_id = ip.pledge(asset_id)
    kept, withdrawn = ip.terms(territory="CN"), ip.terms(territory="US")
    kept_id = ip.consent_to_license(pledge_id, kept)
    withdrawn_id = ip.consent_to_license(pledge_id, withdrawn)
    ip.send(ip.pledges.functions.withdrawLicenseConsent(pledge_id, withdrawn_id), ip.bank)
    license_id = ip.offer(asset_id, start=kept[2], end=kept[3], territory="CN")
    ip.accept_license(license_id)
    audit = index(chain, store, deployment, artifacts)

    def one(event: str) -> dict[str, Any]:
        [row] = audit.history(event=event).rows
        return row.args

    assert one("RefUnbound")["assetId"] == squatter
    assert one("HolderDisputeChanged")["disputed"] is True
    consents = [r.args for r in audit.history(event="LicenseConsented").rows]
    assert [c["consentId"] for c in consents] == ["0x" + kept_id.hex(), "0x" + withdrawn_id.hex()]
    assert consents[0]["terms"]["fee"] == kept[7]
    assert one("LicenseConsentWithdrawn")["consentId"] == "0x" + withdrawn_id.hex()
    used = one("LicenseConsentUsed")
    assert (used["consentId"], used["licenseId"], used["pledgeId"]) == ("0x" + kept_id.hex(), license_id, pledge_id)


def test_dispute_totals_and_history_equal_a_direct_read_of_the_chain(chain, ip, store, deployment, artifacts):
    case = b"(2025)JING73MINCHU1".ljust(32, b"\0")
    assets = [ip.register() for _ in range(3)]
    opened = []
    for asset_id, kind in zip(assets + assets[:1], (0, 0, 2, 3), strict=True):  # two of ownership, a suit, other
        receipt = ip.send(ip.registry.functions.openDispute(asset_id, kind, case, b"\x0e" * 32), ip.admin)
        opened.append(int(next(e.args["disputeId"] for e in chain.events(ip.registry, receipt))))
    ip.send(ip.registry.functions.resolveDispute(opened[0], 2, b"\x0d" * 32), ip.admin)  # dismissed
    ip.send(ip.registry.functions.resolveDispute(opened[2], 3, b"\x0d" * 32), ip.admin)  # settled

    audit = index(chain, store, deployment, artifacts)
    kinds = ("ownership", "invalidation-request", "infringement-suit", "other")
    outcomes = ("open", "upheld", "dismissed", "settled", "withdrawn")
    records = [ip.call(ip.registry.functions.disputeOf(i)) for i in range(1, ip.call(
        ip.registry.functions.disputeCount()) + 1)]
    open_by_kind = Counter(kinds[r[1]] for r in records if r[2] == 0)
    resolved = Counter(outcomes[r[2]] for r in records if r[2] != 0)
    assert audit.totals().registry["disputes"] == {
        "opened": len(records), "open_by_kind": dict(sorted(open_by_kind.items())),
        "resolved_by_outcome": dict(sorted(resolved.items()))}
    assert audit.totals().registry["disputes"]["open_by_kind"] == {"other": 1, "ownership": 1}
    events = [(r.event, r.args.get("disputeId")) for r in audit.history(asset_id=assets[0]).rows
              if r.event.startswith("Dispute")]
    assert events == [("DisputeOpened", opened[0]), ("DisputeOpened", opened[3]), ("DisputeResolved", opened[0])]
