"""``/chain``: what a client needs to build and sign requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
    head_time: int = Field(description=(
        "The latest block's time (Unix seconds, read at most a second before): the chain's clock, which can "
        "run ahead of the wall clock (a dev chain's evm_increaseTime, a server whose clock went back). The "
        "forwarder checks a request's deadline against the block that executes it, so sign deadlines from "
        "the later of your clock and this one (the relay itself wants the later of the two plus a margin)."))


class ForwarderPublic(BaseModel):
    """The forwarder and the EIP-712 type it verifies (OpenZeppelin ERC2771Forwarder 5.x)."""

    address: str
    domain: ForwarderDomain
    types: dict[str, list[dict[str, str]]]
    primaryType: str


class ContractPublic(BaseModel):
    """A deployed contract: ``relayable`` if it takes signed requests through the forwarder."""

    name: str
    address: str
    relayable: bool
    abi: list[dict[str, Any]]


class EnumMemberPublic(BaseModel):
    value: int
    name: str
    label: str


class EnumPublic(BaseModel):
    """A contract enum: the number on chain, the Solidity code name, the label the API and CLI accept."""

    solidity: str
    members: list[EnumMemberPublic]


class ContractsPublic(BaseModel):
    """Everything a wallet needs to build requests without this project's code."""

    chain_id: int
    forwarder: ForwarderPublic
    contracts: list[ContractPublic]
    enums: dict[str, EnumPublic]
