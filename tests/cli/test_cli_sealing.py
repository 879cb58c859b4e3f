"""`ipledger keys`, `seal` and `unseal` as a user runs them: in process, on the session's Anvil (each command a
few tenths of a second, where a process on the embedded chain takes seconds)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ledger.chain.deployment import manifest_path
from ledger.files import write_json_atomic
from tests.cli.conftest import Run


@pytest.fixture
def run(cli, anvil, chain, deployment, data_dir: Path):  # type: ignore[no-untyped-def]
    write_json_atomic(manifest_path(data_dir, chain.chain_id), deployment.model_dump())

    def command(*args: str, data: Path | None = None) -> Run:
        acting = () if args[0] == "--dev-account" else ("--dev-account", "0")  # the owner by default
        return cli(*acting, *args, env={"IPLEDGER_RPC_URL": anvil.url})

    return command


def ok(result: Run) -> str:
    assert result.code == 0, (result.code, result.out, result.err)
    return result.out


def refused(result: Run, code: int, sentence: str) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    assert sentence in " ".join(result.err.split())
    assert "Traceback" not in result.err + result.out

OWNER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # Anvil's development account 0
BANK = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # development account 1


def test_keys_seal_and_unseal_journey_with_each_refusal_as_an_exit_code(run, tmp_path: Path):
    data = tmp_path / "data"
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"%PDF full claims " + os.urandom(300_000))
    published = json.loads(ok(run("keys", "publish", "--json", data=data)))
    assert (published["address"], published["version"], published["revoked"]) == (OWNER, 1, False)
    ok(run("--dev-account", "1", "keys", "publish", data=data))
    shown = json.loads(ok(run("keys", "show", BANK, "--json", data=data)))
    assert shown["version"] == 1 and len(bytes.fromhex(shown["hybrid"][2:])) == 1216
    asset = json.loads(ok(run("asset", "register", "--kind", "invention-patent", "--file", str(claims),
                              "--title", "Claims",                              "--json", data=data)))
    sealed = tmp_path / "claims.sealed"
    made = json.loads(ok(run("seal", str(claims), "--to", BANK, "--to", OWNER, "--pq", "-o", str(sealed), "--json",
                             data=data)))
    assert [r["address"] for r in made["recipients"]] == [BANK, OWNER]
    opened = tmp_path / "opened.pdf"
    said = ok(run("--dev-account", "1", "unseal", str(sealed), "-o", str(opened), data=data))
    assert f"asset {asset['asset_id']}'s content hash" in said and opened.read_bytes() == claims.read_bytes()

    stranger = tmp_path / "stranger.pdf"
    refused(run("--dev-account", "2", "unseal", str(sealed), "-o", str(stranger), data=data), 1,
            "is not a recipient of this sealed file")
    data_bytes = bytearray(sealed.read_bytes())
    data_bytes[-100] ^= 1
    tampered = tmp_path / "tampered.sealed"
    tampered.write_bytes(bytes(data_bytes))
    refused(run("--dev-account", "1", "unseal", str(tampered), "-o", str(stranger), data=data), 1,
            "does not authenticate")
    other = tmp_path / "draft.pdf"
    other.write_bytes(b"not on the ledger")
    ok(run("seal", str(other), "--to", BANK, "-o", str(tmp_path / "draft.sealed"), data=data))
    refused(run("--dev-account", "1", "unseal", str(tmp_path / "draft.sealed"), "-o", str(stranger), data=data), 1,
            "is not recorded on this ledger")
    assert not stranger.exists()
    ok(run("stamp", str(other)))  # a stamp is found with its certificate (author and salt)
    said = ok(run("--dev-account", "1", "unseal", str(tmp_path / "draft.sealed"), "-o", str(stranger),
                  "--certificate", str(other) + ".ipledger.json"))
    assert f"stamped by {OWNER}" in said and stranger.read_bytes() == other.read_bytes()

    ok(run("--dev-account", "1", "keys", "revoke", data=data))
    refused(run("seal", str(claims), "--to", BANK, "-o", str(tmp_path / "again.sealed"), data=data), 1,
            "is revoked")
    refused(run("seal", str(claims), "--to", "0x" + "12" * 20, data=data), 1, "has published no encryption key")
    rotated = json.loads(ok(run("--dev-account", "1", "keys", "rotate", "--json", data=data)))
    assert rotated["version"] == 2


def test_pledge_contract_and_asset_document_are_sealed_and_disclosed_later(run, tmp_path: Path):
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"%PDF claims " + os.urandom(50_000))
    loan = tmp_path / "loan.pdf"
    loan.write_bytes(b"%PDF loan contract " + os.urandom(50_000))
    ok(run("role", "grant", "pledgee", BANK))
    ok(run("asset", "register", "--kind", "invention-patent", "--file", str(claims), "--title", "C"))
    ok(run("keys", "publish"))
    ok(run("--dev-account", "1", "keys", "publish"))
    proposed = json.loads(ok(run("pledge", "propose", "1", "--to", BANK, "--principal", "1000000",
                                 "--maturity", "2031-06-30", "--contract-file", str(loan), "--json")))
    assert proposed["sealed_file"] == str(loan) + ".sealed"
    said = ok(run("--dev-account", "1", "unseal", proposed["sealed_file"], "-o", str(tmp_path / "bank-loan.pdf")))
    assert f"pledge {proposed['pledgeId']}'s loan contract" in said
    assert (tmp_path / "bank-loan.pdf").read_bytes() == loan.read_bytes()

    auditor = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # development account 3
    refused(run("--dev-account", "3", "unseal", proposed["sealed_file"], "-o", str(tmp_path / "a.pdf")), 1,
            "is not a recipient")
    ok(run("--dev-account", "3", "keys", "publish"))
    disclosed = json.loads(ok(run("disclose", proposed["sealed_file"], "--to", auditor, "--json")))
    assert disclosed["recipients_added"] == [auditor] and disclosed["tx_hash"].startswith("0x")
    ok(run("--dev-account", "3", "unseal", proposed["sealed_file"], "-o", str(tmp_path / "a.pdf")))
    assert (tmp_path / "a.pdf").read_bytes() == loan.read_bytes()


def test_unseal_and_disclose_with_wrong_inputs_refused_with_what_to_do(run, tmp_path: Path):
    """A reviewer's findings: sealing again overwrote a file `disclose` had added recipients to; a stranger was
    told the document is not on the ledger (not that it is not theirs); a missing sealed file exited 1 (bad
    input is 2); disclosing twice to one key added a second entry and a second on-chain record; a malformed
    sealed id through --api printed a pydantic pattern."""
    ok(run("keys", "publish"))
    ok(run("--dev-account", "1", "keys", "publish"))
    draft = tmp_path / "draft.pdf"
    draft.write_bytes(b"never on the ledger " + os.urandom(64))
    sealed = tmp_path / "draft.sealed"
    ok(run("seal", str(draft), "--to", OWNER, "-o", str(sealed)))
    out = tmp_path / "out.pdf"
    refused(run("--dev-account", "2", "unseal", str(sealed), "-o", str(out)), 1, "is not a recipient of this sealed")
    refused(run("unseal", str(tmp_path / "missing.sealed"), "-o", str(out)), 2, "no sealed file at")
    assert not out.exists()

    ok(run("disclose", str(sealed), "--to", BANK))
    before = sealed.read_bytes()
    refused(run("seal", str(draft), "--to", OWNER, "-o", str(sealed)), 2, "already exists")  # the same command again
    assert sealed.read_bytes() == before  # BANK's entry kept
    refused(run("disclose", str(sealed), "--to", BANK), 1, f"already addressed to {BANK} (same key)")
    assert sealed.read_bytes() == before  # no second entry, nothing sent
    for command in (("unseal", "0xzz", "-o", str(out)), ("disclose", "0xzz", "--to", BANK)):
        refused(run(*command, "--api", "http://127.0.0.1:9"), 2, "0x and 64 hex digits")


def test_asset_register_with_seal_to_a_recipient_without_key_registers_nothing_and_writes_nothing(
        run, contract, tmp_path: Path):
    """A reviewer's finding: `asset register --seal-to` a recipient with no published key registered the asset,
    noted "was not sealed" and exited 0, though the user asked to seal. Every recipient's key (the owner's too) is
    checked first, as the register page does: refused (exit 1, the ledger's state), nothing registered or written."""
    registry = contract("IPRegistry")
    count = registry.functions.assetCount().call
    work = tmp_path / "work"
    work.mkdir()
    claims = work / "claims.pdf"
    claims.write_bytes(b"%PDF claims " + os.urandom(20_000))
    register = ("asset", "register", "--kind", "invention-patent", "--file", str(claims), "--title", "C",
                "--seal-to", BANK, "--json")
    before = count()
    refused(run(*register), 1, f"nothing registered: {claims} cannot be sealed as --seal-to asks: {OWNER} has "
                               "published no encryption key")  # neither has: the owner is checked too
    ok(run("keys", "publish"))
    refused(run(*register), 1, f"{BANK} has published no encryption key")
    ok(run("--dev-account", "1", "keys", "publish"))
    stranger = "0x" + "12" * 20
    refused(run(*register[:-1], "--seal-to", stranger), 1, "has published no encryption key")
    refused(run(*register[:-1], "--seal-to", "0xnot-an-address"), 2, "the recipient")
    ok(run("--dev-account", "1", "keys", "revoke"))
    refused(run(*register), 1, "is revoked")
    assert count() == before
    assert sorted(p.name for p in work.iterdir()) == ["claims.pdf"]  # no claims.pdf.sealed, no partial file

    ok(run("--dev-account", "1", "keys", "rotate"))
    registered = json.loads(ok(run(*register)))
    assert count() == before + 1 and registered["sealed_file"] == f"{claims}.sealed"
    said = ok(run("--dev-account", "1", "unseal", registered["sealed_file"], "-o", str(tmp_path / "bank.pdf")))
    assert f"asset {registered['asset_id']}'s content hash" in said
    assert (tmp_path / "bank.pdf").read_bytes() == claims.read_bytes()
