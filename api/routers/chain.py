"""The chain and deployment a client talks to."""

from __future__ import annotations

from fastapi import APIRouter

from api.schemas.chain import ChainPublic, ContractsPublic, ForwarderDomain
from api.schemas.common import PROBLEMS
from ledger.relay.service import domain

from ..deps import LedgerDep

router = APIRouter(tags=["chain"], responses=PROBLEMS)


@router.get("/chain", response_model=ChainPublic)
def chain_info(ledger: LedgerDep) -> ChainPublic:
    """Chain id, contract addresses, the EIP-712 domain to sign forward requests with, and the chain's
    clock (`head_time`) to sign their deadlines from."""
    forwarder = ledger.deployment.address("IpledgerForwarder")
    return ChainPublic(
        chain_id=ledger.client.chain_id,
        deploy_block=ledger.deployment.deploy_block,
        contracts={name: c.address for name, c in ledger.deployment.contracts.items()},
        forwarder_domain=ForwarderDomain(**domain(ledger.client.chain_id, forwarder)),
        head_time=ledger.client.recent_block_time(),
    )


@router.get("/chain/contracts", response_model=ContractsPublic)
def contracts(ledger: LedgerDep) -> ContractsPublic:
    """Every deployed contract's name, address and ABI, the forwarder's EIP-712 domain and
    ``ForwardRequest`` type, and the enum tables (number, code name, label) the ABIs' ``uint8``
    kinds and statuses mean: what a wallet needs to build a request without our code."""
    return ContractsPublic.model_validate(ledger.preparer.catalogue())


@router.get("/health")
def health(ledger: LedgerDep) -> dict[str, object]:
    """Liveness, the chain head and its last final block, and the relayer's funds (``relayer.ok`` false:
    it refuses requests with 503 until topped up above ``min_balance``)."""
    head = ledger.client.finality(0)
    relayer = ledger.relay.funds() if ledger.client.account is not None else None
    return {"ok": True, "block": head.head, "chain_id": ledger.client.chain_id,
            "final_block": head.finalized_block if head.finalized_block is not None
            else head.head - ledger.client.finality_confirmations + 1,
            "relayer": relayer}
