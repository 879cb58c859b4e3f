"""Deeply nested JSON, as an attacker sends it: a small clear refusal, never a dead server or a huge answer.

A 200 KB body of brackets used to kill the server process (py_ecc raised the recursion limit, and CPython's
C parser overflowed the C stack: ``ledger/__init__.py``); a 618-byte metadata document nested 300 deep was
answered with 16.7 MB of pydantic errors. The API now refuses a body nesting deeper than
:data:`api.limits.MAX_JSON_DEPTH` before parsing it (``api.limits.JsonDepthLimit``), and metadata values
meet the ledger's own rules before the schema's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from api.limits import MAX_JSON_DEPTH, nests_deeper
from ledger.chain.client import ChainClient
from ledger.chain.deployment import Deployment
from tests.api.test_replicas import ROOT, serve_env
from tests.serving import free_port, wait_healthy

DEEP = b"[" * 100_000 + b"]" * 100_000
"""~200 KB: what killed the server."""

ENDPOINTS = ("/api/v1/metadata", "/api/v1/relay/prepare", "/api/v1/relay", "/api/v1/timestamps/verify")

BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "json": (DEEP, {"content-type": "application/json"}),
    "no content type": (DEEP, {}),  # FastAPI parses it as JSON too
    "+json": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, {"content-type": "application/merge-patch+json"}),
    "utf-16": (("[" * 100_000 + "]" * 100_000).encode("utf-16"), {"content-type": "application/json"}),
    "in a string first": (b'["\\"' + b"[" * 10 + b'",' + DEEP[2:], {"content-type": "application/json"}),
}


def assert_small_refusal(response: httpx.Response, rule: str) -> dict[str, object]:
    assert 400 <= response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert len(response.content) < 4096, len(response.content)
    problem = response.json()
    assert rule in problem["detail"], problem
    return problem


@pytest.fixture(scope="module")
def served(chain: ChainClient, deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `ipledger serve` process on the session chain (its own SQLite database): a crash would end it."""
    folder = tmp_path_factory.mktemp("deep-json")
    env = {k: v for k, v in serve_env(chain, deployment, "", folder).items() if k != "IPLEDGER_DB_URL"}
    port = free_port()
    with (folder / "serve.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(port)],
                                   cwd=ROOT, env={**env, "IPLEDGER_DATA_DIR": str(folder / "data")},
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, folder / "serve.log", "ipledger serve")
        yield url
        assert process.poll() is None, f"the server died:\n{(folder / 'serve.log').read_text()[-3000:]}"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_server_process_refuses_bodies_nested_100000_deep_and_keeps_serving(served, endpoint):
    for name, (body, headers) in BODIES.items():
        response = httpx.post(served + endpoint, content=body, headers=headers, timeout=30)
        problem = assert_small_refusal(response, f"deeper than {MAX_JSON_DEPTH} levels")
        assert response.status_code == 400 and problem["title"] == "Bad request", name
    assert httpx.get(f"{served}/api/v1/health", timeout=10).status_code == 200
    stored = httpx.post(f"{served}/api/v1/metadata", json={"title": "after the attack"}, timeout=10)
    assert stored.status_code == 201, stored.text


def test_the_refusal_is_in_the_language_the_request_states(served):
    response = httpx.post(f"{served}/api/v1/metadata", content=DEEP, timeout=30,
                          headers={"content-type": "application/json", "accept-language": "zh-CN"})
    problem = assert_small_refusal(response, f"嵌套超过 {MAX_JSON_DEPTH} 层")
    assert response.headers["content-language"] == "zh-CN" and problem["type"] == "urn:ipledger:problem:bad-request"


def test_uvicorn_in_a_thread_as_under_ipledger_up_refuses_them_too(live_api):
    """`ipledger up` serves the API from a thread of its own process (here: the test's)."""
    for endpoint in ENDPOINTS:
        assert_small_refusal(httpx.post(live_api + endpoint, content=DEEP, timeout=30,
                                        headers={"content-type": "application/json"}), "deeper than")
    assert httpx.get(f"{live_api}/api/v1/health", timeout=10).status_code == 200


@pytest.mark.parametrize("depth", [40, 300, 5_000])
def test_over_deep_metadata_is_a_small_400_naming_the_rule(client, depth):
    body = '{"title":"t","x":' + "[" * depth + "]" * depth + "}"
    response = client.post("/metadata", content=body, headers={"content-type": "application/json"})
    rule = "nests deeper than 32 levels" if depth <= MAX_JSON_DEPTH else f"deeper than {MAX_JSON_DEPTH} levels"
    assert response.status_code == 400
    assert_small_refusal(response, rule)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["[" * 30 + "1.5" + "]" * 30, "[" + ",".join(["1.5"] * 15_000) + "]",
                                   '[{"a":' * 15 + "1.5" + "}]" * 15])
def test_hostile_metadata_values_get_one_small_400_not_an_error_per_member(client, value):
    """pydantic reported each union member at each level and item: 81 bytes gave 263 KB, 60 KB gave 22 MB."""
    response = client.post("/metadata", content='{"title":"t","x":' + value + "}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert_small_refusal(response, "metadata numbers must be integers")  # type: ignore[arg-type]


def test_nesting_is_measured_outside_strings_only():
    limit = 4
    assert not nests_deeper(b'["[[[[[[[[", {"a": "{{{{{{{"}]', limit)
    assert not nests_deeper(b'[[[["\\"[[[[[["]]]]', limit)  # an escaped quote does not end the string
    assert nests_deeper(b'[[[["\\\\"[[[[[]]]]]]]]]', limit)  # an escaped backslash does not escape the quote
    assert nests_deeper(b"[" * 5 + b"]" * 5, limit) and not nests_deeper(b"[" * 4 + b"]" * 4 + b"[]" * 9, limit)
    assert nests_deeper("[[[[[".encode("utf-32"), limit)  # as json.loads reads it


def test_a_relay_body_is_only_counted():
    """A body with no more opening brackets than the limit cannot nest deeper: not scanned at all."""
    body = b'{"request": {"from": "0x", "data": "0x' + b"ab" * 10_000 + b'"}}'
    assert body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH and not nests_deeper(body, MAX_JSON_DEPTH)


def test_the_limit_leaves_room_for_the_deepest_metadata_document():
    from ledger.registry.metadata import MAX_DEPTH

    assert MAX_JSON_DEPTH > MAX_DEPTH + 1


def test_the_limit_leaves_room_for_the_longest_version_chain_a_certificate_can_carry(client):
    """A revision nests the certificate it revises two levels deeper; pydantic's parser reads 99 links. Such a
    certificate, sent to /timestamps/verify (and in a list to /verify-batch), reaches the verifier, which
    judges it (here: a synthetic chain, so malformed or not valid), instead of the depth limit refusing it."""
    cert: dict[str, object] = {"version": 1, "chain_id": 1, "contract": "0x" + "11" * 20, "tx_hash": "0x" + "22" * 32,
                               "block_number": 1, "block_hash": "0x" + "33" * 32, "block_time": 1, "file_name": "f",
                               "digest": "0x" + "44" * 32, "author": "0x" + "11" * 20, "salt": "0x" + "55" * 32,
                               "leaf": "0x" + "66" * 32, "proof": [], "root": "0x" + "77" * 32,
                               "stamper": "0x" + "11" * 20, "batch_size": 1}
    for _ in range(99):
        cert = {**cert, "revises": {"root": "0x" + "77" * 32, "leaf": "0x" + "66" * 32, "nonce": "0x" + "88" * 32,
                                    "certificate": cert}}
    one = {"digest": "0x" + "44" * 32, "certificate": cert}
    for path, body in (("/timestamps/verify", one), ("/timestamps/verify-batch", [one])):
        response = client.post(path, json=body)
        assert "deeper than" not in response.text, (path, response.text[:300])
        assert response.status_code in (200, 400), (path, response.status_code, response.text[:300])
