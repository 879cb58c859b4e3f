"""`ipledger index` and `ipledger audit` as a user runs them: exit codes, no tracebacks.

Most commands run in-process through the console entry point (``ledger.cli.main``, the same
error-to-exit-code mapping); following the chain until Ctrl-C and the PostgreSQL smoke test run
as real processes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from ledger.audit.queries import HistoryRow, read_csv
from tests.cliproc import IPLEDGER, run_ipledger


@pytest.fixture
def env(tmp_path, anvil, deployment, db_url) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    manifest = data / "deployments" / f"{deployment.chain_id}.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(deployment.model_dump_json())
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "IPLEDGER_RPC_URL": anvil.url, "IPLEDGER_DB_URL": db_url})
    return environment


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A real ``ipledger`` process."""
    return run_ipledger(args, env=env)


@pytest.fixture
def cli(env, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """Run ``ipledger ARGS`` in this process through ``main()``; returns (exit code, stdout, stderr)."""
    from ledger.cli import main as cli_module
    from ledger.settings import get_settings

    for key in [k for k in os.environ if k.startswith("IPLEDGER_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("IPLEDGER_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()

    def invoke(*args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
        for key, value in overrides.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        monkeypatch.setattr(sys, "argv", ["ipledger", *args])
        code = 0
        try:
            cli_module.main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            for key in overrides:
                monkeypatch.setenv(key, env[key])
            get_settings.cache_clear()
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(["ipledger", *args], code, captured.out, captured.err)

    yield invoke
    get_settings.cache_clear()


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_index_once_then_history_exports_totals_and_verify(cli, chain, contract, accounts, tmp_path):
    registry = contract("TimestampRegistry")
    for sender in (accounts[0], accounts[1]):
        chain.transact(registry.functions.stamp(os.urandom(32)), sender=sender)
    report = json.loads(ok(cli("index", "--once", "--json")).stdout)
    assert report["events"] >= 2 and report["end_block"] == chain.head().number
    stamped = json.loads(ok(cli("audit", "history", "--event", "Stamped", "--json")).stdout)
    assert [r["args"]["stamper"] for r in stamped] == [accounts[0].address, accounts[1].address]
    assert all({"block_number", "block_time", "tx_hash"} <= set(r) for r in stamped)
    export = tmp_path / "alice.csv"
    ok(cli("audit", "history", "--account", accounts[1].address, "--event", "Stamped", "--csv", str(export)))
    with open(export, newline="") as fh:
        assert read_csv(fh) == [HistoryRow.from_json(stamped[1])]
    table = ok(cli("audit", "history", "--event", "Stamped", "--limit", "1")).stdout
    assert "More: --after" in table
    totals = json.loads(ok(cli("audit", "totals", "--json")).stdout)
    assert {"contract": "TimestampRegistry", "event": "Stamped", "count": 2} in totals["by_event"]
    verified = json.loads(ok(cli("audit", "verify", "--json")).stdout)
    assert verified["ok"] is True and verified["events_on_chain"] == totals["events"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_index_and_totals_on_postgresql_by_url(env, chain, contract):
    chain.transact(contract("TimestampRegistry").functions.stamp(os.urandom(32)))
    assert json.loads(ok(run(env, "index", "--once", "--json")).stdout)["events"] >= 1
    totals = json.loads(ok(run(env, "audit", "totals", "--json")).stdout)
    assert {"contract": "TimestampRegistry", "event": "Stamped", "count": 1} in totals["by_event"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_audit_verify_exits_1_and_names_the_difference(cli, env, chain, contract):
    chain.transact(contract("TimestampRegistry").functions.stamp(os.urandom(32)))
    ok(cli("index", "--once"))
    database = env["IPLEDGER_DB_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("delete from event_accounts")
        connection.execute("delete from events where event = 'Stamped'")
    result = cli("audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIFFERS" in result.stdout and "missing:" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_index_runs_until_ctrl_c_then_stops_cleanly(env, chain, contract):
    process = subprocess.Popen([IPLEDGER, "index", "--poll", "0.1"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = env["IPLEDGER_DB_URL"].removeprefix("sqlite:///")
    try:
        [block] = [chain.transact(contract("TimestampRegistry").functions.stamp(os.urandom(32))).block_number]
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            try:
                with sqlite3.connect(database) as connection:
                    row = connection.execute("select block_number from indexer_cursor").fetchone()
            except sqlite3.OperationalError:
                row = None
            if row and row[0] >= block:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, (stdout, stderr)
    assert "Stopped" in stdout and "Traceback" not in stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_audit_bad_input_empty_index_and_no_chain_exit_codes(cli):
    results = [
        (cli("audit", "history", "--account", "nobody"), 2, "not an account address"),
        (cli("audit", "history", "--asset", "1"), 1, "run `ipledger index`"),
        (cli("audit", "history", "--since", "last tuesday"), 2, "not a time"),
        (cli("index", "--once", IPLEDGER_RPC_URL="http://127.0.0.1:9"), 3, "no chain answers"),
        (cli("audit", "totals", IPLEDGER_DB_URL="nosuchdb://x/y"), 2, "no database driver"),
    ]
    for result, code, message in results:
        assert result.returncode == code, (result.args, result.stdout, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
