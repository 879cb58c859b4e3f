"""An indexer on a chain it cannot follow stops with a sentence instead of rolling back for ever, and
`audit verify` counts the chain's events, so an empty or lagging index never passes as "OK"."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit.indexer import Indexer, sources_from_deployment
from ledger.audit.queries import AuditService
from ledger.audit.store import Store
from ledger.chain.client import ChainClient, dev_accounts
from ledger.chain.deployment import deploy_suite
from ledger.chain.devchain import Anvil
from ledger.errors import ChainInconsistentError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    yield opened
    opened.dispose()


def unlinked_chain(tmp_path: Path, artifacts) -> tuple[Path, object]:  # type: ignore[no-untyped-def]
    """A state file with the suite deployed and 3 stamps whose block 0 is not the genesis block 1 follows
    (what restarts by older ipledger left): served as older ipledger served it, without the repair."""
    state = tmp_path / "state.json"
    with Anvil(state) as node:
        client = ChainClient(node.url, dev_accounts(1)[0], error_abis=[a.abi for a in artifacts.values()])
        deployment = deploy_suite(client, artifacts=artifacts)
        registry = client.contract(artifacts["TimestampRegistry"].abi, deployment.address("TimestampRegistry"))
        for _ in range(3):
            client.transact(registry.functions.stamp(os.urandom(32)))
        client.close()
    data = json.loads(state.read_text())
    for b in data["blocks"]:
        if int(b["header"]["number"], 16) == 0:
            b["header"]["timestamp"] = hex(int(b["header"]["timestamp"], 16) - 3600)
    state.write_text(json.dumps(data))
    return state, deployment


def test_sync_on_chain_whose_blocks_do_not_link_stops_fast_with_inconsistent_error(tmp_path, artifacts, store):
    state, deployment = unlinked_chain(tmp_path, artifacts)
    with Anvil(extra_args=["--state", str(state)]) as node:
        client = ChainClient(node.url)
        indexer = Indexer(client, store, sources_from_deployment(deployment, artifacts))  # type: ignore[arg-type]
        outcome: list[BaseException] = []

        def sync() -> None:
            try:
                indexer.sync()
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome.append(exc)

        worker = threading.Thread(target=sync, daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(30)
        assert not worker.is_alive(), "the indexer is still rolling back after 30 s"
        assert time.monotonic() - started < 10
        [error] = outcome
        assert isinstance(error, ChainInconsistentError)
        assert "does not link: block 1 names" in error.message and "ipledger index" in error.message
        assert indexer.cursor() is not None and indexer.cursor()[0] == 0  # type: ignore[index]
        report = AuditService(store, client.chain_id).verify(
            client, sources_from_deployment(deployment, artifacts))  # type: ignore[arg-type]
        assert report.ok is False and report.unindexed_events >= 3 and report.behind_blocks > 0
        client.close()


@pytest.fixture
def indexer(chain, deployment, artifacts, store) -> Indexer:  # type: ignore[no-untyped-def]
    return Indexer(chain, store, sources_from_deployment(deployment, artifacts))


def test_verify_empty_index_of_busy_chain_is_not_ok(chain, contract, deployment, artifacts, store, indexer):
    for _ in range(2):
        chain.transact(contract("TimestampRegistry").functions.stamp(os.urandom(32)))
    indexer._prepare()  # a cursor at the floor and no events: what the looping indexer left
    report = AuditService(store, chain.chain_id).verify(chain, sources_from_deployment(deployment, artifacts))
    assert report.ok is False
    assert report.unindexed_events >= 2 and report.as_json()["unindexed_events"] == report.unindexed_events
    assert report.indexed_to < report.head == chain.head().number


def test_verify_cursor_behind_head_reports_lag_and_missing_events(chain, contract, deployment, artifacts, store,
                                                                 indexer):
    registry = contract("TimestampRegistry")
    chain.transact(registry.functions.stamp(os.urandom(32)))
    indexer.sync()
    service = AuditService(store, chain.chain_id)
    sources = sources_from_deployment(deployment, artifacts)
    assert service.verify(chain, sources).ok is True
    chain.transact(registry.functions.stamp(os.urandom(32)))
    chain.rpc("evm_mine")
    report = service.verify(chain, sources)
    assert report.ok is False and report.unindexed_events == 1 and report.behind_blocks == 2
    assert report.as_json()["behind_blocks"] == 2
    assert service.verify(chain, sources, to_block=report.indexed_to).ok is True  # an asked-for range is fine
    indexer.sync()
    assert service.verify(chain, sources).ok is True
