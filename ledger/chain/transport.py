"""JSON-RPC over HTTP(S) for web3 through one urllib3 connection pool.

web3's ``HTTPProvider`` posts through a ``requests`` session. Per call, requests re-reads the
proxy and certificate settings from the environment, merges session and request settings, runs
hooks and cookie jars: about 0.75 ms of CPU per JSON-RPC call on this machine, against 0.28 ms
for urllib3 (the library requests itself sends through) and the node's own answer in 0.1 ms. The
relay makes four to six calls per batch and the bank check one per report, so that overhead was
a tenth of a relayed request's CPU (benchmarks/api.md). This provider keeps web3's JSON encoding
and its provider interface (``make_request``, ``make_batch_request``), reads the environment once,
as requests would (``HTTP(S)_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``), and raises
``OSError``s a caller already handles for an unreachable node.
"""

from __future__ import annotations

import os
from typing import Any, cast
from urllib.parse import unquote

import certifi
import requests
import urllib3
from eth_typing import URI
from requests.adapters import HTTPAdapter
from requests.utils import prepend_scheme_if_needed, select_proxy
from web3 import __version__ as web3_version
from web3._utils.batching import sort_batch_response_by_response_ids
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse


class RpcTimeoutError(TimeoutError):
    """The node did not answer within the timeout (an ``OSError``: callers treat it as the node's state)."""


class RpcHTTPError(ConnectionError):
    """The node answered with an HTTP error status instead of a JSON-RPC answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status


class PooledHTTPProvider(JSONBaseProvider):
    """A web3 provider posting JSON-RPC through a pool of keep-alive connections (thread-safe)."""

    def __init__(self, endpoint_uri: str, *, timeout: float = 30, pool_size: int = 64) -> None:
        super().__init__()
        self.endpoint_uri = URI(endpoint_uri)
        url = urllib3.util.parse_url(endpoint_uri)  # a malformed URL: LocationParseError, a ValueError
        self._url = url._replace(auth=None, path=url.path or "/").url  # credentials: a header, as requests sends them
        self._headers = {"Content-Type": "application/json", "User-Agent": f"ipledger (web3.py/{web3_version})",
                         **urllib3.make_headers(accept_encoding=True)}
        if url.auth:
            self._headers.update(urllib3.make_headers(basic_auth=unquote(url.auth)))
        # The environment, read once the way requests reads it on every call: the proxy for this URL
        # (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY) and the CA bundle (REQUESTS_CA_BUNDLE, a file or a folder).
        # requests' own adapter builds the pool, so a proxy's credentials and SOCKS proxies work as before.
        # The pool holds as many connections as the API's threads may use at once (40) and the relay's.
        environment = requests.Session().merge_environment_settings(self._url, {}, None, None, None)
        verify = environment["verify"]
        options: dict[str, Any] = {}
        if url.scheme == "https" and verify is False:
            options["cert_reqs"] = "CERT_NONE"
        elif url.scheme == "https":
            bundle = verify if isinstance(verify, str) else certifi.where()
            options.update(cert_reqs="CERT_REQUIRED",
                           **({"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}))
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        proxy = select_proxy(self._url, environment["proxies"])
        self._pool: urllib3.PoolManager
        if proxy:
            proxy = prepend_scheme_if_needed(proxy, "http")  # type: ignore[no-untyped-call]  # requests is untyped
            self._pool = adapter.proxy_manager_for(proxy, **options)
        else:
            adapter.init_poolmanager(1, pool_size, **options)
            self._pool = adapter.poolmanager
        self._timeout = urllib3.Timeout(total=timeout)
        # As requests: a sent request is never sent again (no retry after a connection or read error);
        # a redirect is followed (307 and 308 keep the POST and its body).
        self._retries = urllib3.Retry(total=None, connect=0, read=False, status=0, other=0, redirect=5)

    def close(self) -> None:
        """Close the pooled connections (a client that is done with the node)."""
        self._pool.clear()

    def __str__(self) -> str:
        return f"RPC connection {self._url}"

    def _post(self, body: bytes) -> bytes:
        try:
            response = self._pool.request("POST", self._url, body=body, headers=self._headers,
                                          timeout=self._timeout, retries=self._retries)
        except urllib3.exceptions.HTTPError as exc:
            reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
            # urllib3's NewConnectionError (refused, unreachable) is also a ConnectTimeoutError
            if isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
                    reason, urllib3.exceptions.NewConnectionError):
                raise RpcTimeoutError(f"no answer from {self._url}: {reason}") from exc
            raise ConnectionError(f"cannot reach {self._url}: {reason}") from exc
        if response.status >= 400:
            raise RpcHTTPError(response.status, response.reason or "")
        return bytes(response.data)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        return self.decode_rpc_response(self._post(self.encode_rpc_request(method, params)))

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        response = self.decode_rpc_response(self._post(self.encode_batch_rpc_request(requests)))
        if not isinstance(response, list):  # the node refused the whole batch: one error object
            return response
        return cast(list[RPCResponse], sort_batch_response_by_response_ids(cast(list[RPCResponse], response)))
