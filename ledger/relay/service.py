"""Signed requests relayed through OpenZeppelin's ERC2771Forwarder: users keep their keys, pay no gas.

Client side, :func:`sign_request` builds an ERC-2771 ``ForwardRequest`` for one contract
call and signs it with EIP-712 using the user's own key (eth-account). Server side,
:class:`RelayService` checks a request as the forwarder will (a target that trusts it, a
low-s signature by the sender, the deadline with a margin, the nonce, ``verify``, the call
itself with the request's gas) and sends ``forwarder.execute``, or ``executeBatch`` for
what arrived together, from the relayer's account; the target reads the user from
``_msgSender()``.

Idempotency by signature: a request is sent at most once. Re-posting it (a retry after a
timeout) is answered with the transaction it went out in, as a conflict, even if it failed
there, and nothing is sent again. A sender's nonce is held from arrival to outcome, and a
request's gas is capped so that batches fit in a block.
"""

from __future__ import annotations

import datetime
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from ledger import messages
from ledger.chain.client import ChainClient, Contract, Event, Receipt
from ledger.errors import (
    ChainError,
    ConflictError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    TransactionFailedError,
    ValidationError,
    contract_error,
)

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


BATCH_OVERHEAD_GAS = 50_000
"""What an ``executeBatch`` costs beyond its requests' own gas (intrinsic gas, the loop, the refund check)."""

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def check_signature_form(signature: str) -> None:
    """Refuse the signature forms eth_account accepts but OpenZeppelin's ECDSA (the forwarder's) rejects.

    ECDSA.tryRecover accepts only v of 27 or 28 (some wallets give the recovery id 0/1) and s
    in the lower half of the curve order (EIP-2: the high-s twin of a signature is malleable).
    """
    raw = HexBytes(signature)
    if len(raw) != 65:
        raise ValidationError(f"a signature is 65 bytes (r, s, v), not {len(raw)}")
    s, v = int.from_bytes(raw[32:64], "big"), raw[64]
    if v not in (27, 28):
        hint = "; add 27 to it (this wallet gives the recovery id 0/1)" if v in (0, 1) else ""
        raise contract_error("ECDSAInvalidSignature", {"v": v},
                             f"the signature's v is {v}, but the forwarder accepts only 27 or 28{hint}")
    if s > SECP256K1_N // 2:
        raise contract_error(
            "ECDSAInvalidSignatureS", {"s": f"0x{s:064x}"},
            "the signature's s is in the upper half of the curve order (a malleable high-s signature, "
            "EIP-2), which the forwarder rejects: use s' = n - s and flip v (27 <-> 28), or a wallet that "
            "signs with low s")


def intrinsic_gas(data: bytes) -> int:
    """The gas a transaction with ``data`` pays before executing (EIP-2028): the rest is the call's."""
    zeros = data.count(0)
    return 21_000 + 16 * (len(data) - zeros) + 4 * zeros


def floor_gas(data: bytes) -> int:
    """The least gas limit a transaction with ``data`` may have (EIP-7623's calldata floor)."""
    zeros = data.count(0)
    return 21_000 + 40 * (len(data) - zeros) + 10 * zeros


def _revert_data(error: Any) -> str | None:
    """The revert data in a JSON-RPC error object, if the node gave any."""
    data = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, dict):
        data = data.get("data")
    return data if isinstance(data, str) and data.startswith("0x") and len(data) > 2 else None


def _when(timestamp: int) -> str:
    return f"{timestamp} ({datetime.datetime.fromtimestamp(timestamp, datetime.UTC):%Y-%m-%d %H:%M:%S} UTC)"


def _sent_in(done: Future[Relayed]) -> str | None:
    """The transaction a settled request went out in, or None if it was never sent."""
    exc = done.exception()
    if exc is None:
        return done.result().tx_hash
    tx_hash = exc.context.get("tx_hash") if isinstance(exc, LedgerError) else None
    return str(tx_hash) if tx_hash else None


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
        carried: _Pending | None = None
        while True:
            items = [carried if carried is not None else self.queue.get()]
            carried = None
            # Fill the batch up to max_batch requests and the block's gas limit; the first request
            # that does not fit opens the next batch. (A request alone always fits: its gas is capped.)
            budget = self.service.batch_gas_budget() - self.service.gas_of(items[0].request)
            while len(items) < self.max_batch:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                budget -= self.service.gas_of(item.request)
                if budget < 0:
                    carried = item
                    break
                items.append(item)
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
        *, max_batch: int = 64, deadline_margin: int = 30, max_request_gas: int = 2_000_000,
    ) -> None:
        self.client = client
        self.deadline_margin = deadline_margin
        self.max_request_gas = max_request_gas
        self._block_gas_limit = 30_000_000  # until the first check reads the head block's
        self.forwarder = forwarder
        self.targets = {to_checksum_address(a): c for a, c in targets.items()}
        self.seen = _Seen(state)
        self._batcher = _Batcher(self, max_batch)
        self._executed_topic = HexBytes(keccak(text="ExecutedForwardRequest(address,uint256,bool)"))
        self._nonces_selector = HexBytes(keccak(text="nonces(address)")[:4])
        self._trusted_selector = HexBytes(keccak(text="isTrustedForwarder(address)")[:4])
        self._trusted: dict[str, bool] = {}
        self._slots: set[tuple[str, int]] = set()  # (sender, nonce) of the requests being relayed
        self._slots_lock = threading.Lock()

    def nonce(self, address: str) -> int:
        return int(self.client.call(self.forwarder.functions.nonces(to_checksum_address(address))))

    def relay(self, request: SignedRequest, *, admit: Callable[[str], None] | None = None) -> Relayed:
        """Validate ``request``, send it through the forwarder, and return the decoded outcome.

        Everything the forwarder will check is checked first, so the relayer never pays for a
        request the forwarder or the target refuses: our contract and one that trusts the
        forwarder, no value, a deadline far enough ahead, a signature OpenZeppelin's ECDSA
        accepts (low s, v of 27 or 28) by the sender, then in one round trip the sender's
        nonce, ``verify(request)`` and the call itself run as the forwarder will run it.

        ``admit`` is called with the sender once the signature verifies and the request is not a
        replay of one already relayed, before anything is reserved or read from the chain (the API's
        per-sender rate limit); it raises to refuse.

        A signed request is sent at most once: once sent, its signature stays used whatever
        the outcome, so a request that failed on chain is never paid for again.
        """
        target = self.targets.get(to_checksum_address(request.to))
        if target is None:
            raise PermissionDeniedError(f"{request.to} is not a contract of this ledger; requests are relayed "
                                        "only to its own contracts")
        if request.value != 0:
            raise ValidationError("relayed requests carry no value")
        self.check_gas(request)
        self.check_deadline(request, self.client.recent_block_time())
        check_signature_form(request.signature)
        signer = recover_signer(request, self.client.chain_id, self.forwarder.address)
        if signer != to_checksum_address(request.sender):
            raise contract_error(
                "ERC2771ForwarderInvalidSigner", {"signer": signer, "from": to_checksum_address(request.sender)},
                f"the request is signed by {signer}, not by its sender {request.sender} (or it was signed "
                "for another chain, forwarder or content)")
        if not self._trusts_forwarder(target):
            raise contract_error(
                "ERC2771UntrustfulTarget", {"target": target.address, "forwarder": self.forwarder.address},
                messages.sentence("ERC2771UntrustfulTarget",
                                  {"target": target.address, "forwarder": self.forwarder.address}))
        key = keccak(HexBytes(request.signature)).hex()
        earlier = self.seen.claim(key)
        if earlier is not None:
            raise ConflictError(
                "this signed request was already relayed" + (
                    " and is being executed" if earlier == "pending" else
                    f" in {earlier}; a signed request is sent at most once, even if it failed: sign a new "
                    "one with the sender's next nonce"),
                tx_hash=None if earlier == "pending" else earlier,
            )
        if admit is not None:  # after the replay check: a replayed request, public once sent, spends nothing
            try:
                admit(signer)
            except BaseException:
                self.seen.done(key, None)
                raise
        slot = (signer, request.nonce)
        if not self._reserve(slot):
            self.seen.done(key, None)
            raise ConflictError(
                f"{signer} already has a request with nonce {request.nonce} being relayed; only one can be "
                f"executed: wait for its outcome, and sign the next request with nonce {request.nonce + 1}",
                nonce=request.nonce)
        try:
            self._check_on_chain(request)
        except BaseException:
            self._release(slot)
            self.seen.done(key, None)  # nothing was sent: the same request may be posted again
            raise
        def settle(done: Future[Relayed]) -> None:
            """Run by the relaying thread, even if this waiter gave up: sent means used."""
            self.seen.done(key, _sent_in(done))
            self._release(slot)

        pending = _Pending(request, target)
        pending.done.add_done_callback(settle)
        self._batcher.queue.put(pending)
        try:
            return pending.done.result(timeout=self.client.receipt_timeout + 30)
        except FutureTimeout:
            raise TransactionFailedError(
                f"no outcome after {self.client.receipt_timeout + 30:.0f}s; the request may still be executed: "
                "post it again later to learn its transaction") from None

    def _reserve(self, slot: tuple[str, int]) -> bool:
        """Hold a sender's nonce from arrival to outcome: a second request with it is refused on arrival."""
        with self._slots_lock:
            if slot in self._slots:
                return False
            self._slots.add(slot)
            return True

    def _release(self, slot: tuple[str, int]) -> None:
        with self._slots_lock:
            self._slots.discard(slot)

    def request_gas_cap(self) -> int:
        """The most gas one request may name: the configured cap, and at most half a batch's block."""
        return min(self.max_request_gas, self.batch_gas_budget() // 2)

    def check_gas(self, request: SignedRequest) -> None:
        """A request's gas is capped, so that one sender cannot fill (or overflow) a batch's block."""
        cap = self.request_gas_cap()
        if request.gas > cap:
            raise ValidationError(
                f"the request's gas ({request.gas}) is over the relay's cap of {cap} per request; a call that "
                "needs more cannot be relayed: split it, or send it yourself", gas=request.gas, max_gas=cap)

    def check_deadline(self, request: SignedRequest, head_time: int) -> None:
        """The deadline must leave a margin after the later of the wall clock and the last block's time.

        The forwarder compares it with the time of the block that will include the request, which
        is at least the head's time and, on a live chain, close to the wall clock.
        """
        now = max(int(time.time()), head_time)
        if request.deadline < now + self.deadline_margin:
            raise contract_error(
                "ERC2771ForwarderExpiredRequest", {"deadline": request.deadline},
                f"the request expired or would expire before it is mined: its deadline is {_when(request.deadline)}, "
                f"and the relay needs at least {self.deadline_margin}s after now ({_when(now)}, the later of the "
                "clock and the last block's time); sign it again with a later deadline")

    def _trusts_forwarder(self, target: Contract) -> bool:
        """``target.isTrustedForwarder(forwarder)``, read as the forwarder reads it (cached: it is immutable)."""
        trusted = self._trusted.get(target.address)
        if trusted is None:
            data = HexBytes(self._trusted_selector + bytes(12) + HexBytes(self.forwarder.address)).to_0x_hex()
            (response,) = self.client.rpc_batch([("eth_call", [{"to": target.address, "data": data}, "latest"])],
                                               raw=True)
            result = HexBytes(response.get("result") or "0x")
            trusted = len(result) >= 32 and int.from_bytes(result[:32], "big") > 0
            self._trusted[target.address] = trusted
        return trusted

    @staticmethod
    def gas_of(request: SignedRequest) -> int:
        """The relayer's gas for one request in a batch, an upper bound sized from ``request.gas``.

        The forwarder passes request.gas to the call and keeps 1/64 back (EIP-150), plus its own
        checks (signature, nonce, event) and the request's calldata in the batch; sizing from
        request.gas saves an estimate on the hot path (unused gas is not paid for).
        """
        calldata = len(HexBytes(request.data)) + 12 * 32  # the struct's words, signature and offsets
        return request.gas * 64 // 63 + 60_000 + 16 * calldata

    def batch_gas_budget(self) -> int:
        """The most gas one relayed transaction may ask for: the block gas limit, less the batch's own costs."""
        return self._block_gas_limit - BATCH_OVERHEAD_GAS

    def _send(self, items: list[_Pending]) -> None:
        """Send one transaction for ``items`` and resolve each with its own outcome."""
        if len(items) == 1:
            item = items[0]
            fn = self.forwarder.functions.execute(self._on_chain(item.request))
            try:
                receipt = self.client.transact(fn, gas=self.gas_of(item.request))
            except LedgerError as exc:
                if not exc.context.get("tx_hash"):
                    raise
                raise ConflictError(
                    f"the request failed when executed in {exc.context['tx_hash']} (the chain changed since it "
                    f"was checked: {exc.message}); its signature is used", tx_hash=exc.context["tx_hash"]) from None
            item.done.set_result(self._outcome(receipt, self.client.events(item.target, receipt)))
            return
        relayer = self.client.signer().address
        fn = self.forwarder.functions.executeBatch([self._on_chain(i.request) for i in items], relayer)
        receipt = self.client.transact(fn, gas=sum(self.gas_of(i.request) for i in items) + BATCH_OVERHEAD_GAS)
        # The forwarder executes in order and emits one event per executed request: the first
        # request of a (sender, nonce) in the batch is the one that event is about.
        by_key: dict[tuple[str, int], list[_Pending]] = {}
        for i in items:
            by_key.setdefault((to_checksum_address(i.request.sender), i.request.nonce), []).append(i)
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
            if by_key.get((signer, nonce)):
                item = by_key[(signer, nonce)].pop(0)
                if success:
                    item.done.set_result(self._outcome(receipt, self.client.decode_logs(item.target, buffered)))
                else:
                    item.done.set_exception(ConflictError(
                        f"the call reverted when executed in {receipt.tx_hash} (the chain changed since it "
                        "was checked)", tx_hash=receipt.tx_hash))
            buffered = []
        for item in (i for left in by_key.values() for i in left):
            item.done.set_exception(ConflictError(
                f"the request was not executed in {receipt.tx_hash}: its nonce was used by another request",
                tx_hash=receipt.tx_hash, nonce=item.request.nonce))

    @staticmethod
    def _outcome(receipt: Receipt, events: list[Event]) -> Relayed:
        result: dict[str, Any] = {}
        for event in events:
            result.update({k: v for k, v in event.args.items() if k.endswith("Id") or k in ("leaf", "root")})
        return Relayed(receipt.tx_hash, receipt.block_number, receipt.block_hash, receipt.gas_used, events, result)

    def _check_on_chain(self, request: SignedRequest) -> None:
        """What the forwarder will check, and the inner call run as the forwarder will run it, in one round trip.

        The sender's nonce, ``verify(request)``, the head block (its time for the deadline) and
        the call of the target from the forwarder's address with the sender appended, given
        exactly ``request.gas`` for its execution. ERC2771Forwarder.execute hides a failed call
        behind ``FailedCall()``; the direct call surfaces the contract's own error.
        """
        sender = HexBytes(to_checksum_address(request.sender))
        nonce_data = HexBytes(self._nonces_selector + bytes(12) + sender).to_0x_hex()
        verify_data = self.forwarder.functions.verify(self._on_chain(request))._encode_transaction_data()
        forwarder = self.forwarder.address
        inner_data = HexBytes(HexBytes(request.data) + sender)
        inner_call = {"from": forwarder, "to": to_checksum_address(request.to), "data": inner_data.to_0x_hex(),
                      "gas": hex(max(request.gas + intrinsic_gas(inner_data), floor_gas(inner_data)))}
        nonce_response, verify_response, head_response, inner_response = self.client.rpc_batch([
            ("eth_call", [{"to": forwarder, "data": nonce_data}, "latest"]),
            ("eth_call", [{"to": forwarder, "data": verify_data}, "latest"]),
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_call", [inner_call, "latest"]),
        ], raw=True)
        for response in (nonce_response, verify_response, head_response):
            if "error" in response:
                raise ChainError(f"cannot read the forwarder's state: {response['error']}")
        head = head_response["result"]
        self._block_gas_limit = int(head["gasLimit"], 16)
        self.check_deadline(request, int(head["timestamp"], 16))
        current = int(nonce_response["result"], 16)
        if request.nonce != current:
            raise ConflictError(
                f"the request's nonce {request.nonce} is not the sender's next ({current}): "
                "it was replayed or built on a stale nonce", nonce=request.nonce, expected_nonce=current,
            )
        if int(verify_response["result"], 16) != 1:
            raise ConflictError(
                f"the forwarder's verify() refuses this request at block {int(head['number'], 16)}",
            )
        if "error" in inner_response:
            data = _revert_data(inner_response["error"])
            if data is None:
                raise self._without_reason(request, inner_data)
            raise self.client.errors.decode(data)

    def _without_reason(self, request: SignedRequest, inner_data: HexBytes) -> LedgerError:
        """A simulated call that failed without revert data: out of gas, or a call the target cannot take.

        Estimating the call with no gas cap tells them apart: if it succeeds, the request's gas
        was too low, and the estimate (less the transaction's intrinsic gas, which the forwarder's
        call does not pay) is what the request's ``gas`` must be.
        """
        call = {"from": self.forwarder.address, "to": to_checksum_address(request.to),
                "data": inner_data.to_0x_hex()}
        (response,) = self.client.rpc_batch([("eth_estimateGas", [call, "latest"])], raw=True)
        if "error" in response:
            data = _revert_data(response["error"])
            if data is not None:
                return self.client.errors.decode(data)
            return ValidationError(
                f"the call of {request.to} reverts without a reason whatever its gas: is the calldata a function "
                "of that contract, with well-formed arguments?")
        needed = int(response["result"], 16) - intrinsic_gas(inner_data)
        return ValidationError(
            f"the request's gas ({request.gas}) is insufficient: the call runs out of gas. It needs about {needed} "
            f"(estimated); sign the request again with gas of at least {needed}, with some headroom",
            estimated_gas=needed, gas=request.gas)

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
