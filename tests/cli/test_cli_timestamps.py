"""The `ipledger` command as a user runs it: a real process, the embedded chain, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.client import dev_accounts
from ledger.chain.devchain import Anvil
from tests.cliproc import IPLEDGER, run_ipledger


def run(*args: str, data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), **(env or {})})
    return run_ipledger(args, env=environment)


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_stamp_then_verify_in_separate_processes_exits_zero(tmp_path, data):
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7 results")
    stamped = run("stamp", str(report), "--json", data=data)
    assert stamped.returncode == 0, stamped.stderr
    [cert] = json.loads(stamped.stdout)
    assert Path(str(report) + ".ipledger.json").exists()
    verified = run("verify", str(report), str(report) + ".ipledger.json", data=data)
    assert verified.returncode == 0, verified.stderr
    assert cert["author"] in verified.stdout and f"block {cert['block_number']}" in verified.stdout
    assert cert["tx_hash"] in verified.stdout


def test_stamp_directory_and_many_files_use_one_transaction(tmp_path, data):
    folder = tmp_path / "data-set"
    folder.mkdir()
    for i in range(60):
        (folder / f"{i}.csv").write_text(f"{i},x")
    extra = tmp_path / "notes.txt"
    extra.write_text("notes")
    result = run("stamp", str(folder), str(extra), "--json", data=data)
    assert result.returncode == 0, result.stderr
    certs = json.loads(result.stdout)
    assert len(certs) == 61 and len({c["tx_hash"] for c in certs}) == 1
    assert run("verify", str(folder / "17.csv"), data=data).returncode == 0


def test_stamp_again_never_overwrites_a_certificate_and_every_version_verifies(tmp_path, data):
    """The user's sequence (issue 11, item 17): stamp, stamp again unchanged, change, stamp, verify both."""
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7 version 1")
    first_cert = Path(str(report) + ".ipledger.json")
    [first] = json.loads(run("stamp", str(report), "--json", data=data).stdout)
    written = first_cert.read_bytes()

    again = run("stamp", str(report), data=data)
    assert again.returncode == 0, again.stderr
    assert "Nothing sent" in again.stdout and f"kept: {first_cert} (block {first['block_number']}" in again.stdout
    assert first_cert.read_bytes() == written

    report.write_bytes(b"%PDF-1.7 version 2")
    second_cert = tmp_path / "report.pdf.ipledger.2.json"
    changed = run("stamp", str(report), "--json", data=data)
    assert changed.returncode == 0, changed.stderr
    [second] = json.loads(changed.stdout)
    assert second["certificate_file"] == str(second_cert) and second["kept"] is False
    assert second["block_number"] > first["block_number"]
    assert first_cert.read_bytes() == written  # block 58 is not replaced by block 59

    now = run("verify", str(report), data=data)
    assert now.returncode == 0, now.stderr
    assert f"block {second['block_number']}" in now.stdout and str(second_cert) in now.stdout
    report.write_bytes(b"%PDF-1.7 version 1")
    then = run("verify", str(report), data=data)
    assert then.returncode == 0, then.stderr
    assert f"block {first['block_number']}" in then.stdout
    assert run("verify", str(report), str(first_cert), data=data).returncode == 0
    assert_clean_failure(run("verify", str(report), str(second_cert), data=data), 1, "modified")


def test_a_lost_certificate_comes_back_from_the_archive_instead_of_a_later_stamp(tmp_path, data):
    """A user deletes (or forgets to copy) a certificate and stamps the file again over the days: the earliest
    proof is restored, not replaced; a copy of the file gets it too, and a changed file a new stamp."""
    folder = tmp_path / "lab"
    folder.mkdir()
    notebook, other = folder / "notebook.md", folder / "other.md"
    notebook.write_text("day 1: the compound crystallises")
    other.write_text("unrelated")
    [first, _] = json.loads(run("stamp", str(notebook), str(other), "--json", data=data).stdout)
    cert_path = Path(str(notebook) + ".ipledger.json")
    original = cert_path.read_text()
    cert_path.unlink()
    again = run("stamp", str(notebook), data=data)
    assert again.returncode == 0, again.stderr
    assert "restored from the stamp archive" in again.stdout and "Nothing sent" in again.stdout, again.stdout
    assert cert_path.read_text() == original  # the same proof, byte for byte (block, salt, proof)
    assert run("verify", str(notebook), data=data).returncode == 0
    copy = tmp_path / "copy-of-notebook.md"
    copy.write_bytes(notebook.read_bytes())
    [restored] = json.loads(run("stamp", str(copy), "--json", data=data).stdout)
    assert restored["kept"] and restored["restored"] and restored["block_number"] == first["block_number"]
    assert run("verify", str(copy), data=data).returncode == 0
    notebook.write_text("day 2: it dissolves again")
    Path(str(notebook) + ".ipledger.json").unlink()
    [changed] = json.loads(run("stamp", str(notebook), "--json", data=data).stdout)
    assert not changed["kept"] and changed["block_number"] > first["block_number"]


def test_stamp_folder_twice_keeps_every_certificate_and_stamps_only_changes(tmp_path, data):
    folder = tmp_path / "lab"
    folder.mkdir()
    for name in "abc":
        (folder / f"{name}.csv").write_text(f"{name},1")
    first = json.loads(run("stamp", str(folder), "--json", data=data).stdout)
    assert [c["kept"] for c in first] == [False] * 3
    before = {p.name: p.read_bytes() for p in folder.glob("*.ipledger.json")}
    (folder / "b.csv").write_text("b,2")
    second = run("stamp", str(folder), "--json", data=data)
    assert second.returncode == 0, second.stderr
    entries = {Path(c["file"]).name: c for c in json.loads(second.stdout)}
    assert {n: e["kept"] for n, e in entries.items()} == {"a.csv": True, "b.csv": False, "c.csv": True}
    assert entries["b.csv"]["certificate_file"] == str(folder / "b.csv.ipledger.2.json")
    assert entries["a.csv"]["block_number"] == first[0]["block_number"]
    assert {p.name: p.read_bytes() for p in folder.glob("*.ipledger.json")} == before


def test_stamp_certificate_file_exits_two_unless_asked(tmp_path, data):
    report = tmp_path / "r.txt"
    report.write_text("x")
    assert run("stamp", str(report), data=data).returncode == 0
    cert = str(report) + ".ipledger.json"
    assert_clean_failure(run("stamp", cert, data=data), 2, "is an ipledger certificate")
    assert not Path(cert + ".ipledger.json").exists()
    asked = run("stamp", cert, "--include-certificates", data=data)
    assert asked.returncode == 0, asked.stderr
    assert Path(cert + ".ipledger.json").exists()


def test_verify_folder_prints_a_line_per_file_and_a_summary_and_exits_one_on_any_failure(tmp_path, data):
    folder = tmp_path / "lab"
    folder.mkdir()
    for name in "abc":
        (folder / f"{name}.csv").write_text(f"{name},1")
    assert run("stamp", str(folder), data=data).returncode == 0
    good = run("verify", str(folder), data=data)
    assert good.returncode == 0, good.stderr
    lines = good.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["VALID"] * 3 and lines[-1] == "3 of 3 files verify."
    (folder / "b.csv").write_text("b,tampered")
    (folder / "d.csv").write_text("never stamped")
    bad = run("verify", str(folder), data=data)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stderr
    lines = bad.stdout.strip().splitlines()
    assert f"FAILED {folder / 'b.csv'}: file does not match the certificate" in bad.stdout
    assert f"FAILED {folder / 'd.csv'}: no certificate for {folder / 'd.csv'}" in bad.stdout
    assert lines[-1] == "2 of 4 files verify; 2 fail."
    as_json = run("verify", str(folder), "--json", data=data)
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert (report["valid"], report["count"], report["verified"], report["failed"]) == (False, 4, 2, 2)
    assert {Path(f["file"]).name: bool(f["reason"]) for f in report["files"]} == {
        "a.csv": False, "b.csv": True, "c.csv": False, "d.csv": True}


def test_verify_json_always_prints_the_result_with_the_reason(tmp_path, data):
    report = tmp_path / "r.txt"
    report.write_text("v1")
    assert run("stamp", str(report), data=data).returncode == 0
    ok = run("verify", str(report), "--json", data=data)
    assert ok.returncode == 0 and json.loads(ok.stdout)["valid"] is True and json.loads(ok.stdout)["reason"] is None
    report.write_text("v2")
    failed = run("verify", str(report), "--json", data=data)
    assert failed.returncode == 1, failed.stderr
    result = json.loads(failed.stdout)
    assert result["valid"] is False and "modified" in result["reason"] and result["file"] == str(report)
    assert result["certificate_file"] == str(report) + ".ipledger.json"
    orphan = tmp_path / "never-stamped.txt"
    orphan.write_text("x")
    missing = run("verify", str(orphan), "--json", data=data)
    assert missing.returncode == 2
    assert json.loads(missing.stdout) == {
        "file": str(orphan), "valid": False, "certificate_file": None,
        "reason": f"no certificate for {orphan} (expected {orphan}.ipledger.json)"}


def test_verify_modified_file_exits_one_with_reason(tmp_path, data):
    report = tmp_path / "r.txt"
    report.write_text("v1")
    assert run("stamp", str(report), data=data).returncode == 0
    report.write_text("v2")
    assert_clean_failure(run("verify", str(report), data=data), 1, "modified")


def test_verify_malformed_certificate_exits_two(tmp_path, data):
    report = tmp_path / "r.txt"
    report.write_text("v1")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_clean_failure(run("verify", str(report), str(bad), data=data), 2, "malformed certificate")


def test_stamp_missing_file_exits_two(tmp_path, data):
    assert_clean_failure(run("stamp", str(tmp_path / "nope.pdf"), data=data), 2, "no such file")


def test_stamp_empty_directory_exits_two(tmp_path, data):
    (tmp_path / "empty").mkdir()
    assert_clean_failure(run("stamp", str(tmp_path / "empty"), data=data), 2, "no files to stamp")


def test_stamp_unreadable_file_exits_two(tmp_path, data):
    secret = tmp_path / "secret.pdf"
    if os.geteuid() == 0:
        # root reads any file whatever its mode; /proc/self/mem is a file nobody can read from 0
        secret.symlink_to("/proc/self/mem")
    else:
        secret.write_text("top secret")
        secret.chmod(0o000)
    assert_clean_failure(run("stamp", str(secret), data=data), 2, "cannot read")


def test_bad_rpc_url_exits_three(tmp_path, data):
    report = tmp_path / "r.txt"
    report.write_text("x")
    result = run("stamp", str(report), data=data, env={"IPLEDGER_RPC_URL": "http://127.0.0.1:9"})
    assert_clean_failure(result, 3, "no chain answers at http://127.0.0.1:9")


def test_account_new_and_list_then_stamp_as_that_author(tmp_path, data):
    env = {"IPLEDGER_PASSWORD": "correct horse battery"}
    created = run("account", "new", "alice", "--json", data=data, env=env)
    assert created.returncode == 0, created.stderr
    address = json.loads(created.stdout)["address"]
    keystore = json.loads((data / "keystores" / "alice.json").read_text())
    assert "crypto" in keystore and "correct horse" not in json.dumps(keystore)
    listed = run("account", "list", "--json", data=data)
    assert [a["address"] for a in json.loads(listed.stdout)] == [address]
    report = tmp_path / "r.txt"
    report.write_text("alice's result")
    stamped = run("stamp", str(report), "--json", data=data, env=env)
    assert stamped.returncode == 0, stamped.stderr
    assert json.loads(stamped.stdout)[0]["author"] == address
    wrong = run("stamp", str(report), data=data, env={"IPLEDGER_PASSWORD": "wrong password"})
    assert_clean_failure(wrong, 2, "wrong password")  # bad input, like a mistyped argument


def test_account_new_twice_same_name_exits_two(data):
    env = {"IPLEDGER_PASSWORD": "correct horse battery"}
    assert run("account", "new", "bob", data=data, env=env).returncode == 0
    assert_clean_failure(run("account", "new", "bob", data=data, env=env), 2, "already exists")


def test_deploy_is_idempotent(data):
    first = run("deploy", "--json", data=data)
    second = run("deploy", "--json", data=data)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    manifest_1, manifest_2 = json.loads(first.stdout), json.loads(second.stdout)
    assert manifest_1["contracts"] == manifest_2["contracts"]
    assert manifest_1["chain_id"] == 31337 and "TimestampRegistry" in manifest_1["contracts"]


@pytest.fixture
def running_up(data: Path) -> Iterator[subprocess.Popen[str]]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment["IPLEDGER_DATA_DIR"] = str(data)
    process = subprocess.Popen([IPLEDGER, "up", "--no-api"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=environment)
    deadline = time.monotonic() + 60
    while not (data / "devchain" / "running.json").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "ipledger up did not start"
        time.sleep(0.1)
    yield process
    if process.poll() is None:
        process.kill()


def test_ctrl_c_while_up_is_starting_stops_it_cleanly(data, running_up):
    """Ctrl-C as soon as the chain runs (up is still deploying and starting the indexer): the same clean stop,
    exit 0, the chain's state saved, not an interrupted start-up (exit 130)."""
    running_up.send_signal(signal.SIGINT)
    stdout, stderr = running_up.communicate(timeout=60)
    assert running_up.returncode == 0, stderr
    assert "Stopped; the chain's state is saved." in stdout and "Traceback" not in stderr
    assert not (data / "devchain" / "running.json").exists()


def test_up_serves_chain_to_other_commands_and_keeps_state_after_ctrl_c(tmp_path, data, running_up):
    url = json.loads((data / "devchain" / "running.json").read_text())["url"]
    report = tmp_path / "r.txt"
    report.write_text("while up")
    stamped = run("stamp", str(report), "--json", data=data)
    assert stamped.returncode == 0, stamped.stderr
    running_up.send_signal(signal.SIGINT)
    assert running_up.wait(30) == 0
    assert not (data / "devchain" / "running.json").exists()
    verified = run("verify", str(report), data=data)  # the embedded chain again, from saved state
    assert verified.returncode == 0, verified.stderr
    assert url.startswith("http://127.0.0.1:")


def test_operator_deploy_script_is_idempotent_on_any_rpc_url(tmp_path):
    """scripts/deploy.py against a running chain by URL, twice: the second run deploys nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    fresh = Anvil().start()
    try:
        env.update({"IPLEDGER_RPC_URL": fresh.url, "IPLEDGER_DATA_DIR": str(tmp_path / "ops"),
                    "IPLEDGER_PRIVATE_KEY": dev_accounts(1)[0].key.hex()})
        script = str(Path(__file__).resolve().parents[2] / "scripts" / "deploy.py")
        unnamed = subprocess.run([sys.executable, script, "--production"], capture_output=True, text=True, env=env)
        assert unnamed.returncode == 2 and "IPLEDGER_PUBLIC_URL" in unnamed.stderr  # never a dev URL on chain
        env["IPLEDGER_PUBLIC_URL"] = "https://ip.example.org/"
        first = subprocess.run([sys.executable, script, "--production"], capture_output=True, text=True, env=env)
        second = subprocess.run([sys.executable, script, "--production"], capture_output=True, text=True, env=env)
        assert first.returncode == second.returncode == 0, first.stderr + second.stderr
        assert json.loads(first.stdout)["contracts"] == json.loads(second.stdout)["contracts"]
        assert json.loads(first.stdout)["base_uri"] == "https://ip.example.org/api/v1/tokens/"
        missing = subprocess.run([sys.executable, script], capture_output=True, text=True,
                                 env={k: v for k, v in env.items() if k != "IPLEDGER_RPC_URL"})
        assert missing.returncode == 2 and "IPLEDGER_RPC_URL" in missing.stderr
    finally:
        fresh.stop()


def test_up_serves_api_and_indexes_what_other_commands_write(tmp_path, data):
    import httpx

    from tests.serving import free_port

    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment["IPLEDGER_DATA_DIR"] = str(data)
    process = subprocess.Popen([IPLEDGER, "up", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=environment)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "ipledger up did not serve the API"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        report = tmp_path / "r.txt"
        report.write_text("indexed")
        [cert] = json.loads(run("stamp", str(report), "--json", data=data).stdout)
        record = httpx.get(f"http://127.0.0.1:{port}/api/v1/timestamps/{cert['root']}").json()
        assert record["tx_hash"] == cert["tx_hash"]
        rows: list[dict] = []
        while not rows:
            assert time.monotonic() < deadline, "the indexer did not pick up the stamp"
            history = run("audit", "history", "--event", "Stamped", "--json", data=data)
            assert history.returncode == 0, history.stderr
            rows = [r for r in json.loads(history.stdout) if r["tx_hash"] == cert["tx_hash"]]
            time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_verify_missing_file_says_no_such_file_not_no_certificate(tmp_path, data):
    missing = run("verify", str(tmp_path / "missing.txt"), "--json", data=data)
    assert missing.returncode == 2
    assert json.loads(missing.stdout) == {"file": str(tmp_path / "missing.txt"), "valid": False,
                                          "reason": f"no such file: {tmp_path / 'missing.txt'}",
                                          "certificate_file": None}
