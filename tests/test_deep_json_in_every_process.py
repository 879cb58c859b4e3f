"""Deeply nested JSON outside the API's guard: every ipledger process parses it to an error, never a segfault.

py_ecc (through eth-account and web3) raises Python's recursion limit to 100000, and CPython 3.11's C JSON
parser then overflowed the C stack on ~200 KB of brackets; ``ledger/__init__.py`` puts the limit back. Each
check runs in a fresh interpreter: a regression kills that process, not the test run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cliproc import IPLEDGER

ROOT = Path(__file__).resolve().parents[1]
DEEP = "[" * 100_000 + "]" * 100_000

PARSE_IN_A_THREAD = """
import json, sys, threading
{imports}
outcome = []
def parse():
    try:
        json.loads(sys.argv[1] * 100000 + sys.argv[2] * 100000)
    except RecursionError:
        outcome.append("RecursionError")
thread = threading.Thread(target=parse)
thread.start(); thread.join()
print(sys.getrecursionlimit(), *outcome)
"""


@pytest.mark.parametrize("imports", [
    "import ledger.cli.main",  # the CLI, `ipledger up` and `serve`
    "import api.main",  # uvicorn api.main:app
    "import eth_account, web3, py_ecc, ledger",  # py_ecc first: ledger puts the limit back all the same
])
def test_every_entry_point_parses_deep_json_to_a_recursion_error_in_any_thread(imports):
    done = subprocess.run([sys.executable, "-c", PARSE_IN_A_THREAD.format(imports=imports), "[", "]"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode} (-11: segfault)\n{done.stderr[-2000:]}"
    assert done.stdout.split() == ["1000", "RecursionError"]


@pytest.mark.parametrize("command", [["verify", "file.txt", "deep.json"], ["recheck", "deep.json"]])
def test_the_cli_given_a_deeply_nested_json_file_exits_2_with_a_message(tmp_path, command):
    (tmp_path / "file.txt").write_text("stamped\n")
    (tmp_path / "deep.json").write_text(DEEP)
    done = subprocess.run([IPLEDGER, *command], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "IPLEDGER_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2, f"exit {done.returncode} (-11: segfault)\n{done.stderr[-2000:]}"
    assert "error:" in done.stderr and "deep.json" in done.stderr and "Traceback" not in done.stderr + done.stdout
