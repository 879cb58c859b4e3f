"""The registry's vocabulary: addresses as users type them."""

from __future__ import annotations

import pytest
from eth_utils import is_checksum_address, is_checksum_formatted_address, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

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


@given(raw=st.binary(min_size=20, max_size=20), case=st.sampled_from(["lower", "upper", "eip55", "flipped", "any"]),
       mask=st.lists(st.booleans(), min_size=40, max_size=40), position=st.integers(0, 39))
def test_parse_address_agrees_with_eth_utils_on_any_address_in_any_case(raw, case, mask, position):
    """The cached checksum (one keccak per address) accepts and refuses exactly what eth-utils' rules do."""
    checksum = to_checksum_address("0x" + raw.hex())[2:]
    if case == "lower":
        digits = checksum.lower()
    elif case == "upper":
        digits = checksum.upper()
    elif case == "eip55":
        digits = checksum
    elif case == "flipped":  # one letter's case changed
        digits = checksum[:position] + checksum[position].swapcase() + checksum[position + 1:]
    else:
        digits = "".join(c.upper() if up else c.lower() for c, up in zip(checksum, mask, strict=True))
    text = "0x" + digits
    expected_ok = not is_checksum_formatted_address(text) or is_checksum_address(text)
    try:
        got = parse_address(text)
    except ValidationError:
        assert not expected_ok
    else:
        assert expected_ok and got == to_checksum_address(text)
