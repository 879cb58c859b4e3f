"""The stamp service: many authors' leaves anchored together, one ``stampBatch`` per round.

As an OpenTimestamps calendar, but with a proof in the next block: a client submits the
commitments it already computes (``keccak256(abi.encode(digest, author, salt))``; the service
never sees a digest or a salt) and is answered at once with a **pending receipt** the service
signs (EIP-712, :data:`RECEIPT_TYPES`: the leaf, the time it was received in milliseconds and
the round it will be anchored in): anyone holding the service's address can check it, so it is
the service's signed promise. Every ``round_interval`` seconds, or when a round holds
``round_max_leaves``, the round closes: its leaves make an OpenZeppelin ``StandardMerkleTree``
(:class:`~ledger.timestamps.proofs.MerkleTree`, the convention of batch stamps) whose root is
anchored with one ``stampBatch(root, count)`` by the service's account. A client then reads its
proof and completes its certificate locally, in the format of every batch certificate.

Exactly once, whatever moment the service is killed at:

* a leaf is acknowledged only once its row is committed (:mod:`ledger.timestamps.stampstore`),
  and belongs to exactly one round (the leaf is the row's key: a leaf submitted twice gets
  its first receipt back);
* a round's root is stored before anything is sent, and the transaction that anchors it is
  recorded (journal, then round row) before it is sent;
* on start, :meth:`StampAggregator.recover` closes the open round, and for each round not yet
  anchored asks the chain first: a root already recorded is adopted from its event, a sent
  transaction the node still holds is waited for, and only a root the chain never recorded is
  sent (again). The contract records a root once (``TimestampRegistryAlreadyStamped``), so a
  round can never be anchored twice; anchored rounds whose block was lost (a chain that died)
  are anchored again.

Replicas (``ipledger serve`` N times on one PostgreSQL, each with the one ``IPLEDGER_STAMP_SERVICE_KEY``):
every replica accepts leaves (a durable insert and the receipt signed by the one service key), but
one at a time closes and anchors rounds: the holder of the database's advisory lock
(:class:`~ledger.timestamps.stampstore.Leadership`). The others try to take it every round interval;
one that does runs :meth:`StampAggregator.recover` first (rounds recorded but not mined are settled
as after a restart). A long poll on any replica reads the round's state in the database.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_keys.datatypes import PrivateKey
from eth_keys.exceptions import BadSignature
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy.exc import IntegrityError

from ledger.chain.client import ChainClient, Contract
from ledger.errors import ContractError, LedgerError, NotFoundError, ValidationError, VerificationError
from ledger.timestamps.proofs import MerkleTree
from ledger.timestamps.stampstore import ANCHORED, OPEN, SENT, Leadership, LeafRow, Round, StampStore

__all__ = ["RECEIPT_DOMAIN_NAME", "RECEIPT_PRIMARY_TYPE", "RECEIPT_TYPES", "PendingReceipt", "StampAggregator",
           "StampStatus", "receipt_domain", "receipt_signer"]

RECEIPT_DOMAIN_NAME = "ipledger stamp service"
RECEIPT_DOMAIN_VERSION = "1"
RECEIPT_PRIMARY_TYPE = "PendingStamp"
RECEIPT_TYPES = {
    "PendingStamp": [
        {"name": "leaf", "type": "bytes32"},
        {"name": "receivedAt", "type": "uint64"},
        {"name": "round", "type": "uint64"},
    ]
}
"""A pending receipt: ``leaf`` will be anchored in round ``round``; received at ``receivedAt`` (Unix ms)."""

_DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_RECEIPT_TYPEHASH = keccak(b"PendingStamp(bytes32 leaf,uint64 receivedAt,uint64 round)")
_POLL_DB = 0.2
"""Seconds between a long poll's reads of its round's state in the database (another replica may anchor it)."""
_TREE_CACHE = 32
"""Trees of recently anchored rounds kept in memory for proofs (older ones are rebuilt from the database)."""


def receipt_domain(chain_id: int, registry: str) -> dict[str, Any]:
    """The EIP-712 domain of pending receipts: the service on this chain, for this TimestampRegistry."""
    return {"name": RECEIPT_DOMAIN_NAME, "version": RECEIPT_DOMAIN_VERSION, "chainId": chain_id,
            "verifyingContract": to_checksum_address(registry)}


def receipt_signer(receipt: dict[str, Any], domain: dict[str, Any]) -> str:
    """The address that signed a pending receipt (as ``POST /stamps`` answers it) under ``domain``,
    recovered with eth-account's EIP-712 encoder: compare it with the service's published address."""
    message = {"leaf": HexBytes(receipt["leaf"]), "receivedAt": int(receipt["received_at_ms"]),
               "round": int(receipt["round"])}
    try:
        encoded = encode_typed_data(domain, RECEIPT_TYPES, message)
        return str(Account.recover_message(encoded, signature=HexBytes(receipt["signature"])))
    except (ValueError, TypeError, KeyError, BadSignature) as exc:
        raise VerificationError(f"the pending receipt of {receipt.get('leaf')} is not signed: {exc}") from None


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@dataclass(frozen=True)
class PendingReceipt:
    """The service's signed promise to anchor ``leaf`` in round ``round``."""

    leaf: str
    received_at_ms: int
    round: int
    service: str
    signature: str

    def as_json(self) -> dict[str, Any]:
        return {"leaf": self.leaf, "received_at_ms": self.received_at_ms, "round": self.round,
                "service": self.service, "signature": self.signature}


@dataclass(frozen=True)
class StampStatus:
    """Where a leaf stands: ``pending`` (its receipt) or ``anchored`` (also its proof and block)."""

    status: str
    receipt: PendingReceipt
    root: str | None = None
    proof: list[str] | None = None
    batch_size: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    block_time: int | None = None
    stamper: str | None = None
    chain_id: int | None = None
    contract: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "leaf": self.receipt.leaf, "round": self.receipt.round,
                                "receipt": self.receipt.as_json()}
        if self.status == ANCHORED:
            data.update(root=self.root, proof=self.proof, batch_size=self.batch_size, tx_hash=self.tx_hash,
                        block_number=self.block_number, block_hash=self.block_hash, block_time=self.block_time,
                        stamper=self.stamper, chain_id=self.chain_id, contract=self.contract)
        return data


class _Tree:
    def __init__(self, leaves: list[str]) -> None:
        self.tree = MerkleTree([bytes.fromhex(leaf[2:]) for leaf in leaves])
        self.index = {leaf: i for i, leaf in enumerate(leaves)}

    def proof(self, leaf: str) -> list[str]:
        return ["0x" + p.hex() for p in self.tree.proof(self.index[leaf])]


class StampAggregator:
    """Acknowledges leaves durably, closes rounds and anchors each with one ``stampBatch``."""

    def __init__(
        self, client: ChainClient, registry: Contract, store: StampStore, account: LocalAccount, *,
        round_interval: float = 1.0, round_max_leaves: int = 10_000, max_leaves_per_request: int = 10_000,
    ) -> None:
        if round_interval <= 0 or round_max_leaves < 1 or max_leaves_per_request < 1:
            raise ValidationError("the stamp service needs a positive round interval and round size")
        self.client = client
        self.registry = registry
        self.store = store
        self.account = account
        self.address = account.address
        self.round_interval = round_interval
        self.round_max_leaves = round_max_leaves
        self.max_leaves_per_request = max_leaves_per_request
        self.domain = receipt_domain(client.chain_id, registry.address)
        self._domain_separator = keccak(
            _DOMAIN_TYPEHASH + keccak(RECEIPT_DOMAIN_NAME.encode()) + keccak(RECEIPT_DOMAIN_VERSION.encode())
            + _word(client.chain_id) + bytes(12) + bytes.fromhex(registry.address[2:]))
        self._key = PrivateKey(bytes(account.key))
        self._lock = threading.Lock()
        """Held while leaves are assigned to the open round and committed, and while it is closed."""
        self._round: Round | None = None
        self._round_size = 0
        self._loaded = False
        self._wake = threading.Event()
        """Set when a round opens or fills: the closer times the next close again."""
        self._anchor_wake = threading.Event()
        """Set when a round closes: the anchorer sends it."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closer: threading.Thread | None = None
        self._trees: OrderedDict[int, _Tree] = OrderedDict()
        self._anchored: set[int] = set()
        self.error: LedgerError | None = None
        """The last failure of the round loop (it keeps trying); None once a round anchors again."""
        self.leadership = Leadership(store)
        self._leading = False
        """Whether this process closes and anchors rounds (it recovered when it became the leader)."""

    # -- receipts ------------------------------------------------------------------------------------

    def _digest(self, leaf: bytes, received_ms: int, round_id: int) -> bytes:
        struct = keccak(_RECEIPT_TYPEHASH + leaf + _word(received_ms) + _word(round_id))
        return bytes(keccak(b"\x19\x01" + self._domain_separator + struct))

    def _sign(self, leaf: str, received_ms: int, round_id: int) -> str:
        # The EIP-712 digest of three static fields is written out (keccak of 32-byte words) because
        # eth-account's generic encoder costs ~0.3 ms a receipt, a third of a core at 1,000 leaves/s;
        # tests check these signatures with eth-account's own encode_typed_data.
        signature = self._key.sign_msg_hash(self._digest(bytes.fromhex(leaf[2:]), received_ms, round_id))
        r, s, v = signature.r, signature.s, signature.v + 27
        return "0x" + (_word(r) + _word(s) + bytes([v])).hex()

    def _receipt(self, row: LeafRow) -> PendingReceipt:
        return PendingReceipt(row.leaf, row.received_ms, row.round_id, self.address, row.signature)

    # -- submitting ----------------------------------------------------------------------------------

    def submit(self, leaves: Sequence[str]) -> list[PendingReceipt]:
        """Acknowledge ``leaves`` (0x hex, 32 bytes): each is durable when this returns, with its receipt.

        A leaf acknowledged before is answered with its first receipt and not added again.
        """
        if not leaves:
            raise ValidationError("no leaves to stamp: send at least one")
        if len(leaves) > self.max_leaves_per_request:
            raise ValidationError(f"at most {self.max_leaves_per_request} leaves per request, got {len(leaves)}")
        normal = [_leaf(v) for v in leaves]
        unique = list(dict.fromkeys(normal))
        known = self.store.find(unique)
        fresh = [leaf for leaf in unique if leaf not in known]
        for attempt in range(3):
            if not fresh:
                break
            try:
                with self._lock:
                    known.update(self._add(fresh))
                break
            except IntegrityError:  # another replica acknowledged one of these leaves meanwhile: take its receipt
                if attempt == 2:
                    raise
                known.update(self.store.find(fresh))
                fresh = [leaf for leaf in fresh if leaf not in known]
        return [self._receipt(known[leaf]) for leaf in normal]

    def _add(self, fresh: list[str]) -> dict[str, LeafRow]:
        # Under self._lock: nobody else assigns leaves or closes the round meanwhile.
        again = self.store.find(fresh)  # a concurrent request may have added some since the look-up
        fresh = [leaf for leaf in fresh if leaf not in again]
        added: dict[str, LeafRow] = dict(again)
        self._load_round()
        round_, size = self._round, self._round_size
        now = _now_ms()
        closed_any = opened = False
        try:
            with self.store.db.session() as session:
                if round_ is not None and size > 0 and now >= round_.opened_ms + self.round_interval * 1000:
                    # Its time has come: close it here rather than wait for the closer to get the lock.
                    self.store.close_round(session, round_.id, now)
                    closed_any, round_, size = True, None, 0
                while fresh:
                    if round_ is None or size >= self.round_max_leaves:
                        if round_ is not None:
                            self.store.close_round(session, round_.id, now)
                            closed_any = True
                        round_ = Round(self.store.open_round(session, now), OPEN, 0, now, *([None] * 9))
                        size, opened = 0, True
                    take, fresh = fresh[: self.round_max_leaves - size], fresh[self.round_max_leaves - size:]
                    rows = [LeafRow(leaf, round_.id, now, self._sign(leaf, now, round_.id)) for leaf in take]
                    grown = self.store.add_leaves(session, round_.id, rows)
                    if grown is None:  # the leader (another replica) closed it: these leaves go to a new round
                        round_, size, fresh = None, 0, take + fresh
                        continue
                    size = grown  # with replicas, other processes' leaves too
                    added.update((r.leaf, r) for r in rows)
                if round_ is not None and size >= self.round_max_leaves:
                    self.store.close_round(session, round_.id, now)
                    closed_any, round_, size = True, None, 0
        except BaseException:
            self._loaded = False  # nothing was committed: read the open round back from the database
            raise
        self._round, self._round_size = round_, size
        if closed_any:
            self._anchor_wake.set()  # anchor the full round now
        if closed_any or opened:
            self._wake.set()  # time the new round's close
        return added

    def _load_round(self) -> None:
        if not self._loaded:
            self._round = self.store.current_open()
            self._round_size = self._round.size if self._round is not None else 0
            self._loaded = True

    # -- reading -------------------------------------------------------------------------------------

    def status(self, leaf: str) -> StampStatus:
        """Pending with its receipt, or anchored with root, proof and block; NotFoundError if never submitted."""
        leaf = _leaf(leaf)
        row = self.store.find([leaf]).get(leaf)
        if row is None:
            raise NotFoundError(f"{leaf} was never submitted to this stamp service")
        receipt = self._receipt(row)
        round_ = self.store.round(row.round_id)
        if round_ is None or round_.state != ANCHORED:
            return StampStatus("pending", receipt)
        tree = self._tree(round_.id)
        return StampStatus(
            ANCHORED, receipt, root=round_.root, proof=tree.proof(leaf), batch_size=round_.size,
            tx_hash=round_.tx_hash, block_number=round_.block_number, block_hash=round_.block_hash,
            block_time=round_.block_time, stamper=round_.stamper, chain_id=self.client.chain_id,
            contract=self.registry.address)

    async def wait(self, leaf: str, timeout: float) -> StampStatus:
        """:meth:`status`, once anchored or after ``timeout`` seconds (a long poll: the leader's anchors are
        watched in memory, and the round's state read in the database every ``_POLL_DB`` s, one primary-key
        look-up, for rounds another replica anchors)."""
        status = await asyncio.to_thread(self.status, leaf)
        if status.status == ANCHORED or timeout <= 0:
            return status
        deadline = time.monotonic() + timeout
        round_id = status.receipt.round
        next_read = time.monotonic() + _POLL_DB
        while time.monotonic() < deadline and not self.settled(round_id):
            await asyncio.sleep(0.02)
            if time.monotonic() >= next_read:
                next_read = time.monotonic() + _POLL_DB
                if await asyncio.to_thread(self.store.round_state, round_id) == ANCHORED:
                    break
        return await asyncio.to_thread(self.status, leaf)

    def settled(self, round_id: int) -> bool:
        """Whether this process anchored round ``round_id`` (the long poll's cheap check)."""
        return round_id in self._anchored

    def _tree(self, round_id: int) -> _Tree:
        tree = self._trees.get(round_id)
        if tree is None:
            tree = _Tree(self.store.round_leaves(round_id))
            self._remember(round_id, tree)
        else:
            self._trees.move_to_end(round_id)
        return tree

    def _remember(self, round_id: int, tree: _Tree) -> None:
        self._trees[round_id] = tree
        while len(self._trees) > _TREE_CACHE:
            self._trees.popitem(last=False)

    # -- rounds --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Recover what a previous run left, then close rounds on time (one thread) and anchor them (another)
        until :meth:`stop`: a round being anchored never delays the next one's close."""
        if self.running:
            return
        self._stop.clear()
        self._lead()
        self._thread = threading.Thread(target=self._anchor_loop, name="stamp-service-anchor", daemon=True)
        self._closer = threading.Thread(target=self._close_loop, name="stamp-service-close", daemon=True)
        self._thread.start()
        self._closer.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the round being anchored (if any); leaves of the open round stay for the next start."""
        self._stop.set()
        self._wake.set()
        self._anchor_wake.set()
        for thread in (self._closer, self._thread):
            if thread is not None:
                thread.join(timeout)
        self._thread = self._closer = None
        self.leadership.release()
        self._leading = False

    @property
    def leader(self) -> bool:
        """Whether this process closes and anchors the rounds (the other replicas only accept leaves)."""
        return self._leading

    def _lead(self) -> bool:
        """Keep or take the leadership (once a round interval); a replica that takes it recovers first."""
        if not self.leadership.acquire():
            self._leading = False
            return False
        if not self._leading:
            self._leading = True
            try:
                self.recover()
            except LedgerError as exc:  # the chain does not answer yet: the anchorer recovers first
                self.error = exc
        return True

    def _close_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._next_close_in() if self._leading else self.round_interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            if not self._leading:
                continue
            try:
                if self._close_due():
                    self._anchor_wake.set()
            except LedgerError as exc:  # the database did not answer: try again at the next close
                self.error = exc
                self._stop.wait(min(self.round_interval, 1.0))

    def _anchor_loop(self) -> None:
        while not self._stop.is_set():
            self._anchor_wake.wait(self.round_interval)
            self._anchor_wake.clear()
            if self._stop.is_set():
                break
            if not self._lead():
                continue
            try:
                if self.error is not None:
                    self.recover()
                self._check_anchored()  # one header read while the chain keeps its blocks
                self._anchor_closed()
                self.error = None
            except LedgerError as exc:  # the chain stopped answering, say: keep the rounds, try again
                self.error = exc
                self._stop.wait(min(self.round_interval, 1.0))

    def _next_close_in(self) -> float:
        """Until the oldest open round with leaves (of any replica) is due; at most a round interval."""
        try:
            rounds = self.store.open_rounds()
        except LedgerError:
            return self.round_interval
        if not rounds:
            return self.round_interval
        return min(self.round_interval, max(0.0, rounds[0].opened_ms / 1000 + self.round_interval - time.time()))

    def tick(self, *, force: bool = False) -> list[int]:
        """Close the open round if it is due (``force``: now) and anchor every closed round, and any whose block
        the chain lost (a chain that died and restarted from older state); returns the ids of those anchored."""
        self._check_anchored()
        self._close_due(force=force)
        return self._anchor_closed()

    def _close_due(self, *, force: bool = False) -> bool:
        """Close every open round (this replica's or another's) that has leaves and whose time (or size) has
        come; whether one was closed."""
        with self._lock:
            now = _now_ms()
            due = [r for r in self.store.open_rounds() if force or r.size >= self.round_max_leaves
                   or now >= r.opened_ms + self.round_interval * 1000]
            for round_ in due:
                self.store.close(round_.id, now)
            if self._round is not None and any(r.id == self._round.id for r in due):
                self._round, self._round_size = None, 0
            return bool(due)

    def _anchor_closed(self) -> list[int]:
        anchored = []
        for pending in self.store.unfinished():
            if pending.state != OPEN:
                self._anchor(pending)
                anchored.append(pending.id)
        return anchored

    def recover(self) -> None:
        """After a restart: close the round left open, re-anchor rounds whose block the chain lost, and
        settle every round not anchored (adopting what the chain already holds before sending anything)."""
        self._check_anchored()
        with self._lock:
            self._loaded = False
            self._round, self._round_size = None, 0
            for round_ in self.store.unfinished():
                if round_.state == OPEN:
                    if round_.size == 0:
                        self.store.drop_empty(round_.id)
                    else:
                        self.store.close(round_.id, _now_ms())
            self._loaded = True
        for round_ in self.store.unfinished():
            self._anchor(round_)

    def _check_anchored(self, depth: int = 1000) -> None:
        """Anchored rounds newest first until one whose block still stands (a chain that lost blocks lost
        a suffix): each moved round is adopted where the chain now records its root, or anchored again."""
        def intact(round_: Round) -> bool:
            return round_.block_number is not None and \
                self.client.block_hash(round_.block_number) == round_.block_hash

        newest = self.store.anchored_newest_first(1)
        if not newest or intact(newest[0]):
            return  # the usual case: one row, one header
        for round_ in self.store.anchored_newest_first(depth):
            if intact(round_):
                break
            self.store.reopen_anchor(round_.id)
            self._anchored.discard(round_.id)

    def _anchor(self, round_: Round) -> None:
        """Anchor one closed round: adopt the chain's record of its root if there is one, else send it."""
        leaves = self.store.round_leaves(round_.id)
        if not leaves:
            self.store.drop_empty(round_.id)
            return
        tree = _Tree(leaves)
        root = "0x" + tree.tree.root.hex()
        # A round whose root was never stored was never sent: no record of it to look for first (a root a
        # direct stamp took is refused by the estimate, and adopted below).
        # The root is stored with the transaction that anchors it (before it is sent), in one write.
        untouched = round_.root is None and round_.tx_hash is None
        if round_.size != len(leaves):
            self.store.set_root(round_.id, root, len(leaves))
        elif round_.root is not None and round_.root != root:
            raise ValidationError(f"round {round_.id}: its leaves make root {root}, not the stored {round_.root}")
        if round_.state == SENT and round_.tx_hash is not None:
            receipt = self.client.receipt(round_.tx_hash)
            if receipt is None and self.client.rpc("eth_getTransactionByHash", [round_.tx_hash]) is not None:
                receipt = self.client.wait_for_receipt(round_.tx_hash)  # still in the node's pool: it will land
            if receipt is not None and receipt.status == 1:
                self._settle(round_.id, tree, root, receipt.tx_hash)
                return
        if not untouched and self._adopt(round_.id, tree, root):
            return
        fn = self.registry.functions.stampBatch(HexBytes(root), len(leaves))
        try:
            receipt = self.client.transact(
                fn, sender=self.account,
                on_signed=lambda tx_hash, nonce: self.store.set_sent(round_.id, tx_hash, nonce, root))
        except ContractError as exc:
            if exc.name != "TimestampRegistryAlreadyStamped" or not self._adopt(round_.id, tree, root):
                raise
            return
        self._settle(round_.id, tree, root, receipt.tx_hash)

    def _adopt(self, round_id: int, tree: _Tree, root: str) -> bool:
        """If the chain records ``root`` already, take its first record as the round's anchor."""
        stamper, block_number, _ = self.client.call(self.registry.functions.recordOf(HexBytes(root)))
        if int(stamper, 16) == 0:
            return False
        events = self.client.logs(self.registry, [None, HexBytes(root)], block_number, block_number)
        if not events:
            return False
        self._settle(round_id, tree, root, events[0].tx_hash)
        return True

    def _settle(self, round_id: int, tree: _Tree, root: str, tx_hash: str) -> None:
        receipt = self.client.receipt(tx_hash)
        if receipt is None:
            raise NotFoundError(f"no receipt for {tx_hash}, the anchor of round {round_id}")
        stamper, block_number, block_time = self.client.call(self.registry.functions.recordOf(HexBytes(root)))
        self.store.set_anchored(round_id, tx_hash=receipt.tx_hash, block_number=block_number,
                                block_hash=receipt.block_hash, block_time=block_time, stamper=stamper, now_ms=_now_ms(),
                                root=root)
        self._remember(round_id, tree)
        self._anchored.add(round_id)
        if len(self._anchored) > 100_000:
            self._anchored = set(sorted(self._anchored)[-10_000:])

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def describe(self) -> dict[str, Any]:
        """What a client needs to check receipts and plan requests (``GET /stamps/service``)."""
        return {
            "address": self.address, "chain_id": self.client.chain_id, "contract": self.registry.address,
            "domain": self.domain, "types": RECEIPT_TYPES, "primary_type": RECEIPT_PRIMARY_TYPE,
            "round_interval": self.round_interval, "round_max_leaves": self.round_max_leaves,
            "max_leaves_per_request": self.max_leaves_per_request, "running": self.running,
            "leader": self.leader,
        }


def _leaf(value: str) -> str:
    if not isinstance(value, str) or len(value) != 66 or value[:2] not in ("0x", "0X"):
        raise ValidationError(f"a leaf is 0x followed by 64 hex digits, got {value!r:.80}")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise ValidationError(f"a leaf is 0x followed by 64 hex digits, got {value!r:.80}") from None
    return "0x" + value[2:].lower()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000

