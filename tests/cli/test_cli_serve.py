"""``ipledger serve`` refuses, with the reason, what it cannot serve (replicas: tests/api/test_replicas.py)."""

from __future__ import annotations

from pathlib import Path

from ledger.audit.store import Store
from ledger.chain.client import ChainClient
from ledger.chain.deployment import DeployedContract, Deployment
from ledger.chain.state import pin_deployment


def serve_env(chain: ChainClient, manifest: Path, db: Path) -> dict[str, str]:
    return {"IPLEDGER_RPC_URL": chain.rpc_url, "IPLEDGER_DEPLOYMENT": str(manifest),
            "IPLEDGER_DB_URL": f"sqlite:///{db}", "IPLEDGER_RELAYER_KEY": "0x" + "11" * 32}


def test_serve_without_rpc_url_exits_2_pointing_to_up(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("serve")
    assert run.code == 2
    assert "IPLEDGER_RPC_URL" in run.err and "ipledger up" in run.err


def test_serve_with_another_chains_manifest_exits_2_naming_both_chains(cli, chain, deployment: Deployment,
                                                                        tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "deployment.json"
    manifest.write_text(deployment.model_copy(update={"chain_id": 999}).model_dump_json())
    run = cli("serve", env=serve_env(chain, manifest, tmp_path / "shared.sqlite3"))
    assert run.code == 2, run.err
    assert "chain 999" in run.err and f"serves chain {chain.chain_id}" in " ".join(run.err.split())


def test_serve_with_a_contract_missing_from_the_chain_exits_2_naming_it(cli, chain, deployment: Deployment,
                                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contracts = dict(deployment.contracts)
    lens = contracts["IPLens"]
    contracts["IPLens"] = DeployedContract(**{**lens.model_dump(), "address": "0x" + "12" * 20})
    manifest = tmp_path / "deployment.json"
    manifest.write_text(deployment.model_copy(update={"contracts": contracts}).model_dump_json())
    run = cli("serve", env=serve_env(chain, manifest, tmp_path / "shared.sqlite3"))
    assert run.code == 2, run.err
    assert "IPLens" in run.err and "no contract there" in " ".join(run.err.split())


def test_serve_on_a_database_serving_another_deployment_exits_2(cli, chain, deployment: Deployment,
                                                                 tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "deployment.json"
    manifest.write_text(deployment.model_dump_json())
    db = tmp_path / "shared.sqlite3"
    store = Store(f"sqlite:///{db}")
    assert pin_deployment(store.engine, chain.chain_id, "0x" + "ab" * 20, "another") is None
    store.dispose()
    run = cli("serve", env=serve_env(chain, manifest, db))
    assert run.code == 2, run.err
    assert "another deployment" in " ".join(run.err.split())
