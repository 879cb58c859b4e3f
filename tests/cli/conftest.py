"""``ipledger`` in-process: ``ledger.cli.main.main`` with its argv, exit code and output captured."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.cli.main import main
from ledger.settings import get_settings


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


CliRunner = Callable[..., Run]


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """``cli("asset", "show", "1", env={...})``: one ``ipledger`` command on a fresh data folder,
    the environment as it was before restored afterwards (``--account`` writes to it)."""

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        saved = dict(os.environ)
        saved_argv = sys.argv
        for key in [k for k in os.environ if k.startswith("IPLEDGER_") and k != "IPLEDGER_DATA_DIR"]:
            del os.environ[key]
        os.environ.update(env or {})
        sys.argv = ["ipledger", *args]
        get_settings.cache_clear()
        capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = saved_argv
            os.environ.clear()
            os.environ.update(saved)
            get_settings.cache_clear()
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
