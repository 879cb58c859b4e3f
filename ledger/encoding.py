"""The registry's names and codes, to and from what the contracts store, with clear errors.

The IP contracts keep official numbers, territories, fields of use and filing numbers as
left-aligned ASCII in a ``bytes32``, currencies as ``bytes3``, kinds and statuses as enum
numbers and dates as unix seconds. Everything here turns user input into those values (or
raises :class:`~ledger.errors.ValidationError` saying what is wrong and what would do), and
turns them back into text. Contract calls and logs as bytes live in :mod:`ledger.chain.abi`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils import (
    keccak,
    to_checksum_address,
)

from ledger.errors import ValidationError

NOTICES: dict[str, str] = {
    # what people type, refused here; ledger.messages.NOTICES holds them too, so they are translated like any
    # other refusal
    "address-malformed": "{what:word} {text} is not an account address (0x and 40 hex digits)",
    "address-checksum": (
        "{what:word} {text} has a wrong EIP-55 checksum (its mix of upper- and lower-case letters): it may be "
        "mistyped; check it, or give the address all in lower case"
    ),
    "text-too-long": "{what:word} {text} is too long: at most 32 characters, got {length}",
    "text-invalid": "{what:word} {text} is not valid: use ASCII letters, digits and . - / (e.g. {example})",
    "currency-invalid": "not a currency code: {text} (three letters, ISO 4217, e.g. CNY)",
    "hash-malformed": "{what:word} {text} is not a 32-byte hash (0x and 64 hex digits)",
    "amount-not-whole": "{what:word} {text} is not a whole number of token units",
    "out-of-range": "{what:word} {text} is out of range",
    "date-required": "{what:word} is required (e.g. 2027-06-30)",
    "date-malformed": "{what:word} {text} is not a date: use 2027-06-30, 2027-06-30T12:00:00Z or Unix seconds",
    "label-unknown": "unknown {what:word} {text}: use one of {labels}",
}

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
    def parse(cls, text: str | int, allowed: Iterable[LabelledEnum] | None = None) -> Any:
        """The member named ``text`` (``invention-patent``, ``INVENTION_PATENT``) or numbered so; an unknown
        one is refused naming the labels accepted (``allowed``, when only some members are: the others are
        still parsed, for a caller that explains why they do not fit)."""
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
        labels = [m.label for m in allowed] if allowed is not None else cls.labels()
        raise ValidationError(**_notice("label-unknown", what=cls.label_name(), text=repr(text),
                                       labels=", ".join(labels)))

    @classmethod
    def label_name(cls) -> str:
        """What one value of this enum is called: ``asset kind``."""
        return cls._what()

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


class DisputeKind(LabelledEnum):
    """``IIPRegistry.DisputeKind``: an ownership dispute blocks moves and new pledges while open."""

    OWNERSHIP = 0
    INVALIDATION_REQUEST = 1
    INFRINGEMENT_SUIT = 2
    OTHER = 3


class DisputeOutcome(LabelledEnum):
    """``IIPRegistry.DisputeOutcome``: ``open`` until the registrar records how it ended."""

    OPEN = 0
    UPHELD = 1
    DISMISSED = 2
    SETTLED = 3
    WITHDRAWN = 4


class CoOwnerAct(LabelledEnum):
    """``ICoOwnership.ActKind``: the acts on a co-owned asset (those needing every co-owner are consented to)."""

    LICENSE = 0
    LICENSE_LISTING = 1
    CANCEL_LICENSE_LISTING = 2
    SALE = 3
    CANCEL_SALE = 4
    OFFER_ACCEPTANCE = 5
    PLEDGE = 6
    CANCEL_PLEDGE = 7
    TRANSFER = 8
    CO_OWNERS_CHANGE = 9
    SHARE_TRANSFER = 10


# -- bytes32 codes -----------------------------------------------------------------------------

_REF = re.compile(r"^[A-Z0-9][A-Z0-9.\-/_()]*$")
_CASE = re.compile(r"^[A-Z0-9(][A-Z0-9.\-/_()]*$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-/:]*$")


def _ascii32(text: str, what: str, pattern: re.Pattern[str], example: str) -> bytes:
    raw = text.encode("ascii", errors="replace")
    if len(raw) > 32:
        raise ValidationError(**_notice("text-too-long", what=what, text=repr(text), length=len(text)))
    if not pattern.match(text):
        raise ValidationError(**_notice("text-invalid", what=what, text=repr(text), example=example))
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


def encode_case_ref(text: str) -> bytes:
    """A dispute's case or file number as left-aligned ASCII (upper-cased, no spaces); not empty."""
    cleaned = text.strip().upper().replace(" ", "")
    if not cleaned:
        raise ValidationError("a dispute needs its case or file number")
    return _ascii32(cleaned, "the case number", _CASE, "(2025)JING73MINCHU1")


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
        raise ValidationError(**_notice("currency-invalid", text=repr(text)))
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
            raise ValidationError(**_notice("hash-malformed", what=what, text=repr(text)))
        raw = bytes.fromhex(cleaned)
    if len(raw) != 32:
        raise ValidationError(f"{what} must be 32 bytes, got {len(raw)}")
    if not allow_zero and raw == ZERO32:
        raise ValidationError(f"{what} must not be zero")
    return raw


_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@functools.lru_cache(maxsize=65_536)
def _eip55(lower: str) -> str:
    """The EIP-55 form of a lower-case address, computed once per address: every relayed request names
    two (its sender and its target, the same few contracts), each otherwise hashed twice."""
    return str(to_checksum_address(lower))


def checksum_address(address: str) -> ChecksumAddress:
    """``eth_utils.to_checksum_address`` of a ``0x`` hex address, cached: the relay checksums the same
    addresses (its contracts, its users) for every request and every log it decodes."""
    return ChecksumAddress(HexAddress(HexStr(_eip55(address.lower()))))


def parse_address(text: str, what: str = "address") -> str:
    """A checksummed address from ``0x`` + 40 hex digits: all lower case (or all upper case), or
    mixed case with a correct EIP-55 checksum. A mixed-case address whose checksum is wrong is
    refused: the checksum is there to catch a mistyped address, so it must not be corrected."""
    cleaned = text.strip() if isinstance(text, str) else ""
    if not _HEX_ADDRESS.fullmatch(cleaned):
        raise ValidationError(**_notice("address-malformed", what=what, text=repr(text)))
    digits = cleaned[2:]
    checksummed = _eip55("0x" + digits.lower())
    if digits != digits.lower() and digits != digits.upper() and cleaned != checksummed:
        raise ValidationError(**_notice("address-checksum", what=what, text=repr(text)))
    return checksummed


def parse_amount(value: int | str, what: str = "amount") -> int:
    """Money in token units: a non-negative integer (``5000000``, ``5_000_000``), never a float."""
    if isinstance(value, bool):
        raise ValidationError(f"{what} must be a whole number of token units")
    if isinstance(value, int):
        amount = value
    else:
        cleaned = value.strip().replace("_", "").replace(",", "")
        if not cleaned.isdigit():
            raise ValidationError(**_notice("amount-not-whole", what=what, text=repr(value)))
        amount = int(cleaned)
    if amount < 0 or amount >= 2**256:
        raise ValidationError(**_notice("out-of-range", what=what, text=repr(value)))
    return amount


# -- dates -----------------------------------------------------------------------------------------

UINT40_MAX = 2**40 - 1


def parse_date(value: str | int | date | datetime | None, what: str = "date", *, allow_zero: bool = True) -> int:
    """Unix seconds from ``2027-06-30`` (midnight UTC), an ISO datetime (UTC when naive), or Unix
    seconds; None, ``""``, ``0`` or ``none``: 0 (unknown) when allowed."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "0", "none")) or value == 0:
        if allow_zero:
            return 0
        raise ValidationError(**_notice("date-required", what=what))
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
                raise ValidationError(**_notice("date-malformed", what=what, text=repr(value))) from None
    if moment is not None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = int(moment.timestamp())
    if not 0 <= seconds <= UINT40_MAX:
        raise ValidationError(**_notice("out-of-range", what=what, text=repr(value)))
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


def _notice(key: str, /, **args: Any) -> dict[str, Any]:
    """:func:`ledger.messages.notice` for this module's refusals (that module reads this one, so not imported):
    the English message, its key and arguments. A ``word`` argument reads as it is in English."""
    return {"message": NOTICES[key].replace(":word}", "}").format(**args), "notice": key, "notice_args": args}
