"""Servers the tests start on loopback: a free port, and a FastAPI app served by a real uvicorn in a thread."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_on_loopback(app: FastAPI, *, start_within: float = 30.0) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port for the ``with`` block (its base URL); the server
    stops at the end. Fails if it has not started within ``start_within`` seconds."""
    import uvicorn  # here: tests/pg.py (and the benchmarks through it) only need free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_within
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, what: str, timeout: float = 60) -> None:
    """Wait until the API at ``url`` answers its health check; fail with the end of ``log`` if ``process``
    ends first or ``timeout`` passes (a server process started by a test: ``ipledger serve``, a replica)."""
    import httpx
    import pytest

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log.read_text()[-3000:]}", pytrace=False)
        time.sleep(0.1)
