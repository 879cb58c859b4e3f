#!/usr/bin/env python3
"""Gas report: measure every contract operation on a fresh Anvil and write benchmarks/gas.json + gas.md.

Gas is deterministic, so the figures are exact and `tests/contracts/test_gas.py` fails when one
rises above the committed report. Run: `make gas` (or `.venv/bin/python scripts/gas_report.py`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.chain import ChainClient, dev_accounts  # noqa: E402
from ledger.deploy import Deployment, deploy_suite  # noqa: E402
from ledger.devchain import Anvil  # noqa: E402
from ledger.proofs import MerkleTree  # noqa: E402
from ledger.toolchain import Artifact, compile_contracts  # noqa: E402

REPORT_JSON = ROOT / "benchmarks" / "gas.json"
REPORT_MD = ROOT / "benchmarks" / "gas.md"

TARGETS = {
    "TimestampRegistry.stamp": 46_000,
    "TimestampRegistry.stampBatch per leaf @1000": 60,
}

Measure = Callable[[ChainClient, Deployment, dict[str, Artifact]], dict[str, int]]
MEASURES: list[Measure] = []


def measure(fn: Measure) -> Measure:
    MEASURES.append(fn)
    return fn


def _leaf(i: int) -> bytes:
    return os.urandom(32) if i < 0 else i.to_bytes(32, "big")


@measure
def timestamps(chain: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]) -> dict[str, int]:
    registry = chain.contract(artifacts["TimestampRegistry"].abi, deployment.address("TimestampRegistry"))
    # A fixed leaf keeps calldata (and so gas) identical between runs.
    out = {"TimestampRegistry.stamp": chain.transact(registry.functions.stamp(b"\x5a" * 32)).gas_used}
    for n in (1, 100, 1000, 10_000):
        root = MerkleTree([(n * 1_000_000 + i + 1).to_bytes(32, "big") for i in range(n)]).root
        gas = chain.transact(registry.functions.stampBatch(root, n)).gas_used
        out[f"TimestampRegistry.stampBatch @{n}"] = gas
        out[f"TimestampRegistry.stampBatch per leaf @{n}"] = -(-gas // n)  # ceil
    return out


def run_all() -> dict[str, int]:
    artifacts = compile_contracts()
    with Anvil() as node:
        chain = ChainClient(node.url, dev_accounts(1)[0], error_abis=[a.abi for a in artifacts.values()])
        deployment = deploy_suite(chain, artifacts=artifacts)
        results: dict[str, int] = {}
        for fn in MEASURES:
            snapshot = chain.snapshot()
            results.update(fn(chain, deployment, artifacts))
            chain.revert(snapshot)
        chain.close()
    return results


def write_report(results: dict[str, int]) -> None:
    REPORT_JSON.parent.mkdir(exist_ok=True)
    REPORT_JSON.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    lines = ["# Gas report", "", "Measured on Anvil by `scripts/gas_report.py` (deterministic).", "",
             "| operation | gas | target |", "|---|---:|---:|"]
    for name, gas in sorted(results.items()):
        target: Any = TARGETS.get(name, "")
        lines.append(f"| {name} | {gas:,} | {f'≤ {target:,}' if target else ''} |")
    REPORT_MD.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    report = run_all()
    write_report(report)
    for key, value in sorted(report.items()):
        print(f"{key:<55} {value:>10,}")
    failed = [k for k, t in TARGETS.items() if report.get(k, 0) > t]
    if failed:
        print("over target:", ", ".join(failed))
        sys.exit(1)
