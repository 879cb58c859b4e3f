"""ipledger: a blockchain ledger for intellectual property.

Importing this package puts Python's recursion limit back where it belongs. py_ecc (imported through
eth-account and web3 by every ipledger process: the CLI, ``ipledger up`` and ``serve``, the API) raises
it to 100000 for its own recursive curve arithmetic. On CPython 3.11 the C JSON parser counts its
nesting against that limit, so a ~200 KB document of nested brackets (an API body, a file given to the
CLI) made it recurse until the C stack overflowed: the process died of a segfault, with no error to
catch. With the default limit the same document is a ``RecursionError``, which the readers turn into a
refusal. Nothing in ipledger needs deep recursion, nor do the py_ecc paths it reaches (eth-keyfile's
v3 keystores; py_ecc's BLS code only serves v4 keystores). The limit is interpreter-wide, so it holds in
every thread too (uvicorn's, under ``ipledger up``). py_ecc is imported here first, so that a later
import cannot raise the limit again; ``tests/test_deep_json_in_every_process.py`` checks every entry point.
"""

import os
import sys

# eth-hash (keccak for eth-utils, eth-abi, eth-account and web3) takes the first backend it can import,
# pycryptodome, unless told otherwise; safe-pysha3 (a dependency) is C and faster on short inputs such
# as addresses' checksums, which the relay computes for every request (benchmarks/api.md). The variable
# is eth-hash's documented switch; it is read at the first hash, so setting it here is early enough.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

try:
    import py_ecc  # noqa: F401  (its import raises the limit: done now, so that it is undone below)
except ModuleNotFoundError:  # the wheel's isolated build reads ledger/ without the dependencies: nothing to undo
    pass

RECURSION_LIMIT = 1000
"""CPython's default."""

sys.setrecursionlimit(RECURSION_LIMIT)
