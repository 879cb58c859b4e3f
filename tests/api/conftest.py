"""The API on the session chain: TestClient for routes, a real uvicorn on loopback for concurrency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.settings import Settings
from tests.serving import serve_on_loopback


@pytest.fixture(scope="session")
def api_ledger(chain, deployment, artifacts, tmp_path_factory) -> Ledger:
    settings = Settings(data_dir=tmp_path_factory.mktemp("api-data"), api_rate_per_second=1000)
    return Ledger(settings, chain, deployment, artifacts, embedded=False)


@pytest.fixture(autouse=True)
def _relay_forgets_reverted_requests(request: pytest.FixtureRequest) -> Iterator[None]:
    """The chain is reverted after each test, so what the session's relay sent never happened: forget it.

    Without this, a test signing the same request as an earlier one (same account, nonce, calldata
    and wall-clock second) is refused as a replay of a transaction that the revert erased.
    """
    yield
    if "api_ledger" in request.fixturenames:
        ledger: Ledger = request.getfixturevalue("api_ledger")
        ledger.relay.seen.forget_all()


@pytest.fixture
def client(api_ledger: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger=api_ledger), base_url="http://testserver/api/v1") as test_client:
        yield test_client


@pytest.fixture
def user():
    """A fresh key with no ether: relayed requests need none."""
    return Account.create()


@pytest.fixture(scope="session")
def live_api(api_ledger: Ledger) -> Iterator[str]:
    with serve_on_loopback(create_app(ledger=api_ledger)) as url:
        yield url


