"""Session fixtures: one real Anvil and one deployment per test session, a snapshot per test.

A missing Anvil, Node.js or solc is a failure with a clear message, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from ledger.chain.client import ChainClient, dev_accounts
from ledger.chain.deployment import Deployment, deploy_suite
from ledger.chain.devchain import Anvil
from ledger.chain.toolchain import Artifact, compile_contracts
from ledger.errors import ConfigurationError
from ledger.settings import get_settings


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every test away from the developer's real ~/.ipledger."""
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("ipledger-home")
    mp.setenv("IPLEDGER_DATA_DIR", str(home))
    mp.delenv("IPLEDGER_RPC_URL", raising=False)
    get_settings.cache_clear()
    yield
    mp.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    try:
        return compile_contracts()
    except ConfigurationError as exc:
        pytest.fail(f"cannot compile the contracts: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    try:
        node = Anvil().start()
    except ConfigurationError as exc:
        pytest.fail(f"cannot start Anvil: {exc}", pytrace=False)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def accounts() -> list[LocalAccount]:
    """Anvil's dev accounts: [0] deployer/admin, the rest for parties in tests."""
    return dev_accounts(10)


@pytest.fixture(scope="session")
def chain(anvil: Anvil, accounts: list[LocalAccount], artifacts: dict[str, Artifact]) -> Iterator[ChainClient]:
    client = ChainClient(anvil.url, accounts[0], error_abis=[a.abi for a in artifacts.values()])
    yield client
    client.close()


@pytest.fixture(scope="session")
def deployment(chain: ChainClient, artifacts: dict[str, Artifact]) -> Deployment:
    return deploy_suite(chain, artifacts=artifacts)


@pytest.fixture(autouse=True)
def _revert_chain(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that uses the session chain starts from the same state and leaves no trace."""
    if "chain" not in request.fixturenames:
        yield
        return
    chain: ChainClient = request.getfixturevalue("chain")
    request.getfixturevalue("deployment")
    snapshot = chain.snapshot()
    yield
    chain.revert(snapshot)


@pytest.fixture
def contract(chain: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]):  # type: ignore[no-untyped-def]
    """``contract("TimestampRegistry")``: a web3 contract of the session deployment."""

    def get(name: str) -> Contract:
        return chain.contract(artifacts[name].abi, deployment.address(name))

    return get


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ipledger data folder for one test."""
    monkeypatch.setenv("IPLEDGER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()
