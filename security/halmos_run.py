"""Run Halmos under the project's Rich.

Halmos 0.3.1+ pins ``rich<14.1`` while ipledger pins ``rich==15.0.0`` (its CLI), so the test extras
pin Halmos 0.3.0, which accepts ``rich>=13.9.4``. Rich 15 keeps live displays on a stack and
``Console.clear_live()`` pops it; Halmos calls ``clear_live()`` before it starts its status line,
when nothing is live, which Rich 14 tolerated and Rich 15 raises on (IndexError). This wrapper
makes ``clear_live()`` on an empty stack a no-op again, then hands over to Halmos's own ``main``
with the same arguments: ``python security/halmos_run.py --config security/halmos.toml``.
"""

from __future__ import annotations

import sys

from rich.console import Console


def _clear_live(self: Console) -> None:
    with self._lock:
        if self._live_stack:
            self._live_stack.pop()


Console.clear_live = _clear_live  # type: ignore[method-assign]

from halmos.__main__ import main  # noqa: E402  (after the patch, on purpose)

if __name__ == "__main__":
    sys.exit(main())
