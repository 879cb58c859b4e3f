"""`ipledger stamp FILE --revises OLD.ipledger.json` and `ipledger verify` showing the whole version chain."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli_timestamps import assert_clean_failure, run


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return str(result.stdout)


def test_stamp_revises_then_verify_shows_every_version_back_to_the_first(tmp_path: Path):
    data = tmp_path / "data"
    drafts = [tmp_path / f"manuscript-v{n}.md" for n in (1, 2, 3)]
    for n, draft in enumerate(drafts, start=1):
        draft.write_text("# Results\n" + "more text\n" * n)
    ok(run("stamp", str(drafts[0]), data=data))
    second = json.loads(ok(run("stamp", str(drafts[1]), "--revises", f"{drafts[0]}.ipledger.json", "--json",
                               data=data)))[0]
    assert second["revises"]["certificate"]["file_name"] == "manuscript-v1.md"
    shown = ok(run("stamp", str(drafts[2]), "--revises", f"{drafts[1]}.ipledger.json", data=data))
    assert "revises manuscript-v2.md" in shown and "version 3 of its chain" in shown

    verified = ok(run("verify", str(drafts[2]), data=data))
    assert "VALID" in verified and "version 3 of a chain of 3" in verified
    for n in (1, 2, 3):
        assert f"{n}. manuscript-v{n}.md" in verified
    assert "authors" not in verified  # one author: nothing to warn of
    # Anyone holding the certificate may revise it: another account's revision says the chain changed hands.
    forged = tmp_path / "manuscript-v4-by-someone-else.md"
    forged.write_text("# Results\nmy own conclusions\n")
    ok(run("--dev-account", "2", "stamp", str(forged), "--revises", f"{drafts[2]}.ipledger.json", data=data))
    mixed = ok(run("verify", str(forged), data=data))
    assert "version 4 of a chain of 4" in mixed and "the chain has 2 authors" in mixed
    assert "each version proves only its own author" in mixed
    report = json.loads(ok(run("verify", str(drafts[2]), f"{drafts[2]}.ipledger.json", "--json", data=data)))
    assert [v["file_name"] for v in report["versions"]] == [d.name for d in drafts]
    assert report["valid"] is True

    assert_clean_failure(run("stamp", str(drafts[0]), str(drafts[1]), "--revises", f"{drafts[0]}.ipledger.json",
                             data=data), 2, "one file")
    tampered = json.loads((tmp_path / "manuscript-v3.md.ipledger.json").read_text())
    tampered["revises"]["nonce"] = "0x" + "22" * 32
    (tmp_path / "bad.ipledger.json").write_text(json.dumps(tampered))
    assert_clean_failure(run("verify", str(drafts[2]), str(tmp_path / "bad.ipledger.json"), data=data), 2,
                         "does not open to the stamp it names")
