#!/usr/bin/env python3
"""Deploy the ipledger contract suite to any EVM chain (operators' script; `ipledger deploy` does the same).

    IPLEDGER_RPC_URL=https://... IPLEDGER_PRIVATE_KEY=0x... IPLEDGER_PUBLIC_URL=https://ip.example.org \
        .venv/bin/python scripts/deploy.py --production

Idempotent: a contract already deployed from the same bytecode and arguments is kept. Writes the
manifest (chain id, addresses, deploy block) to <data_dir>/deployments/<chain_id>.json, or --manifest.
--production does not give the deployer the registrar role (grant it to the IP centre's account), and
requires IPLEDGER_PUBLIC_URL (the registry's tokenURI base is recorded on chain from it; never a dev address).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.chain.client import ChainClient, client_options
from ledger.chain.deployment import deploy_suite, manifest_path
from ledger.chain.toolchain import compile_contracts
from ledger.context import resolve_account
from ledger.documents.tokens import DEFAULT_PUBLIC_URL, production_public_url, token_base_uri
from ledger.errors import LedgerError, ValidationError
from ledger.settings import get_settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, help="where to write the manifest")
    parser.add_argument("--production", action="store_true", help="no registrar role for the deployer")
    args = parser.parse_args()
    settings = get_settings()
    if settings.rpc_url is None:
        print("error: set IPLEDGER_RPC_URL to the chain to deploy to", file=sys.stderr)
        return 2
    try:
        public_url = production_public_url(settings) if args.production else settings.public_url or DEFAULT_PUBLIC_URL
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        account = resolve_account(settings, embedded=False, prompt=None, notices=[])
        if account is None:
            print("error: set IPLEDGER_PRIVATE_KEY, or IPLEDGER_ACCOUNT and IPLEDGER_PASSWORD", file=sys.stderr)
            return 2
        artifacts = compile_contracts()
        client = ChainClient(settings.rpc_url, account, journal_dir=settings.data_dir / "journal",
                             error_abis=[a.abi for a in artifacts.values()], **client_options(settings))
        path = args.manifest or manifest_path(settings.data_dir, client.chain_id)
        deployment = deploy_suite(client, path, artifacts=artifacts, dev_roles=not args.production,
                                  base_uri=token_base_uri(public_url))
        client.close()
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3 if "answer" in str(exc) else 1
    print(json.dumps({"manifest": str(path), **deployment.model_dump()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
