"""IP assets (ERC-721 in the IPRegistry): register, read, transfer, and the registrar's acts.

Method names mirror the contract's functions (``register``, ``setVerified`` → ``set_verified``,
``assetOf`` → ``asset_of`` ...). Dates are unix seconds (0: not known); kinds and legal statuses
are :class:`~ledger.encoding.AssetKind` and :class:`~ledger.encoding.LegalStatus`. The official
number, content hash, metadata hash and URI live only in the ``AssetRegistered`` event, so
:meth:`AssetService.show` reads the asset and that event in one JSON-RPC round trip.

The IPRegistry is also the single role authority of the suite: :meth:`AssetService.grant_role`
and :meth:`AssetService.revoke_role` give and take ``REGISTRAR_ROLE`` and ``PLEDGEE_ROLE``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.abi import (
    Act,
    LogDecoder,
    LogEvent,
    call_request,
    decode_output,
    function_abi,
    logs_request,
    raw_results,
    uint_topic,
)
from ledger.chain.client import ChainClient, Contract, Receipt
from ledger.encoding import (
    ROLES,
    ZERO32,
    AssetKind,
    LegalStatus,
    decode_ascii32,
    encode_ref,
    iso,
    parse_address,
    parse_date,
    parse_hash32,
    parse_role,
    role_name,
)
from ledger.errors import NotFoundError, ValidationError
from ledger.registry.metadata import MetadataStore, StoredMetadata, build_document, parse_hash
from ledger.timestamps.proofs import file_digest


@dataclass(frozen=True)
class Asset:
    """``IIPRegistry.Asset``: the asset now."""

    asset_id: int
    owner: str
    kind: AssetKind
    status: LegalStatus
    verified: bool
    expires_at: int
    fees_paid_until: int
    frozen_until: int
    holder_disputed: bool = False
    """The registrar found the registrant is not the official holder (see :meth:`AssetService.unbind_ref`)."""

    @classmethod
    def from_tuple(cls, asset_id: int, raw: Any) -> Asset:
        owner, kind, status, verified, expires_at, fees_paid_until, frozen_until, holder_disputed = raw
        return cls(asset_id, parse_address(owner), AssetKind(kind), LegalStatus(status), bool(verified),
                   int(expires_at), int(fees_paid_until), int(frozen_until), bool(holder_disputed))

    def as_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id, "owner": self.owner, "kind": self.kind.label, "status": self.status.label,
            "verified": self.verified, "expires_at": self.expires_at, "expires_on": iso(self.expires_at),
            "fees_paid_until": self.fees_paid_until, "fees_paid_until_on": iso(self.fees_paid_until),
            "frozen_until": self.frozen_until, "holder_disputed": self.holder_disputed,
        }


@dataclass(frozen=True)
class Freeze:
    """``IIPRegistry.Freeze``: the latest court freeze (binding while ``until`` is ahead and not lifted)."""

    court: str
    case_number: str
    reason_hash: str
    frozen_at: int
    until: int
    lifted_at: int

    @classmethod
    def from_tuple(cls, raw: Any) -> Freeze | None:
        court, case_number, reason_hash, frozen_at, until, lifted_at = raw
        if not frozen_at:
            return None  # never frozen
        return cls(str(court), str(case_number), "0x" + bytes(reason_hash).hex(), int(frozen_at), int(until),
                   int(lifted_at))

    def as_json(self) -> dict[str, Any]:
        return {
            "court": self.court, "case_number": self.case_number, "reason_hash": self.reason_hash,
            "frozen_at": self.frozen_at, "until": self.until, "until_on": iso(self.until),
            "lifted_at": self.lifted_at,
        }


@dataclass(frozen=True)
class Registration:
    """What ``AssetRegistered`` published: the official number, hashes and URI, and where."""

    asset_id: int
    registrant: str
    kind: AssetKind
    ref: str
    content_hash: str
    metadata_hash: str
    uri: str
    tx_hash: str
    block_number: int
    block_time: int

    @classmethod
    def from_event(cls, event: LogEvent) -> Registration:
        args = event.args
        return cls(
            asset_id=int(args["assetId"]), registrant=str(args["owner"]), kind=AssetKind(int(args["kind"])),
            ref=decode_ascii32(args["ref"]), content_hash=str(args["contentHash"]),
            metadata_hash=str(args["metadataHash"]), uri=str(args["uri"]), tx_hash=event.tx_hash,
            block_number=event.block_number, block_time=event.block_time,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref or None, "content_hash": self.content_hash, "metadata_hash": self.metadata_hash,
            "uri": self.uri, "registrant": self.registrant, "tx_hash": self.tx_hash,
            "block_number": self.block_number, "block_time": self.block_time, "registered_on": iso(self.block_time),
        }


@dataclass(frozen=True)
class AssetView:
    """An asset with its freeze, its registration and (when stored here) its metadata document."""

    asset: Asset
    frozen: bool
    freeze: Freeze | None
    registration: Registration | None
    metadata: dict[str, Any] | None

    @property
    def title(self) -> str | None:
        title = (self.metadata or {}).get("title")
        return title if isinstance(title, str) else None

    def as_json(self) -> dict[str, Any]:
        """The view; ``name`` and ``description`` make it ERC-721 metadata too (``tokenURI`` is the
        admin's base URI, e.g. the API's ``/assets/``, followed by the id)."""
        ref = self.registration.ref if self.registration else ""
        described = (self.metadata or {}).get("description")
        return {
            **self.asset.as_json(), "frozen": self.frozen,
            "freeze": self.freeze.as_json() if self.freeze else None,
            "registration": self.registration.as_json() if self.registration else None,
            "title": self.title, "metadata": self.metadata,
            "name": self.title or f"IP asset {self.asset.asset_id}",
            "description": described if isinstance(described, str) else
            f"{self.asset.kind.label.replace('-', ' ')}{' ' + ref if ref else ''}, {self.asset.status.label}",
        }


@dataclass(frozen=True)
class Registered(Act):
    """A registration: the new asset id, and the metadata document's hash and URI."""

    asset_id: int = 0
    metadata_hash: str = ""
    uri: str = ""
    content_hash: str = ""

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "metadata_hash": self.metadata_hash, "uri": self.uri,
                "content_hash": self.content_hash}


Progress = Callable[[int], None]


def act(client: ChainClient, contract: Contract, receipt: Receipt, *id_args: str, event: str | None = None) -> Act:
    """An :class:`Act` from a receipt, with the named id arguments of the contract's events (of the
    ``event`` only, when given: an act may emit an earlier id first, as a relisting cancels the old
    listing before it lists)."""
    ids: dict[str, int] = {}
    for event_ in client.events(contract, receipt):
        if event is not None and event_.name != event:
            continue
        for name in id_args:
            if name in event_.args and name not in ids:
                ids[name] = int(event_.args[name])
    return Act(receipt.tx_hash, receipt.block_number, ids)


MAX_URI = 2048
"""The longest metadata URI a registration takes."""


@dataclass(frozen=True)
class NewAsset:
    """What every registration sends besides its owners (``IPRegistry.register``, ``CoOwnership.register``),
    checked, its metadata document stored: one place for the metadata steps both take."""

    content: bytes
    kind: AssetKind
    ref: bytes
    stored: StoredMetadata
    uri: str

    @classmethod
    def prepare(cls, store: MetadataStore, content_hash: bytes | str, kind: AssetKind | str, ref: str | None,
                metadata: Mapping[str, Any] | StoredMetadata, uri: str | None = None) -> NewAsset:
        """Check the content hash, kind, official number and URI; store the metadata document (unless it is
        already a :class:`StoredMetadata`): its URI is the default ``uri``."""
        content = parse_hash32(content_hash, "the content hash", allow_zero=False)
        kind = kind if isinstance(kind, AssetKind) else AssetKind.parse(kind)
        ref_bytes = encode_ref(ref)
        if uri is not None and len(uri) > MAX_URI:
            raise ValidationError(f"the metadata URI is too long: at most {MAX_URI} characters, got {len(uri)}")
        stored = metadata if isinstance(metadata, StoredMetadata) else store.put(metadata)
        uri = stored.uri if uri is None else uri
        if len(uri) > MAX_URI:
            raise ValidationError(f"the metadata URI is too long: at most {MAX_URI} characters, got {len(uri)}")
        return cls(content, kind, ref_bytes, stored, uri)

    def registered(self, client: ChainClient, registry: Contract, receipt: Receipt) -> Registered:
        """The :class:`Registered` of this registration's receipt (its ``AssetRegistered`` names the id)."""
        done = act(client, registry, receipt, "assetId")
        return Registered(done.tx_hash, done.block_number, done.ids, asset_id=done.ids["assetId"],
                          metadata_hash=self.stored.hash, uri=self.uri, content_hash="0x" + self.content.hex())


def file_registration(path: Path, kind: AssetKind | str, ref: str | None, title: str, *,
                      description: str | None = None, extra: Mapping[str, Any] | None = None,
                      ) -> tuple[bytes, AssetKind, str | None, dict[str, Any]]:
    """A file's registration: its SHA-256 (streamed), kind, official number as stored, and metadata document."""
    kind = kind if isinstance(kind, AssetKind) else AssetKind.parse(kind)
    ref_text = decode_ascii32(encode_ref(ref)) or None
    document = build_document(title, kind=kind.label, ref=ref_text, description=description, extra=extra)
    return file_digest(path), kind, ref_text, document


class AssetService:
    """Register, read and move IP assets; the registrar's and the admin's acts on them."""

    def __init__(self, client: ChainClient, registry: Contract, metadata: MetadataStore, from_block: int = 0) -> None:
        self.client = client
        self.registry = registry
        self.metadata = metadata
        self.from_block = from_block
        """The registry's deploy block: event reads start there."""
        self._decoder = LogDecoder({registry.address: ("IPRegistry", registry.abi)})
        self._registered_topic = self._decoder.topic("AssetRegistered")

    # -- owners ------------------------------------------------------------------------------------

    def register(
        self,
        content_hash: bytes | str,
        kind: AssetKind | str,
        ref: str | None,
        metadata: Mapping[str, Any] | StoredMetadata,
        *,
        uri: str | None = None,
        sender: LocalAccount | None = None,
    ) -> Registered:
        """Register an asset minted to the sender; the metadata document is stored here first."""
        new = NewAsset.prepare(self.metadata, content_hash, kind, ref, metadata, uri)
        fn = self.registry.functions.register(new.content, int(new.kind), new.ref, new.stored.hash_bytes, new.uri)
        return new.registered(self.client, self.registry, self.client.transact(fn, sender=sender))

    def register_file(
        self,
        path: Path,
        kind: AssetKind | str,
        ref: str | None,
        title: str,
        *,
        description: str | None = None,
        extra: Mapping[str, Any] | None = None,
        uri: str | None = None,
        sender: LocalAccount | None = None,
    ) -> Registered:
        """Register the file at ``path`` (its SHA-256, streamed, is the content hash) with a title."""
        digest, kind, ref_text, document = file_registration(path, kind, ref, title, description=description,
                                                             extra=extra)
        return self.register(digest, kind, ref_text, document, uri=uri, sender=sender)

    def transfer(self, asset_id: int, to: str, *, sender: LocalAccount | None = None) -> Act:
        """Move the sender's asset to ``to`` (``safeTransferFrom``), through the freeze/pledge guard."""
        signer = self.client.signer(sender)
        fn = self.registry.functions.safeTransferFrom(signer.address, parse_address(to, "the recipient"), asset_id)
        receipt = self.client.transact(fn, sender=signer)
        return Act(receipt.tx_hash, receipt.block_number, {"assetId": asset_id})

    # -- the registrar -----------------------------------------------------------------------------

    def _send(self, fn: Any, asset_id: int, sender: LocalAccount | None) -> Act:
        receipt = self.client.transact(fn, sender=sender)
        return Act(receipt.tx_hash, receipt.block_number, {"assetId": asset_id})

    def set_verified(self, asset_id: int, verified: bool = True, *, sender: LocalAccount | None = None) -> Act:
        """Mark the asset reconciled (or not) with the official record (registrar)."""
        return self._send(self.registry.functions.setVerified(asset_id, verified), asset_id, sender)

    def set_legal_status(
        self, asset_id: int, status: LegalStatus | str, *, sender: LocalAccount | None = None
    ) -> Act:
        """Set the legal status as in the official register (registrar)."""
        status = status if isinstance(status, LegalStatus) else LegalStatus.parse(status)
        return self._send(self.registry.functions.setLegalStatus(asset_id, int(status)), asset_id, sender)

    def set_dates(
        self, asset_id: int, expires_at: int, fees_paid_until: int, *, sender: LocalAccount | None = None
    ) -> Act:
        """Set the expiry date and the annual-fees-paid-until date, unix seconds, 0: not known (registrar)."""
        expires = parse_date(expires_at, "the expiry date")
        fees = parse_date(fees_paid_until, "the fees-paid-until date")
        return self._send(self.registry.functions.setDates(asset_id, expires, fees), asset_id, sender)

    def freeze(
        self, asset_id: int, court: str, case_number: str, reason_hash: bytes | str | None, until: int,
        *, sender: LocalAccount | None = None,
    ) -> Act:
        """Record a court freeze until ``until`` (registrar); it lapses by itself then."""
        if not court.strip() or not case_number.strip():
            raise ValidationError("a court order must name its court and case number")
        fn = self.registry.functions.freeze(
            asset_id, court.strip(), case_number.strip(), parse_hash32(reason_hash, "the reason hash"),
            parse_date(until, "the end of the freeze", allow_zero=False),
        )
        return self._send(fn, asset_id, sender)

    def renew_freeze(self, asset_id: int, until: int, *, sender: LocalAccount | None = None) -> Act:
        """Extend the current freeze to ``until`` (registrar)."""
        fn = self.registry.functions.renewFreeze(asset_id, parse_date(until, "the new end", allow_zero=False))
        return self._send(fn, asset_id, sender)

    def unfreeze(self, asset_id: int, reason_hash: bytes | str | None = None, *,
                 sender: LocalAccount | None = None) -> Act:
        """Lift the current freeze before its term (registrar), citing the lifting order's hash."""
        fn = self.registry.functions.unfreeze(asset_id, parse_hash32(reason_hash, "the reason hash"))
        return self._send(fn, asset_id, sender)

    def unbind_ref(self, ref: str, reason_hash: bytes | str | None = None, *,
                   sender: LocalAccount | None = None) -> Act:
        """Free a squatted official number (registrar): after checking the official register, unbind
        ``ref`` from the asset that claimed it, which is marked "not the official holder" (and
        unverified); the real holder can then register with it. The act's ids carry ``assetId``."""
        encoded = encode_ref(ref)
        if encoded == ZERO32:
            raise ValidationError("name the official number to unbind")
        fn = self.registry.functions.unbindRef(encoded, parse_hash32(reason_hash, "the reason hash"))
        return act(self.client, self.registry, self.client.transact(fn, sender=sender), "assetId")

    def unbind_content(self, content_hash: bytes | str, reason_hash: bytes | str | None = None, *,
                       sender: LocalAccount | None = None) -> Act:
        """Free a squatted content hash the same way (registrar)."""
        content = parse_hash32(content_hash, "the content hash")
        if content == ZERO32:
            raise ValidationError("name the content hash to unbind")
        fn = self.registry.functions.unbindContent(content, parse_hash32(reason_hash, "the reason hash"))
        return act(self.client, self.registry, self.client.transact(fn, sender=sender), "assetId")

    def set_holder_disputed(self, asset_id: int, disputed: bool = True, reason_hash: bytes | str | None = None, *,
                            sender: LocalAccount | None = None) -> Act:
        """Mark (or clear) the asset as registered by someone who is not the official holder (registrar)."""
        fn = self.registry.functions.setHolderDisputed(asset_id, disputed, parse_hash32(reason_hash, "the reason hash"))
        return self._send(fn, asset_id, sender)

    # -- the admin ---------------------------------------------------------------------------------

    def grant_role(self, role: str, account: str, *, sender: LocalAccount | None = None) -> Act:
        """Grant ``registrar`` or ``pledgee`` to ``account`` (admin)."""
        fn = self.registry.functions.grantRole(parse_role(role), parse_address(account))
        receipt = self.client.transact(fn, sender=sender)
        return Act(receipt.tx_hash, receipt.block_number)

    def revoke_role(self, role: str, account: str, *, sender: LocalAccount | None = None) -> Act:
        """Revoke ``registrar`` or ``pledgee`` from ``account`` (admin)."""
        fn = self.registry.functions.revokeRole(parse_role(role), parse_address(account))
        receipt = self.client.transact(fn, sender=sender)
        return Act(receipt.tx_hash, receipt.block_number)

    def has_role(self, role: str, account: str) -> bool:
        return bool(self.client.call(self.registry.functions.hasRole(parse_role(role), parse_address(account))))

    def roles_of(self, account: str) -> list[str]:
        """The roles ``account`` holds: ``admin``, ``registrar``, ``pledgee``."""
        address = parse_address(account)
        fns = [self.registry.functions.hasRole(role, address) for role in ROLES.values()]
        return [name for name, held in zip(ROLES, self.client.batch_call(fns), strict=True) if held]

    def role_holders(self) -> dict[str, list[str]]:
        """Who holds each role now, ``{"admin": [...], "registrar": [...], "pledgee": [...]}`` in the order
        they were first granted: AccessControl keeps no list, so the registry's ``RoleGranted`` events name
        the candidates and ``hasRole`` (one batch) confirms each."""
        topic = "0x" + keccak(text="RoleGranted(bytes32,address,address)").hex()
        candidates: list[tuple[str, str]] = []
        for event in self.client.logs(self.registry, [topic], self.from_block):
            pair = (role_name(event.args["role"]), parse_address(event.args["account"]))
            if pair[0] in ROLES and pair not in candidates:
                candidates.append(pair)
        held = self.client.batch_call(
            [self.registry.functions.hasRole(ROLES[name], address) for name, address in candidates]
        ) if candidates else []
        holders: dict[str, list[str]] = {name: [] for name in ROLES}
        for (name, address), holds in zip(candidates, held, strict=True):
            if holds:
                holders[name].append(address)
        return holders

    # -- reads -------------------------------------------------------------------------------------

    def asset_of(self, asset_id: int) -> Asset:
        return Asset.from_tuple(asset_id, self.client.call(self.registry.functions.assetOf(asset_id)))

    def asset_count(self) -> int:
        return int(self.client.call(self.registry.functions.assetCount()))

    def asset_id_of_ref(self, ref: str) -> int:
        """The asset registered with the official number ``ref``; NotFoundError if none."""
        encoded = encode_ref(ref)
        if encoded == ZERO32:
            raise ValidationError("an official number is needed")
        asset_id = int(self.client.call(self.registry.functions.assetIdOfRef(encoded)))
        if asset_id == 0:
            raise NotFoundError(f"no asset is registered with the official number {decode_ascii32(encoded)}")
        return asset_id

    def asset_id_of_content(self, content_hash: bytes | str) -> int:
        return int(self.client.call(self.registry.functions.assetIdOfContent(parse_hash32(content_hash))))

    def resolve(self, id_or_ref: str | int) -> int:
        """An asset id from ``"7"`` or an official number (``CN202010123456.7``)."""
        if isinstance(id_or_ref, int) or id_or_ref.strip().isdigit():
            asset_id = int(id_or_ref)
            if asset_id <= 0:
                raise ValidationError(f"asset ids start at 1, got {asset_id}")
            return asset_id
        return self.asset_id_of_ref(id_or_ref)

    def show(self, asset_id: int) -> AssetView:
        """The asset, its freeze, its registration event and its metadata document, in one round trip."""
        return self.views([asset_id])[0]

    def page(self, offset: int = 0, limit: int = 50) -> tuple[list[AssetView], int]:
        """Assets ``offset+1 .. offset+limit`` (oldest first) and how many there are."""
        count = self.asset_count()
        ids = list(range(offset + 1, min(count, offset + limit) + 1))
        return (self.views(ids) if ids else []), count

    def views(self, asset_ids: list[int]) -> list[AssetView]:
        """Several assets with their freezes and registrations, in one JSON-RPC round trip."""
        address = self.registry.address
        asset_fn, freeze_fn = function_abi(self.registry.abi, "assetOf"), function_abi(self.registry.abi, "freezeOf")
        frozen_fn = function_abi(self.registry.abi, "isFrozen")
        calls: list[tuple[str, list[Any]]] = []
        for asset_id in asset_ids:
            calls.append(call_request(address, self.registry.encode_abi("assetOf", [asset_id])))
            calls.append(call_request(address, self.registry.encode_abi("freezeOf", [asset_id])))
            calls.append(call_request(address, self.registry.encode_abi("isFrozen", [asset_id])))
        topics = [self._registered_topic, [uint_topic(i) for i in asset_ids]]
        calls.append(logs_request([address], topics, self.from_block))
        results = raw_results(self.client, calls)
        registrations: dict[int, Registration] = {}
        for log in results[-1]:
            event = self._decoder.decode(log)
            if event is not None and event.event == "AssetRegistered":
                registration = Registration.from_event(event)
                registrations[registration.asset_id] = registration
        untimed = {r.block_number for r in registrations.values() if r.block_time == 0}
        if untimed:  # a node that sends logs without blockTimestamp (Hardhat, Ganache): the headers say it
            headers = self.client.block_headers(sorted(untimed))
            registrations = {
                i: replace(r, block_time=headers[r.block_number].timestamp)
                if r.block_time == 0 and r.block_number in headers else r
                for i, r in registrations.items()
            }
        views = []
        for n, asset_id in enumerate(asset_ids):
            (raw_asset,) = decode_output(asset_fn, results[3 * n])
            (raw_freeze,) = decode_output(freeze_fn, results[3 * n + 1])
            (frozen,) = decode_output(frozen_fn, results[3 * n + 2])
            found = registrations.get(asset_id)
            document = self.metadata.find(parse_hash(found.metadata_hash)) if found else None
            views.append(AssetView(Asset.from_tuple(asset_id, raw_asset), bool(frozen), Freeze.from_tuple(raw_freeze),
                                   found, document))
        return views
