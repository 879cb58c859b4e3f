"""`ipledger asset|license|pledge|role|check` as a user runs them: real processes, the embedded chain."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from ledger.registry.metadata import MetadataStore
from tests.cliproc import run_ipledger

BANK = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


def run(*args: str, data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(data), "COLUMNS": "200", **(env or {})})
    return run_ipledger(args, env=environment)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], code: int, sentence: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def claims(tmp_path: Path) -> Path:
    path = tmp_path / "claims.pdf"
    path.write_bytes(b"%PDF-1.7 what is claimed is " * 100)
    return path


def test_register_show_and_check_in_separate_processes(tmp_path, claims):
    data = tmp_path / "data"
    registered = json.loads(ok(run(
        "asset", "register", "--kind", "invention-patent", "--ref", "CN202010123456.7", "--file", str(claims),
        "--title", "A method of pledging patents", "--meta", "inventors=Li Wei", "--json", data=data)))
    asset_id = registered["asset_id"]
    assert registered["content_hash"] == "0x" + hashlib.sha256(claims.read_bytes()).hexdigest()
    database = create_engine(f"sqlite:///{data / 'index.sqlite3'}")  # the document is in the shared database
    assert MetadataStore(database).get(registered["metadata_hash"])["title"] == "A method of pledging patents"
    database.dispose()
    shown = ok(run("asset", "show", "CN202010123456.7", data=data))
    assert "A method of pledging patents" in shown and "CN202010123456.7" in shown
    assert registered["tx_hash"] in shown
    report = json.loads(ok(run("check", str(asset_id), "--maturity", "2030-06-30", "--json", data=data)))
    assert (report["asset_id"], report["ref"], report["kind"], report["legal_status"]) == (
        asset_id, "CN202010123456.7", "invention-patent", "filed")
    assert report["title"] == "A method of pledging patents" and report["pledge"] is None
    assert [f["code"] for f in report["red_flags"]] == ["unverified"] and report["round_trips"] == 1
    assert [e["event"] for e in report["history"]] == ["Transfer", "AssetRegistered"]
    assert report["history"][1]["tx_hash"] == registered["tx_hash"]


def test_forbidden_acts_print_their_sentence_and_exit_one(tmp_path, claims):
    data = tmp_path / "data"
    ok(run("asset", "register", "--kind", "design", "--file", str(claims), "--title", "T", data=data))
    refused(run("asset", "register", "--kind", "design", "--file", str(claims), "--title", "T", data=data),
            1, "is already registered as asset 1")
    refused(run("pledge", "propose", "1", "--to", BANK, "--principal", "1000000", "--maturity", "2030-06-30",
                data=data), 1, f"{BANK} does not hold the role pledgee (PLEDGEE_ROLE) needed for this act")
    password = {"IPLEDGER_PASSWORD": "correct horse battery"}
    ok(run("account", "new", "clerk", data=data, env=password))
    refused(run("--account", "clerk", "asset", "verify", "1", data=data, env=password),
            1, "does not hold the role registrar (REGISTRAR_ROLE) needed for this act")


@pytest.mark.parametrize("args, message", [
    (("asset", "register", "--kind", "patent", "--file", "{claims}", "--title", "T"), "unknown asset kind 'patent'"),
    (("asset", "register", "--kind", "design", "--ref", "CN 2020/专利", "--file", "{claims}", "--title", "T"),
     "is not valid"),
    (("check", "1", "--maturity", "2027-02-30"), "is not a date"),
])
def test_bad_kind_ref_or_date_exits_two_before_touching_the_chain(tmp_path, claims, args, message):
    data = tmp_path / "data"
    refused(run(*(a.replace("{claims}", str(claims)) for a in args), data=data), 2, message)
    assert not (data / "devchain").exists()


BANK_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"  # Anvil's account 4 (BANK)
LICENSEE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def test_pledge_accept_names_its_check_consents_bind_terms_and_the_registrar_unbinds_a_ref(tmp_path, claims):
    """Issue 11 from the command line: canonical codes, the bank's accept on its check, consents to terms
    that can be withdrawn, and the registrar freeing a squatted official number."""
    data = tmp_path / "data"
    bank = {"IPLEDGER_PRIVATE_KEY": BANK_KEY}
    ok(run("asset", "register", "--kind", "invention-patent", "--ref", "CN202010123456.7", "--file", str(claims),
           "--title", "T", data=data))
    ok(run("role", "grant", "pledgee", BANK, data=data))
    offered = json.loads(ok(run("license", "offer", "1", "--to", LICENSEE, "--kind", "exclusive", "--end", "2031-01-01",
                                "--territory", "China", "--field", "h04l", "--json", data=data)))
    assert json.loads(ok(run("license", "show", str(offered["licenseId"]), "--json", data=data)))["territory"] == "CN"
    refused(run("license", "offer", "1", "--to", LICENSEE, "--kind", "sole", "--end", "2031-01-01",
                "--territory", "Narnia", data=data), 2, "the territory 'Narnia' is not a country")
    ok(run("pledge", "propose", "1", "--to", BANK, "--principal", "1000000", "--maturity", "2030-06-30", data=data))
    refused(run("pledge", "accept", "1", "--encumbrance-version", "0", data=data, env=bank), 1,
            "changed since your check (version 0, now 1)")
    accepted = json.loads(ok(run("pledge", "accept", "1", "--json", data=data, env=bank)))
    assert accepted["encumbrance_version"] == 1
    assert "exclusively_offered" in [f["code"] for f in accepted["red_flags"]]
    consent = json.loads(ok(run("pledge", "consent-license", "1", str(offered["licenseId"]), "--json", data=data,
                                env=bank)))["consent_id"]
    ok(run("pledge", "withdraw-consent", "1", consent, data=data, env=bank))
    refused(run("pledge", "withdraw-consent", "1", consent, data=data, env=bank), 1, "no unused license consent")
    ok(run("asset", "unbind-ref", "cn202010123456.7", data=data))
    report = json.loads(ok(run("check", "1", "--json", data=data)))
    assert "holder_disputed" in [f["code"] for f in report["red_flags"]]
    refused(run("check", "CN202010123456.7", data=data), 1, "no asset is registered with the official number")
