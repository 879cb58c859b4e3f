"""The JSON-RPC transport (ledger.chain.transport): what the node, the network and the environment do to it.

Each case is a real socket: the session's node, a port nobody listens on, a server that never
answers, one that answers an HTTP error, one that checks credentials, one that redirects, HTTP
proxies (with credentials, NO_PROXY) and a TLS node signed by a private CA. Where requests (web3's
own transport) read the environment a way, this one must read it the same way.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ledger.chain.client import ChainClient
from ledger.chain.transport import PooledHTTPProvider, RpcHTTPError, RpcTimeoutError
from ledger.errors import ChainError, ChainUnavailableError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server(answer: Any, tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP(S) server: ``answer(handler, body)`` replies; every request's line and headers are recorded."""
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
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}", seen
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


def test_a_proxy_with_credentials_and_without_a_scheme_as_requests_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    node_url = f"http://node.invalid:{free_port()}/rpc"
    for key in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(key, raising=False)
    with http_server(json_rpc_echo) as (proxy_url, through_proxy):
        host = proxy_url.removeprefix("http://")
        monkeypatch.setenv("ALL_PROXY", f"proxy%20user:pa%3Ass@{host}")  # no scheme, credentials, ALL_PROXY
        assert PooledHTTPProvider(node_url).make_request("eth_chainId", [])["result"] == "0x1"
    (request,) = through_proxy
    assert request["path"] == node_url
    assert request["headers"]["proxy-authorization"] == "Basic cHJveHkgdXNlcjpwYTpzcw=="  # "proxy user:pa:ss"


def test_a_redirect_is_followed_with_the_call_as_requests_followed_it() -> None:
    def answer(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        if handler.path == "/old":
            handler.send_response(308)
            handler.send_header("Location", "/new")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            json_rpc_echo(handler, body)

    with http_server(answer) as (url, seen):
        assert PooledHTTPProvider(url + "/old").make_request("eth_chainId", [])["result"] == "0x1"
    assert [r["path"] for r in seen] == ["/old", "/new"] and seen[0]["body"] == seen[1]["body"]


def private_ca(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A private CA's certificate in ``folder`` and a TLS context for 127.0.0.1 signed by it."""
    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("ipledger test CA")).issuer_name(name("ipledger test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name("node")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "node.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "node.pem")
    return folder / "ca.pem", context


def test_a_node_behind_a_private_ca_is_trusted_from_requests_ca_bundle_a_file_or_a_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca, tls = private_ca(tmp_path)
    folder = tmp_path / "cas"
    folder.mkdir()
    (folder / "ca.pem").write_bytes(ca.read_bytes())
    rehash = subprocess.run(["openssl", "rehash", str(folder)], capture_output=True, text=True)
    assert rehash.returncode == 0, f"`openssl rehash` (Debian's openssl package) is needed here: {rehash.stderr}"
    for key in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    with http_server(json_rpc_echo, tls) as (url, seen):
        with pytest.raises(ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):  # the public CAs do not know it
            PooledHTTPProvider(url).make_request("eth_chainId", [])
        for bundle in (ca, folder):
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
            assert PooledHTTPProvider(url).make_request("eth_chainId", [])["result"] == "0x1", bundle
    assert len(seen) == 2


def test_a_malformed_node_url_is_an_unreachable_chain_not_a_crash() -> None:
    for url in ("http://127.0.0.1:abc", "http://[::1"):
        with pytest.raises(ChainUnavailableError):
            ChainClient(url)


def test_closing_the_client_closes_its_connections(anvil) -> None:
    client = ChainClient(anvil.url)
    assert client.rpc_batch([("eth_chainId", [])])
    provider = client.w3.provider
    assert isinstance(provider, PooledHTTPProvider) and provider._pool.pools
    client.close()
    assert not provider._pool.pools
