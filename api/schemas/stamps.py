"""``/stamps``: the stamp service (leaves aggregated into one ``stampBatch`` per round)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import EXAMPLE_HASH, HEX32

LEAVES_LIMIT = ("At most `IPLEDGER_STAMP_MAX_LEAVES_PER_REQUEST` leaves (10,000 unless configured; this server's is "
                "`maxItems` here and `max_leaves_per_request` of `GET /stamps/service`); more is a 422 like any "
                "other invalid request.")
"""The bound is the server's setting, not the class's: ``api.main`` writes it into the OpenAPI schema and
``api.routers.stamps`` checks it."""


class StampsCreate(BaseModel):
    """Leaves to anchor: each ``keccak256(abi.encode(bytes32 digest, address author, bytes32 salt))``,
    computed by the client (the service never sees a digest or a salt)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"leaves": [EXAMPLE_HASH]}]})

    leaves: list[Annotated[str, Field(pattern=HEX32)]] = Field(min_length=1, description=LEAVES_LIMIT)


class ReceiptPublic(BaseModel):
    """A pending receipt: the service's EIP-712 signature (``GET /stamps/service`` gives its domain, types and
    address) over ``PendingStamp(leaf, receivedAt = received_at_ms, round)``."""

    leaf: str = Field(pattern=HEX32)
    received_at_ms: int
    round: int
    service: str
    signature: str


class ReceiptsPublic(BaseModel):
    data: list[ReceiptPublic]
    count: int


class StampStatusPublic(BaseModel):
    """``pending`` (with the receipt) or ``anchored``: then also the round's root, the leaf's proof (OpenZeppelin
    ``StandardMerkleTree``: from ``keccak256(leaf)`` to ``root``) and where the root was recorded."""

    status: str
    leaf: str
    round: int
    receipt: ReceiptPublic
    root: str | None = None
    proof: list[str] | None = None
    batch_size: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    block_time: int | None = None
    stamper: str | None = None
    chain_id: int | None = None
    contract: str | None = None


class StampServicePublic(BaseModel):
    """The service's address and the EIP-712 domain and types of its receipts, and its limits."""

    address: str
    chain_id: int
    contract: str
    domain: dict[str, Any]
    types: dict[str, Any]
    primary_type: str
    round_interval: float
    round_max_leaves: int
    max_leaves_per_request: int
    running: bool
    leader: bool = False
    """Whether this replica closes and anchors the rounds (every replica accepts leaves)."""
