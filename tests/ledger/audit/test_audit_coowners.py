"""The audit index records the co-ownership events: who co-owns an asset (every co-owner as an account of
``CoOwnersSet``), each consent, and the act that used them, under the asset's id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ledger.audit.indexer import Indexer, sources_from_deployment
from ledger.audit.store import EventAccount, EventRecord, Store
from tests.contracts.cokit import PLEDGE, CoKit, co_kit
from tests.contracts.ipkit import IPKit


@pytest.fixture
def co(chain, contract, accounts, artifacts) -> CoKit:  # type: ignore[no-untyped-def]
    ip = IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
               pledges=contract("PledgeRegistry"), lens=contract("IPLens"), forwarder=contract("IpledgerForwarder"),
               accounts=accounts)
    return co_kit(ip, contract, artifacts)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    yield opened
    opened.dispose()


def test_index_records_co_owners_consents_and_acts_with_asset_and_accounts(co: CoKit, deployment, artifacts, store):
    asset_id = co.register()
    args = (co.ip.bank.address, 1_000, b"CNY", co.ip.now() + 86_400 * 365, b"\x09" * 32)
    act = co.consents(asset_id, PLEDGE, *args)
    co.ip.send(co.co.functions.proposePledge(asset_id, *args), co.a)
    Indexer(co.ip.chain, store, sources_from_deployment(deployment, artifacts)).sync()
    with store.session() as session:
        rows = session.scalars(select(EventRecord).where(EventRecord.contract == "CoOwnership")
                               .order_by(EventRecord.block_number, EventRecord.log_index)).all()
        assert [(r.event, r.asset_id) for r in rows] == [
            ("CoOwnersSet", str(asset_id)), ("ConsentGiven", str(asset_id)), ("ConsentGiven", str(asset_id)),
            ("ActPerformed", str(asset_id))]
        assert rows[1].args["actId"] == act and rows[3].args["actId"] == act
        accounts = session.execute(select(EventAccount.account, EventAccount.role).where(
            EventAccount.block_hash == rows[0].block_hash, EventAccount.log_index == rows[0].log_index)).all()
        assert sorted(accounts) == sorted([(w.address.lower(), "shares.account") for w in (co.a, co.b, co.c)]
                                          + [(co.vault(asset_id).lower(), "vault")])
