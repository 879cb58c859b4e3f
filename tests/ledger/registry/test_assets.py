"""AssetService and the metadata store on a real Anvil: registration, reads, transfers, registrar and admin acts."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from sqlalchemy import update

from ledger.chain.blobs import blob_chunks
from ledger.context import Ledger
from ledger.encoding import AssetKind, LegalStatus, encode_ref
from ledger.errors import ConflictError, DataCorruptedError, NotFoundError, PermissionDeniedError, ValidationError
from ledger.registry.metadata import MetadataStore, build_document, canonical_bytes, metadata_hash
from ledger.settings import Settings
from tests.contracts.ipkit import DAY, YEAR, IPKit


@pytest.fixture
def ledger(chain, deployment, artifacts, tmp_path) -> Ledger:
    return Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)


@pytest.fixture
def ip(chain, contract, accounts) -> IPKit:
    return IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
                 pledges=contract("PledgeRegistry"), lens=contract("IPLens"), forwarder=contract("IpledgerForwarder"),
                 accounts=accounts)


def register(ledger: Ledger, ip: IPKit, ref: str | None = "CN202010123456.7", title: str = "A method") -> int:
    return ledger.assets.register(os.urandom(32), "invention-patent", ref, build_document(title),
                                  sender=ip.owner).asset_id


def test_register_file_publishes_hashes_and_keeps_the_metadata_document(ledger: Ledger, ip: IPKit, tmp_path):
    claims = tmp_path / "claims.pdf"
    claims.write_bytes(b"%PDF claims " * 1000)
    done = ledger.assets.register_file(claims, "utility-model", " cn202010123456.7 ", "A pledging method",
                                       description="public abstract", extra={"inventors": ["Li Wei"]},
                                       sender=ip.owner)
    view = ledger.assets.show(done.asset_id)
    assert (view.asset.owner, view.asset.kind, view.asset.status) == (ip.owner.address, AssetKind.UTILITY_MODEL,
                                                                      LegalStatus.FILED)
    assert view.registration is not None
    assert view.registration.ref == "CN202010123456.7"
    assert view.registration.content_hash == "0x" + hashlib.sha256(claims.read_bytes()).hexdigest()
    stored = ledger.metadata.get_bytes(done.metadata_hash)
    assert "0x" + hashlib.sha256(stored).hexdigest() == done.metadata_hash == view.registration.metadata_hash
    assert view.registration.uri == f"/metadata/{done.metadata_hash}"
    assert view.title == "A pledging method" and view.metadata is not None
    assert view.metadata["inventors"] == ["Li Wei"] and view.metadata["ref"] == "CN202010123456.7"
    assert view.registration.tx_hash == done.tx_hash and view.registration.block_time == ip.now()
    assert ledger.assets.resolve("CN202010123456.7") == done.asset_id


def test_register_same_content_twice_is_a_conflict_naming_the_first_asset(ledger: Ledger, ip: IPKit):
    content = os.urandom(32)
    first = ledger.assets.register(content, "design", None, build_document("One"), sender=ip.owner)
    with pytest.raises(ConflictError) as refused:
        ledger.assets.register(content, "design", None, build_document("Two"), sender=ip.other)
    assert f"is already registered as asset {first.asset_id}" in str(refused.value)
    assert ledger.assets.asset_count() == 1


def test_register_taken_ref_in_other_case_is_refused_with_the_ref_as_text(ledger: Ledger, ip: IPKit):
    asset_id = register(ledger, ip, "CN202010123456.7")
    with pytest.raises(ConflictError) as refused:
        register(ledger, ip, "cn 202010123456.7")
    assert str(refused.value) == f"the official number CN202010123456.7 is already registered as asset {asset_id}"


@pytest.mark.parametrize("kind, ref, content, message", [
    ("patent", None, b"\x01" * 32, "unknown asset kind 'patent'"),
    ("design", "专利202010123456", b"\x02" * 32, "is not valid"),
    ("design", "CN" + "1" * 31, b"\x03" * 32, "too long"),
    ("design", None, bytes(32), "must not be zero"),
    ("design", None, "0x1234", "not a 32-byte hash"),
], ids=["unknown-kind", "bad-number", "long-number", "zero-content", "short-content"])
def test_register_bad_input_raises_validation_error_and_sends_nothing(ledger, ip, chain, kind, ref, content, message):
    block = chain.w3.eth.block_number
    with pytest.raises(ValidationError, match=message):
        ledger.assets.register(content, kind, ref, build_document("T"), sender=ip.owner)
    assert chain.w3.eth.block_number == block


def test_registrar_acts_update_the_record_and_freeze_lapses_by_itself(ledger: Ledger, ip: IPKit, chain):
    asset_id = register(ledger, ip)
    now = ip.now()
    ledger.assets.set_verified(asset_id)
    ledger.assets.set_legal_status(asset_id, "granted")
    ledger.assets.set_dates(asset_id, now + 10 * YEAR, now + YEAR)
    ledger.assets.freeze(asset_id, "Beijing IP Court", "(2026) Jing 73 Min Chu 1", None, now + 30 * DAY)
    view = ledger.assets.show(asset_id)
    assert view.asset.verified and view.asset.status is LegalStatus.GRANTED
    assert (view.asset.expires_at, view.asset.fees_paid_until) == (now + 10 * YEAR, now + YEAR)
    assert view.frozen and view.freeze is not None
    assert (view.freeze.court, view.freeze.until, view.freeze.lifted_at) == ("Beijing IP Court", now + 30 * DAY, 0)
    ledger.assets.renew_freeze(asset_id, now + 60 * DAY)
    assert ledger.assets.show(asset_id).asset.frozen_until == now + 60 * DAY
    chain.increase_time(61 * DAY)
    assert not ledger.assets.show(asset_id).frozen


def test_unfreeze_lifts_the_freeze_and_allows_transfer(ledger: Ledger, ip: IPKit):
    asset_id = register(ledger, ip)
    ledger.assets.freeze(asset_id, "court", "case 1", "0x" + "ab" * 32, ip.now() + DAY)
    with pytest.raises(ConflictError, match="frozen by a court order"):
        ledger.assets.transfer(asset_id, ip.buyer.address, sender=ip.owner)
    ledger.assets.unfreeze(asset_id, "0x" + "cd" * 32)
    view = ledger.assets.show(asset_id)
    assert not view.frozen and view.freeze is not None and view.freeze.lifted_at > 0
    ledger.assets.transfer(asset_id, ip.buyer.address, sender=ip.owner)
    assert ip.owner_of(asset_id) == ip.buyer.address


def test_registrar_act_by_owner_is_denied_naming_the_role(ledger: Ledger, ip: IPKit):
    asset_id = register(ledger, ip)
    with pytest.raises(PermissionDeniedError) as refused:
        ledger.assets.set_verified(asset_id, sender=ip.owner)
    assert "does not hold the role registrar (REGISTRAR_ROLE)" in str(refused.value)
    assert not ledger.assets.asset_of(asset_id).verified


def test_freeze_without_court_is_bad_input(ledger: Ledger, ip: IPKit):
    asset_id = register(ledger, ip)
    with pytest.raises(ValidationError, match="court and case number"):
        ledger.assets.freeze(asset_id, " ", "case", None, ip.now() + DAY)


def test_transfer_moves_the_asset_and_clears_verification(ledger: Ledger, ip: IPKit):
    asset_id = register(ledger, ip)
    ledger.assets.set_verified(asset_id)
    done = ledger.assets.transfer(asset_id, ip.buyer.address.lower(), sender=ip.owner)
    asset = ledger.assets.asset_of(asset_id)
    assert (asset.owner, asset.verified) == (ip.buyer.address, False)
    assert ip.chain.receipt(done.tx_hash).status == 1


def test_transfer_by_non_owner_is_denied(ledger: Ledger, ip: IPKit):
    asset_id = register(ledger, ip)
    with pytest.raises(PermissionDeniedError, match=f"asset {asset_id}"):
        ledger.assets.transfer(asset_id, ip.stranger.address, sender=ip.stranger)
    assert ip.owner_of(asset_id) == ip.owner.address


def test_grant_and_revoke_roles_by_the_admin(ledger: Ledger, ip: IPKit):
    bank = ip.accounts[8].address
    ledger.assets.grant_role("pledgee", bank)
    ledger.assets.grant_role("REGISTRAR_ROLE", bank)
    assert ledger.assets.roles_of(bank) == ["registrar", "pledgee"]
    ledger.assets.revoke_role("registrar", bank)
    assert ledger.assets.has_role("pledgee", bank) and not ledger.assets.has_role("registrar", bank)
    with pytest.raises(PermissionDeniedError, match=r"role admin \(DEFAULT_ADMIN_ROLE\)"):
        ledger.assets.grant_role("registrar", ip.stranger.address, sender=ip.stranger)
    with pytest.raises(ValidationError, match="unknown role"):
        ledger.assets.grant_role("admin", bank)


def test_show_unknown_asset_and_unknown_ref_are_not_found(ledger: Ledger):
    with pytest.raises(NotFoundError, match="asset 9 does not exist"):
        ledger.assets.show(9)
    with pytest.raises(NotFoundError, match="CN000"):
        ledger.assets.resolve("cn000")


def test_page_lists_assets_oldest_first_with_count(ledger: Ledger, ip: IPKit):
    ids = [register(ledger, ip, f"CN{i}", f"title {i}") for i in range(5)]
    views, count = ledger.assets.page(offset=1, limit=3)
    assert count == 5 and [v.asset.asset_id for v in views] == ids[1:4]
    assert [v.title for v in views] == ["title 1", "title 2", "title 3"]
    assert ledger.assets.page(offset=5, limit=3) == ([], 5)


# -- metadata documents --------------------------------------------------------------------------------


def test_metadata_canonical_bytes_do_not_depend_on_key_order():
    a = {"title": "专利", "b": [1, {"y": 2, "x": None}], "a": True}
    b = json.loads(json.dumps({"a": True, "b": [1, {"x": None, "y": 2}], "title": "专利"}))
    assert canonical_bytes(a) == canonical_bytes(b) == '{"a":true,"b":[1,{"x":null,"y":2}],"title":"专利"}'.encode()
    assert metadata_hash(a) == hashlib.sha256(canonical_bytes(a)).digest()


@pytest.mark.parametrize("document, message", [
    ({"title": ""}, "non-empty"),
    ({"name": "x"}, "non-empty"),
    ({"title": "t", "price": 1.5}, "integers"),
    ({"title": "t", "blob": "x" * 70_000}, "too large"),
    (["title"], "JSON object"),
])
def test_metadata_bad_documents_are_refused(tmp_path, document, message):
    with pytest.raises(ValidationError, match=message):
        MetadataStore(tmp_path).put(document)


def test_metadata_store_round_trips_and_refuses_an_altered_file(tmp_path):
    store = MetadataStore(tmp_path)
    stored = store.put({"title": "t", "n": 1})
    assert store.put({"n": 1, "title": "t"}) == stored
    assert store.get(stored.hash.upper().replace("0X", "0x")) == {"title": "t", "n": 1}
    with store.engine.begin() as connection:  # the chunk altered in the database, its recorded SHA-256 kept
        connection.execute(update(blob_chunks).values(data=b'{"title":"forged"}'))
    with pytest.raises(DataCorruptedError, match="chunk 0 of 1 .* does not match its SHA-256"):
        store.get(stored.hash)
    assert store.find("0x" + "00" * 32) is None


def test_encode_ref_normalises_case_and_spaces():
    assert encode_ref(" cn 202010123456.7 ") == b"CN202010123456.7".ljust(32, b"\0")
    assert encode_ref("") == encode_ref(None) == bytes(32)
