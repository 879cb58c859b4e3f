"""What the command line writes and says: exports and documents written whole (or refused, exit 2, with no
partial file), with the mode a shared document gets from the umask; a past maturity refused by the bank check;
unknown parents, outcomes, keys and events named as such."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from ledger.chain.accounts import Keystores
from ledger.errors import ValidationError
from tests.cliproc import IPLEDGER, run_ipledger


def run(*args: str, data: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "COLUMNS": "200"})
    return run_ipledger(args, env=environment, cwd=cwd)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], code: int, sentence: str) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert sentence in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return result.stderr


def umask_mode() -> int:
    """The mode a new file gets here (the forked commands inherit this process's umask)."""
    current = os.umask(0o022)
    os.umask(current)
    return 0o666 & ~current


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with assets 1 and 2 registered and indexed."""
    folder = tmp_path_factory.mktemp("outputs")
    data = folder / "data"
    for n in (1, 2):
        claims = folder / f"claims{n}.pdf"
        claims.write_bytes(f"PDF-1.7 claimed {n} ".encode() * 50)
        ok(run("asset", "register", "--kind", "design", "--file", str(claims), "--title", f"T{n}", data=data))
    ok(run("index", "--once", data=data))
    return data


def test_history_csv_to_a_place_that_cannot_take_it_exits_2_and_leaves_no_file(ledger_dir, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    targets = [(tmp_path / "missing" / "q.csv", "No such file or directory"), (folder, "Is a directory")]
    if Path("/dev/full").exists():
        targets.append((Path("/dev/full"), "not a regular file"))  # renamed onto, it would replace the device
    for target, why in targets:
        refused(run("audit", "history", "--asset", "1", "--csv", str(target), data=ledger_dir), 2,
                f"cannot write {target}: {why}")
    assert not (tmp_path / "missing").exists() and list(folder.iterdir()) == []
    if Path("/dev/full").exists():
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    written = folder / "q.csv"
    assert "wrote 2 rows to" in run("audit", "history", "--asset", "1", "--csv", str(written),
                                    data=ledger_dir).stderr
    lines = written.read_text().splitlines()
    assert lines[0].startswith("chain_id,block_number,") and len(lines) == 3
    assert mode(written) == umask_mode() and [p.name for p in folder.iterdir()] == ["q.csv"]


def test_unknown_event_exits_2_naming_the_known_ones_and_a_known_one_without_rows_exits_0(ledger_dir):
    said = refused(run("audit", "history", "--event", "NoSuchEvent", data=ledger_dir), 2,
                   "unknown event 'NoSuchEvent': use one of")
    assert "AssetRegistered" in said and "PledgeProposed" in said
    refused(run("audit", "history", "--event", "LicenseRegistry.Transfer", data=ledger_dir), 2,
            "LicenseRegistry's events are")
    assert "No events match." in ok(run("audit", "history", "--event", "PledgeProposed", data=ledger_dir))
    assert len(json.loads(ok(run("audit", "history", "--event", "IPRegistry.AssetRegistered", "--json",
                                 data=ledger_dir)))) == 2


def test_check_with_a_past_maturity_exits_2_as_pledge_propose_does(ledger_dir):
    refused(run("check", "1", "--maturity", "2020-01-01", data=ledger_dir), 2,
            "the maturity must be in the future: 2020-01-01 00:00:00 UTC is not after the chain's time")
    ok(run("check", "1", "--maturity", "2099-01-01", data=ledger_dir))


def test_documents_and_certificates_get_the_umask_mode_keystores_stay_private(ledger_dir, tmp_path):
    report = tmp_path / "dd.html"
    ok(run("check", "1", "--html", str(report), "--lang", "en", data=ledger_dir))
    notes = tmp_path / "notes.txt"
    notes.write_text("a result worth stamping\n")
    ok(run("stamp", str(notes), "--pdf", data=ledger_dir))
    certificate, pdf = tmp_path / "notes.txt.ipledger.json", tmp_path / "notes.txt.ipledger.pdf"
    for shared in (report, certificate, pdf):
        assert mode(shared) == umask_mode(), (shared, oct(mode(shared)))
    refused(run("check", "1", "--pdf", str(tmp_path / "nowhere" / "dd.pdf"), data=ledger_dir), 2,
            f"cannot write {tmp_path / 'nowhere' / 'dd.pdf'}: No such file or directory")
    keystore = Keystores(tmp_path / "keys").new("alice", "correct horse battery")
    assert mode(keystore.path) == 0o600


def test_a_parent_that_does_not_exist_is_said_not_to_exist(ledger_dir):
    refused(run("asset", "parent", "1", "99", data=ledger_dir), 1, "asset 99 does not exist")
    refused(run("asset", "parent", "1", "2", data=ledger_dir), 2,
            "asset 2 cannot be the parent of asset 1: a parent is an asset registered before its child")


def test_dispute_resolve_lists_only_the_outcomes_it_accepts(tmp_path):
    said = refused(run("dispute", "resolve", "1", "--outcome", "bogus", data=tmp_path / "data"), 2,
                   "unknown dispute outcome 'bogus': use one of upheld, dismissed, settled, withdrawn")
    assert "open" not in said.replace("bogus", "")
    refused(run("dispute", "resolve", "1", "--outcome", "open", data=tmp_path / "data"), 2,
            "a resolution says how the dispute ended")
    assert not (tmp_path / "data" / "devchain").exists()


@pytest.mark.parametrize("key, says", [
    ("0x" + "00" * 32, "not a valid secp256k1 private key"),
    ("0x" + "ff" * 32, "not a valid secp256k1 private key"),  # above the curve order
    ("0x" + "ab" * 31, "a private key is 32 bytes, 0x and 64 hex digits (got 62 characters)"),
    ("0x" + "zz" * 32, "a private key is 32 bytes, 0x and 64 hex digits"),
])
def test_import_of_what_is_not_a_private_key_says_so_without_echoing_it(tmp_path, key, says):
    with pytest.raises(ValidationError, match=r"not a valid") as refusal:
        Keystores(tmp_path).new("imported", "correct horse battery", key)
    assert says in refusal.value.message and "instead of" not in refusal.value.message
    assert key[2:] not in refusal.value.message
    assert not (tmp_path / "keystores" / "imported.json").exists()


def test_account_new_import_key_of_zero_exits_2(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(tmp_path / "data"), "IPLEDGER_PASSWORD": "correct horse battery"})
    done = subprocess.run([IPLEDGER, "account", "new", "z", "--import-key"], input="0x" + "00" * 32 + "\n",
                          capture_output=True, text=True, env=environment, timeout=120)
    refused(done, 2, "not a valid secp256k1 private key")
