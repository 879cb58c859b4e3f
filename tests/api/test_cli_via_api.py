"""`ipledger stamp|verify --api URL`: the user's key signs locally, the API relays, no ether needed."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from ledger.timestamps.proofs import Certificate
from tests.cliproc import run_ipledger


def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    env.update({"IPLEDGER_DATA_DIR": str(data), "IPLEDGER_PASSWORD": "a long password"})
    return run_ipledger(args, env=env)


def test_stamp_and_verify_through_the_api_with_a_keystore_account(live_api, api_ledger, tmp_path, chain):
    data = tmp_path / "data"
    created = run("account", "new", "inventor", "--json", data=data)
    assert created.returncode == 0, created.stderr
    author = json.loads(created.stdout)["address"]
    files = [tmp_path / "notebook-1.txt", tmp_path / "notebook-2.txt"]
    for i, f in enumerate(files):
        f.write_text(f"page {i}")
    stamped = run("stamp", *map(str, files), "--api", live_api, "--json", data=data)
    assert stamped.returncode == 0, stamped.stderr
    certs = json.loads(stamped.stdout)
    assert {c["author"] for c in certs} == {c["stamper"] for c in certs} == {author}
    assert chain.w3.eth.get_balance(author) == 0  # relayed: the inventor paid no gas
    verified = run("verify", str(files[1]), "--api", live_api, data=data)
    assert verified.returncode == 0, verified.stderr
    assert author in verified.stdout
    api_ledger.timestamps.verify(files[0], Certificate.load(str(files[0]) + ".ipledger.json"))
    files[1].write_text("tampered")
    refused = run("verify", str(files[1]), "--api", live_api, data=data)
    assert refused.returncode == 1 and "modified" in refused.stderr and "Traceback" not in refused.stderr


def test_stamp_through_the_api_again_keeps_the_earlier_certificate(live_api, tmp_path):
    data = tmp_path / "data"
    assert run("account", "new", "inventor", data=data).returncode == 0
    notebook = tmp_path / "notebook.txt"
    notebook.write_text("page 1")
    [first] = json.loads(run("stamp", str(notebook), "--api", live_api, "--json", data=data).stdout)
    written = Path(first["certificate_file"]).read_bytes()
    again = run("stamp", str(notebook), "--api", live_api, "--json", data=data)
    assert again.returncode == 0, again.stderr
    [kept] = json.loads(again.stdout)
    assert kept["kept"] is True and kept["block_number"] == first["block_number"]
    notebook.write_text("page 1, corrected")
    [second] = json.loads(run("stamp", str(notebook), "--api", live_api, "--json", data=data).stdout)
    assert second["certificate_file"] == str(tmp_path / "notebook.txt.ipledger.2.json")
    assert Path(first["certificate_file"]).read_bytes() == written
    verified = run("verify", str(notebook), "--api", live_api, data=data)
    assert verified.returncode == 0 and f"block {second['block_number']}" in verified.stdout, verified.stderr


def test_verify_folder_through_the_api_reports_each_file(live_api, tmp_path):
    data = tmp_path / "data"
    assert run("account", "new", "inventor", data=data).returncode == 0
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for i in range(3):
        (folder / f"page-{i}.txt").write_text(f"page {i}")
    assert run("stamp", str(folder), "--api", live_api, data=data).returncode == 0
    good = run("verify", str(folder), "--api", live_api, "--json", data=data)
    assert good.returncode == 0, good.stderr
    assert (json.loads(good.stdout)["count"], json.loads(good.stdout)["valid"]) == (3, True)
    (folder / "page-1.txt").write_text("torn out")
    bad = run("verify", str(folder), "--api", live_api, data=data)
    assert bad.returncode == 1 and bad.stdout.strip().splitlines()[-1] == "2 of 3 files verify; 1 fails."
    assert f"FAILED {folder / 'page-1.txt'}: file does not match" in bad.stdout


def test_stamp_through_the_api_when_the_chain_clock_is_a_day_ahead(live_api, chain, tmp_path):
    """Deadlines are signed from the chain's clock (``/chain``'s ``head_time``) when it is ahead of ours:
    from the wall clock alone the forwarder would find every request a day past its deadline. (The move
    of time is undone with the rest of the chain after the test.)"""
    data = tmp_path / "data"
    assert run("account", "new", "inventor", data=data).returncode == 0
    chain.increase_time(86_400)  # evm_increaseTime and a block at the new time (the API's client, which reads it anew)
    notebook = tmp_path / "notebook.txt"
    notebook.write_text("page 1, a day later")
    stamped = run("stamp", str(notebook), "--api", live_api, "--json", data=data)
    assert stamped.returncode == 0, stamped.stderr
    [cert] = json.loads(stamped.stdout)
    assert cert["block_time"] >= time.time() + 86_000
    assert run("verify", str(notebook), "--api", live_api, data=data).returncode == 0
