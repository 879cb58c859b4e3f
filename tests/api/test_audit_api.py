"""Audit routes over the session chain, indexed into the API ledger's SQLite store (PostgreSQL is covered by
the indexer and audit tests): history filters and page tokens, CSV/JSON exports that parse back to the
same rows, totals, licenses and pledges by bank and status, verification, and problems for bad filters.

The chain is reverted after every test; each test syncs the indexer before asserting, so the store follows
the revert as a reorg (rolled back to the common ancestor) and then holds exactly the chain's events.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from api.main import create_app
from ledger.audit.indexer import Indexer, sources_from_deployment
from ledger.audit.queries import HistoryRow, iso_time, read_csv, read_json
from ledger.audit.store import EventRecord
from ledger.context import Ledger
from ledger.settings import Settings
from tests.contracts.ipkit import DESIGN, EXCLUSIVE, INVENTION_PATENT, NON_EXCLUSIVE, TRADEMARK, IPKit

PROBLEM = "application/problem+json"


def sync(ledger: Ledger) -> None:
    """What the indexer thread beside the API does, once."""
    Indexer(ledger.client, ledger.store, sources_from_deployment(ledger.deployment, ledger.artifacts)).sync()


@dataclass
class Acts:
    ip: IPKit
    assets: list[int]
    licenses: list[int]
    pledges: list[int]
    split_time: int
    """The block time of the first act after a day's jump: ``since`` it, only the later acts."""


@pytest.fixture
def ip(chain, contract, accounts) -> IPKit:  # type: ignore[no-untyped-def]
    return IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
                 pledges=contract("PledgeRegistry"), lens=contract("IPLens"), forwarder=contract("IpledgerForwarder"),
                 accounts=accounts)


@pytest.fixture
def acts(ip: IPKit, api_ledger: Ledger) -> Acts:
    """Three assets of two owners, three licenses (one terminated), two pledges to two banks (one released)."""
    assets = [ip.register(kind=INVENTION_PATENT), ip.register(kind=TRADEMARK), ip.register(ip.other, kind=DESIGN)]
    licenses = [ip.license(assets[0], kind=EXCLUSIVE), ip.license(assets[1], kind=NON_EXCLUSIVE)]
    ip.chain.increase_time(86_400)
    split_time = ip.now()  # the jump's empty block: every act before is a day older, every act after not
    third = ip.license(assets[1], kind=NON_EXCLUSIVE, licensee=ip.buyer.address)
    licenses.append(third)
    ip.send(ip.licenses.functions.terminate(licenses[1], b"\x05" * 32), ip.owner)
    pledges = [ip.pledge(assets[0], bank=ip.bank), ip.pledge(assets[2], owner=ip.other, bank=ip.bank2)]
    ip.send(ip.pledges.functions.release(pledges[1]), ip.bank2)
    sync(api_ledger)
    return Acts(ip, assets, licenses, pledges, split_time)


def rows_of(body: dict[str, Any]) -> list[HistoryRow]:
    return [HistoryRow.from_json(item) for item in body["data"]]


def all_pages(client: TestClient, limit: int, **params: Any) -> list[HistoryRow]:
    rows: list[HistoryRow] = []
    after = None
    while True:
        page_params = {**params, "limit": limit, **({"after": after} if after else {})}
        response = client.get("/audit/history", params=page_params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= limit
        rows += rows_of(body)
        after = body["next"]
        if after is None:
            return rows


# -- history -----------------------------------------------------------------------------------


def test_history_by_asset_lists_its_events_oldest_first_with_block_time_and_tx(client, acts, chain):
    asset = acts.assets[0]
    response = client.get("/audit/history", params={"asset": asset})
    assert response.status_code == 200, response.text
    body = response.json()
    rows = rows_of(body)
    on_chain = [(e.block_number, e.log_index) for c in (acts.ip.registry, acts.ip.licenses, acts.ip.pledges)
                for e in chain.logs(c, [], from_block=0) if e.args.get("assetId", e.args.get("tokenId")) == asset]
    assert [(r.block_number, r.log_index) for r in rows] == sorted(on_chain)
    assert body["count"] == len(rows) and body["next"] is None
    assert [r.event for r in rows if r.contract != "IPRegistry"] == [
        "LicenseOffered", "LicenseAccepted", "PledgeProposed", "PledgeAccepted"]
    for row in rows:
        assert row.asset_id == str(asset)
        assert row.block_time == chain.block_time(row.block_number)
        assert row.block_time_iso == iso_time(row.block_time)
        assert len(row.tx_hash) == 66 and row.tx_hash == row.tx_hash.lower()


def test_history_by_account_event_and_contract(client, acts):
    bank2 = acts.ip.bank2.address
    by_account = rows_of(client.get("/audit/history", params={"account": bank2.lower()}).json())
    assert {r.event for r in by_account} >= {"PledgeProposed", "PledgeAccepted", "PledgeReleased"}
    assert all(bank2 in json.dumps(r.args) for r in by_account)
    accepted = rows_of(client.get("/audit/history", params={"event": "LicenseAccepted"}).json())
    assert [r.args["licenseId"] for r in accepted] == acts.licenses
    qualified = client.get("/audit/history", params={"event": "PledgeRegistry.PledgeReleased"}).json()
    assert [r["args"]["pledgeId"] for r in qualified["data"]] == [acts.pledges[1]]
    assert client.get("/audit/history", params={"event": "IPRegistry.PledgeReleased"}).json()["data"] == []
    pledges = rows_of(client.get("/audit/history", params={"contract": "PledgeRegistry"}).json())
    # the deployment wires the PledgeRegistry to the LicenseRegistry once (issue 11): one LicenseRegistrySet
    assert Counter(r.event for r in pledges) == {"PledgeProposed": 2, "PledgeAccepted": 2, "PledgeReleased": 1,
                                                 "LicenseRegistrySet": 1}


def test_history_by_block_and_time_range(client, acts):
    everything = all_pages(client, 1000)
    middle = everything[len(everything) // 2].block_number
    ranged = rows_of(client.get("/audit/history", params={"from_block": middle, "to_block": middle + 1,
                                                          "limit": 1000}).json())
    assert ranged == [r for r in everything if middle <= r.block_number <= middle + 1] and ranged
    since = rows_of(client.get("/audit/history", params={"since": iso_time(acts.split_time), "limit": 1000}).json())
    assert since == [r for r in everything if r.block_time >= acts.split_time]
    assert since and since[0].event == "LicenseOffered" and since[0].args["licenseId"] == acts.licenses[2]
    until = rows_of(client.get("/audit/history", params={"until": str(acts.split_time - 1), "limit": 1000}).json())
    assert until == [r for r in everything if r.block_time < acts.split_time]
    day = iso_time(acts.split_time)[:10]
    dated = rows_of(client.get("/audit/history", params={"since": day, "limit": 1000}).json())
    assert [r.key for r in since] == [r.key for r in dated][-len(since):]


def test_pages_cover_every_row_once_in_order_and_count_all_of_them(client, acts):
    everything = all_pages(client, 1000)
    assert len(everything) == client.get("/audit/history", params={"limit": 1}).json()["count"]
    assert all_pages(client, 3) == everything
    keys = [(r.block_number, r.log_index) for r in everything]
    assert keys == sorted(set(keys))
    first = client.get("/audit/history", params={"limit": 2, "contract": "LicenseRegistry"}).json()
    second = client.get("/audit/history", params={"limit": 2, "contract": "LicenseRegistry",
                                                  "after": first["next"]}).json()
    assert first["count"] == second["count"] == sum(r.contract == "LicenseRegistry" for r in everything)
    assert rows_of(first) + rows_of(second) == [r for r in everything if r.contract == "LicenseRegistry"][:4]
    account_pages = all_pages(client, 2, account=acts.ip.owner.address)
    assert account_pages == rows_of(client.get("/audit/history", params={"account": acts.ip.owner.address,
                                                                         "limit": 1000}).json())
    assert client.get("/audit/history", params={"account": acts.ip.owner.address}).json()["count"] == len(
        account_pages)


# -- exports -----------------------------------------------------------------------------------


def test_csv_and_json_exports_stream_the_same_rows_as_the_pages(client, acts):
    everything = all_pages(client, 1000)
    csv_response = client.get("/audit/history.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    assert read_csv(io.StringIO(csv_response.text)) == everything
    json_response = client.get("/audit/history.json")
    assert json_response.headers["content-type"] == "application/json"
    assert read_json(io.StringIO(json_response.text)) == everything
    assert json_response.json()[0]["tx_hash"] == everything[0].tx_hash
    filtered = client.get("/audit/history.csv", params={"asset": acts.assets[1]})
    assert read_csv(io.StringIO(filtered.text)) == [r for r in everything if r.asset_id == str(acts.assets[1])]


def test_exports_with_nothing_matching_are_a_header_and_an_empty_array(client, acts):
    params = {"event": "NoSuchEvent"}
    assert read_csv(io.StringIO(client.get("/audit/history.csv", params=params).text)) == []
    assert client.get("/audit/history.json", params=params).json() == []


# -- totals, licenses, pledges -------------------------------------------------------------------


def test_totals_equal_a_direct_read_of_the_chain(client, acts, api_ledger):
    response = client.get("/audit/totals")
    assert response.status_code == 200, response.text
    totals = response.json()
    ip = acts.ip
    assert totals["chain_id"] == ip.chain.chain_id and totals["indexed_to"] == ip.chain.head().number
    registry = totals["registry"]
    kinds = Counter(ip.asset(a)["kind"] for a in range(1, ip.call(ip.registry.functions.assetCount()) + 1))
    assert registry["registrations_by_kind"] == {
        {INVENTION_PATENT: "invention-patent", TRADEMARK: "trademark", DESIGN: "design"}[k]: n
        for k, n in kinds.items()}
    assert registry["active_licenses"] == {"total": 2, "by_kind": {"exclusive": 1, "non-exclusive": 1}}
    assert registry["licenses_by_status"] == {"active": 2, "terminated": 1}
    pledge = ip.pledge_of(acts.pledges[0])
    assert registry["pledged_principal"] == {ip.bank.address: {"CNY": pledge["principal"]}}
    assert registry["pledges_by_bank"] == {ip.bank.address: {"active": 1}, ip.bank2.address: {"released": 1}}
    assert registry["sales_volume"] == {}
    assert registry["sales"]["assets"] == {"count": 0, "volume": {}, "fees": {}}
    assert totals == {**api_ledger.audit.totals().as_json()}


def test_licenses_by_bank_and_status(client, acts):
    ip = acts.ip
    everything = client.get("/audit/licenses").json()
    assert everything["count"] == 3
    assert [(e["license_id"], e["status"]) for e in everything["data"]] == [
        (acts.licenses[0], "active"), (acts.licenses[1], "terminated"), (acts.licenses[2], "active")]
    first = everything["data"][0]
    chain_view = ip.license_of(acts.licenses[0])
    assert (first["asset_id"], first["licensor"], first["licensee"], first["kind"], first["end"], first["fee"]) == (
        chain_view["assetId"], chain_view["licensor"], chain_view["licensee"], "exclusive", chain_view["end"],
        chain_view["fee"])
    assert first["pledgee"] == ip.bank.address and first["last_event"] == "LicenseAccepted"
    by_bank = client.get("/audit/licenses", params={"bank": ip.bank.address.lower()}).json()
    assert [e["license_id"] for e in by_bank["data"]] == [acts.licenses[0]]
    assert client.get("/audit/licenses", params={"bank": ip.bank2.address}).json() == {"data": [], "count": 0}
    active = client.get("/audit/licenses", params={"status": "active", "limit": 1, "offset": 1}).json()
    assert active["count"] == 2 and [e["license_id"] for e in active["data"]] == [acts.licenses[2]]
    of_asset = client.get("/audit/licenses", params={"asset": acts.assets[1], "status": "terminated"}).json()
    assert [e["license_id"] for e in of_asset["data"]] == [acts.licenses[1]]


def test_pledges_by_bank_and_status(client, acts):
    ip = acts.ip
    everything = client.get("/audit/pledges").json()
    assert [(e["pledge_id"], e["status"]) for e in everything["data"]] == [
        (acts.pledges[0], "active"), (acts.pledges[1], "released")]
    for entry in everything["data"]:
        on_chain = ip.pledge_of(entry["pledge_id"])
        assert (entry["asset_id"], entry["pledgor"], entry["pledgee"], entry["principal"], entry["maturity"]) == (
            on_chain["assetId"], on_chain["pledgor"], on_chain["pledgee"], on_chain["principal"],
            on_chain["maturity"])
        assert entry["currency"] == "CNY"
    released = client.get("/audit/pledges", params={"bank": ip.bank2.address, "status": "released"}).json()
    assert [e["pledge_id"] for e in released["data"]] == [acts.pledges[1]] and released["count"] == 1
    assert released["data"][0]["last_event"] == "PledgeReleased"
    assert client.get("/audit/pledges", params={"bank": ip.bank.address, "status": "released"}).json()["count"] == 0


# -- verification ------------------------------------------------------------------------------


def test_verify_matches_the_chain_over_the_last_blocks_and_from_a_block(client, acts, chain):
    report = client.get("/audit/verify").json()
    assert report["ok"] is True, report
    assert report["to_block"] == chain.head().number and report["differences"] == []
    assert report["events_on_chain"] == report["events_in_db"] > 0
    narrow = client.get("/audit/verify", params={"from_block": report["to_block"] - 2, "blocks": 2}).json()
    assert (narrow["from_block"], narrow["to_block"]) == (report["to_block"] - 2, report["to_block"] - 1)
    last = client.get("/audit/verify", params={"blocks": 1}).json()
    assert last["from_block"] == last["to_block"] == report["to_block"] and last["ok"]
    beyond = client.get("/audit/verify", params={"from_block": report["to_block"] + 10}).json()
    assert beyond["ok"] and beyond["ranges"] == 0


@pytest.fixture
def own_ledger(chain, deployment, artifacts, tmp_path) -> Ledger:  # type: ignore[no-untyped-def]
    """A ledger with its own index database (this test changes the database behind the indexer's back)."""
    return Ledger(Settings(data_dir=tmp_path, api_rate_per_second=1000), chain, deployment, artifacts, embedded=False)


def test_verify_reports_an_event_deleted_from_the_database(own_ledger, ip):
    ip.register(kind=TRADEMARK)
    with TestClient(create_app(ledger=own_ledger), base_url="http://testserver/api/v1") as own:
        assert own.get("/audit/verify").status_code == 404  # nothing indexed yet: a problem, not a crash
        sync(own_ledger)
        [gone] = own_ledger.audit.history(event="AssetRegistered").rows
        with own_ledger.store.session() as session:
            session.execute(delete(EventRecord).where(EventRecord.block_hash == gone.block_hash,
                                                      EventRecord.log_index == gone.log_index))
        report = own.get("/audit/verify").json()
    assert report["ok"] is False and report["events_on_chain"] == report["events_in_db"] + 1
    [difference] = report["differences"]
    assert difference["missing"] == [f"{gone.key} {gone.tx_hash}"]
    own_ledger.store.dispose()


def test_verify_after_the_chain_got_shorter_reports_the_rows_past_its_head_as_extra(own_ledger, ip, chain):
    """The indexer has not caught up with a reorg to a shorter chain: verify says so, it does not fail."""
    before = chain.snapshot()
    ip.register(kind=TRADEMARK)
    sync(own_ledger)
    [registered] = own_ledger.audit.history(event="AssetRegistered").rows
    chain.revert(before)
    with TestClient(create_app(ledger=own_ledger), base_url="http://testserver/api/v1") as own:
        response = own.get("/audit/verify")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is False and registered.block_number in report["block_mismatches"]
    extra = [key for d in report["differences"] for key in d["extra"]]
    assert f"{registered.key} {registered.tx_hash}" in extra
    own_ledger.store.dispose()


def test_verify_index_behind_head_is_not_ok_and_counts_what_it_lacks(own_ledger, ip, chain):
    sync(own_ledger)
    ip.register(kind=TRADEMARK)
    with TestClient(create_app(ledger=own_ledger), base_url="http://testserver/api/v1") as own:
        report = own.get("/audit/verify").json()
    assert report["ok"] is False and report["differences"] == [] and report["unindexed_events"] > 0
    assert report["head"] == chain.head().number and report["behind_blocks"] == report["head"] - report["indexed_to"]
    own_ledger.store.dispose()


# -- problems ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "where"),
    [
        ("/audit/history", {"account": "0x123"}, "account"),
        ("/audit/history", {"asset": "seven"}, "asset"),
        ("/audit/history", {"asset": 0}, "asset"),
        ("/audit/history", {"event": "Pledge Accepted"}, "event"),
        ("/audit/history", {"contract": "IP-Registry"}, "contract"),
        ("/audit/history", {"limit": 1001}, "limit"),
        ("/audit/history", {"after": "yesterday"}, "after"),
        ("/audit/history", {"since": "last tuesday"}, "since"),
        ("/audit/history", {"from_block": -1}, "from_block"),
        ("/audit/history.csv", {"until": "2026-13-45"}, "until"),
        ("/audit/history.json", {"account": "bank"}, "account"),
        ("/audit/licenses", {"status": "lapsed"}, "status"),
        ("/audit/pledges", {"bank": "0xnotabank"}, "bank"),
        ("/audit/pledges", {"offset": -1}, "offset"),
        ("/audit/verify", {"blocks": 10_001}, "blocks"),
    ],
)
def test_bad_filters_are_422_problems_naming_the_parameter(client, path, params, where):
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422 and where in body["detail"]
    assert any(e["loc"][-1] == where for e in body["errors"])
