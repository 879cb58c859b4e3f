"""The stamp service's store (``ledger.timestamps.stampstore``) on SQLite AND PostgreSQL: portable SQL only."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from ledger.audit.store import Store
from ledger.timestamps.stampstore import ANCHORED, CLOSED, OPEN, SENT, Leadership, LeafRow, StampStore

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def leaf(i: int) -> str:
    return "0x" + f"{i:064x}"


def test_rounds_and_leaves_round_trip_on_both_databases(db_url):
    store = Store(db_url)
    stamps = StampStore(store, 31337, REGISTRY)
    other_chain = StampStore(store, 1, REGISTRY)
    with store.session() as session:
        first = stamps.open_round(session, 1_000)
        assert stamps.add_leaves(session, first, [LeafRow(leaf(i), first, 1_000, "0x" + "11" * 65)
                                                  for i in range(700)]) == 700
    assert stamps.current_open() is not None and stamps.current_open().size == 700  # type: ignore[union-attr]
    found = stamps.find([leaf(i) for i in range(650, 750)])  # more than one IN chunk's worth is fine too
    assert sorted(found) == [leaf(i) for i in range(650, 700)] and found[leaf(650)].round_id == first
    assert other_chain.find([leaf(1)]) == {}  # another chain's service: not its leaf
    with pytest.raises(IntegrityError), store.session() as session:  # a leaf is in one round only
        second = stamps.open_round(session, 2_000)
        stamps.add_leaves(session, second, [LeafRow(leaf(3), second, 2_000, "0x" + "22" * 65)])
    assert [r.id for r in stamps.unfinished()] == [first]  # the failed transaction left nothing
    stamps.close(first, 3_000)
    stamps.set_root(first, "0x" + "ab" * 32, 700)
    assert [(r.state, r.closed_ms, r.root) for r in stamps.unfinished()] == [(CLOSED, 3_000, "0x" + "ab" * 32)]
    stamps.set_sent(first, "0x" + "cd" * 32, 7)
    assert stamps.round(first).state == SENT  # type: ignore[union-attr]
    stamps.set_anchored(first, tx_hash="0x" + "cd" * 32, block_number=12, block_hash="0x" + "ef" * 32,
                        block_time=1_700_000_000, stamper=REGISTRY, now_ms=4_000)
    assert stamps.unfinished() == [] and stamps.counts() == {ANCHORED: 700}
    assert stamps.round_leaves(first)[:2] == [leaf(0), leaf(1)]
    stamps.reopen_anchor(first)
    assert stamps.round(first).state == CLOSED and stamps.round(first).block_hash is None  # type: ignore[union-attr]
    with store.session() as session:
        empty = stamps.open_round(session, 5_000)
    stamps.drop_empty(empty)
    assert stamps.round(empty) is None and OPEN not in stamps.counts()
    store.dispose()


def test_add_leaves_to_a_round_another_replica_closed_writes_nothing(shared):
    stamps = StampStore(shared, 31337, REGISTRY)
    with shared.session() as session:
        first = stamps.open_round(session, 1_000)
        assert stamps.add_leaves(session, first, [LeafRow(leaf(1), first, 1_000, "0x" + "11" * 65)]) == 1
    stamps.close(first, 2_000)  # the leader closed it
    with shared.session() as session:
        assert stamps.add_leaves(session, first, [LeafRow(leaf(2), first, 2_000, "0x" + "22" * 65)]) is None
    assert set(stamps.find([leaf(1), leaf(2)])) == {leaf(1)}
    assert stamps.round(first).size == 1  # type: ignore[union-attr]


def test_leadership_is_held_by_one_replica_until_its_connection_ends(shared):
    first, second = Leadership(StampStore(shared, 31337, REGISTRY)), Leadership(StampStore(shared, 31337, REGISTRY))
    other_registry = Leadership(StampStore(shared, 31337, "0x" + "11" * 20))
    if shared.engine.dialect.name == "sqlite":  # one process: always the leader
        assert first.acquire() and second.acquire()
        return
    assert first.acquire() and first.acquire()  # kept (its connection answers)
    assert not second.acquire()
    assert other_registry.acquire()  # one lock per service
    first._drop()  # the connection ends, as when the process dies
    assert second.acquire() and not first.acquire()
    second.release()
    other_registry.release()
    assert first.acquire()
    first.release()
