"""Fixtures for the IP registry suite (see ``ipkit`` for the parties and the acts)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.client import ChainClient
from tests.contracts.ipkit import IPKit


@pytest.fixture(autouse=True)
def _license_registry_wired(chain: ChainClient, contract: Any, accounts: list[LocalAccount]) -> None:
    """The PledgeRegistry asks the LicenseRegistry for encumbrance versions: wired once by the admin.

    Until the deployment (ledger/deploy.py) wires it itself, tests wire it here (a no-op once wired).
    """
    pledges, licenses = contract("PledgeRegistry"), contract("LicenseRegistry")
    if int(chain.call(pledges.functions.licenseRegistry()), 16) == 0:
        chain.transact(pledges.functions.setLicenseRegistry(licenses.address), sender=accounts[0])


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
