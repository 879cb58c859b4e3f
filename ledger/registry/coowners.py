"""Co-owned IP assets with shares (CoOwnership; Patent Law art. 14).

A co-owned asset's ERC-721 token is held by the asset's own vault (a small contract that obeys only
the CoOwnership contract): ``ownerOf`` is the vault, and :meth:`CoOwnerService.co_owners_of` names the
co-owners, their shares in basis points (summing to 10,000) and their agreement. Toward the licence
registry, the markets and the pledge registry the vault is the owner; it acts only through the
CoOwnership contract, under these rules:

- any co-owner alone offers or lists a **non-exclusive** licence (unless the agreement says
  ``unanimous-licensing``); its fees reach the vault and are split by share;
- an exclusive or sole licence, a sale (listing or accepted offer), a transfer, a pledge and a change
  of the co-owners need **every** co-owner: the one who acts, and each other's consent to that exact
  act (its *act id*, :meth:`CoOwnerService.act_id`); a co-owner transfers its own share with the
  others' consent (or alone under ``free-share-transfer``).

A consent is one relayable transaction (:meth:`CoOwnerService.consent`): co-owners sign it (EIP-712,
through the forwarder) and need not pay gas; it is withdrawable until used, and used once. The
act id binds the act's kind, the asset, the co-owners' epoch (a change of co-owners voids earlier
consents) and the act's exact parameters, encoded as :data:`PARAM_TYPES` says.

Proceeds: :meth:`CoOwnerService.distribute` (anyone) credits the vault's balance of a token to the
co-owners by share, the rounding remainder to the first co-owner listed; each withdraws its credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount

from ledger.chain.abi import Act
from ledger.chain.client import ChainClient, Contract
from ledger.encoding import (
    AssetKind,
    CoOwnerAct,
    encode_currency,
    parse_address,
    parse_amount,
    parse_date,
    parse_hash32,
)
from ledger.errors import ChainError, LedgerError, NotFoundError, ValidationError
from ledger.registry.assets import NewAsset, Registered, act, file_registration
from ledger.registry.disputes import refuse_sale_if_disputed
from ledger.registry.licenses import LicenseTerms
from ledger.registry.metadata import MetadataStore, StoredMetadata

BPS = 10_000
MAX_CO_OWNERS = 16
FLAGS = {"free-share-transfer": 1, "unanimous-licensing": 2}
"""The agreement's flags (``ICoOwnership.FLAG_*``) by the labels users type."""

_TERMS = "(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool)"
PARAM_TYPES: dict[CoOwnerAct, list[str]] = {
    CoOwnerAct.LICENSE: [_TERMS],
    CoOwnerAct.LICENSE_LISTING: [_TERMS, "address", "uint256", "uint256", "uint40"],
    CoOwnerAct.SALE: ["address", "uint256", "uint40", "address"],
    CoOwnerAct.OFFER_ACCEPTANCE: ["uint256"],
    CoOwnerAct.PLEDGE: ["address", "uint256", "bytes3", "uint40", "bytes32"],
    CoOwnerAct.TRANSFER: ["address"],
    CoOwnerAct.CO_OWNERS_CHANGE: ["(address,uint16)[]", "(bytes32,uint8)"],
    CoOwnerAct.SHARE_TRANSFER: ["address", "address", "uint16"],
}
"""The ABI types of each consented act's parameters: its act id hashes ``abi.encode`` of them."""


def parse_share(text: str) -> tuple[str, int]:
    """``ADDRESS:BPS`` (``0xabc...:5000``; also ``ADDRESS:50%``) as (checksummed address, basis points)."""
    address, sep, amount = text.strip().rpartition(":")
    if not sep:
        raise ValidationError(f"a co-owner is ADDRESS:BPS (basis points, 10,000 in all), got {text!r}")
    amount = amount.strip()
    try:
        bps = round(float(amount[:-1]) * 100) if amount.endswith("%") else int(amount)
    except ValueError:
        raise ValidationError(f"a co-owner's share is basis points (1 to 10000) or a percentage, got {amount!r}") \
            from None
    if not 0 < bps <= BPS:
        raise ValidationError(f"a co-owner's share is 1 to 10000 basis points, got {bps}")
    return parse_address(address, "the co-owner"), bps


def check_shares(shares: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """The co-owners as the contract takes them, after its rules (ValidationError names the broken one)."""
    if not 0 < len(shares) <= MAX_CO_OWNERS:
        raise ValidationError(f"an asset has 1 to {MAX_CO_OWNERS} co-owners, got {len(shares)}")
    seen: set[str] = set()
    out: list[tuple[str, int]] = []
    for address, bps in shares:
        address = parse_address(address, "the co-owner")
        if address in seen:
            raise ValidationError(f"{address} is named twice as a co-owner")
        if not 0 < int(bps) <= BPS:
            raise ValidationError(f"{address}'s share must be 1 to 10000 basis points, got {bps}")
        seen.add(address)
        out.append((address, int(bps)))
    total = sum(bps for _, bps in out)
    if total != BPS:
        raise ValidationError(f"the co-owners' shares sum to {total} basis points, not 10000")
    return out


def parse_flags(labels: Sequence[str] | int | None) -> int:
    if labels is None:
        return 0
    if isinstance(labels, int):
        if labels & ~3:
            raise ValidationError(f"unknown agreement flags {labels}: use {', '.join(FLAGS)}")
        return labels
    flags = 0
    for label in labels:
        key = label.strip().lower().replace("_", "-")
        if key not in FLAGS:
            raise ValidationError(f"unknown agreement rule {label!r}: use one of {', '.join(FLAGS)}")
        flags |= FLAGS[key]
    return flags


@dataclass(frozen=True)
class CoOwners:
    """``ICoOwnership.coOwnersOf``: who co-owns an asset, their shares, agreement, vault and epoch."""

    asset_id: int
    shares: list[tuple[str, int]]
    agreement_hash: str
    flags: int
    vault: str
    epoch: int
    held: bool
    """Whether the vault still holds the asset (not sold, transferred or enforced)."""

    def is_co_owner(self, address: str) -> bool:
        return any(a.lower() == address.lower() for a, _ in self.shares)

    def as_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id, "vault": self.vault, "epoch": self.epoch, "held": self.held,
            "co_owners": [{"address": a, "bps": bps, "percent": bps / 100} for a, bps in self.shares],
            "agreement_hash": self.agreement_hash,
            "agreement": [label for label, bit in FLAGS.items() if self.flags & bit],
        }


@dataclass(frozen=True)
class Consents:
    """Who among the co-owners consented to act ``act_id`` (unused), and who has not yet."""

    asset_id: int
    act_id: str
    given: list[str]
    missing: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "act_id": self.act_id, "given": self.given, "missing": self.missing}


_FUNCTIONS = {
    CoOwnerAct.LICENSE: "offerLicense", CoOwnerAct.LICENSE_LISTING: "listLicense", CoOwnerAct.SALE: "listAsset",
    CoOwnerAct.OFFER_ACCEPTANCE: "acceptOffer", CoOwnerAct.PLEDGE: "proposePledge", CoOwnerAct.TRANSFER: "transfer",
    CoOwnerAct.CO_OWNERS_CHANGE: "changeCoOwners", CoOwnerAct.SHARE_TRANSFER: "transferShare",
}
"""The CoOwnership function that performs each consented act."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class ActCall:
    """An act of a co-owned asset: its id, the co-owners who consented and those who not yet, and the
    CoOwnership ``function`` with its ``args`` (JSON values) that performs it."""

    asset_id: int
    kind: CoOwnerAct
    act_id: str
    given: list[str]
    missing: list[str]
    function: str
    args: list[Any]

    def as_json(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "act": self.kind.label, "act_id": self.act_id, "given": self.given,
                "missing": self.missing, "contract": "CoOwnership", "function": self.function, "args": self.args}


class CoOwnerService:
    """Register co-owned assets, read their co-owners, give and withdraw consents, and perform the
    acts of a co-owned asset through the CoOwnership contract."""

    def __init__(self, client: ChainClient, coownership: Contract, registry: Contract, metadata: MetadataStore, *,
                 licenses: Contract, pledges: Contract, market: Contract, license_market: Contract) -> None:
        self.client = client
        self.contract = coownership
        self.registry = registry
        self.metadata = metadata
        self.licenses = licenses
        self.pledges = pledges
        self.market = market
        self.license_market = license_market

    # -- registration ------------------------------------------------------------------------------

    def register(
        self,
        content_hash: bytes | str,
        kind: AssetKind | str,
        ref: str | None,
        metadata: dict[str, Any] | StoredMetadata,
        shares: Sequence[tuple[str, int]],
        *,
        agreement_hash: bytes | str | None = None,
        flags: Sequence[str] | int | None = None,
        uri: str | None = None,
        sender: LocalAccount | None = None,
    ) -> Registered:
        """Register an asset held for ``shares`` (ADDRESS, basis points) by a fresh vault."""
        owners = check_shares(shares)  # before the metadata is stored: nothing is written for bad shares
        agreement = (parse_hash32(agreement_hash, "the agreement hash"), parse_flags(flags))
        new = NewAsset.prepare(self.metadata, content_hash, kind, ref, metadata, uri)
        fn = self.contract.functions.register(new.content, int(new.kind), new.ref, new.stored.hash_bytes, new.uri,
                                              owners, agreement)
        return new.registered(self.client, self.registry, self.client.transact(fn, sender=sender))

    def register_file(
        self,
        path: Path,
        kind: AssetKind | str,
        ref: str | None,
        title: str,
        shares: Sequence[tuple[str, int]],
        *,
        description: str | None = None,
        extra: dict[str, Any] | None = None,
        uri: str | None = None,
        agreement_hash: bytes | str | None = None,
        flags: Sequence[str] | int | None = None,
        sender: LocalAccount | None = None,
    ) -> Registered:
        """Register the file at ``path`` co-owned by ``shares`` (as :meth:`AssetService.register_file`)."""
        digest, kind, ref_text, document = file_registration(path, kind, ref, title, description=description,
                                                             extra=extra)
        return self.register(digest, kind, ref_text, document, shares, agreement_hash=agreement_hash, flags=flags,
                             uri=uri, sender=sender)

    def co_own(self, asset_id: int, shares: Sequence[tuple[str, int]], *, agreement_hash: bytes | str | None = None,
               flags: Sequence[str] | int | None = None, sender: LocalAccount | None = None) -> Act:
        """Put the sender's asset in co-ownership (approving the CoOwnership contract for it first)."""
        owners = check_shares(shares)
        agreement = (parse_hash32(agreement_hash, "the agreement hash"), parse_flags(flags))
        self.client.transact(self.registry.functions.approve(self.contract.address, asset_id), sender=sender)
        return self._send(self.contract.functions.coOwn(asset_id, owners, agreement), sender, asset_id=asset_id)

    # -- reads -------------------------------------------------------------------------------------

    def is_co_owned(self, asset_id: int) -> bool:
        return bool(self.client.call(self.contract.functions.isCoOwned(asset_id)))

    def co_owners_of(self, asset_id: int) -> CoOwners:
        """The co-owners of ``asset_id``; NotFoundError if there is no such asset (``ERC721NonexistentToken``:
        read first, so an unknown asset is not reported as merely "not co-owned") or it is not co-owned."""
        owner = self.client.call(self.registry.functions.ownerOf(asset_id))
        shares, agreement, vault, epoch = self.client.call(self.contract.functions.coOwnersOf(asset_id))
        return CoOwners(asset_id, [(str(a), int(b)) for a, b in shares], "0x" + bytes(agreement[0]).hex(),
                        int(agreement[1]), str(vault), int(epoch), str(owner).lower() == str(vault).lower())

    def maybe_co_owners_of(self, asset_id: int) -> CoOwners | None:
        """The co-owners, or None if the asset is not co-owned (or there is no CoOwnership contract)."""
        try:
            return self.co_owners_of(asset_id)
        except NotFoundError:
            return None

    def held_json(self, asset_id: int) -> dict[str, Any] | None:
        """:meth:`CoOwners.as_json` while the asset's vault holds it (pages show it), else None."""
        co = self.maybe_co_owners_of(asset_id)
        return co.as_json() if co is not None and co.held else None

    def act_id(self, asset_id: int, kind: CoOwnerAct | str, *params: Any) -> str:
        """The id of act ``kind`` with ``params`` (the contract's values, :data:`PARAM_TYPES`) now."""
        kind = kind if isinstance(kind, CoOwnerAct) else CoOwnerAct.parse(kind)
        if kind not in PARAM_TYPES:
            raise ValidationError(f"a co-owner does {kind.label} alone: it takes no consent")
        encoded = abi_encode(PARAM_TYPES[kind], list(params))
        return "0x" + bytes(self.client.call(self.contract.functions.actId(asset_id, int(kind), encoded))).hex()

    def consents(self, asset_id: int, act_id: str) -> Consents:
        """Which co-owners consented (unused) to ``act_id``."""
        co = self.co_owners_of(asset_id)
        key = parse_hash32(act_id, "the act id")
        given: list[str] = []
        missing: list[str] = []
        for address, _ in co.shares:
            ok = self.client.call(self.contract.functions.hasConsented(asset_id, key, address))
            (given if ok else missing).append(address)
        return Consents(asset_id, "0x" + key.hex(), given, missing)

    def credit_of(self, token: str, account: str) -> int:
        return int(self.client.call(self.contract.functions.creditOf(parse_address(token, "the token"),
                                                                     parse_address(account, "the account"))))

    def proceeds_tokens(self, asset_id: int) -> list[str]:
        """The ERC-20s the asset was listed or sold for (``proceedsTokensOf``): those :meth:`distribute` splits."""
        return [str(t) for t in self.client.call(self.contract.functions.proceedsTokensOf(asset_id))]

    # -- the acts' parameters ----------------------------------------------------------------------

    @staticmethod
    def pledge_params(pledgee: str, principal: int | str, currency: str, maturity: int | str,
                      contract_hash: bytes | str | None = None) -> tuple[Any, ...]:
        amount = parse_amount(principal, "the principal")
        if amount == 0:
            raise ValidationError("a pledge must secure a principal greater than zero")
        return (parse_address(pledgee, "the pledgee"), amount, encode_currency(currency),
                parse_date(maturity, "the maturity", allow_zero=False),
                parse_hash32(contract_hash, "the contract hash"))

    @staticmethod
    def sale_params(token: str, price: int | str, expiry: int | str, buyer: str | None = None) -> tuple[Any, ...]:
        return (parse_address(token, "the token"), parse_amount(price, "the price"),
                parse_date(expiry, "the expiry", allow_zero=False),
                parse_address(buyer, "the buyer") if buyer else "0x" + "00" * 20)

    def act_params(self, kind: CoOwnerAct | str, spec: dict[str, Any]) -> tuple[Any, ...]:
        """The contract's parameters of act ``kind`` described by ``spec`` (plain values: ``to``,
        ``principal``, ``currency``, ``maturity``, ``contract_hash``, ``license_kind``, ``start``, ``end``,
        ``territory``, ``field``, ``fee``, ``terms_hash``, ``token``, ``price`` in token units, ``expiry``,
        ``buyer``, ``supply``, ``offer_id``, ``giver``, ``bps``, ``co_owners``, ``agreement``,
        ``agreement_hash``). ValidationError names what is missing or wrong."""
        kind = kind if isinstance(kind, CoOwnerAct) else CoOwnerAct.parse(kind)

        def need(name: str) -> Any:
            value = spec.get(name)
            if value is None or value == [] or value == "":
                raise ValidationError(f"the act {kind.label} needs {name.replace('_', ' ')}")
            return value

        def terms(licensee: bool) -> tuple[Any, ...]:
            to = spec.get("to")
            if licensee and not to:
                raise ValidationError(f"the act {kind.label} needs to (the licensee)")
            return LicenseTerms(
                licensee=to or "0x" + "00" * 20, kind=spec.get("license_kind") or "non-exclusive",
                start=need("start"), end=need("end"), territory=spec.get("territory") or "",
                field_of_use=spec.get("field") or "", terms_hash=spec.get("terms_hash"),
                fee=spec.get("fee") or 0, sublicensable=bool(spec.get("sublicensable")),
            ).encode()

        if kind == CoOwnerAct.TRANSFER:
            return (parse_address(need("to"), "the recipient"),)
        if kind == CoOwnerAct.PLEDGE:
            return self.pledge_params(need("to"), need("principal"), spec.get("currency") or "CNY", need("maturity"),
                                      spec.get("contract_hash"))
        if kind == CoOwnerAct.LICENSE:
            return (terms(True),)
        if kind == CoOwnerAct.LICENSE_LISTING:
            return (terms(False), parse_address(need("token"), "the token"), parse_amount(need("price"), "the price"),
                    int(spec.get("supply") or 1), parse_date(need("expiry"), "the expiry", allow_zero=False))
        if kind == CoOwnerAct.SALE:
            return self.sale_params(need("token"), need("price"), need("expiry"), spec.get("buyer"))
        if kind == CoOwnerAct.OFFER_ACCEPTANCE:
            return (int(need("offer_id")),)
        if kind == CoOwnerAct.SHARE_TRANSFER:
            return (parse_address(need("giver"), "the co-owner giving the share"),
                    parse_address(need("to"), "the recipient"), int(need("bps")))
        if kind == CoOwnerAct.CO_OWNERS_CHANGE:
            agreement = (parse_hash32(spec.get("agreement_hash"), "the agreement hash"),
                         parse_flags(spec.get("agreement")))
            return (check_shares(need("co_owners")), agreement)
        raise ValidationError(f"a co-owner does {kind.label} alone: it takes no consent")

    def act_call(self, asset_id: int, kind: CoOwnerAct | str, spec: dict[str, Any]) -> ActCall:
        """Act ``kind`` on ``asset_id`` as ``spec`` describes it: its id, who consented, and the
        CoOwnership function and arguments that perform it (for POST /relay/prepare)."""
        kind = kind if isinstance(kind, CoOwnerAct) else CoOwnerAct.parse(kind)
        params = self.act_params(kind, spec)
        key = self.act_id(asset_id, kind, *params)
        consents = self.consents(asset_id, key)
        args: tuple[Any, ...] = params[1:] if kind == CoOwnerAct.SHARE_TRANSFER else params
        return ActCall(asset_id, kind, key, consents.given, consents.missing, _FUNCTIONS[kind],
                       [asset_id, *(_jsonable(a) for a in args)])

    # -- consents ----------------------------------------------------------------------------------

    def consent(self, asset_id: int, act_id: str, *, sender: LocalAccount | None = None) -> Act:
        """Consent to act ``act_id`` of the co-owned asset (a co-owner; relayable)."""
        fn = self.contract.functions.consent(asset_id, parse_hash32(act_id, "the act id"))
        return self._send(fn, sender, asset_id=asset_id)

    def withdraw_consent(self, asset_id: int, act_id: str, *, sender: LocalAccount | None = None) -> Act:
        """Withdraw the sender's unused consent to ``act_id``."""
        fn = self.contract.functions.withdrawConsent(asset_id, parse_hash32(act_id, "the act id"))
        return self._send(fn, sender, asset_id=asset_id)

    # -- acts --------------------------------------------------------------------------------------

    def offer_license(self, asset_id: int, terms: LicenseTerms, *, sender: LocalAccount | None = None) -> Act:
        fn = self.contract.functions.offerLicense(asset_id, terms.encode())
        return self._send(fn, sender, "licenseId", source=self.licenses, asset_id=asset_id)

    def list_license(self, asset_id: int, terms: LicenseTerms, token: str, price: int | str, supply: int,
                     expiry: int | str, *, sender: LocalAccount | None = None) -> Act:
        fn = self.contract.functions.listLicense(
            asset_id, terms.encode(), parse_address(token, "the token"), parse_amount(price, "the price"), supply,
            parse_date(expiry, "the expiry", allow_zero=False))
        return self._send(fn, sender, "listingId", source=self.license_market, asset_id=asset_id)

    def list_asset(self, asset_id: int, token: str, price: int | str, expiry: int | str, buyer: str | None = None,
                   *, sender: LocalAccount | None = None) -> Act:
        refuse_sale_if_disputed(self.client, self.registry, asset_id)  # no buyer could complete it
        fn = self.contract.functions.listAsset(asset_id, *self.sale_params(token, price, expiry, buyer))
        return self._send(fn, sender, "listingId", source=self.market, asset_id=asset_id)

    def accept_offer(self, asset_id: int, offer_id: int, *, sender: LocalAccount | None = None) -> Act:
        return self._send(self.contract.functions.acceptOffer(asset_id, offer_id), sender, asset_id=asset_id)

    def propose_pledge(self, asset_id: int, pledgee: str, principal: int | str, currency: str, maturity: int | str,
                       contract_hash: bytes | str | None = None, *, sender: LocalAccount | None = None) -> Act:
        params = self.pledge_params(pledgee, principal, currency, maturity, contract_hash)
        return self._send(self.contract.functions.proposePledge(asset_id, *params), sender, "pledgeId",
                          source=self.pledges, asset_id=asset_id)

    def cancel_pledge(self, asset_id: int, pledge_id: int, *, sender: LocalAccount | None = None) -> Act:
        return self._send(self.contract.functions.cancelPledge(asset_id, pledge_id), sender, asset_id=asset_id)

    def transfer(self, asset_id: int, to: str, *, sender: LocalAccount | None = None) -> Act:
        fn = self.contract.functions.transfer(asset_id, parse_address(to, "the recipient"))
        return self._send(fn, sender, asset_id=asset_id)

    def change_co_owners(self, asset_id: int, shares: Sequence[tuple[str, int]], *,
                         agreement_hash: bytes | str | None = None, flags: Sequence[str] | int | None = None,
                         sender: LocalAccount | None = None) -> Act:
        owners = check_shares(shares)
        agreement = (parse_hash32(agreement_hash, "the agreement hash"), parse_flags(flags))
        fn = self.contract.functions.changeCoOwners(asset_id, owners, agreement)
        return self._send(fn, sender, asset_id=asset_id)

    def transfer_share(self, asset_id: int, to: str, bps: int, *, sender: LocalAccount | None = None) -> Act:
        if not 0 < bps <= BPS:
            raise ValidationError(f"a share transfer is 1 to 10000 basis points, got {bps}")
        fn = self.contract.functions.transferShare(asset_id, parse_address(to, "the recipient"), bps)
        return self._send(fn, sender, asset_id=asset_id)

    def distribute(self, asset_id: int, token: str, *, sender: LocalAccount | None = None) -> Act:
        fn = self.contract.functions.distribute(asset_id, parse_address(token, "the token"))
        return self._send(fn, sender, asset_id=asset_id)

    def withdraw(self, token: str, *, sender: LocalAccount | None = None) -> Act:
        return self._send(self.contract.functions.withdraw(parse_address(token, "the token")), sender)

    def perform(self, fn: Any, kind: CoOwnerAct, *, sender: LocalAccount | None = None,
                asset_id: int | None = None) -> Act:
        """Send a prepared CoOwnership act ``fn`` of ``kind`` (on ``asset_id``); the ids of what it created
        come back. A sale of an asset whose ownership is in dispute is refused first (no buyer could complete
        it)."""
        if kind == CoOwnerAct.SALE and asset_id is not None:
            refuse_sale_if_disputed(self.client, self.registry, asset_id)
        source = {CoOwnerAct.LICENSE: (self.licenses, "licenseId"), CoOwnerAct.PLEDGE: (self.pledges, "pledgeId"),
                  CoOwnerAct.SALE: (self.market, "listingId"),
                  CoOwnerAct.LICENSE_LISTING: (self.license_market, "listingId")}.get(kind)
        if source is None:
            return self._send(fn, sender, asset_id=asset_id)
        return self._send(fn, sender, source[1], source=source[0], asset_id=asset_id)

    def _require_asset(self, asset_id: int) -> None:
        """NotFoundError ``asset N does not exist`` (``ERC721NonexistentToken``) unless the registry has it."""
        self.client.call(self.registry.functions.ownerOf(asset_id))

    def _send(self, fn: Any, sender: LocalAccount | None, *ids: str, source: Contract | None = None,
              asset_id: int | None = None) -> Act:
        """Send ``fn``; the act's ids are the asset's and those ``source``'s events name (the licence,
        listing or pledge the vault's call created there). When the contract refuses an act on ``asset_id``,
        an asset that does not exist is said so (the contract only knows it is "not co-owned", or that a
        consent is missing), not the contract's reason."""
        try:
            receipt = self.client.transact(fn, sender=sender)
        except LedgerError as refused:
            if asset_id is not None and not isinstance(refused, ChainError):
                self._require_asset(asset_id)
            raise
        done = act(self.client, self.contract, receipt, "assetId")
        if source is not None:
            done.ids.update(act(self.client, source, receipt, *ids).ids)
        return done
