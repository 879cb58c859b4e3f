"""A Python client of the ipledger HTTP API: reads, and writes as user-signed relayed requests.

The user's key signs locally (EIP-712, eth-account); only the signed request travels.
Problems (RFC 9457) come back as the matching ``ledger.errors`` exceptions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from ledger.chain.abi import encode_call
from ledger.encoding import (
    ZERO_ADDRESS,
    AssetKind,
    encode_currency,
    encode_ref,
    parse_address,
    parse_amount,
    parse_date,
    parse_hash32,
)
from ledger.errors import (
    ChainUnavailableError,
    ConflictError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    TransactionFailedError,
    ValidationError,
    VerificationError,
)
from ledger.registry.licenses import LicenseTerms
from ledger.relay.service import sign_request
from ledger.sealing.format import Recipient

API_PREFIX = "/api/v1"
"""The JSON API's prefix on the server (``api.paths.API_PREFIX``; an interface does not import the other)."""

_BY_STATUS: dict[int, type[LedgerError]] = {
    400: ValidationError, 403: PermissionDeniedError, 404: NotFoundError, 409: ConflictError,
    413: ValidationError, 422: VerificationError, 429: ConflictError, 502: TransactionFailedError,
    503: ChainUnavailableError,
}


class ApiClient:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        """``base_url`` is the server's address (what ``ipledger up`` prints); the JSON API is under ``/api/v1``."""
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=f"{self.base_url}{API_PREFIX}", timeout=timeout)
        self._chain: dict[str, Any] | None = None
        self._chain_ahead = 0
        """How far the chain's clock (its latest block's time) was ahead of ours when ``/chain`` was read."""

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text}
            cls = _BY_STATUS.get(response.status_code, LedgerError)
            if response.status_code == 422 and body.get("title") == "Invalid request":
                cls = ValidationError  # the request's own fields are malformed, not a failed verification
            raise cls(str(body.get("detail") or body.get("title")), problem=body)
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        try:
            return self._json(self.http.get(path, params=params or None))
        except httpx.TransportError as exc:
            raise ChainUnavailableError(f"the API at {self.http.base_url} does not answer: {exc}") from None

    def post(self, path: str, body: Any) -> Any:
        try:
            return self._json(self.http.post(path, json=body))
        except httpx.TransportError as exc:
            raise ChainUnavailableError(f"the API at {self.http.base_url} does not answer: {exc}") from None

    def chain(self) -> dict[str, Any]:
        if self._chain is None:
            self._chain = self.get("/chain")
            head_time = self._chain.get("head_time")  # absent from an older API: our clock alone
            if isinstance(head_time, int):
                self._chain_ahead = max(0, head_time - int(time.time()))
        return self._chain

    def deadline(self, valid_for: int = 600) -> int:
        """A request's deadline ``valid_for`` seconds ahead of the chain's clock, the later of ours and the chain's.

        The forwarder compares the deadline with the time of the block that executes the request, and the
        relay with the later of its clock and the last block's (as ``POST /relay/prepare`` signs them). A
        deadline from our clock alone is already past on a chain whose clock runs ahead (a dev chain's
        ``evm_increaseTime``, a server's clock set back): every request would be refused as expired. How
        far ahead is measured once per client (from ``/chain``'s ``head_time``): both clocks then advance
        together, so a long session keeps it right without asking again.
        """
        self.chain()
        return int(time.time()) + self._chain_ahead + valid_for

    def address(self, contract: str) -> str:
        return str(self.chain()["contracts"][contract])

    def relay(self, account: LocalAccount, to: str, data: bytes | str, *, gas: int = 500_000,
              deadline: int | None = None, nonce: int | None = None) -> dict[str, Any]:
        """Sign a call of ``to`` with ``data`` as ``account`` and have the server relay it."""
        info = self.chain()
        if nonce is None:
            nonce = int(self.get(f"/relay/nonce/{account.address}")["nonce"])
        request = sign_request(
            account, chain_id=info["chain_id"], forwarder=info["forwarder_domain"]["verifyingContract"],
            to=to, data=data, nonce=nonce, gas=gas, deadline=deadline if deadline is not None else self.deadline(),
        )
        result: dict[str, Any] = self.post("/relay", request.as_json())
        return result

    # -- the IP registry: reads ---------------------------------------------------------------------

    def asset(self, asset_id: int) -> dict[str, Any]:
        return dict(self.get(f"/assets/{asset_id}"))

    def check(self, asset_id: int, maturity: str | None = None) -> dict[str, Any]:
        """The bank's due diligence (``GET /assets/{id}/check``) for a loan maturing on ``maturity`` (2027-06-30)."""
        params = {} if maturity is None else {"maturity": maturity}
        return dict(self.get(f"/assets/{asset_id}/check", **params))

    def licenses_of(self, asset_id: int, *, limit: int = 50, offset: int = 0, active: bool = False) -> dict[str, Any]:
        return dict(self.get(f"/assets/{asset_id}/licenses", limit=limit, offset=offset, active=active))

    def license(self, license_id: int) -> dict[str, Any]:
        return dict(self.get(f"/licenses/{license_id}"))

    def pledge(self, pledge_id: int) -> dict[str, Any]:
        return dict(self.get(f"/pledges/{pledge_id}"))

    def store_metadata(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Store a metadata document on the server: ``{"hash", "uri", "size"}``."""
        return dict(self.post("/metadata", dict(document)))

    # -- the IP registry: writes, signed here and relayed (results carry the new ids) -----------------

    def call(
        self, account: LocalAccount, contract: str, signature: str, *args: Any, gas: int = 500_000
    ) -> dict[str, Any]:
        """Relay ``contract.signature(*args)`` as ``account``, e.g. ``"IPRegistry"``,
        ``"setVerified(uint256,bool)"``."""
        return self.relay(account, self.address(contract), encode_call(signature, *args), gas=gas)

    def register(
        self,
        account: LocalAccount,
        content_hash: bytes | str,
        kind: AssetKind | str,
        ref: str | None,
        metadata: Mapping[str, Any] | None = None,
        *,
        metadata_hash: bytes | str | None = None,
        uri: str | None = None,
    ) -> dict[str, Any]:
        """Register an asset as ``account``: the metadata document is stored on the server first
        (or give ``metadata_hash`` and ``uri`` of one published elsewhere). ``result["assetId"]``
        is the new asset."""
        kind = kind if isinstance(kind, AssetKind) else AssetKind.parse(kind)
        if metadata is not None:
            stored = self.store_metadata(metadata)
            metadata_hash, uri = stored["hash"], uri or stored["uri"]
        if metadata_hash is None or uri is None:
            raise ValidationError("a registration needs a metadata document, or its hash and URI")
        return self.call(
            account, "IPRegistry", "register(bytes32,uint8,bytes32,bytes32,string)",
            parse_hash32(content_hash, "the content hash", allow_zero=False), int(kind), encode_ref(ref),
            parse_hash32(metadata_hash, "the metadata hash", allow_zero=False), uri, gas=300_000,
        )

    def transfer(self, account: LocalAccount, asset_id: int, to: str) -> dict[str, Any]:
        return self.call(account, "IPRegistry", "safeTransferFrom(address,address,uint256)", account.address,
                         parse_address(to, "the recipient"), asset_id)

    def offer_license(self, account: LocalAccount, asset_id: int, terms: LicenseTerms) -> dict[str, Any]:
        """Offer a license of ``account``'s asset; ``result["licenseId"]`` is the offer."""
        return self.call(account, "LicenseRegistry",
                         "offer(uint256,(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool))",
                         asset_id, terms.encode())

    def accept_license(self, account: LocalAccount, license_id: int) -> dict[str, Any]:
        return self.call(account, "LicenseRegistry", "accept(uint256)", license_id, gas=1_000_000)

    def terminate_license(self, account: LocalAccount, license_id: int,
                          reason_hash: bytes | str | None = None) -> dict[str, Any]:
        return self.call(account, "LicenseRegistry", "terminate(uint256,bytes32)", license_id,
                         parse_hash32(reason_hash, "the reason hash"))

    def propose_pledge(
        self, account: LocalAccount, asset_id: int, pledgee: str, principal: int, currency: str,
        maturity: int | str, contract_hash: bytes | str | None = None,
    ) -> dict[str, Any]:
        """Propose to pledge ``account``'s asset; ``result["pledgeId"]`` is the proposal."""
        return self.call(
            account, "PledgeRegistry", "propose(uint256,address,uint256,bytes3,uint40,bytes32)", asset_id,
            parse_address(pledgee, "the pledgee"), parse_amount(principal, "the principal"), encode_currency(currency),
            parse_date(maturity, "the maturity", allow_zero=False), parse_hash32(contract_hash, "the contract hash"),
        )

    def accept_pledge(self, account: LocalAccount, pledge_id: int, encumbrance_version: int) -> dict[str, Any]:
        """Accept a pledge as its pledgee, naming the ``encumbrance_version`` of the check relied on
        (``check(...)["encumbrance_version"]``): the chain refuses if a license changed since."""
        return self.call(account, "PledgeRegistry", "accept(uint256,uint256)", pledge_id, encumbrance_version)

    def cancel_pledge(self, account: LocalAccount, pledge_id: int) -> dict[str, Any]:
        return self.call(account, "PledgeRegistry", "cancel(uint256)", pledge_id)

    def release_pledge(self, account: LocalAccount, pledge_id: int) -> dict[str, Any]:
        return self.call(account, "PledgeRegistry", "release(uint256)", pledge_id)

    def enforce_pledge(self, account: LocalAccount, pledge_id: int, buyer: str | None = None) -> dict[str, Any]:
        to = parse_address(buyer, "the buyer") if buyer else ZERO_ADDRESS
        return self.call(account, "PledgeRegistry", "enforce(uint256,address)", pledge_id, to)

    def consent_to_transfer(self, account: LocalAccount, pledge_id: int, recipient: str | None) -> dict[str, Any]:
        to = parse_address(recipient, "the recipient") if recipient else ZERO_ADDRESS
        return self.call(account, "PledgeRegistry", "consentToTransfer(uint256,address)", pledge_id, to)

    def consent_to_license(self, account: LocalAccount, pledge_id: int, terms: LicenseTerms) -> dict[str, Any]:
        """Consent to one license of the pledged asset on exactly ``terms`` (licensee zero: anyone);
        ``result["consentId"]`` is the consent's id, which :meth:`withdraw_license_consent` takes."""
        signature = "consentToLicense(uint256,(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool))"
        return self.call(account, "PledgeRegistry", signature, pledge_id, terms.encode(), gas=300_000)

    def withdraw_license_consent(self, account: LocalAccount, pledge_id: int, consent_id: str) -> dict[str, Any]:
        return self.call(account, "PledgeRegistry", "withdrawLicenseConsent(uint256,bytes32)", pledge_id,
                         parse_hash32(consent_id, "the consent id"))

    def unbind_ref(self, account: LocalAccount, ref: str, reason_hash: bytes | str | None = None) -> dict[str, Any]:
        """Free a squatted official number (registrar); ``result["assetId"]`` is the squatter's asset."""
        return self.call(account, "IPRegistry", "unbindRef(bytes32,bytes32)", encode_ref(ref),
                         parse_hash32(reason_hash, "the reason hash"))

    # -- the market: reads -----------------------------------------------------------------------------

    def market_token(self) -> dict[str, Any]:
        """The settlement token (``address``, ``decimals`` ...), whether its faucet mints, and the fee."""
        return dict(self.get("/market/token"))

    def market_balance(self, address: str) -> int:
        return int(self.get(f"/market/balances/{parse_address(address)}")["balance"])

    def listings(self, *, limit: int = 50, offset: int = 0, asset_id: int | None = None) -> dict[str, Any]:
        return dict(self.get("/market/listings", limit=limit, offset=offset,
                             **({} if asset_id is None else {"asset_id": asset_id})))

    def listing(self, listing_id: int) -> dict[str, Any]:
        return dict(self.get(f"/market/listings/{listing_id}"))

    def offers(self, *, limit: int = 50, offset: int = 0, asset_id: int | None = None) -> dict[str, Any]:
        return dict(self.get("/market/offers", limit=limit, offset=offset,
                             **({} if asset_id is None else {"asset_id": asset_id})))

    def offer(self, offer_id: int) -> dict[str, Any]:
        return dict(self.get(f"/market/offers/{offer_id}"))

    def license_offers(self, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return dict(self.get("/market/license-offers", limit=limit, offset=offset))

    def license_offer(self, listing_id: int) -> dict[str, Any]:
        return dict(self.get(f"/market/license-offers/{listing_id}"))

    def demands(self, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return dict(self.get("/market/demands", limit=limit, offset=offset))

    def demand(self, demand_id: int) -> dict[str, Any]:
        return dict(self.get(f"/market/demands/{demand_id}"))

    def answers(self, demand_id: int, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return dict(self.get(f"/market/demands/{demand_id}/answers", limit=limit, offset=offset))

    # -- the market: writes, signed here and relayed (amounts in token units; results carry the ids) -------

    def faucet(self, account: LocalAccount, amount: int, to: str | None = None) -> dict[str, Any]:
        """Mint settlement tokens to ``to`` (default ``account``): development chains only."""
        recipient = parse_address(to, "the recipient") if to else account.address
        return self.call(account, "SettlementToken", "faucet(address,uint256)", recipient,
                         parse_amount(amount, "the amount"))

    def approve_tokens(self, account: LocalAccount, spender: str, amount: int,
                       token: str | None = None) -> dict[str, Any]:
        """Allow the market contract ``spender`` (``"Marketplace"``, ``"LicenseMarket"``) to take ``amount``
        of ``account``'s tokens (of the settlement token, or of ``token``: an ERC-20 of this ledger)."""
        to = parse_address(token, "the token") if token else self.address("SettlementToken")
        return self.relay(account, to, encode_call("approve(address,uint256)", self.address(spender),
                                                   parse_amount(amount, "the amount")))

    def list_asset(self, account: LocalAccount, asset_id: int, price: int, expiry: int | str, *,
                   buyer: str | None = None, token: str | None = None, approve: bool = True) -> dict[str, Any]:
        """List ``account``'s asset (approving the Marketplace for it first, unless ``approve`` is
        False); ``result["listingId"]`` is the listing."""
        if approve:
            self.call(account, "IPRegistry", "approve(address,uint256)", self.address("Marketplace"), asset_id)
        return self.call(
            account, "Marketplace", "listAsset(uint256,address,uint256,uint40,address)", asset_id,
            parse_address(token, "the token") if token else self.address("SettlementToken"),
            parse_amount(price, "the price"), parse_date(expiry, "the expiry", allow_zero=False),
            parse_address(buyer, "the buyer") if buyer else ZERO_ADDRESS,
        )

    def cancel_listing(self, account: LocalAccount, listing_id: int) -> dict[str, Any]:
        return self.call(account, "Marketplace", "cancelListing(uint256)", listing_id)

    def buy(self, account: LocalAccount, listing_id: int, price: int | None = None,
            nonce: int | None = None) -> dict[str, Any]:
        """Buy a listing, naming the price and nonce seen (default: read now from ``GET /market/listings/{id}``);
        the Marketplace is approved for the price first."""
        if price is None or nonce is None:
            seen = self.listing(listing_id)
            price = seen["price"] if price is None else price
            nonce = seen["nonce"] if nonce is None else nonce
        self.approve_tokens(account, "Marketplace", int(price))
        return self.call(account, "Marketplace", "buy(uint256,uint256,uint256)", listing_id, int(price), int(nonce),
                         gas=1_000_000)

    def make_offer(self, account: LocalAccount, asset_id: int, amount: int, expiry: int | str, *,
                   token: str | None = None) -> dict[str, Any]:
        """Offer ``amount`` for an asset, escrowed (the Marketplace is approved for it first);
        ``result["offerId"]`` is the offer."""
        units = parse_amount(amount, "the amount")
        self.approve_tokens(account, "Marketplace", units, token)
        return self.call(account, "Marketplace", "makeOffer(uint256,address,uint256,uint40)", asset_id,
                         parse_address(token, "the token") if token else self.address("SettlementToken"), units,
                         parse_date(expiry, "the expiry", allow_zero=False))

    def accept_offer(self, account: LocalAccount, offer_id: int, asset_id: int | None = None) -> dict[str, Any]:
        """Accept an offer for ``account``'s asset; with ``asset_id`` the Marketplace is approved for it first."""
        if asset_id is not None:
            self.call(account, "IPRegistry", "approve(address,uint256)", self.address("Marketplace"), asset_id)
        return self.call(account, "Marketplace", "acceptOffer(uint256)", offer_id, gas=1_000_000)

    def refuse_offer(self, account: LocalAccount, offer_id: int) -> dict[str, Any]:
        return self.call(account, "Marketplace", "refuseOffer(uint256)", offer_id)

    def withdraw_offer(self, account: LocalAccount, offer_id: int) -> dict[str, Any]:
        return self.call(account, "Marketplace", "withdrawOffer(uint256)", offer_id)

    def list_license(self, account: LocalAccount, asset_id: int, terms: LicenseTerms, price: int, supply: int,
                     expiry: int | str, *, token: str | None = None, approve: bool = True) -> dict[str, Any]:
        """Offer licenses of ``account``'s asset for sale (the LicenseMarket is made its licensing operator
        first, unless ``approve`` is False); ``result["listingId"]`` is the license listing."""
        if approve:
            self.call(account, "LicenseRegistry", "setOperator(address,bool)", self.address("LicenseMarket"), True)
        return self.call(
            account, "LicenseMarket",
            "listLicense(uint256,(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool),address,"
            "uint256,uint256,uint40)",
            asset_id, replace(terms, licensee=ZERO_ADDRESS).encode(),
            parse_address(token, "the token") if token else self.address("SettlementToken"),
            parse_amount(price, "the price"), supply, parse_date(expiry, "the expiry", allow_zero=False),
        )

    def buy_license(self, account: LocalAccount, listing_id: int, price: int | None = None,
                    nonce: int | None = None) -> dict[str, Any]:
        """Buy one license of a listing (the LicenseMarket is approved for the price first);
        ``result["licenseId"]`` is the new active license."""
        if price is None or nonce is None:
            seen = self.license_offer(listing_id)
            price = seen["price"] if price is None else price
            nonce = seen["nonce"] if nonce is None else nonce
        self.approve_tokens(account, "LicenseMarket", int(price))
        return self.call(account, "LicenseMarket", "buyLicense(uint256,uint256,uint256)", listing_id, int(price),
                         int(nonce), gas=1_500_000)

    def post_demand(self, account: LocalAccount, budget: int, deadline: int | str,
                    description: Mapping[str, Any] | None = None, *, description_hash: bytes | str | None = None,
                    uri: str | None = None, token: str | None = None) -> dict[str, Any]:
        """Post a demand described by a document (stored on the server first) or by the hash and URI of
        one published elsewhere; ``result["demandId"]`` is the demand."""
        if description is not None:
            stored = self.store_metadata(description)
            description_hash, uri = stored["hash"], uri or stored["uri"]
        if description_hash is None or uri is None:
            raise ValidationError("a demand needs a description document, or its hash and URI")
        return self.call(
            account, "Marketplace", "postDemand(bytes32,string,address,uint256,uint40)",
            parse_hash32(description_hash, "the description hash", allow_zero=False), uri,
            parse_address(token, "the token") if token else self.address("SettlementToken"),
            parse_amount(budget, "the budget"), parse_date(deadline, "the deadline", allow_zero=False),
        )

    def close_demand(self, account: LocalAccount, demand_id: int) -> dict[str, Any]:
        return self.call(account, "Marketplace", "closeDemand(uint256)", demand_id)

    def answer_demand(self, account: LocalAccount, demand_id: int, asset_id: int, price: int) -> dict[str, Any]:
        """Answer a demand with ``account``'s asset; ``result["answerId"]`` is the answer."""
        return self.call(account, "Marketplace", "answerDemand(uint256,uint256,uint256)", demand_id, asset_id,
                         parse_amount(price, "the price"))

    def withdraw_answer(self, account: LocalAccount, answer_id: int) -> dict[str, Any]:
        return self.call(account, "Marketplace", "withdrawAnswer(uint256)", answer_id)

    def accept_answer(self, account: LocalAccount, answer_id: int, expiry: int | str,
                      price: int | None = None) -> dict[str, Any]:
        """Accept an answer to ``account``'s demand: its price (read from the answer unless given) is
        approved and goes into escrow as an offer; ``result["offerId"]`` is the offer."""
        if price is None:
            price = int(self.get(f"/market/answers/{answer_id}")["price"])
        self.approve_tokens(account, "Marketplace", price)
        return self.call(account, "Marketplace", "acceptAnswer(uint256,uint40)", answer_id,
                         parse_date(expiry, "the expiry", allow_zero=False))

    # -- sealed documents ---------------------------------------------------------------------------

    def encryption_key(self, address: str, version: int | None = None) -> dict[str, Any]:
        """An account's published encryption key (``GET /keys/{address}``)."""
        return dict(self.get(f"/keys/{address}", **({} if version is None else {"version": version})))

    def upload_sealed(self, path: Path) -> dict[str, Any]:
        """Store a sealed file on the server (streamed; ciphertext only): its ``sealed_id`` and recipients."""
        try:
            with path.open("rb") as fh:
                return dict(self._json(self.http.post("/sealed", content=fh,
                                                      headers={"Content-Type": "application/octet-stream"})))
        except httpx.TransportError as exc:
            raise ChainUnavailableError(f"the API at {self.http.base_url} does not answer: {exc}") from None

    def sealed_for(self, address: str) -> dict[str, Any]:
        """The sealed documents addressed to ``address``: ``{"data": [...], "count"}``."""
        return dict(self.get("/sealed", recipient=address))

    def sealed_info(self, sealed_id: str) -> dict[str, Any]:
        """A stored document's header, recipients and the ledger records its plaintext hash matches."""
        return dict(self.get(f"/sealed/{sealed_id}/info"))

    def download_sealed(self, sealed_id: str, target: Path) -> None:
        """Write the stored sealed file to ``target`` (atomically), streamed."""
        from ledger.sealing.stream import atomic_output

        try:
            with self.http.stream("GET", f"/sealed/{sealed_id}") as response:
                if response.status_code >= 400:
                    response.read()
                    self._json(response)
                with atomic_output(target) as out:
                    for block in response.iter_bytes():
                        out.write(block)
        except httpx.TransportError as exc:
            raise ChainUnavailableError(f"the API at {self.http.base_url} does not answer: {exc}") from None

    def add_sealed_recipients(self, account: LocalAccount, sealed_id: str, entries: list[Recipient]
                              ) -> dict[str, Any]:
        """Add wrapped keys to a stored document, signed by ``account`` (its sealer or a recipient)."""
        from eth_account.messages import encode_defunct

        from ledger.sealing.store import recipients_message

        signed = account.sign_message(encode_defunct(text=recipients_message(sealed_id, entries)))
        return dict(self.post(f"/sealed/{sealed_id}/recipients", {
            "entries": [e.as_json() for e in entries], "signer": account.address,
            "signature": "0x" + bytes(signed.signature).hex()}))

    def disclose(self, account: LocalAccount, document_id: str, plaintext_hash: str, recipients: list[str]
                 ) -> dict[str, Any]:
        """Record on chain (KeyDirectory.disclose, relayed) that ``account`` gave ``recipients`` the document."""
        return self.call(account, "KeyDirectory", "disclose(bytes32,bytes32,address[])",
                         parse_hash32(document_id), parse_hash32(plaintext_hash),
                         [parse_address(r, "a recipient") for r in recipients])

    def close(self) -> None:
        self.http.close()
