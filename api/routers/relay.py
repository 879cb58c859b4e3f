"""Users' signed requests, relayed through the ERC-2771 forwarder (the server never holds user keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from api.schemas.common import ADDRESS, ADDRESS_RULE, PROBLEMS, Checksummed
from api.schemas.relay import RELAY_PROBLEMS, EventPublic, ForwardRequestCreate, NoncePublic, RelayedPublic
from ledger.relay.service import SignedRequest

from ..deps import LedgerDep
from ..limits import client_key

router = APIRouter(prefix="/relay", tags=["relay"], responses=PROBLEMS)


@router.get("/nonce/{address}", response_model=NoncePublic)
def nonce(
    ledger: LedgerDep,
    address: Annotated[str, Path(pattern=ADDRESS, examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
                                 description=ADDRESS_RULE),
                       Checksummed],
) -> NoncePublic:
    """The forwarder nonce to put in ``address``'s next request."""
    return NoncePublic(address=address, nonce=ledger.relay.nonce(address))


@router.post("", response_model=RelayedPublic, responses=RELAY_PROBLEMS)
async def relay(body: ForwardRequestCreate, ledger: LedgerDep, request: Request) -> RelayedPublic:
    """Check a signed request and relay it; answer with its transaction and decoded result.

    Before the relayer pays, the request is checked as OpenZeppelin's ERC2771Forwarder will
    check it, and more: a contract of this ledger that trusts the forwarder, a low-s signature
    with v 27/28 by ``from``, a deadline at least the configured margin ahead, gas within the
    per-request cap, the sender's next nonce (one request per nonce at a time), the forwarder's
    ``verify(request)`` and the call itself simulated from the forwarder with ``gas``: a call the
    contract would refuse is answered with its decoded error, too little gas with the estimate.

    A signed request is sent at most once: posting it again answers 409 with the transaction it
    went out in, even if it failed there. Limits: per client address (the TCP peer;
    ``X-Forwarded-For`` only from IPLEDGER_API_TRUSTED_PROXIES), then per sender, counted only once
    the signature verifies (a forged request naming someone else cannot spend their allowance).
    """
    # On the event loop, not in the thread pool: the checks that need no round trip take well under a
    # millisecond, and the outcome is awaited (benchmarks/api.md). A limit kept in the database is
    # charged in the pool when this replica's lease of it is spent: its statement must not stall the loop.
    state = request.app.state
    if not state.client_rate_limiter.check_held(key := client_key(request)):
        await run_in_threadpool(state.client_rate_limiter.check, key)
    relayed = await ledger.relay.relay_async(SignedRequest(
        sender=body.sender, to=body.to, value=body.value, gas=body.gas, nonce=body.nonce,
        deadline=body.deadline, data=body.data, signature=body.signature,
    ), admit=state.sender_admission)
    return RelayedPublic(
        tx_hash=relayed.tx_hash, block_number=relayed.block_number, block_hash=relayed.block_hash,
        gas_used=relayed.gas_used, result=relayed.result,
        events=[EventPublic(name=e.name, contract=e.address, args=e.args, log_index=e.log_index)
                for e in relayed.events],
    )
