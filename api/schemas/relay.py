"""``/relay``: user-signed ERC-2771 requests in, the relayed transaction out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ADDRESS, EXAMPLE_ADDRESS, HEX


class ForwardRequestCreate(BaseModel):
    """An ERC-2771 request signed with EIP-712 by ``from``: the ``message`` of ``POST /relay/prepare``
    plus the wallet's ``signature`` over it (domain and types in the same answer, and in
    ``GET /chain/contracts``). The example calls ``TimestampRegistry.stamp(bytes32)`` (selector
    ``0xdd89581f``) at its address on a fresh local chain."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{
            "from": EXAMPLE_ADDRESS, "to": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "value": 0,
            "gas": 200000, "nonce": 0, "deadline": 1893456000,
            "data": "0xdd89581f" + "11" * 32, "signature": "0x" + "ab" * 65,
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
