"""The stamp service on two `ipledger serve` replicas (one Anvil, one PostgreSQL, one service key).

Both replicas accept leaves; the holder of the database's advisory lock alone closes and anchors
rounds. The leader is SIGKILLed mid-load: the survivor takes the lock, recovers the rounds left
recorded but not mined, and anchors every leaf either replica acknowledged, each exactly once.
PostgreSQL comes from ``pg_server`` (a missing one fails with instructions).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from hexbytes import HexBytes
from sqlalchemy import select

from ledger.audit.store import Store
from ledger.chain.client import ChainClient
from ledger.chain.deployment import Deployment
from ledger.timestamps.aggregator import receipt_signer
from ledger.timestamps.proofs import verify_proof
from ledger.timestamps.stampstore import StampLeafRecord, StampRoundRecord
from tests.api.test_replicas import ROOT, Replicas
from tests.pg import create_database, drop_database


@pytest.fixture
def stamp_replicas(chain: ChainClient, deployment: Deployment, pg_server: str,
                   tmp_path: Path) -> Iterator[tuple[Replicas, str, str]]:
    """Two replicas with the stamp service (one new key for both) on a fresh database."""
    relayer, service = Account.create(), Account.create()
    for account in (relayer, service):
        chain.rpc("anvil_setBalance", [account.address, hex(10**21)])
    manifest = tmp_path / "deployment.json"
    manifest.write_text(deployment.model_dump_json())
    db_url = create_database(pg_server, "ipledger_stamp_replicas")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IPLEDGER_RPC_URL": chain.rpc_url, "IPLEDGER_DB_URL": db_url,
           "IPLEDGER_DEPLOYMENT": str(manifest), "IPLEDGER_RELAYER_KEY": relayer.key.hex(),
           "IPLEDGER_STAMP_SERVICE_KEY": service.key.hex(), "IPLEDGER_STAMP_ROUND_INTERVAL": "0.3",
           "IPLEDGER_STAMP_CLIENT_LEAVES_PER_SECOND": "1000000",  # every simulated user comes from 127.0.0.1,
           "IPLEDGER_API_CLIENT_RATE_PER_SECOND": "100000"}        # and the replicas share its buckets
    group = Replicas(env, tmp_path, 2)
    try:
        for index in range(2):
            group.start(index)
        for index in range(2):
            group.wait_ready(index)
        yield group, db_url, service.address
    finally:
        group.stop()
        drop_database(pg_server, db_url)


def describe(replicas: Replicas, index: int) -> dict:  # type: ignore[type-arg]
    return httpx.get(f"{replicas.url(index)}/api/v1/stamps/service", timeout=10).json()  # type: ignore[no-any-return]


def wait_for_leader(replicas: Replicas, among: list[int], timeout: float = 15) -> int:
    """The one replica among ``among`` that says it leads (fails if none, or two, do within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        leaders = [i for i in among if describe(replicas, i)["leader"]]
        if len(leaders) == 1:
            return leaders[0]
        assert len(leaders) < 2, f"two leaders: {leaders}"
        assert time.monotonic() < deadline, "no replica took the lead"
        time.sleep(0.1)


def test_two_stamp_replicas_anchor_every_leaf_once_when_the_leader_is_killed(
    stamp_replicas: tuple[Replicas, str, str], chain: ChainClient, contract
) -> None:  # type: ignore[no-untyped-def]
    replicas, db_url, service = stamp_replicas
    leader = wait_for_leader(replicas, [0, 1])
    survivor = 1 - leader
    start_block = chain.w3.eth.block_number + 1
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    dead: set[int] = set()

    def load(index: int) -> None:
        """Post 25 leaves at a time to replica ``index``; once it is dead, to the other one."""
        while not stop.is_set():
            target = 1 - index if index in dead else index
            batch = ["0x" + secrets.token_hex(32) for _ in range(25)]
            try:
                answer = httpx.post(f"{replicas.url(target)}/api/v1/stamps", json={"leaves": batch}, timeout=10)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            assert answer.status_code == 200, answer.text[:300]
            receipts = answer.json()["data"]
            assert [r["leaf"] for r in receipts] == batch
            with lock:
                acknowledged.extend(batch)

    clients = [threading.Thread(target=load, args=(i % 2,)) for i in range(4)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(2.0)
        with lock:
            before_kill = len(acknowledged)
        dead.add(leader)
        replicas.kill(leader)  # SIGKILL: its database connection ends, the advisory lock with it
        assert wait_for_leader(replicas, [survivor]) == survivor
        time.sleep(2.0)  # leaves keep coming, all to the survivor, which now anchors
    finally:
        stop.set()
        for thread in clients:
            thread.join(15)
    assert before_kill > 100 and len(acknowledged) > before_kill + 100

    # Receipts from either replica are signed by the one service key; the survivor answers for all leaves.
    info = describe(replicas, survivor)
    assert info["address"] == service
    with httpx.Client(base_url=f"{replicas.url(survivor)}/api/v1", timeout=60) as http:
        for leaf in [acknowledged[0], acknowledged[before_kill - 1], acknowledged[-1]]:
            answer = http.get(f"/stamps/{leaf}", params={"wait": 30}).json()
            assert answer["status"] == "anchored", answer
            assert receipt_signer(answer["receipt"], info["domain"]) == service
            assert verify_proof([bytes.fromhex(p[2:]) for p in answer["proof"]], bytes.fromhex(answer["root"][2:]),
                                bytes.fromhex(leaf[2:]))
        deadline = time.monotonic() + 30
        store = Store(db_url, migrate=False)
        try:
            while True:  # every round closed and anchored
                with store.session() as session:
                    states = set(session.scalars(select(StampRoundRecord.state)))
                if states == {"anchored"}:
                    break
                assert time.monotonic() < deadline, f"rounds still {states}"
                time.sleep(0.2)
            with store.session() as session:
                stored = list(session.scalars(select(StampLeafRecord.leaf)))
                rounds = {r.root: (r.state, r.size) for r in session.scalars(select(StampRoundRecord))}
        finally:
            store.dispose()

    registry = contract("TimestampRegistry")
    stamper = HexBytes(bytes(12) + bytes.fromhex(service[2:]))
    events = [e for e in chain.logs(registry, [None, None, stamper], start_block) if e.name == "BatchStamped"]
    roots = [e.args["root"] for e in events]
    assert len(roots) == len(set(roots)), "a round was anchored twice"
    assert set(acknowledged) <= set(stored) and len(stored) == len(set(stored))
    # The leaves on chain (BatchStamped counts) are exactly the leaves stored, each in one anchored round.
    assert {r: ("anchored", int(e.args["count"])) for r, e in zip(roots, events, strict=True)} == rounds
    assert sum(int(e.args["count"]) for e in events) == len(stored)
