"""Audit over the index, on SQLite and PostgreSQL: history filters, pagination, totals equal to a direct
read of the chain, exports that parse back to the same rows, and verification against the chain."""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select, update

from ledger.audit.indexer import Indexer, Source, sources_from_deployment
from ledger.audit.queries import (
    AuditService,
    HistoryQuery,
    HistoryRow,
    parse_time,
    read_csv,
    read_json,
    write_csv,
    write_json,
)
from ledger.audit.store import BlockRecord, Cursor, EventRecord, Store
from ledger.errors import NotFoundError, ValidationError

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass
class Indexed:
    store: Store
    audit: AuditService
    sources: list[Source]
    chain_rows: list[dict]  # type: ignore[type-arg]
    """Every event as web3.py decodes it straight from the chain."""


def _addresses(value, out: set[str]) -> None:  # type: ignore[no-untyped-def]
    if isinstance(value, str) and _ADDRESS.match(value) and int(value, 16):
        out.add(value.lower())
    elif isinstance(value, dict):
        for v in value.values():
            _addresses(v, out)
    elif isinstance(value, list):
        for v in value:
            _addresses(v, out)


@pytest.fixture
def indexed(chain, contract, deployment, artifacts, accounts, db_url):  # type: ignore[no-untyped-def]
    registry = contract("TimestampRegistry")
    for sender in (accounts[0], accounts[0], accounts[1]):
        chain.transact(registry.functions.stamp(os.urandom(32)), sender=sender)
    chain.transact(registry.functions.stampBatch(os.urandom(32), 12), sender=accounts[1])
    artifact = artifacts["IndexerTestEmitter"]
    receipt = chain.deploy(artifact)
    emitter = chain.contract(artifact.abi, receipt.contract_address)
    chain.transact(emitter.functions.emitMany(1, 3, 9, accounts[2].address))
    chain.increase_time(3600)
    chain.transact(emitter.functions.emitShaped(
        "tricky", b"\x01" * 32, 'a "quoted", multi\nline note, with commas', [accounts[3].address] * 2,
        (accounts[4].address, 10**30), 2, False))
    chain.transact(emitter.functions.emitMany(1, 3, 3, accounts[3].address))
    sources = [*sources_from_deployment(deployment, artifacts),
               Source("IndexerTestEmitter", receipt.contract_address, artifact.abi, receipt.block_number)]
    store = Store(db_url)
    Indexer(chain, store, sources).sync()
    rows = []
    for source in sources:
        web3_contract = chain.contract(list(source.abi), source.address)
        for e in chain.logs(web3_contract, [], from_block=0):
            rows.append({"contract": source.name, "event": e.name, "block_number": e.block_number,
                         "log_index": e.log_index, "tx_hash": e.tx_hash,
                         "args": json.loads(json.dumps(e.args, default=dict))})
    rows.sort(key=lambda r: (r["block_number"], r["log_index"]))
    yield Indexed(store, AuditService(store), sources, rows)
    store.dispose()


def keys(rows: list[HistoryRow]) -> list[tuple[int, int]]:
    return [(r.block_number, r.log_index) for r in rows]


def expected(indexed: Indexed, predicate) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    return [(r["block_number"], r["log_index"]) for r in indexed.chain_rows if predicate(r)]


# -- history ---------------------------------------------------------------------------------


def test_history_by_asset_returns_its_events_oldest_first_with_block_time_and_tx(indexed, chain):
    page = indexed.audit.history(asset_id=2)
    want = expected(indexed, lambda r: r["args"].get("assetId", r["args"].get("tokenId")) == 2)
    assert keys(page.rows) == want and len(want) == 3 + 1 + 1  # Emitted x3, Shaped (tokenId), Emitted x1
    assert page.next is None
    for row in page.rows:
        assert row.asset_id == "2" and row.tx_hash.startswith("0x") and len(row.tx_hash) == 66
        assert row.block_time == chain.block_time(row.block_number)
    assert indexed.audit.history(asset_id="0x2").rows == page.rows


def test_history_by_account_lists_each_event_once_whatever_its_roles(indexed, accounts):
    address = accounts[3].address
    page = indexed.audit.history(account=address.upper().replace("0X", "0x"))
    want = expected(indexed, lambda r: address in json.dumps(r["args"]))
    assert keys(page.rows) == want and len(want) == 1 + 3  # Shaped names it twice (parties), Emitted x3
    stamper = accounts[1].address
    assert len(indexed.audit.history(account=stamper).rows) == 2


def test_history_by_event_kind_and_contract(indexed):
    stamped = indexed.audit.history(event="Stamped").rows
    assert keys(stamped) == expected(indexed, lambda r: r["event"] == "Stamped") and len(stamped) == 3
    batch = indexed.audit.history(event="TimestampRegistry.BatchStamped").rows
    assert len(batch) == 1 and batch[0].args["count"] == 12
    assert indexed.audit.history(event="IndexerTestEmitter.BatchStamped").rows == []
    emitted = indexed.audit.history(contract="IndexerTestEmitter").rows
    assert len(emitted) == 9 + 1 + 3


def test_latest_returns_the_newest_events_of_a_kind_newest_first(indexed):
    newest = indexed.audit.latest("Stamped", limit=2)
    want = expected(indexed, lambda r: r["event"] == "Stamped")[::-1][:2]
    assert keys(newest) == want and len(want) == 2
    assert keys(indexed.audit.latest("TimestampRegistry.Stamped")) == want + expected(
        indexed, lambda r: r["event"] == "Stamped")[:1]
    assert indexed.audit.latest("NeverEmitted") == []
    with pytest.raises(ValidationError, match="a page holds"):
        indexed.audit.latest("Stamped", limit=0)


def test_history_by_block_and_time_range(indexed):
    everything = list(indexed.audit.iter_history())
    middle = everything[len(everything) // 2].block_number
    in_blocks = indexed.audit.history(from_block=middle, to_block=middle + 1).rows
    assert keys(in_blocks) == [k for k in keys(everything) if middle <= k[0] <= middle + 1]
    late = max(r.block_time for r in everything)
    since = indexed.audit.history(since=late).rows
    assert since and all(r.block_time >= late for r in since)
    assert keys(since) == [k for k, r in zip(keys(everything), everything, strict=True) if r.block_time >= late]
    until = indexed.audit.history(until=late - 1).rows
    assert len(since) + len(until) == len(everything)
    iso = indexed.audit.history(HistoryQuery(since=parse_time(since[0].block_time_iso))).rows
    assert iso == since


def _all_pages(audit: AuditService, limit: int, **filters) -> list[HistoryRow]:  # type: ignore[no-untyped-def]
    collected: list[HistoryRow] = []
    after = None
    while True:
        page = audit.history(limit=limit, after=after, **filters)
        assert len(page.rows) <= limit
        collected.extend(page.rows)
        if page.next is None:
            return collected
        after = page.next


def test_pages_cover_every_row_once_in_order(indexed, accounts):
    everything = indexed.audit.history(limit=1_000).rows
    assert len(everything) == len(indexed.chain_rows)
    assert _all_pages(indexed.audit, 4) == everything
    assert list(indexed.audit.iter_history(page_size=3)) == everything
    by_account = indexed.audit.history(account=accounts[2].address, limit=1_000).rows
    assert len(by_account) == 9
    assert _all_pages(indexed.audit, 2, account=accounts[2].address) == by_account
    assert _all_pages(indexed.audit, 2, asset_id=1) == indexed.audit.history(asset_id=1).rows


# -- totals ------------------------------------------------------------------------------------


def test_totals_equal_a_direct_read_of_the_chain(indexed):
    totals = indexed.audit.totals()
    on_chain = Counter((r["contract"], r["event"]) for r in indexed.chain_rows)
    assert {(r["contract"], r["event"]): r["count"] for r in totals.by_event} == dict(on_chain)
    assert totals.events == len(indexed.chain_rows)
    accounts: set[str] = set()
    for r in indexed.chain_rows:
        _addresses(r["args"], accounts)
    assert totals.accounts == len(accounts)
    assets = {r["args"].get("assetId", r["args"].get("tokenId")) for r in indexed.chain_rows} - {None}
    assert totals.assets == len(assets)
    assert totals.first_block == indexed.chain_rows[0]["block_number"]
    assert totals.last_block == indexed.chain_rows[-1]["block_number"]
    assert set(totals.registry) >= {"registrations_by_kind", "active_licenses", "licenses_by_status",
                                    "pledged_principal",
                                    "pledges_by_bank", "sales_volume"}
    json.dumps(totals.as_json())


def test_registry_totals_from_registry_events(db_url):
    store = Store(db_url)
    bank, other_bank, owner = "0x" + "b" * 40, "0x" + "c" * 40, "0x" + "a" * 40
    rows: list[tuple[str, dict]] = [  # type: ignore[type-arg]
        ("AssetRegistered", {"assetId": 1, "owner": owner, "kind": 0}),
        ("AssetRegistered", {"assetId": 2, "owner": owner, "kind": 0}),
        ("AssetRegistered", {"assetId": 3, "owner": owner, "kind": 3}),
        ("LicenseOffered", {"licenseId": 1, "assetId": 1, "terms": {"kind": 0, "end": 10**12}}),
        ("LicenseOffered", {"licenseId": 2, "assetId": 2, "terms": {"kind": 2, "end": 10**12}}),
        ("LicenseOffered", {"licenseId": 3, "assetId": 2, "terms": {"kind": 2, "end": 5}}),  # expired
        ("LicenseOffered", {"licenseId": 4, "assetId": 3, "terms": {"kind": 2, "end": 10**12}}),  # never accepted
        ("LicenseAccepted", {"licenseId": 1, "assetId": 1}),
        ("LicenseAccepted", {"licenseId": 2, "assetId": 2}),
        ("LicenseAccepted", {"licenseId": 3, "assetId": 2}),
        ("LicenseTerminated", {"licenseId": 2, "assetId": 2}),
        ("PledgeProposed", {"pledgeId": 1, "assetId": 1, "pledgee": bank, "principal": 10**8, "currency": "0x434e59"}),
        ("PledgeProposed", {"pledgeId": 2, "assetId": 2, "pledgee": bank, "principal": 5 * 10**7,
                            "currency": "0x434e59"}),
        ("PledgeProposed", {"pledgeId": 3, "assetId": 3, "pledgee": other_bank, "principal": 7,
                            "currency": "0x555344"}),
        ("PledgeAccepted", {"pledgeId": 1, "assetId": 1, "pledgee": bank}),
        ("PledgeAccepted", {"pledgeId": 2, "assetId": 2, "pledgee": bank}),
        ("PledgeAccepted", {"pledgeId": 3, "assetId": 3, "pledgee": other_bank}),
        ("PledgeReleased", {"pledgeId": 2, "assetId": 2, "pledgee": bank}),
    ]
    with store.session() as session:
        session.add(Cursor(chain_id=1, block_number=len(rows), block_hash="0x" + "f" * 64))
        session.add(BlockRecord(chain_id=1, number=len(rows), hash="0x" + "f" * 64, parent_hash="0x" + "e" * 64,
                                time=1_000))
        for i, (event, args) in enumerate(rows, start=1):
            session.add(EventRecord(
                chain_id=1, block_number=i, block_hash=f"0x{i:064x}", block_time=1_000, tx_hash=f"0x{i:064x}",
                tx_index=0, log_index=0, contract="Registry", address="0x" + "1" * 40, event=event, args=args,
                asset_id=str(args["assetId"]),
            ))
    registry = AuditService(store).totals().registry
    store.dispose()
    assert registry["registrations_by_kind"] == {"invention-patent": 2, "software-copyright": 1}
    assert registry["active_licenses"] == {"total": 1, "by_kind": {"exclusive": 1}}
    assert registry["licenses_by_status"] == {"active": 1, "expired": 1, "offered": 1, "terminated": 1}
    assert registry["pledged_principal"] == {bank: {"CNY": 10**8}, other_bank: {"USD": 7}}
    assert registry["pledges_by_bank"] == {bank: {"active": 1, "released": 1}, other_bank: {"active": 1}}
    assert registry["sales_volume"] == {}


# -- exports -----------------------------------------------------------------------------------


def test_csv_and_json_exports_parse_back_to_the_same_rows(indexed, tmp_path):
    rows = list(indexed.audit.iter_history())
    assert any("\n" in str(r.args.get("note", "")) for r in rows) and any(r.asset_id is None for r in rows)
    csv_file = tmp_path / "history.csv"
    with open(csv_file, "w", newline="", encoding="utf-8") as fh:
        assert write_csv(rows, fh) == len(rows)
    with open(csv_file, newline="", encoding="utf-8") as fh:
        assert read_csv(fh) == rows
    text = io.StringIO()
    assert write_json(rows, text) == len(rows)
    assert read_json(io.StringIO(text.getvalue())) == rows
    header = csv_file.read_text().splitlines()[0].split(",")
    assert {"block_number", "block_time", "block_time_iso", "tx_hash"} <= set(header)
    for item in json.loads(text.getvalue()):
        assert {"block_number", "block_time", "tx_hash"} <= set(item)
    empty = io.StringIO()
    write_json([], empty)
    assert read_json(io.StringIO(empty.getvalue())) == []


def test_reading_a_foreign_file_as_export_raises_validation():
    with pytest.raises(ValidationError, match="lacks the columns"):
        read_csv(io.StringIO("a,b\n1,2\n"))
    with pytest.raises(ValidationError, match="not a JSON history export"):
        read_json(io.StringIO("{nope"))
    with pytest.raises(ValidationError, match="not an exported history row"):
        read_json(io.StringIO('[{"block_number": 1}]'))


# -- verification ------------------------------------------------------------------------------


def test_verify_clean_index_matches_chain(indexed, chain):
    report = indexed.audit.verify(chain, indexed.sources, range_size=3)
    assert report.ok, report.as_json()
    assert sum(r.chain_events for r in report.ranges) == len(indexed.chain_rows)
    assert len(report.ranges) > 1 and report.blocks_checked > 0


def test_verify_reports_missing_extra_changed_events_and_foreign_blocks(indexed, chain):
    everything = list(indexed.audit.iter_history())
    gone, altered = everything[1], everything[3]
    with indexed.store.session() as session:
        session.execute(delete(EventRecord).where(EventRecord.block_hash == gone.block_hash,
                                                  EventRecord.log_index == gone.log_index))
        session.execute(update(EventRecord).where(EventRecord.block_hash == altered.block_hash,
                                                  EventRecord.log_index == altered.log_index)
                        .values(args={**altered.args, "forged": True}))
        forged_block = session.scalars(select(BlockRecord).order_by(BlockRecord.number.desc())).first()
        session.add(EventRecord(
            chain_id=chain.chain_id, block_number=forged_block.number, block_hash=forged_block.hash,
            block_time=forged_block.time, tx_hash="0x" + "ab" * 32, tx_index=9, log_index=999,
            contract="TimestampRegistry", address=indexed.sources[0].address, event="Stamped", args={}, asset_id=None,
        ))
        forged_block.hash = "0x" + "00" * 32
    report = indexed.audit.verify(chain, indexed.sources, range_size=1_000)
    assert not report.ok
    [difference] = report.differences
    assert difference.missing == [f"{gone.key} {gone.tx_hash}"]
    assert difference.changed == [f"{altered.key} {altered.tx_hash}"]
    assert [e.split()[0] for e in difference.extra] == [f"{forged_block.number}:999"]
    assert report.block_mismatches == [forged_block.number]
    assert difference.chain_events == len(everything) and difference.db_events == len(everything)


# -- edges -------------------------------------------------------------------------------------


@pytest.fixture
def bare_audit(db_url):  # type: ignore[no-untyped-def]
    """An audit over an index that has a cursor and nothing else (no chain needed)."""
    store = Store(db_url)
    with store.session() as session:
        session.add(Cursor(chain_id=1, block_number=0, block_hash="0x" + "0" * 64))
    yield AuditService(store)
    store.dispose()


def test_audit_of_empty_index_raises_not_found(db_url):
    store = Store(db_url)
    with pytest.raises(NotFoundError, match="run `ipledger index`"):
        AuditService(store)
    store.dispose()


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"account": "0x123"}, "not an account address"),
        ({"asset_id": "seven"}, "not an asset id"),
        ({"asset_id": -1}, "not an asset id"),
    ],
)
def test_bad_filters_raise_validation(bare_audit, filters, message):
    with pytest.raises(ValidationError, match=message):
        bare_audit.history(**filters)


def test_bad_page_token_and_limit_raise_validation(bare_audit):
    with pytest.raises(ValidationError, match="not a page token"):
        bare_audit.history(after="yesterday")
    with pytest.raises(ValidationError, match="a page holds"):
        bare_audit.history(limit=0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1700000000", 1_700_000_000), ("2023-11-14", 1_699_920_000), ("2023-11-14T22:13:20Z", 1_700_000_000),
     ("2023-11-15T06:13:20+08:00", 1_700_000_000), ("2023-11-14T22:13:20", 1_700_000_000)],
)
def test_parse_time_accepts_unix_iso_dates_and_zones(text, seconds):
    assert parse_time(text) == seconds


def test_parse_time_rejects_nonsense():
    with pytest.raises(ValidationError, match="not a time"):
        parse_time("last tuesday")
