"""Fixtures the library's tests share: a Ledger over the session chain, and the IPKit parties.

(tests/ledger/registry/*.py still define their own copies; they can drop them for these.)
"""

from __future__ import annotations

import pytest

from ledger.context import Ledger
from ledger.settings import Settings
from tests.contracts.ipkit import IPKit


@pytest.fixture
def ledger(chain, deployment, artifacts, tmp_path) -> Ledger:
    return Ledger(Settings(data_dir=tmp_path / "data"), chain, deployment, artifacts, embedded=False)


@pytest.fixture
def ip(chain, contract, accounts) -> IPKit:
    return IPKit(chain=chain, registry=contract("IPRegistry"), licenses=contract("LicenseRegistry"),
                 pledges=contract("PledgeRegistry"), lens=contract("IPLens"), forwarder=contract("IpledgerForwarder"),
                 accounts=accounts)
