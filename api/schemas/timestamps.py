"""``/timestamps``: stamp records and verification."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import EXAMPLE_HASH, HEX32


class StampPublic(BaseModel):
    key: str
    stamper: str
    block_number: int
    block_time: int
    tx_hash: str | None
    block_hash: str | None
    batch_size: int
    contract: str
    chain_id: int


class VerifyCreate(BaseModel):
    """A certificate and the SHA-256 of the file (hashed by the client: the file never travels)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"digest": EXAMPLE_HASH, "certificate": {}}]})

    digest: str = Field(pattern=HEX32)
    certificate: dict[str, Any]


class FinalityPublic(BaseModel):
    """How final a record is: ``final`` by the chain's finalized block (``basis`` ``finalized-tag``) or by
    ``confirmations`` (at least ``required_confirmations``); ``sentence`` says it in English."""

    status: str
    final: bool
    basis: str
    block_number: int
    head: int
    confirmations: int
    required_confirmations: int
    finalized_block: int | None = None
    sentence: str


class VerifyPublic(BaseModel):
    valid: bool
    reason: str | None = None
    author: str | None = None
    stamper: str | None = None
    block_number: int | None = None
    block_time: int | None = None
    block_time_iso: str | None = None
    tx_hash: str | None = None
    chain_id: int | None = None
    finality: FinalityPublic | None = None


class VerifiesPublic(BaseModel):
    data: list[VerifyPublic]
    count: int
