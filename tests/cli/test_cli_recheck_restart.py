"""A due-diligence report re-checked after the embedded chain restarted from its saved state.

Anvil loaded with ``--load-state`` keeps the state of its head only: an ``eth_call`` at the report's
block answers "BlockOutOfRangeError", as a pruning node answers "missing trie node". A genuine report
must then not read as altered (exit 1): it is "not re-checked" (exit 3, ``status: unverifiable``), after
what needs no state (the block's hash and time, the asset's events from the logs) was compared, and a
report altered in those still fails with exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.abi import lacks_history
from ledger.documents.due_diligence import ATTACHMENT
from ledger.documents.pdf import attachment
from tests.cli.test_cli_devchain import ok, run


@pytest.mark.parametrize("message, missing", [
    ("BlockOutOfRangeError: block height is 92 but requested was 45", True),
    ("missing trie node 4bb6b9c0c1c3d0b8e1e63c0d7f2c4a4f2e2e0a0c (path ) <nil>", True),
    ("header not found", True),
    ("historical state 0xabc is not available", True),
    ("execution reverted", False),
    ("insufficient funds for gas * price + value", False),
])
def test_node_wordings_of_missing_history_are_recognised(message: str, missing: bool) -> None:
    assert lacks_history({"code": -32000, "message": message}) is missing


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_genuine_report_after_the_embedded_chain_restarted_is_not_called_altered(tmp_path: Path) -> None:
    data = tmp_path / "data"
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"%PDF-1.7 claims")
    ok(run("asset", "register", "--kind", "invention-patent", "--ref", "CN202010123456.7", "--file", str(claims),
           "--title", "A method", data=data))
    pdf = tmp_path / "dd.pdf"
    ok(run("check", "1", "--maturity", "2030-06-30", "--pdf", str(pdf), "--lang", "en", data=data))
    assert json.loads(ok(run("recheck", str(pdf), "--json", data=data)))["ok"] is True  # its block is the head
    later = tmp_path / "later.txt"
    later.write_text("a later block")
    ok(run("stamp", str(later), data=data))  # the head moves on; every command restarts the chain from its state

    done = run("recheck", str(pdf), "--json", data=data)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    answer = json.loads(done.stdout)
    report = json.loads(attachment(pdf.read_bytes(), ATTACHMENT))
    assert answer["status"] == "unverifiable" and answer["ok"] is False and answer["differences"] == []
    assert f"no state of block {report['block_number']}" in answer["reason"] and "archive node" in answer["reason"]
    assert len(answer["checked"]) == 2  # the block's hash and time, and the events (a reloaded Anvil keeps logs)
    plain = run("recheck", str(pdf), data=data)
    assert plain.returncode == 3 and "ALTERED" not in plain.stdout and "archive node" in plain.stdout

    # what can still be compared still catches an altered report
    hidden = {**report, "history": report["history"][1:]}
    done = run("recheck", str(_write(tmp_path / "hidden.json", hidden)), data=data)
    assert done.returncode == 1 and "ALTERED" in done.stdout and "history" in done.stdout, done.stdout
    moved = {**report, "block_hash": "0x" + "11" * 32}
    done = run("recheck", str(_write(tmp_path / "moved.json", moved)), "--json", data=data)
    assert done.returncode == 1 and json.loads(done.stdout)["status"] == "altered"
    future = {**report, "block_number": report["block_number"] + 1000}
    done = run("recheck", str(_write(tmp_path / "future.json", future)), "--json", data=data)
    assert done.returncode == 1 and "latest block" in json.loads(done.stdout)["differences"][0]
    other = {**report, "chain_id": 1}
    assert run("recheck", str(_write(tmp_path / "other.json", other)), data=data).returncode == 1
