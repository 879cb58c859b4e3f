"""Sealed documents: files encrypted once and opened only by named accounts (HPKE, RFC 9180).

- :mod:`ledger.sealing.format`: the sealed-file layout (docs/sealed-format.md), header and recipients;
- :mod:`ledger.sealing.keys`: encryption keys of accounts, derived from the account key;
- :mod:`ledger.sealing.stream`: sealing and opening streams, chunk by chunk, never the whole file;
- :mod:`ledger.sealing.directory`: the on-chain KeyDirectory (published keys, disclosures);
- :mod:`ledger.sealing.service`: sealing to addresses and opening against the ledger's records.
"""
