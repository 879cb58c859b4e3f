"""``/chain``: what a client needs to build and sign requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


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
