"""Files written so that a reader never sees half of one, even after a crash or power loss.

Temp files are made with :func:`tempfile.mkstemp`, so they are private (0600) until renamed into place;
``shared=True`` gives a document meant for others (a certificate, a report, an export) the mode a new
file gets from the user's umask (0644 under umask 022) instead. Keys and sealed material stay private.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def shared_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file: 0666 less the umask."""
    return 0o666 & ~umask()


def share(fd: int) -> None:
    """Give the open (temp) file ``fd`` the mode a new file gets from the umask, not mkstemp's 0600."""
    os.fchmod(fd, shared_mode())


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) while the block runs; wait for it if another
    process holds it. The system releases it when its holder exits, even killed, so no stale lock remains.
    (``fcntl.flock`` rather than a library: the data folder is local, the project already runs on POSIX only.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader never sees half a file, even after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_bytes_atomic(path: Path, data: bytes, *, shared: bool = False, make_parents: bool = True) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temp file in the same folder, then a rename);
    ``shared``: with the umask's mode (a document for others), not 0600."""
    with atomic_writer(path, shared=shared, make_parents=make_parents) as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_writer(path: Path, *, text: bool = False, shared: bool = False, make_parents: bool = True,
                  ) -> Iterator[IO[Any]]:
    """A temp file beside ``path`` (text: UTF-8, newlines as written), renamed onto ``path`` only if the block
    completes and removed otherwise, so ``path`` holds the whole new content or what it held before.

    A ``path`` that exists and is not a regular file (a folder, a device such as /dev/full, a pipe) is
    refused with IsADirectoryError or OSError before anything is written: a rename would replace it.
    """
    try:
        existing = os.stat(path)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if shared:
            share(fd)
        with (os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
