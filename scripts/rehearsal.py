#!/usr/bin/env python3
"""Deployment rehearsal on one machine (docs/deploy.md section 7): a chain, PostgreSQL, 3 API replicas, an indexer.

Starts a private Anvil with the suite deployed, a PostgreSQL database (IPLEDGER_TEST_PG_URL, or a
throwaway cluster as the tests start one), three `ipledger serve` replicas with one relayer key and
`ipledger index`, all on that database, as docs/deploy.md runs them on separate machines. Then it
checks the shape: a stamp relayed through each replica is read back through another. It prints the
replicas' addresses and keeps everything up until Ctrl-C (or, with ``--check``, stops after the
check: exit 0 when every replica relayed and read back, 1 otherwise).

    .venv/bin/python scripts/rehearsal.py [--check] [--replicas 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_utils import keccak  # noqa: E402

from ledger.chain.client import ChainClient, dev_accounts  # noqa: E402
from ledger.chain.devchain import Anvil  # noqa: E402
from ledger.chain.toolchain import compile_contracts  # noqa: E402
from ledger.relay.service import sign_request  # noqa: E402
from scripts.bench_api import Replicas, deployed, postgres  # noqa: E402
from tests.pg import create_database  # noqa: E402


def check(urls: list[str], chain: ChainClient, registry, forwarder: str) -> bool:  # type: ignore[no-untyped-def]
    """Relay one stamp through each replica and read it back through the next one."""
    ok = True
    for index, url in enumerate(urls):
        leaf = os.urandom(32)
        data = registry.functions.stamp(leaf)._encode_transaction_data()
        request = sign_request(Account.create(), chain_id=chain.chain_id, forwarder=forwarder,
                               to=registry.address, data=data, nonce=0, gas=120_000).as_json()
        relayed = httpx.post(f"{url}/api/v1/relay", json=request, timeout=60)
        other = urls[(index + 1) % len(urls)]
        root = keccak(leaf)  # a single stamp's record is under its one-leaf root (api/routers/timestamps.py)
        read = httpx.get(f"{other}/api/v1/timestamps/0x{root.hex()}", timeout=30)
        good = relayed.status_code == 200 and read.status_code == 200
        ok &= good
        print(f"  replica {index} relayed a stamp ({relayed.status_code}), replica {(index + 1) % len(urls)} "
              f"reads it ({read.status_code}): {'ok' if good else 'FAILED ' + relayed.text[:200] + read.text[:200]}",
              flush=True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="stop after the check; its verdict is the exit code")
    args = parser.parse_args()
    artifacts = compile_contracts()
    with tempfile.TemporaryDirectory(prefix="ipledger-rehearsal-") as tmp, Anvil() as node, postgres() as pg:
        folder = Path(tmp)
        relayer = dev_accounts(1)[0]
        chain, deployment, manifest = deployed(node.url, relayer, folder, artifacts)
        db_url = create_database(pg, "ipledger_rehearsal")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "IPLEDGER_RPC_URL": node.url, "IPLEDGER_DB_URL": db_url,
               "IPLEDGER_DEPLOYMENT": str(manifest), "IPLEDGER_RELAYER_KEY": relayer.key.hex()}
        print(f"chain {node.url} (id {chain.chain_id}), database {db_url}", flush=True)
        replicas = Replicas(args.replicas, env, folder)
        index_log = (folder / "index.log").open("w")
        indexer = subprocess.Popen([sys.executable, "-m", "ledger.cli.main", "index"], cwd=ROOT,
                                   env={**env, "IPLEDGER_DATA_DIR": str(folder / "data-index")},
                                   stdout=index_log, stderr=subprocess.STDOUT)
        urls = [f"http://127.0.0.1:{port}" for port in replicas.ports]
        try:
            registry = chain.contract(artifacts["TimestampRegistry"].abi, deployment.address("TimestampRegistry"))
            passed = check(urls, chain, registry, deployment.address("IpledgerForwarder"))
            if indexer.poll() is not None:
                print(f"  the indexer stopped: see {folder}/index.log", flush=True)
                passed = False
            print("replicas: " + "  ".join(urls) + ("  (check passed)" if passed else "  (check FAILED)"), flush=True)
            if args.check:
                raise SystemExit(0 if passed else 1)
            print("Ctrl-C stops everything.", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("stopping the replicas, the indexer, the database and the chain", flush=True)
        finally:
            indexer.send_signal(signal.SIGINT)
            try:
                indexer.wait(20)
            except subprocess.TimeoutExpired:
                indexer.kill()
            replicas.stop()
            chain.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop cleans up as Ctrl-C does
    main()
