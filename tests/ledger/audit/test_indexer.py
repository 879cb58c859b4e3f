"""The indexer against a real Anvil, on SQLite and PostgreSQL: complete, idempotent, resumable, reorg-safe.

"The database equals the chain" is checked against an independent read: web3.py's own
event decoding of ``eth_getLogs`` for every contract of the deployment.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi import decode, encode
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.audit.indexer import (
    UNKNOWN_EVENT,
    ChunkSizer,
    Indexer,
    Source,
    _plain,
    _word_decoder,
    run_indexer_in_thread,
    sources_from_deployment,
)
from ledger.audit.store import BlockRecord, Cursor, EventAccount, EventRecord, Store
from ledger.chain.client import ChainClient, dev_accounts
from ledger.errors import ChainError
from tests.depth import depth

ROOT = Path(__file__).resolve().parents[3]


# -- helpers -----------------------------------------------------------------------------


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    yield opened
    opened.dispose()


@pytest.fixture
def registry(contract):  # type: ignore[no-untyped-def]
    return contract("TimestampRegistry")


@pytest.fixture
def sources(deployment, artifacts) -> list[Source]:  # type: ignore[no-untyped-def]
    return sources_from_deployment(deployment, artifacts)


def stamp(chain: ChainClient, registry, count: int, sender=None) -> list[int]:  # type: ignore[no-untyped-def]
    """``count`` single stamps (one block each); returns their block numbers."""
    return [chain.transact(registry.functions.stamp(os.urandom(32)), sender=sender).block_number
            for _ in range(count)]


def chain_events(chain: ChainClient, sources: list[Source], from_block: int = 0) -> list[tuple]:  # type: ignore[type-arg]
    """Every event of the sources as web3.py decodes them: (block, hash, log index, tx, address, name, args)."""
    rows = []
    for source in sources:
        contract = chain.contract(list(source.abi), source.address)
        for e in chain.logs(contract, [], from_block=from_block):
            rows.append((e.block_number, e.block_hash, e.log_index, e.tx_hash, e.address, e.name,
                         json.loads(json.dumps(e.args, default=dict))))
    return sorted(rows, key=lambda r: (r[0], r[2]))


def db_events(store: Store) -> list[tuple]:  # type: ignore[type-arg]
    with store.session() as session:
        records = session.scalars(select(EventRecord).order_by(EventRecord.block_number, EventRecord.log_index)).all()
        return [(r.block_number, r.block_hash, r.log_index, r.tx_hash, r.address, r.event, dict(r.args))
                for r in records]


def assert_db_equals_chain(store: Store, chain: ChainClient, sources: list[Source], indexer: Indexer) -> None:
    expected = chain_events(chain, sources)
    stored = db_events(store)
    assert len({(r[1], r[2]) for r in stored}) == len(stored), "duplicate events in the database"
    assert stored == expected
    cursor = indexer.cursor()
    head = chain.head()
    assert cursor == (head.number - indexer.confirmations, chain.block_headers([cursor[0]])[cursor[0]].hash)
    with store.session() as session:  # every stored block is the chain's
        blocks = session.execute(select(BlockRecord.number, BlockRecord.hash)).all()
    on_chain = chain.block_headers([n for n, _ in blocks])
    assert all(on_chain[n].hash == h for n, h in blocks)


# -- indexing ----------------------------------------------------------------------------


def test_index_stamps_stores_every_event_with_time_accounts_and_cursor(chain, registry, sources, store, accounts):
    blocks = stamp(chain, registry, 3) + stamp(chain, registry, 2, sender=accounts[1])
    chain.transact(registry.functions.stampBatch(os.urandom(32), 7))
    indexer = Indexer(chain, store, sources)
    report = indexer.sync()
    assert report.events >= 6
    assert_db_equals_chain(store, chain, sources, indexer)
    with store.session() as session:
        first = session.scalars(select(EventRecord).where(EventRecord.block_number == blocks[0])).one()
        assert first.block_time == chain.block_time(blocks[0])
        assert first.contract == "TimestampRegistry" and first.event == "Stamped"
        roles = session.execute(
            select(EventAccount.account, EventAccount.role).where(
                EventAccount.block_hash == first.block_hash, EventAccount.log_index == first.log_index)
        ).all()
        assert roles == [(accounts[0].address.lower(), "stamper")]
        second = session.scalar(select(func.count()).select_from(EventAccount).where(
            EventAccount.account == accounts[1].address.lower()))
        assert second == 2


def test_sync_twice_and_after_new_blocks_adds_each_event_once(chain, registry, sources, store):
    stamp(chain, registry, 2)
    indexer = Indexer(chain, store, sources)
    first = indexer.sync()
    again = indexer.sync()
    assert again.events == 0 and again.chunks == 0
    stamp(chain, registry, 3)
    chain.rpc("evm_mine")
    later = Indexer(chain, store, sources).sync()  # a new process: resumes from the stored cursor
    assert later.events == 3 and later.start_block == first.end_block + 1
    assert_db_equals_chain(store, chain, sources, indexer)


def test_confirmations_hold_back_the_last_blocks_until_buried(chain, registry, sources, store):
    blocks = stamp(chain, registry, 4)
    indexer = Indexer(chain, store, sources, confirmations=2)
    indexer.sync()
    assert indexer.cursor()[0] == blocks[-1] - 2
    assert max(r[0] for r in db_events(store)) == blocks[-3]
    for _ in range(2):
        chain.rpc("evm_mine")
    indexer.sync()
    assert_db_equals_chain(store, chain, sources, indexer)


# -- reorgs ------------------------------------------------------------------------------


def test_reorg_by_snapshot_revert_and_longer_fork_db_equals_new_chain(chain, registry, sources, store, accounts):
    stamp(chain, registry, 2)
    fork_point = chain.snapshot()
    abandoned = stamp(chain, registry, 3)
    indexer = Indexer(chain, store, sources)
    indexer.sync()
    assert len(db_events(store)) >= 5
    chain.revert(fork_point)
    stamp(chain, registry, 4, sender=accounts[2])  # a longer fork, other transactions
    report = indexer.sync()
    assert report.reorgs and report.reorgs[0][1] < abandoned[0]
    assert_db_equals_chain(store, chain, sources, indexer)


def test_reorg_to_shorter_chain_rolls_back_to_common_ancestor(chain, registry, sources, store, accounts):
    kept = stamp(chain, registry, 2)
    fork_point = chain.snapshot()
    stamp(chain, registry, 4)
    indexer = Indexer(chain, store, sources)
    indexer.sync()
    chain.revert(fork_point)
    stamp(chain, registry, 1, sender=accounts[3])  # the new head is below the old cursor
    report = indexer.sync()
    assert report.reorgs == [(kept[-1] + 4, kept[-1])]
    assert_db_equals_chain(store, chain, sources, indexer)


@pytest.mark.anvil_only  # a reorg of chosen transactions (anvil_reorg), which only Anvil serves
def test_reorg_by_anvil_reorg_same_height_db_equals_new_chain(chain, registry, sources, store, accounts):
    stamp(chain, registry, 5)
    indexer = Indexer(chain, store, sources)
    indexer.sync()
    height = chain.head().number
    other = accounts[4]
    nonce = chain.w3.eth.get_transaction_count(other.address)
    replacements = []
    for i in range(2):
        tx = registry.functions.stamp(os.urandom(32)).build_transaction({
            "from": other.address, "nonce": nonce + i, "gas": 100_000, "chainId": chain.chain_id,
            "maxFeePerGas": 50 * 10**9, "maxPriorityFeePerGas": 10**9,
        })
        replacements.append([other.sign_transaction(tx).raw_transaction.to_0x_hex(), i])
    chain.rpc("anvil_reorg", [3, replacements])  # positional: depth, [[signed tx, block offset], ...]
    chain.nonces.reset()
    assert chain.head().number == height
    report = indexer.sync()
    assert report.reorgs and report.reorgs[0][1] == height - 3
    assert_db_equals_chain(store, chain, sources, indexer)
    stamped_by_other = [r for r in db_events(store) if r[6].get("stamper") == other.address]
    assert len(stamped_by_other) == 2


# -- crashes -----------------------------------------------------------------------------


def test_exception_inside_a_chunk_then_restart_has_no_gap_no_duplicate(chain, registry, sources, store, monkeypatch):
    stamp(chain, registry, 8)
    original = Indexer._write
    calls = {"n": 0}

    def failing_write(self, session, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        written = original(self, session, *args, **kwargs)  # rows inserted, transaction not yet committed
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return written

    monkeypatch.setattr(Indexer, "_write", failing_write)
    indexer = Indexer(chain, store, sources, chunks=ChunkSizer(2, maximum=2))
    with pytest.raises(RuntimeError, match="power cut"):
        indexer.sync()
    cursor = indexer.cursor()
    assert cursor is not None and cursor[0] < chain.head().number
    assert all(r[0] <= cursor[0] for r in db_events(store))  # nothing of the failed chunk was kept
    monkeypatch.setattr(Indexer, "_write", original)
    Indexer(chain, store, sources, chunks=ChunkSizer(2, maximum=2)).sync()
    assert_db_equals_chain(store, chain, sources, indexer)


_WORKER = """
import sys, json, time
from ledger.chain import ChainClient
from ledger.audit.indexer import ChunkSizer, Indexer, Source
from ledger.audit.store import Store

class Slow(ChainClient):
    def get_logs_raw(self, *args):
        time.sleep(0.03)
        return super().get_logs_raw(*args)

rpc_url, db_url, sources_file = sys.argv[1:4]
sources = [Source(**s) for s in json.load(open(sources_file))]
Indexer(Slow(rpc_url), Store(db_url), sources, chunks=ChunkSizer(1, maximum=1)).sync()
"""


def test_sigkill_mid_sync_then_restart_has_no_gap_no_duplicate(chain, anvil, registry, sources, store, tmp_path):
    blocks = stamp(chain, registry, 60)
    sources_file = tmp_path / "sources.json"
    sources_file.write_text(json.dumps([
        {"name": s.name, "address": s.address, "abi": list(s.abi), "start_block": s.start_block} for s in sources
    ]))
    worker = subprocess.Popen([sys.executable, "-c", _WORKER, anvil.url, store.url, str(sources_file)], cwd=ROOT)
    indexer = Indexer(chain, store, sources)
    deadline = time.monotonic() + 60
    try:
        while True:
            assert worker.poll() is None, "the indexer finished before it could be killed"
            assert time.monotonic() < deadline, "the indexer made no progress"
            cursor = _stored_cursor(store)
            if cursor is not None and cursor >= blocks[20]:
                break
            time.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed_at = indexer.cursor()
    assert killed_at is not None and killed_at[0] < blocks[-1]
    report = indexer.sync()
    assert report.start_block == killed_at[0] + 1
    assert_db_equals_chain(store, chain, sources, indexer)


def _stored_cursor(store: Store) -> int | None:
    """The cursor another process writes (None while it is still creating the schema)."""
    try:
        with store.session() as session:
            return session.scalar(select(Cursor.block_number))
    except Exception:  # noqa: BLE001
        return None


# -- chunks ------------------------------------------------------------------------------


class RefusingClient:
    """A real client whose eth_getLogs refuses more than ``limit`` blocks, as public providers do."""

    def __init__(self, client: ChainClient, limit: int) -> None:
        self._client = client
        self.limit = limit
        self.ranges: list[tuple[int, int, bool]] = []

    def get_logs_raw(self, addresses, first, last):  # type: ignore[no-untyped-def]
        refused = last - first + 1 > self.limit
        self.ranges.append((first, last, refused))
        if refused:
            raise ChainError(f"query exceeds max block range {self.limit}")
        return self._client.get_logs_raw(addresses, first, last)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._client, name)


def test_chunks_shrink_when_node_refuses_a_range_and_grow_after_successes(chain, registry, sources, tmp_path):
    stamp(chain, registry, 12)
    for _ in range(30):
        chain.rpc("evm_mine")
    refusing = RefusingClient(chain, limit=5)
    store = Store(f"sqlite:///{tmp_path / 'chunks.sqlite3'}")
    sizer = ChunkSizer(64, maximum=64, grow_after=1)
    indexer = Indexer(refusing, store, sources, chunks=sizer)  # type: ignore[arg-type]
    indexer.sync()
    assert_db_equals_chain(store, chain, sources, indexer)
    refused = [r for r in refusing.ranges if r[2]]
    served = [r for r in refusing.ranges if not r[2]]
    assert refused[0][1] - refused[0][0] + 1 > 5  # first asked for the whole range
    assert all(last - first + 1 <= 5 for first, last, _ in served)
    after_first_success = refusing.ranges[refusing.ranges.index(served[0]):]
    assert any(r[2] for r in after_first_success)  # grew again after successes (and was refused again)
    assert sizer.refusals >= 2
    store.dispose()


def test_tiny_max_range_on_real_anvil_indexes_everything(chain, registry, sources, store):
    stamp(chain, registry, 6)
    indexer = Indexer(chain, store, sources, chunks=ChunkSizer(1, maximum=2))
    report = indexer.sync()
    assert report.chunks >= (chain.head().number - report.start_block) // 2
    assert_db_equals_chain(store, chain, sources, indexer)


def test_chunk_sizer_halves_grows_caps_logs_and_gives_up_at_minimum():
    sizer = ChunkSizer(1000, minimum=10, maximum=4000, grow_after=2, max_logs=100)
    sizer.refused(1000, ChainError("too many"))
    assert sizer.size == 500
    sizer.succeeded(500, 10)
    assert sizer.size == 500
    sizer.succeeded(500, 10)
    assert sizer.size == 1000
    sizer.succeeded(1000, 400)  # too many logs: aim at max_logs next time
    assert sizer.size == 250
    sizer.size = 10
    with pytest.raises(ChainError, match="even for 10 block"):
        sizer.refused(10, ChainError("no"))


# -- generic decoding and new contracts ----------------------------------------------------


def test_every_abi_shape_decodes_generically_with_asset_and_accounts(chain, artifacts, store, accounts):
    emitter_artifact = artifacts["IndexerTestEmitter"]
    receipt = chain.deploy(emitter_artifact)
    emitter = chain.contract(emitter_artifact.abi, receipt.contract_address)
    parties = [accounts[1].address, accounts[2].address]
    chain.transact(emitter.functions.emitShaped(
        "label", b"\x11" * 32, "a note", parties, (accounts[3].address, 5 * 10**30), 2**200, True))
    source = Source("IndexerTestEmitter", receipt.contract_address, emitter_artifact.abi, receipt.block_number)
    indexer = Indexer(chain, store, [source])
    indexer.sync()
    [event] = db_events(store)
    assert event[5] == "Shaped"
    args = event[6]
    assert args == {
        "label": "0x" + chain.w3.keccak(text="label").hex().removeprefix("0x"),
        "tag": "0x" + "11" * 32, "note": "a note", "parties": parties,
        "terms": {"payee": accounts[3].address, "amount": 5 * 10**30}, "tokenId": 2**200, "flag": True,
    }
    with store.session() as session:
        record = session.scalars(select(EventRecord)).one()
        assert record.asset_id == str(2**200)
        roles = sorted(session.execute(select(EventAccount.account, EventAccount.role)).all())
    assert roles == sorted([(accounts[1].address.lower(), "parties"), (accounts[2].address.lower(), "parties"),
                            (accounts[3].address.lower(), "terms.payee")])
    assert_db_equals_chain(store, chain, [source], indexer)


def test_logs_no_abi_decodes_are_kept_raw(chain, registry, deployment, store):
    stamp(chain, registry, 1)
    blind = [Source("TimestampRegistry", deployment.address("TimestampRegistry"), [], deployment.deploy_block)]
    Indexer(chain, store, blind).sync()
    [event] = db_events(store)
    assert event[5] == UNKNOWN_EVENT and len(event[6]["topics"]) == 2 and event[6]["data"].startswith("0x")


def test_contract_added_to_deployment_is_backfilled_from_its_deploy_block(chain, artifacts, registry, sources, store):
    emitter_artifact = artifacts["IndexerTestEmitter"]
    receipt = chain.deploy(emitter_artifact)
    emitter = chain.contract(emitter_artifact.abi, receipt.contract_address)
    chain.transact(emitter.functions.emitMany(1, 3, 9, chain.account.address))
    stamp(chain, registry, 2)
    indexer = Indexer(chain, store, sources)
    indexer.sync()
    newcomer = Source("IndexerTestEmitter", receipt.contract_address, emitter_artifact.abi, receipt.block_number)
    indexer.set_sources([*sources, newcomer])
    chain.transact(emitter.functions.emitMany(1, 3, 4, chain.account.address))
    report = indexer.sync()
    assert report.backfilled == ["IndexerTestEmitter"]
    assert_db_equals_chain(store, chain, [*sources, newcomer], indexer)
    assert sum(1 for r in db_events(store) if r[5] == "Emitted") == 13


def test_run_indexer_in_thread_follows_new_blocks_and_stops(chain, anvil, deployment, artifacts, registry, db_url):
    thread = run_indexer_in_thread(anvil.url, deployment, artifacts, db_url, poll_interval=0.05)
    try:
        [block] = stamp(chain, registry, 1)
        deadline = time.monotonic() + 20
        while not any(r[0] == block for r in db_events(thread.indexer.store)):
            assert thread.alive and time.monotonic() < deadline, thread.error
            time.sleep(0.05)
    finally:
        thread.stop()
    assert not thread.alive and thread.error is None


def test_a_second_chain_in_the_same_database_is_kept_apart(chain, registry, sources, store, artifacts):
    from ledger.chain.devchain import Anvil

    stamp(chain, registry, 1)
    Indexer(chain, store, sources).sync()
    emitter_artifact = artifacts["IndexerTestEmitter"]
    with Anvil(chain_id=4242) as other_node:
        other = ChainClient(other_node.url, dev_accounts(1)[0])
        receipt = other.deploy(emitter_artifact)
        emitter = other.contract(emitter_artifact.abi, receipt.contract_address)
        other.transact(emitter.functions.emitMany(1, 1, 2, other.account.address))
        Indexer(other, store, [Source("IndexerTestEmitter", receipt.contract_address, emitter_artifact.abi,
                                      receipt.block_number)]).sync()
        other.close()
    with store.session() as session:
        per_chain = dict(session.execute(
            select(EventRecord.chain_id, func.count()).group_by(EventRecord.chain_id)).all())
    assert per_chain == {4242: 2, chain.chain_id: len(chain_events(chain, sources))}



# -- the fast word decoders agree with eth_abi ---------------------------------------------------

_WORD_TYPES = ["uint8", "uint40", "uint256", "int8", "int64", "int256", "address", "bool", "bytes3", "bytes32"]


def _values(kind: str) -> st.SearchStrategy:  # type: ignore[type-arg]
    if kind == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if kind == "bool":
        return st.booleans()
    if kind.startswith("bytes"):
        size = int(kind[5:])
        return st.binary(min_size=size, max_size=size)
    bits = int(kind.removeprefix("u").removeprefix("int"))
    if kind.startswith("u"):
        return st.integers(0, 2**bits - 1)
    return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@settings(max_examples=depth(400, 4000), deadline=None)
@given(data=st.data(), kind=st.sampled_from(_WORD_TYPES))
def test_word_decoders_equal_eth_abi(data, kind):
    value = data.draw(_values(kind))
    word = encode([kind], [value]).hex()
    decoder = _word_decoder(kind)
    assert decoder is not None
    expected = _plain(decode([kind], bytes.fromhex(word))[0], {"type": kind})
    assert decoder(word) == expected


@pytest.mark.parametrize(
    ("kind", "word"),
    [("address", "01" + "00" * 31), ("bool", "00" * 31 + "02"), ("uint8", "00" * 30 + "0100"),
     ("int8", "00" * 31 + "80"), ("bytes3", "ffffff01" + "00" * 28)],
)
def test_word_decoders_refuse_non_canonical_words_as_eth_abi_does(kind, word):
    decoder = _word_decoder(kind)
    assert decoder is not None
    with pytest.raises(ValueError):
        decoder(word)
    with pytest.raises(Exception):  # noqa: B017 - eth_abi raises its own classes
        decode([kind], bytes.fromhex(word))


def test_word_decoder_is_none_for_dynamic_and_composite_types():
    for kind in ("string", "bytes", "uint256[]", "(address,uint256)", "address[2]"):
        assert _word_decoder(kind) is None


def test_manifest_watcher_returns_sources_only_when_the_manifest_changes(tmp_path, deployment, artifacts):
    from ledger.audit.indexer import ManifestWatcher

    manifest = tmp_path / "31337.json"
    manifest.write_text(deployment.model_dump_json())
    watcher = ManifestWatcher(manifest, artifacts)
    assert watcher() is None
    grown = deployment.model_copy(deep=True)
    grown.contracts["IndexerTestEmitter"] = grown.contracts["TimestampRegistry"].model_copy(
        update={"address": "0x" + "12" * 20, "block_number": 99})
    manifest.write_text(grown.model_dump_json())
    os.utime(manifest, (time.time() + 5, time.time() + 5))
    sources = watcher()
    assert sources is not None and ("IndexerTestEmitter", 99) in [(s.name, s.start_block) for s in sources]
    assert watcher() is None


def test_stale_stored_block_met_while_backfilling_rolls_back_below_it(chain, artifacts, registry, sources, store):
    artifact = artifacts["IndexerTestEmitter"]
    receipt = chain.deploy(artifact)
    emitter = chain.contract(artifact.abi, receipt.contract_address)
    emitted = chain.transact(emitter.functions.emitMany(1, 2, 4, chain.account.address)).block_number
    stamp(chain, registry, 2)
    indexer = Indexer(chain, store, sources)
    indexer.sync()
    with store.session() as session:  # a header left over from a fork the indexer never saw roll back
        session.add(BlockRecord(chain_id=chain.chain_id, number=emitted, hash="0x" + "66" * 32,
                                parent_hash="0x" + "77" * 32, time=0))
    newcomer = Source("IndexerTestEmitter", receipt.contract_address, artifact.abi, receipt.block_number)
    indexer.set_sources([*sources, newcomer])
    report = indexer.sync()
    assert report.reorgs and report.reorgs[0][1] < emitted
    assert_db_equals_chain(store, chain, [*sources, newcomer], indexer)
