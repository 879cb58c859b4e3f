"""``/chain``: what a client needs to build and sign requests."""

from __future__ import annotations

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
