"""Stateful property test of the IP registry: random acts by many parties on a real Anvil vs. a plain model.

A Hypothesis ``RuleBasedStateMachine`` drives random sequences of acts on IPRegistry,
LicenseRegistry and PledgeRegistry: register; transfer (by the owner or anybody else, to
anybody, through ``transferFrom`` or ``safeTransferFrom``); the registrar's verify, legal
status, dates, freeze, renew and unfreeze; license offer (exclusive, sole, non-exclusive, random
overlapping times, territories and fields), accept, terminate and recordal; pledge propose,
accept, cancel, release, enforce (to the pledgee or a buyer), transfer and license consents;
granting and revoking a bank's PLEDGEE_ROLE; the registrar opening disputes of every kind and resolving
them (an ownership dispute stops every move and new pledges); and time travel (``evm_increaseTime``, no sleeps).
Two rules make a deal in one step, so that deep states are reached often: a license (offer,
the pledgee's consent when the asset is pledged, accept) and a loan (propose, accept, then it
runs on, is repaid, defaults and is enforced after its maturity, or the bank consents to a sale
and the owner sells). An enforcement may also first wait for the maturity. Each act is done by
its rightful party most of the time and by a random account otherwise (owners A, B, C, the
registrar, banks A and B, a buyer, strangers).

A plain Python model (:class:`Model`) says for every act whether the rules allow it and, if
not, which custom error the contracts must revert with (in the contracts' order of checks).
Every act the model allows must succeed; every act it forbids must revert *on chain* (the
transaction is mined with a fixed gas limit, not refused by the estimate) with that error name
and its arguments. After every step the invariants compare one JSON-RPC batch of the chain's
views with the model and check:

* the chain's view (owners, balances, records, freezes, content/ref claims, licenses and the
  active sets, pledges, active pledges, consents, roles, counters) equals the model;
* a step whose acts were all refused left every view unchanged;
* at most one active pledge per asset, and it is the one ``activePledgeOf`` names;
* the owner of a frozen asset never changes, and that of a pledged asset only by enforcing its
  pledge or by a transfer to the recipient its pledgee consented to (read from the chain);
* no asset moves while an ownership dispute over it is open (read from the chain);
* no two active licenses of an asset, one of them exclusive or sole, overlap in time,
  territory and field of use.

Times are on a grid the chain never sits on: every date the model sets is half a day past a
whole number of days from the example's start, and time travels by whole days, so the few
seconds a run takes can never tip a comparison.

Size: IPLEDGER_PROPERTY_EXAMPLES (default 12; 100 with IPLEDGER_DEEP_TESTS=1) examples of
IPLEDGER_PROPERTY_STEPS (default 40; deep 100) steps each; each example starts from the same chain
state (``evm_snapshot``/``evm_revert``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import (
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
    keccak,
    to_checksum_address,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from ledger.chain.client import ChainClient
from ledger.errors import ContractError
from tests.contracts.ipkit import (
    DAY,
    EXCLUSIVE,
    EXPIRED,
    FILED,
    INVALIDATED,
    L_ACTIVE,
    L_EXPIRED,
    L_OFFERED,
    L_TERMINATED,
    LAPSED,
    NON_EXCLUSIVE,
    P_ACTIVE,
    P_CANCELLED,
    P_ENFORCED,
    P_PROPOSED,
    P_RELEASED,
    SOLE,
    URI,
    ZERO32,
    ZERO_ADDRESS,
    IPKit,
    b32,
)
from tests.depth import depth

STEPS = depth(40, 100, "IPLEDGER_PROPERTY_STEPS")
EXAMPLES = depth(12, 100, "IPLEDGER_PROPERTY_EXAMPLES")

GAS = 3_000_000  # fixed: a forbidden act is mined and reverts on chain instead of failing its estimate
MAX_ASSETS = 4  # few, so that licenses, pledges and freezes meet on the same assets
MAX_LICENSES = 24
MAX_PLEDGES = 16

# The parties (indices into Anvil's dev accounts).
ADMIN, OWNER_A, OWNER_B, OWNER_C, BANK_A, BANK_B, BUYER, STRANGER, SPARE, SPARE2 = range(10)
REGISTRANTS = (OWNER_A, OWNER_B, OWNER_C)
LICENSEES = (OWNER_A, OWNER_B, OWNER_C, BUYER, SPARE)

REGISTRAR_ROLE = "0x" + keccak(text="REGISTRAR_ROLE").hex()
PLEDGEE_ROLE = "0x" + keccak(text="PLEDGEE_ROLE").hex()
ADMIN_ROLE = "0x" + "00" * 32

# Canonical codes (four times as likely) and non-canonical spellings the registry must refuse.
TERRITORIES = ("", "CN", "CN-11", "CN-31", "US", "US-CA") * 4 + ("cn", "CHN", "156", "WW")
FIELDS = ("", "H04", "H04L", "G06", "G06F") * 4 + ("h04l", "H04L9/32", "H4")
TERMS_TYPE = "(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool)"  # ILicenseRegistry.LicenseTerms
NON_CANONICAL = {"cn", "CHN", "156", "WW", "h04l", "H04L9/32", "H4"}  # refused on chain (contracts/types/Codes.sol)
PLEDGE_BLOCKING_STATUSES = (LAPSED, EXPIRED, INVALIDATED)

STATS: Counter[str] = Counter()


class Refusal(NamedTuple):
    """The error a forbidden act must revert with; ``args`` None: not compared, ``check`` for the rest."""

    name: str
    args: dict[str, Any] | None = None
    check: Callable[[dict[str, Any]], bool] | None = None


def _scopes_overlap(a: str, b: str) -> bool:
    """Hierarchical codes overlap when one is a prefix of the other ("" covers everything)."""
    return a.startswith(b) or b.startswith(a)


# -- the model --------------------------------------------------------------------------------------


@dataclass
class MAsset:
    id: int
    owner: str
    kind: int
    content: bytes
    ref: bytes
    status: int = FILED
    verified: bool = False
    expires_at: int = 0
    fees_paid_until: int = 0
    frozen_until: int = 0
    freeze: tuple[str, str, bytes, int, bool] | None = None  # court, case, reason, until, lifted
    holder_disputed: bool = False
    ref_bound: bool = True  # whether the registry still binds `ref` / `content` to this asset
    content_bound: bool = True
    ownership_dispute: int = 0  # the open ownership dispute that stops it, or 0
    parent: int = 0  # the earlier asset it is a version of (set once by its owner), or 0


@dataclass
class MDispute:
    id: int
    asset_id: int
    kind: int
    outcome: int = 0  # DisputeOutcome.Open


@dataclass
class MLicense:
    id: int
    asset_id: int
    licensor: str
    licensee: str
    kind: int
    start: int
    end: int
    territory: str
    field: str
    fee: int
    sublicensable: bool
    status: int = L_OFFERED  # as stored: offered, active or terminated
    recordal: bytes = ZERO32

    def terms(self, licensee: str | None = None) -> tuple[Any, ...]:
        return (self.licensee if licensee is None else licensee, self.kind, self.start, self.end, b32(self.territory),
                b32(self.field), b"\x07" * 32, self.fee, self.sublicensable)

    def consent_id(self, anyone: bool = False) -> bytes:
        """IPledgeRegistry.licenseConsentId of its terms (licensee zero: the consent for anyone)."""
        return keccak(abi_encode([TERMS_TYPE], [self.terms(ZERO_ADDRESS if anyone else None)]))


@dataclass
class MPledge:
    id: int
    asset_id: int
    pledgor: str
    pledgee: str
    principal: int
    currency: bytes
    maturity: int
    status: int = P_PROPOSED
    consent: str = ZERO_ADDRESS
    consents: set[bytes] = field(default_factory=set)  # unused license consents (ids of terms)


@dataclass
class Model:
    """What the rules allow, in plain Python. ``now`` is a lower bound of the chain's time that is
    never more than a few seconds behind it; every date is ``now`` + whole days + half a day."""

    t0: int
    accredited: set[str]
    days: int = 0
    assets: dict[int, MAsset] = field(default_factory=dict)
    licenses: dict[int, MLicense] = field(default_factory=dict)
    pledges: dict[int, MPledge] = field(default_factory=dict)
    disputes: dict[int, MDispute] = field(default_factory=dict)
    versions: Counter[int] = field(default_factory=Counter)  # encumbranceVersionOf, per asset

    @property
    def now(self) -> int:
        return self.t0 + self.days * DAY

    def at(self, days: int) -> int:
        """A date `days` whole days from today, plus half a day (never a time the chain sits on)."""
        return self.now + days * DAY + DAY // 2

    def frozen(self, asset: MAsset) -> bool:
        return asset.frozen_until > self.now

    def license_status(self, lic: MLicense) -> int:
        if lic.status == L_ACTIVE and lic.end <= self.now:
            return L_EXPIRED
        return lic.status

    def active_licenses(self, asset_id: int) -> list[MLicense]:
        return [lic for lic in self.licenses.values()
                if lic.asset_id == asset_id and self.license_status(lic) == L_ACTIVE]

    def conflicts(self, asset_id: int, kind: int, start: int, end: int, territory: str, fld: str) -> set[int]:
        exclusive = kind != NON_EXCLUSIVE
        return {
            other.id for other in self.active_licenses(asset_id)
            if (exclusive or other.kind != NON_EXCLUSIVE)
            and start < other.end and other.start < end
            and _scopes_overlap(territory, other.territory) and _scopes_overlap(fld, other.field)
        }

    def has_license(self, *statuses: int) -> bool:
        """Whether a license is stored with one of `statuses` (the preconditions of the rules that act on one)."""
        return any(lic.status in statuses for lic in self.licenses.values())

    def has_pledge(self, status: int) -> bool:
        return any(p.status == status for p in self.pledges.values())

    def active_pledge(self, asset_id: int) -> MPledge | None:
        active = [p for p in self.pledges.values() if p.asset_id == asset_id and p.status == P_ACTIVE]
        assert len(active) <= 1, f"model holds two active pledges of asset {asset_id}"
        return active[0] if active else None

    def pledgeable_refusal(self, asset: MAsset, maturity: int) -> Refusal | None:
        """PledgeRegistry._requirePledgeable, in its order."""
        active = self.active_pledge(asset.id)
        if active is not None:
            return Refusal("PledgeRegistryAlreadyPledged", {"assetId": asset.id, "pledgeId": active.id})
        if self.frozen(asset):
            return Refusal("PledgeRegistryAssetFrozen", {"assetId": asset.id, "until": asset.frozen_until})
        if asset.ownership_dispute:
            return Refusal("PledgeRegistryAssetDisputed", {"assetId": asset.id, "disputeId": asset.ownership_dispute})
        if asset.status in PLEDGE_BLOCKING_STATUSES:
            return Refusal("PledgeRegistryAssetNotPledgeable", {"assetId": asset.id, "status": asset.status})
        if asset.expires_at != 0 and asset.expires_at <= self.now:
            return Refusal("PledgeRegistryAssetPastExpiry", {"assetId": asset.id, "expiresAt": asset.expires_at})
        if maturity <= self.now:
            return Refusal("PledgeRegistryInvalidMaturity", {"maturity": maturity})
        if asset.expires_at != 0 and maturity > asset.expires_at:
            return Refusal("PledgeRegistryMaturityAfterExpiry", {"maturity": maturity, "expiresAt": asset.expires_at})
        return None


# -- the machine ------------------------------------------------------------------------------------


class RegistryMachine(RuleBasedStateMachine):
    """The test binds the class to the session's chain, kit and accounts before Hypothesis runs it."""

    chain: ChainClient
    kit: IPKit
    accounts: list[LocalAccount]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot_id = self.chain.snapshot()
        self.registry: Contract = self.kit.registry
        self.licenses: Contract = self.kit.licenses
        self.pledges: Contract = self.kit.pledges
        self.addr = [a.address for a in self.accounts]
        self.m = Model(t0=self.chain.block_time("latest"), accredited={self.addr[BANK_A], self.addr[BANK_B]})
        self.serial = 0  # fresh content hashes and refs
        self.reader = ViewReader(self.chain, self.registry, self.licenses, self.pledges)
        self.view: dict[str, Any] | None = None  # the chain's view at the last check
        self.step: tuple[str, Any] = ("init", None)  # the last act, for the ownership invariant
        self.changed = False  # whether an act of this step succeeded (or time moved)
        self.travelled = False  # whether time moved in this step

    def teardown(self) -> None:
        self.chain.revert(self.snapshot_id)  # also forgets the client's nonces

    # -- plumbing ---------------------------------------------------------------------------------

    def act(self, label: str, fn: ContractFunction, sender: int, refusal: Refusal | None) -> bool:
        """Send `fn` as `sender`; it must succeed iff the model allows it (refusal None)."""
        STATS["acts"] += 1
        error: ContractError | None = None
        try:
            self.chain.transact(fn, sender=self.accounts[sender], gas=GAS)
        except ContractError as caught:
            error = caught
        # Assert outside the except block: ledger.errors makes a new class for every decoded error,
        # and Hypothesis, which tells failures apart by their exception's context, would call a
        # replayed failure flaky.
        if error is None:
            assert refusal is None, f"{label}: the model forbids it ({refusal.name}), the chain allowed it"
            STATS[f"allowed {label}"] += 1
            self.changed = True
            return True
        assert refusal is not None, f"{label}: the model allows it, the chain refused: {error.name}{error.arguments}"
        assert error.name == refusal.name, f"{label}: expected {refusal.name}, got {error.name}{error.arguments}"
        if refusal.args is not None:
            assert error.arguments == refusal.args, f"{label}: {error.name} arguments {error.arguments}"
        if refusal.check is not None:
            assert refusal.check(error.arguments), f"{label}: {error.name} arguments {error.arguments}"
        STATS[f"refused {refusal.name}"] += 1
        return False

    def party(self, data: st.DataObject, rightful: int) -> int:
        """The rightful party most of the time (shrinks to it), any account otherwise."""
        n = len(self.accounts)
        i = data.draw(st.integers(0, 5 * n - 1), label="who")
        return rightful if i < 4 * n else i - 4 * n

    def pick_asset(self, data: st.DataObject) -> MAsset:
        return self.m.assets[data.draw(st.sampled_from(sorted(self.m.assets)), label="asset")]

    def pick_license(self, data: st.DataObject, prefer: int) -> int:
        """A license id, most often one whose stored status is `prefer`; sometimes an unknown id."""
        ids = sorted(self.m.licenses)
        preferred = [i for i in ids if self.m.licenses[i].status == prefer]
        choice = data.draw(st.integers(0, 9), label="license kind of pick")
        if choice < 6 and preferred:
            return data.draw(st.sampled_from(preferred), label="license")
        if choice < 9 or not ids:
            return data.draw(st.sampled_from(ids), label="license") if ids else 1
        return len(ids) + 1

    def pick_pledge(self, data: st.DataObject, prefer: int) -> int:
        ids = sorted(self.m.pledges)
        preferred = [i for i in ids if self.m.pledges[i].status == prefer]
        choice = data.draw(st.integers(0, 9), label="pledge kind of pick")
        if choice < 6 and preferred:
            return data.draw(st.sampled_from(preferred), label="pledge")
        if choice < 9 or not ids:
            return data.draw(st.sampled_from(ids), label="pledge") if ids else 1
        return len(ids) + 1

    def fresh(self) -> int:
        self.serial += 1
        return self.serial

    def _register(self, owner: int, content: bytes, kind: int, ref: bytes, metadata: bytes) -> None:
        m = self.m
        by_content = {a.content: a.id for a in m.assets.values() if a.content_bound}
        by_ref = {a.ref: a.id for a in m.assets.values() if a.ref != ZERO32 and a.ref_bound}
        refusal = None
        if content == ZERO32:
            refusal = Refusal("IPRegistryZeroContentHash", {})
        elif metadata == ZERO32:
            refusal = Refusal("IPRegistryZeroMetadataHash", {})
        elif content in by_content:
            refusal = Refusal("IPRegistryContentAlreadyRegistered",
                              {"contentHash": "0x" + content.hex(), "assetId": by_content[content]})
        elif ref != ZERO32 and ref in by_ref:
            refusal = Refusal("IPRegistryRefAlreadyRegistered", {"ref": "0x" + ref.hex(), "assetId": by_ref[ref]})
        fn = self.registry.functions.register(content, kind, ref, metadata, URI)
        if self.act("register", fn, owner, refusal):
            asset_id = len(m.assets) + 1
            m.assets[asset_id] = MAsset(asset_id, self.addr[owner], kind, content, ref)
        self.step = ("register", None)

    # -- assets -----------------------------------------------------------------------------------

    @initialize()
    def two_assets(self) -> None:
        """Every example starts with one asset each for two owners, so every act is possible at once."""
        for owner in (OWNER_A, OWNER_B):
            n = self.fresh()
            self._register(owner, keccak(b"content %d" % n), n % 7, b32(f"CN2024{n:07d}.X"), keccak(b"meta %d" % n))

    @precondition(lambda self: len(self.m.assets) < MAX_ASSETS)
    @rule(data=st.data())
    def register(self, data: st.DataObject) -> None:
        owner = data.draw(st.sampled_from(REGISTRANTS + (BANK_A, STRANGER)), label="registrant")
        known = list(self.m.assets.values())
        content_pick = data.draw(st.integers(0, 9), label="content")  # fresh, a registered one, or zero
        if content_pick <= 6:
            content = keccak(b"content %d" % self.fresh())
        elif content_pick <= 8:
            content = data.draw(st.sampled_from(known), label="same content as").content
        else:
            content = ZERO32
        ref_pick = data.draw(st.integers(0, 9), label="ref")  # fresh, none, or a registered one
        with_refs = [a for a in known if a.ref != ZERO32]
        if ref_pick <= 3:
            ref = b32(f"CN2024{self.fresh():07d}.X")
        elif ref_pick <= 6 or not with_refs:
            ref = ZERO32
        else:
            ref = data.draw(st.sampled_from(with_refs), label="same ref as").ref
        metadata = ZERO32 if data.draw(st.integers(0, 14), label="metadata") == 14 else keccak(b"m%d" % self.fresh())
        kind = data.draw(st.integers(0, 6), label="kind")
        self._register(owner, content, kind, ref, metadata)

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        asset = self.pick_asset(data)
        sender = self.party(data, self.addr.index(asset.owner))
        pledge = self.m.active_pledge(asset.id)
        if pledge is not None and pledge.consent != ZERO_ADDRESS and data.draw(st.booleans(), label="as consented"):
            to = self.addr.index(pledge.consent)
        else:
            to = data.draw(st.sampled_from(range(len(self.accounts))), label="to")
        self._transfer(asset, sender, to, data.draw(st.booleans(), label="safe"))

    def _transfer(self, asset: MAsset, sender: int, to: int, safe: bool) -> None:
        m = self.m
        pledge = m.active_pledge(asset.id)
        if self.addr[sender] != asset.owner:
            refusal = Refusal("ERC721InsufficientApproval", {"operator": self.addr[sender], "tokenId": asset.id})
        elif m.frozen(asset):
            refusal = Refusal("IPRegistryAssetFrozen", {"assetId": asset.id, "until": asset.frozen_until})
        elif asset.ownership_dispute:
            refusal = Refusal("IPRegistryAssetDisputed", {"assetId": asset.id, "disputeId": asset.ownership_dispute})
        elif pledge is not None and pledge.consent != self.addr[to]:
            refusal = Refusal("IPRegistryAssetPledged", {"assetId": asset.id, "pledgeId": pledge.id})
        else:
            refusal = None
        move = self.registry.functions.safeTransferFrom if safe else self.registry.functions.transferFrom
        if self.act("transfer", move(asset.owner, self.addr[to], asset.id), sender, refusal):
            asset.owner = self.addr[to]
            asset.verified = False
            if pledge is not None:
                pledge.consent = ZERO_ADDRESS  # used up
        self.step = ("transfer", (asset.id, pledge.id if pledge else 0))

    # -- the registrar ----------------------------------------------------------------------------

    def _registrar_refusal(self, sender: int) -> Refusal | None:
        if sender != ADMIN:
            return Refusal("AccessControlUnauthorizedAccount",
                           {"account": self.addr[sender], "neededRole": REGISTRAR_ROLE})
        return None

    @rule(data=st.data(), what=st.sampled_from(("verified", "status", "dates", "bank role")))
    def registrar_record(self, data: st.DataObject, what: str) -> None:
        """The registrar marks an asset verified, sets its legal status or its dates; or the admin
        grants or revokes the second bank's PLEDGEE_ROLE. Anybody else is refused."""
        m = self.m
        asset = self.pick_asset(data)
        sender = self.party(data, ADMIN)
        refusal = self._registrar_refusal(sender)
        if what == "verified":
            verified = data.draw(st.booleans(), label="verified")
            if self.act("setVerified", self.registry.functions.setVerified(asset.id, verified), sender, refusal):
                asset.verified = verified
        elif what == "status":
            status = data.draw(st.integers(0, 5), label="status")
            if self.act("setLegalStatus", self.registry.functions.setLegalStatus(asset.id, status), sender, refusal):
                asset.status = status
        elif what == "dates":
            expires = data.draw(st.one_of(st.none(), st.integers(-2, 25)), label="expires in days")
            fees = data.draw(st.one_of(st.none(), st.integers(-2, 25)), label="fees paid for days")
            expires_at = 0 if expires is None else m.at(expires)
            fees_until = 0 if fees is None else m.at(fees)
            fn = self.registry.functions.setDates(asset.id, expires_at, fees_until)
            if self.act("setDates", fn, sender, refusal):
                asset.expires_at, asset.fees_paid_until = expires_at, fees_until
        else:
            grant = data.draw(st.booleans(), label="grant")
            bank = self.addr[BANK_B]
            if sender != ADMIN:
                refusal = Refusal("AccessControlUnauthorizedAccount",
                                  {"account": self.addr[sender], "neededRole": ADMIN_ROLE})
            role_fn = self.registry.functions.grantRole if grant else self.registry.functions.revokeRole
            fn = role_fn(PLEDGEE_ROLE, bank)
            if self.act("grant/revoke PLEDGEE_ROLE", fn, sender, refusal):
                (m.accredited.add if grant else m.accredited.discard)(bank)
        self.step = ("registrar", None)

    @rule(data=st.data(), what=st.sampled_from(("ref", "content", "mark")))
    def squatting_remedy(self, data: st.DataObject, what: str) -> None:
        """The registrar unbinds an asset's official number or content hash (the official register
        names another holder), or marks / clears the disputed holder; anybody else is refused."""
        m = self.m
        asset = self.pick_asset(data)
        sender = self.party(data, ADMIN)
        reason = keccak(b"finding %d" % self.fresh())
        refusal = self._registrar_refusal(sender)
        if what == "mark":
            disputed = data.draw(st.booleans(), label="disputed")
            if self.act("setHolderDisputed", self.registry.functions.setHolderDisputed(asset.id, disputed, reason),
                        sender, refusal):
                asset.holder_disputed = disputed
            self.step = ("registrar", None)
            return
        key = asset.ref if what == "ref" else asset.content
        bound = next((a for a in m.assets.values()
                      if (a.ref_bound and a.ref == key and key != ZERO32 if what == "ref"
                          else a.content_bound and a.content == key)), None)
        if key == ZERO32:  # bad input, refused before the role
            refusal = Refusal("IPRegistryZeroRef" if what == "ref" else "IPRegistryZeroContentHash", {})
        elif refusal is None and bound is None:
            refusal = (Refusal("IPRegistryUnknownRef", {"ref": "0x" + key.hex()}) if what == "ref"
                       else Refusal("IPRegistryUnknownContent", {"contentHash": "0x" + key.hex()}))
        unbind = self.registry.functions.unbindRef if what == "ref" else self.registry.functions.unbindContent
        fn = unbind(key, reason)
        if self.act(f"unbind {what}", fn, sender, refusal):
            assert bound is not None
            if what == "ref":
                bound.ref_bound = False
            else:
                bound.content_bound = False
            bound.holder_disputed, bound.verified = True, False
        self.step = ("registrar", None)

    @rule(data=st.data())
    def set_parent(self, data: st.DataObject) -> None:
        """The owner (or anyone) names an asset's parent (a version act): once, and only an earlier asset."""
        asset = self.pick_asset(data)
        sender = self.party(data, self.addr.index(asset.owner) if asset.owner in self.addr else OWNER_A)
        parent_id = data.draw(st.integers(0, asset.id), label="parent")
        refusal: Refusal | None = None
        if self.addr[sender] != asset.owner:
            refusal = Refusal("IPRegistryNotOwner", {"assetId": asset.id, "caller": self.addr[sender]})
        elif parent_id == 0 or parent_id >= asset.id:
            refusal = Refusal("IPRegistryInvalidParent", {"assetId": asset.id, "parentId": parent_id})
        elif asset.parent:
            refusal = Refusal("IPRegistryParentAlreadySet", {"assetId": asset.id, "parentId": asset.parent})
        self.step = ("parent", None)
        if self.act("setParent", self.registry.functions.setParent(asset.id, parent_id), sender, refusal):
            asset.parent = parent_id

    @rule(data=st.data(), kind=st.sampled_from((0, 0, 0, 1, 2, 3)), zero_case=st.integers(0, 9))
    def open_dispute(self, data: st.DataObject, kind: int, zero_case: int) -> None:
        """The registrar opens a dispute of any kind (ownership ones stop the asset); the case may be missing."""
        m = self.m
        asset = self.pick_asset(data)
        sender = self.party(data, ADMIN)
        case = ZERO32 if zero_case == 0 else b32(f"(2025)JING73MINCHU{self.fresh()}")
        refusal = self._registrar_refusal(sender)
        if refusal is None and case == ZERO32:
            refusal = Refusal("IPRegistryZeroDisputeRef", {})
        elif refusal is None and kind == 0 and asset.ownership_dispute:
            refusal = Refusal("IPRegistryOwnershipAlreadyDisputed",
                              {"assetId": asset.id, "disputeId": asset.ownership_dispute})
        self.step = ("dispute", None)
        fn = self.registry.functions.openDispute(asset.id, kind, case, b"\x0e" * 32)
        if self.act("openDispute", fn, sender, refusal):
            dispute_id = len(m.disputes) + 1
            m.disputes[dispute_id] = MDispute(dispute_id, asset.id, kind)
            if kind == 0:
                asset.ownership_dispute = dispute_id

    @precondition(lambda self: self.m.disputes)
    @rule(data=st.data(), outcome=st.integers(0, 4))
    def resolve_dispute(self, data: st.DataObject, outcome: int) -> None:
        """The registrar resolves a dispute (mostly an open one; sometimes one resolved or unknown)."""
        m = self.m
        open_ids = sorted(i for i, d in m.disputes.items() if d.outcome == 0)
        pick = data.draw(st.integers(0, 9), label="dispute kind of pick")
        if pick < 7 and open_ids:
            dispute_id = data.draw(st.sampled_from(open_ids), label="dispute")
        elif pick < 9:
            dispute_id = data.draw(st.sampled_from(sorted(m.disputes)), label="dispute")
        else:
            dispute_id = len(m.disputes) + 1
        sender = self.party(data, ADMIN)
        dispute = m.disputes.get(dispute_id)
        refusal = self._registrar_refusal(sender)
        if refusal is None and dispute is None:
            refusal = Refusal("IPRegistryUnknownDispute", {"disputeId": dispute_id})
        elif refusal is None and dispute is not None and dispute.outcome != 0:
            refusal = Refusal("IPRegistryDisputeNotOpen", {"disputeId": dispute_id, "outcome": dispute.outcome})
        elif refusal is None and outcome == 0:
            refusal = Refusal("IPRegistryInvalidDisputeOutcome", {})
        self.step = ("dispute", None)
        if self.act("resolveDispute", self.registry.functions.resolveDispute(dispute_id, outcome, b"\x0d" * 32),
                    sender, refusal):
            assert dispute is not None
            dispute.outcome = outcome
            if dispute.kind == 0:
                m.assets[dispute.asset_id].ownership_dispute = 0

    @rule(data=st.data(), term=st.integers(-1, 12), court_pick=st.integers(0, 9))
    def freeze(self, data: st.DataObject, term: int, court_pick: int) -> None:
        m = self.m
        asset = self.pick_asset(data)
        sender = self.party(data, ADMIN)
        until = m.at(term)
        court, case = ("", "(2024)京73民初1号") if court_pick == 9 else ("北京知识产权法院", f"(2024)京73民初{term}号")
        reason = keccak(b"order %d" % self.fresh())
        refusal = self._registrar_refusal(sender)
        if refusal is None:
            if m.frozen(asset):
                refusal = Refusal("IPRegistryAlreadyFrozen", {"assetId": asset.id, "until": asset.frozen_until})
            elif not court or not case:
                refusal = Refusal("IPRegistryEmptyCourtOrder", {})
            elif until <= m.now:
                refusal = Refusal("IPRegistryInvalidFreezeTerm", {"until": until})
        if self.act("freeze", self.registry.functions.freeze(asset.id, court, case, reason, until), sender, refusal):
            asset.frozen_until = until
            asset.freeze = (court, case, reason, until, False)
        self.step = ("registrar", None)

    @rule(data=st.data(), term=st.integers(-1, 20), renew=st.booleans())
    def renew_or_unfreeze(self, data: st.DataObject, term: int, renew: bool) -> None:
        """The registrar extends the current freeze to `term` days from now, or lifts it."""
        m = self.m
        asset = self.pick_asset(data)
        sender = self.party(data, ADMIN)
        until = m.at(term)
        refusal = self._registrar_refusal(sender)
        if refusal is None:
            if not m.frozen(asset):
                refusal = Refusal("IPRegistryNotFrozen", {"assetId": asset.id})
            elif renew and until <= asset.frozen_until:
                refusal = Refusal("IPRegistryInvalidFreezeTerm", {"until": until})
        if renew:
            if self.act("renewFreeze", self.registry.functions.renewFreeze(asset.id, until), sender, refusal):
                assert asset.freeze is not None
                asset.frozen_until = until
                asset.freeze = asset.freeze[:3] + (until, asset.freeze[4])
        elif self.act("unfreeze", self.registry.functions.unfreeze(asset.id, b"\x02" * 32), sender, refusal):
            assert asset.freeze is not None
            asset.frozen_until = 0
            asset.freeze = asset.freeze[:4] + (True,)
        self.step = ("registrar", None)

    # -- licenses ---------------------------------------------------------------------------------

    license_terms = {
        "kind": st.sampled_from((EXCLUSIVE, SOLE, NON_EXCLUSIVE)), "start": st.integers(-3, 10),
        "length": st.integers(-1, 15), "territory": st.sampled_from(TERRITORIES), "fld": st.sampled_from(FIELDS),
    }

    def _offer_license(self, data: st.DataObject, asset: MAsset, sender: int, kind: int, start: int, length: int,
                       territory: str, fld: str) -> int | None:
        """`sender` offers a license of `asset`; returns its id if the chain (and the model) took it."""
        m = self.m
        licensee_pick = data.draw(st.integers(0, 19), label="licensee")
        licensee = ZERO_ADDRESS if licensee_pick == 19 else self.addr[LICENSEES[licensee_pick % len(LICENSEES)]]
        t_start, t_end = m.at(start), m.at(start + length)
        if self.addr[sender] != asset.owner:
            refusal = Refusal("LicenseRegistryNotOwner", {"assetId": asset.id, "account": self.addr[sender]})
        elif licensee in (ZERO_ADDRESS, self.addr[sender]):
            refusal = Refusal("LicenseRegistryInvalidLicensee", {"licensee": licensee})
        elif t_start >= t_end or t_end <= m.now:
            refusal = Refusal("LicenseRegistryInvalidTerm", {"start": t_start, "end": t_end})
        elif territory in NON_CANONICAL:
            refusal = Refusal("LicenseRegistryNonCanonicalTerritory", {"territory": "0x" + b32(territory).hex()})
        elif fld in NON_CANONICAL:
            refusal = Refusal("LicenseRegistryNonCanonicalField", {"fieldOfUse": "0x" + b32(fld).hex()})
        elif m.frozen(asset):
            refusal = Refusal("LicenseRegistryAssetFrozen", {"assetId": asset.id, "until": asset.frozen_until})
        elif conflicts := m.conflicts(asset.id, kind, t_start, t_end, territory, fld):
            refusal = self._conflict(asset.id, conflicts)
        else:
            refusal = None
        fee = data.draw(st.integers(0, 10**9), label="fee")
        sublicensable = data.draw(st.booleans(), label="sublicensable")
        terms = (licensee, kind, t_start, t_end, b32(territory), b32(fld), b"\x07" * 32, fee, sublicensable)
        self.step = ("license", None)
        if not self.act("license offer", self.licenses.functions.offer(asset.id, terms), sender, refusal):
            return None
        license_id = len(m.licenses) + 1
        m.licenses[license_id] = MLicense(license_id, asset.id, asset.owner, licensee, kind, t_start, t_end,
                                          territory, fld, fee, sublicensable)
        m.versions[asset.id] += 1
        return license_id

    def _conflict(self, asset_id: int, conflicts: set[int]) -> Refusal:
        """Which overlapping license the contract names depends on its storage order: any of them."""
        return Refusal("LicenseRegistryExclusivityConflict", None,
                       lambda args: args["assetId"] == asset_id and args["conflictingLicenseId"] in conflicts
                       and args["conflictingKind"] == self.m.licenses[args["conflictingLicenseId"]].kind)

    def _accept_license(self, license_id: int, sender: int) -> None:
        m = self.m
        lic = m.licenses.get(license_id)
        refusal = None
        if lic is None:
            refusal = Refusal("LicenseRegistryUnknownLicense", {"licenseId": license_id})
        elif self.addr[sender] != lic.licensee:
            refusal = Refusal("LicenseRegistryNotLicensee", {"licenseId": license_id, "account": self.addr[sender]})
        elif lic.status != L_OFFERED:
            refusal = Refusal("LicenseRegistryNotOffered", {"licenseId": license_id, "status": lic.status})
        elif lic.end <= m.now:
            refusal = Refusal("LicenseRegistryLicenseEnded", {"licenseId": license_id, "end": lic.end})
        else:
            asset = m.assets[lic.asset_id]
            pledge = m.active_pledge(asset.id)
            if asset.owner != lic.licensor:
                refusal = Refusal("LicenseRegistryOfferStale",
                                  {"licenseId": license_id, "licensor": lic.licensor, "owner": asset.owner})
            elif m.frozen(asset):
                refusal = Refusal("LicenseRegistryAssetFrozen", {"assetId": asset.id, "until": asset.frozen_until})
            elif pledge is not None and not {lic.consent_id(), lic.consent_id(anyone=True)} & pledge.consents:
                refusal = Refusal("LicenseRegistryAssetPledged", {"assetId": asset.id, "pledgeId": pledge.id})
            elif conflicts := m.conflicts(asset.id, lic.kind, lic.start, lic.end, lic.territory, lic.field):
                refusal = self._conflict(asset.id, conflicts)
        self.step = ("license", None)
        if self.act("license accept", self.licenses.functions.accept(license_id), sender, refusal):
            assert lic is not None
            lic.status = L_ACTIVE
            m.versions[lic.asset_id] += 1
            pledge = m.active_pledge(lic.asset_id)
            if pledge is not None:  # the exact consent is used first, else the one for anyone
                exact = lic.consent_id()
                pledge.consents.discard(exact if exact in pledge.consents else lic.consent_id(anyone=True))

    @precondition(lambda self: len(self.m.licenses) < MAX_LICENSES)
    @rule(data=st.data(), **license_terms)
    def offer_license(self, data: st.DataObject, kind: int, start: int, length: int, territory: str, fld: str) -> None:
        asset = self.pick_asset(data)
        sender = self.party(data, self.addr.index(asset.owner))
        self._offer_license(data, asset, sender, kind, start, length, territory, fld)

    @precondition(lambda self: self.m.has_license(L_OFFERED))
    @rule(data=st.data())
    def accept_license(self, data: st.DataObject) -> None:
        license_id = self.pick_license(data, L_OFFERED)
        lic = self.m.licenses.get(license_id)
        self._accept_license(license_id, self.party(data, self.addr.index(lic.licensee) if lic else SPARE))

    @precondition(lambda self: len(self.m.licenses) < MAX_LICENSES)
    @rule(data=st.data(), **license_terms)
    def license_deal(self, data: st.DataObject, kind: int, start: int, length: int, territory: str, fld: str) -> None:
        """The owner offers and the licensee accepts in one step; if the asset is pledged, its
        pledgee consents to the license first, most of the time."""
        asset = self.pick_asset(data)
        license_id = self._offer_license(data, asset, self.party(data, self.addr.index(asset.owner)), kind, start,
                                         length, territory, fld)
        if license_id is None:
            return
        pledge = self.m.active_pledge(asset.id)
        if pledge is not None and data.draw(st.integers(0, 3), label="pledgee consents") < 3:
            lic = self.m.licenses[license_id]
            way = data.draw(st.sampled_from(("exact", "anyone", "other fee", "withdrawn")), label="consent")
            terms = lic.terms(ZERO_ADDRESS) if way == "anyone" else lic.terms()
            if way == "other fee":  # the bank consented to other terms: they must not cover this license
                terms = terms[:7] + (lic.fee + 1,) + terms[8:]
            bank = self.party(data, self.addr.index(pledge.pledgee))
            self._consent_to_license(pledge.id, terms, bank)
            if way == "withdrawn":
                self._withdraw_license_consent(pledge.id, lic.consent_id(), bank)
        self._accept_license(license_id, self.party(data, self.addr.index(self.m.licenses[license_id].licensee)))

    @precondition(lambda self: self.m.has_license(L_OFFERED, L_ACTIVE))
    @rule(data=st.data())
    def terminate_license(self, data: st.DataObject) -> None:
        m = self.m
        license_id = self.pick_license(data, data.draw(st.sampled_from((L_ACTIVE, L_OFFERED)), label="prefer"))
        lic = m.licenses.get(license_id)
        if lic is not None:
            party = lic.licensee if data.draw(st.booleans(), label="licensee ends") else m.assets[lic.asset_id].owner
            sender = self.party(data, self.addr.index(party))
        else:
            sender = self.party(data, SPARE)
        refusal = None
        if lic is None:
            refusal = Refusal("LicenseRegistryUnknownLicense", {"licenseId": license_id})
        elif (status := m.license_status(lic)) not in (L_OFFERED, L_ACTIVE):
            refusal = Refusal("LicenseRegistryClosed", {"licenseId": license_id, "status": status})
        elif self.addr[sender] not in (lic.licensee, m.assets[lic.asset_id].owner):
            refusal = Refusal("LicenseRegistryNotParty", {"licenseId": license_id, "account": self.addr[sender]})
        fn = self.licenses.functions.terminate(license_id, b"\x03" * 32)
        if self.act("license terminate", fn, sender, refusal):
            assert lic is not None
            lic.status = L_TERMINATED
            m.versions[lic.asset_id] += 1
        self.step = ("license", None)

    @precondition(lambda self: self.m.has_license(L_ACTIVE))
    @rule(data=st.data(), zero=st.integers(0, 9))
    def record_filing(self, data: st.DataObject, zero: int) -> None:
        m = self.m
        license_id = self.pick_license(data, L_ACTIVE)
        lic = m.licenses.get(license_id)
        sender = self.party(data, ADMIN)
        recordal = ZERO32 if zero == 9 else b32(f"2024-{self.fresh():05d}")
        refusal = self._registrar_refusal(sender)
        if refusal is None:
            if lic is None:
                refusal = Refusal("LicenseRegistryUnknownLicense", {"licenseId": license_id})
            elif (status := m.license_status(lic)) != L_ACTIVE:
                refusal = Refusal("LicenseRegistryNotActive", {"licenseId": license_id, "status": status})
            elif recordal == ZERO32:
                refusal = Refusal("LicenseRegistryZeroRecordalNo", {})
        if self.act("license recordFiling", self.licenses.functions.recordFiling(license_id, recordal), sender,
                    refusal):
            assert lic is not None
            lic.recordal = recordal
        self.step = ("license", None)

    # -- pledges ----------------------------------------------------------------------------------

    pledge_terms = {"maturity": st.integers(-1, 12), "principal_zero": st.integers(0, 19),
                    "currency_zero": st.integers(0, 19)}

    def _propose_pledge(self, data: st.DataObject, asset: MAsset, sender: int, maturity: int, principal_zero: int,
                        currency_zero: int) -> int | None:
        """`sender` proposes to pledge `asset`; returns the pledge's id if the chain (and the model) took it."""
        m = self.m
        pledgee = self.addr[data.draw(st.sampled_from((BANK_A, BANK_B) * 3 + (STRANGER, sender)),
                                      label="pledgee")]
        principal = 0 if principal_zero == 19 else 1_000_000_00 * (principal_zero + 1)
        currency = b"\0\0\0" if currency_zero == 19 else b"CNY"
        t_maturity = m.at(maturity)
        if self.addr[sender] != asset.owner:
            refusal = Refusal("PledgeRegistryNotOwner", {"assetId": asset.id, "account": self.addr[sender]})
        elif pledgee == self.addr[sender]:
            refusal = Refusal("PledgeRegistryInvalidPledgee", {"pledgee": pledgee})
        elif principal == 0:
            refusal = Refusal("PledgeRegistryZeroPrincipal", {})
        elif currency == b"\0\0\0":
            refusal = Refusal("PledgeRegistryZeroCurrency", {})
        elif pledgee not in m.accredited:
            refusal = Refusal("AccessControlUnauthorizedAccount", {"account": pledgee, "neededRole": PLEDGEE_ROLE})
        else:
            refusal = m.pledgeable_refusal(asset, t_maturity)
        fn = self.pledges.functions.propose(asset.id, pledgee, principal, currency, t_maturity, b"\x09" * 32)
        self.step = ("pledge", None)
        if not self.act("pledge propose", fn, sender, refusal):
            return None
        pledge_id = len(m.pledges) + 1
        m.pledges[pledge_id] = MPledge(pledge_id, asset.id, asset.owner, pledgee, principal, currency, t_maturity)
        return pledge_id

    def _pledgee_refusal(self, pledge_id: int, sender: int, status: int) -> Refusal | None:
        """PledgeRegistry._pledgeeOf(pledgeId, status)."""
        pledge = self.m.pledges.get(pledge_id)
        if pledge is None:
            return Refusal("PledgeRegistryUnknownPledge", {"pledgeId": pledge_id})
        if self.addr[sender] != pledge.pledgee:
            return Refusal("PledgeRegistryNotPledgee", {"pledgeId": pledge_id, "account": self.addr[sender]})
        if pledge.status != status:
            name = "PledgeRegistryNotProposed" if status == P_PROPOSED else "PledgeRegistryNotActive"
            return Refusal(name, {"pledgeId": pledge_id, "status": pledge.status})
        return None

    def _pledge_party(self, data: st.DataObject, pledge_id: int) -> int:
        pledge = self.m.pledges.get(pledge_id)
        return self.party(data, self.addr.index(pledge.pledgee) if pledge else BANK_A)

    def _accept_pledge(self, pledge_id: int, sender: int, stale: int = 0, seen: int | None = None) -> None:
        """The pledgee accepts, naming the encumbrance version of its check: now's, `stale` changes ago,
        or the `seen` one."""
        m = self.m
        checked = seen
        seen = 0
        refusal = self._pledgee_refusal(pledge_id, sender, P_PROPOSED)
        pledge = m.pledges.get(pledge_id)
        if refusal is None:
            assert pledge is not None
            asset = m.assets[pledge.asset_id]
            if pledge.pledgee not in m.accredited:
                refusal = Refusal("AccessControlUnauthorizedAccount",
                                  {"account": pledge.pledgee, "neededRole": PLEDGEE_ROLE})
            elif asset.owner != pledge.pledgor:
                refusal = Refusal("PledgeRegistryProposalStale",
                                  {"pledgeId": pledge_id, "pledgor": pledge.pledgor, "owner": asset.owner})
            else:
                refusal = m.pledgeable_refusal(asset, pledge.maturity)
            seen = max(0, m.versions[asset.id] - stale) if checked is None else checked
            if refusal is None and seen != m.versions[asset.id]:
                refusal = Refusal("PledgeRegistryEncumbrancesChanged",
                                  {"pledgeId": pledge_id, "expectedVersion": seen, "version": m.versions[asset.id]})
        self.step = ("pledge", None)
        if self.act("pledge accept", self.pledges.functions.accept(pledge_id, seen), sender, refusal):
            assert pledge is not None
            pledge.status = P_ACTIVE

    def _consent_to_license(self, pledge_id: int, terms: tuple[Any, ...], sender: int) -> None:
        refusal = self._pledgee_refusal(pledge_id, sender, P_ACTIVE)
        consent_id = keccak(abi_encode([TERMS_TYPE], [terms]))
        if refusal is None and consent_id in self.m.pledges[pledge_id].consents:
            refusal = Refusal("PledgeRegistryLicenseConsentExists",
                              {"pledgeId": pledge_id, "consentId": "0x" + consent_id.hex()})
        fn = self.pledges.functions.consentToLicense(pledge_id, terms)
        self.step = ("pledge", None)
        if self.act("pledge consentToLicense", fn, sender, refusal):
            self.m.pledges[pledge_id].consents.add(consent_id)

    def _withdraw_license_consent(self, pledge_id: int, consent_id: bytes, sender: int) -> None:
        refusal = self._pledgee_refusal(pledge_id, sender, P_ACTIVE)
        if refusal is None and consent_id not in self.m.pledges[pledge_id].consents:
            refusal = Refusal("PledgeRegistryNoLicenseConsent",
                              {"pledgeId": pledge_id, "consentId": "0x" + consent_id.hex()})
        fn = self.pledges.functions.withdrawLicenseConsent(pledge_id, consent_id)
        self.step = ("pledge", None)
        if self.act("pledge withdrawLicenseConsent", fn, sender, refusal):
            self.m.pledges[pledge_id].consents.discard(consent_id)

    @precondition(lambda self: self.m.has_pledge(P_ACTIVE) and self.m.licenses)
    @rule(data=st.data())
    def withdraw_license_consent(self, data: st.DataObject) -> None:
        """The pledgee withdraws a consent to a license's terms (given or not, used or not)."""
        pledge_id = self.pick_pledge(data, P_ACTIVE)
        license_id = data.draw(st.sampled_from(sorted(self.m.licenses)), label="terms of license")
        consent_id = self.m.licenses[license_id].consent_id(anyone=data.draw(st.booleans(), label="for anyone"))
        self._withdraw_license_consent(pledge_id, consent_id, self._pledge_party(data, pledge_id))

    @precondition(lambda self: len(self.m.pledges) < MAX_PLEDGES)
    @rule(data=st.data(), **pledge_terms)
    def propose_pledge(self, data: st.DataObject, maturity: int, principal_zero: int, currency_zero: int) -> None:
        asset = self.pick_asset(data)
        sender = self.party(data, self.addr.index(asset.owner))
        self._propose_pledge(data, asset, sender, maturity, principal_zero, currency_zero)

    @precondition(lambda self: self.m.has_pledge(P_PROPOSED))
    @rule(data=st.data())
    def accept_pledge(self, data: st.DataObject) -> None:
        """The pledgee accepts on a fresh check, or (one time in four) on a check older than a license change."""
        pledge_id = self.pick_pledge(data, P_PROPOSED)
        stale = data.draw(st.sampled_from((0, 0, 0, 1, 2)), label="changes since the check")
        self._accept_pledge(pledge_id, self._pledge_party(data, pledge_id), stale)

    @precondition(lambda self: self.m.has_pledge(P_PROPOSED) and len(self.m.licenses) < MAX_LICENSES)
    @rule(data=st.data(), kind=st.sampled_from((EXCLUSIVE, SOLE, NON_EXCLUSIVE)))
    def race_between_check_and_accept(self, data: st.DataObject, kind: int) -> None:
        """The bank checks a proposal; before it accepts, the owner offers a license and (often) an
        accomplice accepts it at once: the acceptance on the old check must fail."""
        m = self.m
        pledge_id = self.pick_pledge(data, P_PROPOSED)
        if pledge_id not in m.pledges:  # pick_pledge may name an unknown id; this race needs a real proposal
            pledge_id = min(i for i, p in m.pledges.items() if p.status == P_PROPOSED)
        pledge = m.pledges[pledge_id]
        asset = m.assets[pledge.asset_id]
        seen = m.versions[asset.id]
        license_id = self._offer_license(data, asset, self.addr.index(asset.owner), kind, 0, 30, "CN", "")
        if license_id is not None and data.draw(st.booleans(), label="accomplice accepts"):
            self._accept_license(license_id, self.addr.index(m.licenses[license_id].licensee))
        self._accept_pledge(pledge_id, self.addr.index(pledge.pledgee), seen=seen)

    @precondition(lambda self: len(self.m.pledges) < MAX_PLEDGES)
    @rule(data=st.data(), outcome=st.sampled_from(("running", "repaid", "default", "sale")), **pledge_terms)
    def loan(self, data: st.DataObject, outcome: str, maturity: int, principal_zero: int, currency_zero: int) -> None:
        """A loan in one step: the owner proposes, the bank accepts; then the loan runs on, or is
        repaid (release), or defaults (time passes its maturity and the bank enforces), or the bank
        lets the owner sell the asset (consent to a recipient, then the transfer)."""
        asset = self.pick_asset(data)
        pledge_id = self._propose_pledge(data, asset, self.party(data, self.addr.index(asset.owner)), maturity,
                                         principal_zero, currency_zero)
        if pledge_id is None:
            return
        self._accept_pledge(pledge_id, self._pledge_party(data, pledge_id))
        if self.m.pledges[pledge_id].status != P_ACTIVE or outcome == "running":
            return
        if outcome == "repaid":
            self._release(pledge_id, self._pledge_party(data, pledge_id))
        elif outcome == "default":
            self._enforce(data, pledge_id, self._pledge_party(data, pledge_id), wait=True)
        else:
            buyer = data.draw(st.sampled_from((BUYER, OWNER_C, SPARE)), label="buyer")
            self._consent_to_transfer(pledge_id, self.addr[buyer], self._pledge_party(data, pledge_id))
            asset = self.m.assets[self.m.pledges[pledge_id].asset_id]
            self._transfer(asset, self.party(data, self.addr.index(asset.owner)), buyer, safe=True)

    @precondition(lambda self: self.m.has_pledge(P_PROPOSED))
    @rule(data=st.data())
    def cancel_pledge(self, data: st.DataObject) -> None:
        m = self.m
        pledge_id = self.pick_pledge(data, P_PROPOSED)
        pledge = m.pledges.get(pledge_id)
        if pledge is not None and data.draw(st.booleans(), label="pledgor withdraws"):
            sender = self.party(data, self.addr.index(pledge.pledgor))
        else:
            sender = self._pledge_party(data, pledge_id)
        refusal = None
        if pledge is None:
            refusal = Refusal("PledgeRegistryUnknownPledge", {"pledgeId": pledge_id})
        elif self.addr[sender] not in (pledge.pledgor, pledge.pledgee):
            refusal = Refusal("PledgeRegistryNotParty", {"pledgeId": pledge_id, "account": self.addr[sender]})
        elif pledge.status != P_PROPOSED:
            refusal = Refusal("PledgeRegistryNotProposed", {"pledgeId": pledge_id, "status": pledge.status})
        if self.act("pledge cancel", self.pledges.functions.cancel(pledge_id), sender, refusal):
            assert pledge is not None
            pledge.status = P_CANCELLED
        self.step = ("pledge", None)

    def _release(self, pledge_id: int, sender: int) -> None:
        refusal = self._pledgee_refusal(pledge_id, sender, P_ACTIVE)
        self.step = ("pledge", None)
        if self.act("pledge release", self.pledges.functions.release(pledge_id), sender, refusal):
            pledge = self.m.pledges[pledge_id]
            pledge.status = P_RELEASED
            pledge.consent = ZERO_ADDRESS

    def _enforce(self, data: st.DataObject, pledge_id: int, sender: int, *, wait: bool) -> None:
        """The pledgee enforces (after waiting for the maturity if `wait`): the asset goes to a buyer or the bank."""
        m = self.m
        buyer_pick = data.draw(st.sampled_from((None, BUYER, None, OWNER_C, BANK_B)), label="buyer")
        buyer = ZERO_ADDRESS if buyer_pick is None else self.addr[buyer_pick]
        pledge = m.pledges.get(pledge_id)
        if wait and pledge is not None and pledge.status == P_ACTIVE and m.now <= pledge.maturity:
            self._travel((pledge.maturity - m.now) // DAY + 1)
        refusal = self._pledgee_refusal(pledge_id, sender, P_ACTIVE)
        if refusal is None:
            assert pledge is not None
            asset = m.assets[pledge.asset_id]
            if m.now <= pledge.maturity:
                refusal = Refusal("PledgeRegistryNotMatured", {"pledgeId": pledge_id, "maturity": pledge.maturity})
            elif m.frozen(asset):
                refusal = Refusal("IPRegistryAssetFrozen", {"assetId": asset.id, "until": asset.frozen_until})
            elif asset.ownership_dispute:
                refusal = Refusal("IPRegistryAssetDisputed",
                                  {"assetId": asset.id, "disputeId": asset.ownership_dispute})
        if self.act("pledge enforce", self.pledges.functions.enforce(pledge_id, buyer), sender, refusal):
            assert pledge is not None
            asset = m.assets[pledge.asset_id]
            pledge.status = P_ENFORCED
            pledge.consent = ZERO_ADDRESS
            asset.owner = pledge.pledgee if buyer == ZERO_ADDRESS else buyer
            asset.verified = False
        self.step = ("enforce", (pledge.asset_id if pledge else 0, pledge_id))

    def _consent_to_transfer(self, pledge_id: int, recipient: str, sender: int) -> None:
        refusal = self._pledgee_refusal(pledge_id, sender, P_ACTIVE)
        self.step = ("pledge", None)
        if self.act("pledge consentToTransfer", self.pledges.functions.consentToTransfer(pledge_id, recipient),
                    sender, refusal):
            self.m.pledges[pledge_id].consent = recipient

    @precondition(lambda self: self.m.has_pledge(P_ACTIVE))
    @rule(data=st.data())
    def release_pledge(self, data: st.DataObject) -> None:
        pledge_id = self.pick_pledge(data, P_ACTIVE)
        self._release(pledge_id, self._pledge_party(data, pledge_id))

    @precondition(lambda self: self.m.has_pledge(P_ACTIVE))
    @rule(data=st.data(), wait=st.booleans())
    def enforce_pledge(self, data: st.DataObject, wait: bool) -> None:
        pledge_id = self.pick_pledge(data, P_ACTIVE)
        self._enforce(data, pledge_id, self._pledge_party(data, pledge_id), wait=wait)

    @precondition(lambda self: self.m.has_pledge(P_ACTIVE))
    @rule(data=st.data())
    def consent_to_transfer(self, data: st.DataObject) -> None:
        pledge_id = self.pick_pledge(data, P_ACTIVE)
        sender = self._pledge_party(data, pledge_id)
        recipient_pick = data.draw(st.integers(0, len(self.accounts)), label="recipient")
        recipient = ZERO_ADDRESS if recipient_pick == len(self.accounts) else self.addr[recipient_pick]
        self._consent_to_transfer(pledge_id, recipient, sender)

    @precondition(lambda self: self.m.has_pledge(P_ACTIVE) and self.m.licenses)
    @rule(data=st.data())
    def consent_to_license(self, data: st.DataObject) -> None:
        m = self.m
        pledge_id = self.pick_pledge(data, P_ACTIVE)
        sender = self._pledge_party(data, pledge_id)
        pledge = m.pledges.get(pledge_id)
        same_asset = [lic.id for lic in m.licenses.values() if pledge and lic.asset_id == pledge.asset_id]
        if same_asset and data.draw(st.integers(0, 4), label="license of the asset") < 4:
            license_id = data.draw(st.sampled_from(same_asset), label="license")
        elif m.licenses:
            license_id = data.draw(st.sampled_from(sorted(m.licenses)), label="any license")
        else:
            return
        lic = m.licenses[license_id]
        anyone = data.draw(st.integers(0, 3), label="for anyone") == 0
        self._consent_to_license(pledge_id, lic.terms(ZERO_ADDRESS if anyone else None), sender)

    # -- time -------------------------------------------------------------------------------------

    @rule(days=st.integers(1, 15))
    def travel(self, days: int) -> None:
        self._travel(days)
        self.step = ("travel", None)

    def _travel(self, days: int) -> None:
        STATS["acts"] += 1
        STATS["time travel"] += 1
        self.chain.increase_time(days * DAY)
        self.m.days += days
        self.changed = self.travelled = True

    # -- invariants -------------------------------------------------------------------------------

    def read_view(self) -> dict[str, Any]:
        """Everything the contracts say about the model's assets, licenses and pledges, in one batch."""
        m, reg, lic, pl = self.m, self.registry, self.licenses, self.pledges
        calls: list[tuple[str, Contract, str, tuple[Any, ...]]] = [
            ("assetCount", reg, "assetCount", ()), ("licenseCount", lic, "licenseCount", ()),
            ("pledgeCount", pl, "pledgeCount", ()),
            ("bank B accredited", reg, "hasRole", (keccak(text="PLEDGEE_ROLE"), self.addr[BANK_B])),
            ("disputeCount", reg, "disputeCount", ()),
        ]
        calls += [(f"balance {i}", reg, "balanceOf", (a,)) for i, a in enumerate(self.addr)]
        for a in m.assets.values():
            calls += [
                (f"asset {a.id}", reg, "assetOf", (a.id,)), (f"ownerOf {a.id}", reg, "ownerOf", (a.id,)),
                (f"isFrozen {a.id}", reg, "isFrozen", (a.id,)), (f"freeze {a.id}", reg, "freezeOf", (a.id,)),
                (f"content {a.id}", reg, "assetIdOfContent", (a.content,)),
                (f"activePledge {a.id}", pl, "activePledgeOf", (a.id,)),
                (f"licenses {a.id}", lic, "licensesOf", (a.id,)),
                (f"activeLicenses {a.id}", lic, "activeLicensesOf", (a.id,)),
                (f"version {a.id}", lic, "encumbranceVersionOf", (a.id,)),
                (f"ownershipDispute {a.id}", reg, "ownershipDisputeOf", (a.id,)),
                (f"openDisputes {a.id}", reg, "openDisputesOf", (a.id,)),
                (f"parent {a.id}", reg, "parentOf", (a.id,)),
            ]
            if a.ref != ZERO32:
                calls.append((f"ref {a.id}", reg, "assetIdOfRef", (a.ref,)))
        calls += [(f"license {i}", lic, "licenseOf", (i,)) for i in m.licenses]
        calls += [(f"dispute {i}", reg, "disputeOf", (i,)) for i in m.disputes]
        for p in m.pledges.values():
            calls += [(f"pledge {p.id}", pl, "pledgeOf", (p.id,)),
                      (f"consent {p.id}", pl, "transferConsentOf", (p.id,))]
            calls += [(f"licenseConsent {p.id} {c.hex()}", pl, "isLicenseConsented", (p.id, c))
                      for c in sorted(self._consents_to_read(p))]
        return self.reader.read(calls)

    def expected_view(self) -> dict[str, Any]:
        m = self.m
        view: dict[str, Any] = {
            "assetCount": len(m.assets), "licenseCount": len(m.licenses), "pledgeCount": len(m.pledges),
            "bank B accredited": self.addr[BANK_B] in m.accredited, "disputeCount": len(m.disputes),
        }
        for i, address in enumerate(self.addr):
            view[f"balance {i}"] = sum(1 for a in m.assets.values() if a.owner == address)
        for a in m.assets.values():
            pledge = m.active_pledge(a.id)
            view[f"asset {a.id}"] = (a.owner, a.kind, a.status, a.verified, a.expires_at, a.fees_paid_until,
                                     a.frozen_until, a.holder_disputed)
            view[f"ownerOf {a.id}"] = a.owner
            view[f"isFrozen {a.id}"] = m.frozen(a)
            view[f"content {a.id}"] = next(
                (b.id for b in m.assets.values() if b.content_bound and b.content == a.content), 0)
            if a.ref != ZERO32:
                view[f"ref {a.id}"] = next((b.id for b in m.assets.values() if b.ref_bound and b.ref == a.ref), 0)
            view[f"activePledge {a.id}"] = pledge.id if pledge else 0
            view[f"licenses {a.id}"] = tuple(sorted(x.id for x in m.licenses.values() if x.asset_id == a.id))
            active = sorted(m.active_licenses(a.id), key=lambda x: x.id)
            view[f"activeLicenses {a.id}"] = (tuple(x.id for x in active), tuple(self._license_row(x) for x in active))
            view[f"version {a.id}"] = m.versions[a.id]
            view[f"ownershipDispute {a.id}"] = a.ownership_dispute
            view[f"parent {a.id}"] = a.parent
            view[f"openDisputes {a.id}"] = tuple(sorted(d.id for d in m.disputes.values()
                                                        if d.asset_id == a.id and d.outcome == 0))
        for d in m.disputes.values():
            view[f"dispute {d.id}"] = (d.asset_id, d.kind, d.outcome)
        for x in m.licenses.values():
            view[f"license {x.id}"] = self._license_row(x, m.license_status(x))
        for p in m.pledges.values():
            view[f"pledge {p.id}"] = (p.asset_id, p.pledgor, p.status, p.pledgee, p.maturity, p.currency, p.principal,
                                      b"\x09" * 32)
            view[f"consent {p.id}"] = p.consent
            for c in self._consents_to_read(p):
                view[f"licenseConsent {p.id} {c.hex()}"] = p.status == P_ACTIVE and c in p.consents
        return view

    def _consents_to_read(self, p: MPledge) -> set[bytes]:
        """The license consents checked for a pledge: those given, and those of its asset's licenses' terms."""
        return set(p.consents) | {x.consent_id(anyone) for x in self.m.licenses.values() if x.asset_id == p.asset_id
                                  for anyone in (False, True)}

    def _license_row(self, x: MLicense, status: int | None = None) -> tuple[Any, ...]:
        return (x.asset_id, x.licensor, x.kind, x.status if status is None else status, x.sublicensable, x.licensee,
                x.start, x.end, b32(x.territory), b32(x.field), b"\x07" * 32, x.fee, x.recordal)

    @invariant()
    def chain_matches_model_and_rules_hold(self) -> None:
        STATS["checks"] += 1
        view = self.read_view()
        comparable = dict(view)
        # freezeOf carries the block time of the freeze and of the lifting, which the model cannot
        # know to the second: compare the rest, and that the times are set where they must be.
        for a in self.m.assets.values():
            court, case, reason, frozen_at, until, lifted_at = comparable.pop(f"freeze {a.id}")
            if a.freeze is None:
                assert (court, case, reason, frozen_at, until, lifted_at) == ("", "", ZERO32, 0, 0, 0), a.id
            else:
                assert (court, case, reason, until, lifted_at != 0) == a.freeze, (a.id, view[f"freeze {a.id}"])
                assert self.m.t0 <= frozen_at <= self.m.now + DAY // 2
            # activeLicensesOf lists in the contract's storage order (swap-and-pop): compare as sets.
            ids, rows = comparable[f"activeLicenses {a.id}"]
            ordered = sorted(zip(ids, rows, strict=True))
            comparable[f"activeLicenses {a.id}"] = (tuple(i for i, _ in ordered), tuple(r for _, r in ordered))
            comparable[f"licenses {a.id}"] = tuple(sorted(comparable[f"licenses {a.id}"]))
            comparable[f"openDisputes {a.id}"] = tuple(sorted(comparable[f"openDisputes {a.id}"]))  # swap-and-pop
        for d in self.m.disputes.values():  # its times are block times: compare what the model knows
            asset_id, kind, outcome, opened_at, resolved_at, case, evidence, decision = comparable[f"dispute {d.id}"]
            assert opened_at and (resolved_at != 0) == (outcome != 0) and case != ZERO32, d
            comparable[f"dispute {d.id}"] = (asset_id, kind, outcome)
        expected = self.expected_view()
        diff = {k: (comparable.get(k), expected.get(k)) for k in expected.keys() | comparable.keys()
                if comparable.get(k) != expected.get(k)}
        assert not diff, f"after {self.step[0]}: chain vs model differ (chain, model): {diff}"

        previous = self.view
        if not self.changed and previous is not None:
            assert view == previous, f"after {self.step[0]}: refused acts changed the chain's view"
        self._check_rules(view, previous)
        self.view = view
        self.changed = self.travelled = False

    def _check_rules(self, view: dict[str, Any], previous: dict[str, Any] | None) -> None:
        """The registry's rules, read from the chain's view alone (independent of the model)."""
        pledges = {int(k.split()[1]): v for k, v in view.items() if k.startswith("pledge ")}
        for asset_id in self.m.assets:
            active = [pid for pid, p in pledges.items() if p[0] == asset_id and p[2] == P_ACTIVE]
            assert len(active) <= 1, f"asset {asset_id} has several active pledges: {active}"
            assert view[f"activePledge {asset_id}"] == (active[0] if active else 0), asset_id

            _, rows = view[f"activeLicenses {asset_id}"]
            for i, x in enumerate(rows):
                for y in rows[i + 1:]:
                    if x[2] == NON_EXCLUSIVE and y[2] == NON_EXCLUSIVE:
                        continue
                    overlap = (x[6] < y[7] and y[6] < x[7] and _scopes_overlap(_code(x[8]), _code(y[8]))
                               and _scopes_overlap(_code(x[9]), _code(y[9])))
                    assert not overlap, f"asset {asset_id}: active licenses overlap with an exclusive/sole one: {x} {y}"

            if previous is None or f"ownerOf {asset_id}" not in previous:
                continue
            before, after = previous[f"ownerOf {asset_id}"], view[f"ownerOf {asset_id}"]
            if before == after:
                continue
            # Frozen when it moved: frozen now, or at the last check if no time passed since (a step
            # that waits for a loan's maturity may outlast a freeze).
            frozen = view[f"isFrozen {asset_id}"] or (previous[f"isFrozen {asset_id}"] and not self.travelled)
            assert not frozen, f"frozen asset {asset_id} moved by {self.step}"
            # No move while an ownership dispute is open: a step that moves an asset opens or resolves none,
            # so a dispute open at the last check or now was open when it moved.
            disputed = previous[f"ownershipDispute {asset_id}"] or view[f"ownershipDispute {asset_id}"]
            assert not disputed, f"asset {asset_id} moved by {self.step} under ownership dispute {disputed}"
            pledge_id = previous[f"activePledge {asset_id}"]
            if pledge_id:
                enforced = self.step == ("enforce", (asset_id, pledge_id)) and pledges[pledge_id][2] == P_ENFORCED
                consented = (self.step == ("transfer", (asset_id, pledge_id))
                             and previous[f"consent {pledge_id}"] == after)
                assert enforced or consented, (
                    f"pledged asset {asset_id} moved from {before} to {after} by {self.step} "
                    "without enforcement or the pledgee's consent")


class ViewReader:
    """Many view calls in ONE raw JSON-RPC batch, encoded and decoded with eth_abi: web3's own
    encoding of a contract call costs milliseconds, more than a whole act on Anvil."""

    def __init__(self, chain: ChainClient, *contracts: Contract) -> None:
        self.chain = chain
        self.functions: dict[tuple[str, str], tuple[bytes, list[str], list[str]]] = {}
        for contract in contracts:
            for item in contract.abi:
                if item.get("type") == "function" and item.get("stateMutability") in ("view", "pure"):
                    key = (contract.address, item["name"])
                    assert key not in self.functions, f"overloaded view {key}: name it by signature"
                    self.functions[key] = (function_abi_to_4byte_selector(item), get_abi_input_types(item),
                                           get_abi_output_types(item))

    def read(self, calls: list[tuple[str, Contract, str, tuple[Any, ...]]]) -> dict[str, Any]:
        requests = []
        for _, contract, name, args in calls:
            selector, inputs, _ = self.functions[(contract.address, name)]
            data = "0x" + (selector + abi_encode(inputs, list(args))).hex()
            requests.append(("eth_call", [{"to": contract.address, "data": data}, "latest"]))
        view = {}
        for (key, contract, name, _), raw in zip(calls, self.chain.rpc_batch(requests), strict=True):
            outputs = self.functions[(contract.address, name)][2]
            values = abi_decode(outputs, bytes.fromhex(raw[2:]))
            view[key] = _normal(values[0] if len(values) == 1 else values)
        return view


def _code(value: bytes) -> str:
    return value.rstrip(b"\0").decode()


def _normal(value: Any) -> Any:
    """web3's lists and tuples as tuples, addresses checksummed, so views compare with ==."""
    if isinstance(value, (list, tuple)):
        return tuple(_normal(v) for v in value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


# -- the test ---------------------------------------------------------------------------------------


# Room for the run (a step takes ~25 ms) and for shrinking a failure (Hypothesis stops after 300 s).
@pytest.mark.timeout(600 + EXAMPLES * STEPS // 5)
def test_registry_random_acts_keep_rules_and_match_model(chain: ChainClient, ip: IPKit, accounts):
    # The second bank is accredited by the admin before any example (the first through the kit).
    ip.bank, ip.bank2  # noqa: B018 - granting PLEDGEE_ROLE to accounts [4] and [5]
    RegistryMachine.chain, RegistryMachine.kit, RegistryMachine.accounts = chain, ip, list(accounts)
    STATS.clear()
    started = time.monotonic()
    run_state_machine_as_test(RegistryMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
    ))
    elapsed = time.monotonic() - started
    refused = sum(v for k, v in STATS.items() if k.startswith("refused"))
    print(f"\nstateful registry: {STATS['checks']} checked steps, {STATS['acts']} acts ({refused} refused, "
          f"{STATS['time travel']} time travels) in {elapsed:.1f}s")
    for key, value in sorted(STATS.items()):
        print(f"  {key:<60} {value:>6}")
    assert STATS["checks"] >= EXAMPLES * 10, "the machine barely ran"
