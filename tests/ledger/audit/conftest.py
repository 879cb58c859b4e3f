"""Database fixtures for the indexer and audit tests: every ``db_url`` test runs on SQLite AND PostgreSQL.

PostgreSQL is the session's ``pg_server`` (tests/conftest.py): IPLEDGER_TEST_PG_URL or a throwaway
cluster; one that cannot be had is a failure with instructions, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.pg import create_database, drop_database


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
