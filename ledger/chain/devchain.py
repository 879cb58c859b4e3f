"""The embedded local chain: an Anvil process on a free loopback port.

Anvil comes from the pinned npm package ``@foundry-rs/anvil-linux-amd64``. Its
state is kept in ``<data_dir>/devchain/state.json``: Anvil loads it at start,
writes it every ``state_interval`` seconds and on a clean exit. Between two
dumps a crash loses blocks; ``ledger.chain.journal`` makes ipledger re-send what it
had acknowledged, so nothing acknowledged is lost.

``ipledger up`` registers its chain in ``<data_dir>/devchain/running.json`` so
other commands use it; without one, a command starts the chain for its own
duration (serialised by a file lock, since two Anvils must not share a state).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ledger.errors import ChainUnavailableError, ConfigurationError
from ledger.settings import get_settings

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""Anvil's well-known development mnemonic: its keys are public, never use them for value."""

DEV_CHAIN_ID = 31337

_LISTENING = re.compile(r"Listening on (\d+\.\d+\.\d+\.\d+):(\d+)")


def anvil_binary() -> Path:
    """The pinned Anvil binary, or a clear error saying how to install it."""
    root = get_settings().project_root
    binary = root / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if not binary.exists():
        raise ConfigurationError(
            f"Anvil is not installed: {binary} is missing. Run `npm ci` in {root} (or `make install`)."
        )
    return binary


class Anvil:
    """One Anvil process; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        state_file: Path | None = None,
        *,
        port: int = 0,
        state_interval: int | None = None,
        chain_id: int = DEV_CHAIN_ID,
        block_time: float | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.state_file = state_file
        self.port = port
        self.state_interval = state_interval or get_settings().anvil_state_interval
        self.chain_id = chain_id
        self.block_time = block_time
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self._log: list[str] = []

    def start(self, timeout: float = 30.0) -> Anvil:
        """Start Anvil and return once it answers JSON-RPC."""
        args = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", DEV_MNEMONIC,
            "--accounts", "10",
        ]
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        if self.block_time is not None:
            args += ["--block-time", str(self.block_time)]
        args += self.extra_args
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop Anvil cleanly
        )
        assert self.process.stdout is not None
        self.url = self._wait_for_listening(self.process.stdout, timeout)
        threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True).start()
        wait_until_ready(self.url, timeout)
        return self

    def _wait_for_listening(self, stdout: IO[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = stdout.readline()
            if not line:
                break
            self._log.append(line)
            match = _LISTENING.search(line)
            if match:
                return f"http://{match.group(1)}:{match.group(2)}"
        self.kill()
        tail = "".join(self._log[-20:])
        raise ChainUnavailableError(f"Anvil did not start:\n{tail}".strip())

    def _drain(self, stdout: IO[str]) -> None:
        # Keep reading so Anvil never blocks on a full pipe; keep a short tail for errors.
        for line in stdout:
            self._log.append(line)
            del self._log[:-50]

    def stop(self, timeout: float = 30.0) -> None:
        """Stop Anvil gracefully (SIGTERM), so it writes its state file."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: what a crash or power loss looks like (state since the last dump is lost)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until_ready(url: str, timeout: float = 30.0) -> None:
    """Poll ``eth_chainId`` until the node answers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if b"result" in response.read():
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.05)
    raise ChainUnavailableError(f"no chain answers at {url}: {last}")


def devchain_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or get_settings().data_dir) / "devchain"


def _running_file(data_dir: Path | None) -> Path:
    return devchain_dir(data_dir) / "running.json"


def running_url(data_dir: Path | None = None) -> str | None:
    """The URL of the chain `ipledger up` runs for this data folder, if it is alive."""
    path = _running_file(data_dir)
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
        wait_until_ready(str(info["url"]), timeout=2)
        return str(info["url"])
    except (OSError, ValueError, KeyError, ChainUnavailableError):
        return None


@contextlib.contextmanager
def _chain_lock(data_dir: Path | None, timeout: float) -> Iterator[None]:
    directory = devchain_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ChainUnavailableError(
                        f"the embedded chain in {directory} is busy (another ipledger command holds it)"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def embedded_chain(data_dir: Path | None = None, *, register: bool = False) -> Iterator[str]:
    """Yield the URL of the embedded chain for this data folder.

    Uses the chain `ipledger up` runs if there is one; otherwise starts Anvil on
    the persisted state for the duration of the block (``register=True`` is for
    `ipledger up` itself, which then advertises its URL to other commands).
    """
    if not register:
        url = running_url(data_dir)
        if url is not None:
            yield url
            return
    with _chain_lock(data_dir, timeout=60.0):
        if not register and (url := running_url(data_dir)) is not None:
            yield url
            return
        anvil = Anvil(devchain_dir(data_dir) / "state.json").start()
        running = _running_file(data_dir)
        try:
            if register:
                assert anvil.process is not None
                running.write_text(json.dumps({"url": anvil.url, "pid": anvil.process.pid}))
            yield anvil.url
        finally:
            if register:
                running.unlink(missing_ok=True)
            anvil.stop()
