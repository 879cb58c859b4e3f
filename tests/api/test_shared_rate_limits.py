"""Rate limits shared by API replicas through the database (``shared``: SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.errors import TooManyRequests
from api.limits import RateLimiter
from api.main import create_app
from ledger.audit.store import Store
from ledger.chain.client import ChainClient
from ledger.chain.deployment import Deployment
from ledger.chain.state import rate_buckets
from ledger.context import open_ledger
from ledger.settings import Settings
from tests.pg import create_database, drop_database


def test_rate_limit_is_shared_by_replicas_on_the_database(shared: Store) -> None:
    replicas = [RateLimiter(rate=0.001, burst=3, engine=shared.engine) for _ in range(3)]
    for limiter in replicas:
        limiter.check("client 10.0.0.1")
    with pytest.raises(TooManyRequests) as refused:
        replicas[0].check("client 10.0.0.1")
    assert refused.value.context["retry_after"] > 0
    replicas[1].check("client 10.0.0.2")  # another key has its own bucket


def test_rate_limit_charged_for_a_batch_refuses_exactly_the_requests_one_by_one_would(shared: Store) -> None:
    limiter = RateLimiter(rate=0.001, burst=3, engine=shared.engine)
    limiter.check("0xfull")  # 2 tokens left: the batch's two requests are charged at once
    for _ in range(3):
        limiter.check("0xspent")
    outcomes = limiter.check_many(["0xfull", "0xspent", "0xnew", "0xfull", "0xnew", "0xnew", "0xnew"])
    refused = [isinstance(o, TooManyRequests) for o in outcomes]
    assert refused == [False, True, False, False, False, False, True]  # 0xnew: its burst of 3, then 429
    with pytest.raises(TooManyRequests):
        RateLimiter(rate=0.001, burst=3, engine=shared.engine).check("0xfull")  # another replica sees it spent


def test_apps_serving_one_ledger_on_postgresql_share_their_buckets(
        chain: ChainClient, deployment: Deployment, pg_server: str, tmp_path: Path) -> None:
    """`ipledger serve` hands its open ledger to ``create_app``: that app's limiters must use the shared
    database too, or N replicas would allow N times the configured rate."""
    manifest = tmp_path / "deployment.json"
    manifest.write_text(deployment.model_dump_json())
    db_url = create_database(pg_server, "ipledger_shared_limits")
    settings = Settings(data_dir=tmp_path / "data", rpc_url=chain.rpc_url, deployment=manifest, db_url=db_url,
                        api_client_rate_per_second=0.001, stamp_client_leaves_per_second=0.001)
    try:
        with open_ledger(settings, need_account=False) as ledger:
            replica_a, replica_b = create_app(ledger=ledger), create_app(ledger=ledger)
            with TestClient(replica_a), TestClient(replica_b):  # their lifespans run, as under uvicorn
                for name, key in (("client_rate_limiter", "client 10.0.0.9"),
                                  ("stamp_rate_limiter", "client 10.0.0.9 (leaves)")):
                    a, b = getattr(replica_a.state, name), getattr(replica_b.state, name)
                    a.check(key, cost=a.burst)  # replica A spends the client's whole burst
                    with pytest.raises(TooManyRequests):
                        b.check(key, cost=a.burst)  # replica B sees it spent
    finally:
        drop_database(pg_server, db_url)


def test_check_that_waited_behind_a_later_one_refills_nothing_and_never_refuses_a_full_bucket(shared: Store) -> None:
    """Under load a check can reach the row after another replica stamped it later than this check's
    own clock reading: that must not count as negative time (which emptied full buckets: 429s)."""
    limiter = RateLimiter(rate=100_000, burst=200_000, engine=shared.engine)
    with shared.engine.begin() as connection:
        connection.execute(rate_buckets.insert().values(key="client late", tokens=150_000.0,
                                                        updated_at=time.time() + 5))
        connection.execute(rate_buckets.insert().values(key="0xlate", tokens=150_000.0, updated_at=time.time() + 5))
    limiter.check("client late")
    assert limiter.check_many(["0xlate", "0xlate"]) == [None, None]
    with shared.engine.connect() as connection:
        rows = dict(connection.execute(select(rate_buckets.c.key, rate_buckets.c.tokens)).all())
        stamps = dict(connection.execute(select(rate_buckets.c.key, rate_buckets.c.updated_at)).all())
    # charged (the check leases its share at once), nothing refilled
    batch = 149_998 if shared.engine.dialect.name == "postgresql" else 150_000 - limiter.lease(1)  # one statement
    assert rows["client late"] == 150_000 - limiter.lease(1) and rows["0xlate"] == batch  # on PostgreSQL
    assert min(stamps["client late"], stamps["0xlate"]) > time.time() + 4  # the later stamp kept


def test_batch_of_new_senders_opens_their_buckets_charged(shared: Store) -> None:
    limiter = RateLimiter(rate=0.001, burst=3, engine=shared.engine)
    assert limiter.check_many(["0xfirst", "0xsecond", "0xfirst"]) == [None, None, None]
    with shared.engine.connect() as connection:
        rows = dict(connection.execute(select(rate_buckets.c.key, rate_buckets.c.tokens)).all())
    assert round(rows["0xfirst"], 3) == 1 and round(rows["0xsecond"], 3) == 2
    refused = limiter.check_many(["0xfirst", "0xfirst"])
    assert refused[0] is None and isinstance(refused[1], TooManyRequests)  # the third of a burst of 3, then 429


def test_check_held_spends_only_this_replicas_lease_and_never_the_shared_bucket(shared: Store) -> None:
    """The relay endpoint charges the client's lease on the event loop (``check_held``) and asks the database
    in a thread only when the lease is spent: a held check must never let more through than the leases."""
    limiter = RateLimiter(rate=100, burst=200, engine=shared.engine)  # a lease of 100 * 0.05 = 5 tokens
    assert not limiter.check_held("client 10.0.0.9")  # nothing leased yet: the database must be asked
    limiter.check("client 10.0.0.9")  # leases 5 from the shared bucket, spends 1
    assert [limiter.check_held("client 10.0.0.9") for _ in range(5)] == [True] * 4 + [False]
    with shared.engine.connect() as connection:
        tokens = connection.execute(select(rate_buckets.c.tokens).where(rate_buckets.c.key == "client 10.0.0.9"))
        assert tokens.scalar_one() == pytest.approx(195, abs=1)  # one lease taken from the bucket, no more
    assert not RateLimiter(rate=100, burst=200, engine=shared.engine).check_held("client 10.0.0.9")  # another replica


def test_check_held_in_one_process_is_the_whole_check() -> None:
    limiter = RateLimiter(rate=0.001, burst=2)
    assert limiter.check_held("client 10.0.0.9") and limiter.check_held("client 10.0.0.9")
    with pytest.raises(TooManyRequests):
        limiter.check_held("client 10.0.0.9")
