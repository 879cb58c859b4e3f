"""Relayer nonces shared by API replicas, on SQLite and PostgreSQL (``shared``: tests/conftest.py)."""

from __future__ import annotations

import concurrent.futures

from ledger.audit.store import Store
from ledger.chain.state import SharedNonces

SENDER = "0x" + "ab" * 20


def test_nonces_from_three_replicas_at_once_are_consecutive_and_never_repeat(shared: Store) -> None:
    # SQLite serves one process: one manager, its threads; PostgreSQL: three managers, as three replicas.
    replicas = [SharedNonces(shared.engine, 31337, lambda _: 5) for _ in range(1 if shared.dialect == "sqlite" else 3)]

    def allocate(index: int) -> list[int]:
        out = []
        for _ in range(20):
            with replicas[index % len(replicas)].hold(SENDER) as slot:
                slot.used()
                out.append(slot.nonce)
        return out

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        nonces = [n for ns in pool.map(allocate, range(6)) for n in ns]
    assert sorted(nonces) == list(range(5, 5 + 120))


def test_nonce_the_node_refused_is_given_back_and_a_stale_one_resyncs_to_the_node(shared: Store) -> None:
    node_count = {"n": 0}
    nonces = SharedNonces(shared.engine, 31337, lambda _: node_count["n"])
    with nonces.hold(SENDER) as slot:
        assert slot.nonce == 0  # not used: the node refused the transaction
    with nonces.hold(SENDER) as slot:
        assert slot.nonce == 0
        slot.used()
    node_count["n"] = 7  # another program used the key: the node says "nonce too low"
    with nonces.hold(SENDER) as slot:
        assert slot.nonce == 1
        slot.stale()
    with nonces.hold(SENDER) as slot:
        assert slot.nonce == 7
