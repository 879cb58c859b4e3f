"""`ipledger account import FILE` and `account export NAME -o FILE`: a keystore moves between data folders, and
between the browser (/keys, ethers) and the CLI, as the encrypted file it is. In process (each command is one
scrypt, well under a second); the keystore ethers makes is made by Node with the pinned ethers."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from eth_account import Account

from ledger.chain.accounts import Keystores
from ledger.chain.deployment import manifest_path
from ledger.chain.devchain import fund
from ledger.files import write_json_atomic
from tests.cli.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def ok(result: Run) -> str:
    assert result.code == 0, (result.code, result.out, result.err)
    return result.out


def refused(result: Run, code: int, sentence: str) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    assert sentence in " ".join(result.err.split()), result.err
    assert "Traceback" not in result.err + result.out


def in_folder(cli, data: Path):  # type: ignore[no-untyped-def]
    """``ipledger`` on the data folder ``data`` with the password in IPLEDGER_PASSWORD (or ``password``)."""

    def run(*args: str, password: str = PASSWORD, **env: str) -> Run:
        return cli(*args, env={"IPLEDGER_DATA_DIR": str(data), "IPLEDGER_PASSWORD": password, **env})

    return run


def listed(run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {a["name"]: a["address"] for a in json.loads(ok(run("account", "list", "--json")))}


def folder_files(data: Path) -> list[str]:
    folder = data / "keystores"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_account_new_export_then_import_in_another_folder_is_the_same_key_that_signs(
        cli, data_dir: Path, tmp_path: Path, anvil, chain, deployment):  # type: ignore[no-untyped-def]
    here, there = in_folder(cli, data_dir), in_folder(cli, tmp_path / "elsewhere")
    address = json.loads(ok(here("account", "new", "alice", "--json")))["address"]
    stored = (data_dir / "keystores" / "alice.json").read_bytes()
    exported = tmp_path / "alice-backup.json"
    said = json.loads(ok(here("account", "export", "alice", "-o", str(exported), "--json")))
    assert said == {"name": "alice", "address": address, "file": str(exported)}
    assert exported.read_bytes() == stored, "the keystore as stored: encrypted"
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    key = Keystores(data_dir).unlock(Keystores(data_dir).find("alice"), PASSWORD).key.hex().removeprefix("0x")
    assert key not in exported.read_text() and "private" not in exported.read_text().lower()

    imported = json.loads(ok(there("account", "import", str(exported), "--name", "carol", "--json")))
    assert imported["name"] == "carol" and imported["address"] == address
    assert listed(there) == {"carol": address}
    copy = tmp_path / "elsewhere" / "keystores" / "carol.json"
    assert copy.read_bytes() == stored and stat.S_IMODE(copy.stat().st_mode) == 0o600

    # the imported keystore signs as the same address: it publishes its encryption key on the chain
    write_json_atomic(manifest_path(tmp_path / "elsewhere", chain.chain_id), deployment.model_dump())
    fund(anvil.url, address, 10**18)
    published = json.loads(ok(there("--account", "carol", "keys", "publish", "--json", IPLEDGER_RPC_URL=anvil.url)))
    assert published["address"] == address
    refused(there("--account", "carol", "keys", "rotate", password="not the password",
                  IPLEDGER_RPC_URL=anvil.url), 2, "wrong password for account carol")

    # back the other way, by address, without the password (the file stays encrypted)
    back = tmp_path / "carol.json"
    ok(there("account", "export", address, "-o", str(back), password=""))
    assert back.read_bytes() == stored


def test_export_refuses_an_existing_file_unless_force_and_bad_targets(cli, data_dir: Path, tmp_path: Path):
    run = in_folder(cli, data_dir)
    ok(run("account", "new", "alice"))
    target = tmp_path / "alice.json"
    target.write_text("my notes")
    target.chmod(0o644)
    refused(run("account", "export", "alice", "-o", str(target)), 2, f"{target} already exists")
    assert target.read_text() == "my notes"
    ok(run("account", "export", "alice", "-o", str(target), "--force"))
    assert target.read_bytes() == (data_dir / "keystores" / "alice.json").read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    refused(run("account", "export", "bob", "-o", str(tmp_path / "bob.json")), 2, "no account 'bob'")
    refused(run("account", "export", "alice", "-o", str(tmp_path)), 2, "is a folder")
    refused(run("account", "export", "alice", "-o", str(tmp_path / "no" / "a.json")), 2, "no folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.json", "data"]  # no partial file anywhere


def test_import_refusals_exit_2_with_the_reason_and_write_nothing(cli, data_dir: Path, tmp_path: Path):
    source = in_folder(cli, tmp_path / "source")
    alice = json.loads(ok(source("account", "new", "alice", "--json")))["address"]
    ok(source("account", "new", "bob"))
    made = tmp_path / "source" / "keystores"
    run = in_folder(cli, data_dir)
    ok(run("account", "import", str(made / "alice.json")))  # named after the file
    assert listed(run) == {"alice": alice}
    before = folder_files(data_dir)

    refused(run("account", "import", str(made / "bob.json"), password="wrong password"), 2,
            f"wrong password for the keystore {made / 'bob.json'}")
    refused(run("account", "import", str(made / "bob.json"), "--name", "alice"), 2,
            "an account named 'alice' already exists")
    refused(run("account", "import", str(made / "alice.json"), "--name", "alice2"), 2,
            f"{alice} already has a keystore here: account 'alice'")
    refused(run("account", "import", str(made / "bob.json"), "--name", "no/slash"), 2, "bad account name")
    refused(run("account", "import", str(tmp_path / "missing.json")), 2, "no such file")
    cases = {
        "broken.json": '{"address": "0x12", "crypto": ',
        "notes.json": '{"title": "not a key"}',
        "list.json": "[1, 2, 3]",
        "v4.json": json.dumps({"version": 4, "crypto": {}}),
    }
    # a keystore that claims another address than its key's: refused after decrypting, never listed wrong
    forged = json.loads((made / "bob.json").read_text())
    forged["address"] = "12" * 20
    cases["forged.json"] = json.dumps(forged)
    # a crafted scrypt cost (2**30 * 8 * 128 bytes) is refused before any key derivation
    costly = json.loads((made / "bob.json").read_text())
    costly["crypto"]["kdfparams"]["n"] = 2**30
    cases["costly.json"] = json.dumps(costly)
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        reason = "names address 0x1212" if name == "forged.json" else "is not an Ethereum keystore"
        refused(run("account", "import", str(tmp_path / name)), 2, reason)
    assert folder_files(data_dir) == before  # nothing written, no partial file
    assert listed(run) == {"alice": alice}
    refused(run("--account", str(made / "bob.json"), "keys", "rotate"), 2,
            "import it first (`ipledger account import FILE --name NAME`)")
    assert not (data_dir / "devchain").exists()  # refused before any chain was started


ETHERS = """
import { Wallet, encryptKeystoreJson } from "ethers";
const [key, password, how] = process.argv.slice(1);
const wallet = new Wallet(key);
let json;
if (how === "wallet") {
  json = await wallet.encrypt(password);  // ethers' own defaults: scrypt N = 2**17, "Crypto", "x-ethers"
} else {  // exactly as api/web/static/js/keys.js createKeystore writes it (the /keys page's download)
  const encrypted = JSON.parse(await encryptKeystoreJson(wallet, password, { scrypt: { N: 2 ** 18 } }));
  json = JSON.stringify({ address: encrypted.address, crypto: encrypted.Crypto ?? encrypted.crypto,
                          id: encrypted.id, version: encrypted.version });
}
process.stdout.write(json);
"""


def ethers_keystore(key: str, password: str, how: str) -> str:
    node = shutil.which("node")
    assert node, "Node.js is needed to make a keystore with ethers"
    assert (ROOT / "node_modules" / "ethers" / "package.json").is_file(), "run `npm ci` (ethers is pinned)"
    done = subprocess.run([node, "--input-type=module", "-e", ETHERS, key, password, how], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("how", ["wallet", "keys-page"])
def test_keystore_made_by_ethers_as_the_browser_does_imports_unlocks_and_exports_unchanged(
        cli, data_dir: Path, tmp_path: Path, how: str):
    account = Account.from_key(os.urandom(32))
    text = ethers_keystore(account.key.hex(), PASSWORD, how)
    made = json.loads(text)
    assert ("Crypto" in made) == (how == "wallet") and made["version"] == 3
    source = tmp_path / "web-key.json"
    source.write_text(text)
    run = in_folder(cli, data_dir)
    refused(run("account", "import", str(source), password="not the password"), 2, "wrong password")
    assert folder_files(data_dir) == []
    said = json.loads(ok(run("account", "import", str(source), "--json")))
    assert said["name"] == "web-key" and said["address"] == account.address
    keystores = Keystores(data_dir)
    assert keystores.unlock(keystores.find("web-key"), PASSWORD).key == account.key
    back = tmp_path / "back.json"
    ok(run("account", "export", "web-key", "-o", str(back)))
    assert back.read_text() == text, "kept as the browser made it, so it opens there again"
