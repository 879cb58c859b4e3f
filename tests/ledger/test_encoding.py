"""The registry's vocabulary: addresses as users type them."""

from __future__ import annotations

import pytest

from ledger.encoding import parse_address
from ledger.errors import ValidationError

GOOD = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
BAD = "0x15D34AAf54267DB7D7c367839AAf71A00a2C6A65"  # one letter's case changed: a wrong EIP-55 checksum


@pytest.mark.parametrize("text", [GOOD, GOOD.lower(), "0x" + GOOD[2:].upper(), f"  {GOOD} "])
def test_parse_address_when_lowercase_or_checksummed_returns_checksum_form(text):
    assert parse_address(text) == GOOD


def test_parse_address_when_checksum_wrong_refuses_without_correcting_it():
    with pytest.raises(ValidationError) as raised:
        parse_address(BAD, "the pledgee")
    message = raised.value.message
    assert message.startswith(f"the pledgee {BAD!r} has a wrong EIP-55 checksum")
    assert "lower case" in message
    assert GOOD not in message and GOOD.lower() not in message  # never echo a "corrected" address


@pytest.mark.parametrize("text", ["15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x15d3", "0x" + "g" * 40, ""])
def test_parse_address_when_not_an_address_refuses(text):
    with pytest.raises(ValidationError, match="is not an account address"):
        parse_address(text)
