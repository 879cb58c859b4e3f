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

import asyncio
import functools
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coincurve import PublicKey
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from hexbytes import HexBytes
from sha3 import keccak_256  # safe-pysha3
from sqlalchemy import Delete, delete, select, text, tuple_, update
from sqlalchemy.engine import Engine

from ledger import messages
from ledger.chain.client import ChainClient, Contract, Event, Receipt, revert_data_of
from ledger.chain.state import (
    autocommit,
    insert_new,
    insert_or_ignore,
    relay_slots,
    relayed_requests,
    sqlite_engine,
)
from ledger.encoding import checksum_address
from ledger.errors import (
    ChainError,
    ConflictError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    RelayerFundsLowError,
    TransactionFailedError,
    ValidationError,
    contract_error,
)

logger = logging.getLogger(__name__)

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


# The ForwardRequest type is fixed (OpenZeppelin's ERC2771Forwarder), so its EIP-712 digest is hashed
# here from the precomputed type hashes with eth_abi, and the signer recovered with coincurve
# (libsecp256k1), rather than through eth_account's generic typed-data encoder and recovery: those
# walk the types and re-hash them for every request, and cost the relay more CPU per request than
# anything else it did (benchmarks/api.md). test_recover_signer_agrees_with_eth_account checks the two agree.
def _keccak(data: bytes) -> bytes:
    """Keccak-256 by safe-pysha3 (C): eth_utils' ``keccak`` goes through eth-hash's default backend,
    pycryptodome, several times slower per call, and the relay hashes three times per request."""
    return bytes(keccak_256(data).digest())


_FORWARD_REQUEST_TYPEHASH = keccak(text=(
    "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"))
_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_STRUCT_TYPES = ["bytes32", "address", "address", "uint256", "uint256", "uint256", "uint48", "bytes32"]


@functools.lru_cache(maxsize=16)
def domain_separator(chain_id: int, forwarder: str) -> bytes:
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"], [
        _DOMAIN_TYPEHASH, keccak(text=FORWARDER_NAME), keccak(text=FORWARDER_VERSION), chain_id,
        bytes.fromhex(forwarder[2:])]))


def request_digest(request: SignedRequest, chain_id: int, forwarder: str) -> bytes:
    """The EIP-712 digest the sender signed: ``keccak(0x1901 || domainSeparator || hashStruct(request))``."""
    struct = _keccak(abi_encode(_STRUCT_TYPES, [
        _FORWARD_REQUEST_TYPEHASH, bytes.fromhex(request.sender[2:]), bytes.fromhex(request.to[2:]), request.value,
        request.gas, request.nonce, request.deadline, _keccak(bytes(HexBytes(request.data)))]))
    return _keccak(b"\x19\x01" + domain_separator(chain_id, forwarder.lower()) + struct)


def recover_signer(request: SignedRequest, chain_id: int, forwarder: str) -> str:
    """The checksummed address that signed ``request`` (its form, v 27/28 and low s, checked before)."""
    try:
        raw = HexBytes(request.signature)
        if len(raw) != 65 or raw[64] not in (27, 28):
            raise ValueError(f"a 65-byte signature with v 27 or 28 expected, got {len(raw)} bytes")
        digest = request_digest(request, chain_id, forwarder)
        public = PublicKey.from_signature_and_message(bytes(raw[:64]) + bytes([raw[64] - 27]), digest, hasher=None)
    except Exception as exc:  # noqa: BLE001 - coincurve and the encoders raise several kinds for bad input
        raise PermissionDeniedError(**messages.notice("signature-unverifiable", reason=str(exc))) from None
    return to_checksum_address(_keccak(public.format(compressed=False)[1:])[-20:])


_REQUEST_TUPLE = "(address,address,uint256,uint256,uint48,bytes,bytes)"
"""ERC2771Forwarder's ForwardRequestData as an ABI tuple (from, to, value, gas, deadline, data, signature)."""
_EXECUTE = function_signature_to_4byte_selector(f"execute({_REQUEST_TUPLE})")
_EXECUTE_BATCH = function_signature_to_4byte_selector(f"executeBatch({_REQUEST_TUPLE}[],address)")
_VERIFY = function_signature_to_4byte_selector(f"verify({_REQUEST_TUPLE})")


def forwarder_calldata(selector: bytes, types: list[str], values: list[Any]) -> bytes:
    """A forwarder call's calldata encoded with eth_abi directly: on the relay's hot path web3's
    contract-function machinery (its normalisers and checksum checks) cost more than the rest of a batch."""
    return selector + abi_encode(types, values)


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
        raise ValidationError(**messages.notice("signature-length", length=len(raw)))
    s, v = int.from_bytes(raw[32:64], "big"), raw[64]
    if v not in (27, 28):
        raise contract_error("ECDSAInvalidSignature", {"v": v},
                             **messages.notice("signature-recovery-id" if v in (0, 1) else "signature-v", v=v))
    if s > SECP256K1_N // 2:
        raise contract_error("ECDSAInvalidSignatureS", {"s": f"0x{s:064x}"}, **messages.notice("signature-high-s"))


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
    data = revert_data_of(error.get("data") if isinstance(error, dict) else None)
    return data if data is not None and len(data) > 2 else None


def _word(response: dict[str, Any]) -> int:
    """An ``eth_call`` answer's first word as an integer (0 for an empty answer: no code there)."""
    result = response.get("result") or "0x"
    return int(result[2:66] or "0", 16)


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


class _Claims:
    """Signed requests taken for relaying, in the shared database: every replica sees every claim.

    The idempotency key of a request is its signature: the first replica to insert its row relays
    it, the others answer with the transaction it went out in (or that it is on its way). A
    sender's (nonce) slot is held the same way, so two replicas never relay two requests with one
    forwarder nonce. A replica that dies leaves its rows behind: older than ``stale_after`` seconds
    (longer than any relay waits) they may be taken over; the forwarder's nonce, spent on chain if
    the dead replica sent the request, keeps it from running twice.
    """

    def __init__(self, engine: Engine, chain_id: int, *, stale_after: float, owned: bool = False) -> None:
        self.engine = engine
        self.chain_id = chain_id
        self.stale_after = stale_after
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._autocommit = autocommit(engine)
        self._owned = owned
        self._postgres = engine.dialect.name == "postgresql"

    def claim(self, sig: str) -> str | None:
        """Reserve ``sig`` for relaying; return the earlier tx hash if it was relayed before ("pending": in flight)."""
        table = relayed_requests
        for _ in range(3):
            now = time.time()
            if insert_or_ignore(self.engine, table, signature_hash=sig, tx_hash=None, claimed_at=now, owner=self.owner):
                return None
            with self.engine.begin() as connection:
                row = connection.execute(select(table.c.tx_hash, table.c.claimed_at).where(
                    table.c.signature_hash == sig)).first()
                if row is None:
                    continue  # given back meanwhile: try again
                if row.tx_hash is not None:
                    return str(row.tx_hash)
                if now - row.claimed_at < self.stale_after:
                    return "pending"
                taken = connection.execute(update(table).where(
                    (table.c.signature_hash == sig) & (table.c.claimed_at == row.claimed_at)
                    & table.c.tx_hash.is_(None)).values(claimed_at=now, owner=self.owner)).rowcount
                if taken == 1:
                    return None
        return "pending"

    # On PostgreSQL a batch's statements have one text whatever the batch's size (arrays, not a
    # VALUES list per row): SQLAlchemy compiles nothing and psycopg parses each text once, which
    # the multi-row Core statements, a new text for every batch size, spent a fifth of the relaying
    # thread on (benchmarks/api.md). SQLite (one process) takes the portable Core statements.
    _PG_CLAIM = text(
        "INSERT INTO relayed_requests (signature_hash, tx_hash, claimed_at, owner) "
        "SELECT k, NULL, :now, :owner FROM unnest(CAST(:keys AS text[])) AS k "
        "ON CONFLICT DO NOTHING RETURNING signature_hash")
    _PG_RESERVE = text(
        "INSERT INTO relay_slots (chain_id, sender, nonce, claimed_at, owner) "
        "SELECT :chain, s, n, :now, :owner FROM unnest(CAST(:senders AS text[]), CAST(:nonces AS text[])) AS u(s, n) "
        "ON CONFLICT DO NOTHING RETURNING sender, nonce")
    _PG_SETTLE = text(
        "WITH used AS (UPDATE relayed_requests AS r SET tx_hash = u.tx "
        "  FROM unnest(CAST(:sent AS text[]), CAST(:txs AS text[])) AS u(k, tx) WHERE r.signature_hash = u.k "
        "  RETURNING 1), "
        "given AS (DELETE FROM relayed_requests WHERE signature_hash = ANY(CAST(:unsent AS text[])) "
        "  AND tx_hash IS NULL AND owner = :owner RETURNING 1), "
        "freed AS (DELETE FROM relay_slots WHERE chain_id = :chain AND owner = :owner AND (sender, nonce) IN "
        "  (SELECT * FROM unnest(CAST(:senders AS text[]), CAST(:nonces AS text[]))) RETURNING 1) "
        "SELECT (SELECT count(*) FROM used), (SELECT count(*) FROM given), (SELECT count(*) FROM freed)")

    def claim_many(self, sigs: list[str]) -> set[str]:
        """Reserve a batch's signatures in one statement; return those reserved (the others, taken
        before or by another replica: :meth:`claim` each, which says by whom and since when)."""
        now = time.time()
        if self._postgres:
            with self._autocommit.connect() as connection:
                return {str(key) for (key,) in connection.execute(
                    self._PG_CLAIM, {"now": now, "owner": self.owner, "keys": sigs})}
        return {str(key) for (key,) in insert_new(self.engine, relayed_requests, [
            {"signature_hash": sig, "tx_hash": None, "claimed_at": now, "owner": self.owner} for sig in sigs])}

    def reserve_many(self, slots: list[tuple[str, int]]) -> set[tuple[str, int]]:
        """Hold a batch's (sender, nonce) slots in one statement; return those held (the others:
        :meth:`reserve` each, which takes over a dead replica's)."""
        now = time.time()
        if self._postgres:
            with self._autocommit.connect() as connection:
                return {(str(sender), int(nonce)) for sender, nonce in connection.execute(self._PG_RESERVE, {
                    "chain": self.chain_id, "now": now, "owner": self.owner,
                    "senders": [a for a, _ in slots], "nonces": [str(n) for _, n in slots]})}
        held = insert_new(self.engine, relay_slots, [
            {"chain_id": self.chain_id, "sender": sender, "nonce": str(nonce), "claimed_at": now, "owner": self.owner}
            for sender, nonce in slots])
        return {(str(sender), int(nonce)) for _, sender, nonce in held}

    def settle(self, sent: dict[str, list[str]], unsent: list[str], slots: list[tuple[str, int]]) -> None:
        """A batch's outcome in a few statements: the signatures that went out stay used with their
        transaction, those never sent are given back, and their nonce slots are freed (each statement
        alone: either order is safe)."""
        table, slot_table = relayed_requests, relay_slots
        with self._autocommit.connect() as connection:
            if self._postgres:  # one statement, one round trip
                connection.execute(self._PG_SETTLE, {
                    "sent": [k for sigs in sent.values() for k in sigs],
                    "txs": [tx for tx, sigs in sent.items() for _ in sigs],
                    "unsent": unsent, "owner": self.owner, "chain": self.chain_id,
                    "senders": [a for a, _ in slots], "nonces": [str(n) for _, n in slots]})
                return
            for tx_hash, sigs in sent.items():
                connection.execute(update(table).where(table.c.signature_hash.in_(sigs)).values(tx_hash=tx_hash))
            if unsent:
                connection.execute(delete(table).where(
                    table.c.signature_hash.in_(unsent) & table.c.tx_hash.is_(None) & (table.c.owner == self.owner)))
            if slots:
                connection.execute(delete(slot_table).where(
                    (slot_table.c.chain_id == self.chain_id) & (slot_table.c.owner == self.owner)
                    & tuple_(slot_table.c.sender, slot_table.c.nonce).in_([(a, str(n)) for a, n in slots])))

    def done(self, sig: str, tx_hash: str | None, slot: tuple[str, int] | None = None) -> None:
        """The request went out in ``tx_hash`` (its signature stays used), or was never sent (given back);
        with ``slot``, its sender's nonce slot is freed in the same transaction."""
        table = relayed_requests
        with self._autocommit.connect() as connection:  # each statement alone: either order is safe
            if tx_hash is not None:
                connection.execute(update(table).where(table.c.signature_hash == sig).values(tx_hash=tx_hash))
            else:
                connection.execute(delete(table).where(
                    (table.c.signature_hash == sig) & table.c.tx_hash.is_(None) & (table.c.owner == self.owner)))
            if slot is not None:
                connection.execute(self._release_statement(*slot))

    def _release_statement(self, sender: str, nonce: int) -> Delete:
        table = relay_slots
        return delete(table).where(
            (table.c.chain_id == self.chain_id) & (table.c.sender == sender) & (table.c.nonce == str(nonce))
            & (table.c.owner == self.owner))

    def reserve(self, sender: str, nonce: int) -> bool:
        """Hold ``sender``'s forwarder ``nonce`` from arrival to outcome (False: another request holds it)."""
        table = relay_slots
        now = time.time()
        key = dict(chain_id=self.chain_id, sender=sender, nonce=str(nonce))
        if insert_or_ignore(self.engine, table, **key, claimed_at=now, owner=self.owner):
            return True
        with self.engine.begin() as connection:  # a dead replica's slot, long past any outcome: take it over
            taken = connection.execute(update(table).where(
                (table.c.chain_id == self.chain_id) & (table.c.sender == sender) & (table.c.nonce == str(nonce))
                & (table.c.claimed_at < now - self.stale_after)).values(claimed_at=now, owner=self.owner)).rowcount
        return bool(taken == 1)

    def release(self, sender: str, nonce: int) -> None:
        with self._autocommit.connect() as connection:
            connection.execute(self._release_statement(sender, nonce))

    def forget_all(self) -> None:
        """Forget every claim (tests that revert the chain under a live relay)."""
        with self.engine.begin() as connection:
            connection.execute(delete(relayed_requests))
            connection.execute(delete(relay_slots))

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()


@dataclass
class _Pending:
    request: SignedRequest
    target: Contract
    key: str = ""
    """The idempotency key: keccak of the signature."""
    signer: str = ""
    admit: Callable[[str], None] | None = None
    slot: tuple[str, int] | None = None
    """The (sender, nonce) held for it, once held."""
    done: Future[Relayed] = field(default_factory=Future)
    """Its outcome on chain (set by the completion)."""
    answer: Future[Relayed] = field(default_factory=Future)
    """What its waiter hears: the outcome once settled in the database, or why it was refused."""


class _Batcher:
    """One relaying thread: whatever arrived while the last transaction was sent goes in the next.

    Under load many requests share one ``executeBatch`` transaction (one nonce, one receipt),
    which is what lets one relayer key carry hundreds of writes a second; alone, a request
    goes through ``execute``. The thread admits what it took from the queue as a batch (claims,
    rate limits, nonce slots and the on-chain pre-check in a few statements and one JSON-RPC
    batch, see :meth:`RelayService._admit`), then signs and sends: receipts are awaited, the
    batch settled in the database and its requests answered by completion threads. Up to
    ``max_in_flight`` transactions may be unmined at once (consecutive nonces), so on a chain
    with block times the next batch goes out while the last waits for its block. With 1 (the
    default) a batch gathers everything that arrived while the previous one was mined: on an
    instant-mining dev chain the largest batches; the next batch is admitted meanwhile.
    """

    def __init__(self, service: RelayService, max_batch: int, max_in_flight: int = 1) -> None:
        self.service = service
        self.max_batch = max_batch
        self.queue: queue.Queue[_Pending] = queue.Queue()
        self.admitted = 0
        """Requests admitted and waiting for the next transaction (with the queue: the backlog)."""
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        self._completion = ThreadPoolExecutor(max_in_flight, thread_name_prefix="ipledger-relay-receipts")
        self.thread = threading.Thread(target=self._run, name="ipledger-relayer", daemon=True)
        self.thread.start()

    def backlog(self) -> int:
        """Requests queued or admitted, not yet sent."""
        return self.queue.qsize() + self.admitted

    def _take(self, items: list[_Pending], budget: int, limit: int) -> _Pending | None:
        """Add queued requests to ``items`` up to ``limit`` of them and ``budget`` gas; return the first
        that does not fit (it opens the next batch). A request alone always fits: its gas is capped."""
        while len(items) < limit:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return None
            cost = self.service.gas_of(item.request)
            if cost > budget:
                return item
            budget -= cost
            items.append(item)
        return None

    def _budget(self, items: list[_Pending]) -> int:
        return self.service.batch_gas_budget() - sum(self.service.gas_of(i.request) for i in items)

    def _run(self) -> None:
        carried: _Pending | None = None
        while True:
            first = carried if carried is not None else self.queue.get()
            items = [first]
            carried = self._take(items, self._budget(items), self.max_batch)
            items = self.service._admit(items)
            self.admitted = len(items)
            if not items:
                continue
            self._in_flight.acquire()  # at most max_in_flight transactions unmined: meanwhile, the queue fills
            if carried is None:  # what arrived while the last transaction was mined joins this one
                more: list[_Pending] = []
                carried = self._take(more, self._budget(items), self.max_batch - len(items))
                items += self.service._admit(more)
            self.admitted = 0
            try:
                complete = self.service._submit(items)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of it, whatever it is
                self._in_flight.release()
                self._fail(items, exc)
                self.service._settle(items)
                continue
            self._completion.submit(self._complete, items, complete)

    def _complete(self, items: list[_Pending], complete: Callable[[], None]) -> None:
        try:
            complete()
        except Exception as exc:  # noqa: BLE001
            self._fail(items, exc)
        finally:
            self._in_flight.release()
            self.service._settle(items)

    @staticmethod
    def _fail(items: list[_Pending], exc: Exception) -> None:
        for item in items:
            if not item.done.done():
                item.done.set_exception(exc)


class RelayService:
    """Check and relay users' signed requests to the suite's contracts."""

    def __init__(
        self, client: ChainClient, forwarder: Contract, targets: dict[str, Contract], state: Path | Engine,
        *, max_batch: int = 64, deadline_margin: int = 30, max_request_gas: int = 2_000_000, max_in_flight: int = 1,
        min_balance: int = 0,
    ) -> None:
        self.client = client
        self.min_balance = min_balance
        """Below this balance (wei) the relayer refuses new requests (503) rather than run dry mid-batch."""
        self._balance: tuple[float, int] | None = None
        self.deadline_margin = deadline_margin
        self.max_request_gas = max_request_gas
        self._block_gas_limit = 30_000_000  # until the first check reads the head block's
        self.forwarder = forwarder
        self.targets = {to_checksum_address(a): c for a, c in targets.items()}
        engine = sqlite_engine(state, [relayed_requests, relay_slots]) if isinstance(state, Path) else state
        self.seen = _Claims(engine, client.chain_id, stale_after=client.receipt_timeout + 90,
                            owned=isinstance(state, Path))
        self._batcher = _Batcher(self, max_batch, max_in_flight)
        self._executed_topic = HexBytes(keccak(text="ExecutedForwardRequest(address,uint256,bool)"))
        self._nonces_selector = HexBytes(keccak(text="nonces(address)")[:4])
        self._trusted_selector = HexBytes(keccak(text="isTrustedForwarder(address)")[:4])
        self._trusted: dict[str, bool] = {}

    def nonce(self, address: str) -> int:
        return int(self.client.call(self.forwarder.functions.nonces(to_checksum_address(address))))

    def balance(self, max_age: float = 2.0) -> int:
        """The relayer's balance in wei, read at most every ``max_age`` seconds (and after each send)."""
        now = time.monotonic()
        cached = self._balance
        if cached is None or now - cached[0] > max_age:
            cached = (now, self.client.balance(self.client.signer().address))
            self._balance = cached
        return cached[1]

    def _paying(self, gas: int) -> None:
        """A transaction went out: take the most it can cost off the known balance (read afresh every
        ``max_age`` seconds). Re-reading it after every batch cost each request a round trip to the node."""
        cached = self._balance
        try:
            most = gas * self.client.fee_fields()["maxFeePerGas"]
        except LedgerError:  # fees rose over the cap meanwhile: read the balance afresh next time
            self._balance = None
            return
        if cached is not None:
            self._balance = (cached[0], cached[1] - most)

    def check_funds(self) -> None:
        """Refuse while the relayer's balance is below ``min_balance`` or the chain's fees are above the
        cap: a clear 503 before anything is claimed or sent, instead of a transaction that cannot be paid."""
        if self.min_balance:
            balance = self.balance()
            if balance < self.min_balance:
                raise RelayerFundsLowError(**messages.notice(
                    "relayer-funds-low", relayer=self.client.signer().address, balance=_ether(balance),
                    threshold=_ether(self.min_balance)), balance=balance, min_balance=self.min_balance)
        self.client.fee_fields()

    def funds(self) -> dict[str, Any]:
        """The relayer's address, balance and threshold (the API's health report)."""
        balance = self.balance()
        return {"address": self.client.signer().address, "balance": balance, "min_balance": self.min_balance,
                "ok": balance >= self.min_balance}

    def relay(self, request: SignedRequest, *, admit: Callable[[str], None] | None = None) -> Relayed:
        """Validate ``request``, send it through the forwarder, and return the decoded outcome.

        Everything the forwarder will check is checked first, so the relayer never pays for a
        request the forwarder or the target refuses: our contract and one that trusts the
        forwarder, no value, a deadline far enough ahead, a signature OpenZeppelin's ECDSA
        accepts (low s, v of 27 or 28) by the sender, then in one round trip ``verify(request)``
        (the sender's current nonce among its checks) and the call itself run as the forwarder
        will run it.

        ``admit`` is called with the sender once the signature verifies and the request is not a
        replay of one already relayed, before anything is reserved or read from the chain (the API's
        per-sender rate limit); it raises to refuse.

        A signed request is sent at most once: once sent, its signature stays used whatever
        the outcome, so a request that failed on chain is never paid for again.
        """
        pending = self._queue(request, admit)
        wait = self.client.receipt_timeout + 30
        try:
            return pending.answer.result(timeout=wait)
        except FutureTimeout:
            raise TransactionFailedError(**messages.notice("relay-no-outcome", seconds=f"{wait:.0f}")) from None

    async def relay_async(self, request: SignedRequest, *, admit: Callable[[str], None] | None = None) -> Relayed:
        """:meth:`relay` for an event loop (the API): the checks that need no round trip run here, and the
        outcome is awaited, not waited for in a thread (a thread per request cost a hand-off to the pool
        and a wake-up on the way back; benchmarks/api.md)."""
        pending = self._queue(request, admit)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Relayed] = loop.create_future()

        def deliver(done: Future[Relayed]) -> None:
            if not answer.done():  # the waiter may have gone (its client disconnected)
                exc = done.exception()
                if exc is None:
                    answer.set_result(done.result())
                else:
                    answer.set_exception(exc)

        pending.answer.add_done_callback(lambda done: loop.call_soon_threadsafe(deliver, done))
        wait = self.client.receipt_timeout + 30
        try:
            return await asyncio.wait_for(answer, wait)
        except TimeoutError:
            raise TransactionFailedError(**messages.notice("relay-no-outcome", seconds=f"{wait:.0f}")) from None

    def _queue(self, request: SignedRequest, admit: Callable[[str], None] | None) -> _Pending:
        """Check what needs no round trip (the node is asked at most once a second, for the head's time,
        fees and balance) and queue the request for the relaying thread."""
        target = self.targets.get(checksum_address(request.to))
        if target is None:
            raise PermissionDeniedError(**messages.notice("relay-unknown-target", target=request.to))
        if request.value != 0:
            raise ValidationError(**messages.notice("relay-carries-value"))
        self.check_gas(request)
        self.check_deadline(request, self.client.recent_block_time())
        self.check_funds()
        check_signature_form(request.signature)
        signer = recover_signer(request, self.client.chain_id, self.forwarder.address)
        if signer != checksum_address(request.sender):
            raise contract_error(
                "ERC2771ForwarderInvalidSigner", {"signer": signer, "from": checksum_address(request.sender)},
                **messages.notice("signed-by-another", signer=signer, sender=request.sender))
        if not self._trusts_forwarder(target):
            raise contract_error(
                "ERC2771UntrustfulTarget", {"target": target.address, "forwarder": self.forwarder.address},
                messages.sentence("ERC2771UntrustfulTarget",
                                  {"target": target.address, "forwarder": self.forwarder.address}))
        key = _keccak(bytes(HexBytes(request.signature))).hex()
        pending = _Pending(request, target, key=key, signer=signer, admit=admit)
        # The relaying thread claims, limits, reserves and pre-checks the requests that arrived together
        # in a few statements and one JSON-RPC batch, then sends them; the completion settles the batch
        # in the database before it answers, so a request posted again after its answer sees its outcome.
        self._batcher.queue.put(pending)
        return pending

    def _admit(self, items: list[_Pending]) -> list[_Pending]:
        """Admit a batch of requests (checked alone already) as one: return those to send, answer the others.

        In order, as each request alone was: its signature is claimed (a replay is 409 with the
        transaction it went out in, a duplicate in the same batch 409 pending), then the sender's
        rate limit is charged (``admit``: after the replay check, a replayed request spends
        nothing), its (sender, nonce) slot is held (a second request with it 409 naming the nonce),
        and what the forwarder will check is read from the chain. One multi-row statement claims
        the batch, one holds its slots, one JSON-RPC batch pre-checks it, one statement gives back
        what was refused: per request these were three statements and a round trip to the node each
        (benchmarks/api.md). Only what the bulk statements could not take (taken before, by another
        replica, or stale) goes through the per-request path, which says why.
        """
        if not items:
            return []
        refused: list[tuple[_Pending, BaseException]] = []
        claimed: list[_Pending] = []
        try:
            fresh = self.seen.claim_many(list(dict.fromkeys(i.key for i in items)))
            keys: set[str] = set()
            for item in items:
                earlier = "pending" if item.key in keys else None if item.key in fresh else self.seen.claim(item.key)
                keys.add(item.key)
                if earlier is None:
                    claimed.append(item)
                elif earlier == "pending":
                    refused.append((item, ConflictError(**messages.notice("relay-pending"), tx_hash=None)))
                else:
                    refused.append((item, ConflictError(
                        **messages.notice("relay-replayed", tx_hash=earlier), tx_hash=earlier)))
            limits = self._limit(claimed)
            limited = [item for item, why in zip(claimed, limits, strict=True) if why is None]
            refused += [(item, why) for item, why in zip(claimed, limits, strict=True) if why is not None]
            held = self.seen.reserve_many(list(dict.fromkeys((i.signer, i.request.nonce) for i in limited)))
            holding: set[tuple[str, int]] = set()
            reserved: list[_Pending] = []
            for item in limited:
                slot = (item.signer, item.request.nonce)
                if slot in holding or (slot not in held and not self.seen.reserve(*slot)):
                    refused.append((item, ConflictError(**messages.notice(
                        "relay-nonce-busy", signer=item.signer, nonce=item.request.nonce, next=item.request.nonce + 1),
                        nonce=item.request.nonce)))
                    continue
                holding.add(slot)
                item.slot = slot
                reserved.append(item)
            admitted: list[_Pending] = []
            for item, why in zip(reserved, self._check_on_chain_many([i.request for i in reserved]), strict=True):
                if why is None:
                    admitted.append(item)
                else:
                    refused.append((item, why))
        except Exception as exc:  # noqa: BLE001 - the database or the node failed under the whole batch
            answered = {id(item) for item, _ in refused}
            refused += [(item, exc) for item in items if id(item) not in answered]
            admitted = []
        was_claimed = {id(item) for item in claimed}
        self._give_back([item for item, _ in refused if id(item) in was_claimed])
        for item, problem in refused:
            item.answer.set_exception(problem)
        return admitted

    @staticmethod
    def _limit(items: list[_Pending]) -> list[BaseException | None]:
        """Charge each request's ``admit`` (its sender's rate limit): per request, None or the refusal.

        An ``admit`` with a ``many(senders)`` method (the API's, one object for every request) charges
        all its requests of the batch at once; a plain function, each request alone."""
        outcomes: list[BaseException | None] = [None] * len(items)
        groups: dict[int, list[int]] = {}
        for index, item in enumerate(items):
            if item.admit is not None:
                groups.setdefault(id(item.admit), []).append(index)
        for indexes in groups.values():
            admit = items[indexes[0]].admit
            many = getattr(admit, "many", None)
            if many is not None:
                for index, why in zip(indexes, many([items[i].signer for i in indexes]), strict=True):
                    outcomes[index] = why
                continue
            for index in indexes:
                try:
                    admit(items[index].signer)  # type: ignore[misc]
                except Exception as exc:  # noqa: BLE001 - the limit's refusal, whatever it is, is the answer
                    outcomes[index] = exc
        return outcomes

    def _give_back(self, items: list[_Pending]) -> None:
        """Nothing was sent for ``items``: their signatures may be posted again, their nonce slots are free."""
        if not items:
            return
        try:
            self.seen.settle({}, [i.key for i in items], [i.slot for i in items if i.slot is not None])
        except Exception:  # noqa: BLE001 - the claims go stale and may be taken over; the refusal still stands
            logger.exception("could not give back %d refused relay requests", len(items))

    def _settle(self, items: list[_Pending]) -> None:
        """Record a sent batch's outcome (sent means used: each request's transaction; never sent: given
        back), free its nonce slots, then answer each waiter."""
        for item in items:
            if not item.done.done():  # pragma: no cover - every path resolves or fails each item
                item.done.set_exception(ChainError("the relay lost this request's outcome"))
        sent: dict[str, list[str]] = {}
        unsent: list[str] = []
        for item in items:
            tx_hash = _sent_in(item.done)
            if tx_hash:
                sent.setdefault(tx_hash, []).append(item.key)
            else:
                unsent.append(item.key)
        try:
            self.seen.settle(sent, unsent, [i.slot for i in items if i.slot is not None])
        except Exception:  # noqa: BLE001 - the outcome stands; the claims go stale and the chain's nonces guard
            logger.exception("could not record the outcome of %d relayed requests", len(items))
        for item in items:
            exc = item.done.exception()
            if exc is None:
                item.answer.set_result(item.done.result())
            else:
                item.answer.set_exception(exc)

    def request_gas_cap(self) -> int:
        """The most gas one request may name: the configured cap, and at most half a batch's block."""
        return min(self.max_request_gas, self.batch_gas_budget() // 2)

    def check_gas(self, request: SignedRequest) -> None:
        """A request's gas is capped, so that one sender cannot fill (or overflow) a batch's block."""
        cap = self.request_gas_cap()
        if request.gas > cap:
            raise ValidationError(**messages.notice("relay-gas-cap", gas=request.gas, cap=cap),
                                  gas=request.gas, max_gas=cap)

    def check_deadline(self, request: SignedRequest, head_time: int) -> None:
        """The deadline must leave a margin after the later of the wall clock and the last block's time.

        The forwarder compares it with the time of the block that will include the request, which
        is at least the head's time and, on a live chain, close to the wall clock.
        """
        now = max(int(time.time()), head_time)
        if request.deadline < now + self.deadline_margin:
            raise contract_error(
                "ERC2771ForwarderExpiredRequest", {"deadline": request.deadline},
                **messages.notice("relay-deadline", deadline=request.deadline, margin=self.deadline_margin, now=now))

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

    def _submit(self, items: list[_Pending]) -> Callable[[], None]:
        """Send one transaction for ``items``; return what awaits its receipt and resolves each item."""
        forwarder = self.forwarder.address
        if len(items) == 1:
            item = items[0]
            data = forwarder_calldata(_EXECUTE, [_REQUEST_TUPLE], [self._on_chain(item.request)])
            sent = self.client.send_call(forwarder, data, gas=self.gas_of(item.request), wait=False)
            self._paying(self.gas_of(item.request))

            def complete_one() -> None:
                try:
                    receipt = self.client.confirm(sent.tx_hash, forwarder, data)
                except LedgerError as exc:
                    if not exc.context.get("tx_hash"):
                        raise
                    raise ConflictError(**messages.notice(
                        "relay-failed-when-executed", tx_hash=exc.context["tx_hash"], reason=exc.message),
                        tx_hash=exc.context["tx_hash"]) from None
                item.done.set_result(self._outcome(receipt, self.client.events(item.target, receipt)))

            return complete_one
        relayer = self.client.signer().address
        data = forwarder_calldata(_EXECUTE_BATCH, [f"{_REQUEST_TUPLE}[]", "address"],
                                  [[self._on_chain(i.request) for i in items], relayer])
        gas = sum(self.gas_of(i.request) for i in items) + BATCH_OVERHEAD_GAS
        sent = self.client.send_call(forwarder, data, wait=False, gas=gas)
        self._paying(gas)
        return lambda: self._resolve_batch(items, self.client.confirm(sent.tx_hash, forwarder, data))

    def _resolve_batch(self, items: list[_Pending], receipt: Receipt) -> None:
        """Give each request of a mined ``executeBatch`` its own outcome, from the forwarder's events."""
        # The forwarder executes in order and emits one event per executed request: the first
        # request of a (sender, nonce) in the batch is the one that event is about. (Addresses are
        # compared in lower case: checksumming each costs a keccak.)
        by_key: dict[tuple[str, int], list[_Pending]] = {}
        for i in items:
            by_key.setdefault((i.request.sender.lower(), i.request.nonce), []).append(i)
        buffered: list[Any] = []
        lower_forwarder = self.forwarder.address.lower()
        for log in receipt.logs:
            topics = log["topics"]
            if str(log["address"]).lower() != lower_forwarder or not topics or (
                HexBytes(topics[0]) != self._executed_topic
            ):
                buffered.append(log)
                continue
            signer = "0x" + bytes(HexBytes(topics[1])[-20:]).hex()
            nonce, success = int.from_bytes(HexBytes(log["data"])[:32], "big"), HexBytes(log["data"])[-1] == 1
            if by_key.get((signer, nonce)):
                item = by_key[(signer, nonce)].pop(0)
                if success:
                    item.done.set_result(self._outcome(receipt, self.client.decode_logs(item.target, buffered)))
                else:
                    item.done.set_exception(ConflictError(
                        **messages.notice("relay-reverted-in-batch", tx_hash=receipt.tx_hash), tx_hash=receipt.tx_hash))
            buffered = []
        for item in (i for left in by_key.values() for i in left):
            item.done.set_exception(ConflictError(
                **messages.notice("relay-nonce-used-in-batch", tx_hash=receipt.tx_hash),
                tx_hash=receipt.tx_hash, nonce=item.request.nonce))

    @staticmethod
    def _outcome(receipt: Receipt, events: list[Event]) -> Relayed:
        result: dict[str, Any] = {}
        for event in events:
            result.update({k: v for k, v in event.args.items() if k.endswith("Id") or k in ("leaf", "root")})
        return Relayed(receipt.tx_hash, receipt.block_number, receipt.block_hash, receipt.gas_used, events, result)

    def _check_on_chain_many(self, requests: list[SignedRequest]) -> list[Exception | None]:
        """What the forwarder will check, and each inner call run as the forwarder will run it, for a whole
        batch in one round trip; per request, None or why it would fail.

        The head block (its time for the deadline), then per request the forwarder's
        ``verify(request)`` (a trusted target, the deadline, and the signer of the request with the
        sender's *current* nonce) and the call of the target from the forwarder's address with the
        sender appended, given exactly ``request.gas`` for its execution. ERC2771Forwarder.execute
        hides a failed call behind ``FailedCall()``; the direct call surfaces the contract's own error.
        Only a request ``verify`` refuses costs a second round trip: the sender's nonce, which says
        whether its nonce was stale (the usual reason, as the signature was checked already). Reading
        every sender's nonce up front was a third of the node's work per request (benchmarks/api.md).
        """
        if not requests:
            return []
        forwarder = self.forwarder.address
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", ["latest", False])]
        inner: list[HexBytes] = []
        for request in requests:
            sender = HexBytes(request.sender)
            verify_data = "0x" + forwarder_calldata(_VERIFY, [_REQUEST_TUPLE], [self._on_chain(request)]).hex()
            inner_data = HexBytes(HexBytes(request.data) + sender)
            inner_call = {"from": forwarder, "to": request.to, "data": inner_data.to_0x_hex(),
                          "gas": hex(max(request.gas + intrinsic_gas(inner_data), floor_gas(inner_data)))}
            inner.append(inner_data)
            calls += [("eth_call", [{"to": forwarder, "data": verify_data}, "latest"]),
                      ("eth_call", [inner_call, "latest"])]
        responses = self.client.rpc_batch(calls, raw=True)
        head_response = responses[0]
        if "error" in head_response:
            raise ChainError(f"cannot read the head block: {head_response['error']}")
        head = head_response["result"]
        self._block_gas_limit = int(head["gasLimit"], 16)
        refused = [n for n in range(len(requests)) if "error" not in responses[1 + 2 * n]
                   and _word(responses[1 + 2 * n]) != 1]
        nonces = dict(zip(refused, self._nonce_responses([requests[n] for n in refused]), strict=True))
        problems: list[Exception | None] = []
        for n, request in enumerate(requests):
            verify_response, inner_response = responses[1 + 2 * n:3 + 2 * n]
            try:
                self._judge(request, head, verify_response, inner_response, inner[n], nonces.get(n))
            except Exception as exc:  # noqa: BLE001 - this request's refusal, the others go on
                problems.append(exc)
            else:
                problems.append(None)
        return problems

    def _nonce_responses(self, requests: list[SignedRequest]) -> list[dict[str, Any] | None]:
        """The forwarder's ``nonces(sender)`` for each of ``requests`` (refused by ``verify``: to say why); None
        where it could not be read. It explains a refusal, so its failure must not refuse the batch's others."""
        if not requests:
            return []
        calls: list[tuple[str, list[Any]]] = [
            ("eth_call", [{"to": self.forwarder.address,
                           "data": HexBytes(self._nonces_selector + bytes(12) + HexBytes(r.sender)).to_0x_hex()},
                          "latest"])
            for r in requests]
        try:
            return list(self.client.rpc_batch(calls, raw=True))
        except LedgerError:
            logger.warning("could not read the nonces of %d refused relay requests", len(requests))
            return [None] * len(requests)

    def _judge(self, request: SignedRequest, head: dict[str, Any], verify_response: dict[str, Any],
               inner_response: dict[str, Any], inner_data: HexBytes, nonce_response: dict[str, Any] | None) -> None:
        """Raise what the forwarder or the target would refuse ``request`` for, from the pre-check's answers
        (``nonce_response``: the sender's nonce, read when ``verify`` refused)."""
        if "error" in verify_response:
            raise ChainError(f"cannot read the forwarder's state: {verify_response['error']}")
        self.check_deadline(request, int(head["timestamp"], 16))
        if _word(verify_response) != 1:
            if nonce_response is not None and "error" not in nonce_response:
                current = int(nonce_response["result"], 16)
                if request.nonce != current:
                    raise ConflictError(**messages.notice("relay-stale-nonce", nonce=request.nonce, current=current),
                                        nonce=request.nonce, expected_nonce=current)
            raise ConflictError(**messages.notice("relay-verify-refused", block=int(head["number"], 16)))
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
        call = {"from": self.forwarder.address, "to": checksum_address(request.to),
                "data": inner_data.to_0x_hex()}
        (response,) = self.client.rpc_batch([("eth_estimateGas", [call, "latest"])], raw=True)
        if "error" in response:
            data = _revert_data(response["error"])
            if data is not None:
                return self.client.errors.decode(data)
            return ValidationError(**messages.notice("relay-reverts-without-reason", target=request.to))
        needed = int(response["result"], 16) - intrinsic_gas(inner_data)
        return ValidationError(**messages.notice("relay-gas-insufficient", gas=request.gas, needed=needed),
                               estimated_gas=needed, gas=request.gas)

    @staticmethod
    def _on_chain(request: SignedRequest) -> tuple[Any, ...]:
        return (
            checksum_address(request.sender), checksum_address(request.to), request.value,
            request.gas, request.deadline, HexBytes(request.data), HexBytes(request.signature),
        )

    def target(self, name_or_address: str) -> Contract:
        try:
            return self.targets[to_checksum_address(name_or_address)]
        except (KeyError, ValueError):
            raise NotFoundError(f"no contract {name_or_address}") from None


def _ether(wei: int) -> str:
    """Wei as ether for a sentence (``0.05 ETH``): display only, amounts stay integers."""
    whole, rest = divmod(wei, 10**18)
    return (f"{whole}.{str(rest).rjust(18, '0').rstrip('0')}" if rest else str(whole)) + " ETH"
