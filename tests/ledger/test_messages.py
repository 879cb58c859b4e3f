"""Contract errors as sentences: amounts of tokens read as money, with the token's decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger import messages

IPST = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def ipst(units: int) -> str:
    return f"{Decimal(units).scaleb(-6).normalize():,f} IPST"


@pytest.mark.parametrize("name, args, expected", [
    ("MarketplacePriceChanged", {"listingId": 1, "price": 260_000_000, "nonce": 1},
     "listing 1 changed since you saw it: its price is now 260 IPST at nonce 1; look again before buying"),
    ("MarketplaceOverBudget", {"demandId": 2, "price": 600_000_000, "budget": 500_000_000},
     "the price 600 IPST exceeds the budget of demand 2 (500 IPST)"),
    ("ERC20InsufficientBalance", {"sender": IPST, "balance": 100_000_000, "needed": 240_500_000},
     f"{IPST} holds 100 IPST, not the 240.5 IPST needed"),
    ("ERC20InsufficientAllowance", {"spender": IPST, "allowance": 0, "needed": 1_000_000},
     f"{IPST} may spend only 0 IPST of the payer's tokens, not the 1 IPST needed; approve it first"),
    ("SettlementTokenFaucetLimit", {"amount": 2_000_000_000_000, "limit": 1_000_000_000_000},
     "the faucet mints at most 1,000,000 IPST at a time (2,000,000 IPST asked)"),
])
def test_sentence_when_amounts_of_tokens_shows_them_with_the_tokens_decimals(name, args, expected):
    assert messages.sentence(name, args, ipst) == expected


def test_sentence_without_a_token_shows_amounts_as_token_units_with_separators():
    assert messages.sentence("MarketplacePriceChanged", {"listingId": 1, "price": 260_000_000, "nonce": 1}) == (
        "listing 1 changed since you saw it: its price is now 260,000,000 token units at nonce 1; "
        "look again before buying")


def test_every_amount_of_tokens_in_a_sentence_is_formatted():
    """No sentence shows a bare amount: each price, amount, budget, balance or allowance has a money spec."""
    import re
    import string

    amount = re.compile(r"^(price|amount|budget|balance|needed|allowance|limit|expected|received)$")
    for name, template in messages.SENTENCES.items():
        for _, field, spec, _ in string.Formatter().parse(template):
            if field and amount.match(field):
                assert spec in ("money", "units"), (name, field)
