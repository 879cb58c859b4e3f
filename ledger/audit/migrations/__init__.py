"""Alembic migrations of the indexer's store (run by ``ledger.audit.store.Store.migrate``)."""
