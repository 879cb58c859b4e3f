"""The default run's slice of the node matrix: a few whole journeys on Hardhat's node (``hardhat@2``).

The session's chain is Anvil (or the node ``IPLEDGER_TEST_NODE`` names; ``IPLEDGER_TEST_NODE=hardhat``
runs every chain-facing suite on Hardhat). This module starts its own Hardhat node, deploys the suite
through the deploy command's function and goes through what differs between nodes: revert data
(Hardhat answers a message beside it), logs without ``blockTimestamp``, the ``finalized`` tag, snapshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.chain.client import ChainClient, dev_account
from ledger.chain.deployment import deploy_suite
from ledger.chain.devchain import HardhatNode
from ledger.chain.toolchain import Artifact
from ledger.context import Ledger
from ledger.errors import ConfigurationError, ContractError
from ledger.registry.metadata import build_document
from ledger.relay.service import sign_request
from ledger.settings import Settings
from ledger.timestamps.verification import verify_files

pytestmark = [pytest.mark.other_node, pytest.mark.xdist_group("hardhat")]  # one worker starts one Hardhat


@pytest.fixture(scope="module")
def hardhat() -> Iterator[HardhatNode]:
    try:
        node = HardhatNode().start()
    except ConfigurationError as exc:
        pytest.fail(f"cannot start Hardhat's node: {exc}", pytrace=False)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def on_hardhat(hardhat: HardhatNode, artifacts: dict[str, Artifact],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    client = ChainClient(hardhat.url, dev_account(0), error_abis=[a.abi for a in artifacts.values()])
    deployment = deploy_suite(client, artifacts=artifacts)
    yield Ledger(Settings(data_dir=tmp_path_factory.mktemp("hardhat-data")), client, deployment, artifacts,
                 embedded=False)
    client.close()


def test_stamp_and_verify_on_hardhat_is_final_by_its_finalized_tag(on_hardhat: Ledger, tmp_path: Path):
    file = tmp_path / "work.txt"
    file.write_bytes(os.urandom(64))
    on_hardhat.timestamps.stamp_files([file])
    [verdict] = verify_files([file], on_hardhat.timestamps.check)
    assert verdict.valid, verdict.reason
    finality = verdict.verified.finality  # type: ignore[union-attr]
    assert finality is not None and (finality.basis, finality.final) == ("finalized-tag", True)


def test_a_refused_call_on_hardhat_is_decoded_with_its_arguments_as_on_anvil(on_hardhat: Ledger):
    registry = on_hardhat.contract("TimestampRegistry")
    leaf = os.urandom(32)
    first = on_hardhat.client.transact(registry.functions.stamp(leaf))
    with pytest.raises(ContractError) as refused:
        on_hardhat.client.transact(registry.functions.stamp(leaf))
    assert refused.value.name == "TimestampRegistryAlreadyStamped"
    assert refused.value.arguments["key"] == "0x" + keccak(leaf).hex()
    assert refused.value.arguments["blockNumber"] == first.block_number


def test_register_and_bank_check_on_hardhat_reads_history_and_finality(on_hardhat: Ledger):
    owner = dev_account(1)
    asset_id = on_hardhat.assets.register(os.urandom(32), "invention-patent", None,
                                          build_document("A method tried on Hardhat"), sender=owner).asset_id
    report = on_hardhat.check.due_diligence(asset_id, "2030-06-30")
    assert report.asset.owner == owner.address and report.title == "A method tried on Hardhat"
    assert {"Transfer", "AssetRegistered"} <= {e.event for e in report.history}
    assert all(e.block_time > 0 for e in report.history)
    assert report.round_trips <= 2  # Hardhat sends logs without blockTimestamp: the headers cost one more
    assert report.finality is not None and report.finality.final
    assert report.as_json()["finality"]["basis"] == "finalized-tag"


def test_relay_a_signed_request_through_the_api_on_hardhat(on_hardhat: Ledger):
    user = dev_account(7)
    registry = on_hardhat.contract("TimestampRegistry")
    leaf = os.urandom(32)
    with TestClient(create_app(ledger=on_hardhat), base_url="http://testserver/api/v1") as api:
        info = api.get("/chain").json()
        nonce = api.get(f"/relay/nonce/{user.address}").json()["nonce"]
        request = sign_request(user, chain_id=info["chain_id"], forwarder=info["forwarder_domain"]["verifyingContract"],
                               to=registry.address, data=registry.functions.stamp(leaf)._encode_transaction_data(),
                               nonce=nonce, gas=200_000).as_json()
        answer = api.post("/relay", json=request)
        health = api.get("/health").json()
    assert answer.status_code == 200, answer.text
    assert on_hardhat.client.call(registry.functions.recordOf(keccak(leaf)))[0] == user.address
    assert health["relayer"]["ok"] and health["final_block"] == health["block"]


def test_revert_to_a_snapshot_on_hardhat_forgets_what_was_written(on_hardhat: Ledger):
    registry = on_hardhat.contract("TimestampRegistry")
    leaf = os.urandom(32)
    snapshot = on_hardhat.client.snapshot()
    on_hardhat.client.transact(registry.functions.stamp(leaf))
    on_hardhat.client.revert(snapshot)
    assert int(on_hardhat.client.call(registry.functions.recordOf(keccak(leaf)))[1]) == 0
