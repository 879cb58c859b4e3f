"""``ipledger`` commands run as their own processes, forked from one that has already imported the CLI.

The tests run hundreds of commands the way a user does, each in a process of its own. Started with
``subprocess.run([ipledger, ...])``, every one was a new interpreter importing web3, eth-account (and,
through eth-keyfile, py_ecc's BLS tables, computed at import), SQLAlchemy and the CLI: 2 to 3 s of CPU
before the command began, most of the suite's time on a 2-core machine. Here multiprocessing's forkserver,
with the CLI preloaded, forks each command instead: it is still a separate process with its own environment,
working folder, argv, standard streams, exit code and exit handlers, and a crash or a hang stays in it; only
the import is shared. What the process's own start-up or lifetime is about (``ipledger up`` supervised by a
test, the README walkthrough, the installed wheel) still starts a fresh interpreter.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from multiprocessing.context import ForkServerContext
from pathlib import Path

IPLEDGER = str(Path(sys.executable).with_name("ipledger"))
"""The console script a user runs (``argv[0]`` of every command)."""

_context: ForkServerContext | None = None


def _forkserver() -> ForkServerContext:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["ledger.cli.main", "tests.cliproc"])
    return _context


def run_ipledger(args: Sequence[str], *, env: Mapping[str, str], cwd: str | Path | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``ipledger ARGS`` in its own process with exactly ``env``, as ``subprocess.run(..., capture_output=True,
    text=True)`` would report it (``TimeoutExpired`` after ``timeout`` seconds, the process killed)."""
    argv = [IPLEDGER, *args]
    with tempfile.TemporaryDirectory(prefix="ipledger-cli-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        process = _forkserver().Process(target=_command, args=(
            argv, dict(env), str(cwd or os.getcwd()), str(out), str(err)))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(argv, timeout, _read(out), _read(err))
        return subprocess.CompletedProcess(argv, process.exitcode, _read(out), _read(err))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _command(argv: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """The forked process: become ``argv`` in ``cwd`` with ``env``, standard output and error into the files.

    Its exit code is the command's (multiprocessing turns ``SystemExit`` into it, and an uncaught exception
    into a traceback on standard error and 1, as the interpreter does); exit handlers run as at a normal exit.
    """
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    from ledger.cli import shell
    from ledger.cli.main import main
    from ledger.settings import get_settings

    # Rich reads COLUMNS, NO_COLOR and the like when a console is made (at import, in the forkserver):
    # made again, the consoles read this command's environment, as in a new interpreter
    shell.out.__init__(soft_wrap=True)  # type: ignore[misc]
    shell.err.__init__(stderr=True, soft_wrap=True)  # type: ignore[misc]
    get_settings.cache_clear()
    sys.argv = argv
    try:
        main()
    finally:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
