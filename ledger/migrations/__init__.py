"""Alembic migrations of the indexer's store (run by ``ledger.store.Store.migrate``)."""
