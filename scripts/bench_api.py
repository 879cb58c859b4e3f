#!/usr/bin/env python3
"""API load benchmark (loopback only, bounded): relayed writes against the chain's own rate, 1-3 replicas.

One run, one private Anvil, one PostgreSQL (IPLEDGER_TEST_PG_URL, or a throwaway cluster as the
tests start one):

1. **direct**: WRITES ``stamp`` transactions signed beforehand by 9 development accounts, sent
   straight to Anvil (eth_sendRawTransaction, one keep-alive connection per sender), until the last
   is mined: the chain's own rate on this machine, the ceiling for anything relayed.
2. **relayed**, with 1, 2 and 3 API replicas (`ipledger serve`, one relayer key, the shared
   PostgreSQL): WRITES stamp requests by as many users, all signed *before* the timed phase (the
   client's pure-Python EIP-712 signing would otherwise compete with the servers for the cores),
   then posted by CLIENTS keep-alive connections spread over the replicas; with one replica, WRITES
   more from each of MORE_CLIENTS connections (the relay's batches grow with its concurrency).
3. **bank check** with 3 replicas: ``wrk`` (C; installed with apt-get if missing) on each replica at
   once, with 1, 4 and CLIENTS/3 connections per replica (latency against load), p50/p90/p99 per
   replica and overall (the largest).

``--profile`` samples the single replica during its relayed phase with py-spy (``pip install
py-spy``; looked up on PATH and in /tmp/pyspy) and prints where its time goes.
Writes benchmarks/api.json and benchmarks/api.md. Usage:
    .venv/bin/python scripts/bench_api.py [--clients 32] [--writes 1000] [--more-clients 128] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from eth_account import Account  # noqa: E402
from hexbytes import HexBytes  # noqa: E402

from ledger.chain.client import ChainClient, dev_accounts  # noqa: E402
from ledger.chain.deployment import deploy_suite, manifest_path  # noqa: E402
from ledger.chain.devchain import Anvil  # noqa: E402
from ledger.chain.toolchain import compile_contracts  # noqa: E402
from ledger.relay.service import sign_request  # noqa: E402
from tests.pg import ENV, HOW_TO, PostgresCluster, check_server, create_database, drop_database, pg_bin_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "api.json"
REPORT = ROOT / "benchmarks" / "api.md"
PROFILE = Path(tempfile.gettempdir()) / "ipledger-bench-api-profile.txt"
"""py-spy's raw stacks of the last --profile run (for speedscope or flamegraph.pl)."""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get install -y wrk) ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


def run_wrk(url: str, connections: int, seconds: int) -> subprocess.Popen[str]:
    return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                            stdout=subprocess.PIPE, text=True)


def parse_wrk(out: str) -> dict[str, Any]:
    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([0-9.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)

    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_second": float(rate.group(1)) if rate else None,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "p50_ms": ms("50%"), "p90_ms": ms("90%"), "p99_ms": ms("99%")}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@contextmanager
def postgres() -> Iterator[str]:
    url = os.environ.get(ENV)
    if url:
        check_server(url)
        yield url
        return
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit(f"{ENV} is unset and PostgreSQL is not installed: {HOW_TO}")
    cluster = PostgresCluster(bin_dir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def deployed(rpc_url: str, relayer: Any, folder: Path, artifacts: dict[str, Any]) -> tuple[ChainClient, Any, Path]:
    """The suite deployed on ``rpc_url`` by ``relayer``: its client, the deployment and a manifest file
    the replicas name in IPLEDGER_DEPLOYMENT."""
    chain = ChainClient(rpc_url, relayer, error_abis=[a.abi for a in artifacts.values()])
    deployment = deploy_suite(chain, manifest_path(folder, chain.chain_id), artifacts=artifacts)
    manifest = folder / "deployment.json"
    manifest.write_text(deployment.model_dump_json())
    return chain, deployment, manifest


class Replicas:
    """N `ipledger serve` processes on one chain, one database and one relayer key."""

    def __init__(self, count: int, env: dict[str, str], folder: Path) -> None:
        self.ports = [8600 + (os.getpid() + 7 * i) % 300 for i in range(count)]
        self.processes = []
        for index, port in enumerate(self.ports):
            log = (folder / f"replica-{count}-{index}.log").open("w")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(port)], cwd=ROOT,
                env={**env, "IPLEDGER_DATA_DIR": str(folder / f"data-{index}")}, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 120
        for index, port in enumerate(self.ports):
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if self.processes[index].poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"replica {index} did not start: see {folder}/replica-{count}-{index}.log")
                time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def timed_parallel(jobs: list[Any], clients: int,
                   work: Callable[[int, list[Any]], list[float]]) -> tuple[float, list[float]]:
    """Split ``jobs`` over ``clients`` threads; the wall time and every job's latency."""
    shares = [jobs[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        latencies = [x for xs in pool.map(work, range(clients), shares) for x in xs]
    return time.perf_counter() - start, latencies


def direct_stamps(chain: ChainClient, registry: Any, count: int) -> dict[str, Any]:
    """Pre-signed ``stamp`` transactions from 9 accounts straight to the node, until the last is mined."""
    senders = dev_accounts(10)[1:]
    fees = {"maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9}
    nonces = {a.address: int(chain.w3.eth.get_transaction_count(a.address, "pending")) for a in senders}
    raws: list[bytes] = []
    for i in range(count):
        sender = senders[i % len(senders)]
        tx = registry.functions.stamp(os.urandom(32)).build_transaction(
            {"from": sender.address, "gas": 80_000, "nonce": nonces[sender.address], "chainId": chain.chain_id, **fees})
        nonces[sender.address] += 1
        raws.append(bytes(sender.sign_transaction(tx).raw_transaction))
    # One connection per sender keeps each sender's nonces in order.
    bodies = [json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
                          "params": [HexBytes(raw).to_0x_hex()]}).encode() for raw in raws]
    by_sender = [bodies[i::len(senders)] for i in range(len(senders))]
    start = time.perf_counter()
    sent = post_all([(chain.rpc_url, "/", share) for share in by_sender], expect=b'"result"')
    for sender in senders:  # until every sender's last nonce is mined
        while chain.w3.eth.get_transaction_count(sender.address, "latest") < nonces[sender.address]:
            time.sleep(0.005)
    seconds = time.perf_counter() - start
    return {"transactions": count, "seconds": round(seconds, 2), "per_second": round(count / seconds, 1),
            "client_cpu_ms_per_request": sent["client_cpu_ms_per_request"]}


def relayed_stamps(urls: list[str], requests: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    """Post pre-signed requests from ``clients`` keep-alive connections, spread over the replicas."""
    bodies = [json.dumps(r).encode() for r in requests]
    connections = [(urls[i % len(urls)], "/api/v1/relay", bodies[i::clients]) for i in range(clients)]
    sent = post_all(connections, expect=None)
    latencies = sent["latencies"]
    return {"requests": len(latencies), "seconds": sent["seconds"],
            "per_second": round(len(latencies) / sent["seconds"], 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "client_cpu_ms_per_request": sent["client_cpu_ms_per_request"]}


def signed_stamps(chain: ChainClient, registry: Any, forwarder: str, count: int) -> list[dict[str, Any]]:
    """``count`` stamp requests by as many new users, signed before a timed phase."""
    return [sign_request(Account.create(), chain_id=chain.chain_id, forwarder=forwarder, to=registry.address,
                         data=registry.functions.stamp(os.urandom(32))._encode_transaction_data(), nonce=0,
                         gas=120_000).as_json() for _ in range(count)]


def measure_relayed(chain: ChainClient, relayer: str, replicas: Replicas, requests: list[dict[str, Any]],
                    clients: int, direct: dict[str, Any]) -> dict[str, Any]:
    """Relay ``requests`` from ``clients`` connections; the rate, latency, the replicas' CPU and batch size."""
    pids = [p.pid for p in replicas.processes]
    urls = [f"http://127.0.0.1:{p}" for p in replicas.ports]
    before, sent_before = cpu_seconds(pids), chain.w3.eth.get_transaction_count(relayer)
    outcome = relayed_stamps(urls, requests, clients)
    outcome["server_cpu_ms_per_request"] = round(1000 * (cpu_seconds(pids) - before) / len(requests), 2)
    sent = chain.w3.eth.get_transaction_count(relayer) - sent_before
    outcome["requests_per_transaction"] = round(len(requests) / max(1, sent), 1)
    outcome["ratio_to_direct"] = round(outcome["per_second"] / direct["per_second"], 2)
    outcome.update(replicas=len(pids), connections=clients)
    return outcome


def post_all(connections: list[tuple[str, str, list[bytes]]], *, expect: bytes | None) -> dict[str, Any]:
    """POST every body of each ``(url, path, bodies)`` in order over one keep-alive connection of its own, all
    connections at once; the wall time, each request's latency and the client's own CPU per request.

    A load generator on one event loop with raw sockets rather than threads with ``http.client``: the
    client shares the 2 cores with what it measures, and threads cost it GIL hand-offs and ``http.client``'s
    header parsing (the issue's point about signing applies to sending too). Answers must be 200 (and
    contain ``expect``); they are read by their Content-Length, as uvicorn and Anvil both send it. wrk does
    the bank check's reads, but posts one body (a Lua script could vary it, yet not end after exactly the
    last answer), and each signed request must be sent exactly once.
    """

    async def connection(url: str, path: str, bodies: list[bytes], latencies: list[float]) -> None:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        try:
            for body in bodies:
                start = time.perf_counter()
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                assert status == 200 and (expect is None or expect in answer), answer[:500]
        finally:
            writer.close()

    async def everything() -> list[float]:
        latencies: list[float] = []
        await asyncio.gather(*(connection(url, path, bodies, latencies) for url, path, bodies in connections))
        return latencies

    total = sum(len(bodies) for _, _, bodies in connections)
    cpu, start = time.process_time(), time.perf_counter()
    latencies = asyncio.run(everything())
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "latencies": latencies,
            "client_cpu_ms_per_request": round(1000 * (time.process_time() - cpu) / max(1, total), 3)}


def nonce_lock_cost(pg: str, allocations: int = 300) -> dict[str, Any]:
    """What the relayer's row lock costs per transaction: allocate-and-commit on the shared PostgreSQL,
    from 1 and from 3 threads at once (each its own connection), with nothing sent in between."""
    from ledger.audit.store import Store
    from ledger.chain.state import SharedNonces

    url = create_database(pg, "ipledger_bench_nonces")
    store = Store(url, pre_ping=False)
    try:
        out: dict[str, Any] = {}
        for threads in (1, 3):
            managers = [SharedNonces(store.engine, 31337, lambda _: 0) for _ in range(threads)]

            def allocate(index: int, share: list[int], managers: list[SharedNonces] = managers) -> list[float]:
                latencies = []
                for _ in share:
                    start = time.perf_counter()
                    with managers[index].hold("0x" + "00" * 20) as slot:
                        slot.used()
                    latencies.append(time.perf_counter() - start)
                return latencies

            seconds, latencies = timed_parallel(list(range(allocations)), threads, allocate)
            out[f"{threads}_threads"] = {"per_second": round(allocations / seconds, 1),
                                         "p50_ms": round(statistics.median(latencies) * 1000, 2),
                                         "p99_ms": round(percentile(latencies, 0.99) * 1000, 2)}
        return out
    finally:
        store.dispose()
        drop_database(pg, url)


def register_encumbered_asset(chain: ChainClient, deployment: Any, artifacts: Any, data: Path) -> int:
    """The asset a bank checks: registered with a title, verified, granted, dated, licensed and pledged."""
    from ledger.registry.assets import AssetService
    from ledger.registry.licenses import LicenseService, LicenseTerms
    from ledger.registry.metadata import MetadataStore, build_document
    from ledger.registry.pledges import PledgeService

    def contract(name: str) -> Any:
        return chain.contract(artifacts[name].abi, deployment.address(name))

    _, owner, _, licensee, bank = dev_accounts(5)
    registry = contract("IPRegistry")
    assets = AssetService(chain, registry, MetadataStore(data / "metadata"))
    licenses = LicenseService(chain, contract("LicenseRegistry"), registry)
    pledges = PledgeService(chain, contract("PledgeRegistry"), registry)
    now = chain.block_time("latest")
    document = build_document("A method of pledging patents", kind="invention-patent", ref="CN202010123456.7")
    asset_id = assets.register(os.urandom(32), "invention-patent", "CN202010123456.7", document,
                               sender=owner).asset_id
    assets.set_verified(asset_id, True)
    assets.set_legal_status(asset_id, "granted")
    assets.set_dates(asset_id, now + 15 * 365 * 86_400, now + 300 * 86_400)
    assets.grant_role("pledgee", bank.address)
    offer = licenses.offer(asset_id, LicenseTerms(licensee.address, "non-exclusive", now, now + 3 * 365 * 86_400,
                                                  "CN", "H04L", fee=500_000), sender=owner)
    licenses.accept(offer.ids["licenseId"], sender=licensee)
    proposal = pledges.propose(asset_id, bank.address, 5_000_000, "CNY", now + 4 * 365 * 86_400, sender=owner)
    version = int(chain.call(contract("LicenseRegistry").functions.encumbranceVersionOf(asset_id)))
    pledges.accept(proposal.ids["pledgeId"], version, sender=bank)
    return asset_id


def py_spy() -> list[str] | None:
    found = shutil.which("py-spy")
    if found:
        return [found]
    if (Path("/tmp/pyspy/bin/py-spy")).exists():
        return ["/tmp/pyspy/bin/py-spy"]
    return None


IDLE = ("wait (threading", "_wait_for_tstate_lock", "select (selectors", "get (queue", "_worker (concurrent",
        "run_forever", "_run_once", "sleep (", "result (concurrent")


def profile_summary(raw: Path, top: int = 22) -> dict[str, list[tuple[str, float]]]:
    """From py-spy's raw (collapsed) stacks, idle waits left out: the share of samples each of our
    functions (ledger/, api/) is on the stack for (inclusive), and each function's own time (self)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():  # py-spy may cut a frame name mid-character
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or any(idle in frames[-1] for idle in IDLE):  # idle, or a sample py-spy garbled
            continue
        n = int(count)
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in {f for f in frames if "(ledger/" in f or "(api/" in f}:
            inclusive[frame] = inclusive.get(frame, 0) + n

    def ranked(counts: dict[str, int]) -> list[tuple[str, float]]:
        return [(name, round(100 * c / total, 1)) for name, c in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]

    return {"inclusive": ranked(inclusive), "self": ranked(own)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--replicas", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="sample the single replica with py-spy")
    parser.add_argument("--more-clients", type=int, nargs="*", default=[128],
                        help="then relay WRITES more with one replica from this many connections each (bigger batches)")
    args = parser.parse_args()
    ensure_wrk()
    artifacts = compile_contracts()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"load average at start {os.getloadavg()[0]:.1f}",
        "clients": args.clients, "relayed": {},
    }
    with tempfile.TemporaryDirectory(prefix="ipledger-bench-api-") as tmp, Anvil() as node, postgres() as pg:
        folder = Path(tmp)
        relayer = dev_accounts(1)[0]
        chain, deployment, manifest = deployed(node.url, relayer, folder, artifacts)
        registry = chain.contract(artifacts["TimestampRegistry"].abi, deployment.address("TimestampRegistry"))
        forwarder = deployment.address("IpledgerForwarder")

        results["nonce_lock"] = nonce_lock_cost(pg)
        print("nonce lock", results["nonce_lock"], flush=True)
        results["direct"] = direct_stamps(chain, registry, args.writes)
        print("direct", results["direct"], flush=True)
        for count in args.replicas:
            db_url = create_database(pg, "ipledger_bench")
            env = {**os.environ, "PYTHONPATH": str(ROOT), "IPLEDGER_RPC_URL": node.url, "IPLEDGER_DB_URL": db_url,
                   "IPLEDGER_DEPLOYMENT": str(manifest), "IPLEDGER_RELAYER_KEY": relayer.key.hex(),
                   "IPLEDGER_API_RATE_PER_SECOND": "100000", "IPLEDGER_API_CLIENT_RATE_PER_SECOND": "100000"}
            requests = signed_stamps(chain, registry, forwarder, args.writes)
            replicas = Replicas(count, env, folder)
            urls = [f"http://127.0.0.1:{p}" for p in replicas.ports]
            spy = None
            try:
                if args.profile and count == 1:
                    command = py_spy()
                    if command is None:
                        raise SystemExit("--profile needs py-spy: `pip install --target /tmp/pyspy py-spy`")
                    spy = subprocess.Popen([*command, "record", "--format", "raw", "--gil", "--nonblocking",
                                            "--rate", "200", "-o", str(PROFILE),
                                            "--pid", str(replicas.processes[0].pid)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1.0)
                outcome = measure_relayed(chain, relayer.address, replicas, requests, args.clients, results["direct"])
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
                    results["profile_one_replica"] = profile_summary(PROFILE)
                results["relayed"][str(count)] = outcome
                print(f"relayed, {count} replica(s)", outcome, flush=True)
                for clients in args.more_clients if count == 1 else []:
                    outcome = measure_relayed(chain, relayer.address, replicas,
                                              signed_stamps(chain, registry, forwarder, args.writes), clients,
                                              results["direct"])
                    results["relayed"][f"{count}@{clients}"] = outcome
                    print(f"relayed, {count} replica(s), {clients} connections", outcome, flush=True)
                if count == max(args.replicas):
                    asset_id = register_encumbered_asset(chain, deployment, artifacts, folder)
                    path = f"/api/v1/assets/{asset_id}/check?maturity=2030-06-30"
                    first = httpx.get(urls[0] + path, timeout=60)
                    assert first.status_code == 200, first.text
                    # Latency against load: wrk is closed-loop (each connection sends its next request
                    # when the last is answered), so the connections per replica set the load; the
                    # last step saturates the cores and its p99 is mostly queueing.
                    sweep = []
                    for per in sorted({1, 4, max(1, args.clients // count)}):
                        runs = [run_wrk(url + path, per, args.wrk_seconds) for url in urls]
                        each = [parse_wrk(run.communicate()[0]) for run in runs]
                        sweep.append({
                            "connections_per_replica": per, "per_replica": each,
                            "requests_per_second": round(sum(e["requests_per_second"] or 0 for e in each), 1),
                            "p50_ms": max(e["p50_ms"] for e in each), "p99_ms": max(e["p99_ms"] for e in each),
                            "non_2xx": sum(e["non_2xx"] for e in each)})
                        print("bank check", sweep[-1], flush=True)
                    results["bank_check"] = {
                        "replicas": count, "tool": f"wrk -t1 on each replica at once, {args.wrk_seconds} s a step",
                        "history_events": len(first.json()["history"]), "rpc_round_trips": first.json()["round_trips"],
                        "sweep": sweep, "target_p99_ms": 25,
                    }
            finally:
                replicas.stop()
                drop_database(pg, db_url)
        chain.close()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_report(results)
    print(json.dumps(results, indent=2))


def write_report(results: dict[str, Any]) -> None:
    direct = results["direct"]
    lines = ["# API benchmark (`scripts/bench_api.py`)", "",
             f"Machine: {results['machine']}; {results['clients']} client connections unless the table says "
             "otherwise.", "",
             "| writes | replicas | client connections | per second | ratio to direct | p50 ms | p99 ms "
             "| replicas' CPU ms per request | requests per relayer transaction |",
             "|---|---|---|---|---|---|---|---|---|",
             f"| direct pre-signed `stamp` transactions to Anvil | - | 9 | {direct['per_second']} | 1.00 | - | - | - "
             "| 1 |"]
    for key, outcome in results["relayed"].items():
        lines.append(f"| relayed stamp requests (signed beforehand) | {outcome.get('replicas', key)} | "
                     f"{outcome.get('connections', results['clients'])} | {outcome['per_second']} | "
                     f"{outcome['ratio_to_direct']} | {outcome['p50_ms']} | {outcome['p99_ms']} | "
                     f"{outcome['server_cpu_ms_per_request']} | {outcome.get('requests_per_transaction', '-')} |")
    def phase(key: str, outcome: dict[str, Any]) -> str:
        replicas = int(outcome.get("replicas", key))
        return (f"{outcome.get('client_cpu_ms_per_request', '-')} ({replicas} replica{'' if replicas == 1 else 's'}, "
                f"{outcome.get('connections', results['clients'])} connections)")

    client = [f"{direct.get('client_cpu_ms_per_request', '-')} (direct)"] + [
        phase(key, outcome) for key, outcome in results["relayed"].items()]
    lines += ["", "Both timed phases send bodies built beforehand from one asyncio event loop (raw sockets, "
                  "keep-alive; `post_all`); the direct one keeps one connection per sender (9). The load "
                  f"generator's own CPU, ms per request: {', '.join(client)}."]
    lock = results.get("nonce_lock")
    if lock:
        one, three = lock["1_threads"], lock["3_threads"]
        lines += ["", f"Relayer nonce row lock alone (allocate and commit on PostgreSQL, nothing sent): "
                      f"{one['per_second']}/s from one connection (p50 {one['p50_ms']} ms), {three['per_second']}/s "
                      f"from three at once (p50 {three['p50_ms']} ms, p99 {three['p99_ms']} ms)."]
    check = results.get("bank_check")
    if check:
        lines += ["", f"Bank check with {check['replicas']} replicas ({check['tool']}; p50 and p99: the largest "
                      f"of the replicas'; target p99 {check['target_p99_ms']} ms):", "",
                  "| connections per replica | requests/s (all replicas) | p50 ms | p99 ms | non-2xx |",
                  "|---|---|---|---|---|"]
        for step in check["sweep"]:
            lines.append(f"| {step['connections_per_replica']} | {step['requests_per_second']} | {step['p50_ms']} | "
                         f"{step['p99_ms']} | {step['non_2xx']} |")
    profile = results.get("profile_one_replica")
    if profile:
        lines += ["", "Where one replica's CPU goes while relaying (py-spy `--gil`: samples of the thread holding "
                      "the GIL; inclusive: on the stack, ledger/ and api/ functions; self: the function itself):",
                  "", "| inclusive | share % | self | share % |", "|---|---|---|---|"]
        for (a, x), (b, y) in zip(profile["inclusive"], profile["self"], strict=False):
            lines.append(f"| `{a}` | {x} | `{b}` | {y} |")
    notes = REPORT.read_text().split("<!-- notes -->", 1)[1] if REPORT.exists() and "<!-- notes -->" in \
        REPORT.read_text() else "\n"
    REPORT.write_text("\n".join(lines) + "\n\n<!-- notes -->" + notes)


if __name__ == "__main__":
    main()
