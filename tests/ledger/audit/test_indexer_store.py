"""The store's schema: Alembic migrations build exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from ledger.audit.store import MIGRATIONS_DIR, Base, Store, default_db_url
from ledger.errors import ConfigurationError
from ledger.registry import metadata  # noqa: F401  (the blob store's tables share the database)
from ledger.sealing import store as sealed_store  # noqa: F401
from ledger.settings import Settings
from ledger.timestamps import stampstore  # noqa: F401  (the stamp service's tables share the database)
from tests.pg import free_port


def test_migrations_build_exactly_the_models(db_url):
    store = Store(db_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    store.dispose()
    assert differences == []


def test_migrate_is_idempotent_and_downgrades_cleanly(db_url):
    store = Store(db_url)
    assert store.revision() == "0004_blobs"
    store.migrate()
    assert store.tables() == ["alembic_version", "blob_chunks", "blobs", "blocks", "event_accounts", "events",
                              "indexed_contracts", "indexer_cursor", "metadata_documents", "rate_buckets",
                              "relay_slots", "relayed_requests", "relayer_nonces", "sealed_documents",
                              "sealed_recipients", "served_deployments", "stamp_leaves", "stamp_rounds",
                              "tx_journal", "tx_journal_outputs"]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert store.tables() == ["alembic_version"]
    store.migrate()
    assert store.revision() == "0004_blobs"
    store.dispose()


def test_default_database_is_sqlite_in_data_folder(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    assert default_db_url(settings) == f"sqlite:///{tmp_path / 'd' / 'index.sqlite3'}"
    assert default_db_url(Settings(data_dir=tmp_path, db_url="postgresql+psycopg://x@h/db")) == \
        "postgresql+psycopg://x@h/db"
    store = Store(default_db_url(settings))
    assert (tmp_path / "d" / "index.sqlite3").exists()
    store.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("nosuchdb://x/y", "no database driver"),
    ],
)
def test_bad_database_url_raises_configuration_error(url, message):
    with pytest.raises(ConfigurationError, match=message):
        Store(url)


def test_unreachable_postgresql_raises_configuration_error_naming_it():
    url = f"postgresql+psycopg://nobody:secret@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(ConfigurationError, match="cannot open the index database") as failure:
        Store(url)
    assert "secret" not in str(failure.value)


def test_processes_opening_a_new_sqlite_database_together_all_find_it_migrated(tmp_path):
    """A command run while `ipledger up` starts on a new data folder: both migrate the same new SQLite file.
    Without a lock, both found no schema and one failed with "table events already exists"."""
    import subprocess
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    program = (
        "import sys, time\n"
        "from ledger.audit.store import Store\n"
        "start = float(sys.argv[2])\n"
        "time.sleep(max(0.0, start - time.time()))\n"
        "Store(sys.argv[1], durable=True).dispose()\n"
    )
    start = time.time() + 3.0  # every interpreter has imported the store by then
    processes = [subprocess.Popen([sys.executable, "-c", program, url, str(start)], stderr=subprocess.PIPE, text=True)
                 for _ in range(6)]
    failures = [p.communicate(timeout=120)[1] for p in processes if p.wait(timeout=120) != 0]
    assert failures == []
    store = Store(url)
    assert store.revision() == "0004_blobs"
    store.dispose()
