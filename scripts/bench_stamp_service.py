#!/usr/bin/env python3
"""Stamp service benchmark (issue 16; loopback only, not a test): leaves/s accepted, ack -> anchored latency,
gas per stamp, exactly-once under SIGKILL, side by side with direct ``stamp`` transactions.

Starts a private Anvil (automining) and the API with its stamp service (uvicorn, one process, rounds every
``--interval`` s) on loopback, then:

1. load: CLIENTS threads post pre-built bodies of BATCH leaves each (leaves and JSON computed before the clock
   starts, so the generator costs little CPU on a 2-core machine) for SECONDS; one long poll per round
   (``GET /stamps/{leaf}?wait=``) times when each round is anchored: ack -> anchored per leaf is the round's
   anchoring time minus its request's acknowledgement;
2. the same run with the service SIGKILLed once mid-run and restarted at once; then every acknowledged leaf must
   be in the service's database, in exactly one round, each round anchored exactly once on chain (its
   BatchStamped events), and 30 sampled leaves' proofs must lead to their roots;
3. gas per stamp at 100, 1,000 and 10,000 leaves per round (a full round of each size, same code path);
4. direct ``stamp(leaf)`` transactions from 8 accounts for a third of SECONDS: stamps/s and gas per stamp.

Writes benchmarks/stamp_service.md (and .json). Usage:
    .venv/bin/python scripts/bench_stamp_service.py [--seconds 60] [--clients 4] [--batch 500]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from hexbytes import HexBytes  # noqa: E402
from sqlalchemy import select  # noqa: E402

from ledger.audit.store import Store, default_db_url  # noqa: E402
from ledger.chain.client import ChainClient, Contract, dev_accounts  # noqa: E402
from ledger.chain.deployment import deploy_suite, manifest_path  # noqa: E402
from ledger.chain.devchain import Anvil  # noqa: E402
from ledger.chain.toolchain import compile_contracts  # noqa: E402
from ledger.settings import Settings  # noqa: E402
from ledger.timestamps.aggregator import StampAggregator  # noqa: E402
from ledger.timestamps.proofs import verify_proof  # noqa: E402
from ledger.timestamps.stampstore import StampLeafRecord, StampRoundRecord, StampStore  # noqa: E402

RESULTS = ROOT / "benchmarks" / "stamp_service.md"
SERVICE = dev_accounts(10)[9]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Server:
    """The API with its stamp service, as a subprocess (killable with SIGKILL)."""

    def __init__(self, data: Path, rpc_url: str, port: int, interval: float, max_leaves: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "IPLEDGER_RPC_URL": rpc_url, "IPLEDGER_DATA_DIR": str(data),
                    "IPLEDGER_STAMP_SERVICE_KEY": SERVICE.key.hex(), "IPLEDGER_STAMP_ROUND_INTERVAL": str(interval),
                    "IPLEDGER_STAMP_ROUND_MAX_LEAVES": str(max_leaves),
                    "IPLEDGER_STAMP_CLIENT_LEAVES_PER_SECOND": "1000000",
                    "IPLEDGER_API_CLIENT_RATE_PER_SECOND": "100000",
                    "IPLEDGER_API_MAX_BODY_BYTES": "2000000", "PYTHONPATH": str(ROOT)}
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port", str(self.port),
             "--log-level", "warning"], cwd=ROOT, env=self.env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/stamps/service", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("the API did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def load(server: Server, seconds: float, clients: int, batch: int, kill_at: float | None) -> dict[str, Any]:
    """CLIENTS threads posting BATCH leaves per request for SECONDS; optionally SIGKILL + restart at KILL_AT s."""
    per_client = int(seconds * 4000 / batch / clients) + 20  # bodies enough for 4,000 leaves/s
    bodies: list[list[tuple[list[str], bytes]]] = []
    for _ in range(clients):
        mine = []
        for _ in range(per_client):
            leaves = ["0x" + secrets.token_hex(32) for _ in range(batch)]
            mine.append((leaves, json.dumps({"leaves": leaves}).encode()))
        bodies.append(mine)
    acknowledged: list[tuple[float, list[str], dict[int, int]]] = []  # (ack time, leaves, leaves per round)
    refused = [0]
    lock = threading.Lock()
    first_leaf: dict[int, str] = {}
    anchored_at: dict[int, float] = {}
    waiters = concurrent.futures.ThreadPoolExecutor(16)
    stop_at = time.monotonic() + seconds
    restart: dict[str, float] = {}

    def wait_round(round_id: int, leaf: str) -> None:
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=90) as http:
            while time.monotonic() < stop_at + 120:
                try:
                    answer = http.get(f"/stamps/{leaf}", params={"wait": 30}).json()
                except (httpx.TransportError, ValueError):
                    time.sleep(0.2)
                    continue
                if answer.get("status") == "anchored":
                    anchored_at[round_id] = time.monotonic()
                    return

    def client(mine: list[tuple[list[str], bytes]]) -> None:
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=60,
                          headers={"content-type": "application/json"}) as http:
            for leaves, body in mine:
                response = None
                while response is None:
                    if time.monotonic() >= stop_at:
                        return
                    try:
                        response = http.post("/stamps", content=body)
                    except httpx.TransportError:
                        # The service is down (killed), or its answer was cut: a real client sends the same
                        # leaves again (a leaf already stored is answered with its first receipt).
                        time.sleep(0.05)
                now = time.monotonic()
                if response.status_code != 200:
                    refused[0] += 1
                    continue
                rounds: dict[int, int] = {}
                sample: dict[int, str] = {}
                for receipt in response.json()["data"]:
                    rounds[receipt["round"]] = rounds.get(receipt["round"], 0) + 1
                    sample.setdefault(receipt["round"], receipt["leaf"])
                with lock:
                    acknowledged.append((now, leaves, rounds))
                    for round_id, leaf in sample.items():
                        if round_id not in first_leaf:
                            first_leaf[round_id] = leaf
                            waiters.submit(wait_round, round_id, leaf)

    def killer() -> None:
        assert kill_at is not None
        time.sleep(kill_at)
        killed = time.monotonic()
        server.kill()
        restart["startup_s"] = server.start()
        restart["down_s"] = time.monotonic() - killed

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(bodies[i],)) for i in range(clients)]
    if kill_at is not None:
        threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    waiters.shutdown(wait=True)
    total = sum(len(leaves) for _, leaves, _ in acknowledged)
    latencies: list[float] = []
    missing = 0
    for ack, _, rounds in acknowledged:
        for round_id, count in rounds.items():
            if round_id in anchored_at:
                latencies.extend([anchored_at[round_id] - ack] * count)
            else:
                missing += count
    return {
        "seconds": round(elapsed, 1), "clients": clients, "leaves_per_request": batch,
        "acknowledged": total, "leaves_per_second": round(total / elapsed), "refused_requests": refused[0],
        "rounds": len(first_leaf), "ack_to_anchored_p50_s": round(percentile(latencies, 50), 3),
        "ack_to_anchored_p99_s": round(percentile(latencies, 99), 3),
        "ack_to_anchored_max_s": round(max(latencies), 3) if latencies else None,
        "not_seen_anchored": missing, "restart": {k: round(v, 1) for k, v in restart.items()},
        "_acknowledged": [leaf for _, leaves, _ in acknowledged for leaf in leaves],
    }


def audit(server: Server, data: Path, chain: ChainClient, registry: Contract, acknowledged: list[str],
          from_block: int) -> dict[str, Any]:
    """Exactly once: every acknowledged leaf stored once and in a round anchored once on chain."""
    deadline = time.monotonic() + 120
    store = Store(default_db_url(Settings(data_dir=data)))
    try:
        while True:
            with store.session() as session:
                rounds = {r.id: (r.root, r.state, r.size, r.tx_hash) for r in session.scalars(select(StampRoundRecord))}
            if all(state == "anchored" for _, state, _, _ in rounds.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with store.session() as session:
            stored = list(session.scalars(select(StampLeafRecord.leaf)))
    finally:
        store.dispose()
    topic = HexBytes(bytes(12) + bytes.fromhex(SERVICE.address[2:]))
    events = [e for e in chain.logs(registry, [None, None, topic], from_block) if e.name == "BatchStamped"]
    on_chain: dict[str, int] = {}
    twice = 0
    for e in events:
        twice += e.args["root"] in on_chain
        on_chain[e.args["root"]] = int(e.args["count"])
    stored_set = set(stored)
    lost = len(set(acknowledged) - stored_set)
    unanchored = sum(size for root, state, size, _ in rounds.values() if state != "anchored" or root not in on_chain)
    sizes_agree = all(on_chain.get(str(root)) == size for root, _, size, _ in rounds.values())
    sample = random.sample(acknowledged, min(30, len(acknowledged)))
    proofs_ok = 0
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=60) as http:
        for leaf in sample:
            answer = http.get(f"/stamps/{leaf}").json()
            proofs_ok += answer["status"] == "anchored" and verify_proof(
                [bytes.fromhex(p[2:]) for p in answer["proof"]], bytes.fromhex(answer["root"][2:]),
                bytes.fromhex(leaf[2:]))
    return {"acknowledged": len(acknowledged), "stored": len(stored), "stored_twice": len(stored) - len(stored_set),
            "acknowledged_lost": lost, "leaves_in_unanchored_rounds": unanchored, "rounds": len(rounds),
            "roots_anchored_twice": twice, "round_sizes_match_chain": sizes_agree,
            "sampled_proofs_ok": f"{proofs_ok}/{len(sample)}"}


def round_gas(chain: ChainClient, registry: Contract, data: Path, sizes: list[int]) -> list[dict[str, Any]]:
    """One full round of each size through the service's own anchoring code; gas of its stampBatch."""
    store = Store(f"sqlite:///{data / 'gas.sqlite3'}")
    out = []
    try:
        for size in sizes:
            agg = StampAggregator(chain, registry, StampStore(store, chain.chain_id, registry.address), SERVICE,
                                  round_interval=3600, round_max_leaves=size, max_leaves_per_request=size)
            agg.submit(["0x" + secrets.token_hex(32) for _ in range(size)])
            [round_id] = agg.tick()
            tx = agg.store.round(round_id).tx_hash  # type: ignore[union-attr]
            receipt = chain.receipt(str(tx))
            assert receipt is not None
            out.append({"leaves_per_round": size, "gas": receipt.gas_used,
                        "gas_per_stamp": round(receipt.gas_used / size, 1)})
    finally:
        store.dispose()
    return out


def direct(chain: ChainClient, registry: Contract, seconds: float) -> dict[str, Any]:
    """Direct ``stamp(leaf)`` transactions, one per stamp, from 8 accounts at once."""
    senders = dev_accounts(9)[1:9]
    stop_at = time.monotonic() + seconds
    gas: list[int] = []
    lock = threading.Lock()

    def send(account: Any) -> None:
        while time.monotonic() < stop_at:
            receipt = chain.transact(registry.functions.stamp(HexBytes(secrets.token_bytes(32))), sender=account,
                                     gas=80_000)
            with lock:
                gas.append(receipt.gas_used)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(senders)) as pool:
        list(pool.map(send, senders))
    elapsed = time.monotonic() - started
    return {"seconds": round(elapsed, 1), "stamps": len(gas), "stamps_per_second": round(len(gas) / elapsed, 1),
            "gas_per_stamp": round(statistics.mean(gas)) if gas else None}


def report(results: dict[str, Any]) -> str:
    normal, killed, kill_audit = results["load"], results["load_with_sigkill"], results["sigkill_audit"]
    normal_audit, gas, dir_ = results["load_audit"], results["gas_per_round"], results["direct"]
    per_round = round(normal["acknowledged"] / max(1, normal["rounds"]))
    gas_1000 = next((g["gas_per_stamp"] for g in gas if g["leaves_per_round"] == 1000), None)
    lines = [
        "# Stamp service benchmark (issue 16)",
        "",
        f"`scripts/bench_stamp_service.py --seconds {results['args']['seconds']} --clients "
        f"{results['args']['clients']} --batch {results['args']['batch']} --interval {results['args']['interval']}`, "
        f"{results['machine']}; Anvil automining, the API (one uvicorn process, SQLite) and the clients on loopback, "
        f"the same machine. Load average when the run started: {results['load_average']}.",
        "",
        "Clients post pre-built bodies of leaves (computed before the clock starts); one long poll per round "
        "(`GET /stamps/{leaf}?wait=`) times its anchoring; ack -> anchored is per leaf, from its request's answer.",
        "",
        "## Load, 60 s",
        "",
        "| run | leaves/s accepted (goal >= 1,000) | acknowledged | rounds | ack -> anchored p50 "
        "| p99 (goal <= 2 s) | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, run in (("steady", normal), ("SIGKILL once mid-run, restarted", killed)):
        lines.append(f"| {name} | {run['leaves_per_second']:,} | {run['acknowledged']:,} | {run['rounds']} | "
                     f"{run['ack_to_anchored_p50_s']} s | {run['ack_to_anchored_p99_s']} s | "
                     f"{run['ack_to_anchored_max_s']} s |")
    lines += [
        "",
        f"The SIGKILL run: the service was down {killed['restart'].get('down_s')} s (a new process: imports, "
        f"recovery, listening: {killed['restart'].get('startup_s')} s); the clients kept retrying meanwhile, so its "
        "rate and tail include the outage (the p99 is the leaves acknowledged just before the kill, anchored by the "
        "restarted process).",
        "",
        "## Exactly once",
        "",
        "| run | acknowledged | lost | stored twice | in unanchored rounds | roots anchored twice "
        "| round sizes = chain | sampled proofs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, a in (("steady", normal_audit), ("SIGKILL", kill_audit)):
        lines.append(f"| {name} | {a['acknowledged']:,} | {a['acknowledged_lost']} | {a['stored_twice']} | "
                     f"{a['leaves_in_unanchored_rounds']} | {a['roots_anchored_twice']} | "
                     f"{a['round_sizes_match_chain']} | "
                     f"{a['sampled_proofs_ok']} |")
    lines += [
        "",
        "## Gas per stamp",
        "",
        "| leaves per round | stampBatch gas | gas per stamp (goal <= 50 at 1,000) |",
        "|---|---|---|",
        *[f"| {g['leaves_per_round']:,} | {g['gas']:,} | {g['gas_per_stamp']} |" for g in gas],
        "",
        f"At the steady run's rate ({normal['leaves_per_second']:,} leaves/s) its {normal['rounds']} rounds held "
        f"{per_round:,} leaves on average: about {round(gas[1]['gas'] / max(1, per_round), 1)} gas per stamp.",
        "",
        "## Side by side: direct `stamp(leaf)` transactions (same chain, same run)",
        "",
        "| | stamps/s | gas per stamp |",
        "|---|---|---|",
        f"| stamp service | {normal['leaves_per_second']:,} | {round(gas[1]['gas'] / max(1, per_round), 1)} "
        f"({per_round:,} per round; {gas_1000} at 1,000) |",
        f"| direct `stamp`, 8 senders, {dir_['seconds']} s | {dir_['stamps_per_second']} | {dir_['gas_per_stamp']:,} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500, help="leaves per request")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write benchmarks/")
    args = parser.parse_args()
    artifacts = compile_contracts()
    results: dict[str, Any] = {"args": vars(args), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                               "load_average": " / ".join(f"{x:.1f}" for x in os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="ipledger-bench-stamps-") as tmp, Anvil() as node:
        deployer = dev_accounts(1)[0]
        chain = ChainClient(node.url, deployer, error_abis=[a.abi for a in artifacts.values()])
        for run in ("load", "load_with_sigkill"):
            data = Path(tmp) / run
            deployment = deploy_suite(chain, manifest_path(data, chain.chain_id), artifacts=artifacts)
            registry = chain.contract(artifacts["TimestampRegistry"].abi, deployment.address("TimestampRegistry"))
            from_block = chain.w3.eth.block_number
            server = Server(data, node.url, 8900 + os.getpid() % 90, args.interval, 10_000)
            server.start()
            try:
                kill_at = args.seconds / 2 if run == "load_with_sigkill" else None
                outcome = load(server, args.seconds, args.clients, args.batch, kill_at)
                acknowledged = outcome.pop("_acknowledged")
                results[run] = outcome
                results["load_audit" if run == "load" else "sigkill_audit"] = audit(
                    server, data, chain, registry, acknowledged, from_block)
            finally:
                server.stop()
            print(json.dumps({run: results[run]}, indent=2), flush=True)
        results["gas_per_round"] = round_gas(chain, registry, Path(tmp), [100, 1000, 10_000])
        results["direct"] = direct(chain, registry, max(5.0, args.seconds / 3))
        chain.close()
    text = report(results)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text)
        RESULTS.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
