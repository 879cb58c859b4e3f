"""Signed requests relayed through OpenZeppelin's ERC2771Forwarder: users keep their keys, pay no gas.

Client side, :func:`sign_request` builds an ERC-2771 ``ForwardRequest`` for one contract
call and signs it with EIP-712 using the user's own key (eth-account). Server side,
:class:`RelayService` checks a request (our contract, signer, deadline, the call itself)
and sends ``forwarder.execute`` from the relayer's account; the target reads the user
from ``_msgSender()``.

Idempotency by signature: a request is relayed at most once. Re-posting it (a retry after
a timeout) is answered with the transaction of the first relay, as a conflict, and
nothing is sent again.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from ledger.chain.client import ChainClient, Contract, Event, Receipt
from ledger.errors import ConflictError, LedgerError, NotFoundError, PermissionDeniedError, ValidationError

FORWARDER_NAME = "ipledger"
FORWARDER_VERSION = "1"

FORWARD_REQUEST_TYPES = {
    "ForwardRequest": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "gas", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint48"},
        {"name": "data", "type": "bytes"},
    ]
}


@dataclass(frozen=True)
class SignedRequest:
    """An ERC-2771 request as posted to the API (hex strings for bytes)."""

    sender: str
    to: str
    value: int
    gas: int
    nonce: int
    deadline: int
    data: str
    signature: str

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.sender, "to": self.to, "value": self.value, "gas": self.gas,
            "nonce": self.nonce, "deadline": self.deadline, "data": self.data, "signature": self.signature,
        }


def domain(chain_id: int, forwarder: str) -> dict[str, Any]:
    return {
        "name": FORWARDER_NAME,
        "version": FORWARDER_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(forwarder),
    }


def sign_request(
    account: LocalAccount,
    *,
    chain_id: int,
    forwarder: str,
    to: str,
    data: bytes | str,
    nonce: int,
    gas: int = 500_000,
    deadline: int | None = None,
    value: int = 0,
) -> SignedRequest:
    """Sign a call of ``to`` with ``data`` as ``account``, valid until ``deadline`` (default 10 min)."""
    deadline = deadline if deadline is not None else int(time.time()) + 600
    to = to_checksum_address(to)
    message: dict[str, Any] = {
        "from": account.address, "to": to, "value": value, "gas": gas,
        "nonce": nonce, "deadline": deadline, "data": HexBytes(data),
    }
    signed = Account.sign_typed_data(account.key, domain(chain_id, forwarder), FORWARD_REQUEST_TYPES, message)
    return SignedRequest(
        sender=account.address, to=to, value=value, gas=gas, nonce=nonce,
        deadline=deadline, data=HexBytes(data).to_0x_hex(), signature=HexBytes(signed.signature).to_0x_hex(),
    )


def recover_signer(request: SignedRequest, chain_id: int, forwarder: str) -> str:
    message = {
        "from": request.sender, "to": request.to, "value": request.value, "gas": request.gas,
        "nonce": request.nonce, "deadline": request.deadline, "data": HexBytes(request.data),
    }
    from eth_account.messages import encode_typed_data

    encoded = encode_typed_data(domain(chain_id, forwarder), FORWARD_REQUEST_TYPES, message)
    try:
        return str(Account.recover_message(encoded, signature=HexBytes(request.signature)))
    except (ValueError, TypeError, BadSignature) as exc:
        raise PermissionDeniedError(f"the signature does not verify: {exc}") from None


@dataclass(frozen=True)
class Relayed:
    """The outcome of a relayed request: where it landed and what it did."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    events: list[Event]
    result: dict[str, Any]


class _Seen:
    """Signatures already relayed (durable): the idempotency key of a request is its signature."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS relayed (sig TEXT PRIMARY KEY, tx_hash TEXT, at REAL)")
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()

    def claim(self, sig: str) -> str | None:
        """Reserve ``sig`` for relaying; return the earlier tx hash if it was relayed before."""
        with self._lock:
            row = self._db.execute("SELECT tx_hash FROM relayed WHERE sig = ?", (sig,)).fetchone()
            if row is not None:
                return str(row[0])
            if sig in self._in_flight:
                return "pending"
            self._in_flight.add(sig)
            return None

    def done(self, sig: str, tx_hash: str | None) -> None:
        with self._lock:
            self._in_flight.discard(sig)
            if tx_hash is not None:
                self._db.execute("INSERT OR REPLACE INTO relayed VALUES (?, ?, ?)", (sig, tx_hash, time.time()))

    def close(self) -> None:
        self._db.close()


@dataclass
class _Pending:
    request: SignedRequest
    target: Contract
    done: Future[Relayed] = field(default_factory=Future)


class _Batcher:
    """One relaying thread: whatever arrived while the last transaction was mined goes in the next.

    Under load many requests share one ``executeBatch`` transaction (one nonce, one receipt),
    which is what lets one relayer key carry hundreds of writes a second; alone, a request
    goes through ``execute``.
    """

    def __init__(self, service: RelayService, max_batch: int) -> None:
        self.service = service
        self.max_batch = max_batch
        self.queue: queue.Queue[_Pending] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="ipledger-relayer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            items = [self.queue.get()]
            while len(items) < self.max_batch:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.service._send(items)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of it, whatever it is
                for item in items:
                    if not item.done.done():
                        item.done.set_exception(exc)


class RelayService:
    """Check and relay users' signed requests to the suite's contracts."""

    def __init__(
        self, client: ChainClient, forwarder: Contract, targets: dict[str, Contract], state: Path,
        *, max_batch: int = 64,
    ) -> None:
        self.client = client
        self.forwarder = forwarder
        self.targets = {to_checksum_address(a): c for a, c in targets.items()}
        self.seen = _Seen(state)
        self._batcher = _Batcher(self, max_batch)
        self._executed_topic = HexBytes(keccak(text="ExecutedForwardRequest(address,uint256,bool)"))
        self._nonces_selector = HexBytes(keccak(text="nonces(address)")[:4])

    def nonce(self, address: str) -> int:
        return int(self.client.call(self.forwarder.functions.nonces(to_checksum_address(address))))

    def relay(self, request: SignedRequest, *, admit: Callable[[str], None] | None = None) -> Relayed:
        """Validate ``request``, send it through the forwarder, and return the decoded outcome.

        ``admit`` is called with the sender once the signature verifies, before anything is
        reserved or read from the chain (the API's per-sender rate limit); it raises to refuse.
        """
        target = self.targets.get(to_checksum_address(request.to))
        if target is None:
            raise PermissionDeniedError(f"{request.to} is not a contract of this ledger; requests are relayed "
                                        "only to its own contracts")
        if request.value != 0:
            raise ValidationError("relayed requests carry no value")
        if request.deadline < self.client.recent_block_time():
            raise ValidationError(f"the request expired at {request.deadline} (unix time)")
        signer = recover_signer(request, self.client.chain_id, self.forwarder.address)
        if signer != to_checksum_address(request.sender):
            raise PermissionDeniedError(f"the request is signed by {signer}, not by its sender {request.sender}")
        if admit is not None:
            admit(signer)
        key = keccak(HexBytes(request.signature)).hex()
        earlier = self.seen.claim(key)
        if earlier is not None:
            raise ConflictError(
                "this signed request was already relayed" + ("" if earlier == "pending" else f" in {earlier}"),
                tx_hash=None if earlier == "pending" else earlier,
            )
        tx_hash: str | None = None
        try:
            self._check_on_chain(request)
            pending = _Pending(request, target)
            self._batcher.queue.put(pending)
            relayed = pending.done.result(timeout=self.client.receipt_timeout + 30)
            tx_hash = relayed.tx_hash
        except LedgerError:
            self.seen.done(key, None)
            raise
        self.seen.done(key, tx_hash)
        return relayed

    @staticmethod
    def _gas(request: SignedRequest) -> int:
        # The forwarder passes request.gas to the call and keeps 1/64 back (EIP-150), plus its own
        # checks (signature, nonce, event); sizing from request.gas saves an estimate on the hot path.
        return request.gas * 64 // 63 + 60_000

    def _send(self, items: list[_Pending]) -> None:
        """Send one transaction for ``items`` and resolve each with its own outcome."""
        if len(items) == 1:
            item = items[0]
            fn = self.forwarder.functions.execute(self._on_chain(item.request))
            receipt = self.client.transact(fn, gas=self._gas(item.request))
            item.done.set_result(self._outcome(receipt, self.client.events(item.target, receipt)))
            return
        relayer = self.client.signer().address
        fn = self.forwarder.functions.executeBatch([self._on_chain(i.request) for i in items], relayer)
        receipt = self.client.transact(fn, gas=sum(self._gas(i.request) for i in items) + 50_000)
        by_key = {(to_checksum_address(i.request.sender), i.request.nonce): i for i in items}
        buffered: list[Any] = []
        for log in receipt.logs:
            topics = log["topics"]
            if to_checksum_address(log["address"]) != self.forwarder.address or not topics or (
                HexBytes(topics[0]) != self._executed_topic
            ):
                buffered.append(log)
                continue
            signer = to_checksum_address(HexBytes(topics[1])[-20:])
            nonce, success = int.from_bytes(HexBytes(log["data"])[:32], "big"), HexBytes(log["data"])[-1] == 1
            if (signer, nonce) in by_key:
                item = by_key.pop((signer, nonce))
                if success:
                    item.done.set_result(self._outcome(receipt, self.client.decode_logs(item.target, buffered)))
                else:
                    item.done.set_exception(ConflictError(
                        f"the call reverted when executed in {receipt.tx_hash} (the chain changed since it "
                        "was checked)", tx_hash=receipt.tx_hash))
            buffered = []
        for item in by_key.values():
            item.done.set_exception(ConflictError(
                f"the request was not executed in {receipt.tx_hash}: its nonce was used by another request"))

    @staticmethod
    def _outcome(receipt: Receipt, events: list[Event]) -> Relayed:
        result: dict[str, Any] = {}
        for event in events:
            result.update({k: v for k, v in event.args.items() if k.endswith("Id") or k in ("leaf", "root")})
        return Relayed(receipt.tx_hash, receipt.block_number, receipt.block_hash, receipt.gas_used, events, result)

    def _check_on_chain(self, request: SignedRequest) -> None:
        """The sender's forwarder nonce, and the inner call run as the forwarder would, in one round trip.

        ERC2771Forwarder.execute hides a failed call behind ``FailedCall()``; calling the target
        from the forwarder's address with the sender appended surfaces the contract's own error.
        """
        sender = HexBytes(to_checksum_address(request.sender))
        nonce_data = HexBytes(self._nonces_selector + bytes(12) + sender).to_0x_hex()
        nonce_call = {"to": self.forwarder.address, "data": nonce_data}
        inner_call = {"from": self.forwarder.address, "to": to_checksum_address(request.to),
                      "data": HexBytes(HexBytes(request.data) + sender).to_0x_hex(), "gas": hex(request.gas)}
        nonce_response, inner_response = self.client.rpc_batch(
            [("eth_call", [nonce_call, "latest"]), ("eth_call", [inner_call, "latest"])], raw=True)
        if "error" in nonce_response:
            raise ConflictError(f"cannot read the forwarder nonce: {nonce_response['error']}")
        current = int(nonce_response["result"], 16)
        if request.nonce != current:
            raise ConflictError(
                f"the request's nonce {request.nonce} is not the sender's next ({current}): "
                "it was replayed or built on a stale nonce"
            )
        if "error" in inner_response:
            error = inner_response["error"]
            data = error.get("data") if isinstance(error, dict) else None
            if isinstance(data, dict):
                data = data.get("data")
            raise self.client.errors.decode(data if isinstance(data, str) and data.startswith("0x") else None)

    @staticmethod
    def _on_chain(request: SignedRequest) -> tuple[Any, ...]:
        return (
            to_checksum_address(request.sender), to_checksum_address(request.to), request.value,
            request.gas, request.deadline, HexBytes(request.data), HexBytes(request.signature),
        )

    def target(self, name_or_address: str) -> Contract:
        try:
            return self.targets[to_checksum_address(name_or_address)]
        except (KeyError, ValueError):
            raise NotFoundError(f"no contract {name_or_address}") from None
