"""`ipledger dispute open|resolve|list|show`, `asset parent` and the check's dispute lines, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli_registry import ok, refused, run

OTHER = "0x70997970c51812dc3a010c7d01b54e68d79c79c8"


def test_dispute_open_list_resolve_and_parent_with_the_check_showing_them(tmp_path: Path):
    data = tmp_path / "data"
    for n in (1, 2):
        (tmp_path / f"v{n}.txt").write_text(f"version {n}")
        ok(run("asset", "register", "--kind", "software-copyright", "--file", str(tmp_path / f"v{n}.txt"),
               "--title", f"Version {n}", data=data))
    opened = json.loads(ok(run("dispute", "open", "2", "--kind", "ownership", "--case", "(2025)jing73minchu1",
                               "--evidence-hash", "0x" + "0e" * 32, "--json", data=data)))
    assert opened["disputeId"] == 1 and opened["assetId"] == 2
    listed = json.loads(ok(run("dispute", "list", "2", "--json", data=data)))
    assert [(d["dispute_id"], d["kind"], d["outcome"], d["ref"]) for d in listed["data"]] == [
        (1, "ownership", "open", "(2025)JING73MINCHU1")]
    refused(run("asset", "transfer", "2", OTHER, data=data), 1,
            "the ownership of asset 2 is in dispute (dispute 1): it cannot be transferred")
    refused(run("market", "list", "2", "--price", "100", data=data), 1,  # told before signing: no sale can complete
            "asset 2 cannot be offered for sale: its ownership is in dispute (dispute 1, case (2025)JING73MINCHU1)")
    assert json.loads(ok(run("market", "listings", "--asset", "2", "--json", data=data)))["count"] == 0
    refused(run("market", "offer", "2", "--amount", "5", data=data), 1,  # its money could only sit in escrow
            "asset 2 cannot receive an offer: its ownership is in dispute (dispute 1, case (2025)JING73MINCHU1)")
    assert json.loads(ok(run("market", "offers", "--asset", "2", "--json", data=data)))["count"] == 0
    ok(run("asset", "parent", "2", "1", data=data))
    shown = ok(run("check", "2", data=data))
    assert "its ownership is in dispute (dispute 1, case (2025)JING73MINCHU1" in shown
    assert "Open disputes" in shown
    lineage = json.loads(ok(run("asset", "parent", "1", "--json", data=data)))
    assert lineage == {"asset_id": 1, "parent_id": None, "children": [2]}
    refused(run("dispute", "resolve", "1", "--outcome", "open", data=data), 2, "how the dispute ended")
    ok(run("dispute", "resolve", "1", "--outcome", "dismissed", data=data))
    shown = json.loads(ok(run("dispute", "show", "1", "--json", data=data)))
    assert (shown["outcome"], shown["open"]) == ("dismissed", False)
    assert "No open disputes." in ok(run("dispute", "list", "2", data=data))
    ok(run("asset", "transfer", "2", OTHER, data=data))
    refused(run("dispute", "open", "1", "--kind", "libel", "--case", "C1", data=data), 2, "unknown dispute kind")
