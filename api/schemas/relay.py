"""``/relay``: user-signed ERC-2771 requests in, the relayed transaction out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ADDRESS, ADDRESS_RULE, EXAMPLE_ADDRESS, EXAMPLE_TX, HEX, Address, Problem

EXAMPLE_TIMESTAMP_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"  # on the embedded dev chain
EXAMPLE_FORWARDER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


class ForwardRequestCreate(BaseModel):
    """An ERC-2771 request signed with EIP-712 by ``from``: the ``message`` of ``POST /relay/prepare``
    plus the wallet's ``signature`` over it (domain and types in the same answer, and in
    ``GET /chain/contracts``). The example calls ``TimestampRegistry.stamp(bytes32)`` (selector
    ``0xdd89581f``) at its address on a fresh local chain.

    The relay checks what OpenZeppelin's ERC2771Forwarder will check before it pays for the
    transaction: the target is a contract of this ledger that trusts the forwarder, the
    signature is by ``from`` in the form OpenZeppelin's ECDSA accepts, ``nonce`` is the
    sender's next, the deadline leaves a margin, and the call itself succeeds with ``gas``.
    """

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{
            "from": EXAMPLE_ADDRESS, "to": EXAMPLE_TIMESTAMP_REGISTRY, "value": 0,
            "gas": 200000, "nonce": 0, "deadline": 1893456000,
            "data": "0xdd89581f" + "11" * 32,  # stamp(bytes32 leaf)
            "signature": "0x" + "ab" * 32 + "3c" * 32 + "1b",  # r, s (low), v
        }]},
    )

    sender: Address = Field(alias="from", pattern=ADDRESS, description=(
        f"the signer ({ADDRESS_RULE}); the target sees it as _msgSender()"))
    to: Address = Field(pattern=ADDRESS, description=(
        f"a contract of this ledger that trusts the forwarder (IPLens, a read-only view, does not: 403); "
        f"{ADDRESS_RULE}"))
    value: int = Field(0, ge=0, le=0, description="relayed requests carry no ether")
    gas: int = Field(ge=21_000, le=2**256 - 1, description=(  # the cap is the relay's: 400 with max_gas
        "gas for the call itself (the forwarder passes exactly this much). At most the relay's cap per "
        "request (IPLEDGER_RELAY_MAX_REQUEST_GAS, default 2,000,000; over it: 400 with `max_gas`). Too "
        "little for the call: 400 with `estimated_gas`, the gas to sign instead"))
    nonce: int = Field(ge=0, le=2**53 - 1, description=(
        "the sender's next forwarder nonce (GET /relay/nonce/{address}); at most 2**53-1, the largest "
        "integer JSON carries exactly. One request per sender and nonce at a time: a second one while "
        "the first is being relayed gets 409 naming the nonce"))
    deadline: int = Field(ge=0, le=2**48 - 1, description=(
        "unix time after which the forwarder refuses the request; it must lie at least "
        "IPLEDGER_RELAY_DEADLINE_MARGIN seconds (default 30) after the later of the wall clock and the "
        "last block's time"))
    data: str = Field(pattern=HEX, max_length=200_000, description="the call's ABI-encoded calldata")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description=(
        "the 65-byte EIP-712 signature r || s || v, with v 27 or 28 and s in the lower half of the curve "
        "order (EIP-2), as OpenZeppelin's ECDSA requires; v 0/1 and high-s twins are refused with 400"))


class RelayProblem(Problem):
    """A refused relay: what to change is in ``detail``, and in these members when they apply."""

    gas: int | None = Field(None, description="the request's gas, when it is the problem")
    estimated_gas: int | None = Field(None, description="the gas the call needs (estimated): sign this instead")
    max_gas: int | None = Field(None, description="the relay's cap on a request's gas")
    nonce: int | None = Field(None, description="the request's nonce, when it is the problem")
    expected_nonce: int | None = Field(None, description="the sender's next nonce")


def _example(summary: str, status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    slug = title.lower().replace(" ", "-")
    return {"summary": summary, "value": {
        "type": f"urn:ipledger:problem:{slug}", "title": title, "status": status, "detail": detail, **extra}}


def _content(**examples: dict[str, Any]) -> dict[str, Any]:
    return {"application/problem+json": {"examples": examples}}


RELAY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": RelayProblem, "description": "The request cannot be relayed as signed", "content": _content(
        insufficient_gas=_example(
            "gas too low for the call", 400, "Bad request",
            "the request's gas (21000) is insufficient: the call runs out of gas. It needs about 48720 "
            "(estimated); sign the request again with gas of at least 48720, with some headroom",
            gas=21000, estimated_gas=48720),
        gas_over_cap=_example(
            "gas over the per-request cap", 400, "Bad request",
            "the request's gas (10000000) is over the relay's cap of 2000000 per request; a call that needs "
            "more cannot be relayed: split it, or send it yourself", gas=10000000, max_gas=2000000),
        high_s=_example(
            "high-s signature", 400, "Bad request",
            "the signature's s is in the upper half of the curve order (a malleable high-s signature, EIP-2), "
            "which the forwarder rejects: use s' = n - s and flip v (27 <-> 28), or a wallet that signs with low s",
            error="ECDSAInvalidSignatureS", arguments={"s": "0x" + "f0" * 32}),
        expired=_example(
            "deadline past or too close", 400, "Bad request",
            "the request expired or would expire before it is mined: its deadline is 1893456000 (2030-01-01 "
            "00:00:00 UTC), and the relay needs at least 30s after now (...); sign it again with a later deadline",
            error="ERC2771ForwarderExpiredRequest", arguments={"deadline": 1893456000}),
    )},
    403: {"model": RelayProblem, "description": "Not signed by the sender, or a target the forwarder cannot call",
          "content": _content(
              untrusted=_example(
                  "the target does not trust the forwarder (IPLens)", 403, "Forbidden",
                  "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707 does not trust the forwarder ...",
                  error="ERC2771UntrustfulTarget",
                  arguments={"target": "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707", "forwarder": EXAMPLE_FORWARDER}),
              signer=_example(
                  "signed by someone else", 403, "Forbidden",
                  f"the request is signed by 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC, not by its sender "
                  f"{EXAMPLE_ADDRESS} ...", error="ERC2771ForwarderInvalidSigner",
                  arguments={"signer": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "from": EXAMPLE_ADDRESS}),
          )},
    409: {"model": RelayProblem, "description": "Already relayed, a nonce in flight or stale, or a rule of the ledger",
          "content": _content(
              replayed=_example(
                  "already relayed (even if it failed on chain)", 409, "Refused by a rule of the ledger",
                  f"this signed request was already relayed in {EXAMPLE_TX}; a signed request is sent at most "
                  "once, even if it failed: sign a new one with the sender's next nonce", tx_hash=EXAMPLE_TX),
              nonce_in_flight=_example(
                  "the sender's nonce is already in flight", 409, "Refused by a rule of the ledger",
                  f"{EXAMPLE_ADDRESS} already has a request with nonce 4 being relayed; only one can be "
                  "executed: wait for its outcome, and sign the next request with nonce 5", nonce=4),
              stale_nonce=_example(
                  "stale nonce", 409, "Refused by a rule of the ledger",
                  "the request's nonce 3 is not the sender's next (4): it was replayed or built on a stale nonce",
                  nonce=3, expected_nonce=4),
          )},
    429: {"model": RelayProblem, "description": "Too many requests from this client address or this sender",
          "content": _content(
              client=_example("per client address (the TCP peer)", 429, "Too many requests",
                              "too many requests from client 203.0.113.66: retry in 0.4s"),
          )},
}


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
