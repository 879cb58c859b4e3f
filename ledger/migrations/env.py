"""Alembic environment: migrates the connection ``Store.migrate`` hands over, or ``-x url=...``.

Run from the code (``Store(url).migrate()``); for a new revision, from the project root:
``.venv/bin/alembic -c /dev/null -x url=sqlite:///tmp/x.sqlite3 revision --autogenerate``
is not needed: write migrations by hand, ``test_indexer_store.py`` checks them against the models.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from ledger.store import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with -x url=... (or use ledger.store.Store(url).migrate())")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; migrate a database")
run_migrations()
