"""The registry's names and codes, to and from what the contracts store, with clear errors.

The IP contracts keep official numbers, territories, fields of use and filing numbers as
left-aligned ASCII in a ``bytes32``, currencies as ``bytes3``, kinds and statuses as enum
numbers and dates as unix seconds. Everything here turns user input into those values (or
raises :class:`~ledger.errors.ValidationError` saying what is wrong and what would do), and
turns them back into text. It also encodes contract calls from their signatures alone, for
clients that sign requests without the compiled ABIs (:mod:`ledger.api_client`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import is_address, keccak, to_checksum_address

from .errors import ChainError, ValidationError

if TYPE_CHECKING:
    from .chain import ChainClient

ZERO32 = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20


class LabelledEnum(IntEnum):
    """An enum of a contract, with the kebab-case label users type (``invention-patent``)."""

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def labels(cls) -> list[str]:
        return [m.label for m in cls]

    @classmethod
    def parse(cls, text: str | int) -> Any:
        """The member named ``text`` (``invention-patent``, ``INVENTION_PATENT``) or numbered so."""
        if isinstance(text, int) or (isinstance(text, str) and text.strip().isdigit()):
            try:
                return cls(int(text))
            except ValueError:
                pass
        else:
            key = text.strip().lower().replace("_", "-").replace(" ", "-")
            for member in cls:
                if member.label == key:
                    return member
        raise ValidationError(f"unknown {cls._what()} {text!r}: use one of {', '.join(cls.labels())}")

    @classmethod
    def _what(cls) -> str:
        return re.sub(r"(?<!^)([A-Z])", r" \1", cls.__name__).lower()

    @classmethod
    def label_of(cls, value: Any) -> str:
        """The label of a stored number, or the number itself if it is unknown (a newer contract)."""
        try:
            return cls(int(value)).label
        except (ValueError, TypeError):
            return str(value)


class AssetKind(LabelledEnum):
    """``IIPRegistry.AssetKind``, in declaration order."""

    INVENTION_PATENT = 0
    UTILITY_MODEL = 1
    DESIGN = 2
    SOFTWARE_COPYRIGHT = 3
    TRADE_SECRET = 4
    RESEARCH_RESULT = 5
    TRADEMARK = 6


class LegalStatus(LabelledEnum):
    """``IIPRegistry.LegalStatus``, in declaration order."""

    FILED = 0
    GRANTED = 1
    INVALIDATION_REQUESTED = 2
    LAPSED = 3
    EXPIRED = 4
    INVALIDATED = 5


class LicenseKind(LabelledEnum):
    """``ILicenseRegistry.LicenseKind``: 独占 exclusive, 排他 sole, 普通 non-exclusive."""

    EXCLUSIVE = 0
    SOLE = 1
    NON_EXCLUSIVE = 2


class LicenseStatus(LabelledEnum):
    """``ILicenseRegistry.LicenseStatus``."""

    NONE = 0
    OFFERED = 1
    ACTIVE = 2
    TERMINATED = 3
    EXPIRED = 4


class PledgeStatus(LabelledEnum):
    """``IPledgeRegistry.PledgeStatus``."""

    NONE = 0
    PROPOSED = 1
    ACTIVE = 2
    RELEASED = 3
    ENFORCED = 4
    CANCELLED = 5


# -- bytes32 codes -----------------------------------------------------------------------------

_REF = re.compile(r"^[A-Z0-9][A-Z0-9.\-/_()]*$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-/:]*$")


def _ascii32(text: str, what: str, pattern: re.Pattern[str], example: str) -> bytes:
    raw = text.encode("ascii", errors="replace")
    if len(raw) > 32:
        raise ValidationError(f"{what} {text!r} is too long: at most 32 characters, got {len(text)}")
    if not pattern.match(text):
        raise ValidationError(
            f"{what} {text!r} is not valid: use ASCII letters, digits and . - / (e.g. {example})"
        )
    return raw.ljust(32, b"\0")


def encode_ref(text: str | None) -> bytes:
    """An official number (``CN202010123456.7``) as left-aligned ASCII; empty or None: zero (no ref).

    Upper-cased and stripped of spaces, so one number has one encoding (refs are unique on chain).
    """
    if text is None:
        return ZERO32
    cleaned = text.strip().upper().replace(" ", "")
    if not cleaned:
        return ZERO32
    return _ascii32(cleaned, "the official number", _REF, "CN202010123456.7")


def encode_code(text: str | None, what: str = "code") -> bytes:
    """A territory (ISO 3166: ``CN``, ``CN-11``) or field of use (IPC: ``H04L``); empty, ``*``
    or ``all``: zero, which covers everything."""
    if text is None:
        return ZERO32
    cleaned = text.strip().upper()
    if cleaned in ("", "*", "ALL"):
        return ZERO32
    example = "CN-11" if "territory" in what else "H04L9/00"
    return _ascii32(cleaned, what, _CODE, example)


def encode_filing_no(text: str) -> bytes:
    """A license filing (recordal) number as left-aligned ASCII; it must not be empty."""
    cleaned = text.strip().upper()
    if not cleaned:
        raise ValidationError("a license recordal needs its filing number")
    return _ascii32(cleaned, "the filing number", _REF, "2024990000123")


def decode_ascii32(value: bytes | str | None) -> str:
    """Left-aligned ASCII back to text: ``""`` for zero, ``0x…`` hex if it is not printable ASCII."""
    if value is None:
        return ""
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    stripped = raw.rstrip(b"\0")
    if not stripped:
        return ""
    try:
        text = stripped.decode("ascii")
    except UnicodeDecodeError:
        return "0x" + raw.hex()
    if b"\0" in stripped or not text.isprintable():
        return "0x" + raw.hex()
    return text


def encode_currency(text: str) -> bytes:
    """An ISO 4217 currency code (``CNY``) as ``bytes3``."""
    cleaned = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", cleaned):
        raise ValidationError(f"not a currency code: {text!r} (three letters, ISO 4217, e.g. CNY)")
    return cleaned.encode("ascii")


def decode_currency(value: bytes | str) -> str:
    return decode_ascii32(value)


# -- hashes, addresses, money --------------------------------------------------------------------


def parse_hash32(text: str | bytes | None, what: str = "hash", *, allow_zero: bool = True) -> bytes:
    """A 32-byte hash from ``0x`` + 64 hex digits (or bytes); None: zero when allowed."""
    if text is None:
        if allow_zero:
            return ZERO32
        raise ValidationError(f"{what} is required")
    if isinstance(text, bytes):
        raw = text
    else:
        cleaned = text.strip().lower()
        cleaned = cleaned[2:] if cleaned.startswith("0x") else cleaned
        if not re.fullmatch(r"[0-9a-f]{64}", cleaned):
            raise ValidationError(f"{what} {text!r} is not a 32-byte hash (0x and 64 hex digits)")
        raw = bytes.fromhex(cleaned)
    if len(raw) != 32:
        raise ValidationError(f"{what} must be 32 bytes, got {len(raw)}")
    if not allow_zero and raw == ZERO32:
        raise ValidationError(f"{what} must not be zero")
    return raw


def parse_address(text: str, what: str = "address") -> str:
    """A checksummed address from any-case ``0x`` + 40 hex digits."""
    cleaned = text.strip()
    if not is_address(cleaned) or not cleaned.startswith("0x"):
        raise ValidationError(f"{what} {text!r} is not an account address (0x and 40 hex digits)")
    return str(to_checksum_address(cleaned))


def parse_amount(value: int | str, what: str = "amount") -> int:
    """Money in token units: a non-negative integer (``5000000``, ``5_000_000``), never a float."""
    if isinstance(value, bool):
        raise ValidationError(f"{what} must be a whole number of token units")
    if isinstance(value, int):
        amount = value
    else:
        cleaned = value.strip().replace("_", "").replace(",", "")
        if not cleaned.isdigit():
            raise ValidationError(f"{what} {value!r} is not a whole number of token units")
        amount = int(cleaned)
    if amount < 0 or amount >= 2**256:
        raise ValidationError(f"{what} {value!r} is out of range")
    return amount


# -- dates -----------------------------------------------------------------------------------------

UINT40_MAX = 2**40 - 1


def parse_date(value: str | int | date | datetime | None, what: str = "date", *, allow_zero: bool = True) -> int:
    """Unix seconds from ``2027-06-30`` (midnight UTC), an ISO datetime (UTC when naive), or Unix
    seconds; None, ``""``, ``0`` or ``none``: 0 (unknown) when allowed."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "0", "none")) or value == 0:
        if allow_zero:
            return 0
        raise ValidationError(f"{what} is required (e.g. 2027-06-30)")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
        moment = None
    else:
        text = str(value).strip()
        if text.isdigit():
            seconds, moment = int(text), None
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValidationError(
                    f"{what} {value!r} is not a date: use 2027-06-30, 2027-06-30T12:00:00Z or Unix seconds"
                ) from None
    if moment is not None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = int(moment.timestamp())
    if not 0 <= seconds <= UINT40_MAX:
        raise ValidationError(f"{what} {value!r} is out of range")
    return seconds


def to_datetime(seconds: int) -> datetime | None:
    """A stored date as an aware UTC datetime; None for 0 (unknown)."""
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def iso(seconds: int) -> str | None:
    """``2027-06-30T00:00:00Z`` for a stored date; None for 0 (unknown)."""
    moment = to_datetime(seconds)
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def day(seconds: int) -> str:
    """``2027-06-30`` (or ``2027-06-30 12:00 UTC`` when not midnight) for sentences; ``never`` for 0."""
    moment = to_datetime(seconds)
    if moment is None:
        return "never"
    if moment.hour == moment.minute == moment.second == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# -- roles ---------------------------------------------------------------------------------------

ROLES: dict[str, bytes] = {
    "admin": ZERO32,
    "registrar": keccak(text="REGISTRAR_ROLE"),
    "pledgee": keccak(text="PLEDGEE_ROLE"),
}
"""AccessControl roles by the names users type (``DEFAULT_ADMIN_ROLE`` is 0)."""


def parse_role(text: str) -> bytes:
    key = text.strip().lower().removesuffix("_role").replace("default_", "")
    if key not in ROLES or key == "admin":
        raise ValidationError(f"unknown role {text!r}: use registrar or pledgee")
    return ROLES[key]


def role_name(value: bytes | str) -> str:
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    for name, role in ROLES.items():
        if role == raw:
            return name
    return "0x" + raw.hex()


# -- calls ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """A transaction that did what was asked: where it landed and the ids it created."""

    tx_hash: str
    block_number: int
    ids: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"tx_hash": self.tx_hash, "block_number": self.block_number, **self.ids}


_SIGNATURE = re.compile(r"^(\w+)\((.*)\)$")


def encode_call(signature: str, *args: Any) -> bytes:
    """Calldata of ``signature`` (``"accept(uint256)"``, tuples as ``(address,uint8,...)``) with ``args``."""
    match = _SIGNATURE.match(signature.replace(" ", ""))
    if match is None:
        raise ValidationError(f"not a function signature: {signature!r}")
    types = _split_types(match.group(2))
    return bytes(keccak(text=signature.replace(" ", ""))[:4]) + abi_encode(types, list(args))


def _split_types(inner: str) -> list[str]:
    types, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            types.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    if current:
        types.append(current)
    return types


# -- raw JSON-RPC reads: calls and logs decoded from the ABIs ------------------------------------------
# The bank check and other one-round-trip reads build plain JSON-RPC requests, send them in one
# batch (ChainClient.rpc_batch) and decode the answers here.


def _type_string(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_type_string(c) for c in item['components'])}){kind[5:]}"
    return kind


def function_abi(abi: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for item in abi:
        if item.get("type") == "function" and item.get("name") == name:
            return item
    raise ValidationError(f"the ABI has no function {name}")


def call_request(address: str, data: bytes | str, block: int | str = "latest") -> tuple[str, list[Any]]:
    """An ``eth_call`` for :meth:`ChainClient.rpc_batch`."""
    tag = hex(block) if isinstance(block, int) else block
    return "eth_call", [{"to": address, "data": data if isinstance(data, str) else "0x" + data.hex()}, tag]


def decode_output(fn: Mapping[str, Any], result: str) -> tuple[Any, ...]:
    """The return values of a raw ``eth_call`` result, decoded with the function's ABI."""
    types = [_type_string(o) for o in fn["outputs"]]
    return tuple(abi_decode(types, bytes.fromhex(result[2:])))


def uint_topic(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def logs_request(addresses: Sequence[str], topics: Sequence[Any], from_block: int = 0,
                 to_block: int | str = "latest") -> tuple[str, list[Any]]:
    """An ``eth_getLogs`` for :meth:`ChainClient.rpc_batch`."""
    tag = hex(to_block) if isinstance(to_block, int) else to_block
    return "eth_getLogs", [{"address": list(addresses), "topics": list(topics), "fromBlock": hex(from_block),
                            "toBlock": tag}]


def raw_results(client: ChainClient, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """Send ``calls`` in ONE round trip; a reverted ``eth_call`` raises its decoded ledger error."""
    results = []
    for (method, _), response in zip(calls, client.rpc_batch(calls, raw=True), strict=True):
        error = response.get("error")
        if error is None:
            results.append(response.get("result"))
            continue
        data = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, dict):
            data = data.get("data")
        if method == "eth_call" and isinstance(data, str) and data.startswith("0x"):
            raise client.errors.decode(data)
        raise ChainError(f"{method} failed: {error}")
    return results


def plain(value: Any, item: Mapping[str, Any]) -> Any:
    """A decoded ABI value as JSON-friendly Python: hex for bytes, checksummed addresses, structs as dicts."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [plain(v, inner) for v in value]
    if kind.startswith("tuple"):
        return {(c.get("name") or f"arg{i}"): plain(v, c)
                for i, (c, v) in enumerate(zip(item["components"], value, strict=True))}
    if kind == "address":
        return str(to_checksum_address(value))
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


@dataclass(frozen=True)
class LogEvent:
    """A decoded log with where and when it happened (``block_time`` 0 if the node did not say)."""

    contract: str
    event: str
    args: dict[str, Any]
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    block_time: int


class LogDecoder:
    """Decodes raw ``eth_getLogs`` entries of known contracts from their ABIs."""

    def __init__(self, contracts: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]]) -> None:
        """``contracts``: address → (contract name, ABI)."""
        self._events: dict[tuple[str, str], tuple[str, str, list[Mapping[str, Any]]]] = {}
        for address, (name, abi) in contracts.items():
            for item in abi:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                inputs = list(item.get("inputs", []))
                topic = "0x" + keccak(text=f"{item['name']}({','.join(_type_string(i) for i in inputs)})").hex()
                self._events[(address.lower(), topic)] = (name, str(item["name"]), inputs)

    def topic(self, event: str) -> str:
        """The topic 0 of an event by name."""
        for (_, topic), (_, name, _) in self._events.items():
            if name == event:
                return topic
        raise ValidationError(f"no known event {event}")

    def decode(self, log: Mapping[str, Any]) -> LogEvent | None:
        topics = [str(t).lower() for t in log.get("topics", [])]
        known = self._events.get((str(log["address"]).lower(), topics[0])) if topics else None
        if known is None:
            return None
        contract, event, inputs = known
        indexed = [i for i in inputs if i.get("indexed")]
        if len(indexed) != len(topics) - 1:
            return None  # same signature, other indexing: not this event
        data = [i for i in inputs if not i.get("indexed")]
        values: dict[str, Any] = {}
        for item, topic in zip(indexed, topics[1:], strict=True):
            kind = str(item["type"])
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("tuple"):
                values[item["name"]] = topic  # indexed dynamic values are stored as their hash
            else:
                values[item["name"]] = plain(abi_decode([kind], bytes.fromhex(topic[2:]))[0], item)
        if data:
            decoded = abi_decode([_type_string(i) for i in data], bytes.fromhex(str(log["data"])[2:]))
            for item, raw in zip(data, decoded, strict=True):
                values[item["name"]] = plain(raw, item)
        args = {(i.get("name") or f"arg{n}"): values.get(i["name"]) for n, i in enumerate(inputs)}
        stamp = log.get("blockTimestamp")
        return LogEvent(
            contract=contract, event=event, args=args, tx_hash=str(log["transactionHash"]),
            block_number=int(log["blockNumber"], 16), block_hash=str(log["blockHash"]),
            log_index=int(log["logIndex"], 16), block_time=int(stamp, 16) if stamp else 0,
        )


class ListingStatus(LabelledEnum):
    """``IMarketplaceBase.ListingStatus`` (of asset and of license listings)."""

    NONE = 0
    OPEN = 1
    SOLD = 2
    CANCELLED = 3
    EXPIRED = 4
    VOID = 5


class OfferStatus(LabelledEnum):
    """``IMarketplaceBase.OfferStatus``."""

    NONE = 0
    OPEN = 1
    REFUSED = 2
    ACCEPTED = 3
    WITHDRAWN = 4
    EXPIRED = 5
    VOID = 6


class DemandStatus(LabelledEnum):
    """``IMarketplaceBase.DemandStatus``."""

    NONE = 0
    OPEN = 1
    CLOSED = 2
    EXPIRED = 3


class AnswerStatus(LabelledEnum):
    """``IMarketplaceBase.AnswerStatus``."""

    NONE = 0
    OPEN = 1
    ACCEPTED = 2
    WITHDRAWN = 3
