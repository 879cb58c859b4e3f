"""How deep the property, stateful and fuzz tests go.

The default run (``make test``) stays near ten minutes on a 2-core machine, so each property test has a
default size that still exercises every rule; ``IPLEDGER_DEEP_TESTS=1`` selects the long runs (several
times the examples and steps, and the ``deep`` Hypothesis profile of tests/conftest.py for any ``@given``
without its own size). A test's own variable (``IPLEDGER_PROPERTY_EXAMPLES``, ``IPLEDGER_PROPERTY_STEPS``,
``IPLEDGER_FUZZ_EXAMPLES``) wins over both.
"""

from __future__ import annotations

import os

DEEP = os.environ.get("IPLEDGER_DEEP_TESTS", "").strip() not in ("", "0")
"""True when ``IPLEDGER_DEEP_TESTS`` is set to anything but ``0``."""

DEEP_MAX_EXAMPLES = 1000
"""Hypothesis's ``max_examples`` under ``IPLEDGER_DEEP_TESTS=1`` for a ``@given`` that sets none (default 100)."""


def depth(default: int, deep: int, variable: str | None = None) -> int:
    """``variable``'s value if set, else ``deep`` under ``IPLEDGER_DEEP_TESTS=1``, else ``default``."""
    if variable and os.environ.get(variable, "").strip():
        return int(os.environ[variable])
    return deep if DEEP else default
