"""The chain: compiling (toolchain), the embedded Anvil (devchain), the connection with its nonces,
receipts and custom-error decoding (client), the write-ahead journal, keystores and deployments.

The only package that imports web3; every capability above it receives a :class:`ChainClient`.
"""

from ledger.chain.client import ChainClient, Contract, Receipt, dev_accounts

__all__ = ["ChainClient", "Contract", "Receipt", "dev_accounts"]
