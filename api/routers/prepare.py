"""Requests prepared for any EIP-712 wallet: the act in, the typed data to sign out."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.schemas.chain import ForwarderDomain
from api.schemas.common import PROBLEMS
from api.schemas.prepare import ForwardMessage, PrepareCreate, PreparedPublic

from ..deps import LedgerDep
from ..limits import admit_client

router = APIRouter(prefix="/relay", tags=["relay"], responses=PROBLEMS)


@router.post("/prepare", response_model=PreparedPublic)
def prepare(body: PrepareCreate, ledger: LedgerDep, request: Request) -> PreparedPublic:
    """The EIP-712 typed data of a ForwardRequest for ``contract.function(args)`` by ``from``:
    the forwarder's domain, the ``ForwardRequest`` type, and a message with the calldata, the
    sender's forwarder nonce, the gas (estimated as the forwarder will run the call, with a
    margin) and a deadline. Sign it with any EIP-712 wallet and post the message with its
    ``signature`` to ``POST /relay``. An act the contract would refuse now answers its error
    (4xx, the error's name and arguments) before anyone signs. Limited per client address, as
    ``POST /relay`` is (each preparation reads the chain and estimates gas)."""
    admit_client(request)
    prepared = ledger.preparer.prepare(body.sender, body.contract, body.function, body.args,
                                       valid_for=body.valid_for)
    return PreparedPublic(
        domain=ForwarderDomain(**prepared.domain), types=prepared.types, primaryType=prepared.primary_type,
        message=ForwardMessage.model_validate(prepared.message), contract=prepared.contract,
        function=prepared.function, arguments=prepared.arguments, gas_estimate=prepared.gas_estimate,
        typed_data=prepared.typed_data(),
    )
