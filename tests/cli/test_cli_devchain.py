"""The embedded chain over days of ordinary use: each command starts and stops it on the same data folder,
and the index, the audit and the chain still agree; `ipledger up` supervises its chain."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.chain.devchain import rpc_call
from tests.cliproc import IPLEDGER, run_ipledger


def run(*args: str, data: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "COLUMNS": "200"})
    return run_ipledger(args, env=environment, timeout=timeout)


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


# -- `ipledger up` supervises its chain ---------------------------------------------------------


class Up:
    """``ipledger up --no-api`` as a real process, its output collected line by line."""

    def __init__(self, data: Path, **env: str) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
        environment.update({"IPLEDGER_DATA_DIR": str(data), "COLUMNS": "200", **env})
        self.data = data
        self.process = subprocess.Popen([IPLEDGER, "up", "--no-api"], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=environment)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("Running", 180)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> float:
        """Seconds until ``text`` appeared in the output (fails after ``timeout``)."""
        started = time.monotonic()
        while text not in self.output:
            assert time.monotonic() - started < timeout, f"no {text!r} within {timeout} s:\n{self.output}"
            assert self.process.poll() is None or text in self.output, f"up exited:\n{self.output}"
            time.sleep(0.05)
        return time.monotonic() - started

    def registration(self) -> dict:  # type: ignore[type-arg]
        return json.loads((self.data / "devchain" / "running.json").read_text())

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Callable[..., Up]]:
    started: list[Up] = []

    def start(**env: str) -> Up:
        started.append(Up(tmp_path / "data", **env))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"


def test_up_restarts_killed_chain_and_resends_what_it_lost(up, tmp_path, files):
    node = up(IPLEDGER_ANVIL_STATE_INTERVAL="3600")  # no dump before the kill: it loses every block
    data = node.data
    first = files[0]
    [certificate] = json.loads(ok(run("stamp", str(first), "--json", data=data)))
    killed = node.registration()
    os.kill(killed["pid"], signal.SIGKILL)
    assert node.wait_for("started it again", 10) < 10
    assert node.wait_for("journaled transactions re-sent", 60)
    again = node.registration()
    assert again["url"] == killed["url"] and again["pid"] != killed["pid"] and alive(again["pid"])
    receipt = rpc_call(again["url"], "eth_getTransactionReceipt", [certificate["tx_hash"]])
    assert isinstance(receipt, dict) and receipt["status"] == "0x1", "the journaled stamp was lost"
    started = time.monotonic()
    assert "VALID" in ok(run("verify", str(first), data=data))
    assert time.monotonic() - started < 30
    assert node.stop() == 0


def test_command_while_up_cannot_restart_its_chain_says_down_within_seconds(up, tmp_path):
    node = up()
    registered = node.registration()
    node.process.send_signal(signal.SIGSTOP)  # `up` alive but not supervising: its chain stays dead
    os.kill(registered["pid"], signal.SIGKILL)
    started = time.monotonic()
    result = run("asset", "list", data=node.data)
    # DOWN_GRACE_SECONDS (8 s) and the command's start, well before the chain lock's 60 s "busy" timeout;
    # a loaded 2-core machine once took 23 s, so the bound leaves room
    assert time.monotonic() - started < 40
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "is down" in result.stderr and "busy" not in result.stderr and "Traceback" not in result.stderr
    node.process.send_signal(signal.SIGCONT)
    node.wait_for("started it again", 10)
    ok(run("asset", "list", data=node.data))


def test_command_after_up_died_clears_registration_and_runs_its_own_chain(up, tmp_path):
    node = up()
    registered = node.registration()
    node.process.kill()  # `up` gone, its Anvil orphaned, the registration left behind
    node.process.wait()
    assert alive(registered["pid"])
    started = time.monotonic()
    ok(run("asset", "list", data=node.data))
    assert time.monotonic() - started < 30
    assert not alive(registered["pid"]), "the orphaned Anvil must not keep writing the state file"
    assert not (node.data / "devchain" / "running.json").exists()


def test_up_whose_chain_will_not_start_again_stops_with_the_reason(up, tmp_path):
    node = up()
    registered = node.registration()
    node.process.send_signal(signal.SIGSTOP)
    os.kill(registered["pid"], signal.SIGKILL)
    time.sleep(0.2)
    (node.data / "devchain" / "state.json").write_text("{ not a state")
    (node.data / "devchain" / "state.dump.json").write_text('{"block": {"number": "0x')  # its dump: cut short
    node.process.send_signal(signal.SIGCONT)
    assert node.process.wait(60) == 3
    assert "did not start again" in node.output and "Traceback" not in node.output
    assert not (node.data / "devchain" / "running.json").exists()


def test_up_whose_api_port_is_taken_stops_with_the_reason_instead_of_claiming_it(tmp_path):
    """Another process on the port: `up` must not print "API on ..." and run on, while clients reach the
    other process (another chain); it stops, naming the port, and saves its chain."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
        environment.update({"IPLEDGER_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"})
        done = subprocess.run([IPLEDGER, "up", "--no-index", "--port", str(port)], capture_output=True, text=True,
                              env=environment, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert f"127.0.0.1:{port}" in output and "in use" in output and "--port" in output
    assert "Running" not in output and "Traceback" not in output
    assert not (tmp_path / "data" / "devchain" / "running.json").exists()
