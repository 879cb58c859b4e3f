"""Co-owned and sole registrations share their metadata steps (``NewAsset.prepare``, ``file_registration``):
the same file, kind, number and title give the same metadata document either way, and a co-owned registration
refuses what a plain one refuses before anything is written."""

from __future__ import annotations

import hashlib
import os

import pytest

from ledger.context import Ledger
from ledger.errors import ValidationError
from ledger.registry.metadata import build_document, metadata_hash
from ledger.settings import Settings


@pytest.fixture
def ledger(chain, deployment, artifacts, tmp_path) -> Ledger:
    return Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)


def test_register_file_co_owned_or_not_gives_the_same_metadata_document(ledger: Ledger, accounts, tmp_path):
    a, b = accounts[1], accounts[2]
    sole, shared = tmp_path / "sole.pdf", tmp_path / "shared.pdf"
    sole.write_bytes(b"%PDF sole " + os.urandom(64))
    shared.write_bytes(b"%PDF shared " + os.urandom(64))
    ref = f"CN{int.from_bytes(os.urandom(5)):012d}.3"
    plain = ledger.assets.register_file(sole, "utility-model", None, "A method", description="abstract",
                                        extra={"inventors": ["Li Wei"]}, sender=a)
    co = ledger.coowners.register_file(shared, "utility-model", f" {ref.lower()} ", "A method",
                                       [(a.address, 5000), (b.address, 5000)], description="abstract",
                                       extra={"inventors": ["Li Wei"]}, sender=a)
    document = ledger.metadata.get(co.metadata_hash)
    assert document["ref"] == ref and document["kind"] == "utility-model"
    assert {k: v for k, v in document.items() if k != "ref"} == ledger.metadata.get(plain.metadata_hash)
    assert co.content_hash == "0x" + hashlib.sha256(shared.read_bytes()).hexdigest()
    assert ledger.assets.show(co.asset_id).registration.metadata_hash == co.metadata_hash


def test_register_co_owned_with_bad_uri_or_shares_refuses_before_storing_metadata(ledger: Ledger, accounts):
    a = accounts[1]
    document = build_document("Never stored " + os.urandom(8).hex())
    with pytest.raises(ValidationError, match="the metadata URI is too long"):
        ledger.coowners.register(os.urandom(32), "invention-patent", None, document, [(a.address, 10_000)],
                                 uri="https://x/" + "a" * 2048, sender=a)
    with pytest.raises(ValidationError, match="sum to 9000"):
        ledger.coowners.register(os.urandom(32), "invention-patent", None, document, [(a.address, 9000)], sender=a)
    assert ledger.metadata.find(metadata_hash(document)) is None
