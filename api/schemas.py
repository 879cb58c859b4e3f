"""Request and response bodies (``XCreate`` in, ``XPublic`` out), with examples for /docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
HEX = r"^0x([0-9a-fA-F]{2})*$"

EXAMPLE_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EXAMPLE_HASH = "0x5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"


class ForwarderDomain(BaseModel):
    name: str
    version: str
    chainId: int
    verifyingContract: str


class ChainPublic(BaseModel):
    """What a client needs to build and sign requests."""

    chain_id: int
    deploy_block: int
    contracts: dict[str, str]
    forwarder_domain: ForwarderDomain


class ForwardRequestCreate(BaseModel):
    """An ERC-2771 request signed with EIP-712 by ``from`` (see GET /chain for the domain)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{
            "from": EXAMPLE_ADDRESS, "to": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "value": 0,
            "gas": 200000, "nonce": 0, "deadline": 1893456000,
            "data": "0x4a2d3f4b" + "11" * 32, "signature": "0x" + "ab" * 65,
        }]},
    )

    sender: str = Field(alias="from", pattern=ADDRESS)
    to: str = Field(pattern=ADDRESS)
    value: int = Field(0, ge=0, le=0, description="relayed requests carry no ether")
    gas: int = Field(ge=21_000, le=10_000_000)
    nonce: int = Field(ge=0, le=2**53 - 1, description="at most 2**53-1, the largest integer JSON carries exactly")
    deadline: int = Field(ge=0, le=2**48 - 1)
    data: str = Field(pattern=HEX, max_length=200_000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class EventPublic(BaseModel):
    name: str
    contract: str
    args: dict[str, Any]
    log_index: int


class RelayedPublic(BaseModel):
    """Where the relayed request landed, and what it did (e.g. ``{"assetId": 7}``)."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    result: dict[str, Any]
    events: list[EventPublic]


class NoncePublic(BaseModel):
    address: str
    nonce: int


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


class VerifiesPublic(BaseModel):
    data: list[VerifyPublic]
    count: int


class Problem(BaseModel):
    """RFC 9457 problem details; ``error`` and ``arguments`` name a contract's custom error."""

    type: str
    title: str
    status: int
    detail: str
    error: str | None = None
    arguments: dict[str, Any] | None = None
    tx_hash: str | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 403, 404, 409, 413, 422, 429, 502, 503)
}
