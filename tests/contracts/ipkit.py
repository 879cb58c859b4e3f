"""A small kit for the IP registry suite's tests: parties, enum values, and the common acts.

Accounts: [0] admin and registrar (the deployer), [1] owner, [2] other owner, [3] licensee,
[4] and [5] accredited banks (PLEDGEE_ROLE), [6] buyer, [7] stranger, [8] a fresh account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError

from ledger.chain.client import ChainClient, Receipt
from ledger.errors import ContractError, ValidationError

REVERTS = (ContractCustomError, ContractLogicError)
"""What web3 raises for a reverted call: Anvil's answer gives ContractCustomError, Hardhat's and Ganache's
(a message beside the data) ContractLogicError."""


def set_automine(chain: ChainClient, on: bool) -> None:
    """Mine each transaction as it comes (on) or hold them in the pool until ``evm_mine`` (off): Anvil and
    Hardhat call it ``evm_setAutomine``, Ganache ``miner_start`` / ``miner_stop``."""
    try:
        chain.rpc("evm_setAutomine", [on])
    except ValidationError:
        chain.rpc("miner_start" if on else "miner_stop")


def revert_data(exc: BaseException) -> str:
    """The revert data of a reverted web3 call, whichever node answered (see :data:`REVERTS`)."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    return str(data)

# IIPRegistry.AssetKind
INVENTION_PATENT, UTILITY_MODEL, DESIGN, SOFTWARE_COPYRIGHT, TRADE_SECRET, RESEARCH_RESULT, TRADEMARK = range(7)
# IIPRegistry.LegalStatus
FILED, GRANTED, INVALIDATION_REQUESTED, LAPSED, EXPIRED, INVALIDATED = range(6)
# ILicenseRegistry.LicenseKind / LicenseStatus
EXCLUSIVE, SOLE, NON_EXCLUSIVE = range(3)
L_NONE, L_OFFERED, L_ACTIVE, L_TERMINATED, L_EXPIRED = range(5)
# IPledgeRegistry.PledgeStatus
P_NONE, P_PROPOSED, P_ACTIVE, P_RELEASED, P_ENFORCED, P_CANCELLED = range(6)

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\0" * 32
URI = "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa"
assert len(URI) == 60
DAY = 86_400
YEAR = 365 * DAY


def b32(text: str) -> bytes:
    """A code or official number as left-aligned ASCII in 32 bytes."""
    return text.encode().ljust(32, b"\0")


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass
class IPKit:
    chain: ChainClient
    registry: Contract
    licenses: Contract
    pledges: Contract
    lens: Contract
    forwarder: Contract
    accounts: list[LocalAccount]
    _banks: set[str] = dataclass_field(default_factory=set)

    @property
    def admin(self) -> LocalAccount:
        return self.accounts[0]

    @property
    def owner(self) -> LocalAccount:
        return self.accounts[1]

    @property
    def other(self) -> LocalAccount:
        return self.accounts[2]

    @property
    def licensee(self) -> LocalAccount:
        return self.accounts[3]

    @property
    def bank(self) -> LocalAccount:
        """An accredited bank (PLEDGEE_ROLE is granted on first use, to keep other tests cheap)."""
        return self._accredited(self.accounts[4])

    @property
    def bank2(self) -> LocalAccount:
        return self._accredited(self.accounts[5])

    def _accredited(self, account: LocalAccount) -> LocalAccount:
        if account.address not in self._banks:
            role = self.call(self.registry.functions.PLEDGEE_ROLE())
            self.send(self.registry.functions.grantRole(role, account.address), self.admin)
            self._banks.add(account.address)
        return account

    @property
    def buyer(self) -> LocalAccount:
        return self.accounts[6]

    @property
    def stranger(self) -> LocalAccount:
        return self.accounts[7]

    # -- plumbing --------------------------------------------------------------------------------

    def now(self) -> int:
        return self.chain.block_time("latest")

    def send(self, fn: ContractFunction, sender: LocalAccount) -> Receipt:
        """An act expected to succeed: a fixed gas limit spares the estimate (a failure is still decoded)."""
        return self.chain.transact(fn, sender=sender, gas=3_000_000)

    def refused(self, fn: ContractFunction, sender: LocalAccount) -> ContractError:
        """The decoded error of an act that must revert."""
        with pytest.raises(ContractError) as caught:
            self.chain.transact(fn, sender=sender)
        return caught.value

    def events(self, contract: Contract, receipt: Receipt) -> list[tuple[str, dict[str, Any]]]:
        return [(e.name, e.args) for e in self.chain.events(contract, receipt)]

    def call(self, fn: ContractFunction) -> Any:
        return self.chain.call(fn)

    # -- assets ----------------------------------------------------------------------------------

    def register(
        self,
        owner: LocalAccount | None = None,
        *,
        kind: int = INVENTION_PATENT,
        ref: bytes = ZERO32,
        content: bytes | None = None,
        metadata: bytes | None = None,
        uri: str = URI,
    ) -> int:
        receipt = self.send(
            self.registry.functions.register(
                content or os.urandom(32), kind, ref, metadata or os.urandom(32), uri
            ),
            owner or self.owner,
        )
        [event] = [e for e in self.chain.events(self.registry, receipt) if e.name == "AssetRegistered"]
        return int(event.args["assetId"])

    def owner_of(self, asset_id: int) -> str:
        return str(self.call(self.registry.functions.ownerOf(asset_id)))

    def asset(self, asset_id: int) -> dict[str, Any]:
        owner, kind, status, verified, expires_at, fees_paid_until, frozen_until, holder_disputed = self.call(
            self.registry.functions.assetOf(asset_id)
        )
        return {
            "owner": owner, "kind": kind, "status": status, "verified": verified,
            "expiresAt": expires_at, "feesPaidUntil": fees_paid_until, "frozenUntil": frozen_until,
            "holderDisputed": holder_disputed,
        }

    def transfer(self, sender: LocalAccount, to: str, asset_id: int, *, owner: str | None = None) -> Receipt:
        fn = self.registry.functions.safeTransferFrom(owner or sender.address, to, asset_id)
        return self.send(fn, sender)

    def freeze(self, asset_id: int, *, until: int | None = None) -> Receipt:
        until = until or self.now() + 30 * DAY
        fn = self.registry.functions.freeze(asset_id, "北京知识产权法院", "(2024)京73民初123号", b"\x01" * 32, until)
        return self.send(fn, self.admin)

    def set_dates(self, asset_id: int, expires_at: int, fees_paid_until: int = 0) -> Receipt:
        return self.send(self.registry.functions.setDates(asset_id, expires_at, fees_paid_until), self.admin)

    # -- licenses --------------------------------------------------------------------------------

    def terms(
        self,
        licensee: str | None = None,
        *,
        kind: int = NON_EXCLUSIVE,
        start: int | None = None,
        end: int | None = None,
        territory: str = "",
        field: str = "",
        terms_hash: bytes = b"\x07" * 32,
        fee: int = 50_000,
        sublicensable: bool = False,
    ) -> tuple[Any, ...]:
        now = self.now()
        start = now if start is None else start
        end = now + YEAR if end is None else end
        return (
            licensee or self.licensee.address, kind, start, end, b32(territory), b32(field), terms_hash, fee,
            sublicensable,
        )

    def offer(self, asset_id: int, owner: LocalAccount | None = None, **terms: Any) -> int:
        receipt = self.send(self.licenses.functions.offer(asset_id, self.terms(**terms)), owner or self.owner)
        [event] = [e for e in self.chain.events(self.licenses, receipt) if e.name == "LicenseOffered"]
        return int(event.args["licenseId"])

    def accept_license(self, license_id: int, licensee: LocalAccount | None = None) -> Receipt:
        return self.send(self.licenses.functions.accept(license_id), licensee or self.licensee)

    def license(self, asset_id: int, owner: LocalAccount | None = None, **terms: Any) -> int:
        """An offered and accepted license."""
        licensee = terms.get("licensee")
        license_id = self.offer(asset_id, owner, **terms)
        signer = next((a for a in self.accounts if a.address == licensee), self.licensee) if licensee else None
        self.accept_license(license_id, signer)
        return license_id

    def license_of(self, license_id: int) -> dict[str, Any]:
        fields = ("assetId", "licensor", "kind", "status", "sublicensable", "licensee", "start", "end",
                  "territory", "fieldOfUse", "termsHash", "fee", "recordalNo")
        return dict(zip(fields, self.call(self.licenses.functions.licenseOf(license_id)), strict=True))

    # -- pledges ---------------------------------------------------------------------------------

    def propose(
        self,
        asset_id: int,
        *,
        owner: LocalAccount | None = None,
        pledgee: str | None = None,
        principal: int = 5_000_000_00,
        currency: bytes = b"CNY",
        maturity: int | None = None,
        contract_hash: bytes = b"\x09" * 32,
    ) -> int:
        maturity = maturity or self.now() + YEAR
        fn = self.pledges.functions.propose(
            asset_id, pledgee or self.bank.address, principal, currency, maturity, contract_hash
        )
        receipt = self.send(fn, owner or self.owner)
        [event] = [e for e in self.chain.events(self.pledges, receipt) if e.name == "PledgeProposed"]
        return int(event.args["pledgeId"])

    def encumbrance_version(self, asset_id: int) -> int:
        return int(self.call(self.licenses.functions.encumbranceVersionOf(asset_id)))

    def accept_fn(self, pledge_id: int, version: int | None = None) -> ContractFunction:
        """``accept`` naming the encumbrance version of the pledge's asset now (what a fresh check shows)."""
        if version is None:
            asset_id = self.call(self.pledges.functions.pledgeOf(pledge_id))[0] if pledge_id <= self.call(
                self.pledges.functions.pledgeCount()) else 0
            version = self.encumbrance_version(asset_id) if asset_id else 0
        return self.pledges.functions.accept(pledge_id, version)

    def accept_pledge(self, pledge_id: int, bank: LocalAccount | None = None, version: int | None = None) -> Receipt:
        return self.send(self.accept_fn(pledge_id, version), bank or self.bank)

    def consent_to_license(self, pledge_id: int, terms: tuple[Any, ...], bank: LocalAccount | None = None) -> bytes:
        """The pledgee consents to one license on exactly `terms`; returns the consent id."""
        receipt = self.send(self.pledges.functions.consentToLicense(pledge_id, terms), bank or self.bank)
        [event] = [e for e in self.chain.events(self.pledges, receipt) if e.name == "LicenseConsented"]
        return bytes.fromhex(str(event.args["consentId"])[2:])

    def license_terms(self, license_id: int) -> tuple[Any, ...]:
        """The terms license `license_id` was offered on (what a consent names)."""
        x = self.license_of(license_id)
        return (x["licensee"], x["kind"], x["start"], x["end"], x["territory"], x["fieldOfUse"], x["termsHash"],
                x["fee"], x["sublicensable"])

    def pledge(self, asset_id: int, *, owner: LocalAccount | None = None, bank: LocalAccount | None = None,
               maturity: int | None = None) -> int:
        """A proposed and accepted pledge."""
        bank = bank or self.bank
        pledge_id = self.propose(asset_id, owner=owner, pledgee=bank.address, maturity=maturity)
        self.accept_pledge(pledge_id, bank)
        return pledge_id

    def pledge_of(self, pledge_id: int) -> dict[str, Any]:
        fields = ("assetId", "pledgor", "status", "pledgee", "maturity", "currency", "principal", "contractHash")
        return dict(zip(fields, self.call(self.pledges.functions.pledgeOf(pledge_id)), strict=True))
