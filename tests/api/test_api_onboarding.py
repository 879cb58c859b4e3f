"""What an outside developer meets first: addresses typed by hand and money in problem details."""

from __future__ import annotations

import pytest

from ledger.client.api import ApiClient
from ledger.errors import ValidationError

GOOD = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
BAD = "0x15D34AAf54267DB7D7c367839AAf71A00a2C6A65"  # a wrong EIP-55 checksum


def assert_checksum_problem(response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["title"] == "Invalid request"
    assert "has a wrong EIP-55 checksum" in body["detail"] and "lower case" in body["detail"]
    assert GOOD not in response.text


@pytest.mark.parametrize("path", [
    f"/market/balances/{BAD}", f"/relay/nonce/{BAD}", f"/audit/history?account={BAD}",
    f"/audit/pledges?bank={BAD}", f"/audit/licenses?bank={BAD}",
])
def test_get_when_address_checksum_wrong_is_422_saying_so(client, path):
    assert_checksum_problem(client.get(path))


@pytest.mark.parametrize("path", [f"/market/balances/{GOOD}", f"/market/balances/{GOOD.lower()}",
                                  f"/relay/nonce/{GOOD.lower()}"])
def test_get_when_address_lowercase_or_checksummed_is_200(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("field", ["from", "to"])
def test_relay_when_address_checksum_wrong_is_422_and_sends_nothing(client, chain, field):
    body = {"from": GOOD, "to": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "value": 0, "gas": 200000,
            "nonce": 0, "deadline": 2**40, "data": "0x", "signature": "0x" + "ab" * 65}
    body[field] = BAD
    head = chain.w3.eth.block_number
    assert_checksum_problem(client.post("/relay", json=body))
    assert chain.w3.eth.block_number == head


def test_api_client_when_address_checksum_wrong_raises_before_any_request():
    api = ApiClient("http://127.0.0.1:9")  # nothing listens there: a request would be a ChainUnavailableError
    with pytest.raises(ValidationError, match="has a wrong EIP-55 checksum"):
        api.market_balance(BAD)


def test_api_client_when_server_finds_request_malformed_raises_validation_not_verification(live_api):
    from ledger.errors import VerificationError

    with pytest.raises(ValidationError) as raised:
        ApiClient(live_api).get(f"/market/balances/{BAD}")
    assert not isinstance(raised.value, VerificationError)  # exit 2 (bad input), not 1 (a failed proof)
    assert "has a wrong EIP-55 checksum" in raised.value.message


# -- 23: money in problem details --------------------------------------------------------------------


def test_relayed_buy_when_price_changed_problem_detail_shows_tokens_and_arguments_keep_units(
        live_api, api_ledger, user, accounts):
    import os

    from ledger.errors import ConflictError
    from ledger.market.service import Deadline
    from ledger.registry.metadata import build_document

    seller = accounts[1]
    asset_id = api_ledger.assets.register(os.urandom(32), "design", None, build_document("A chair"),
                                          sender=seller).asset_id
    listing_id = api_ledger.market.list_asset(asset_id, 250_500_000, Deadline.parse("7d"),
                                              sender=seller).ids["listingId"]
    api = ApiClient(live_api)
    try:
        api.faucet(user, 300_000_000)
        with pytest.raises(ConflictError) as refused:
            api.buy(user, listing_id, price=240_000_000, nonce=0)
    finally:
        api.close()
    body = refused.value.context["problem"]
    assert body["detail"] == (f"listing {listing_id} changed since you saw it: its price is now 250.5 IPST at "
                              "nonce 0; look again before buying")
    assert body["error"] == "MarketplacePriceChanged"
    assert body["arguments"] == {"listingId": listing_id, "price": 250_500_000, "nonce": 0}  # raw units
