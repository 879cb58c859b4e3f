"""Schemas of the documents' routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ADDRESS, HEX32


class CertificateCreate(BaseModel):
    """A timestamp certificate as ``ipledger stamp`` writes it (``FILE.ipledger.json``). Its fields must
    also agree with each other (the leaf is the author's commitment to the digest, the time's two forms
    match, a batch has a proof): what disagrees is a 400 naming it."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(1, ge=1, le=1)
    chain_id: int = Field(gt=0, le=2**53 - 1)
    contract: str = Field(pattern=ADDRESS)
    tx_hash: str = Field(pattern=HEX32)
    block_number: int = Field(ge=0, le=2**53 - 1)
    block_hash: str = Field(pattern=HEX32)
    block_time: int = Field(ge=0, le=2**40)
    block_time_iso: str = ""
    file_name: str = Field(max_length=1024)
    digest: str = Field(pattern=HEX32)
    author: str = Field(pattern=ADDRESS)
    salt: str = Field(pattern=HEX32)
    leaf: str = Field(pattern=HEX32)
    proof: list[str] = Field(max_length=64)
    root: str = Field(pattern=HEX32)
    stamper: str = Field(pattern=ADDRESS)
    batch_size: int = Field(ge=1, le=2**32)
    revises: dict[str, Any] | None = Field(
        None, description="A revision's link: root, leaf, nonce and the earlier certificate whole.")
    authorship: dict[str, Any] | None = Field(
        None, description="The author's EIP-712 signature of Authorship(root) with the leaf's proof to that root, "
                          "when a stamp service sent the stamp (README, \"Verifying a certificate without ipledger\").")
