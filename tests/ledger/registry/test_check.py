"""The bank check on a real Anvil: one JSON-RPC round trip, every red flag from a real state, the history."""

from __future__ import annotations

import os

import pytest

from ledger.context import Ledger
from ledger.encoding import day, parse_date
from ledger.errors import NotFoundError, ValidationError
from ledger.registry.check import DueDiligence
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


def one_read(ip: IPKit) -> int:
    """The round trips of a first report: 1, and one more for the block times on a node whose logs carry
    no ``blockTimestamp`` (Hardhat's node, Ganache; see the next tests and ledger/registry/check.py)."""
    logs = ip.chain.rpc("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])
    return 1 if logs and "blockTimestamp" in logs[-1] else 2


def clean_asset(ledger: Ledger, ip: IPKit, ref: str = "CN202010123456.7") -> int:
    """Registered with a title, verified, granted, dated well past any loan."""
    asset_id = ledger.assets.register(os.urandom(32), "invention-patent", ref, build_document("A pledging method"),
                                      sender=ip.owner).asset_id
    ledger.assets.set_verified(asset_id)
    ledger.assets.set_legal_status(asset_id, "granted")
    ledger.assets.set_dates(asset_id, ip.now() + 15 * YEAR, ip.now() + 10 * YEAR)
    return asset_id


def codes(report: DueDiligence) -> list[str]:
    return [flag.code for flag in report.red_flags]


def license_to(ledger: Ledger, ip: IPKit, asset_id: int, kind: str, territory: str = "") -> int:
    now = ip.now()
    license_id = ledger.licenses.offer(asset_id, LicenseTerms(ip.licensee.address, kind, now, now + YEAR, territory),
                                       sender=ip.owner).ids["licenseId"]
    ledger.licenses.accept(license_id, sender=ip.licensee)
    return license_id


def test_clean_asset_has_no_red_flags_and_names_its_facts(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    license_to(ledger, ip, asset_id, "non-exclusive")
    report = ledger.check.due_diligence(asset_id, "2030-06-30")
    assert report.clean and report.red_flags == []
    data = report.as_json()
    assert (data["ref"], data["title"], data["owner"], data["kind"], data["legal_status"], data["verified"]) == (
        "CN202010123456.7", "A pledging method", ip.owner.address, "invention-patent", "granted", True)
    assert data["pledge"] is None and not data["frozen"]
    assert [(lic["kind"], lic["exclusive"]) for lic in data["licenses"]] == [("non-exclusive", False)]
    assert data["maturity"] == parse_date("2030-06-30") and data["round_trips"] == one_read(ip)
    assert data["block_number"] == ip.chain.w3.eth.block_number
    assert data["block_hash"] == ip.chain.block_hash(data["block_number"])


def test_expiry_before_the_loans_maturity_is_flagged_with_both_dates(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    ledger.assets.set_dates(asset_id, parse_date("2029-12-31"), ip.now() + 10 * YEAR)
    report = ledger.check.due_diligence(asset_id, "2030-06-30")
    assert codes(report) == ["expires_before_maturity"]
    assert report.red_flags[0].message == "it expires on 2029-12-31, before the loan matures on 2030-06-30"
    assert ledger.check.due_diligence(asset_id, "2029-06-30").clean


def test_unpaid_annual_fees_are_flagged(ledger: Ledger, ip: IPKit, chain):
    asset_id = clean_asset(ledger, ip)
    ledger.assets.set_dates(asset_id, ip.now() + 15 * YEAR, ip.now() + DAY)
    assert ledger.check.due_diligence(asset_id).clean
    chain.increase_time(2 * DAY)
    report = ledger.check.due_diligence(asset_id)
    assert codes(report) == ["fees_unpaid"] and "annual fees are paid only until" in report.red_flags[0].message


@pytest.mark.parametrize(("paid_until", "flagged"), [(-DAY, True), (0, False), (DAY, False)])
def test_fees_paid_until_before_the_loans_maturity_are_flagged_at_the_boundaries(
        ledger: Ledger, ip: IPKit, paid_until: int, flagged: bool):
    """Fees paid until 2026-12-31, a loan maturing 2027-06-30: a red flag, though the fees are paid today."""
    asset_id = clean_asset(ledger, ip)
    maturity = ip.now() + 212 * DAY
    ledger.assets.set_dates(asset_id, ip.now() + 15 * YEAR, maturity + paid_until)
    report = ledger.check.due_diligence(asset_id, maturity)
    assert (codes(report) == ["fees_unpaid"]) is flagged and report.clean is not flagged
    if flagged:
        assert report.red_flags[0].message == (
            f"annual fees are paid only until {day(maturity - DAY)}, before the loan matures on {day(maturity)}: "
            "the right lapses during the loan unless they are paid")
    assert ledger.check.due_diligence(asset_id).clean  # without a loan: paid for now


def test_fees_already_lapsed_before_a_later_maturity_say_the_right_has_lapsed(ledger: Ledger, ip: IPKit, chain):
    """Fees paid until yesterday, a loan maturing in a year: the right has already lapsed, not "during the loan"."""
    asset_id = clean_asset(ledger, ip)
    paid = ip.now() + DAY
    ledger.assets.set_dates(asset_id, ip.now() + 15 * YEAR, paid)
    chain.increase_time(2 * DAY)
    expected = (f"annual fees are paid only until {day(paid)}, which has already passed: the right has already "
                "lapsed (it is restored only if the overdue fees are paid)")
    for maturity in (ip.now() + YEAR, 0):
        report = ledger.check.due_diligence(asset_id, maturity)
        assert codes(report) == ["fees_unpaid"] and report.red_flags[0].message == expected
        assert "during the loan" not in report.red_flags[0].message


def test_a_maturity_not_after_the_chains_time_is_refused_as_pledge_propose_refuses_it(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    now = ip.now()
    for past in ("2020-01-01", now):
        with pytest.raises(ValidationError, match="the maturity must be in the future: .* is not after the chain's "
                                                  "time") as refused:
            ledger.check.due_diligence(asset_id, past)
        assert refused.value.context["notice"] == "maturity-past"
    assert ledger.check.due_diligence(asset_id, now + DAY).clean
    assert ledger.check.due_diligence(asset_id, now, past_maturity=True).clean  # an existing pledge's own maturity
    block = ip.chain.w3.eth.block_number  # a re-check reproduces a report as it was read, whatever its maturity
    assert ledger.check.due_diligence_at(asset_id, now, block).block_number == block


def test_disputed_holder_is_flagged_and_the_ref_no_longer_finds_the_squatter(ledger: Ledger, ip: IPKit):
    squatter = clean_asset(ledger, ip, ref="CN202099999999.9")
    ledger.assets.unbind_ref("cn202099999999.9", "0x" + "5a" * 32)
    report = ledger.check.due_diligence(squatter)
    assert codes(report) == ["holder_disputed", "unverified"] and report.asset.holder_disputed
    with pytest.raises(NotFoundError, match="no asset is registered with the official number CN202099999999.9"):
        ledger.check.due_diligence("CN202099999999.9")
    real = clean_asset(ledger, ip, ref="CN202099999999.9")
    assert ledger.check.due_diligence("CN202099999999.9").asset_id == real


def test_pending_invalidation_is_flagged(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    ledger.assets.set_legal_status(asset_id, "invalidation-requested")
    assert codes(ledger.check.due_diligence(asset_id)) == ["invalidation_pending"]


def test_invalidated_asset_is_flagged_not_pledgeable(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    ledger.assets.set_legal_status(asset_id, "invalidated")
    report = ledger.check.due_diligence(asset_id)
    assert codes(report) == ["not_pledgeable"] and report.red_flags[0].message.endswith("status is invalidated")


def test_frozen_asset_is_flagged_with_the_court_and_term(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    until = parse_date("2031-01-15")
    ledger.assets.freeze(asset_id, "Beijing IP Court", "(2026) Jing 73 Min Chu 1", None, until)
    report = ledger.check.due_diligence(asset_id)
    assert codes(report) == ["frozen"] and report.frozen
    assert report.red_flags[0].message == (
        "frozen by Beijing IP Court, case (2026) Jing 73 Min Chu 1, until 2031-01-15: it cannot be transferred, "
        "licensed or pledged")


def test_pledged_asset_is_flagged_with_the_pledgee_and_principal(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    bank = ip.bank
    pledge_id = ledger.pledges.propose(asset_id, bank.address, 5_000_000, "CNY", "2029-06-30",
                                       sender=ip.owner).ids["pledgeId"]
    assert ledger.check.due_diligence(asset_id).clean  # a proposal does not encumber the asset
    ledger.pledges.accept(pledge_id, ledger.check.due_diligence(asset_id).encumbrance_version, sender=bank)
    report = ledger.check.due_diligence(asset_id)
    assert codes(report) == ["pledged"]
    assert report.red_flags[0].message == (f"already pledged to {bank.address} (pledge {pledge_id}) for 5,000,000 CNY, "
                                           "maturing 2029-06-30")
    assert report.pledge is not None and report.pledge.pledge_id == pledge_id


@pytest.mark.parametrize("kind", ["exclusive", "sole"])
def test_exclusively_licensed_asset_is_flagged_naming_the_license(ledger: Ledger, ip: IPKit, kind: str):
    asset_id = clean_asset(ledger, ip)
    license_id = license_to(ledger, ip, asset_id, kind, territory="CN")
    report = ledger.check.due_diligence(asset_id)
    assert codes(report) == ["exclusively_licensed"]
    assert report.red_flags[0].message.startswith(
        f"exclusively licensed: {kind} license {license_id} to {ip.licensee.address} (territory CN, field all")
    assert report.as_json()["licenses"][0]["exclusive"] is True


def test_unverified_and_every_flag_at_once_in_the_order_a_lender_reads_them(ledger: Ledger, ip: IPKit, chain):
    asset_id = ledger.assets.register(os.urandom(32), "design", None, build_document("T"), sender=ip.owner).asset_id
    ledger.assets.set_dates(asset_id, ip.now() + YEAR, ip.now() + DAY)
    license_to(ledger, ip, asset_id, "exclusive")
    bank = ip.bank
    pledge_id = ledger.pledges.propose(asset_id, bank.address, 1, "CNY", ip.now() + 200 * DAY,
                                       sender=ip.owner).ids["pledgeId"]
    ledger.pledges.accept(pledge_id, ledger.check.due_diligence(asset_id).encumbrance_version, sender=bank)
    ledger.assets.set_legal_status(asset_id, "invalidation-requested")
    chain.increase_time(2 * DAY)
    ledger.assets.freeze(asset_id, "court", "case", None, ip.now() + 30 * DAY)
    report = ledger.check.due_diligence(asset_id, ip.now() + 2 * YEAR)
    assert codes(report) == ["frozen", "pledged", "invalidation_pending", "expires_before_maturity", "fees_unpaid",
                             "exclusively_licensed", "unverified"]


def test_history_holds_every_event_about_the_asset_with_tx_hashes_in_order(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    other = clean_asset(ledger, ip, ref="CN2")  # its events must not leak in
    license_to(ledger, ip, other, "exclusive")
    license_id = license_to(ledger, ip, asset_id, "non-exclusive")
    bank = ip.bank
    proposal = ledger.pledges.propose(asset_id, bank.address, 1, "CNY", ip.now() + YEAR, sender=ip.owner)
    version = ledger.check.due_diligence(asset_id).encumbrance_version
    accepted = ledger.pledges.accept(proposal.ids["pledgeId"], version, sender=bank)
    report = ledger.check.due_diligence(asset_id)
    assert [f"{e.contract}.{e.event}" for e in report.history] == [
        "IPRegistry.Transfer", "IPRegistry.AssetRegistered", "IPRegistry.VerificationChanged",
        "IPRegistry.LegalStatusChanged", "IPRegistry.DatesChanged", "LicenseRegistry.LicenseOffered",
        "LicenseRegistry.LicenseAccepted", "PledgeRegistry.PledgeProposed", "PledgeRegistry.PledgeAccepted",
    ]
    assert report.history[-2].tx_hash == proposal.tx_hash and report.history[-1].tx_hash == accepted.tx_hash
    for event in report.history:
        receipt = ip.chain.receipt(event.tx_hash)
        assert receipt is not None and receipt.block_number == event.block_number
        assert event.block_time == ip.chain.block_time(event.block_number)
    rows = report.as_json()["history"]
    assert rows[1]["args"]["ref"] == "CN202010123456.7" and rows[1]["args"]["kind"] == "invention-patent"
    assert rows[5]["args"]["licenseId"] == license_id and rows[5]["args"]["terms"]["kind"] == "non-exclusive"
    assert rows[7]["args"]["currency"] == "CNY"


def test_the_check_is_one_json_rpc_round_trip(ledger: Ledger, ip: IPKit, monkeypatch):
    asset_id = clean_asset(ledger, ip)
    expected, check = one_read(ip), ledger.check  # the service asks once, when made, whether the chain finalizes
    provider = ip.chain.w3.provider
    requests: list[str] = []
    for name in ("make_request", "make_batch_request"):
        original = getattr(provider, name)
        monkeypatch.setattr(provider, name, lambda *a, _o=original, _n=name: requests.append(_n) or _o(*a))
    report = check.due_diligence(asset_id, "2030-06-30")
    assert requests == ["make_batch_request"] * expected and report.round_trips == expected


def test_a_node_without_log_timestamps_costs_one_more_round_trip(ledger: Ledger, ip: IPKit, monkeypatch):
    asset_id = clean_asset(ledger, ip)
    original = ip.chain.rpc_batch

    def without_timestamps(calls, *, raw=False):  # type: ignore[no-untyped-def]
        responses = original(calls, raw=raw)
        for response in responses:
            for log in (response.get("result") or []) if raw and isinstance(response.get("result"), list) else []:
                log.pop("blockTimestamp", None)
        return responses

    monkeypatch.setattr(ip.chain, "rpc_batch", without_timestamps)
    report = ledger.check.due_diligence(asset_id)
    assert report.round_trips == 2
    assert [e.block_time for e in report.history] == [ip.chain.block_time(e.block_number) for e in report.history]


def test_check_by_official_number_and_unknown_assets(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    assert ledger.check.due_diligence("cn202010123456.7").asset_id == asset_id
    with pytest.raises(NotFoundError, match="no asset is registered with the official number CN404"):
        ledger.check.due_diligence("CN404")
    with pytest.raises(NotFoundError, match="asset 99 does not exist"):
        ledger.check.due_diligence(99)
    with pytest.raises(ValidationError, match="not a date"):
        ledger.check.due_diligence(asset_id, "next year")


def test_cached_report_is_reused_until_the_head_moves(ledger: Ledger, ip: IPKit):
    asset_id = clean_asset(ledger, ip)
    first = ledger.check.due_diligence(asset_id, max_age=0)
    assert ledger.check.due_diligence(asset_id, max_age=0) is first
    assert ledger.check.cached(asset_id, 0, max_age=60) is first
    ledger.assets.freeze(asset_id, "court", "case", None, ip.now() + DAY)
    fresh = ledger.check.due_diligence(asset_id, max_age=0)
    assert fresh is not first and codes(fresh) == ["frozen"]
    assert ledger.check.cached(asset_id, 0, max_age=60) is fresh


def test_cached_report_is_dropped_when_the_chain_reverts_to_another_block(ledger: Ledger, ip: IPKit, chain):
    asset_id = clean_asset(ledger, ip)
    snapshot = chain.snapshot()
    ledger.assets.freeze(asset_id, "court", "case", None, ip.now() + DAY)
    frozen = ledger.check.due_diligence(asset_id, max_age=0)
    chain.revert(snapshot)
    ledger.assets.set_legal_status(asset_id, "lapsed")  # same height as the freeze, another block
    assert chain.w3.eth.block_number == frozen.block_number
    report = ledger.check.due_diligence(asset_id, max_age=0)
    assert codes(report) == ["not_pledgeable"]


def test_head_watcher_keeps_cached_reports_servable_and_notices_new_blocks(ledger: Ledger, ip: IPKit):
    """Waits on what the watcher did, not on fixed sleeps: a loaded CI machine may run it late."""
    import time

    def wait_until(condition, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "the head watcher did not look in time"
            time.sleep(0.05)

    max_age = 2.0  # the watcher looks every second
    asset_id = clean_asset(ledger, ip)
    try:
        report = ledger.check.due_diligence(asset_id, max_age=max_age)
        assert ledger.check.cached(asset_id, 0, max_age=max_age) is report  # starts the watcher
        looked_before = ledger.check._head[0]
        wait_until(lambda: ledger.check._head[0] > looked_before)  # the watcher looked: still the head
        assert ledger.check.cached(asset_id, 0, max_age=max_age) is report
        ledger.assets.set_verified(asset_id, False)
        wait_until(lambda: ledger.check.cached(asset_id, 0, max_age=max_age) is None)  # a new block: read again
        assert codes(ledger.check.due_diligence(asset_id, max_age=max_age)) == ["unverified"]
    finally:
        ledger.check.close()


def test_current_reads_the_lens_in_one_call_without_any_log_query(ledger: Ledger, ip: IPKit, monkeypatch):
    asset_id = clean_asset(ledger, ip)
    license_to(ledger, ip, asset_id, "exclusive")
    full = ledger.check.due_diligence(asset_id)
    provider = ip.chain.w3.provider
    methods: list[list[str]] = []
    original = provider.make_batch_request
    monkeypatch.setattr(provider, "make_batch_request",
                        lambda calls: methods.append([m for m, _ in calls]) or original(calls))
    now = ledger.check.current(asset_id)
    # the lens, the open disputes, the parent and the children: one round trip, no eth_getLogs
    assert methods == [["eth_call", "eth_call", "eth_call", "eth_call", "eth_getBlockByNumber"]]
    assert (now.asset, now.frozen, now.freeze, now.pledge, now.licenses, now.offers, now.flags, now.red_flags,
            now.block_number, now.block_hash) == (full.asset, full.frozen, full.freeze, full.pledge, full.licenses,
                                                  full.offers, full.flags, full.red_flags, full.block_number,
                                                  full.block_hash)
    assert now.registration is None and now.title is None and now.history == []
    assert codes(now) == ["exclusively_licensed"]


def test_current_with_open_disputes_reads_their_records_in_one_more_round_trip(ledger: Ledger, ip: IPKit, monkeypatch):
    asset_id = clean_asset(ledger, ip)
    child = clean_asset(ledger, ip, "CN202010123457.1")
    ledger.disputes.set_parent(child, asset_id, sender=ip.owner)
    ledger.disputes.open_dispute(asset_id, "ownership", "C-1")
    ledger.disputes.open_dispute(asset_id, "other", "C-2")
    full = ledger.check.due_diligence(asset_id)
    provider = ip.chain.w3.provider
    methods: list[list[str]] = []
    original = provider.make_batch_request
    monkeypatch.setattr(provider, "make_batch_request",
                        lambda calls: methods.append([m for m, _ in calls]) or original(calls))
    now = ledger.check.current(asset_id)
    assert len(methods) == 2 and methods[1] == ["eth_call", "eth_call"]
    assert (now.flags, now.red_flags, now.disputes, now.children) == (full.flags, full.red_flags, full.disputes,
                                                                       [child])
    assert codes(now)[0] == "ownership_disputed" and codes(now)[-1] == "disputed"


def test_current_of_an_unknown_asset_raises_not_found(ledger: Ledger, ip: IPKit):
    with pytest.raises(NotFoundError):
        ledger.check.current(10**9)
    with pytest.raises(ValidationError, match="start at 1"):
        ledger.check.current(0)
