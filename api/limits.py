"""Request limits: body size (413) and token buckets (429) per client address and per verified sender.

The buckets are shared by API replicas through the database (``rate_buckets``), so N replicas
behind a proxy allow what one would, not N times that.

Written here rather than taken from a library: slowapi/limits key on the client's IP, but a
relayed request's identity is its signed ``from``, which counts only once the signature
verifies (else anyone could spend a bank's allowance with forged requests naming it). So a
relayed request passes two buckets: its client address first (:func:`client_address`: the
TCP peer; ``X-Forwarded-For`` only from a configured proxy), then its verified sender.
"""

from __future__ import annotations

import email.message
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import NoReturn

from sqlalchemy import case, delete, select, text, update
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger import messages
from ledger.chain.state import autocommit, insert_or_ignore, rate_buckets
from ledger.errors import ValidationError

from . import refusals
from .errors import TooManyRequests, problem


class RateLimiter:
    """Tokens per key refilled at ``rate`` per second up to ``burst``.

    With ``engine`` (the shared database) the buckets are rows of ``rate_buckets``, so the limit
    holds across API replicas: one ``UPDATE`` takes a token if the refilled bucket has one (the row
    lock makes it atomic), a missing row is inserted full. Without it, they live in this process.

    Leases: one busy client (every user behind one proxy address) would make every request of every
    replica queue on that client's row. So a replica takes up to ``LEASE_SECONDS`` worth of the
    rate from the shared bucket at once and spends it locally; the replicas together may then let
    through at most that much more than the bucket holds, and a small rate (a lease under one
    request) stays exact.
    """

    LEASE_SECONDS = 0.05

    def __init__(self, rate: float, burst: float, engine: Engine | None = None) -> None:
        self.rate, self.burst = rate, burst
        self.engine = engine
        self._buckets: dict[str, tuple[float, float]] = {}
        self._leased: dict[str, float] = {}
        self._lock = threading.Lock()
        self._checks = 0

    def lease(self, cost: float) -> float:
        """How many tokens a replica takes from the shared bucket for a check of ``cost``."""
        return max(cost, min(self.burst, self.rate * self.LEASE_SECONDS))

    def check(self, key: str, cost: float = 1) -> None:
        """Take ``cost`` tokens from ``key``'s bucket (a request, or the leaves it carries); 429 when short."""
        if self.engine is not None:
            self._check_leased(key[:128], self.engine, cost)
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < cost:
                self._buckets[key] = (tokens, now)
                self._refuse(key, tokens, cost)
            self._buckets[key] = (tokens - cost, now)
            if len(self._buckets) > 100_000:  # forget idle senders rather than grow without bound
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}

    def check_many(self, keys: list[str]) -> list[BaseException | None]:
        """Take one token for each of ``keys`` (a key may repeat), as :meth:`check` would one by one in that
        order; per key, None or its 429. On the shared database a key whose bucket holds enough for all
        its requests is charged by one statement for the whole batch (the relay admits its batches
        so); only a key short of tokens, or new, is checked one request at a time."""
        outcomes: list[BaseException | None] = [None] * len(keys)
        pending = list(range(len(keys)))
        if self.engine is not None and self.engine.dialect.name == "postgresql":
            wanted: dict[str, int] = {}
            for index in pending:
                wanted[keys[index][:128]] = wanted.get(keys[index][:128], 0) + 1
            charged = self._charge_many(self.engine, wanted)
            pending = [index for index in pending if keys[index][:128] not in charged]
        for index in pending:
            try:
                self.check(keys[index])
            except TooManyRequests as exc:
                outcomes[index] = exc
        return outcomes

    _CHARGE_MANY = text(
        "UPDATE rate_buckets AS b SET tokens = LEAST(:burst, b.tokens + GREATEST(:now - b.updated_at, 0) * :rate) "
        "- u.cost, updated_at = GREATEST(b.updated_at, :now) "
        "FROM unnest(CAST(:keys AS text[]), CAST(:costs AS float8[])) AS u(k, cost) "
        "WHERE b.key = u.k AND LEAST(:burst, b.tokens + GREATEST(:now - b.updated_at, 0) * :rate) >= u.cost "
        "RETURNING b.key")

    _OPEN_MANY = text(
        "INSERT INTO rate_buckets (key, tokens, updated_at) SELECT u.k, :burst - u.cost, :now "
        "FROM unnest(CAST(:keys AS text[]), CAST(:costs AS float8[])) AS u(k, cost) WHERE u.cost <= :burst "
        "ON CONFLICT (key) DO NOTHING RETURNING key")

    def _charge_many(self, engine: Engine, wanted: dict[str, int]) -> set[str]:
        """Charge each key its count in one statement, only where its bucket holds them all; then open
        the buckets of keys seen for the first time (a batch of new senders), charged, in a second
        statement. The keys charged."""
        now = time.time()
        with autocommit(engine).connect() as connection:  # one statement each: atomic under the rows' locks
            charged = {str(key) for (key,) in connection.execute(self._CHARGE_MANY, {
                "burst": self.burst, "rate": self.rate, "now": now,
                "keys": list(wanted), "costs": [float(n) for n in wanted.values()]})}
            new = [key for key in wanted if key not in charged]
            if new:
                charged |= {str(key) for (key,) in connection.execute(self._OPEN_MANY, {
                    "burst": self.burst, "now": now, "keys": new, "costs": [float(wanted[k]) for k in new]})}
        self._counted(engine, sum(wanted[key] for key in charged))
        return charged

    def _refuse(self, key: str, tokens: float, cost: float) -> NoReturn:
        wait = (cost - tokens) / self.rate
        raise TooManyRequests(**messages.notice("rate-limited", key=key, wait=f"{wait:.1f}"), retry_after=wait)

    def check_held(self, key: str, cost: float = 1) -> bool:
        """Charge ``key`` from what this process holds, without a database statement: its own bucket (429
        when short), or what it leased from the shared one. False when the shared bucket must be asked
        (:meth:`check`, in a thread: its statement must not stall an event loop). An async endpoint
        calls this first: most of a busy client's requests are paid from the lease, and a thread
        hop per request for nothing cost the relay more than the check (benchmarks/api.md)."""
        if self.engine is None:
            self.check(key, cost)
            return True
        return self._spend_leased(key[:128], cost)

    def _spend_leased(self, key: str, cost: float) -> bool:
        with self._lock:
            held = self._leased.get(key, 0.0)
            if held >= cost:
                self._leased[key] = held - cost
                return True
        return False

    def _check_leased(self, key: str, engine: Engine, cost: float) -> None:
        """Spend what this replica leased for ``key``; lease more from the shared bucket when short."""
        if self._spend_leased(key, cost):
            return
        lease = self.lease(cost)
        try:
            self._check_shared(key, engine, lease)
        except TooManyRequests:
            if lease <= cost:
                raise
            self._check_shared(key, engine, cost)  # the bucket may still hold this one request
            lease = cost
        with self._lock:
            self._leased[key] = self._leased.get(key, 0.0) + lease - cost
            if len(self._leased) > 100_000:  # forget leftovers rather than grow without bound
                self._leased = {}

    def _check_shared(self, key: str, engine: Engine, cost: float) -> None:
        table = rate_buckets
        now = time.time()  # wall clock: the replicas share it, not their monotonic clocks
        # A check that waited (for a pooled connection, for the row's lock) may find the bucket
        # stamped later than its own ``now``: it refills nothing then, and never moves the stamp
        # back. (A negative elapsed time, times the rate, emptied a full bucket: 429s under load.)
        later = table.c.updated_at < now
        refilled = table.c.tokens + case((later, now - table.c.updated_at), else_=0) * self.rate
        level = case((refilled > self.burst, self.burst), else_=refilled)
        for _ in range(2):
            with autocommit(engine).connect() as connection:  # one statement: atomic under the row's lock
                taken = connection.execute(update(table).where((table.c.key == key) & (level >= cost)).values(
                    tokens=level - cost, updated_at=case((later, now), else_=table.c.updated_at))).rowcount
                if taken == 1:
                    break
                row = connection.execute(select(table.c.tokens, table.c.updated_at).where(table.c.key == key)).first()
            if row is not None:
                elapsed = max(0.0, now - row.updated_at)
                self._refuse(key, min(self.burst, row.tokens + elapsed * self.rate), cost)
            if cost > self.burst:
                self._refuse(key, self.burst, cost)
            if insert_or_ignore(engine, table, key=key, tokens=self.burst - cost, updated_at=now):
                break
        self._counted(engine, 1)

    def _counted(self, engine: Engine, checks: int) -> None:
        before, self._checks = self._checks, self._checks + checks
        if before // 1000 != self._checks // 1000:  # every 1000 checks: buckets idle for a minute are full again
            with engine.begin() as connection:
                connection.execute(delete(rate_buckets).where(
                    rate_buckets.c.updated_at < time.time() - max(60.0, self.burst / self.rate)))


class SenderAdmission:
    """The per-sender limit as the relay charges it: one request (``admit(sender)``), or a batch's senders
    at once (``many``: one statement on the shared database for the whole batch)."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def __call__(self, sender: str) -> None:
        self.limiter.check(sender.lower())

    def many(self, senders: list[str]) -> list[BaseException | None]:
        return self.limiter.check_many([s.lower() for s in senders])


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


def client_key(request: Request) -> str:
    """The client-rate bucket of ``request``: its client's address."""
    return f"client {client_address(request, request.app.state.trusted_proxies)}"


def admit_client(request: Request) -> None:
    """Charge the client address's bucket (429 when empty): every request that costs the node work."""
    request.app.state.client_rate_limiter.check(client_key(request))


class BodySizeLimit:
    """Refuse bodies over ``limit`` bytes (``overrides``: another limit for paths under a prefix, e.g. sealed
    documents), by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, limit: int, overrides: Mapping[str, int] | None = None) -> None:
        self.app, self.default, self.overrides = app, limit, dict(overrides or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next((n for prefix, n in self.overrides.items() if path.startswith(prefix)), self.default)
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        locale = refusals.requested(Request(scope))
        refused = ValidationError(**messages.notice("body-too-large", limit=limit))
        response = problem(413, "Request too large", refusals.detail(refused, locale), locale=locale)
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


MAX_JSON_DEPTH = 256
"""How deep a JSON body may nest (arrays and objects). The deepest bodies of the API are certificates of
version chains: each revision carries the certificate it revises, two levels deeper, and pydantic's JSON
parser reads up to 99 links (200 levels); a metadata document stops at 32
(:data:`ledger.registry.metadata.MAX_DEPTH`). Python's parser, at the default recursion limit, fails near
1,000: well above this."""

_JSON_TOKENS = re.compile(r'\\.|["\[\]{}]', re.DOTALL)
"""What decides the nesting: brackets, and the quotes around strings (an escaped character is skipped whole)."""


def nests_deeper(body: bytes, limit: int) -> bool:
    """Whether the JSON text ``body`` nests deeper than ``limit`` arrays and objects (brackets inside strings
    do not count). A body with at most ``limit`` opening brackets cannot, so it is only counted (a relay
    batch pays two ``bytes.count``); only one with more is scanned. Invalid JSON is scanned as far as it
    goes: a parser stops at the first defect too."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    text = body.decode(json.detect_encoding(body), "replace")  # as json.loads reads it: UTF-8, -16 or -32
    depth, in_string = 0, False
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _parsed_as_json(scope: Scope) -> bool:
    """Whether FastAPI parses this request's body as JSON: no content type, ``application/json`` or
    ``application/*+json`` (its own rule, fastapi.routing)."""
    value = dict(scope.get("headers", [])).get(b"content-type")
    if not value:
        return True
    message = email.message.Message()
    message["content-type"] = value.decode("latin-1")
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class JsonDepthLimit:
    """Refuse a JSON body that nests deeper than ``limit`` levels (400) before anything parses it.

    Why: parsing one costs a frame per level (CPython's C parser, pydantic's validation of recursive
    values such as metadata), and before ``ledger/__init__.py`` restored the recursion limit that py_ecc
    raises, a 200 KB body of brackets overflowed the C stack and killed the server. It is refused here
    with a problem that names the rule, before any of that, whatever the recursion limit; and pydantic
    never sees a deep value, whose errors grow with its depth squared (a 618-byte body once gave 16 MB).

    Sits inside :class:`BodySizeLimit`, so the body it reads whole is already bounded; only bodies FastAPI
    would parse as JSON are read.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_DEPTH) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _parsed_as_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body: nobody to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if nests_deeper(body, self.limit):
            locale = refusals.requested(Request(scope))
            refused = ValidationError(**messages.notice("json-too-deep", limit=self.limit))
            await problem(400, "Bad request", refusals.detail(refused, locale), locale=locale)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: the client's disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
