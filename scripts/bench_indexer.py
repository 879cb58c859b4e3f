#!/usr/bin/env python3
"""Indexer benchmark: index 100,000 events from Anvil into SQLite and PostgreSQL; audit latency at that size.

Events come from the test-only ``contracts/test/IndexerTestEmitter.sol`` (``emitMany``: thousands
of events per transaction, cycling over 1,000 asset ids), deployed beside the suite on a fresh
Anvil. Measured: events per second from ``eth_getLogs`` to committed rows (fetch, decode, insert),
then the latency of one asset's history page, one account's history page, and the totals report.
PostgreSQL is IPLEDGER_TEST_PG_URL or a throwaway cluster (``tests/pg.py``).

Writes benchmarks/indexer.json. Loopback only; bounded in size and time.
Usage: .venv/bin/python scripts/bench_indexer.py [--events N] [--per-tx N] [--assets N] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.audit.indexer import Indexer, Source, sources_from_deployment
from ledger.audit.queries import AuditService
from ledger.audit.store import Store
from ledger.chain.client import ChainClient, dev_accounts
from ledger.chain.deployment import deploy_suite
from ledger.chain.devchain import Anvil
from ledger.chain.toolchain import compile_contracts

RESULTS = ROOT / "benchmarks" / "indexer.json"
TARGET_EVENTS_PER_SECOND_SQLITE = 3_000
TARGET_ASSET_HISTORY_MS = 10.0


def latency_ms(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    fn()  # warm caches, as a running service would have them
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
            "runs": runs}


def generate(client: ChainClient, artifacts: dict[str, Any], events: int, per_tx: int, assets: int) -> Source:
    artifact = artifacts["IndexerTestEmitter"]
    receipt = client.deploy(artifact)
    assert receipt.contract_address is not None
    emitter = client.contract(artifact.abi, receipt.contract_address)
    holders = [a.address for a in dev_accounts(10)]
    sent = 0
    start = time.perf_counter()
    while sent < events:
        count = min(per_tx, events - sent)
        first_asset = 1 + (sent % assets)
        client.transact(emitter.functions.emitMany(first_asset, assets, count, holders[(sent // per_tx) % 10]),
                        gas=29_000_000)
        sent += count
    print(f"generated {sent} events in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    return Source("IndexerTestEmitter", receipt.contract_address, artifact.abi, receipt.block_number)


def bench_database(client: ChainClient, sources: list[Source], url: str, label: str, assets: int) -> dict[str, Any]:
    store = Store(url)
    indexer = Indexer(client, store, sources)
    report = indexer.sync()
    print(f"{label}: {report.events} events in {report.seconds:.2f}s = {report.events_per_second:,.0f}/s",
          file=sys.stderr)
    audit = AuditService(store)
    rng = random.Random(7)
    holder = dev_accounts(1)[0].address
    asset_rows = len(audit.history(asset_id=1, limit=10_000).rows)
    result = {
        "events": report.events,
        "seconds": round(report.seconds, 3),
        "events_per_second": round(report.events_per_second, 1),
        "chunks": report.chunks,
        "asset_history": {
            **latency_ms(lambda: audit.history(asset_id=rng.randint(1, assets), limit=100), 200),
            "rows_per_asset": asset_rows, "page": 100,
        },
        "account_history": {**latency_ms(lambda: audit.history(account=holder, limit=100), 50), "page": 100},
        "totals": latency_ms(audit.totals, 5),
    }
    store.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per-tx", type=int, default=2_000)
    parser.add_argument("--assets", type=int, default=1_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    artifacts = compile_contracts()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "events": args.events, "events_per_transaction": args.per_tx, "assets": args.assets,
        "source": "contracts/test/IndexerTestEmitter.sol emitMany on a fresh Anvil, loopback RPC",
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    with Anvil(extra_args=["--gas-limit", "30000000"]) as node, tempfile.TemporaryDirectory() as tmp:
        client = ChainClient(node.url, dev_accounts(1)[0], receipt_timeout=300)
        deployment = deploy_suite(client, artifacts=artifacts)
        sources = [*sources_from_deployment(deployment, artifacts),
                   generate(client, artifacts, args.events, args.per_tx, args.assets)]
        results["sqlite"] = bench_database(client, sources, f"sqlite:///{Path(tmp) / 'index.sqlite3'}", "SQLite",
                                           args.assets)
        if not args.no_postgres:
            from tests.pg import ENV, PostgresCluster, create_database, drop_database, pg_bin_dir

            cluster = None
            server = os.environ.get(ENV)
            if not server:
                bin_dir = pg_bin_dir()
                if bin_dir is None:
                    raise SystemExit(f"no PostgreSQL: set {ENV} or install postgresql (or pass --no-postgres)")
                cluster = PostgresCluster(bin_dir)
                server = cluster.start()
            try:
                url = create_database(server, "ipledger_bench")
                results["postgresql"] = bench_database(client, sources, url, "PostgreSQL", args.assets)
                results["postgresql"]["server"] = "throwaway cluster, fsync off" if cluster else ENV
                drop_database(server, url)
            finally:
                if cluster is not None:
                    cluster.stop()
        client.close()
    results["targets"] = {
        "sqlite_events_per_second": TARGET_EVENTS_PER_SECOND_SQLITE,
        "asset_history_ms": TARGET_ASSET_HISTORY_MS,
        "met": results["sqlite"]["events_per_second"] >= TARGET_EVENTS_PER_SECOND_SQLITE
        and results["sqlite"]["asset_history"]["median_ms"] < TARGET_ASSET_HISTORY_MS
        and results.get("postgresql", {}).get("asset_history", {}).get("median_ms", 0) < TARGET_ASSET_HISTORY_MS,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
