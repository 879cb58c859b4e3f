"""Real finality, fees and the chain a service starts on, against the session's node (any of the matrix).

Finality is judged by confirmations (``finality="confirmations"``: the same on every node) or by the
chain's own ``finalized`` block (``auto``): Anvil names the block 64 behind its head, Hardhat and
Ganache their head, so those tests read the tag and expect what it says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ledger.chain.client import ChainClient
from ledger.chain.deployment import Deployment
from ledger.chain.finality import Finality
from ledger.context import Ledger, open_ledger
from ledger.errors import ConfigurationError, FeeCapExceededError
from ledger.settings import Settings


def client_with(anvil, accounts, artifacts, **options) -> ChainClient:  # type: ignore[no-untyped-def]
    return ChainClient(anvil.url, accounts[0], error_abis=[a.abi for a in artifacts.values()], **options)


def mine(chain: ChainClient, blocks: int) -> None:
    for _ in range(blocks):
        chain.rpc("evm_mine")


def finalized_block(chain: ChainClient) -> int:
    return int(chain.rpc("eth_getBlockByNumber", ["finalized", False])["number"], 16)


def stamped_file(ledger: Ledger, tmp_path: Path) -> Path:
    file = tmp_path / "work.txt"
    file.write_bytes(os.urandom(64))
    ledger.timestamps.stamp_files([file])
    return file


def verified(ledger: Ledger, file: Path):  # type: ignore[no-untyped-def]
    from ledger.timestamps.verification import verify_files

    [verdict] = verify_files([file], ledger.timestamps.check)
    assert verdict.valid, verdict.reason
    return verdict


def test_finality_by_confirmations_counts_blocks_mined_on_top_and_turns_final(
    anvil, chain, deployment, artifacts, accounts, tmp_path
):
    client = client_with(anvil, accounts, artifacts, finality="confirmations", finality_confirmations=3)
    ledger = Ledger(Settings(data_dir=tmp_path / "data"), client, deployment, artifacts, embedded=False)
    file = stamped_file(ledger, tmp_path)
    first = verified(ledger, file)
    assert first.verified is not None and first.verified.finality is not None
    assert (first.verified.finality.confirmations, first.verified.finality.final) == (1, False)
    assert first.as_json()["finality"]["status"] == "confirmed"
    assert first.as_json()["finality"]["sentence"] == "not final yet: 1 of 3 confirmations"
    mine(chain, 1)
    assert verified(ledger, file).verified.finality.confirmations == 2  # type: ignore[union-attr]
    mine(chain, 1)
    final = verified(ledger, file).verified.finality  # type: ignore[union-attr]
    assert (final.confirmations, final.final, final.basis) == (3, True, "confirmations")
    assert final.sentence() == "final: 3 confirmations (at least 3 make a record final)"


def test_finality_by_the_chains_finalized_block_follows_the_tag_as_blocks_are_mined(
    anvil, chain, deployment, artifacts, accounts, tmp_path
):
    client = client_with(anvil, accounts, artifacts, finality="tag")
    ledger = Ledger(Settings(data_dir=tmp_path / "data"), client, deployment, artifacts, embedded=False)
    file = stamped_file(ledger, tmp_path)
    finality = verified(ledger, file).verified.finality  # type: ignore[union-attr]
    assert finality is not None and finality.basis == "finalized-tag"
    assert finality.finalized_block == finalized_block(chain)
    assert finality.final == (finality.block_number <= finalized_block(chain))
    mined = 0
    while finalized_block(chain) < finality.block_number:  # Anvil: 64 blocks; Hardhat, Ganache: none
        mine(chain, 1)
        mined += 1
        assert mined <= 128, "the chain's finalized block does not follow its head"
        if mined == 1:
            assert not verified(ledger, file).verified.finality.final  # type: ignore[union-attr]
    after = verified(ledger, file).verified.finality  # type: ignore[union-attr]
    assert after.final and after.confirmations == finality.confirmations + mined
    assert after.sentence().startswith(f"final: block {after.block_number} is finalized by the chain")


def test_finality_as_the_api_answers_a_verification(anvil, chain, deployment, artifacts, accounts, tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from ledger.timestamps.proofs import Certificate, certificate_path, file_digest

    client = client_with(anvil, accounts, artifacts, finality="confirmations", finality_confirmations=2)
    ledger = Ledger(Settings(data_dir=tmp_path / "data"), client, deployment, artifacts, embedded=False)
    file = stamped_file(ledger, tmp_path)
    body = {"digest": "0x" + file_digest(file).hex(),
            "certificate": json.loads(Certificate.load(certificate_path(file)).dumps())}
    with TestClient(create_app(ledger=ledger), base_url="http://testserver/api/v1") as api:
        first = api.post("/timestamps/verify", json=body).json()
        mine(chain, 1)
        second = api.post("/timestamps/verify", json=body).json()
    assert first["valid"] and first["finality"]["final"] is False and first["finality"]["confirmations"] == 1
    assert second["finality"]["final"] is True and second["finality"]["status"] == "final"


def test_finality_of_a_record_not_in_the_chain_is_pending() -> None:
    assert Finality(block_number=10, head=9, required=1).status == "pending"
    assert Finality(block_number=10, head=12, required=12, finalized_block=10).status == "final"


def test_transaction_when_base_fee_is_above_the_cap_is_refused_and_nothing_is_sent(
    anvil, chain, deployment, artifacts, accounts, contract
):
    client = client_with(anvil, accounts, artifacts, max_fee_per_gas=1, priority_fee_per_gas=0)
    registry = contract("TimestampRegistry")
    nonce = chain.w3.eth.get_transaction_count(accounts[0].address)
    with pytest.raises(FeeCapExceededError) as refused:
        client.transact(registry.functions.stamp(os.urandom(32)))
    assert "cap 0.000000001 gwei (IPLEDGER_MAX_FEE_PER_GAS); nothing was sent" in refused.value.message
    assert refused.value.context["max_fee_per_gas"] == 1
    assert chain.w3.eth.get_transaction_count(accounts[0].address) == nonce


def test_transaction_under_a_fee_cap_offers_at_most_the_cap(anvil, chain, artifacts, accounts, contract):
    base = int(chain.w3.eth.get_block("latest")["baseFeePerGas"])
    cap = base + 2 * 10**9  # enough for the base fee and the tip, less than twice the base fee plus the tip
    client = client_with(anvil, accounts, artifacts, max_fee_per_gas=cap)
    receipt = client.transact(contract("TimestampRegistry").functions.stamp(os.urandom(32)))
    sent = chain.w3.eth.get_transaction(receipt.tx_hash)
    assert receipt.status == 1 and sent["maxFeePerGas"] == min(cap, 2 * base + 10**9)


def test_fee_cap_below_the_tip_is_a_configuration_error(anvil, accounts, artifacts):
    with pytest.raises(ConfigurationError, match="below the tip"):
        client_with(anvil, accounts, artifacts, max_fee_per_gas=10, priority_fee_per_gas=11)


# -- the chain a service starts on -----------------------------------------------------------------


def remote_settings(anvil, tmp_path: Path, **values) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(rpc_url=anvil.url, data_dir=tmp_path / "data", **values)


def manifest_of(deployment: Deployment, tmp_path: Path, **changes) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({**deployment.model_dump(), **changes}))
    return path


def test_open_when_the_node_serves_another_chain_id_than_the_setting_is_refused(anvil, chain, tmp_path):
    with pytest.raises(ConfigurationError) as refused, open_ledger(
        remote_settings(anvil, tmp_path, chain_id=1), need_account=False
    ):
        pass
    assert f"serves chain {chain.chain_id}, but IPLEDGER_CHAIN_ID is 1" in refused.value.message


def test_open_with_a_manifest_of_another_chain_id_is_refused_naming_both(anvil, chain, deployment, tmp_path):
    manifest = manifest_of(deployment, tmp_path, chain_id=4242)
    with pytest.raises(ConfigurationError) as refused, open_ledger(
        remote_settings(anvil, tmp_path, deployment=manifest), need_account=False
    ):
        pass
    assert f"the deployment manifest {manifest} is for chain 4242" in refused.value.message
    assert f"serves chain {chain.chain_id}" in refused.value.message


def test_open_with_a_manifest_whose_deploy_block_or_code_the_chain_lacks_is_refused(anvil, deployment, tmp_path):
    moved = manifest_of(deployment, tmp_path, deploy_block_hash="0x" + "ab" * 32)
    with pytest.raises(ConfigurationError, match="does not have"), open_ledger(
        remote_settings(anvil, tmp_path, deployment=moved), need_account=False
    ):
        pass
    contracts = {**deployment.model_dump()["contracts"]}
    contracts["IPLens"] = {**contracts["IPLens"], "address": "0x" + "12" * 20}
    empty = manifest_of(deployment, tmp_path, contracts=contracts)
    with pytest.raises(ConfigurationError, match="IPLens at 0x1212"), open_ledger(
        remote_settings(anvil, tmp_path, deployment=empty), need_account=False
    ):
        pass


def test_open_with_the_right_chain_and_manifest_starts(anvil, chain, deployment, tmp_path):
    manifest = manifest_of(deployment, tmp_path)
    with open_ledger(remote_settings(anvil, tmp_path, deployment=manifest, chain_id=chain.chain_id),
                     need_account=False) as opened:
        assert opened.deployment.address("IPRegistry") == deployment.address("IPRegistry")


def test_bank_check_says_how_final_the_report_is_in_json_page_and_document(
    anvil, chain, deployment, artifacts, accounts, tmp_path
):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from ledger.documents.due_diligence import render_due_diligence
    from ledger.registry.metadata import build_document

    client = client_with(anvil, accounts, artifacts, finality="confirmations", finality_confirmations=2)
    ledger = Ledger(Settings(data_dir=tmp_path / "data"), client, deployment, artifacts, embedded=False)
    asset_id = ledger.assets.register(os.urandom(32), "invention-patent", None, build_document("Finality"),
                                      sender=accounts[1]).asset_id
    with TestClient(create_app(ledger=ledger)) as web:
        first = web.get(f"/api/v1/assets/{asset_id}/check").json()["finality"]
        page = web.get(f"/assets/{asset_id}/check?lang=en").text
    assert (first["final"], first["confirmations"], first["basis"]) == (False, 1, "confirmations")
    assert 'data-final="false"' in page and "Not final yet" in page
    mine(chain, 1)
    report = ledger.check.due_diligence(asset_id)  # read afresh (the API reuses a report while the head is recent)
    assert (report.as_json()["finality"]["final"], report.as_json()["finality"]["confirmations"]) == (True, 2)
    html = render_due_diligence(report, chain_id=chain.chain_id, fmt="html", lang="en").decode()
    assert 'id="finality"' in html and "Final" in html and "2 confirmations of the latest change" in html
