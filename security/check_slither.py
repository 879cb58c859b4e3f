"""Judge Slither's JSON report against the triage list.

    python security/check_slither.py REPORT.json [--triage security/slither-triage.md]

Fails (exit 1) on any High or Medium finding, and on any Low or Informational finding that the
triage list does not name. Prints the counts by severity and every finding with its verdict.

The triage list is the Markdown table in ``security/slither-triage.md``: one row per
``| detector | where | reason |``, where ``where`` is ``Contract.member`` as Slither names the
finding's first element (a function with its signature, e.g. ``IPLens._flags(IIPLens.Report,uint40)``,
a state variable or an event by its name). A row covers every finding of that detector at that
place (e.g. the several time comparisons of one function). Rows that match nothing are reported
as stale, so the list shrinks when a finding is fixed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

BLOCKING = ("High", "Medium")
ORDER = ("High", "Medium", "Low", "Informational", "Optimization")
ROW = re.compile(r"^\|\s*`?([a-z0-9-]+)`?\s*\|\s*`?([^|`]+?)`?\s*\|\s*(.+?)\s*\|\s*$")


def where(finding: dict) -> str:
    """``Contract.member`` of the finding's first element (the place the triage list names)."""
    element = finding["elements"][0] if finding.get("elements") else {}
    name = element.get("name", "?")
    parent = element.get("type_specific_fields", {}).get("parent", {})
    if element.get("type") == "contract" or not parent:
        return name
    if parent.get("type") == "function":  # a node or local variable: name its function
        grand = parent.get("type_specific_fields", {}).get("parent", {}).get("name", "?")
        return f"{grand}.{parent.get('type_specific_fields', {}).get('signature', parent.get('name'))}"
    signature = element.get("type_specific_fields", {}).get("signature")
    return f"{parent.get('name')}.{signature or name}"


def load_triage(path: Path) -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for line in path.read_text().splitlines():
        match = ROW.match(line.strip())
        if not match or match.group(1) == "detector" or set(match.group(1)) <= {"-"}:
            continue
        rows[(match.group(1), match.group(2).strip())] = match.group(3)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--triage", type=Path, default=Path(__file__).with_name("slither-triage.md"))
    args = parser.parse_args(argv)

    report = json.loads(args.report.read_text())
    if not report.get("success", False):
        print(f"slither failed: {report.get('error')}")
        return 1
    findings = report.get("results", {}).get("detectors", [])
    triage = load_triage(args.triage)
    counts = Counter(f["impact"] for f in findings)
    print("findings by severity: " + ", ".join(f"{sev} {counts.get(sev, 0)}" for sev in ORDER))

    failures = 0
    used: set[tuple[str, str]] = set()
    for finding in sorted(findings, key=lambda f: (ORDER.index(f["impact"]), f["check"], where(f))):
        key = (finding["check"], where(finding))
        first_line = finding["description"].strip().splitlines()[0]
        if finding["impact"] in BLOCKING:
            verdict = "BLOCKING"
            failures += 1
        elif key in triage:
            verdict = "triaged"
            used.add(key)
        else:
            verdict = "UNTRIAGED"
            failures += 1
        print(f"  [{verdict:>9}] {finding['impact']:<13} {finding['check']:<24} {key[1]}")
        if verdict != "triaged":
            print(f"              {first_line}")
    for key in sorted(set(triage) - used):
        print(f"  [    stale] triage row matches no finding: {key[0]} | {key[1]}")
    if failures:
        print(
            f"slither: {failures} finding(s) block the gate: fix them, or for Low/Informational add a row "
            f"`| detector | where | reason |` to {args.triage}"
        )
        return 1
    print(f"slither: 0 High, 0 Medium; {len(findings)} Low/Informational finding(s), all triaged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
