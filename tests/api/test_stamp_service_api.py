"""``/api/v1/stamps`` (issue 16): receipts, long polls, limits, `ipledger stamp --service`, and SIGKILL of the service.

The service runs in the app (its round thread closes a round every 0.2 s here); the kill test runs the API
as a subprocess (uvicorn) against the session Anvil and kills it with SIGKILL mid-load.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hexbytes import HexBytes
from sqlalchemy import select

from api.main import create_app
from ledger.audit.store import Store, default_db_url
from ledger.chain.client import dev_account
from ledger.context import Ledger
from ledger.settings import Settings
from ledger.timestamps.aggregator import receipt_signer
from ledger.timestamps.proofs import Certificate, commitment, verify_proof
from ledger.timestamps.stampstore import StampLeafRecord, StampRoundRecord
from tests.cliproc import run_ipledger
from tests.serving import free_port, serve_on_loopback

SERVICE_KEY = "0x" + bytes(dev_account(9).key).hex()
ROOT = Path(__file__).resolve().parents[2]


def leaves(n: int) -> list[str]:
    return ["0x" + secrets.token_hex(32) for _ in range(n)]


def stamp_ledger(chain, deployment, artifacts, data: Path, **settings: object) -> Ledger:
    values: dict[str, object] = {"stamp_service_key": SERVICE_KEY, "stamp_round_interval": 0.2,
                                 "stamp_max_leaves_per_request": 50, "api_max_body_bytes": 20_000, **settings}
    return Ledger(Settings(data_dir=data, **values), chain, deployment, artifacts, embedded=False)  # type: ignore[arg-type]


@pytest.fixture
def stamps(chain, deployment, artifacts, tmp_path) -> Iterator[TestClient]:
    ledger = stamp_ledger(chain, deployment, artifacts, tmp_path / "api", stamp_client_leaves_per_second=40)
    with TestClient(create_app(ledger=ledger), base_url="http://testserver/api/v1") as client:
        yield client
    ledger.store.dispose()


def test_submit_then_long_poll_returns_the_anchored_proof(stamps, chain):
    service = stamps.get("/stamps/service").json()
    assert service["address"] == dev_account(9).address and service["running"] is True
    submitted = leaves(3)
    answer = stamps.post("/stamps", json={"leaves": submitted})
    assert answer.status_code == 200, answer.text
    receipts = answer.json()["data"]
    assert [r["leaf"] for r in receipts] == submitted
    assert {receipt_signer(r, service["domain"]) for r in receipts} == {service["address"]}
    pending = stamps.get(f"/stamps/{submitted[0]}").json()
    assert pending["status"] in ("pending", "anchored") and pending["receipt"] == receipts[0]
    started = time.monotonic()
    anchored = stamps.get(f"/stamps/{submitted[0]}", params={"wait": 10}).json()
    assert anchored["status"] == "anchored" and time.monotonic() - started < 5
    assert verify_proof([bytes.fromhex(p[2:]) for p in anchored["proof"]], bytes.fromhex(anchored["root"][2:]),
                        bytes.fromhex(submitted[0][2:]))
    assert chain.receipt(anchored["tx_hash"]).block_hash == anchored["block_hash"]
    again = stamps.post("/stamps", json={"leaves": [submitted[0]]}).json()["data"]
    assert again == receipts[:1]  # the same answer; not added again


def test_malformed_and_oversized_requests_are_refused_with_problems(stamps):
    for body in ({"leaves": ["0x12"]}, {"leaves": []}, {"leaf": "0x" + "ab" * 32}, {"leaves": "0x" + "ab" * 32},
                 {"leaves": ["0x" + "ab" * 32], "salt": "0x00"}, [1, 2]):
        refused = stamps.post("/stamps", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    too_many = stamps.post("/stamps", json={"leaves": leaves(51)})
    assert too_many.status_code == 422 and "at most 50 items" in too_many.json()["detail"], too_many.text
    assert [(e["type"], e["loc"]) for e in too_many.json()["errors"]] == [("too_long", ["body", "leaves"])]
    in_chinese = stamps.post("/stamps", json={"leaves": leaves(51)}, params={"lang": "zh"})
    assert in_chinese.status_code == 422 and in_chinese.json()["detail"] == "leaves：最多 50 项"
    too_big = stamps.post("/stamps", content=b'{"leaves": [' + (b'"0x' + b"a" * 64 + b'",') * 400 + b"]}",
                          headers={"content-type": "application/json"})
    assert too_big.status_code == 413
    assert stamps.get("/stamps/0x1234").status_code == 422
    unknown = stamps.get(f"/stamps/{leaves(1)[0]}")
    assert unknown.status_code == 404 and "never submitted" in unknown.json()["detail"]
    assert stamps.get(f"/stamps/{leaves(1)[0]}", params={"wait": 1000}).status_code == 422


def test_openapi_schema_states_the_configured_limit_of_leaves_per_request(stamps):
    leaves_schema = stamps.get("/openapi.json").json()["components"]["schemas"]["StampsCreate"]["properties"]["leaves"]
    assert leaves_schema["maxItems"] == 50 and leaves_schema["minItems"] == 1  # stamp_max_leaves_per_request
    assert "IPLEDGER_STAMP_MAX_LEAVES_PER_REQUEST" in leaves_schema["description"]
    assert stamps.post("/stamps", json={"leaves": leaves(50)}).status_code == 200


@pytest.mark.parametrize("wait", ["nan", "NaN", "inf", "-inf", "infinity"])
def test_long_poll_wait_that_is_not_a_finite_number_is_a_422_saying_so(stamps, wait):
    leaf = stamps.post("/stamps", json={"leaves": leaves(1)}).json()["data"][0]["leaf"]
    refused = stamps.get(f"/stamps/{leaf}", params={"wait": wait})
    assert refused.status_code == 422 and refused.json()["errors"][0]["type"] == "finite_number", refused.text
    assert refused.json()["detail"] == "query.wait: Input should be a finite number"
    assert "less than or equal" not in refused.text
    in_chinese = stamps.get(f"/stamps/{leaf}", params={"wait": wait, "lang": "zh"})
    assert in_chinese.json()["detail"] == "wait：必须是有限的数字（不能是 nan 或 inf）"
    param = next(p for p in stamps.get("/openapi.json").json()["paths"]["/api/v1/stamps/{leaf}"]["get"]["parameters"]
                 if p["name"] == "wait")
    assert "from 0 to 60" in param["description"]


def test_leaves_beyond_a_clients_allowance_are_refused_with_429(stamps):
    assert stamps.post("/stamps", json={"leaves": leaves(50)}).status_code == 200
    assert stamps.post("/stamps", json={"leaves": leaves(30)}).status_code == 200  # the burst: 80 leaves
    refused = stamps.post("/stamps", json={"leaves": leaves(20)})
    assert refused.status_code == 429 and "leaves" in refused.json()["detail"], refused.text


def test_server_without_a_stamp_service_key_answers_404(client):
    refused = client.post("/stamps", json={"leaves": leaves(1)})
    assert refused.status_code == 404 and "IPLEDGER_STAMP_SERVICE_KEY" in refused.json()["detail"]


# -- the CLI: ipledger stamp --service ------------------------------------------------------------------


@pytest.fixture
def live_stamps(chain, deployment, artifacts, tmp_path) -> Iterator[str]:
    ledger = stamp_ledger(chain, deployment, artifacts, tmp_path / "api")
    with serve_on_loopback(create_app(ledger=ledger)) as url:
        yield url
    ledger.store.dispose()


def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    env.update({"IPLEDGER_DATA_DIR": str(data), "IPLEDGER_DEV_ACCOUNT": "4"})
    return run_ipledger(args, env=env)


def test_cli_stamp_with_service_writes_certificates_that_verify(live_stamps, tmp_path, chain):
    data = tmp_path / "cli"
    files = [tmp_path / "lab-1.csv", tmp_path / "lab-2.csv"]
    for i, f in enumerate(files):
        f.write_text(f"measurement {i}")
    stamped = run("stamp", *map(str, files), "--service", live_stamps, "--json", data=data)
    assert stamped.returncode == 0, stamped.stderr
    certs = json.loads(stamped.stdout)
    author = dev_account(4).address
    assert {c["author"] for c in certs} == {author} and {c["stamper"] for c in certs} == {dev_account(9).address}
    assert chain.w3.eth.get_transaction_count(author) == 0  # the author sent nothing
    for f in files:
        Certificate.load(str(f) + ".ipledger.json")
    verified = run("verify", str(files[1]), "--api", live_stamps, data=data)
    assert verified.returncode == 0 and author in verified.stdout, verified.stderr
    assert all(Certificate.load(str(f) + ".ipledger.json").authorship is not None for f in files)  # signed by 4
    rendered = httpx.post(f"{live_stamps}/api/v1/certificates/render", params={"format": "html", "lang": "en"},
                          json=json.loads(Path(str(files[0]) + ".ipledger.json").read_text()), timeout=60)
    assert rendered.status_code == 200 and author in rendered.text, rendered.text[:500]
    both = run("stamp", str(files[0]), "--service", live_stamps, "--api", live_stamps, data=data)
    assert both.returncode == 2 and "choose one" in both.stderr and "Traceback" not in both.stderr


def test_a_leaf_naming_someone_else_gives_no_certificate_of_their_authorship(live_stamps, tmp_path):
    """The outsider's attack: commit a file to a victim's address (no key needed), have the service anchor it,
    assemble the certificate from the service's answer. It proves the file existed, not that the victim made
    it: `ipledger verify` fails (exit 1) and the API's verdict is not valid, naming why."""
    victim = dev_account(3).address
    confession = tmp_path / "confession.txt"
    confession.write_text("I, the bank, owe the bearer everything.")
    digest, salt = hashlib.sha256(confession.read_bytes()).digest(), secrets.token_bytes(32)
    leaf = "0x" + commitment(digest, victim, salt).hex()
    with httpx.Client(base_url=live_stamps + "/api/v1", timeout=60) as api:
        assert api.post("/stamps", json={"leaves": [leaf]}).status_code == 200
        answer = api.get(f"/stamps/{leaf}", params={"wait": 30}).json()
        assert answer["status"] == "anchored", answer
        cert = {"version": 1, **{k: answer[k] for k in ("chain_id", "contract", "tx_hash", "block_number",
                                                          "block_hash", "block_time", "root", "proof", "stamper",
                                                          "batch_size")},
                "file_name": confession.name, "digest": "0x" + digest.hex(), "author": victim,
                "salt": "0x" + salt.hex(), "leaf": leaf}
        Path(str(confession) + ".ipledger.json").write_text(json.dumps(cert))
        verdict = api.post("/timestamps/verify", json={"digest": cert["digest"], "certificate": cert},
                           headers={"Accept-Language": "zh-CN"}).json()
    assert verdict["valid"] is False and "作者未经证明" in verdict["reason"], verdict
    checked = run("verify", str(confession), "--api", live_stamps, data=tmp_path / "cli")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "author is not proven" in checked.stdout + checked.stderr and "VALID" not in checked.stdout


# -- SIGKILL of the service ------------------------------------------------------------------------------


def _serve(data: Path, port: int, rpc_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    env.update({"IPLEDGER_DATA_DIR": str(data), "IPLEDGER_RPC_URL": rpc_url, "IPLEDGER_STAMP_SERVICE_KEY": SERVICE_KEY,
                "IPLEDGER_STAMP_ROUND_INTERVAL": "0.1", "IPLEDGER_STAMP_ROUND_MAX_LEAVES": "300",
                "PYTHONPATH": str(ROOT)})
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port", str(port),
                             "--log-level", "warning"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)


def _ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the API process ended"
        try:
            if httpx.get(f"{url}/api/v1/stamps/service", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the API did not start")


def test_every_acknowledged_leaf_is_anchored_exactly_once_after_sigkill(chain, deployment, contract, anvil, tmp_path):
    data = tmp_path / "service"
    (data / "deployments").mkdir(parents=True)
    (data / "deployments" / f"{chain.chain_id}.json").write_text(deployment.model_dump_json())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=f"{url}/api/v1", timeout=10) as http:
            while not stop.is_set():
                batch = leaves(40)
                try:
                    answer = http.post("/stamps", json={"leaves": batch})
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                if answer.status_code == 200:
                    acknowledged.extend(r["leaf"] for r in answer.json()["data"])

    process = _serve(data, port, anvil.url)
    try:
        _ready(url, process)
        clients = [threading.Thread(target=load) for _ in range(3)]
        for t in clients:
            t.start()
        for pause in (1.2, 0.35):  # mid-load, then again soon after the restart (while it recovers and serves)
            time.sleep(pause)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            process = _serve(data, port, anvil.url)
            _ready(url, process)
        time.sleep(0.5)
        stop.set()
        for t in clients:
            t.join(15)
        assert len(acknowledged) > 200
        sample = [*acknowledged[:5], *random.sample(acknowledged, 20), *acknowledged[-5:]]
        with httpx.Client(base_url=f"{url}/api/v1", timeout=60) as http:
            for leaf in sample:
                answer = http.get(f"/stamps/{leaf}", params={"wait": 30}).json()
                assert answer["status"] == "anchored", answer
                assert verify_proof([bytes.fromhex(p[2:]) for p in answer["proof"]], bytes.fromhex(answer["root"][2:]),
                                    bytes.fromhex(leaf[2:]))
            deadline = time.monotonic() + 60
            while http.get(f"/stamps/{acknowledged[-1]}", params={"wait": 5}).json()["status"] != "anchored":
                assert time.monotonic() < deadline
    finally:
        stop.set()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    registry = contract("TimestampRegistry")
    service = HexBytes(bytes(12) + bytes.fromhex(dev_account(9).address[2:]))
    events = [e for e in chain.logs(registry, [None, None, service]) if e.name == "BatchStamped"]
    on_chain = [e.args["root"] for e in events]
    assert len(on_chain) == len(set(on_chain))  # no round anchored twice
    # Every stored leaf (the acknowledged ones, and any whose answer the kill cut off) is in exactly one round
    # anchored on chain: the rounds' counts add up to the leaves stored, each stored once.
    store = Store(default_db_url(Settings(data_dir=data)))
    with store.session() as session:
        stored = list(session.scalars(select(StampLeafRecord.leaf)))
        rounds = {r.root: (r.state, r.size) for r in session.scalars(select(StampRoundRecord))}
    store.dispose()
    assert set(acknowledged) <= set(stored) and len(stored) == len(set(stored))
    assert {e.args["root"]: ("anchored", int(e.args["count"])) for e in events} == rounds
    assert sum(size for _, size in rounds.values()) == len(stored)
