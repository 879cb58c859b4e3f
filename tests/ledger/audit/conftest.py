"""Database fixtures for the indexer and audit tests: every ``db_url`` test runs on SQLite AND PostgreSQL.

PostgreSQL comes from IPLEDGER_TEST_PG_URL (CI: `.ci/run` starts one) or, when that is unset,
from a throwaway cluster the session starts itself. A PostgreSQL that cannot be had is a
failure with instructions, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.pg import ENV, HOW_TO, PostgresCluster, check_server, create_database, drop_database, pg_bin_dir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server URL whose user may create databases."""
    url = os.environ.get(ENV)
    if url:
        try:
            check_server(url)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
            pytest.fail(f"{ENV}={url} does not answer ({exc}); {HOW_TO}", pytrace=False)
        yield url
        return
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.fail(f"{ENV} is unset and PostgreSQL is not installed here: {HOW_TO}", pytrace=False)
    cluster = PostgresCluster(bin_dir)
    try:
        url = cluster.start()
    except Exception as exc:  # noqa: BLE001
        cluster.stop()
        pytest.fail(f"{ENV} is unset and a throwaway cluster did not start ({exc}); {HOW_TO}", pytrace=False)
    yield url
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """A database with the schema migrated once; each test's database is a copy (much faster)."""
    from ledger.audit.store import Store

    url = create_database(pg_server, "ipledger_template")
    Store(url).dispose()
    yield make_url(url).database or ""
    drop_database(pg_server, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty database: a SQLite file, or a new database on the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'index.sqlite3'}"
        return
    server: str = request.getfixturevalue("pg_server")
    url = create_database(server, template=request.getfixturevalue("pg_template"))
    yield url
    drop_database(server, url)
