"""Request limits: body size (413) and a per-sender token bucket (429).

Written here rather than taken from a library: slowapi/limits key on the client's IP,
but a relayed request's identity is its signed ``from``, known only after parsing.
"""

from __future__ import annotations

import threading
import time

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
