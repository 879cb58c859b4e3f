"""Mutation check: remove each guard the bank's rules depend on, one at a time, and show a suite fails.

    .venv/bin/python scripts/mutation_check.py [--only ID[,ID...]] [--list] [--keep]

Every mutant is built in a throw-away copy of the project (``contracts/``, ``contracts-compat/``, ``test/foundry/``,
``foundry.toml``, the solc shim; ``node_modules`` linked), never in the working tree, so the sources
are never left mutated, whatever happens (Ctrl-C included). For each mutant the script checks that
its snippet occurs exactly once in the source (a stale mutant is an error, not a pass), applies it,
and runs its suites in order until one fails: the mutant is then *killed*. A mutant that every
suite survives fails the check. Suites:

- ``forge:<contract>[:<test>]``: ``forge test`` on the copy (fuzz and invariant tests at the CI depth);
- ``halmos:<function prefix>``: the Halmos symbolic tests on the copy;
- ``pytest:<path>[::-k expr]``: the pytest contract tests on a real Anvil, with
  ``IPLEDGER_PROJECT_ROOT`` pointing at the copy so that the mutated contracts are compiled and
  deployed.

Before the mutants, every suite that is used runs once on the unmutated copy and must pass (a
suite that fails anyway would "kill" everything). The result, killed/total and which suite killed
each mutant, is written to ``benchmarks/mutation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "benchmarks" / "mutation.json"
FORGE = ROOT / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"
PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    guard: str
    find: str
    replace: str
    suites: tuple[str, ...]
    everywhere: bool = False  # replace every occurrence (the snippet must occur at least once)


def _m(id: str, file: str, guard: str, find: str, replace: str, *suites: str, everywhere: bool = False) -> Mutant:
    return Mutant(id, file, guard, find, replace, suites, everywhere)


REG, PLG, LIC, TSR, MKT = (
    "contracts/IPRegistry.sol",
    "contracts/PledgeRegistry.sol",
    "contracts/LicenseRegistry.sol",
    "contracts/TimestampRegistry.sol",
    "contracts/Marketplace.sol",
)
BASE, LMKT = "contracts/MarketBase.sol", "contracts/LicenseMarket.sol"
COO, VAULT = "contracts/CoOwnership.sol", "contracts/CoOwnedAsset.sol"
COINV = "forge:CoOwnersInvariantsTest"
FUZZ = "forge:RulesFuzzTest"
INV = "forge:LedgerInvariantsTest"

MUTANTS: tuple[Mutant, ...] = (
    # -- the transfer hook ----------------------------------------------------------------------------
    _m("transfer-hook-freeze", REG, "a frozen asset never moves (IPRegistry._update)",
       "if (until > block.timestamp) revert IPRegistryAssetFrozen(assetId, until);", "",
       "halmos:check_frozenAssetOwnerNeverChanges", f"{FUZZ}:testFuzz_frozenAssetNeverMoves"),
    _m("transfer-hook-pledge", REG, "a pledged asset moves only with consent (IPRegistry._update)",
       "if (pledgeId != 0) revert IPRegistryAssetPledged(assetId, pledgeId);", "",
       f"{FUZZ}:testFuzz_pledgedAssetMovesOnlyToTheConsentedRecipient"),
    _m("transfer-hook-dispute", REG, "an asset under an open ownership dispute never moves (IPRegistry._update)",
       "if (disputeId != 0) revert IPRegistryAssetDisputed(assetId, disputeId);", "",
       f"{INV}:invariant_noMoveWhileOwnershipDisputed"),
    _m("role-open-dispute", REG, "only the registrar opens a dispute",
       "        external\n        onlyRole(REGISTRAR_ROLE)\n        returns (uint256 disputeId)",
       "        external\n        returns (uint256 disputeId)",
       f"{INV}:invariant_noMoveWhileOwnershipDisputed"),
    _m("enforce-transfer-caller", REG, "only the PledgeRegistry uses the enforcement door",
       "if (msg.sender != _pledgeRegistry) revert IPRegistryUnauthorizedCaller(msg.sender);", "",
       f"{INV}:invariant_pledgedOrFrozenAssetMovesOnlyByEnforcement"),
    # -- registrar role checks ---------------------------------------------------------------------------
    _m("role-set-legal-status", REG, "only the registrar sets a legal status",
       "function setLegalStatus(uint256 assetId, LegalStatus status) external onlyRole(REGISTRAR_ROLE)",
       "function setLegalStatus(uint256 assetId, LegalStatus status) external",
       "halmos:check_nonRegistrarNeverChangesStatusOrFreezes", f"{FUZZ}:testFuzz_nonRegistrar"),
    _m("role-freeze", REG, "only the registrar freezes",
       "        uint40 until\n    ) external onlyRole(REGISTRAR_ROLE) {", "        uint40 until\n    ) external {",
       f"{FUZZ}:testFuzz_nonRegistrar"),
    _m("role-unfreeze", REG, "only the registrar lifts a freeze",
       "function unfreeze(uint256 assetId, bytes32 reasonHash) external onlyRole(REGISTRAR_ROLE)",
       "function unfreeze(uint256 assetId, bytes32 reasonHash) external",
       f"{INV}:invariant_registrarRecordsChangeOnlyByRegistrar", f"{FUZZ}:testFuzz_nonRegistrar"),
    _m("role-renew-freeze", REG, "only the registrar renews a freeze",
       "function renewFreeze(uint256 assetId, uint40 until) external onlyRole(REGISTRAR_ROLE)",
       "function renewFreeze(uint256 assetId, uint40 until) external",
       f"{INV}:invariant_registrarRecordsChangeOnlyByRegistrar", f"{FUZZ}:testFuzz_nonRegistrar"),
    _m("role-set-verified", REG, "only the registrar sets verified",
       "function setVerified(uint256 assetId, bool verified) external onlyRole(REGISTRAR_ROLE)",
       "function setVerified(uint256 assetId, bool verified) external",
       f"{FUZZ}:testFuzz_nonRegistrar"),
    _m("role-set-dates", REG, "only the registrar sets the official dates",
       "uint40 feesPaidUntil) external onlyRole(REGISTRAR_ROLE)", "uint40 feesPaidUntil) external",
       f"{INV}:invariant_registrarRecordsChangeOnlyByRegistrar"),
    _m("role-record-filing", LIC, "only the registrar records a license filing",
       "if (!IAccessControl(address(registry)).hasRole(Roles.REGISTRAR, caller)) {",
       "if (false && !IAccessControl(address(registry)).hasRole(Roles.REGISTRAR, caller)) {",
       f"{INV}:invariant_noOverlappingExclusiveLicenses"),
    # -- pledges -------------------------------------------------------------------------------------------
    _m("pledgee-only", PLG, "only the pledgee accepts, releases, enforces or consents",
       "if (caller != pledge.pledgee) revert PledgeRegistryNotPledgee(pledgeId, caller);", "",
       "halmos:check_onlyThePledgeeReleasesOrEnforces", f"{FUZZ}:testFuzz_onlyThePledgee"),
    _m("maturity", PLG, "enforcement only after maturity",
       "if (block.timestamp <= pledge.maturity) revert PledgeRegistryNotMatured(pledgeId, pledge.maturity);", "",
       "halmos:check_enforceBeforeMaturityAlwaysReverts", f"{FUZZ}:testFuzz_enforceBeforeMaturityReverts"),
    _m("one-active-pledge", PLG, "at most one active pledge per asset",
       "if (active != 0) revert PledgeRegistryAlreadyPledged(assetId, active);", "",
       f"{FUZZ}:testFuzz_secondPledgeOfAnAssetReverts", f"{INV}:invariant_atMostOneActivePledgePerAsset"),
    _m("pledge-dispute", PLG, "no new pledge of an asset under an open ownership dispute",
       "if (disputeId != 0) revert PledgeRegistryAssetDisputed(assetId, disputeId);", "",
       f"{INV}:invariant_atMostOneActivePledgePerAsset"),
    _m("pledge-owner-only", PLG, "only the owner proposes a pledge",
       "if (asset.owner != owner) revert PledgeRegistryNotOwner(assetId, owner);", "",
       f"{INV}:invariant_atMostOneActivePledgePerAsset"),
    _m("pledgee-accredited", PLG, "only an accredited bank (PLEDGEE_ROLE) becomes a pledgee",
       "    function _requireAccredited(address pledgee) private view {\n        if (",
       "    function _requireAccredited(address pledgee) private view {\n        if (false && ",
       f"{INV}:invariant_atMostOneActivePledgePerAsset"),
    _m("authorize-transfer-caller", PLG, "only the IPRegistry asks (and uses up) a transfer consent",
       "if (msg.sender != address(registry)) revert PledgeRegistryUnauthorizedCaller(msg.sender);", "",
       f"{INV}:invariant_atMostOneActivePledgePerAsset"),
    # -- licenses -----------------------------------------------------------------------------------------
    _m("license-overlap", LIC, "no two active exclusive/sole licenses overlap (acceptance's check)",
       "        _requireNoConflict(assetId, kind, start, end, territory, fieldOfUse);",
       "        if (false) _requireNoConflict(assetId, kind, start, end, territory, fieldOfUse);",
       f"{FUZZ}:testFuzz_exclusiveLicensesNeverOverlap"),
    _m("license-licensee-only", LIC, "only the licensee accepts",
       "if (caller != license.licensee) revert LicenseRegistryNotLicensee(licenseId, caller);", "",
       f"{INV}:invariant_noOverlappingExclusiveLicenses"),
    _m("license-pledge-consent", LIC, "a pledged asset is licensed only with the pledgee's consent",
       "if (pledgeId != 0) revert LicenseRegistryAssetPledged(assetId, pledgeId);", "",
       f"{INV}:invariant_noOverlappingExclusiveLicenses"),
    _m("consent-terms", PLG, "a license consent covers only its exact terms",
       "if (!consents[consentId]) return pledgeId;", "",
       f"{INV}:invariant_noOverlappingExclusiveLicenses"),
    _m("consent-withdraw", PLG, "a withdrawn license consent is gone",
       "        delete consents[consentId];\n        emit LicenseConsentWithdrawn(",
       "        emit LicenseConsentWithdrawn(",
       f"{INV}:invariant_noOverlappingExclusiveLicenses",
       "pytest:tests/contracts/test_pledge_registry.py::-k withdraw_license_consent_then_accept"),
    _m("pledge-encumbrance-version", PLG, "a pledge is accepted only on the encumbrances the bank checked",
       "if (version != encumbranceVersion) {", "if (false) {",
       f"{INV}:invariant_atMostOneActivePledgePerAsset"),
    _m("license-frozen", LIC, "a frozen asset is not licensed (acceptance's check)",
       "        if (asset.frozenUntil > block.timestamp) "
       "revert LicenseRegistryAssetFrozen(assetId, asset.frozenUntil);\n"
       "        _activate(", "        _activate(",
       f"{INV}:invariant_noOverlappingExclusiveLicenses"),
    # -- stamps ---------------------------------------------------------------------------------------------
    _m("stamp-first-come", TSR, "a stamp, once written, never changes",
       "if (existing != 0) {", "if (false && existing != 0) {",
       f"{FUZZ}:testFuzz_stampIsFirstComeAndNeverChanges"),
    # -- market ----------------------------------------------------------------------------------------------
    _m("market-reentrancy-guard", MKT, "the Marketplace's reentrancy guard (every nonReentrant removed)",
       " nonReentrant", "", "pytest:tests/contracts/test_marketplace_security.py::-k reenter", everywhere=True),
    _m("market-price-nonce", MKT, "a buy names the price and nonce it saw (front-running)",
       "if (listing.price != price || listing.nonce != nonce) {", "if (false) {",
       "pytest:tests/contracts/test_signature_attacks.py::-k front_run"),
    _m("market-listing-moved", BASE, "a listing dies for good once its asset moved, even if it came back",
       "if (current != transfers) {", "if (false) {",
       "pytest:tests/contracts/test_marketplace.py::-k came_back", INV),
    _m("market-license-operator-epoch", LMKT, "a license listing dies for good once its seller revoked the market",
       "if (!approved || epoch != listing.operatorEpoch) {", "if (false) {",
       "pytest:tests/contracts/test_marketplace_licenses.py::-k void_listing"),
    _m("market-fixed-fee", MKT, "a sale pays at most the fee fixed when listed or offered",
       "return current < fixedBps ? current : fixedBps;", "return current;",
       "pytest:tests/contracts/test_marketplace_security.py::-k raised_the_fee", INV),
    # -- co-owners -------------------------------------------------------------------------------------------
    _m("coowners-every-consent", COO, "an act needing every co-owner needs each other co-owner's consent",
       "if (account != coOwner && !given[account])", "if (false && account != coOwner && !given[account])",
       "pytest:tests/contracts/test_coowners.py::-k every_consent", COINV),
    _m("coowners-single-use", COO, "a consent is used once (the act deletes every consent to it)",
       "            delete given[account];\n", "",
       "pytest:tests/contracts/test_coowners.py::-k single_use", COINV),
    _m("coowners-co-owner-only", COO, "only a co-owner acts or consents",
       "        revert CoOwnershipNotCoOwner(assetId, account);\n", "        return 0;\n",
       "pytest:tests/contracts/test_coowners.py::-k stranger", COINV),
    _m("coowners-shares-whole", COO, "shares sum to 10,000",
       "if (total != _BPS) revert CoOwnershipSharesNotWhole(total);", "",
       "pytest:tests/contracts/test_coowners.py::-k bad_shares", COINV),
    _m("coowners-vault-obeys-one", VAULT, "the vault obeys only the CoOwnership contract",
       "if (msg.sender != coOwnership) revert CoOwnedAssetUnauthorizedCaller(msg.sender);", "",
       "pytest:tests/contracts/test_coowners.py::-k path_around_the_vault"),
    _m("coowners-exclusive-unanimous", COO, "an exclusive or sole licence needs every co-owner",
       "if (kind != ILicenseRegistry.LicenseKind.NonExclusive || holding.flags & FLAG_UNANIMOUS_LICENSING != 0) {",
       "if (holding.flags & FLAG_UNANIMOUS_LICENSING != 0) {",
       "pytest:tests/contracts/test_coowners.py::-k exclusive_licence_needs", COINV),
    _m("coowners-split-remainder", COO, "the rounding remainder of a split is credited (nothing stuck)",
       "_credit(assetId, token, shares[0].account, rest);",
       "_credit(assetId, token, shares[0].account, rest - rest % 2);",
       "pytest:tests/contracts/test_coowners.py::-k splits_fees", COINV),
)


class Copy:
    """A throw-away copy of what the suites read; mutate it freely."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ipledger-mutants-"))
        for name in ("contracts", "contracts-compat", "test"):  # contracts-compat: pre-Cancun builds' remappings
            shutil.copytree(ROOT / name, self.root / name)
        (self.root / "scripts").mkdir()
        for name in ("foundry.toml", "package.json", "package-lock.json"):
            shutil.copy2(ROOT / name, self.root / name)
        shutil.copy2(ROOT / "scripts" / "solc", self.root / "scripts" / "solc")
        (self.root / "node_modules").symlink_to(ROOT / "node_modules")
        if (ROOT / "security").is_dir():
            shutil.copytree(ROOT / "security", self.root / "security")

    def source(self, file: str) -> Path:
        return self.root / file

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _env(copy: Copy) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{FORGE.parent}{os.pathsep}{env.get('PATH', '')}"
    env["FOUNDRY_OPTIMIZER"] = "false"  # compiles several times faster; the rules do not depend on it
    env["IPLEDGER_PROJECT_ROOT"] = str(copy.root)
    env.pop("FOUNDRY_PROFILE", None)
    return env


def run_suite(suite: str, copy: Copy, log: Path) -> tuple[bool, float]:
    """Run one suite against the copy; True if it passed."""
    kind, _, spec = suite.partition(":")
    if kind == "forge":
        contract, _, test = spec.partition(":")
        cmd = [str(FORGE), "test", "--root", str(copy.root), "--match-contract", f"^{contract}$", "--fail-fast"]
        if test:
            cmd += ["--match-test", test]
        cwd = copy.root
    elif kind == "halmos":
        cmd = [str(PYTHON), str(ROOT / "security" / "halmos_run.py"),
               "--config", str(copy.root / "security" / "halmos.toml"),
               "--root", str(copy.root), "--function", spec]
        cwd = copy.root
    elif kind == "pytest":
        path, _, extra = spec.partition("::")
        cmd = [str(PYTHON), "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider",
               path, *extra.split()]
        cwd = ROOT
    else:
        raise ValueError(f"unknown suite {suite!r}")
    start = time.monotonic()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        result = subprocess.run(cmd, cwd=cwd, env=_env(copy), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, check=False)
    return result.returncode == 0, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated mutant ids")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--keep", action="store_true", help="keep the copy and the log (printed)")
    parser.add_argument("--no-report", action="store_true", help="do not write benchmarks/mutation.json")
    args = parser.parse_args(argv)

    mutants = list(MUTANTS)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m.id for m in mutants}
        if unknown:
            parser.error(f"unknown mutant(s): {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m.id in wanted]
    if args.list:
        for m in MUTANTS:
            print(f"{m.id:<28} {m.file:<34} {m.guard}  <- {', '.join(m.suites)}")
        return 0
    if not FORGE.exists():
        print(f"mutation check: forge is missing ({FORGE}); run `npm ci`", file=sys.stderr)
        return 2

    copy = Copy()
    log = copy.root / "mutation.log"
    results: list[dict[str, object]] = []
    started = time.monotonic()
    try:
        # Stale mutants are errors: each snippet must occur exactly once in today's source.
        stale = [m.id for m in mutants
                 if not (ROOT / m.file).exists()
                 or (n := (ROOT / m.file).read_text().count(m.find)) == 0 or (n > 1 and not m.everywhere)]
        if stale:
            print(f"mutation check: stale mutant(s), snippet not found exactly once: {', '.join(stale)}")
            return 1
        suites = sorted({s for m in mutants for s in m.suites})
        print(f"baseline: {len(suites)} suite(s) on the unmutated sources must pass")
        for suite in suites:
            ok, took = run_suite(suite, copy, log)
            print(f"  {'pass' if ok else 'FAIL'}  {suite}  ({took:.0f}s)", flush=True)
            if not ok:
                print(f"mutation check: the baseline fails, so no mutant can be judged; log: {log}")
                args.keep = True
                return 1
        for m in mutants:
            path = copy.source(m.file)
            original = path.read_text()
            path.write_text(original.replace(m.find, m.replace, -1 if m.everywhere else 1))
            killed_by, took_total = None, 0.0
            try:
                for suite in m.suites:
                    ok, took = run_suite(suite, copy, log)
                    took_total += took
                    if not ok:
                        killed_by = suite
                        break
            finally:
                path.write_text(original)  # the copy is restored too, before the next mutant
            verdict = "killed" if killed_by else "SURVIVED"
            print(f"  {verdict:<8} {m.id:<28} {m.guard}  [{killed_by or ', '.join(m.suites)}]  ({took_total:.0f}s)",
                  flush=True)
            results.append({"id": m.id, "file": m.file, "guard": m.guard, "killed": killed_by is not None,
                            "killed_by": killed_by, "seconds": round(took_total, 1)})
    except KeyboardInterrupt:
        print("\nmutation check: interrupted; the working tree was never touched")
        return 130
    finally:
        if args.keep:
            print(f"copy and log kept: {copy.root} ({log})")
        else:
            copy.remove()

    killed = sum(1 for r in results if r["killed"])
    total = len(results)
    print(f"mutation check: {killed}/{total} mutants killed in {time.monotonic() - started:.0f}s")
    if not args.no_report and not args.only:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps({
            "killed": killed, "total": total, "seconds": round(time.monotonic() - started),
            "mutants": results,
        }, indent=2) + "\n")
        print(f"written: {REPORT.relative_to(ROOT)}")
    return 0 if killed == total else 1


if __name__ == "__main__":
    sys.exit(main())
