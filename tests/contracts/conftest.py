"""Fixtures for the IP registry suite (see ``ipkit`` for the parties and the acts)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.client import ChainClient
from ledger.chain.toolchain import Artifact
from tests.contracts.cokit import CoKit, co_kit
from tests.contracts.ipkit import IPKit


@pytest.fixture
def ip(chain: ChainClient, contract: Any, accounts: list[LocalAccount]) -> IPKit:
    """The IP suite of the session deployment; accounts [4] and [5] become banks when first used."""
    return IPKit(
        chain=chain,
        registry=contract("IPRegistry"),
        licenses=contract("LicenseRegistry"),
        pledges=contract("PledgeRegistry"),
        lens=contract("IPLens"),
        forwarder=contract("IpledgerForwarder"),
        accounts=accounts,
    )


@pytest.fixture
def co(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> CoKit:
    """The co-ownership kit (co-owners A, B, C with 50/30/20 %) over the market kit."""
    return co_kit(ip, contract, artifacts)
