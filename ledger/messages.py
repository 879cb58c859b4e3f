"""Contract custom errors as sentences a user understands.

The CLI prints these and the API puts them in a problem's ``detail``; the error
name and its decoded arguments always travel with them.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

SENTENCES: dict[str, str] = {
    "TimestampRegistryAlreadyStamped": (
        "{key} was already stamped by {stamper} in block {blockNumber} at {timestamp:time}; "
        "the first record stands"
    ),
    "TimestampRegistryZeroKey": "the zero hash cannot be stamped",
    "TimestampRegistryEmptyBatch": "a batch must contain at least one file",
    "AccessControlUnauthorizedAccount": "{account} does not hold the role {neededRole:role} needed for this act",
    "ERC721NonexistentToken": "asset {tokenId} does not exist",
    "ERC721IncorrectOwner": "{sender} does not own asset {tokenId} (the owner is {owner})",
    "ERC721InsufficientApproval": "{operator} may not move asset {tokenId}",
}

ROLE_NAMES: dict[str, str] = {}
"""Role hashes to names; filled by the services that know the roles."""


class _Formatter(dict[str, Any]):
    pass


def _render(value: Any, spec: str) -> str:
    if spec == "time" and isinstance(value, int):
        if value == 0:
            return "never"
        return _dt.datetime.fromtimestamp(value, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if spec == "role" and isinstance(value, str):
        return ROLE_NAMES.get(value, value)
    return str(value)


def sentence(name: str, args: dict[str, Any]) -> str:
    """Render the sentence for a contract error, or a readable fallback with its arguments."""
    template = SENTENCES.get(name)
    if template is None:
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"the contract refused: {name}({shown})"
    import string

    out = []
    for literal, field_name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if field_name is not None:
            out.append(_render(args.get(field_name), spec or ""))
    return "".join(out)
