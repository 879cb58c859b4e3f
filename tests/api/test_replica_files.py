"""Files users upload live in the shared database, so every API replica serves what another stored.

Two `ipledger serve` processes on one PostgreSQL (started once for the module): a metadata document
and a sealed document uploaded to one are served, byte for byte, by the other; a 20 MB sealed file
goes in and out in 1 MiB chunks with bounded memory; a damaged chunk is refused with its reason. And a
data folder written the old way (files in ``metadata/``, ``sealed/``, a journal file) is imported at
start, on SQLite and PostgreSQL, with its pending transaction re-sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from sqlalchemy import create_engine, func, select, update

from ledger.chain.blobs import CHUNK_SIZE, blob_chunks, blobs
from ledger.chain.client import ChainClient
from ledger.chain.deployment import Deployment
from ledger.chain.journal import Journal, import_journal_files
from ledger.context import IMPORTED_FOLDER, open_ledger
from ledger.errors import DataCorruptedError
from ledger.registry.metadata import build_document, canonical_bytes
from ledger.sealing.format import KEM_X25519, read_preamble
from ledger.sealing.keys import AccountKeys
from ledger.sealing.store import SealedStore, sealed_documents
from ledger.sealing.stream import To, open_file, seal_file
from ledger.settings import Settings
from tests.api.test_replicas import Replicas, serve_env
from tests.pg import create_database, drop_database

BANK = Account.create()
"""The recipient of the sealed documents (its keys are derived from its account key; nothing on chain)."""


@pytest.fixture(scope="module")
def pair(chain: ChainClient, deployment: Deployment, pg_server: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replicas, str]]:
    """Replicas 0 and 1 on the session chain and a fresh PostgreSQL database, and that database's URL."""
    folder = tmp_path_factory.mktemp("replica-files")
    db_url = create_database(pg_server, "ipledger_files")
    env = {**serve_env(chain, deployment, db_url, folder), "IPLEDGER_PUBLIC_URL": "https://ip.example.org"}
    group = Replicas(env, folder, 2)
    try:
        for index in range(2):
            group.start(index)
        for index in range(2):
            group.wait_ready(index)
        yield group, db_url
    finally:
        group.stop()
        drop_database(pg_server, db_url)


def sealed_to_bank(folder: Path, size: int, name: str = "doc.pdf") -> tuple[Path, Path]:
    """A plaintext of ``size`` random bytes and its sealed file, sealed to BANK."""
    plain = folder / name
    with plain.open("wb") as out:
        for _ in range(size // CHUNK_SIZE):
            out.write(os.urandom(CHUNK_SIZE))
        out.write(os.urandom(size % CHUNK_SIZE))
    sealed = folder / f"{name}.sealed"
    seal_file(plain, sealed, [To(BANK.address, AccountKeys.derive(bytes(BANK.key)).public(), KEM_X25519)])
    return plain, sealed


def bank_keys(version: int) -> AccountKeys:
    return AccountKeys.derive(bytes(BANK.key), version)


def upload(base: str, sealed: Path) -> dict:  # type: ignore[type-arg]
    def body() -> Iterator[bytes]:
        with sealed.open("rb") as fh:
            while block := fh.read(CHUNK_SIZE):
                yield block

    response = httpx.post(f"{base}/api/v1/sealed", content=body(), timeout=120,
                          headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_metadata_uploaded_to_one_replica_is_served_by_the_other(pair, ip_kit) -> None:  # type: ignore[no-untyped-def]
    replicas, _ = pair
    a, b = replicas.url(0), replicas.url(1)
    document = build_document("A method of pledging patents", kind="invention-patent", description="public abstract")
    stored = httpx.post(f"{a}/api/v1/metadata", json=document, timeout=30)
    assert stored.status_code == 201, stored.text
    digest = stored.json()["hash"]
    served = httpx.get(f"{b}/api/v1/metadata/{digest}", timeout=30)
    assert served.status_code == 200 and served.content == canonical_bytes(document)
    assert "0x" + hashlib.sha256(served.content).hexdigest() == digest
    asset_id = ip_kit.register(metadata=bytes.fromhex(digest[2:]))
    tokens = [httpx.get(f"{url}/api/v1/tokens/{asset_id}", timeout=30) for url in (a, b)]
    assert [t.status_code for t in tokens] == [200, 200]
    assert tokens[0].content == tokens[1].content  # tokenURI's JSON, byte for byte
    assert tokens[1].json()["name"] == "A method of pledging patents"  # replica 1 read replica 0's document


def test_sealed_document_uploaded_to_one_replica_is_listed_and_downloaded_from_the_other(
        pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    replicas, _ = pair
    plain, sealed = sealed_to_bank(tmp_path, 200_000)
    doc = upload(replicas.url(0), sealed)
    listed = httpx.get(f"{replicas.url(1)}/api/v1/sealed", params={"recipient": BANK.address}, timeout=30).json()
    assert doc["sealed_id"] in [d["sealed_id"] for d in listed["data"]]
    downloaded = httpx.get(f"{replicas.url(1)}/api/v1/sealed/{doc['sealed_id']}", timeout=30)
    assert downloaded.status_code == 200 and downloaded.content == sealed.read_bytes()
    (tmp_path / "back.sealed").write_bytes(downloaded.content)
    open_file(tmp_path / "back.sealed", tmp_path / "back.pdf", BANK.address, bank_keys)
    assert (tmp_path / "back.pdf").read_bytes() == plain.read_bytes()


def test_large_sealed_upload_streams_through_replicas_in_chunks(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """20 MB up to replica 0 and down from replica 1 without either side holding the file: the
    database holds it as 1 MiB rows, and the download hashes to the upload."""
    replicas, db_url = pair
    _, sealed = sealed_to_bank(tmp_path, 20_000_000, "large.pdf")
    doc = upload(replicas.url(0), sealed)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        payload = connection.execute(select(sealed_documents.c.payload).where(
            sealed_documents.c.sealed_id == doc["sealed_id"])).scalar_one()
        count, largest = connection.execute(
            select(func.count(), func.max(func.length(blob_chunks.c.data))).select_from(blob_chunks)
            .join(blobs, blobs.c.id == blob_chunks.c.blob_id).where(blobs.c.digest == payload)).one()
    engine.dispose()
    assert (count, largest) == (-(-doc["size"] // CHUNK_SIZE), CHUNK_SIZE)
    digest = hashlib.sha256()
    with httpx.stream("GET", f"{replicas.url(1)}/api/v1/sealed/{doc['sealed_id']}", timeout=120) as response:
        for block in response.iter_bytes():
            digest.update(block)
    assert digest.hexdigest() == hashlib.sha256(sealed.read_bytes()).hexdigest()


def test_damaged_chunk_is_refused_on_read_with_its_reason(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    replicas, db_url = pair
    _, sealed = sealed_to_bank(tmp_path, 100_000, "damaged.pdf")
    doc = upload(replicas.url(0), sealed)
    metadata = httpx.post(f"{replicas.url(0)}/api/v1/metadata", json={"title": "damaged"}, timeout=30).json()
    engine = create_engine(db_url)
    with engine.begin() as connection:
        payload = connection.execute(select(sealed_documents.c.payload).where(
            sealed_documents.c.sealed_id == doc["sealed_id"])).scalar_one()
        for digest in (payload, metadata["hash"]):
            blob_id = connection.execute(select(blobs.c.id).where(blobs.c.digest == digest)).scalar_one()
            connection.execute(update(blob_chunks).where(blob_chunks.c.blob_id == blob_id, blob_chunks.c.seq == 0)
                               .values(data=func.substr(blob_chunks.c.data, 2)))  # one byte gone
    engine.dispose()
    for path in (f"/api/v1/sealed/{doc['sealed_id']}", f"/api/v1/metadata/{metadata['hash']}"):
        refused = httpx.get(f"{replicas.url(1)}{path}", timeout=30)
        assert refused.status_code == 500, refused.text
        assert refused.json()["title"] == "Stored data corrupted"
        assert "chunk 0 of 1" in refused.json()["detail"] and "does not match its SHA-256" in refused.json()["detail"]


def test_sealed_store_keeps_memory_bounded_for_a_large_file(shared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """In and out of SQLite and PostgreSQL, 20 MB go through with a few MiB of Python memory at most
    (one 1 MiB chunk being written or read, plus the driver's copy of it)."""
    _, sealed = sealed_to_bank(tmp_path, 20_000_000, "memory.pdf")
    store = SealedStore(shared.engine, 10**9)
    tracemalloc.start()
    try:
        with sealed.open("rb") as src:
            stored = store.put(src)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        for block in store.stream(stored.sealed_id):
            digest.update(block)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == hashlib.sha256(sealed.read_bytes()).hexdigest()
    assert put_peak < 6 * CHUNK_SIZE and read_peak < 6 * CHUNK_SIZE, (put_peak, read_peak)
    with shared.engine.begin() as connection:  # a chunk in the middle, damaged: the stream stops at it
        blob_id = connection.execute(select(blobs.c.id).where(blobs.c.size == stored.size)).scalar_one()
        connection.execute(update(blob_chunks).where(blob_chunks.c.blob_id == blob_id, blob_chunks.c.seq == 7)
                           .values(data=b"\0" * CHUNK_SIZE))
    with pytest.raises(DataCorruptedError, match=r"chunk 7 of 20 \(bytes 7,340,032 to 8,388,608\) does not match"):
        for _ in store.stream(stored.sealed_id):
            pass


OLD_JOURNAL = """
CREATE TABLE txs (tx_hash TEXT PRIMARY KEY, chain_key TEXT NOT NULL, sender TEXT NOT NULL, nonce INTEGER NOT NULL,
                  raw BLOB NOT NULL, created_at REAL NOT NULL, block_number INTEGER, block_hash TEXT,
                  state TEXT NOT NULL DEFAULT 'sent');
CREATE INDEX txs_by_chain ON txs (chain_key, state, block_number);
CREATE TABLE outputs (tx_hash TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (tx_hash, path));
"""
"""The journal file's schema in rounds 1 and 2 (``ledger/chain/journal.py`` before the shared database)."""


def old_data_folder(data: Path, chain: ChainClient, contract) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A data folder as ipledger wrote it before the database kept files: a metadata document, a sealed
    document (a recipient added later, an old date) and a journal holding a signed, never-mined stamp."""
    document = canonical_bytes(build_document("Written the old way"))
    digest = "0x" + hashlib.sha256(document).hexdigest()
    (data / "metadata").mkdir(parents=True)
    (data / "metadata" / f"{digest}.json").write_bytes(document)

    _, sealed = sealed_to_bank(data.parent, 150_000, "old.pdf")
    with sealed.open("rb") as src:
        header, recipients = read_preamble(src)
        payload = src.read()
    sealed_id = "0x" + hashlib.sha256(header.encode() + payload).hexdigest()
    folder = data / "sealed" / sealed_id[2:]
    folder.mkdir(parents=True)
    (folder / "header").write_bytes(header.encode())
    (folder / "payload").write_bytes(payload)
    (folder / "recipients.json").write_text(json.dumps([r.as_json() for r in recipients]))
    (folder / "meta.json").write_text(json.dumps({"stored_at": 1_700_000_000}))

    user = Account.create()
    chain.rpc("anvil_setBalance", [user.address, hex(10**20)])
    stamp = contract("TimestampRegistry").functions.stamp(os.urandom(32)).build_transaction({
        "from": user.address, "nonce": 0, "gas": 200_000, "chainId": chain.chain_id,
        "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9})
    signed = user.sign_transaction(stamp)
    tx_hash = signed.hash.to_0x_hex()
    (data / "journal").mkdir()
    with sqlite3.connect(data / "journal" / f"journal-{chain.chain_id}.sqlite") as db:
        db.executescript(OLD_JOURNAL)
        db.execute("INSERT INTO txs (tx_hash, chain_key, sender, nonce, raw, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                   (tx_hash, str(chain.chain_id), user.address, 0, bytes(signed.raw_transaction), 1_700_000_000.0))
    db.close()
    return {"metadata": digest, "sealed": sealed_id, "sealed_file": str(sealed), "tx": tx_hash}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_old_data_folder_is_imported_at_start_and_its_pending_transaction_sent(
        database: str, chain: ChainClient, deployment: Deployment, contract, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    old = old_data_folder(data, chain, contract)
    manifest = tmp_path / "deployment.json"
    manifest.write_text(deployment.model_dump_json())
    server = request.getfixturevalue("pg_server") if database == "postgresql" else None
    db_url = create_database(server, "ipledger_import") if server else None
    settings = Settings(data_dir=data, rpc_url=chain.rpc_url, deployment=manifest, db_url=db_url)
    try:
        assert chain.receipt(old["tx"]) is None
        with open_ledger(settings, need_account=False) as ledger:
            assert len(ledger.notices) == 3, ledger.notices
            receipt = chain.receipt(old["tx"])  # re-sent from the imported journal before anything else
            assert receipt is not None and receipt.status == 1
            assert ledger.metadata.get_bytes(old["metadata"]) == (
                data / IMPORTED_FOLDER / "metadata" / f"{old['metadata']}.json").read_bytes()
            [listed] = ledger.sealed.addressed_to(BANK.address)
            assert (listed.sealed_id, listed.stored_at) == (old["sealed"], 1_700_000_000)
            assert b"".join(ledger.sealed.stream(old["sealed"])) == Path(old["sealed_file"]).read_bytes()
        assert not list((data / "metadata").iterdir()) and not list((data / "sealed").iterdir())
        assert not list((data / "journal").iterdir())
        backup = data / IMPORTED_FOLDER
        assert (backup / "sealed" / old["sealed"][2:] / "payload").is_file()
        assert (backup / "journal" / f"journal-{chain.chain_id}.sqlite").is_file()
        # a second start (or a replica sharing the folder, a file copied back): nothing twice
        (data / "metadata" / f"{old['metadata']}.json").write_bytes(
            (backup / "metadata" / f"{old['metadata']}.json").read_bytes())
        with open_ledger(settings, need_account=False) as ledger:
            assert ledger.metadata.get_bytes(old["metadata"])
            assert len(ledger.sealed.addressed_to(BANK.address)) == 1
            with ledger.shared.connect() as connection:  # type: ignore[union-attr]
                assert connection.execute(select(func.count()).select_from(blobs)).scalar_one() == 2
    finally:
        if server and db_url:
            drop_database(server, db_url)


@pytest.fixture
def ip_kit(chain, contract, accounts):  # type: ignore[no-untyped-def]
    from tests.contracts.ipkit import IPKit

    return IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
                 pledges=contract("PledgeRegistry"), lens=contract("IPLens"),
                 forwarder=contract("IpledgerForwarder"), accounts=accounts)



def test_file_journal_in_todays_schema_is_imported_once_in_order(shared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The file journal `ipledger deploy` kept before 0004 (``tx_journal`` in its own SQLite file): its
    entries land in the shared table in the order journaled, mined ones stay mined, and a second import adds
    nothing (the file is in the backup folder by then)."""
    folder, backup = tmp_path / "journal", tmp_path / "backup"
    old = Journal(folder / "journal-31337.sqlite", "31337")
    for nonce in range(3):
        old.record_signed(f"0x{nonce:064x}", "0x" + "ab" * 20, nonce, bytes([nonce]))
    old.record_mined(f"0x{0:064x}", 5, "0x" + "cd" * 32)
    old.attach(f"0x{0:064x}", ["/certs/a.json"])
    old.close()
    assert import_journal_files(shared.engine, folder, backup) == 3
    journal = Journal(shared.engine, "31337")
    assert [e.nonce for e in journal.unmined()] == [1, 2]
    assert [(e.nonce, e.block_number) for e in journal.mined_newest_first()] == [(0, 5)]
    assert journal.attachments(f"0x{0:064x}") == ["/certs/a.json"]
    assert list(folder.iterdir()) == [] and (backup / "journal-31337.sqlite").is_file()
    assert import_journal_files(shared.engine, folder, backup) == 0
