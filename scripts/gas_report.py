#!/usr/bin/env python3
"""Gas report: measure every contract operation on a fresh Anvil and write benchmarks/gas.json + gas.md.

Gas is deterministic, so the figures are exact and `tests/contracts/test_gas.py` fails when one
rises above the committed report. Run: `make gas` (or `.venv/bin/python scripts/gas_report.py`).

The contracts are measured as built for each EVM version in :data:`REPORTED_VERSIONS`:
``benchmarks/gas.json`` holds the default build's figures (``IPLEDGER_EVM_VERSION``'s default), and
``benchmarks/gas.<version>.json`` every other version's; ``gas.md`` shows them side by side.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eth_hash.auto import keccak

from ledger.chain.client import ChainClient, dev_accounts
from ledger.chain.deployment import Deployment, deploy_suite
from ledger.chain.devchain import Anvil
from ledger.chain.toolchain import DEFAULT_EVM_VERSION, Artifact, compile_contracts
from ledger.timestamps.proofs import MerkleTree, commitment, revision_salt

REPORT_JSON = ROOT / "benchmarks" / "gas.json"
REPORT_MD = ROOT / "benchmarks" / "gas.md"

REPORTED_VERSIONS = (DEFAULT_EVM_VERSION, "cancun")
"""Shanghai (the default: no transient storage) and Cancun (Prague builds the same bytecode)."""


def report_json(version: str) -> Path:
    """The committed figures of the build for ``version`` (the default's are ``gas.json``)."""
    return REPORT_JSON if version == DEFAULT_EVM_VERSION else REPORT_JSON.with_name(f"gas.{version}.json")

TARGETS = {
    "TimestampRegistry.stamp": 46_000,
    "TimestampRegistry.stamp (revision)": 46_000,
    "TimestampRegistry.stampBatch per leaf @1000": 60,
    "IPRegistry.register (owner's next asset)": 120_000,
}

Measure = Callable[[ChainClient, Deployment, dict[str, Artifact]], dict[str, int]]
MEASURES: list[Measure] = []


def measure(fn: Measure) -> Measure:
    MEASURES.append(fn)
    return fn


def _leaf(i: int) -> bytes:
    return os.urandom(32) if i < 0 else i.to_bytes(32, "big")


@measure
def timestamps(chain: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]) -> dict[str, int]:
    registry = chain.contract(artifacts["TimestampRegistry"].abi, deployment.address("TimestampRegistry"))
    # A fixed leaf keeps calldata (and so gas) identical between runs.
    out = {"TimestampRegistry.stamp": chain.transact(registry.functions.stamp(b"\x5a" * 32)).gas_used}
    # A revision is a plain stamp whose salt binds the stamp it revises (root and leaf): fixed values, fixed gas.
    first = b"\x5a" * 32
    salt = revision_salt(b"\x5c" * 32, bytes(keccak(first)), first)
    leaf = commitment(b"\x5d" * 32, "0x" + "5e" * 20, salt)
    out["TimestampRegistry.stamp (revision)"] = chain.transact(registry.functions.stamp(leaf)).gas_used
    for n in (1, 100, 1000, 10_000):
        root = MerkleTree([(n * 1_000_000 + i + 1).to_bytes(32, "big") for i in range(n)]).root
        gas = chain.transact(registry.functions.stampBatch(root, n)).gas_used
        out[f"TimestampRegistry.stampBatch @{n}"] = gas
        out[f"TimestampRegistry.stampBatch per leaf @{n}"] = -(-gas // n)  # ceil
    return out


@measure
def market(chain: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]) -> dict[str, int]:
    """The market's acts, each measured in its usual state: not the first of its kind on the chain
    (counters, escrow and recipients' balances already non-zero), for assets registered but never
    moved (their first transfer writes ERC-721's owner slot). Fixed calldata: expiries are constants."""

    def at(name: str) -> Any:
        return chain.contract(artifacts[name].abi, deployment.address(name))

    registry, licenses, token = at("IPRegistry"), at("LicenseRegistry"), at("SettlementToken")
    market, license_market = at("Marketplace"), at("LicenseMarket")
    _, seller, buyer, buyer2 = dev_accounts(4)
    expiry = 4_102_444_800  # 2100-01-01: far ahead of any dev chain's clock, and the same bytes every run
    tok = token.address

    def send(fn: Any, sender: Any) -> int:
        return chain.transact(fn, sender=sender).gas_used

    assets = []
    for i in range(8):
        receipt = chain.transact(
            registry.functions.register(bytes([i + 1]) * 32, 0, b"\0" * 32, bytes([i + 101]) * 32, "ipfs://m"),
            sender=seller,
        )
        assets.append(int(receipt.logs[-1]["topics"][1].hex(), 16))
    for account in (seller, buyer, buyer2):
        send(token.functions.faucet(account.address, 1_000_000 * 10**6), account)
        send(token.functions.approve(market.address, 2**256 - 1), account)
        send(token.functions.approve(license_market.address, 2**256 - 1), account)
    for asset_id in assets:
        send(registry.functions.approve(market.address, asset_id), seller)
    send(licenses.functions.setOperator(license_market.address, True), seller)
    price = 100 * 10**6
    out: dict[str, int] = {}

    send(market.functions.listAsset(assets[0], tok, price, expiry, "0x" + "00" * 20), seller)
    out["Marketplace.listAsset"] = send(market.functions.listAsset(assets[1], tok, price, expiry, "0x" + "00" * 20),
                                        seller)
    send(market.functions.buy(1, price, 0), buyer)
    out["Marketplace.buy"] = send(market.functions.buy(2, price, 0), buyer2)

    send(market.functions.makeOffer(assets[2], tok, price, expiry), buyer)
    out["Marketplace.makeOffer"] = send(market.functions.makeOffer(assets[3], tok, price, expiry), buyer2)
    send(market.functions.acceptOffer(1), seller)
    out["Marketplace.acceptOffer"] = send(market.functions.acceptOffer(2), seller)
    send(market.functions.makeOffer(assets[4], tok, price, expiry), buyer)
    send(market.functions.refuseOffer(3), seller)
    out["Marketplace.withdrawOffer (refused)"] = send(market.functions.withdrawOffer(3), buyer)

    terms = (
        "0x" + "00" * 20, 2, 1_700_000_000, expiry, b"CN".ljust(32, b"\0"), b"H04L".ljust(32, b"\0"),
        b"\x07" * 32, 0, False,
    )
    send(license_market.functions.listLicense(assets[5], terms, tok, price, 10, expiry), seller)
    out["LicenseMarket.listLicense"] = send(
        license_market.functions.listLicense(assets[6], terms, tok, price, 10, expiry), seller)
    send(license_market.functions.buyLicense(1, price, 0), buyer)
    out["LicenseMarket.buyLicense"] = send(license_market.functions.buyLicense(1, price, 0), buyer2)

    uri = "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa"
    send(market.functions.postDemand(b"\x0d" * 32, uri, tok, 10 * price, expiry), buyer)
    out["Marketplace.postDemand"] = send(market.functions.postDemand(b"\x0e" * 32, uri, tok, 10 * price, expiry),
                                         buyer2)
    send(market.functions.answerDemand(1, assets[7], price), seller)
    out["Marketplace.answerDemand"] = send(market.functions.answerDemand(2, assets[7], price), seller)
    send(market.functions.acceptAnswer(1, expiry), buyer)
    out["Marketplace.acceptAnswer"] = send(market.functions.acceptAnswer(2, expiry), buyer2)
    return out


# -- co-owners (issue 14) ------------------------------------------------------------------------


@measure
def coowners(chain: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]) -> dict[str, int]:
    """Registering co-owned assets (the vault's clone and the shares), a co-owned licence sale (the buyer
    pays the vault) and the split of its proceeds, each not the first of its kind on the chain."""

    def at(name: str) -> Any:
        return chain.contract(artifacts[name].abi, deployment.address(name))

    co, token, license_market = at("CoOwnership"), at("SettlementToken"), at("LicenseMarket")
    _, a, b, c, buyer, buyer2 = dev_accounts(6)
    expiry = 4_102_444_800
    agreement = (b"\0" * 32, 0)
    out: dict[str, int] = {}

    def send(fn: Any, sender: Any) -> int:
        return chain.transact(fn, sender=sender).gas_used

    def register(n: int, owners: list[tuple[str, int]]) -> int:
        fn = co.functions.register(bytes([n]) * 32, 0, b"\0" * 32, bytes([n + 100]) * 32, "ipfs://m", owners, agreement)
        return send(fn, a)

    one = [(a.address, 10_000)]
    three = [(a.address, 5_000), (b.address, 3_000), (c.address, 2_000)]
    register(1, one)
    out["CoOwnership.register (1 co-owner)"] = register(2, one)
    out["CoOwnership.register (3 co-owners)"] = register(3, three)
    asset_id = 3
    for account in (buyer, buyer2):
        send(token.functions.faucet(account.address, 1_000_000 * 10**6), account)
        send(token.functions.approve(license_market.address, 2**256 - 1), account)
    terms = (
        "0x" + "00" * 20, 2, 1_700_000_000, expiry, b"CN".ljust(32, b"\0"), b"H04L".ljust(32, b"\0"),
        b"\x07" * 32, 0, False,
    )
    price = 100 * 10**6 + 1  # the shares' rounding leaves a remainder
    send(co.functions.listLicense(asset_id, terms, token.address, price, 10, expiry), b)
    out["CoOwnership.listLicense (by one co-owner)"] = send(
        co.functions.listLicense(asset_id, terms, token.address, price, 10, expiry), c)
    listing = int(chain.call(license_market.functions.licenseListingCount()))
    send(license_market.functions.buyLicense(listing, price, 0), buyer)
    out["LicenseMarket.buyLicense (co-owned)"] = send(license_market.functions.buyLicense(listing, price, 0), buyer2)
    send(co.functions.distribute(asset_id, token.address), buyer)
    send(license_market.functions.buyLicense(listing, price, 0), buyer)
    out["CoOwnership.distribute (split among 3)"] = send(co.functions.distribute(asset_id, token.address), buyer)
    send(co.functions.withdraw(token.address), b)
    out["CoOwnership.withdraw"] = send(co.functions.withdraw(token.address), c)
    out["CoOwnership.consent"] = send(co.functions.consent(asset_id, b"\x0c" * 32), b)
    return out


# -- the IP registry (issue 3) -------------------------------------------------------------------


def _ip_hash(i: int) -> bytes:
    """A fixed 32-byte hash with no zero byte (the dearest calldata), distinct per i."""
    return bytes((i + j) % 255 + 1 for j in range(32))


def _ip_time(t: int) -> int:
    """A time at or a little after `t` whose four low bytes are all non-zero, so the calldata (and the
    gas) of an act that carries it never depends on when the report runs."""
    return t | 0x01010101


@measure
def ip_registry(chain: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]) -> dict[str, int]:
    """Register (an invention patent with a ref and a 60-character URI), verify, freeze, license,
    pledge, release, enforce, and the bank's check: its lens call's gas and its round trips."""
    import tempfile
    import threading
    from unittest import mock

    from eth_utils import keccak

    from ledger.chain.transport import PooledHTTPProvider
    from ledger.registry.check import CheckService
    from ledger.registry.metadata import MetadataStore

    admin, owner, newcomer, licensee, bank = dev_accounts(5)
    registry, licenses, pledges, lens = (
        chain.contract(artifacts[name].abi, deployment.address(name))
        for name in ("IPRegistry", "LicenseRegistry", "PledgeRegistry", "IPLens"))
    uri = "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa"  # 60 characters

    def gas(fn: Any, sender: Any) -> int:
        return chain.transact(fn, sender=sender).gas_used

    def register(i: int, ref: bytes, sender: Any = owner) -> int:
        return gas(registry.functions.register(_ip_hash(2 * i), 0, ref, _ip_hash(2 * i + 1), uri), sender)

    def ref(i: int) -> bytes:
        return f"CN20201012345{i}.7".encode().ljust(32, b"\0")

    chain.transact(registry.functions.grantRole(keccak(text="PLEDGEE_ROLE"), bank.address), sender=admin)
    out = {
        # the very first asset also pays for the registry's counter slot (0 -> 1): a one-off
        "IPRegistry.register (registry's first asset)": register(1, ref(1)),  # asset 1
        "IPRegistry.register (owner's next asset)": register(2, ref(2)),  # asset 2
        "IPRegistry.register (no ref)": register(3, b"\0" * 32),  # asset 3
        "IPRegistry.setVerified": gas(registry.functions.setVerified(1, True), admin),
    }
    now = chain.block_time("latest")
    out["IPRegistry.freeze"] = gas(registry.functions.freeze(
        3, "北京知识产权法院", "(2024)京73民初123号", _ip_hash(90), _ip_time(now + 30 * 86_400)), admin)

    terms = (licensee.address, 0, _ip_time(now), _ip_time(now + 365 * 86_400), b"CN".ljust(32, b"\0"),
             b"H04L".ljust(32, b"\0"), _ip_hash(91), 50_000, False)  # exclusive, CN, H04L, a year
    out["LicenseRegistry.offer"] = gas(licenses.functions.offer(1, terms), owner)
    out["LicenseRegistry.accept"] = gas(licenses.functions.accept(1), licensee)

    def propose(asset_id: int, maturity: int) -> int:
        fn = pledges.functions.propose(asset_id, bank.address, 5_000_000_00, b"CNY", maturity, _ip_hash(92))
        return gas(fn, owner)

    out["PledgeRegistry.propose"] = propose(2, _ip_time(now + 365 * 86_400))  # pledge 1
    def version(asset_id: int) -> int:  # what the bank's check shows, named by its acceptance
        return int(chain.call(licenses.functions.encumbranceVersionOf(asset_id)))

    out["PledgeRegistry.accept"] = gas(pledges.functions.accept(1, version(2)), bank)
    # The pledgee's consent to one licence's exact terms, and its withdrawal.
    # Fixed dates (2033-05-18 to 2036-07-18): the consent id, a hash in the calldata, then has the same
    # zero bytes on every run, so the figures are deterministic.
    consented = (licensee.address, 2, 2_000_000_000, 2_100_000_000, b"US".ljust(32, b"\0"),
                 b"".ljust(32, b"\0"), _ip_hash(95), 10_000, False)  # non-exclusive, US
    out["PledgeRegistry.consentToLicense"] = gas(pledges.functions.consentToLicense(1, consented), bank)
    consent_id = chain.call(pledges.functions.licenseConsentId(consented))
    out["PledgeRegistry.withdrawLicenseConsent"] = gas(pledges.functions.withdrawLicenseConsent(1, consent_id), bank)
    gas(pledges.functions.consentToLicense(1, consented), bank)
    gas(licenses.functions.offer(2, consented), owner)
    out["LicenseRegistry.accept (pledged, consented terms)"] = gas(licenses.functions.accept(2), licensee)
    out["PledgeRegistry.release"] = gas(pledges.functions.release(1), bank)

    maturity = _ip_time(now + 86_400)
    propose(1, maturity)  # pledge 2, of the verified, exclusively licensed asset 1
    gas(pledges.functions.accept(2, version(1)), bank)

    # The bank's check of asset 1 (pledged, licensed, verified: every part of the report is there).
    call = lens.functions.dueDiligence(1, maturity)
    out["IPLens.dueDiligence (eth_call gas)"] = chain.w3.eth.estimate_gas(
        {"to": lens.address, "data": call._encode_transaction_data()})
    with tempfile.TemporaryDirectory() as folder:
        check = CheckService(chain, lens, registry, licenses, pledges, MetadataStore(Path(folder)),
                             from_block=deployment.contracts["IPRegistry"].block_number)
        provider = chain.w3.provider
        assert isinstance(provider, PooledHTTPProvider), "the round trips are counted where the client posts"
        post = provider._post
        posts: list[bytes] = []
        me = threading.get_ident()

        def counting_post(body: bytes) -> bytes:
            if threading.get_ident() == me:  # this check's requests, not another thread's
                posts.append(body)
            return post(body)

        with mock.patch.object(provider, "_post", counting_post):
            report = check.due_diligence(1, maturity)
        assert report.pledge is not None and report.licenses, "the check must see the pledge and the license"
        assert posts, "no HTTP request to the node was counted: is the transport still PooledHTTPProvider._post?"
        out["IPLens.dueDiligence round trips"] = len(posts)  # HTTP requests to the node for one report

    chain.increase_time(maturity - chain.block_time("latest") + 1)
    out["PledgeRegistry.enforce (after maturity)"] = gas(pledges.functions.enforce(2, "0x" + "00" * 20), bank)
    # An owner's first asset pays for its ERC-721 balance slot (0 -> 1): 17,100 more than its next ones.
    out["IPRegistry.register (owner's first asset)"] = register(4, ref(4), newcomer)
    # The registrar's remedy against squatting: free the official number of asset 4, mark the holder.
    out["IPRegistry.unbindRef"] = gas(registry.functions.unbindRef(ref(4), _ip_hash(93)), admin)
    out["IPRegistry.setHolderDisputed"] = gas(registry.functions.setHolderDisputed(4, False, _ip_hash(94)), admin)
    # A dispute of ownership over asset 4 (it then cannot move), its resolution, and asset 4 naming asset 1 as parent.
    case = b"(2025)JING73MINCHU1".ljust(32, b"\0")
    out["IPRegistry.openDispute (ownership)"] = gas(registry.functions.openDispute(4, 0, case, _ip_hash(96)), admin)
    out["IPRegistry.resolveDispute"] = gas(registry.functions.resolveDispute(1, 2, _ip_hash(97)), admin)
    out["IPRegistry.setParent"] = gas(registry.functions.setParent(4, 1), newcomer)
    # The transfer guard's cost on a first move (ERC-721's owner slot is written then; see IPRegistry's notes).
    out["IPRegistry.safeTransferFrom (first move)"] = gas(
        registry.functions.safeTransferFrom(newcomer.address, owner.address, 4), newcomer)
    return out


@measure
def key_directory(chain: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]) -> dict[str, int]:
    """Encryption keys of accounts and disclosures (sealed documents, docs/sealed-format.md)."""
    directory = chain.contract(artifacts["KeyDirectory"].abi, deployment.address("KeyDirectory"))
    owner, bank, auditor = dev_accounts(4)[1:4]
    out = {"KeyDirectory.publish (X25519 only)": chain.transact(directory.functions.publish(b"\x11" * 32, b""),
                                                               sender=bank).gas_used}
    out["KeyDirectory.publish (X25519 + ML-KEM-768 hybrid)"] = chain.transact(
        directory.functions.publish(b"\x12" * 32, b"\x13" * 1216), sender=owner).gas_used
    out["KeyDirectory.revoke"] = chain.transact(directory.functions.revoke(1), sender=owner).gas_used
    out["KeyDirectory.disclose (1 recipient)"] = chain.transact(
        directory.functions.disclose(b"\x14" * 32, b"\x15" * 32, [auditor.address]), sender=owner).gas_used
    return out


def run_all(evm: str = DEFAULT_EVM_VERSION) -> dict[str, int]:
    artifacts = compile_contracts(evm=evm)
    with Anvil() as node:
        chain = ChainClient(node.url, dev_accounts(1)[0], error_abis=[a.abi for a in artifacts.values()])
        deployment = deploy_suite(chain, artifacts=artifacts)
        results: dict[str, int] = {}
        for fn in MEASURES:
            snapshot = chain.snapshot()
            results.update(fn(chain, deployment, artifacts))
            chain.revert(snapshot)
        chain.close()
    return results


def write_report(reports: dict[str, dict[str, int]]) -> None:
    REPORT_JSON.parent.mkdir(exist_ok=True)
    for version, results in reports.items():
        report_json(version).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    versions = list(reports)
    default = reports[DEFAULT_EVM_VERSION]
    header = " | ".join(f"{v}{' (default)' if v == DEFAULT_EVM_VERSION else ''}" for v in versions)
    lines = ["# Gas report", "",
             "Measured on Anvil by `scripts/gas_report.py` (deterministic), with the contracts built for each EVM",
             "version (`IPLEDGER_EVM_VERSION`). Before Cancun there is no transient storage: the markets'",
             "reentrancy guard is OpenZeppelin's storage-slot `ReentrancyGuard` (contracts-compat/pre-cancun/),",
             "which costs each guarded call (Marketplace, LicenseMarket) about 1,900 gas more; Prague builds",
             "the same bytecode as Cancun. `tests/contracts/test_gas.py` holds the build under test to its column.",
             "", f"| operation | {header} | target |", "|---|" + "---:|" * len(versions) + "---:|"]
    for name in sorted(default):
        target: Any = TARGETS.get(name, "")
        cells = " | ".join(f"{reports[v][name]:,}" if name in reports[v] else "" for v in versions)
        lines.append(f"| {name} | {cells} | {f'≤ {target:,}' if target else ''} |")
    REPORT_MD.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    reports = {version: run_all(version) for version in REPORTED_VERSIONS}
    write_report(reports)
    failed: list[str] = []
    for version, report in reports.items():
        print(f"-- {version}")
        for key, value in sorted(report.items()):
            print(f"{key:<55} {value:>10,}")
        failed += [f"{k} ({version})" for k, t in TARGETS.items() if report.get(k, 0) > t]
    if failed:
        print("over target:", ", ".join(failed))
        sys.exit(1)
