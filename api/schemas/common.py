"""Patterns, examples and the problem body every resource shares."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel

from ledger.encoding import parse_address
from ledger.errors import ValidationError

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
ADDRESS_RULE = "0x and 40 hex digits, all lower case or EIP-55 mixed case; a wrong checksum is refused (422)"
HEX = r"^0x([0-9a-fA-F]{2})*$"

EXAMPLE_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def checksummed(value: str) -> str:
    """An address as :func:`ledger.encoding.parse_address` accepts it (all lower case, or a correct
    EIP-55 checksum), in its checksum form; a wrong checksum is a 422 that says so."""
    try:
        return parse_address(value, "the address")
    except ValidationError as exc:
        raise ValueError(exc.message) from exc  # the cause says it in any language


def _checksummed_or_none(value: str | None) -> str | None:
    return None if value is None else checksummed(value)


Checksummed = AfterValidator(checksummed)
OptionalChecksummed = AfterValidator(_checksummed_or_none)
"""Put after ``Path(pattern=ADDRESS)``/``Query``/``Field`` in an ``Annotated`` address."""

Address = Annotated[str, Checksummed]
"""An address in a request body or parameter (with ``pattern=ADDRESS`` on its Field/Path/Query)."""
EXAMPLE_HASH = "0x5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"


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


EXAMPLE_OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EXAMPLE_BANK = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
EXAMPLE_TX = "0x8a008893e8a6a7de448619081c1ac8cc58930a8d201ede805fb6f58bb00a9d61"
EXAMPLE_METADATA_HASH = "0xfcdc6c5bf08cb35ef3661d779c6cce728fcbf766bb50b4dd9ddf3176e58fcd23"
