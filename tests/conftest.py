"""Session fixtures: one real Anvil and one deployment per test session, a snapshot per test.

A missing Anvil, Node.js or solc is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import settings as hypothesis_settings
from web3.contract import Contract

from ledger.audit.store import Store
from ledger.chain.client import ChainClient, dev_accounts
from ledger.chain.deployment import Deployment, deploy_suite
from ledger.chain.devchain import DevNode, dev_node, matrix_node_kind
from ledger.chain.toolchain import Artifact, compile_contracts
from ledger.errors import ConfigurationError
from ledger.settings import get_settings
from tests.depth import DEEP, DEEP_MAX_EXAMPLES
from tests.pg import ENV, HOW_TO, PostgresCluster, check_server, create_database, drop_database, pg_bin_dir

# IPLEDGER_DEEP_TESTS=1: the long property runs (tests/depth.py); a @given without its own size gets more examples.
hypothesis_settings.register_profile("deep", max_examples=DEEP_MAX_EXAMPLES, deadline=None)
if DEEP:
    hypothesis_settings.load_profile("deep")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On another node of the matrix, deselect (and name) the tests that need an Anvil-only method."""
    kind = matrix_node_kind()
    if kind == "anvil":
        return
    anvil_only = [item for item in items if item.get_closest_marker("anvil_only")]
    if anvil_only:
        config.hook.pytest_deselected(items=anvil_only)
        items[:] = [item for item in items if not item.get_closest_marker("anvil_only")]
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"IPLEDGER_TEST_NODE={kind}: deselected {len(anvil_only)} Anvil-only test(s): "
                                + ", ".join(item.nodeid for item in anvil_only))


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_xdist_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make ``xdist_group`` group again under ``--dist loadgroup`` (the browser tests, the Hardhat tests).

    pytest-xdist 3.8 names a test's group by appending ``@group`` to ``item._nodeid``, which pytest 9.2 no
    longer reads (a node's id is ``item._id``): every test ran as its own unit, so the browser tests spread
    over both workers and each built the module fixtures of their files (minutes each) again. Here, after
    xdist's hook, the same suffix is set where pytest 9.2 reads it; nothing is done where it already shows.
    """
    if not hasattr(config, "workerinput") or not getattr(config.option, "loadgroup", False):
        return  # not an xdist worker of --dist loadgroup
    from _pytest.nodeid import NodeId  # pytest 9.2's node id; the import fails loudly if it moves

    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        if names and not item.nodeid.endswith("@" + "_".join(names)):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]


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
def anvil() -> Iterator[DevNode]:
    """The session's chain: Anvil, or the node IPLEDGER_TEST_NODE names (hardhat, ganache)."""
    try:
        node = dev_node().start()
    except ConfigurationError as exc:
        pytest.fail(f"cannot start the {matrix_node_kind()} node: {exc}", pytrace=False)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def accounts() -> list[LocalAccount]:
    """Anvil's dev accounts: [0] deployer/admin, the rest for parties in tests."""
    return dev_accounts(10)


@pytest.fixture(scope="session")
def chain(anvil: DevNode, accounts: list[LocalAccount], artifacts: dict[str, Artifact]) -> Iterator[ChainClient]:
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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server URL whose user may create databases."""
    url = os.environ.get(ENV)
    if url:
        try:
            check_server(url)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
            pytest.fail(f"{ENV}={url} does not answer ({exc}); {HOW_TO}", pytrace=False)
        yield url
        return
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.fail(f"{ENV} is unset and PostgreSQL is not installed here: {HOW_TO}", pytrace=False)
    cluster = PostgresCluster(bin_dir)
    try:
        url = cluster.start()
    except Exception as exc:  # noqa: BLE001
        cluster.stop()
        pytest.fail(f"{ENV} is unset and a throwaway cluster did not start ({exc}); {HOW_TO}", pytrace=False)
    yield url
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The database API replicas share, migrated: a SQLite file, or a new database on the test PostgreSQL."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'shared.sqlite3'}", durable=True)
        yield store
        store.dispose()
        return
    server: str = request.getfixturevalue("pg_server")
    url = create_database(server, "ipledger_shared")
    store = Store(url, pre_ping=False)
    yield store
    store.dispose()
    drop_database(server, url)
