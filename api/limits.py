"""Request limits: body size (413) and token buckets (429) per client address and per verified sender.

Written here rather than taken from a library: slowapi/limits key on the client's IP, but a
relayed request's identity is its signed ``from``, which counts only once the signature
verifies (else anyone could spend a bank's allowance with forged requests naming it). So a
relayed request passes two buckets: its client address first (:func:`client_address`: the
TCP peer; ``X-Forwarded-For`` only from a configured proxy), then its verified sender.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import TooManyRequests, problem


class RateLimiter:
    """Tokens per key refilled at ``rate`` per second up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
                raise TooManyRequests(f"too many requests from {key}: retry in {wait:.1f}s", retry_after=wait)
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 100_000:  # forget idle senders rather than grow without bound
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}


def client_address(request: Request, trusted_proxies: Sequence[str] = ()) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy.

    Behind trusted proxies, ``X-Forwarded-For`` is read from the right (the entry the
    nearest proxy appended) and the first address that is not itself a trusted proxy is
    the client. With no trusted proxy configured the header is ignored: anyone can write it.
    """
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = [a.strip() for h in request.headers.getlist("x-forwarded-for") for a in h.split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address
    return peer


def admit_client(request: Request) -> None:
    """Charge the client address's bucket (429 when empty): every request that costs the node work."""
    state = request.app.state
    state.client_rate_limiter.check(f"client {client_address(request, state.trusted_proxies)}")


class BodySizeLimit:
    """Refuse bodies over ``limit`` bytes, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "Request too large", f"the request body exceeds {self.limit} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
