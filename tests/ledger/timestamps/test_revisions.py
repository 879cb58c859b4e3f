"""Version chains of stamps on a real Anvil: a revision's salt binds the stamp it revises, so the chain of a
lab notebook's pages verifies link by link, offline and on chain, and no link can be added or changed later."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from ledger.chain.client import ChainClient
from ledger.errors import ValidationError, VerificationError
from ledger.timestamps.proofs import Certificate, certificate_path, revision_salt
from ledger.timestamps.service import TimestampService


@pytest.fixture
def stamps(chain: ChainClient, contract, tmp_path: Path) -> TimestampService:
    return TimestampService(chain, contract("TimestampRegistry"), tmp_path / "archive")


def page(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_stamp_revising_twice_forms_a_chain_back_to_the_first_version(stamps, tmp_path, accounts):
    first = stamps.stamp_files([page(tmp_path, "notebook-v1.txt", "day 1")], sender=accounts[1]).certificates[0]
    second = stamps.stamp_files([page(tmp_path, "notebook-v2.txt", "day 1, day 2")], sender=accounts[1],
                                revises=first).certificates[0]
    third = stamps.stamp_files([page(tmp_path, "notebook-v3.txt", "day 1, day 2, day 3")], sender=accounts[2],
                               revises=second).certificates[0]
    assert third.revises is not None and third.revises.certificate == second
    assert (third.revises.root, third.revises.leaf) == (second.root, second.leaf)
    nonce = bytes.fromhex(third.revises.nonce[2:])
    assert third.salt == "0x" + revision_salt(nonce, bytes.fromhex(second.root[2:]),
                                              bytes.fromhex(second.leaf[2:])).hex()
    assert [c.file_name for c in third.chain()] == ["notebook-v1.txt", "notebook-v2.txt", "notebook-v3.txt"]
    assert Certificate.load(certificate_path(tmp_path / "notebook-v3.txt")) == third
    links = stamps.verify_chain(third)
    assert [v.block_number for v in links] == [first.block_number, second.block_number, third.block_number]
    assert [v.author for v in links] == [accounts[1].address, accounts[1].address, accounts[2].address]
    # A revision is a plain stamp on chain: its own certificate verifies against its file as any other.
    assert stamps.verify(tmp_path / "notebook-v3.txt", third).tx_hash == third.tx_hash
    assert "revises" not in json.loads(first.dumps())  # a first version's certificate is as before


def test_revision_with_changed_link_is_refused_when_read(stamps, tmp_path, accounts):
    first = stamps.stamp_files([page(tmp_path, "a.txt", "v1")], sender=accounts[1]).certificates[0]
    other = stamps.stamp_files([page(tmp_path, "b.txt", "another line")], sender=accounts[1]).certificates[0]
    second = stamps.stamp_files([page(tmp_path, "a2.txt", "v2")], sender=accounts[1], revises=first).certificates[0]
    data = json.loads(second.dumps())
    data["revises"] = {**data["revises"], "root": other.root, "leaf": other.leaf,
                       "certificate": json.loads(other.dumps())}  # claim to revise another stamp
    with pytest.raises(ValidationError, match="salt does not open to the stamp it names"):
        Certificate.loads(json.dumps(data))
    data = json.loads(second.dumps())
    data["revises"]["certificate"]["digest"] = "0x" + "11" * 32  # an altered earlier version
    altered = Certificate.loads(json.dumps(data))
    with pytest.raises(VerificationError, match="version 1 of the chain"):
        stamps.verify_chain(altered)


def test_revision_of_a_stamp_not_on_this_chain_is_refused_before_sending(stamps, tmp_path, accounts):
    first = stamps.stamp_files([page(tmp_path, "a.txt", "v1")], sender=accounts[1]).certificates[0]
    forged = json.loads(first.dumps())
    forged["block_number"] += 1000
    bad = Certificate.loads(json.dumps(forged))
    count_before = len(list((tmp_path / "archive").glob("*.json")))
    with pytest.raises(VerificationError):
        stamps.stamp_files([page(tmp_path, "a2.txt", "v2")], sender=accounts[1], revises=bad)
    assert len(list((tmp_path / "archive").glob("*.json"))) == count_before
    with pytest.raises(ValidationError, match="one earlier stamp"):
        stamps.stamp_files([page(tmp_path, "x.txt", "x"), page(tmp_path, "y.txt", "y")], sender=accounts[1],
                           revises=first)


def test_revision_stamp_costs_what_a_plain_stamp_costs(stamps, tmp_path, accounts, chain):
    first = stamps.stamp_files([page(tmp_path, "a.txt", "v1")], sender=accounts[1]).certificates[0]
    second = stamps.stamp_files([page(tmp_path, "a2.txt", "v2")], sender=accounts[1], revises=first).certificates[0]
    gas = [chain.receipt(c.tx_hash).gas_used for c in (first, second)]  # type: ignore[union-attr]
    assert gas[1] <= 46_000
    assert abs(gas[1] - gas[0]) <= 16 * 32  # only the leaf's calldata bytes differ
    assert second.root == "0x" + keccak(bytes.fromhex(second.leaf[2:])).hex()


def test_revision_certificate_pdf_carries_the_chain_and_its_qr_link_the_stamp_alone(stamps, tmp_path, accounts):
    from ledger.documents.certificate import certificate_from_url, render_certificate, verify_url

    first = stamps.stamp_files([page(tmp_path, "v1.txt", "one")], sender=accounts[1]).certificates[0]
    second = stamps.stamp_files([page(tmp_path, "v2.txt", "two")], sender=accounts[1], revises=first).certificates[0]
    third = stamps.stamp_files([page(tmp_path, "v3.txt", "three")], sender=accounts[1], revises=second).certificates[0]
    linked = certificate_from_url(verify_url(third, "http://127.0.0.1:8000"))
    assert linked.revises is None and linked.leaf == third.leaf and linked.salt == third.salt  # verifies alone
    assert stamps.verify(tmp_path / "v3.txt", linked).block_number == third.block_number
    html = render_certificate(third, fmt="html", lang="en", public_url="http://127.0.0.1:8000").decode()
    assert "Earlier versions" in html and "v1.txt" in html and "v2.txt" in html
    pdf = tmp_path / "v3.txt.ipledger.pdf"
    pdf.write_bytes(render_certificate(third, fmt="pdf", lang="zh", public_url="http://127.0.0.1:8000"))
    assert Certificate.load(pdf) == third  # the attached JSON keeps the whole chain
