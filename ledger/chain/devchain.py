"""The embedded local chain: an Anvil process on a free loopback port.

Anvil comes from the pinned npm package ``@foundry-rs/anvil-linux-amd64``. Its
state is kept in ``<data_dir>/devchain/state.json``: Anvil loads it at start,
dumps to ``state.dump.json`` every ``state_interval`` seconds and on a clean exit,
and a whole dump replaces ``state.json`` (see :func:`promote_dump`: Anvil writes
its dump in place, so a kill during a dump must not cost the chain). Between two
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
``up`` supervises its chain (:class:`SupervisedChain`): a dead Anvil is started again
on the same port and state. A command that finds the registered chain dead says it is
*down* within seconds (while `up` lives), or clears the stale registration and the Anvil
an ipledger that died left behind, and starts its own chain.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import logging
import os
import re
import signal
import subprocess
import tempfile
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

logger = logging.getLogger(__name__)

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""Anvil's well-known development mnemonic: its keys are public, never use them for value."""

DEV_CHAIN_ID = 31337

DEV_ADDRESSES: tuple[str, ...] = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
)
"""The addresses of Anvil's ten development accounts (``--dev-account 0`` ... ``9``), in order: account 0
deploys the suite on the embedded chain and holds its admin and registrar roles."""

_LISTENING = re.compile(r"Listening on (\d+\.\d+\.\d+\.\d+):(\d+)")


def anvil_binary() -> Path:
    """The pinned Anvil binary, or a clear error saying how to install it."""
    settings = get_settings()
    root = settings.project_root
    binary = root / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if not binary.exists() and not settings.contracts_dir.is_dir():  # an installed wheel, not a checkout
        raise ConfigurationError(
            "the embedded local chain (`ipledger up`, or any command while IPLEDGER_RPC_URL is unset) needs Anvil, "
            f"which comes with a source checkout's npm packages; this ipledger is installed from a wheel ({root}). "
            "Set IPLEDGER_RPC_URL to your chain's JSON-RPC URL: serving the API, verify, deploy and the client work "
            "against it. For the local stack, run ipledger from a checkout with `npm ci` done (`make up`).")
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
            promote_dump(self.state_file)
            if self.state_file.exists() and self.state_file.stat().st_size > 0:
                args += ["--load-state", str(self.state_file)]
            args += ["--dump-state", str(dump_file(self.state_file)), "--state-interval", str(self.state_interval),
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
                self.kill()  # leave the refused state file as it was
                dump_file(self.state_file).unlink(missing_ok=True)
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
        """Stop Anvil gracefully, its whole state saved in the state file.

        Anvil's own dump at exit can race its periodic dump (both rewrite the dump file in
        place, and an older snapshot may land last), so the state is first taken over
        JSON-RPC (``anvil_dumpState``) and written atomically; Anvil's exit dump then
        replaces it only if it holds more blocks.
        """
        if self.process is None or self.process.poll() is not None:
            return
        saved = self._save_state() if self.state_file is not None else None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        if self.state_file is not None:
            promote_dump(self.state_file, newer_than=saved)

    def _save_state(self) -> int | None:
        """Write the chain's state to the state file atomically; return its best block (None if it failed)."""
        assert self.state_file is not None
        try:
            raw = rpc_call(self.url, "anvil_dumpState", [], timeout=30.0)
            content = gzip.decompress(bytes.fromhex(str(raw).removeprefix("0x")))
            best = _best_block(json.loads(content))
        except (ChainUnavailableError, ValueError, OSError, EOFError) as exc:
            logger.warning("could not take the chain's state over JSON-RPC (%s); relying on Anvil's own dump", exc)
            return None
        _write_bytes_atomic(self.state_file, content)
        return best

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


def dump_file(state_file: Path) -> Path:
    """Where Anvil writes its dumps of ``state_file`` (``state.json`` -> ``state.dump.json``)."""
    return state_file.with_name(f"{state_file.stem}.dump.json")


def _write_bytes_atomic(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _best_block(state: object) -> int:
    value = state.get("best_block_number", 0) if isinstance(state, dict) else 0
    return int(value, 16) if isinstance(value, str) else int(value or 0)


def promote_dump(state_file: Path, *, newer_than: int | None = None) -> None:
    """Make Anvil's last dump the state to load, if it is whole; set aside one that was cut short.

    Anvil rewrites its dump file in place (truncate, then write, every ``--state-interval``
    seconds and on exit), so a SIGKILL or a power loss during a dump leaves half a file, which
    Anvil then refuses to load: the chain would never start again. It therefore loads
    ``state.json`` and dumps to ``state.dump.json``; a whole dump replaces ``state.json``
    atomically (at a clean stop and before each start), a partial one is kept aside as
    ``state.dump.json.partial`` and the previous state is loaded (the journal re-sends the rest).
    With ``newer_than`` (the best block of a state saved at the stop), only a dump holding more
    blocks replaces it.
    """
    dump = dump_file(state_file)
    try:
        content = dump.read_bytes()
    except FileNotFoundError:
        return
    try:
        if not content.rstrip().endswith(b"}"):
            raise ValueError("it ends mid-way")
        best = _best_block(json.loads(content))
    except ValueError as exc:
        partial = dump.with_name(dump.name + ".partial")
        os.replace(dump, partial)
        logger.warning("the chain's last state dump was cut short (%s; kept as %s): starting from %s, the "
                       "dump before it", exc, partial, state_file)
        return
    if newer_than is not None and best <= newer_than:
        dump.unlink()  # the state file already holds as much (taken over JSON-RPC at the stop)
        return
    with open(dump, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(dump, state_file)


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


def _transient_file(data_dir: Path | None) -> Path:
    return devchain_dir(data_dir) / "transient.json"


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is dead for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _answers(info: dict[str, object], timeout: float = 2.0) -> bool:
    """The registered Anvil process lives and answers JSON-RPC (fast when the process is gone)."""
    if not _pid_alive(info.get("pid")):
        return False
    try:
        wait_until_ready(str(info["url"]), timeout=timeout)
    except (KeyError, ChainUnavailableError):
        return False
    return True


def running_url(data_dir: Path | None = None) -> str | None:
    """The URL of the chain `ipledger up` runs for this data folder, if it is alive."""
    info = _read_json(_running_file(data_dir))
    if info is None or ("owner" in info and not _pid_alive(info["owner"])):
        return None  # no `up`, or its `up` has gone: the lock path clears what it left
    return str(info["url"]) if _answers(info) else None


def _is_our_anvil(pid: object, state_file: Path) -> bool:
    """``pid`` is an Anvil process on this state file (never signal a stranger that reused the pid)."""
    if not _pid_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            args = fh.read().split(b"\0")
    except OSError:
        return False
    return bool(args) and args[0].endswith(b"anvil") and (
        str(state_file).encode() in args or str(dump_file(state_file)).encode() in args
    )


def _end_process(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM (Anvil then writes its state), SIGKILL if it does not go."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _clear_leftovers(data_dir: Path | None) -> None:
    """Under the lock: stop Anvils whose ipledger died without stopping them, drop their registrations.

    Two Anvils must never share a state file: the orphan would keep dumping its older state over
    the new chain's.
    """
    state = devchain_dir(data_dir) / "state.json"
    for path in (_transient_file(data_dir), _running_file(data_dir)):
        info = _read_json(path)
        if info is None:
            path.unlink(missing_ok=True)
            continue
        if _pid_alive(info.get("owner")):
            continue
        pid = info.get("pid")
        if isinstance(pid, int) and _is_our_anvil(pid, state):
            logger.warning("stopping Anvil %s left running by ipledger process %s, which has gone", pid,
                           info.get("owner"))
            _end_process(pid)
        path.unlink(missing_ok=True)


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _down_message(data_dir: Path | None, info: dict[str, object], waited: float) -> str:
    return (
        f"the embedded chain of `ipledger up` (pid {info.get('owner', '?')}) for {devchain_dir(data_dir).parent} "
        f"is down: its Anvil (pid {info.get('pid', '?')}) at {info.get('url', '?')} does not answer, and it was "
        f"not back within {waited:.0f} s. Look at the terminal running `ipledger up` (it restarts the chain, or "
        "stops with the reason after repeated failures); or stop it and run this command again, which then "
        "starts the chain itself."
    )


DOWN_GRACE_SECONDS = 8.0
"""How long a command waits for `ipledger up` to bring its dead chain back before saying it is down."""


@contextlib.contextmanager
def _chain_lock(data_dir: Path | None, timeout: float) -> Iterator[str | None]:
    """Hold the data folder's chain lock; yield early (the URL) if `ipledger up`'s chain comes up meanwhile.

    Yields None when the lock is held (the caller starts its own chain), or the URL of the registered
    chain of `ipledger up` when one answers while waiting. A registered chain that does not answer while
    its `up` lives is *down*: after :data:`DOWN_GRACE_SECONDS` that is the error, not "busy".
    """
    directory = devchain_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as lock:
        started = time.monotonic()
        while not _try_lock(lock):
            info = _read_json(_running_file(data_dir))
            if info is not None:
                if _answers(info, timeout=1.0):
                    yield str(info["url"])
                    return
                if _pid_alive(info.get("owner")) and time.monotonic() - started > DOWN_GRACE_SECONDS:
                    raise ChainUnavailableError(_down_message(data_dir, info, time.monotonic() - started))
            if time.monotonic() - started > timeout:
                raise ChainUnavailableError(
                    f"the embedded chain in {directory} is busy (another ipledger command holds it)"
                )
            time.sleep(0.1)
        try:
            yield None
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def embedded_chain(data_dir: Path | None = None, *, register: bool = False) -> Iterator[str]:
    """Yield the URL of the embedded chain for this data folder.

    Uses the chain `ipledger up` runs if there is one; otherwise starts Anvil on
    the persisted state for the duration of the block. A registration whose `ipledger up`
    has gone (with or without its Anvil) is cleared and the command starts its own chain;
    one whose `up` lives but whose Anvil does not answer is given a few seconds to come
    back, then reported down. ``register=True`` is for callers that advertise the chain to
    other commands (see :class:`SupervisedChain`, which `ipledger up` uses).
    """
    if register:
        with SupervisedChain(data_dir) as chain:
            yield chain.url
        return
    url = running_url(data_dir)
    if url is not None:
        yield url
        return
    with _chain_lock(data_dir, timeout=60.0) as registered:
        if registered is not None:
            yield registered
            return
        _clear_leftovers(data_dir)
        anvil = Anvil(devchain_dir(data_dir) / "state.json").start()
        assert anvil.process is not None
        transient = _transient_file(data_dir)
        write_json_atomic(transient, {"pid": anvil.process.pid, "owner": os.getpid(), "url": anvil.url})
        try:
            yield anvil.url
        finally:
            anvil.stop()
            transient.unlink(missing_ok=True)


class SupervisedChain:
    """The chain `ipledger up` runs: registered for other commands, restarted from its state when it dies.

    Holds the data folder's chain lock for its whole life. :meth:`check` (call it every
    second or so) notices a dead or silent Anvil and starts a new one on the same port and
    state file, so URLs handed out stay valid; the caller then reconciles the journal (the
    blocks since the last state dump are gone). More than ``max_restarts`` restarts within
    ``window`` seconds, or a chain that will not start again, raise ChainUnavailableError.
    """

    def __init__(self, data_dir: Path | None = None, *, max_restarts: int = 3, window: float = 60.0) -> None:
        self.data_dir = data_dir
        self.state_file = devchain_dir(data_dir) / "state.json"
        self.max_restarts = max_restarts
        self.window = window
        self.restarts: list[float] = []
        self.anvil: Anvil | None = None
        self.url = ""
        self.last_exit: str = ""
        self._stack = contextlib.ExitStack()
        self._silent = 0

    def __enter__(self) -> SupervisedChain:
        try:
            if self._stack.enter_context(_chain_lock(self.data_dir, timeout=60.0)) is not None:
                raise ChainUnavailableError(
                    f"`ipledger up` already runs the embedded chain of {devchain_dir(self.data_dir).parent}"
                )
            _clear_leftovers(self.data_dir)
            self.anvil = Anvil(self.state_file).start()
            self.url = self.anvil.url
            self._register()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _register(self) -> None:
        assert self.anvil is not None and self.anvil.process is not None
        write_json_atomic(_running_file(self.data_dir),
                          {"url": self.url, "pid": self.anvil.process.pid, "owner": os.getpid()})

    @property
    def pid(self) -> int | None:
        return self.anvil.process.pid if self.anvil is not None and self.anvil.process is not None else None

    def check(self) -> bool:
        """Restart the chain if it died (or stopped answering three checks in a row); True if restarted."""
        anvil = self.anvil
        assert anvil is not None and anvil.process is not None
        code = anvil.process.poll()
        if code is None:
            try:
                wait_until_ready(self.url, timeout=2.0)
                self._silent = 0
                return False
            except ChainUnavailableError:
                self._silent += 1
                if self._silent < 3:
                    return False
            anvil.kill()
            self.last_exit = "it stopped answering (killed)"
        else:
            self.last_exit = f"it exited ({_exit_reason(code)})"
        self._silent = 0
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < self.window] + [now]
        tail = "".join(anvil._log[-5:]).strip()
        if len(self.restarts) > self.max_restarts:
            raise ChainUnavailableError(
                f"the embedded chain died {len(self.restarts)} times within {self.window:.0f} s (last: "
                f"{self.last_exit}); `ipledger up` stopped rather than restart it again. Its state is in "
                f"{self.state_file}." + (f" Anvil's last output: {tail}" if tail else "")
            )
        port = int(self.url.rsplit(":", 1)[1])
        error: ChainUnavailableError | None = None
        for attempt in range(3):
            try:
                self.anvil = Anvil(self.state_file, port=port).start()
                self._register()
                return True
            except ChainUnavailableError as exc:
                error = exc
                time.sleep(0.5 * 2**attempt)
        raise ChainUnavailableError(
            f"the embedded chain died ({self.last_exit}) and did not start again on {self.url}: {error}"
        )

    def close(self) -> None:
        try:
            _running_file(self.data_dir).unlink(missing_ok=True)
            if self.anvil is not None:
                self.anvil.stop()
        finally:
            self._stack.close()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


# -- the other development nodes: the test matrix (IPLEDGER_TEST_NODE) -------------------------------

TEST_NODES = ("anvil", "hardhat", "ganache")
"""The nodes the chain-facing tests run on (``IPLEDGER_TEST_NODE``): Anvil (the default, also the
embedded chain), Hardhat's node (``hardhat@2``, on EDR) and Ganache 7. All three serve the dev
mnemonic's accounts on chain 31337 and share the dev methods the tests use (``evm_snapshot``,
``evm_revert``, ``evm_mine``, ``evm_increaseTime``, ``evm_setAutomine``); only Anvil is used for the
embedded chain, whose state and clock need its ``anvil_*`` methods."""


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NodeProcess:
    """A development node other than Anvil, run from its pinned npm package on a free loopback port.

    No state file and no supervision: these serve the test matrix only.
    """

    name = "node"
    package = ""

    def __init__(self, *, port: int = 0, chain_id: int = DEV_CHAIN_ID) -> None:
        self.port = port
        self.chain_id = chain_id
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self._log: list[str] = []

    def command(self, root: Path, port: int) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> NodeProcess:
        """Start the node and return once it answers ``eth_chainId`` (a taken port is retried)."""
        root = get_settings().project_root
        if not (root / "node_modules" / self.package).is_dir():
            raise ConfigurationError(
                f"{self.name} is not installed: {root / 'node_modules' / self.package} is missing. Run `npm ci` "
                f"in {root} (or `make install`)."
            )
        error: ChainUnavailableError | None = None
        for _ in range(3):
            port = self.port or _free_port()
            self.process = subprocess.Popen(
                self.command(root, port), cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                start_new_session=True,
            )
            assert self.process.stdout is not None
            threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True).start()
            self.url = f"http://127.0.0.1:{port}"
            try:
                self._wait(timeout)
                return self
            except ChainUnavailableError as exc:
                error = exc
                self.kill()
        assert error is not None
        raise error

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = "".join(self._log[-20:])
                raise ChainUnavailableError(f"{self.name} did not start:\n{tail}".strip())
            try:
                wait_until_ready(self.url, timeout=0.5)
                return
            except ChainUnavailableError:
                continue
        raise ChainUnavailableError(f"{self.name} did not answer at {self.url} within {timeout:.0f} s")

    def _drain(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._log.append(line)
            del self._log[:-50]

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # its own session: npx/node children go too
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> NodeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HardhatNode(NodeProcess):
    """``hardhat node`` (Hardhat 2 on EDR) with the repository's ``hardhat.config.js`` (Shanghai, chain 31337)."""

    name = "Hardhat"
    package = "hardhat"

    def command(self, root: Path, port: int) -> list[str]:
        cli = root / "node_modules" / "hardhat" / "internal" / "cli" / "cli.js"
        return ["node", str(cli), "node", "--config", str(root / "hardhat.config.js"),
                "--hostname", "127.0.0.1", "--port", str(port)]


class GanacheNode(NodeProcess):
    """Ganache 7 on the Shanghai hard fork (its newest), the dev mnemonic, 30M-gas blocks, instant mining."""

    name = "Ganache"
    package = "ganache"

    def command(self, root: Path, port: int) -> list[str]:
        cli = root / "node_modules" / "ganache" / "dist" / "node" / "cli.js"
        return ["node", str(cli), "--chain.hardfork", "shanghai", "--chain.chainId", str(self.chain_id),
                "--wallet.mnemonic", DEV_MNEMONIC, "--wallet.totalAccounts", "10",
                "--wallet.defaultBalance", "10000", "--miner.blockGasLimit", "30000000",
                "--server.host", "127.0.0.1", "--server.port", str(port), "--logging.quiet"]


DevNode = Anvil | NodeProcess


def matrix_node_kind(value: str | None = None) -> str:
    """The test node named by ``value`` or ``IPLEDGER_TEST_NODE`` (default ``anvil``), checked."""
    kind = (value if value is not None else os.environ.get("IPLEDGER_TEST_NODE", "")).strip().lower() or "anvil"
    if kind not in TEST_NODES:
        raise ConfigurationError(f"IPLEDGER_TEST_NODE={kind!r}: choose one of {', '.join(TEST_NODES)}")
    return kind


def dev_node(kind: str | None = None) -> DevNode:
    """A new, unstarted development node of ``kind`` (default :func:`matrix_node_kind`)."""
    chosen = matrix_node_kind(kind)
    if chosen == "hardhat":
        return HardhatNode()
    if chosen == "ganache":
        return GanacheNode()
    return Anvil()


def fund(url: str, address: str, wei: int) -> None:
    """Set a development account's balance (Anvil's ``anvil_setBalance``: the embedded chain only)."""
    rpc_call(url, "anvil_setBalance", [address, hex(wei)])
