"""The embedded local chain: an Anvil process on a free loopback port.

Anvil comes from the pinned npm package ``@foundry-rs/anvil-linux-amd64``. Its
state is kept in ``<data_dir>/devchain/state.json``: Anvil loads it at start,
writes it every ``state_interval`` seconds and on a clean exit. Between two
dumps a crash loses blocks; ``ledger.chain.journal`` makes ipledger re-send what it
had acknowledged, so nothing acknowledged is lost.

**One genesis.** Anvil (1.x) builds a new genesis block at every start, stamped with
the wall clock, *before* it loads the state file, and then dumps every block it holds,
the old genesis and the new one both numbered 0. After a few restarts the state file
holds many blocks 0 and which of them Anvil serves as block 0 depends on hash-map order:
block 1 no longer names block 0 as its parent, and an indexer walking the chain back to
its floor rolls back to block 0 for ever. So the chain is always started with
``--timestamp`` set to its first genesis time (kept in ``state.genesis.json`` beside the
state): the genesis Anvil rebuilds is then the very same block (the same hash). A state
file written before this rule is repaired once, keeping the first genesis. After the
start the clock is set to ``max(now, last block time + 1)``, since ``--timestamp`` also
rewinds Anvil's clock and block times must never go backwards. A state whose block 1
does not follow block 0 is refused with a clear error.

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

from ledger.errors import ChainInconsistentError, ChainUnavailableError, ConfigurationError
from ledger.files import write_json_atomic
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
            args += ["--state", str(self.state_file), "--state-interval", str(self.state_interval),
                     "--timestamp", str(genesis_timestamp(self.state_file))]
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
        if self.state_file is not None:
            try:
                _settle_loaded_chain(self.url, self.state_file)
            except BaseException:
                self.stop()
                raise
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


# -- the persisted chain: one genesis, a clock that never goes back --------------------------


def genesis_file(state_file: Path) -> Path:
    """Where the genesis time of ``state_file`` is kept (``state.json`` -> ``state.genesis.json``)."""
    return state_file.with_name(f"{state_file.stem}.genesis.json")


def genesis_timestamp(state_file: Path) -> int:
    """The genesis time to start Anvil with on ``state_file`` (see the module notes).

    A new chain gets the current time; a state file from before this rule (no
    ``state.genesis.json``) is repaired first, keeping its first genesis.
    """
    marker = genesis_file(state_file)
    if not state_file.exists() or state_file.stat().st_size == 0:
        timestamp = int(time.time())
        write_json_atomic(marker, {"timestamp": timestamp})
        return timestamp
    try:
        return int(json.loads(marker.read_text())["timestamp"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    timestamp = repair_state_file(state_file)
    write_json_atomic(marker, {"timestamp": timestamp})
    return timestamp


def _number(block: dict[str, object]) -> int:
    header = block.get("header")
    value = header.get("number", "0x0") if isinstance(header, dict) else "0x0"
    return int(str(value), 16)


def _timestamp(block: dict[str, object]) -> int:
    header = block.get("header")
    value = header.get("timestamp", "0x0") if isinstance(header, dict) else "0x0"
    return int(str(value), 16)


def repair_state_file(state_file: Path) -> int:
    """Keep one genesis in an Anvil state file that restarts filled with blocks numbered 0; return its time.

    Every start of Anvil without ``--timestamp`` added a genesis at that moment, so the
    chain's own genesis (the one block 1 follows) is the earliest of them.
    """
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError) as exc:
        raise ChainInconsistentError(
            f"the embedded chain's state file {state_file} cannot be read ({exc}); move it aside to start "
            "a new chain (the journal re-sends what this data folder sent)"
        ) from None
    blocks = state.get("blocks") if isinstance(state, dict) else None
    if not isinstance(blocks, list):
        return int(time.time())
    geneses = [b for b in blocks if isinstance(b, dict) and _number(b) == 0]
    if not geneses:
        return int(time.time())
    first = min(geneses, key=_timestamp)
    if len(geneses) > 1:
        state["blocks"] = [b for b in blocks if not (isinstance(b, dict) and _number(b) == 0) or b is first]
        write_json_atomic(state_file, state)
    return _timestamp(first)


def rpc_call(url: str, method: str, params: list[object], timeout: float = 5.0) -> object:
    """One JSON-RPC call over plain HTTP (no web3 needed before the chain is known to be sane)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ChainUnavailableError(f"no chain answers at {url}: {exc}") from None
    if not isinstance(answer, dict) or "error" in answer:
        raise ChainUnavailableError(f"{method} failed at {url}: {answer}")
    return answer.get("result")


def _block(url: str, tag: str) -> dict[str, str] | None:
    found = rpc_call(url, "eth_getBlockByNumber", [tag, False])
    return found if isinstance(found, dict) else None


def _settle_loaded_chain(url: str, state_file: Path) -> None:
    """Refuse a chain whose block 1 does not follow block 0; set the clock so time never goes back."""
    genesis, first = _block(url, "0x0"), _block(url, "0x1")
    if genesis is not None and first is not None and first["parentHash"] != genesis["hash"]:
        raise ChainInconsistentError(
            f"the embedded chain's state file {state_file} is damaged: block 1 follows {first['parentHash']}, "
            f"not block 0 ({genesis['hash']}), so nothing can follow this chain. Move the file (and "
            f"{genesis_file(state_file).name}) aside to start a new chain; the journal re-sends what this "
            "data folder sent"
        )
    latest = _block(url, "latest")
    last_time = int(latest["timestamp"], 16) if latest is not None else 0
    rpc_call(url, "evm_setTime", [max(int(time.time()), last_time + 1)])


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
