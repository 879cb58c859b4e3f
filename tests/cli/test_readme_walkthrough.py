"""The README's registry walkthrough, run exactly as written: a new user copies the block into a shell,
with a fresh data folder and the embedded chain. The block is read from the README itself, so the
README cannot drift from what works."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.settings import PROJECT_ROOT

MARKER = "<!-- walkthrough:registry -->"


def walkthrough() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    found = re.search(re.escape(MARKER) + r"\n```sh\n(.*?)\n```\n", readme, re.DOTALL)
    assert found, f"the README lost its walkthrough block (after {MARKER})"
    return found.group(1)


def shell(script: str, cwd: Path, data: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in bash as a user would, ``ipledger`` being this checkout's command."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"})
    prelude = f'ipledger() {{ "{sys.executable}" -m ledger.cli.main "$@"; }}\nset -euo pipefail -x\n'
    return subprocess.run(["bash", "-c", prelude + script], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=900)


@pytest.mark.timeout(900)  # some thirty commands, each a new process that opens the embedded chain
def test_readme_registry_walkthrough_runs_as_written_on_a_fresh_data_folder(tmp_path):
    data, work = tmp_path / "data", tmp_path / "work"
    work.mkdir()
    script = walkthrough()
    commands = "\n".join(line.split(" #")[0] for line in script.splitlines() if not line.startswith("#"))
    assert not re.search(r"0x[A-Z_]+\b|\[--", commands), "a placeholder to fill in by hand"
    done = shell(script, work, data)
    assert done.returncode == 0, f"the walkthrough stopped:\n{done.stderr[-3000:]}\n{done.stdout[-2000:]}"
    assert "Traceback" not in done.stderr
    assert "500,000" in done.stdout and "5,000,000 CNY" in done.stdout  # amounts as people read them

    # where it leaves the ledger: the bank was accredited, the asset sold under the bank's consent,
    # the license recorded, the pledge released
    def read(*args: str) -> dict:
        result = shell("export IPLEDGER_PASSWORD='a long passphrase'\nipledger " + " ".join(args) + " --json", work,
                       data)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    names = {a["name"]: a["address"] for a in json.loads(shell("ipledger account list --json", work, data).stdout)}
    asset = read("asset", "show", "CN202010123456.7")
    # the sale cleared the registrar's mark: the official register still names the old owner
    assert (asset["owner"], asset["status"], asset["verified"]) == (names["buyer"], "granted", False)
    pledge = read("pledge", "show", "1")
    assert (pledge["status"], pledge["pledgee"], pledge["principal"], pledge["currency"]) == (
        "released", names["bank"], 5_000_000, "CNY")
    assert read("license", "show", "1")["recordal_no"] == "2026990000123"
    assert "pledgee" in read("role", "show", names["bank"])["roles"]
