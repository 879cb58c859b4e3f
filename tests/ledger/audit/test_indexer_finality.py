"""The indexer in finalized-only mode stores no block the chain may still drop."""

from __future__ import annotations

import os

from sqlalchemy import func, select

from ledger.audit.indexer import Indexer, sources_from_deployment
from ledger.audit.store import EventRecord, Store
from ledger.chain.client import ChainClient


def test_index_finalized_only_waits_for_final_blocks_then_stores_them(
    anvil, chain, deployment, artifacts, accounts, contract, tmp_path
):
    client = ChainClient(anvil.url, accounts[0], finality="confirmations", finality_confirmations=3)
    store = Store(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    try:
        indexer = Indexer(client, store, sources_from_deployment(deployment, artifacts), finalized_only=True)
        block = chain.transact(contract("TimestampRegistry").functions.stamp(os.urandom(32))).block_number
        indexer.sync()
        assert indexer.cursor()[0] == block - 2  # type: ignore[index]  # the head less 3 confirmations, plus one

        def stored_at_block() -> int:
            with store.session() as session:
                return int(session.scalar(select(func.count()).select_from(EventRecord)
                                          .where(EventRecord.block_number == block)) or 0)

        assert stored_at_block() == 0
        chain.rpc("evm_mine")
        indexer.sync()
        assert stored_at_block() == 0
        chain.rpc("evm_mine")
        indexer.sync()
        assert indexer.cursor()[0] == block and stored_at_block() == 1  # type: ignore[index]
        everything = Indexer(client, store, sources_from_deployment(deployment, artifacts))
        everything.sync()
        assert everything.cursor()[0] == block + 2  # type: ignore[index]  # without the mode: the head
    finally:
        store.dispose()
        client.close()
