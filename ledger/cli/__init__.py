"""The ``ipledger`` command line: one module per command group, assembled in :mod:`ledger.cli.main`."""
