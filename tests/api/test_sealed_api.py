"""`/api/v1/sealed` and `/api/v1/keys`: sealed documents stored as ciphertext, listed per recipient, recipients
added later by re-wrapping the key only; and the CLI's `seal|unseal|disclose|sealed list --api`."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.messages import encode_defunct

from api.main import create_app
from ledger.chain.client import dev_accounts
from ledger.context import Ledger
from ledger.registry.metadata import build_document
from ledger.sealing.keys import AccountKeys
from ledger.sealing.store import recipients_message
from ledger.sealing.stream import open_file, read_header, rewrap
from ledger.settings import Settings
from tests.cliproc import run_ipledger

OWNER, BANK, STRANGER = dev_accounts(8)[5:8]


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def claims(tmp_path: Path, api_ledger: Ledger) -> Path:
    path = tmp_path / "claims.pdf"
    path.write_bytes(b"%PDF claims " + os.urandom(150_000))
    digest = "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
    api_ledger.assets.register(digest, "invention-patent", None, build_document("Claims"), sender=OWNER)
    for account in (OWNER, BANK):
        api_ledger.sealing.publish(account)
    return path


def keys_of(account):  # type: ignore[no-untyped-def]
    return lambda version: AccountKeys.derive(bytes(account.key), version)


def test_store_list_add_recipient_and_download_without_touching_the_payload(client, api_ledger: Ledger,
                                                                            claims: Path, tmp_path: Path):
    sealed = api_ledger.sealing.seal(claims, [OWNER.address], tmp_path / "c.sealed", sealer=OWNER.address).path
    raw = sealed.read_bytes()
    stored = client.post("/sealed", content=raw, headers={"Content-Type": "application/octet-stream"})
    assert stored.status_code == 201, stored.text
    doc = stored.json()
    header, recipients = read_header(sealed)
    payload = raw[len(raw) - doc["size"]:]
    assert doc["sealed_id"] == "0x" + hashlib.sha256(header.encode() + payload).hexdigest()
    assert doc["plaintext_sha256"] == "0x" + header.plaintext_sha256
    assert claims.read_bytes()[:1000] not in raw  # ciphertext only
    listed = client.get("/sealed", params={"recipient": OWNER.address}).json()["data"]
    assert doc["sealed_id"] in [d["sealed_id"] for d in listed]
    listed = client.get("/sealed", params={"recipient": BANK.address}).json()["data"]
    assert doc["sealed_id"] not in [d["sealed_id"] for d in listed]
    info = client.get(f"/sealed/{doc['sealed_id']}/info").json()
    assert [m["kind"] for m in info["matches"]] == ["asset"]
    key = client.get(f"/keys/{BANK.address}").json()
    assert (key["version"], key["revoked"]) == (1, False)

    added = rewrap(header, recipients, OWNER.address, keys_of(OWNER),
                   api_ledger.sealing.recipients([BANK.address]))
    entries = [e.as_json() for e in added]
    forged = STRANGER.sign_message(encode_defunct(text=recipients_message(doc["sealed_id"], added)))
    refused = client.post(f"/sealed/{doc['sealed_id']}/recipients", json={
        "entries": entries, "signer": STRANGER.address, "signature": "0x" + bytes(forged.signature).hex()})
    assert refused.status_code == 403 and "neither a recipient nor the sealer" in refused.json()["detail"]
    signed = OWNER.sign_message(encode_defunct(text=recipients_message(doc["sealed_id"], added)))
    grown = client.post(f"/sealed/{doc['sealed_id']}/recipients", json={
        "entries": entries, "signer": OWNER.address, "signature": "0x" + bytes(signed.signature).hex()})
    assert grown.status_code == 200, grown.text
    assert [r["address"] for r in grown.json()["recipients"]] == [OWNER.address, BANK.address]
    listed = client.get("/sealed", params={"recipient": BANK.address}).json()["data"]
    assert doc["sealed_id"] in [d["sealed_id"] for d in listed]
    downloaded = tmp_path / "down.sealed"
    downloaded.write_bytes(client.get(f"/sealed/{doc['sealed_id']}").content)
    assert downloaded.read_bytes().endswith(payload)
    open_file(downloaded, tmp_path / "bank.pdf", BANK.address, keys_of(BANK))
    assert (tmp_path / "bank.pdf").read_bytes() == claims.read_bytes()


def test_store_refuses_bad_layout_short_payload_and_oversize(client, api_ledger: Ledger, claims: Path,
                                                             tmp_path: Path, chain, deployment, artifacts):
    sealed = api_ledger.sealing.seal(claims, [OWNER.address], tmp_path / "c.sealed").path
    raw = sealed.read_bytes()
    cut = client.post("/sealed", content=raw[:-10], headers={"Content-Type": "application/octet-stream"})
    assert cut.status_code == 400 and "fewer bytes" in cut.json()["detail"]
    junk = client.post("/sealed", content=b"hello", headers={"Content-Type": "application/octet-stream"})
    assert junk.status_code == 400 and "not an ipledger sealed file" in junk.json()["detail"]
    assert client.get("/sealed/0x" + "ab" * 32).status_code == 404
    small = Ledger(Settings(data_dir=tmp_path / "small", sealed_max_bytes=50_000), chain, deployment, artifacts,
                   embedded=False)
    from fastapi.testclient import TestClient

    with TestClient(create_app(ledger=small), base_url="http://testserver/api/v1") as tiny:
        too_big = tiny.post("/sealed", content=raw, headers={"Content-Type": "application/octet-stream"})
    assert too_big.status_code == 400 and "larger than this server keeps" in too_big.json()["detail"]


def test_cli_seal_list_disclose_and_unseal_through_the_api(live_api, api_ledger: Ledger, claims: Path,
                                                           tmp_path: Path, contract, chain):
    def as_(account, *args: str):  # type: ignore[no-untyped-def]
        env = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
        env.update({"IPLEDGER_DATA_DIR": str(tmp_path / "data"), "IPLEDGER_PRIVATE_KEY": account.key.hex(),
                    "COLUMNS": "200"})
        done = run_ipledger([*args, "--api", live_api], env=env)
        return Ran(done.returncode, done.stdout, done.stderr)

    sealed = tmp_path / "claims.sealed"
    made = as_(OWNER, "seal", str(claims), "--to", OWNER.address, "-o", str(sealed), "--json")
    assert made.code == 0, made.err
    sealed_id = json.loads(made.out)["sealed_id"]
    listed = as_(OWNER, "sealed", "list", "--json")
    assert sealed_id in [d["sealed_id"] for d in json.loads(listed.out)["data"]]  # the server keeps earlier tests'
    denied = as_(BANK, "unseal", sealed_id, "-o", str(tmp_path / "bank.pdf"))
    assert denied.code == 1 and "is not a recipient" in denied.err and not (tmp_path / "bank.pdf").exists()
    disclosed = as_(OWNER, "disclose", sealed_id, "--to", BANK.address, "--json")
    assert disclosed.code == 0, disclosed.err
    tx = json.loads(disclosed.out)["tx_hash"]
    events = [e for e in chain.events(contract("KeyDirectory"), chain.receipt(tx))]
    assert [(e.name, e.args["discloser"], e.args["recipient"]) for e in events] == [
        ("DocumentDisclosed", OWNER.address, BANK.address)]
    opened = as_(BANK, "unseal", sealed_id, "-o", str(tmp_path / "bank.pdf"))
    assert opened.code == 0, opened.err
    assert (tmp_path / "bank.pdf").read_bytes() == claims.read_bytes() and "content hash" in opened.out


def test_key_version_beyond_the_directorys_uint32_is_a_422_not_a_server_error(client) -> None:
    """Found by the schema fuzzer: a version of 2**51 reached the contract call and failed as a 500."""
    refused = client.get(f"/keys/{OWNER.address}", params={"version": 2794483112104544})
    assert refused.status_code == 422, refused.text
    assert "version" in refused.text
