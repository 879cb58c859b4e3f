"""The JSON-RPC transport (ledger.chain.transport): what the node, the network and the environment do to it.

Each case is a real socket: the session's node, a port nobody listens on, a server that never
answers, one that answers an HTTP error, one that checks credentials, and an HTTP proxy.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ledger.chain.client import ChainClient
from ledger.chain.transport import PooledHTTPProvider, RpcHTTPError, RpcTimeoutError
from ledger.errors import ChainError, ChainUnavailableError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server(answer: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server: ``answer(handler, body)`` replies; every request's line and headers are recorded."""
    seen: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            answer(self, body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def reply(handler: http.server.BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def json_rpc_echo(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
    """Answer every JSON-RPC call of the body with the result ``"0x1"``."""
    request = json.loads(body)
    answer = ([{"jsonrpc": "2.0", "id": r["id"], "result": "0x1"} for r in request] if isinstance(request, list)
              else {"jsonrpc": "2.0", "id": request["id"], "result": "0x1"})
    reply(handler, 200, json.dumps(answer).encode())


def test_calls_and_batches_reach_the_node_in_order(anvil, chain: ChainClient) -> None:
    provider = PooledHTTPProvider(anvil.url)
    assert int(provider.make_request("eth_chainId", [])["result"], 16) == chain.chain_id
    calls = [("eth_getBlockByNumber", [hex(n), False]) for n in range(3)] + [("eth_chainId", [])]
    answers = provider.make_batch_request(calls)
    assert isinstance(answers, list)
    assert [int(a["result"]["number"], 16) for a in answers[:3]] == [0, 1, 2]
    assert int(answers[3]["result"], 16) == chain.chain_id


def test_a_port_nobody_listens_on_is_an_unreachable_chain_not_a_timeout() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionError) as refused:
        PooledHTTPProvider(url).make_request("eth_chainId", [])
    assert not isinstance(refused.value, TimeoutError)
    with pytest.raises(ChainUnavailableError) as unavailable:
        ChainClient(url)
    assert url in unavailable.value.message


def test_a_node_that_never_answers_times_out_as_a_chain_error(chain: ChainClient) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never reads or answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    provider = PooledHTTPProvider(url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(RpcTimeoutError):
        provider.make_request("eth_blockNumber", [])
    assert time.monotonic() - started < 5
    original = chain.w3.provider
    chain.w3.provider = provider
    try:  # the indexer splits a range that timed out: a ChainError, not "the chain stopped"
        with pytest.raises(ChainError) as timed_out:
            chain.get_logs_raw([chain.signer().address], 0, 10)
        assert not isinstance(timed_out.value, ChainUnavailableError) and "timed out" in timed_out.value.message
    finally:
        chain.w3.provider = original
        silent.close()


def test_an_http_error_status_is_refused_with_its_status(chain: ChainClient) -> None:
    with http_server(lambda handler, body: reply(handler, 503, b"overloaded")) as (url, _):
        provider = PooledHTTPProvider(url)
        with pytest.raises(RpcHTTPError) as refused:
            provider.make_request("eth_getLogs", [{}])
        assert refused.value.status == 503 and "503" in str(refused.value)
        original = chain.w3.provider
        chain.w3.provider = provider
        try:
            with pytest.raises(ChainError) as error:
                chain.get_logs_raw([chain.signer().address], 0, 10)
            assert "refused" in error.value.message and "503" in error.value.message
        finally:
            chain.w3.provider = original


def test_credentials_in_the_url_are_sent_as_basic_auth_not_in_the_path() -> None:
    with http_server(json_rpc_echo) as (url, seen):
        with_credentials = url.replace("http://", "http://node%20user:s3cret%40x@") + "/rpc/v1"
        assert PooledHTTPProvider(with_credentials).make_request("eth_chainId", [])["result"] == "0x1"
    (request,) = seen
    assert request["path"] == "/rpc/v1"
    assert request["headers"]["authorization"] == "Basic bm9kZSB1c2VyOnMzY3JldEB4"  # "node user:s3cret@x"
    assert request["headers"]["content-type"] == "application/json"


def test_the_environments_proxy_is_used_and_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    node_url = f"http://node.invalid:{free_port()}"  # only the proxy can reach a .invalid name
    with http_server(json_rpc_echo) as (proxy_url, through_proxy):
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert PooledHTTPProvider(node_url).make_batch_request([("eth_chainId", [])])[0]["result"] == "0x1"
        assert [r["path"] for r in through_proxy] == [node_url + "/"]  # a proxy request names the whole URL
        with http_server(json_rpc_echo) as (direct_url, direct):
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            assert PooledHTTPProvider(direct_url).make_request("eth_chainId", [])["result"] == "0x1"
            assert len(direct) == 1 and len(through_proxy) == 1
