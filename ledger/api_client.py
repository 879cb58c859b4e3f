"""A Python client of the ipledger HTTP API: reads, and writes as user-signed relayed requests.

The user's key signs locally (EIP-712, eth-account); only the signed request travels.
Problems (RFC 9457) come back as the matching ``ledger.errors`` exceptions.
"""

from __future__ import annotations

from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from .errors import (
    ChainUnavailableError,
    ConflictError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    TransactionFailedError,
    ValidationError,
    VerificationError,
)
from .relay import sign_request

_BY_STATUS: dict[int, type[LedgerError]] = {
    400: ValidationError, 403: PermissionDeniedError, 404: NotFoundError, 409: ConflictError,
    413: ValidationError, 422: VerificationError, 429: ConflictError, 502: TransactionFailedError,
    503: ChainUnavailableError,
}


class ApiClient:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self._chain: dict[str, Any] | None = None

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text}
            cls = _BY_STATUS.get(response.status_code, LedgerError)
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
        return self._chain

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
            to=to, data=data, nonce=nonce, gas=gas, deadline=deadline,
        )
        result: dict[str, Any] = self.post("/relay", request.as_json())
        return result

    def close(self) -> None:
        self.http.close()
