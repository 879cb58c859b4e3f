"""A throwaway PostgreSQL for tests and benchmarks: use IPLEDGER_TEST_PG_URL, or start a cluster.

``.ci/run`` starts a cluster and exports ``IPLEDGER_TEST_PG_URL``. Without it, tests start
their own cluster (initdb into a temporary folder, on a free loopback port; as the
``postgres`` user when running as root, since PostgreSQL refuses to run as root) and stop
it at the end. Only when neither works do the PostgreSQL tests fail, with :data:`HOW_TO`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from tests.serving import free_port

ENV = "IPLEDGER_TEST_PG_URL"

HOW_TO = (
    "the indexer's tests run on PostgreSQL too and need a server. Either set "
    f"{ENV}=postgresql+psycopg://USER@127.0.0.1:PORT/postgres (a user allowed to create databases), "
    "or install PostgreSQL (Debian: `apt-get install -y postgresql`) so the tests can start a throwaway "
    "cluster with its initdb and pg_ctl; `.ci/run` shows both."
)


def pg_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    for initdb in reversed(candidates):
        folder = Path(initdb).parent
        if (folder / "pg_ctl").exists():
            return folder
    return None


class PostgresCluster:
    """initdb + pg_ctl start in a temporary folder; :meth:`stop` removes everything."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="ipledger-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no `postgres` user to run PostgreSQL as") from None
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            self.user = "postgres"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        kwargs: dict[str, Any] = {"user": self.user} if self.user else {}
        result = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=self.folder, **kwargs
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {(result.stdout + result.stderr).strip()[-2000:]}")

    def start(self) -> str:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--no-instructions")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")
        return self.url

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string for psycopg."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def check_server(url: str) -> None:
    """Raise with a clear message when the server at ``url`` does not answer."""
    with psycopg.connect(_libpq(url), connect_timeout=10) as connection:
        connection.execute("select 1")


def create_database(admin_url: str, prefix: str = "ipledger_test", *, template: str | None = None) -> str:
    """A new database on the server of ``admin_url`` (empty, or a copy of ``template``); its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"{copy}')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
