"""The public asset pages over a ledger whose audit index is empty (no indexer runs here): the asset page
takes the registration from the chain then, and the search still finds an asset by its official number."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.registry.metadata import build_document
from ledger.settings import Settings


@pytest.fixture
def own_ledger(chain, deployment, artifacts, tmp_path) -> Ledger:
    """A ledger with its own, empty index (the session's API ledger's index is filled by the audit tests)."""
    return Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)


@pytest.fixture
def pages(own_ledger: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger=own_ledger), follow_redirects=False) as test_client:
        yield test_client
    own_ledger.store.dispose()


def test_asset_page_before_the_index_has_it_reads_the_registration_from_the_chain(pages, own_ledger, accounts):
    ref = f"CN{int.from_bytes(os.urandom(5)):012d}.3"
    registered = own_ledger.assets.register(os.urandom(32), "design", ref, build_document("A lamp shade"),
                                            sender=accounts[1])
    response = pages.get(f"/assets/{registered.asset_id}?lang=en")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "A lamp shade" in html and ref in html and registered.content_hash in html and accounts[1].address in html
    assert "No events indexed yet" in html
    found = pages.get("/assets", params={"q": ref.lower()})
    assert found.status_code == 303 and found.headers["location"] == f"/assets/{registered.asset_id}"
    assert "No asset is registered yet." in pages.get("/assets?lang=en").text
