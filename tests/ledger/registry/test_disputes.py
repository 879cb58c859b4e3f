"""Disputes and parents through the services on a real Anvil: the registrar's acts, the reads, and what the
bank check makes of them (a red flag per open dispute, ownership first; the parent and children)."""

from __future__ import annotations

import os

import pytest

from ledger.context import Ledger
from ledger.encoding import DisputeKind, DisputeOutcome
from ledger.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.registry.metadata import build_document
from ledger.settings import Settings
from tests.contracts.ipkit import IPKit

EVIDENCE = "0x" + "0e" * 32


@pytest.fixture
def ledger(chain, deployment, artifacts, tmp_path) -> Ledger:
    return Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)


@pytest.fixture
def ip(chain, contract, accounts) -> IPKit:
    return IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
                 pledges=contract("PledgeRegistry"), lens=contract("IPLens"), forwarder=contract("IpledgerForwarder"),
                 accounts=accounts)


def registered(ledger: Ledger, ip: IPKit) -> int:
    return ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("A pledging method"),
                                  sender=ip.owner).asset_id


def test_open_and_resolve_dispute_records_both_and_lists_only_open_ones(ledger: Ledger, ip: IPKit):
    asset_id = registered(ledger, ip)
    opened = ledger.disputes.open_dispute(asset_id, "ownership", "(2025)jing73minchu1", EVIDENCE)
    other = ledger.disputes.open_dispute(asset_id, DisputeKind.INFRINGEMENT_SUIT, "(2025)HU73MINCHU9")
    dispute_id = opened.ids["disputeId"]
    assert opened.ids["assetId"] == asset_id
    [first, second] = ledger.disputes.open_disputes_of(asset_id)
    assert (first.dispute_id, first.kind, first.outcome, first.ref, first.evidence_hash, first.blocks_moves) == (
        dispute_id, DisputeKind.OWNERSHIP, DisputeOutcome.OPEN, "(2025)JING73MINCHU1", EVIDENCE, True)
    assert second.dispute_id == other.ids["disputeId"] and not second.blocks_moves
    ledger.disputes.resolve_dispute(dispute_id, "settled", "0x" + "0d" * 32)
    resolved = ledger.disputes.dispute_of(dispute_id)
    assert (resolved.outcome, resolved.open, resolved.resolution_hash) == (DisputeOutcome.SETTLED, False,
                                                                           "0x" + "0d" * 32)
    assert [d.dispute_id for d in ledger.disputes.open_disputes_of(asset_id)] == [second.dispute_id]
    assert ledger.disputes.dispute_count() == 2


def test_dispute_acts_refused_raise_the_ledgers_errors(ledger: Ledger, ip: IPKit):
    asset_id = registered(ledger, ip)
    with pytest.raises(ValidationError, match="unknown dispute kind"):
        ledger.disputes.open_dispute(asset_id, "libel", "C1")
    with pytest.raises(ValidationError, match="case"):
        ledger.disputes.open_dispute(asset_id, "ownership", "  ")
    with pytest.raises(PermissionDeniedError):
        ledger.disputes.open_dispute(asset_id, "ownership", "C1", sender=ip.owner)
    with pytest.raises(NotFoundError, match="dispute 7 does not exist"):
        ledger.disputes.dispute_of(7)
    with pytest.raises(NotFoundError):
        ledger.disputes.open_disputes_of(999)
    with pytest.raises(ValidationError, match="how the dispute ended"):
        ledger.disputes.resolve_dispute(1, "open")


def test_transfer_while_ownership_disputed_raises_conflict_with_the_sentence(ledger: Ledger, ip: IPKit):
    asset_id = registered(ledger, ip)
    dispute_id = ledger.disputes.open_dispute(asset_id, "ownership", "C1").ids["disputeId"]
    with pytest.raises(ConflictError) as caught:
        ledger.assets.transfer(asset_id, ip.other.address, sender=ip.owner)
    assert str(caught.value).startswith(
        f"the ownership of asset {asset_id} is in dispute (dispute {dispute_id}): it cannot be transferred")
    assert ledger.assets.asset_of(asset_id).owner == ip.owner.address


def test_set_parent_links_both_assets_and_the_check_shows_them(ledger: Ledger, ip: IPKit):
    parent, child = registered(ledger, ip), registered(ledger, ip)
    done = ledger.disputes.set_parent(child, parent, sender=ip.owner)
    assert done.ids == {"assetId": child, "parentId": parent}
    assert ledger.disputes.lineage(parent).as_json() == {"asset_id": parent, "parent_id": None, "children": [child]}
    assert ledger.disputes.lineage(child).parent_id == parent
    assert ledger.check.due_diligence(child).parent_id == parent
    report = ledger.check.due_diligence(parent).as_json()
    assert (report["parent_id"], report["children"]) == (None, [child])


def test_check_with_open_ownership_dispute_flags_it_first_and_others_last(ledger: Ledger, ip: IPKit):
    asset_id = registered(ledger, ip)
    ownership = ledger.disputes.open_dispute(asset_id, "ownership", "C-OWN").ids["disputeId"]
    suit = ledger.disputes.open_dispute(asset_id, "infringement-suit", "C-SUIT").ids["disputeId"]
    report = ledger.check.due_diligence(asset_id)
    codes = [flag.code for flag in report.red_flags]
    assert codes[0] == "ownership_disputed" and codes[-1] == "disputed"
    assert f"dispute {ownership}, case C-OWN" in report.red_flags[0].message
    assert "infringement suit" in report.red_flags[-1].message and f"dispute {suit}" in report.red_flags[-1].message
    data = report.as_json()
    assert data["open_disputes"] == 2 and data["flags"]["ownershipDisputed"] and data["flags"]["disputed"]
    assert [(d["dispute_id"], d["kind"], d["outcome"]) for d in data["disputes"]] == [
        (ownership, "ownership", "open"), (suit, "infringement-suit", "open")]
    events = [(e["event"], e["args"].get("kind")) for e in data["history"] if e["event"].startswith("Dispute")]
    assert events == [("DisputeOpened", "ownership"), ("DisputeOpened", "infringement-suit")]

    ledger.disputes.resolve_dispute(ownership, "dismissed")
    ledger.disputes.resolve_dispute(suit, "withdrawn")
    after = ledger.check.due_diligence(asset_id)
    assert not {"ownership_disputed", "disputed"} & {flag.code for flag in after.red_flags}
    assert [(d.dispute_id, d.outcome.label) for d in after.disputes] == [(ownership, "dismissed"),
                                                                         (suit, "withdrawn")]
    resolved = [e for e in after.as_json()["history"] if e["event"] == "DisputeResolved"]
    assert [e["args"]["outcome"] for e in resolved] == ["dismissed", "withdrawn"]
