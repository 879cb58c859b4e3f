"""The embedded chain over days of ordinary use: each command starts and stops it on the same data folder,
and the index, the audit and the chain still agree; `ipledger up` supervises its chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

IPLEDGER = str(Path(sys.executable).with_name("ipledger"))


def run(*args: str, data: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "COLUMNS": "200"})
    return subprocess.run([IPLEDGER, *args], capture_output=True, text=True, env=environment, timeout=timeout)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    made = []
    for i in range(3):
        path = tmp_path / f"result-{i}.txt"
        path.write_text(f"measurement {i}")
        made.append(path)
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"%PDF-1.7 claims")
    made.append(claims)
    return made


def test_many_commands_restarting_embedded_chain_then_index_and_audit_agree(tmp_path, files):
    data = tmp_path / "data"
    first, second, third, claims = files
    ok(run("stamp", str(first), data=data))
    ok(run("verify", str(first), data=data))
    ok(run("asset", "register", "--kind", "invention-patent", "--ref", "CN202010123456.7", "--file", str(claims),
           "--title", "A method", data=data))
    ok(run("stamp", str(second), data=data))
    ok(run("asset", "show", "1", data=data))
    ok(run("verify", str(second), data=data))
    ok(run("asset", "list", data=data))
    ok(run("stamp", str(third), data=data))
    ok(run("verify", str(first), data=data))
    ok(run("reconcile", data=data))
    state = json.loads((data / "devchain" / "state.json").read_text())
    assert [int(b["header"]["number"], 16) for b in state["blocks"]].count(0) == 1, "one genesis, not one per start"
    indexed = json.loads(ok(run("index", "--once", "--json", data=data, timeout=60)))
    assert indexed["reorgs"] == [] and indexed["events"] > 0
    history = json.loads(ok(run("audit", "history", "--json", data=data)))
    assert [r["event"] for r in history].count("Stamped") == 3
    assert "AssetRegistered" in {r["event"] for r in history}
    verified = json.loads(ok(run("audit", "verify", "--json", data=data)))
    assert verified["ok"] is True and verified["events_in_db"] == len(history) == verified["events_on_chain"]
    assert verified["unindexed_events"] == 0
