"""Any EVM chain: the product calls no node-specific JSON-RPC method outside the dev tooling."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLING = {ROOT / "ledger" / "chain" / "devchain.py"}
SHARED_DEV_METHODS = {"evm_snapshot", "evm_revert", "evm_mine", "evm_increaseTime"}
"""Served alike by Anvil, Hardhat's node and Ganache (tests and dev tools only: ``ChainClient``'s dev section)."""

METHOD = re.compile(r"""["'](anvil_\w+|hardhat_\w+|evm_\w+|txpool_\w+|debug_\w+|ganache_\w+)["']""")


def test_ledger_and_api_call_no_node_specific_rpc_method_outside_the_dev_tooling():
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for package in ("ledger", "api")
        for path in (ROOT / package).rglob("*.py") if path not in DEV_TOOLING
        for name in METHOD.findall(path.read_text())
        if name not in SHARED_DEV_METHODS
    }
    assert not found, f"node-specific JSON-RPC methods outside ledger/chain/devchain.py: {sorted(found)}"
