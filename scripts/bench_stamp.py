#!/usr/bin/env python3
"""Stamping benchmark: `ipledger stamp` on 10,000 small files end to end, and SHA-256 MB/s on a 1 GB file.

Writes benchmarks/stamp.json and prints a summary. Loopback only; bounded in size and time.
Usage: .venv/bin/python scripts/bench_stamp.py [--files N] [--gigabytes G]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.timestamps.proofs import file_digest

RESULTS = ROOT / "benchmarks" / "stamp.json"
IPLEDGER = str(Path(sys.executable).with_name("ipledger"))


def bench_files(count: int, work: Path) -> dict[str, float]:
    folder = work / "files"
    folder.mkdir()
    for i in range(count):
        (folder / f"{i:05}.txt").write_text(f"lab notebook page {i}\n" * 8)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    env["IPLEDGER_DATA_DIR"] = str(work / "data")
    subprocess.run([IPLEDGER, "deploy"], env=env, check=True, capture_output=True)  # chain + contracts ready
    start = time.perf_counter()
    subprocess.run([IPLEDGER, "stamp", str(folder), "--json"], env=env, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    written = sum(1 for _ in folder.glob("*.ipledger.json"))
    assert written == count, f"{written} certificates for {count} files"
    return {"files": count, "seconds": round(elapsed, 3), "files_per_second": round(count / elapsed, 1)}


def bench_hash(gigabytes: float, work: Path) -> dict[str, float]:
    path = work / "big.bin"
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for _ in range(int(gigabytes * 1024)):
            fh.write(block)
    size = path.stat().st_size
    start = time.perf_counter()
    file_digest(path)
    elapsed = time.perf_counter() - start
    return {"bytes": size, "seconds": round(elapsed, 3), "mb_per_second": round(size / elapsed / 1e6, 1),
            "note": "file freshly written, so read from the page cache: this is hashing speed, not disk speed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--gigabytes", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ipledger-bench-") as tmp:
        work = Path(tmp)
        results = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "stamp_files_end_to_end": bench_files(args.files, work),
            "sha256_large_file": bench_hash(args.gigabytes, work),
        }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
