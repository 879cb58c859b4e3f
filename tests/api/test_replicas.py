"""Three API replicas (`ipledger serve`) on one Anvil and one PostgreSQL, with one relayer key.

Each replica is a real process; the relayer's nonces, the journal, the claims of signed requests
and the rate limits live in the shared database. PostgreSQL comes from ``pg_server``
(IPLEDGER_TEST_PG_URL or a throwaway cluster): a missing one fails with instructions.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak

from ledger.chain.client import ChainClient
from ledger.chain.deployment import Deployment
from ledger.relay.service import SignedRequest, sign_request
from tests.pg import create_database, drop_database
from tests.serving import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 300


class Replicas:
    """N `ipledger serve` processes sharing a chain, a database and a relayer key."""

    def __init__(self, env: dict[str, str], folder: Path, count: int) -> None:
        self.env, self.folder = env, folder
        self.ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count

    def start(self, index: int) -> None:
        log = (self.folder / f"replica-{index}.log").open("ab")
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(self.ports[index])],
            cwd=ROOT, env={**self.env, "IPLEDGER_DATA_DIR": str(self.folder / f"data-{index}")},
            stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, index: int, timeout: float = 60) -> None:
        process = self.processes[index]
        assert process is not None
        wait_healthy(self.url(index), process, self.folder / f"replica-{index}.log", f"replica {index}", timeout)

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    def kill(self, index: int) -> None:
        process = self.processes[index]
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in self.processes:
            if process is not None:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def serve_env(chain: ChainClient, deployment: Deployment, db_url: str, folder: Path) -> dict[str, str]:
    """The environment of `ipledger serve` replicas on the session chain and ``db_url``, relaying with one new key."""
    relayer = Account.create()
    chain.rpc("anvil_setBalance", [relayer.address, hex(10**21)])
    manifest = folder / "deployment.json"
    manifest.write_text(deployment.model_dump_json())
    return {**os.environ, "PYTHONPATH": str(ROOT), "IPLEDGER_RPC_URL": chain.rpc_url, "IPLEDGER_DB_URL": db_url,
            "IPLEDGER_DEPLOYMENT": str(manifest), "IPLEDGER_RELAYER_KEY": relayer.key.hex(),
            "IPLEDGER_API_CLIENT_RATE_PER_SECOND": "100000"}  # every simulated user comes from 127.0.0.1


@pytest.fixture
def replicas(chain: ChainClient, deployment: Deployment, pg_server: str, tmp_path: Path) -> Iterator[Replicas]:
    """Three replicas on the session chain and a fresh PostgreSQL database, relaying with one new key."""
    db_url = create_database(pg_server, "ipledger_replicas")
    env = serve_env(chain, deployment, db_url, tmp_path)
    group = Replicas(env, tmp_path, 3)
    try:
        for index in range(3):
            group.start(index)
        for index in range(3):
            group.wait_ready(index)
        yield group
    finally:
        group.stop()
        drop_database(pg_server, db_url)


def signed_stamps(chain: ChainClient, registry, forwarder: str, count: int) -> list[tuple[bytes, SignedRequest]]:  # type: ignore[no-untyped-def]
    """``count`` stamp requests by as many new users, each signed before anything is sent."""
    out = []
    for _ in range(count):
        user, leaf = Account.create(), os.urandom(32)
        data = registry.functions.stamp(leaf)._encode_transaction_data()
        out.append((leaf, sign_request(user, chain_id=chain.chain_id, forwarder=forwarder, to=registry.address,
                                       data=data, nonce=0, gas=120_000)))
    return out


def root_of(leaf: bytes) -> str:
    """The root ``stamp(leaf)`` records: the one-leaf Merkle root, keccak256(leaf)."""
    return "0x" + keccak(leaf).hex()


def stamped_roots(chain: ChainClient, registry, from_block: int) -> Counter[str]:  # type: ignore[no-untyped-def]
    """How many times each root was stamped on chain since ``from_block``."""
    topic = "0x" + keccak(text="Stamped(bytes32,address)").hex()
    return Counter(str(e.args["root"]).lower() for e in chain.logs(registry, [topic], from_block))


class Poster:
    """Keep-alive connections to each replica, shared by the client threads (httpx clients are thread-safe)."""

    def __init__(self, replicas: Replicas) -> None:
        self.replicas = replicas
        self.clients: dict[int, httpx.Client] = {}

    def post(self, index: int, request: SignedRequest) -> httpx.Response:
        client = self.clients.get(index)
        if client is None:
            client = self.clients[index] = httpx.Client(
                base_url=self.replicas.url(index), timeout=120, limits=httpx.Limits(max_connections=40))
        return client.post("/api/v1/relay", json=request.as_json())

    def forget(self, index: int) -> None:
        client = self.clients.pop(index, None)
        if client is not None:
            client.close()

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def test_three_replicas_land_300_requests_exactly_once_even_when_one_is_killed(
    replicas: Replicas, chain: ChainClient, contract
) -> None:  # type: ignore[no-untyped-def]
    """300 requests spread over three replicas: 300 effects, no refusal (no nonce error), no duplicate.
    Then 300 more with one replica SIGKILLed mid-run and restarted (it reconciles the shared journal):
    every acknowledged request landed once, and no request (acknowledged or not) ran twice."""
    registry, forwarder = contract("TimestampRegistry"), contract("IpledgerForwarder").address
    first, second = (signed_stamps(chain, registry, forwarder, REQUESTS) for _ in range(2))
    poster = Poster(replicas)
    try:
        start_block = chain.w3.eth.block_number + 1
        with concurrent.futures.ThreadPoolExecutor(60) as pool:
            responses = list(pool.map(lambda item: poster.post(item[0] % 3, item[1][1]), enumerate(first)))
        refused = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200]
        assert refused == [], f"{len(refused)} refused, e.g. {refused[:3]}"
        stamped = stamped_roots(chain, registry, start_block)
        assert {root_of(leaf) for leaf, _ in first} == set(stamped)
        assert set(stamped.values()) == {1}
        assert len({r.json()["tx_hash"] for r in responses}) < REQUESTS  # batched: many requests per transaction

        start_block = chain.w3.eth.block_number + 1
        acked: dict[int, str] = {}
        lock = threading.Lock()
        killed = threading.Event()

        def post(item: tuple[int, tuple[bytes, SignedRequest]]) -> None:
            index, (_, request) = item
            # A client that loses its replica posts the same signed request to the next one.
            for attempt in range(3):
                target = (index + attempt) % 3
                try:
                    response = poster.post(target, request)
                except httpx.TransportError:
                    continue
                assert response.status_code in (200, 409), response.text[:300]
                if response.status_code == 200:
                    with lock:
                        acked[index] = response.json()["tx_hash"]
                        if len(acked) >= REQUESTS // 3 and not killed.is_set():
                            killed.set()
                            replicas.kill(1)
                return

        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            list(pool.map(post, enumerate(second)))
        assert killed.is_set()
        poster.forget(1)
        replicas.start(1)  # a restart reconciles the shared journal
        replicas.wait_ready(1)
    finally:
        poster.close()
    stamped = stamped_roots(chain, registry, start_block)
    assert {root_of(second[i][0]) for i in acked} <= set(stamped), "an acknowledged request is missing"
    assert set(stamped.values()) == {1}, "a request ran twice"
    assert len(acked) > REQUESTS // 2
