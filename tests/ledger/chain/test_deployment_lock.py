"""Two deployers of one manifest at once (``ipledger up`` deploying while a command run beside it on its chain
deploys too): one suite, which the manifest names, not two."""

from __future__ import annotations

import threading
from pathlib import Path

from ledger.chain.client import ChainClient, dev_accounts
from ledger.chain.deployment import Deployment, deploy_suite, load_deployment
from ledger.chain.devchain import Anvil


def test_concurrent_deployers_of_one_manifest_share_one_suite(tmp_path: Path, artifacts) -> None:
    manifest = tmp_path / "deployments" / "31337.json"
    start = threading.Barrier(2)
    results: list[Deployment] = []
    errors: list[BaseException] = []

    def deployer(node_url: str) -> None:
        client = ChainClient(node_url, dev_accounts(1)[0], error_abis=[a.abi for a in artifacts.values()])
        try:
            start.wait()
            results.append(deploy_suite(client, manifest, artifacts=artifacts))
        except BaseException as exc:  # noqa: BLE001 -- reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            client.close()

    with Anvil() as node:
        threads = [threading.Thread(target=deployer, args=(node.url,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        first, second = results
        assert first.contracts == second.contracts
        assert load_deployment(manifest).contracts == first.contracts
        # Every contract of the one suite is on the chain; the second deployer sent nothing.
        client = ChainClient(node.url, dev_accounts(1)[0])
        try:
            assert all(client.code_at(c.address) for c in first.contracts.values())
            deploys_and_wiring = client.w3.eth.get_transaction_count(dev_accounts(1)[0].address)
        finally:
            client.close()
    alone = tmp_path / "alone" / "31337.json"
    with Anvil() as node:
        client = ChainClient(node.url, dev_accounts(1)[0], error_abis=[a.abi for a in artifacts.values()])
        try:
            deploy_suite(client, alone, artifacts=artifacts)
            assert client.w3.eth.get_transaction_count(dev_accounts(1)[0].address) == deploys_and_wiring
        finally:
            client.close()
