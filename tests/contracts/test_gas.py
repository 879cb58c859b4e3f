"""Gas never regresses: every operation costs at most what the committed report says, and meets its target."""

from __future__ import annotations

import json

import pytest

from scripts.gas_report import MEASURES, REPORT_JSON, TARGETS


@pytest.fixture(scope="module")
def committed() -> dict[str, int]:
    if not REPORT_JSON.exists():
        pytest.fail(f"{REPORT_JSON} is missing: run `make gas` and commit it", pytrace=False)
    return json.loads(REPORT_JSON.read_text())


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.__name__)
def test_gas_at_most_committed_report_and_targets(measure, chain, deployment, artifacts, committed):
    measured = measure(chain, deployment, artifacts)
    assert measured, "a measure that measures nothing proves nothing"
    missing = sorted(set(measured) - set(committed))
    assert not missing, f"not in the committed gas report (run `make gas`): {missing}"
    regressed = {k: (committed[k], v) for k, v in measured.items() if v > committed[k]}
    assert not regressed, f"gas rose above the committed report (was, now): {regressed}"
    over = {k: (TARGETS[k], v) for k, v in measured.items() if k in TARGETS and v > TARGETS[k]}
    assert not over, f"over target (target, now): {over}"
