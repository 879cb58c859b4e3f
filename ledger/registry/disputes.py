"""Disputes over IP assets and assets' parents (IPRegistry).

The registrar (the IP service centre, recording a court's order or the office's file) opens a
dispute on an asset: its kind (:class:`~ledger.encoding.DisputeKind`), the case number as
left-aligned ASCII, the hash of the filing; then resolves it with an outcome
(:class:`~ledger.encoding.DisputeOutcome`) and the decision's hash. Anyone reads them. While a
dispute of **ownership** is open the asset does not move by any path (the IPRegistry's transfer
guard) and cannot be newly pledged (the PledgeRegistry); at most one is open per asset.

An owner names the asset's parent (a divisional or continuation application's original, a
software version's predecessor) once: an asset registered before it. The parent lists its children.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.chain.abi import Act, LogEvent, call_request, decode_output, function_abi, raw_results
from ledger.chain.client import ChainClient, Contract
from ledger.encoding import (
    DisputeKind,
    DisputeOutcome,
    decode_ascii32,
    encode_case_ref,
    iso,
    parse_hash32,
)
from ledger.errors import ConflictError, ContractError, ValidationError
from ledger.messages import notice
from ledger.registry.assets import act


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


@dataclass(frozen=True)
class Dispute:
    """``IIPRegistry.Dispute``, with its id. ``outcome`` is ``open`` until resolved."""

    dispute_id: int
    asset_id: int
    kind: DisputeKind
    outcome: DisputeOutcome
    opened_at: int
    resolved_at: int
    ref: str
    evidence_hash: str
    resolution_hash: str

    @property
    def open(self) -> bool:
        return self.outcome == DisputeOutcome.OPEN

    @property
    def blocks_moves(self) -> bool:
        """An open dispute of ownership: the asset neither moves nor is newly pledged."""
        return self.open and self.kind == DisputeKind.OWNERSHIP

    @classmethod
    def from_tuple(cls, dispute_id: int, raw: Any) -> Dispute:
        asset_id, kind, outcome, opened_at, resolved_at, ref, evidence_hash, resolution_hash = raw
        return cls(dispute_id, int(asset_id), DisputeKind(kind), DisputeOutcome(outcome), int(opened_at),
                   int(resolved_at), decode_ascii32(ref), _hex(evidence_hash), _hex(resolution_hash))

    @classmethod
    def from_events(cls, events: list[LogEvent]) -> list[Dispute]:
        """The disputes ``DisputeOpened`` and ``DisputeResolved`` events tell, in the order they were opened."""
        found: dict[int, Dispute] = {}
        for event in events:
            args = event.args
            if event.event == "DisputeOpened":
                dispute_id = int(args["disputeId"])
                found[dispute_id] = cls(
                    dispute_id, int(args["assetId"]), DisputeKind(int(args["kind"])), DisputeOutcome.OPEN,
                    event.block_time, 0, decode_ascii32(args["ref"]), _hex(args["evidenceHash"]), "0x" + "00" * 32)
            elif event.event == "DisputeResolved" and int(args["disputeId"]) in found:
                before = found[int(args["disputeId"])]
                found[before.dispute_id] = cls(
                    before.dispute_id, before.asset_id, before.kind, DisputeOutcome(int(args["outcome"])),
                    before.opened_at, event.block_time, before.ref, before.evidence_hash,
                    _hex(args["resolutionHash"]))
        return list(found.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "dispute_id": self.dispute_id, "asset_id": self.asset_id, "kind": self.kind.label,
            "outcome": self.outcome.label, "open": self.open, "blocks_moves": self.blocks_moves,
            "opened_at": self.opened_at, "opened_on": iso(self.opened_at), "resolved_at": self.resolved_at,
            "resolved_on": iso(self.resolved_at), "ref": self.ref, "evidence_hash": self.evidence_hash,
            "resolution_hash": self.resolution_hash,
        }


@dataclass(frozen=True)
class Lineage:
    """An asset's parent (0: none) and the assets that named it as theirs."""

    asset_id: int
    parent_id: int
    children: list[int]

    def as_json(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "parent_id": self.parent_id or None, "children": self.children}


def ownership_disputes(client: ChainClient, registry: Contract, asset_ids: list[int]) -> dict[int, int]:
    """The assets of ``asset_ids`` under an open ownership dispute -> its id, in one JSON-RPC batch."""
    ids = sorted(set(asset_ids))
    if not ids:
        return {}
    fn = function_abi(registry.abi, "ownershipDisputeOf")
    calls = [call_request(registry.address, registry.encode_abi("ownershipDisputeOf", [i])) for i in ids]
    found = {i: int(decode_output(fn, raw)[0]) for i, raw in zip(ids, raw_results(client, calls), strict=True)}
    return {i: d for i, d in found.items() if d}


def refuse_sale_if_disputed(client: ChainClient, registry: Contract, asset_id: int, *, offer: bool = False) -> None:
    """A sale of ``asset_id`` offered now (a listing, an answer to a demand, a co-owned listing) is refused
    while an ownership dispute is open: no buyer could complete it (the registry's transfer guard refuses every
    move), so the platform says so before the seller signs. ``offer``: a buyer's escrowed offer for it, refused
    for the same reason (its money would sit in escrow). The contracts allow both (the Marketplace is at its
    size limit); ``ipledger``, the API's prepare and the pages refuse them (:class:`ConflictError`)."""
    dispute_id = int(client.call(registry.functions.ownershipDisputeOf(asset_id)))
    if dispute_id:
        _, _, _, _, _, ref, _, _ = client.call(registry.functions.disputeOf(dispute_id))
        raise ConflictError(**notice("offer-disputed" if offer else "sale-disputed", assetId=asset_id,
                                     disputeId=dispute_id, case=decode_ascii32(ref) or "-"),
                            asset_id=asset_id, dispute_id=dispute_id)


class DisputeService:
    """The registrar's disputes over assets, and owners naming their assets' parents."""

    def __init__(self, client: ChainClient, registry: Contract) -> None:
        self.client = client
        self.registry = registry

    # -- the registrar -----------------------------------------------------------------------------

    def open_dispute(
        self, asset_id: int, kind: DisputeKind | str, ref: str, evidence_hash: bytes | str | None = None, *,
        sender: LocalAccount | None = None,
    ) -> Act:
        """Record a dispute over ``asset_id`` (registrar); the act's ids carry ``disputeId``."""
        kind = kind if isinstance(kind, DisputeKind) else DisputeKind.parse(kind)
        fn = self.registry.functions.openDispute(
            asset_id, int(kind), encode_case_ref(ref), parse_hash32(evidence_hash, "the evidence hash"))
        return act(self.client, self.registry, self.client.transact(fn, sender=sender), "assetId", "disputeId")

    def resolve_dispute(
        self, dispute_id: int, outcome: DisputeOutcome | str, resolution_hash: bytes | str | None = None, *,
        sender: LocalAccount | None = None,
    ) -> Act:
        """Record how dispute ``dispute_id`` ended (registrar): upheld, dismissed, settled or withdrawn."""
        outcome = outcome if isinstance(outcome, DisputeOutcome) else DisputeOutcome.parse(outcome)
        if outcome == DisputeOutcome.OPEN:
            raise ValidationError("a resolution says how the dispute ended: upheld, dismissed, settled or withdrawn")
        fn = self.registry.functions.resolveDispute(
            dispute_id, int(outcome), parse_hash32(resolution_hash, "the decision's hash"))
        return act(self.client, self.registry, self.client.transact(fn, sender=sender), "assetId", "disputeId")

    # -- owners ------------------------------------------------------------------------------------

    def set_parent(self, asset_id: int, parent_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Name ``parent_id`` (an asset registered before) as the parent of the sender's ``asset_id``, once.
        A parent that does not exist is said not to exist (NotFoundError), not to be registered too late."""
        fn = self.registry.functions.setParent(asset_id, parent_id)
        try:
            sent = self.client.transact(fn, sender=sender)
        except ContractError as exc:
            if exc.name == "IPRegistryInvalidParent" and parent_id > asset_id:
                self.client.call(self.registry.functions.ownerOf(parent_id))  # NotFoundError: it does not exist
            raise
        return act(self.client, self.registry, sent, "assetId", "parentId")

    # -- reads -------------------------------------------------------------------------------------

    def dispute_of(self, dispute_id: int) -> Dispute:
        """Dispute ``dispute_id``; NotFoundError (``IPRegistryUnknownDispute``) if there is none."""
        return Dispute.from_tuple(dispute_id, self.client.call(self.registry.functions.disputeOf(dispute_id)))

    def dispute_count(self) -> int:
        return int(self.client.call(self.registry.functions.disputeCount()))

    def open_disputes_of(self, asset_id: int) -> list[Dispute]:
        """The disputes over ``asset_id`` open now, oldest first (two round trips: the ids, then the records)."""
        self.client.call(self.registry.functions.ownerOf(asset_id))  # an unknown asset is NotFound, not "none"
        ids = sorted(int(i) for i in self.client.call(self.registry.functions.openDisputesOf(asset_id)))
        return self.disputes(ids)

    def ownership_disputes(self, asset_ids: list[int]) -> dict[int, int]:
        """Which of ``asset_ids`` are under an open ownership dispute -> its id (one round trip)."""
        return ownership_disputes(self.client, self.registry, asset_ids)

    def disputes(self, dispute_ids: list[int]) -> list[Dispute]:
        """Several disputes in one JSON-RPC batch."""
        if not dispute_ids:
            return []
        fn = function_abi(self.registry.abi, "disputeOf")
        calls = [call_request(self.registry.address, self.registry.encode_abi("disputeOf", [i])) for i in dispute_ids]
        return [Dispute.from_tuple(i, decode_output(fn, raw)[0])
                for i, raw in zip(dispute_ids, raw_results(self.client, calls), strict=True)]

    def lineage(self, asset_id: int) -> Lineage:
        """The asset's parent and children, in one round trip."""
        parent_fn, children_fn = function_abi(self.registry.abi, "parentOf"), function_abi(self.registry.abi,
                                                                                           "childrenOf")
        parent, children = raw_results(self.client, [
            call_request(self.registry.address, self.registry.encode_abi("parentOf", [asset_id])),
            call_request(self.registry.address, self.registry.encode_abi("childrenOf", [asset_id])),
        ])
        return Lineage(asset_id, int(decode_output(parent_fn, parent)[0]),
                       [int(i) for i in decode_output(children_fn, children)[0]])
