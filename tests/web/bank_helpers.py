"""Shared steps of the bank's and the service centre's browser tests: owners acting through the CLI, polling the
index, reading a page's totals."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from tests.cliproc import run_ipledger
from tests.web.browser import ROOT, Platform


def cli_as(platform: Platform, account: LocalAccount, *args: str) -> Any:
    """``ipledger ARGS --json`` acting as ``account`` (IPLEDGER_PRIVATE_KEY: no keystore is left in the shared data
    folder, where it would change which account the other tests' commands act as); its JSON answer."""
    env = platform.env(IPLEDGER_PRIVATE_KEY=account.key.hex())
    done = run_ipledger([*args, "--json"], env=env, timeout=180, cwd=ROOT)
    assert done.returncode == 0, f"ipledger {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def cli_json(platform: Platform, *args: str) -> Any:
    """``ipledger ARGS --json`` (a read, or an act with ``--dev-account``), parsed."""
    return json.loads(platform.cli(*args, "--json").stdout)


def new_bank(platform: Platform) -> LocalAccount:
    """A fresh account the admin (dev account 0) accredits as a bank (pledgee)."""
    bank: LocalAccount = Account.create()
    platform.cli("--dev-account", "0", "role", "grant", "pledgee", bank.address)
    return bank


def register_asset(platform: Platform, owner: LocalAccount, tmp_path: Path, title: str = "A method of pledging") -> \
        tuple[int, str]:
    """A new invention patent of ``owner`` with a unique official number and content; (asset id, official number)."""
    tag = uuid.uuid4().hex[:10]
    ref = f"CN2026{int(tag, 16) % 10**7:07d}.{int(tag[:2], 16) % 10}"
    claims = tmp_path / f"claims-{tag}.txt"
    claims.write_text(f"What is claimed is {title} ({tag}).\n")
    done = cli_as(platform, owner, "asset", "register", "--kind", "invention-patent", "--ref", ref, "--file",
                  str(claims), "--title", title)
    return int(done["asset_id"]), ref


def propose_pledge(platform: Platform, owner: LocalAccount, asset_id: int, bank: str, maturity: str = "2029-06-30",
                   principal: int = 5_000_000, *, indexed: bool = False) -> int:
    """``ipledger pledge propose`` as the owner; ``indexed``: wait until the audit index holds the proposal."""
    done = cli_as(platform, owner, "pledge", "propose", str(asset_id), "--to", bank, "--principal", str(principal),
                  "--currency", "CNY", "--maturity", maturity)
    if indexed:
        wait_indexed(platform, int(done["block_number"]))
    return int(done["pledgeId"])


def wait_indexed(platform: Platform, block: int, timeout: float = 60) -> int:
    """Wait until the audit index holds block ``block`` (the indexer runs beside the API); the block indexed."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        indexed = httpx.get(f"{platform.url}/api/v1/audit/totals", timeout=30).json().get("indexed_to") or 0
        if indexed >= block:
            return int(indexed)
        assert time.monotonic() < deadline, f"the index stayed at block {indexed}, waiting for block {block}"
        time.sleep(0.5)


def shown_totals(page: Any) -> dict[str, int]:
    """The totals a page shows, by their ``data-key`` (e.g. ``registrations_by_kind/design``)."""
    pairs = page.eval_on_selector_all("[data-key]", "els => els.map(e => [e.dataset.key, e.dataset.value])")
    return {key: int(value) for key, value in pairs}


def expected_totals(totals: dict[str, Any]) -> dict[str, int]:
    """``ipledger audit totals --json`` flattened the way the dashboard keys its numbers."""
    registry = totals["registry"]
    out: dict[str, int] = {"registrations_total": sum(registry["registrations_by_kind"].values())}
    out.update({f"registrations_by_kind/{k}": v for k, v in registry["registrations_by_kind"].items()})
    out["active_licenses/total"] = registry["active_licenses"]["total"]
    out.update({f"active_licenses/by_kind/{k}": v for k, v in registry["active_licenses"]["by_kind"].items()})
    out.update({f"licenses_by_status/{k}": v for k, v in registry["licenses_by_status"].items()})
    for bank, amounts in registry["pledged_principal"].items():
        out.update({f"pledged_principal/{bank}/{c}": v for c, v in amounts.items()})
    for bank, statuses in registry["pledges_by_bank"].items():
        out.update({f"pledges_by_bank/{bank}/{s}": v for s, v in statuses.items()})
    out.update({f"sales_volume/{k}": v for k, v in registry["sales_volume"].items()})
    out["sales/assets/count"] = registry["sales"]["assets"]["count"]
    out["sales/licenses/count"] = registry["sales"]["licenses"]["count"]
    disputes = registry["disputes"]
    out["disputes/opened"] = disputes["opened"]
    out.update({f"disputes/open_by_kind/{k}": v for k, v in disputes["open_by_kind"].items()})
    out.update({f"disputes/resolved_by_outcome/{k}": v for k, v in disputes["resolved_by_outcome"].items()})
    out.update({f"by_event/{e['contract']}.{e['event']}": e["count"] for e in totals["by_event"]})
    return out
