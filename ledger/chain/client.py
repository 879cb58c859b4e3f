"""Connection, signing, nonces, receipts and revert decoding: the only module that imports web3.

Services get a :class:`ChainClient` in their constructor and never build
transactions themselves. Three things here are easy to get wrong elsewhere:

* **Nonces.** web3.py's signing middleware asks the node for the pending count on
  every send, so concurrent senders from one account collide. :class:`NonceManager`
  hands out nonces from a local counter under a lock, and the lock is held from
  nonce allocation to the node's acceptance, so nonces are never skipped.
* **Receipts.** A receipt is null for a while after sending: we poll, with a timeout.
* **Reverts.** Custom errors are decoded from every known ABI into ``ledger.errors``
  classes, with their arguments, in :class:`ErrorDecoder` and nowhere else.
* **Fees.** EIP-1559 transactions (``maxFeePerGas`` twice the base fee plus the tip), never above
  ``max_fee_per_gas`` when one is set: when the chain asks more, nothing is sent and
  :class:`~ledger.errors.FeeCapExceededError` says so (a clear refusal, not an overpayment).
* **Finality.** :meth:`ChainClient.finality` says how final a block is (see ``ledger.chain.finality``).

Only JSON-RPC methods every EVM node serves are used here; the dev methods (``evm_snapshot``,
``evm_revert``, ``evm_mine``, ``evm_increaseTime``) are the ones Anvil, Hardhat and Ganache share, for
tests and dev tools only. Anvil's own (``anvil_*``) live in ``ledger.chain.devchain``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import event_abi_to_log_topic, function_signature_to_4byte_selector, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError
from web3.types import BlockIdentifier, TxParams, TxReceipt

from ledger import messages
from ledger.chain.finality import Finality, FinalityMode
from ledger.chain.journal import Journal
from ledger.chain.state import NonceSlot, SharedNonces
from ledger.chain.toolchain import Artifact
from ledger.chain.transport import PooledHTTPProvider, RpcHTTPError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

from ledger.encoding import checksum_address
from ledger.errors import (
    ChainError,
    ChainUnavailableError,
    ConfigurationError,
    FeeCapExceededError,
    LedgerError,
    NotFoundError,
    TransactionFailedError,
    ValidationError,
    contract_error,
)
from ledger.settings import Settings

__all__ = ["ChainClient", "Contract", "ErrorDecoder", "Event", "NonceManager", "Receipt", "client_options",
           "dev_account", "dev_accounts", "revert_data_of"]
"""``Contract`` is re-exported so services can type their contracts without importing web3."""

_PANIC_REASONS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function",
}


@dataclass(frozen=True)
class Receipt:
    """A mined transaction, as ipledger needs it."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    status: int
    contract_address: str | None
    logs: list[Any] = field(repr=False)

    @classmethod
    def from_web3(cls, receipt: TxReceipt) -> Receipt:
        address = receipt.get("contractAddress")
        return cls(
            tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
            block_number=int(receipt["blockNumber"]),
            block_hash=HexBytes(receipt["blockHash"]).to_0x_hex(),
            gas_used=int(receipt["gasUsed"]),
            status=int(receipt["status"]),
            contract_address=to_checksum_address(address) if address else None,
            logs=list(receipt["logs"]),
        )

    @classmethod
    def from_rpc(cls, receipt: Mapping[str, Any]) -> Receipt:
        """A receipt as the node sends it (hex strings), its logs given the types web3 gives them, without
        web3's result formatters: those walk every field and cost the relay as much as the rest of
        resolving a batch (benchmarks/api.md)."""
        address = receipt.get("contractAddress")
        return cls(
            tx_hash=str(receipt["transactionHash"]).lower(),
            block_number=int(receipt["blockNumber"], 16),
            block_hash=str(receipt["blockHash"]).lower(),
            gas_used=int(receipt["gasUsed"], 16),
            status=int(receipt["status"], 16),
            contract_address=to_checksum_address(address) if address else None,
            logs=[{
                "address": checksum_address(log["address"]), "topics": [HexBytes(t) for t in log["topics"]],
                "data": HexBytes(log["data"]), "blockNumber": int(log["blockNumber"], 16),
                "transactionHash": HexBytes(log["transactionHash"]),
                "transactionIndex": int(log["transactionIndex"], 16),
                "blockHash": HexBytes(log["blockHash"]), "logIndex": int(log["logIndex"], 16),
                "removed": bool(log.get("removed", False)),
            } for log in receipt["logs"]],
        )


@dataclass(frozen=True)
class Event:
    """A decoded contract event with where it happened."""

    name: str
    args: dict[str, Any]
    address: str
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int


@dataclass(frozen=True)
class BlockHeader:
    """The parts of a block header the indexer needs to follow the chain across reorgs."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> BlockHeader:
        return cls(
            number=int(raw["number"], 16),
            hash=str(raw["hash"]).lower(),
            parent_hash=str(raw["parentHash"]).lower(),
            timestamp=int(raw["timestamp"], 16),
        )


class ErrorDecoder:
    """Maps revert data to ``ledger.errors`` exceptions, from the ABIs of every contract we know."""

    def __init__(self, abis: Iterable[Sequence[dict[str, Any]]] = ()) -> None:
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        self.money: messages.Money | None = None
        """How sentences show amounts of tokens (set by the composition root: the settlement token)."""
        for abi in abis:
            self.add_abi(abi)

    def add_abi(self, abi: Sequence[dict[str, Any]]) -> None:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [_abi_type(i) for i in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            self._errors[selector] = (item["name"], [i["name"] for i in item["inputs"]], types)

    def decode(self, data: bytes | str | None, **context: Any) -> LedgerError:
        raw = HexBytes(data or b"")
        selector, body = bytes(raw[:4]), bytes(raw[4:])
        if selector == bytes.fromhex("08c379a0"):
            (reason,) = abi_decode(["string"], body)
            return contract_error("Error", {"reason": reason}, f"the contract refused: {reason}", **context)
        if selector == bytes.fromhex("4e487b71"):
            (code,) = abi_decode(["uint256"], body)
            return TransactionFailedError(
                f"the contract panicked: {_PANIC_REASONS.get(code, hex(code))}", **context
            )
        known = self._errors.get(selector)
        if known is None:
            if not raw:
                return TransactionFailedError(**messages.notice("revert-without-reason"), **context)
            return TransactionFailedError(**messages.notice("revert-unknown-data", data=raw.to_0x_hex()), **context)
        name, names, types = known
        values = abi_decode(types, body)
        args = {n or f"arg{i}": _plain(v) for i, (n, v) in enumerate(zip(names, values, strict=True))}
        return contract_error(name, args, messages.sentence(name, args, self.money), **context)


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


def _plain(value: Any) -> Any:
    """Decoded ABI values as JSON-ready Python: hex strings, checksum addresses, dicts for structs."""
    if isinstance(value, Mapping):  # a struct (web3 gives an AttributeDict)
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return HexBytes(value).to_0x_hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return checksum_address(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_DYNAMIC = ("string", "bytes")


def log_decoder(event_abi: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], dict[str, Any]] | None:
    """A decoder of one event's logs with eth_abi directly, or None for the events it does not take
    (anonymous, tuple members: web3 decodes those).

    web3's ``process_log`` normalises every value through its ABI walkers and builds
    AttributeDicts: on the relay's hot path (one event per relayed request) it cost more than the
    rest of decoding a batch's receipt (benchmarks/api.md). The values are the same: ``_plain``
    checksums addresses and hex-encodes bytes, and an indexed value of a dynamic type is its topic.
    """
    inputs = list(event_abi.get("inputs", []))
    if event_abi.get("anonymous") or any(str(i["type"]).startswith("tuple") for i in inputs):
        return None
    names = [str(i["name"]) for i in inputs]
    indexed = [(str(i["name"]), str(i["type"])) for i in inputs if i.get("indexed")]
    data_names = [str(i["name"]) for i in inputs if not i.get("indexed")]
    data_types = [str(i["type"]) for i in inputs if not i.get("indexed")]

    def decode(log: Mapping[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {}
        topics = log["topics"][1:]
        if len(topics) != len(indexed):
            raise ValueError(f"{len(topics)} topics for {len(indexed)} indexed arguments")
        for (name, kind), topic in zip(indexed, topics, strict=True):
            raw = bytes(HexBytes(topic))
            dynamic = kind in _DYNAMIC or kind.endswith("]")
            args[name] = raw if dynamic else abi_decode([kind], raw)[0]
        args.update(zip(data_names, abi_decode(data_types, bytes(HexBytes(log["data"]))), strict=True))
        return {name: _plain(args[name]) for name in names}

    return decode


class NonceManager:
    """Local nonce counters per sender, correct under concurrent use from many threads."""

    def __init__(self, fetch: Callable[[str], int]) -> None:
        self._fetch = fetch
        self._next: dict[str, int] = {}
        self.lock = threading.RLock()

    def allocate(self, sender: str) -> int:
        """Next nonce for ``sender``; call with :attr:`lock` held until the node accepted it."""
        if sender not in self._next:
            self._next[sender] = self._fetch(sender)
        nonce = self._next[sender]
        self._next[sender] = nonce + 1
        return nonce

    def release(self, sender: str, nonce: int) -> None:
        """Give back a nonce the node refused (only the latest one can be given back)."""
        if self._next.get(sender) == nonce + 1:
            self._next[sender] = nonce

    def reset(self, sender: str | None = None) -> None:
        """Forget cached nonces (after a revert of the chain, a restart, or a refusal)."""
        if sender is None:
            self._next.clear()
        else:
            self._next.pop(sender, None)

    @contextlib.contextmanager
    def hold(self, sender: str) -> Iterator[NonceSlot]:
        """The next nonce of ``sender``, under :attr:`lock`; given back unless :meth:`NonceSlot.used`."""
        with self.lock:
            slot = NonceSlot(self.allocate(sender))
            try:
                yield slot
            finally:
                if not slot.accepted:
                    self.release(sender, slot.nonce)
                if slot.resync:
                    self.reset(sender)


class ChainClient:
    """One connection to one chain, acting as one default account."""

    def __init__(
        self,
        rpc_url: str,
        account: LocalAccount | None = None,
        *,
        journal_dir: Path | None = None,
        state: Engine | None = None,
        receipt_timeout: float = 120.0,
        error_abis: Iterable[Sequence[dict[str, Any]]] = (),
        max_fee_per_gas: int | None = None,
        priority_fee_per_gas: int = 1_000_000_000,
        finality: FinalityMode = "auto",
        finality_confirmations: int = 12,
    ) -> None:
        self.rpc_url = rpc_url
        self.account = account
        self.receipt_timeout = receipt_timeout
        if finality not in ("auto", "tag", "confirmations"):
            raise ConfigurationError(f"IPLEDGER_FINALITY={finality!r}: choose auto, tag or confirmations")
        if finality_confirmations < 1:
            raise ConfigurationError(f"IPLEDGER_FINALITY_CONFIRMATIONS must be 1 or more, got {finality_confirmations}")
        if max_fee_per_gas is not None and max_fee_per_gas < priority_fee_per_gas:
            raise ConfigurationError(
                f"IPLEDGER_MAX_FEE_PER_GAS ({max_fee_per_gas} wei) is below the tip IPLEDGER_PRIORITY_FEE_PER_GAS "
                f"({priority_fee_per_gas} wei): no transaction could be sent")
        self.max_fee_per_gas = max_fee_per_gas
        self.priority_fee_per_gas = priority_fee_per_gas
        self.finality_mode: FinalityMode = finality
        self.finality_confirmations = finality_confirmations
        self._has_finalized_tag: bool | None = None
        self._mined_after = 0.0
        """How long the last receipts took to appear, smoothed: the first poll waits part of it."""
        self.errors = ErrorDecoder(error_abis)
        try:
            self.w3 = Web3(PooledHTTPProvider(rpc_url, timeout=30))
            # We set chainId, gas and fees on every transaction ourselves and use no ENS names; these
            # middlewares would otherwise add an eth_chainId round trip to each call (4 per relayed write).
            for name in ("validation", "ens_name_to_address", "gas_price_strategy", "gas_estimate"):
                self.w3.middleware_onion.remove(name)
            self.chain_id = int(self.w3.eth.chain_id)
        except (OSError, ValueError) as exc:
            raise ChainUnavailableError(**messages.notice("chain-no-answer", url=rpc_url, reason=_short(exc))) from None
        self.nonces: NonceManager | SharedNonces = NonceManager(self._pending_count)
        self.journal: Journal | None = None
        if state is not None:  # API replicas: journal and nonces in the shared database
            self.journal = Journal(state, str(self.chain_id))
            self.nonces = SharedNonces(state, self.chain_id, self._pending_count)
        elif journal_dir is not None:
            self.journal = Journal(
                journal_dir / f"journal-{self.chain_id}.sqlite", str(self.chain_id)
            )
        self._fees: tuple[float, int, int] | None = None
        self._event_cache: dict[tuple[str, int], dict[bytes, tuple[str, Any, Any]]] = {}
        self._recent_time: tuple[float, int] | None = None

    def _pending_count(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(to_checksum_address(address), "pending"))

    def _stopped(self, exc: BaseException) -> ChainUnavailableError:
        return ChainUnavailableError(**messages.notice("chain-stopped", url=self.rpc_url, reason=_short(exc)))

    # -- reading -----------------------------------------------------------------

    def contract(self, abi: Sequence[dict[str, Any]], address: str) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=abi)

    def call(self, fn: ContractFunction, block: BlockIdentifier = "latest") -> Any:
        """Call a view function; a revert becomes the decoded ledger error."""
        try:
            return fn.call(block_identifier=block)
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.errors.decode(_revert_data(exc)) from None
        except OSError as exc:
            raise self._stopped(exc) from None

    def batch_call(self, fns: Sequence[ContractFunction]) -> list[Any]:
        """Several view calls in ONE JSON-RPC round trip (a JSON-RPC batch)."""
        if not fns:
            return []
        with self.w3.batch_requests() as batch:
            for fn in fns:
                batch.add(fn)
            try:
                return list(batch.execute())
            except (ContractCustomError, ContractLogicError) as exc:
                raise self.errors.decode(_revert_data(exc)) from None

    def recent_block_time(self, max_age: float = 1.0) -> int:
        """The latest block's time, cached for ``max_age`` seconds (hot paths check deadlines)."""
        now = time.monotonic()
        cached = self._recent_time
        if cached is None or now - cached[0] > max_age:
            cached = (now, self.block_time("latest"))
            self._recent_time = cached
        return cached[1]

    def block_time(self, block: BlockIdentifier) -> int:
        return int(self.w3.eth.get_block(block)["timestamp"])

    def block_hash(self, number: int) -> str | None:
        try:
            return HexBytes(self.w3.eth.get_block(number)["hash"]).to_0x_hex()
        except Exception:  # noqa: BLE001 - web3 raises BlockNotFound or returns an RPC error
            return None

    def code_at(self, address: str) -> bytes:
        return bytes(self.w3.eth.get_code(to_checksum_address(address)))

    def receipt(self, tx_hash: str) -> Receipt | None:
        try:
            raw = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except Exception:  # noqa: BLE001 - TransactionNotFound
            return None
        return Receipt.from_web3(raw)

    def events(self, contract: Contract, receipt: Receipt) -> list[Event]:
        """Decode the logs this contract emitted in a receipt."""
        return self.decode_logs(contract, receipt.logs)

    def decode_logs(self, contract: Contract, logs: Iterable[Any]) -> list[Event]:
        events = self._events_of(contract)
        address = contract.address.lower()
        out: list[Event] = []
        for log in logs:
            if str(log["address"]).lower() != address or not log["topics"]:
                continue
            known = events.get(bytes(log["topics"][0]))
            if known is None:
                continue
            name, decoder, fast = known
            args = fast(log) if fast is not None else {
                k: _plain(v) for k, v in decoder.process_log(log)["args"].items()}
            out.append(
                Event(
                    name=name,
                    args=args,
                    address=contract.address,
                    tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                    block_number=int(log["blockNumber"]),
                    block_hash=HexBytes(log["blockHash"]).to_0x_hex(),
                    log_index=int(log["logIndex"]),
                )
            )
        return out

    def _events_of(self, contract: Contract) -> dict[bytes, tuple[str, Any, Any]]:
        """Topic -> (event name, web3 event, :func:`log_decoder`) of a contract, built once per contract
        (each topic is a keccak)."""
        key = (contract.address, id(contract.abi))
        cached = self._event_cache.get(key)
        if cached is None:
            cached = {
                event_abi_to_log_topic(cast(Any, item)): (str(cast(Any, item)["name"]),
                                                          contract.events[str(cast(Any, item)["name"])](),
                                                          log_decoder(cast(Any, item)))
                for item in contract.abi
                if item.get("type") == "event"
            }
            self._event_cache[key] = cached
        return cached

    def logs(self, contract: Contract, topics: list[Any], from_block: int = 0,
             to_block: BlockIdentifier = "latest") -> list[Event]:
        raw = self.w3.eth.get_logs({
            "address": contract.address, "topics": topics,
            "fromBlock": from_block, "toBlock": to_block,
        })
        return self.decode_logs(contract, raw)

    # -- raw reads (the indexer) -------------------------------------------------------
    # Plain JSON-RPC without web3's result formatters: logs and headers stay hex strings,
    # which is several times faster for the indexer's volumes.

    def rpc_batch(self, calls: Sequence[tuple[str, list[Any]]], *, raw: bool = False) -> list[Any]:
        """Several raw JSON-RPC calls in ONE HTTP round trip; results in call order.

        A JSON-RPC error in any call raises :class:`ChainError` naming the method (with
        ``raw=True`` the response objects are returned instead, errors included); an
        unreachable node raises :class:`ChainUnavailableError`.
        """
        if not calls:
            return []
        try:
            responses = self.w3.provider.make_batch_request(list(calls))  # type: ignore[attr-defined]
        except TimeoutError as exc:
            raise ChainError(f"the chain at {self.rpc_url} timed out on a batch: {_short(exc)}") from None
        except OSError as exc:
            raise self._stopped(exc) from None
        if not isinstance(responses, list):  # the node refused the whole batch
            error = responses.get("error", responses) if isinstance(responses, dict) else responses
            raise ChainError(f"the chain at {self.rpc_url} refused a batch request: {error}")
        ordered = sorted(responses, key=lambda r: int(r.get("id", 0)))
        if raw:
            return ordered
        results: list[Any] = []
        for (method, _), response in zip(calls, ordered, strict=True):
            if "error" in response:
                raise ChainError(f"{method} failed: {response['error']}")
            results.append(response.get("result"))
        return results

    def get_logs_raw(self, addresses: Sequence[str], from_block: int, to_block: int) -> list[dict[str, Any]]:
        """Raw ``eth_getLogs`` over several contracts and an inclusive block range.

        A node that refuses the range (too many blocks or results, a timeout) raises
        :class:`ChainError` so the caller can retry with a smaller range; an unreachable
        node raises :class:`ChainUnavailableError`.
        """
        params = [{"address": list(addresses), "fromBlock": hex(from_block), "toBlock": hex(to_block)}]
        try:
            response = self.w3.provider.make_request("eth_getLogs", params)  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ChainError(f"eth_getLogs {from_block}-{to_block} timed out: {_short(exc)}") from None
        except RpcHTTPError as exc:
            raise ChainError(f"eth_getLogs {from_block}-{to_block} refused: {_short(exc)}") from None
        except OSError as exc:
            raise self._stopped(exc) from None
        if "error" in response:
            raise ChainError(f"eth_getLogs {from_block}-{to_block} refused: {response['error']}")
        return list(response.get("result") or [])

    def block_headers(self, numbers: Sequence[int]) -> dict[int, BlockHeader]:
        """Headers of the given blocks, fetched in JSON-RPC batches; blocks the chain lacks are absent."""
        out: dict[int, BlockHeader] = {}
        wanted = sorted(set(numbers))
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            results = self.rpc_batch([("eth_getBlockByNumber", [hex(n), False]) for n in part])
            for raw in results:
                if raw:
                    header = BlockHeader.from_rpc(raw)
                    out[header.number] = header
        return out

    def head(self) -> BlockHeader:
        """The latest block's header."""
        (raw,) = self.rpc_batch([("eth_getBlockByNumber", ["latest", False])])
        return BlockHeader.from_rpc(raw)

    def balance(self, address: str) -> int:
        """The account's balance in wei at the latest block."""
        try:
            return int(self.w3.eth.get_balance(to_checksum_address(address)))
        except OSError as exc:
            raise self._stopped(exc) from None

    # -- finality ------------------------------------------------------------------------

    @property
    def uses_finalized_tag(self) -> bool:
        """Whether finality is the chain's ``finalized`` tag (asked once: does the chain name one?)."""
        if self.finality_mode == "confirmations":
            return False
        if self._has_finalized_tag is None:
            (response,) = self.rpc_batch([("eth_getBlockByNumber", ["finalized", False])], raw=True)
            self._has_finalized_tag = isinstance(response.get("result"), dict)
            if not self._has_finalized_tag and self.finality_mode == "tag":
                raise ConfigurationError(
                    f"IPLEDGER_FINALITY=tag, but the chain at {self.rpc_url} names no finalized block "
                    f"({response.get('error') or 'null'}); use IPLEDGER_FINALITY=confirmations (or auto)")
        return self._has_finalized_tag

    def finality_calls(self) -> list[tuple[str, list[Any]]]:
        """The JSON-RPC calls :meth:`finality_of` reads (to join a caller's batch): the head, and the
        finalized block where that is the measure."""
        calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
        if self.uses_finalized_tag:
            calls.append(("eth_getBlockByNumber", ["finalized", False]))
        return calls

    def finality_of(self, block_number: int, answers: Sequence[Any]) -> Finality:
        """The finality of ``block_number`` from the answers to :meth:`finality_calls`."""
        head = int(answers[0], 16)
        finalized = None
        if len(answers) > 1:
            raw = answers[1]
            finalized = int(raw["number"], 16) if isinstance(raw, dict) else -1
        return Finality(block_number, head, self.finality_confirmations, finalized)

    def finality(self, block_number: int) -> Finality:
        """How final the record in ``block_number`` is now (one round trip)."""
        calls = self.finality_calls()
        return self.finality_of(block_number, self.rpc_batch(calls))

    def final_block(self) -> int:
        """The highest block that is final now (the finalized tag, or the head less the confirmations
        asked for, plus one); -1 when none is."""
        head = self.finality(0)
        if head.finalized_block is not None:
            return head.finalized_block
        return head.head - self.finality_confirmations + 1

    # -- writing -----------------------------------------------------------------

    def signer(self, sender: LocalAccount | None = None) -> LocalAccount:
        """The account that signs: ``sender`` if given, else the client's default account."""
        signer = sender or self.account
        if signer is None:
            raise ValidationError("no account to sign with: create one with `ipledger account new`")
        return signer

    def fee_fields(self) -> dict[str, int]:
        """EIP-1559 fees for the next transaction: twice the base fee plus the tip, capped by
        ``max_fee_per_gas``; a base fee the cap cannot pay refuses (:class:`FeeCapExceededError`)."""
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > 5:
            try:
                base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            except OSError as exc:
                raise self._stopped(exc) from None
            self._fees = (now, base, self.priority_fee_per_gas)
        _, base, tip = self._fees
        cap = self.max_fee_per_gas
        if cap is not None and base + tip > cap:
            self._fees = None  # look again next time: fees may have fallen
            raise FeeCapExceededError(**messages.notice(
                "fee-cap-exceeded", base_gwei=_gwei(base), tip_gwei=_gwei(tip), cap_gwei=_gwei(cap)),
                base_fee_per_gas=base, max_fee_per_gas=cap)
        wanted = 2 * base + tip
        return {"maxFeePerGas": wanted if cap is None else min(wanted, cap), "maxPriorityFeePerGas": tip}

    def transact(
        self,
        fn: ContractFunction,
        *,
        sender: LocalAccount | None = None,
        value: int = 0,
        gas: int | None = None,
        wait: bool = True,
        on_signed: Callable[[str, int], None] | None = None,
    ) -> Receipt:
        """Sign ``fn`` with the sender's key, send it, and wait for its receipt.

        A call that would revert is refused before sending, with the decoded error. ``on_signed``
        (see :meth:`send_transaction`) learns the transaction's hash and nonce before it is sent.
        """
        signer = self.signer(sender)
        base: dict[str, Any] = {"from": signer.address, "value": value, "chainId": self.chain_id}
        tx: dict[str, Any] = dict(fn.build_transaction(cast(TxParams, {**base, "gas": 1, "nonce": 0,
                                                                       **self.fee_fields()})))
        tx["gas"] = gas or self.estimate_gas(cast(TxParams, {**base, "to": tx["to"], "data": tx["data"]}))
        return self.send_transaction(cast(TxParams, tx), signer, wait=wait, on_signed=on_signed)

    def send_call(self, to: str, data: bytes, *, gas: int, sender: LocalAccount | None = None,
                  wait: bool = True) -> Receipt:
        """Sign and send a call whose calldata the caller encoded (a hot path: no estimate, no web3
        contract machinery), and wait for its receipt."""
        signer = self.signer(sender)
        tx: dict[str, Any] = {"from": signer.address, "to": to, "data": HexBytes(data).to_0x_hex(), "value": 0,
                              "gas": gas, "chainId": self.chain_id, **self.fee_fields()}
        return self.send_transaction(cast(TxParams, tx), signer, wait=wait)

    def confirm(self, tx_hash: str, to: str, data: bytes, *, sender: LocalAccount | None = None) -> Receipt:
        """Wait for a transaction :meth:`send_call` sent with ``wait=False``; a failed one raises its decoded reason."""
        receipt = self.wait_for_receipt(tx_hash)
        if receipt.status != 1:
            tx = {"from": self.signer(sender).address, "to": to, "data": HexBytes(data).to_0x_hex(), "value": 0}
            raise self._explain_failure(cast(TxParams, tx), receipt)
        return receipt

    def deploy(self, artifact: Artifact, *args: Any, sender: LocalAccount | None = None) -> Receipt:
        """Deploy a compiled contract; the receipt carries its address."""
        signer = self.signer(sender)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        base: dict[str, Any] = {"from": signer.address, "value": 0, "chainId": self.chain_id}
        tx: dict[str, Any] = {**base, "data": data, **self.fee_fields()}
        tx["gas"] = self.estimate_gas(cast(TxParams, {**base, "data": data}))
        return self.send_transaction(cast(TxParams, tx), signer)

    def estimate_gas(self, tx: TxParams) -> int:
        """Estimate with headroom; a revert here is decoded and raised before anything is sent."""
        try:
            estimate = self.w3.eth.estimate_gas(tx)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise self.errors.decode(_revert_data(exc)) from None
        except Web3RPCError as exc:
            raise _rpc_error(exc) from None
        except OSError as exc:
            raise self._stopped(exc) from None
        return int(estimate * 1.25) + 10_000

    def send_transaction(
        self, tx: TxParams, signer: LocalAccount, *, wait: bool = True,
        on_signed: Callable[[str, int], None] | None = None,
    ) -> Receipt:
        """Allocate a nonce, sign, journal and send under one lock; then wait outside it.

        ``on_signed(tx_hash, nonce)`` runs after the journal has the signed transaction and before
        it is sent, so a caller can record durably which transaction carries its write (the stamp
        service's rounds); if it raises, nothing is sent.
        """
        address = signer.address
        reverted: str | None = None
        for attempt in range(3):
            with self.nonces.hold(address) as slot:
                nonce = slot.nonce
                signed = signer.sign_transaction(cast(Any, {**cast(dict[str, Any], tx), "nonce": nonce}))
                tx_hash = HexBytes(signed.hash).to_0x_hex()
                if self.journal is not None:
                    self.journal.record_signed(tx_hash, address, nonce, bytes(signed.raw_transaction))
                if on_signed is not None:
                    try:
                        on_signed(tx_hash, nonce)
                    except BaseException:
                        if self.journal is not None:
                            self.journal.forget(tx_hash)
                        raise  # the slot was not used: hold() gives the nonce back
                try:
                    self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except Web3RPCError as exc:
                    reverted = _mined_revert(exc, tx_hash)
                    if reverted is not None:
                        slot.used()
                        break  # mined and reverted (Hardhat says so in the answer): its nonce is used
                    text = str(exc).lower()
                    if "already" in text and self._in_pool(tx_hash):  # these very bytes (a reconcile sent them)
                        slot.used()
                        break
                    if self.journal is not None:
                        self.journal.forget(tx_hash)
                    if any(word in text for word in ("nonce", "underpriced", "already")) and attempt < 2:
                        slot.stale()  # someone else used this account (or this nonce): resync
                        continue
                    raise _rpc_error(exc) from None
                except OSError as exc:
                    # The node may or may not have it; the journal keeps it for reconcile().
                    slot.used()
                    slot.stale()
                    raise ChainUnavailableError(
                        **messages.notice("chain-stopped-sending", url=self.rpc_url, tx_hash=tx_hash,
                                          reason=_short(exc)), tx_hash=tx_hash
                    ) from None
                slot.used()
            break
        if reverted is not None:
            self.wait_for_receipt(tx_hash)
            raise self.errors.decode(reverted, tx_hash=tx_hash)
        if not wait:
            return Receipt(tx_hash, -1, "", 0, -1, None, [])
        receipt = self.wait_for_receipt(tx_hash)
        if receipt.status != 1:
            raise self._explain_failure(tx, receipt)
        return receipt

    def wait_for_receipt(self, tx_hash: str, timeout: float | None = None) -> Receipt:
        """Poll for the receipt (it is null until mined); record it in the journal."""
        start = time.monotonic()
        deadline = start + (timeout or self.receipt_timeout)
        delay = 0.002
        # A poll through web3 costs about a millisecond of CPU. A dev chain mines a relayed batch a few ms
        # after accepting it, so polling at once found nothing 2 times in 3 (1.8 wasted polls a batch,
        # benchmarks/api.md): the first poll waits most of what the last receipts took, at most 20 ms.
        if self._mined_after > 0:
            time.sleep(min(0.7 * self._mined_after, 0.02))
        while True:
            try:  # the provider's raw answer: null until mined (no formatters, see Receipt.from_rpc)
                raw = self.w3.provider.make_request(cast(Any, "eth_getTransactionReceipt"), [tx_hash]).get("result")
            except OSError as exc:
                raise ChainUnavailableError(
                    **messages.notice("chain-stopped-waiting", tx_hash=tx_hash, reason=_short(exc)), tx_hash=tx_hash
                ) from None
            except Exception:  # noqa: BLE001 - a node that answers an error while the transaction is pending
                raw = None
            if raw is not None:
                self._mined_after = 0.7 * self._mined_after + 0.3 * (time.monotonic() - start)
                receipt = Receipt.from_rpc(raw)
                if self.journal is not None:
                    self.journal.record_mined(tx_hash, receipt.block_number, receipt.block_hash)
                return receipt
            if time.monotonic() > deadline:
                raise TransactionFailedError(
                    f"no receipt for {tx_hash} after {timeout or self.receipt_timeout:.0f}s; it is "
                    "journaled and `ipledger reconcile` will re-send it if the chain dropped it",
                    tx_hash=tx_hash,
                )
            time.sleep(delay)
            # Polls every 20 ms at most for the first seconds (a dev chain mines at once, a batch's
            # block in tens of ms: a doubling delay overshot it by as much), then back off.
            delay = min(delay * 2, 0.02 if time.monotonic() - start < 3 else 0.25)

    def _explain_failure(self, tx: TxParams, receipt: Receipt) -> LedgerError:
        """Replay a mined, failed transaction to learn its revert reason."""
        replay: TxParams = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}  # type: ignore[assignment]
        try:
            self.w3.eth.call(replay, block_identifier=receipt.block_number)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            return self.errors.decode(_revert_data(exc), tx_hash=receipt.tx_hash)
        except Web3RPCError:
            pass
        return TransactionFailedError(
            f"transaction {receipt.tx_hash} failed in block {receipt.block_number}", tx_hash=receipt.tx_hash
        )

    # -- durability --------------------------------------------------------------

    def reconcile(self) -> list[Receipt]:
        """Re-send journaled transactions the chain no longer holds; return those that moved.

        Walks mined entries newest first until one's block is intact (a chain that lost
        blocks lost a suffix), then re-sends every unmined entry in nonce order with its
        original signed bytes. Returns the new receipts of transactions whose block changed.
        """
        if self.journal is None:
            return []
        for entry in self.journal.mined_newest_first():
            if entry.block_number is not None and self.block_hash(entry.block_number) == entry.block_hash:
                break
            self.journal.mark_unmined(entry.tx_hash)
        moved: list[Receipt] = []
        pending: list[str] = []
        with self.nonces.lock:
            for entry in self.journal.unmined():
                receipt = self.receipt(entry.tx_hash)
                if receipt is not None:
                    self.journal.record_mined(entry.tx_hash, receipt.block_number, receipt.block_hash)
                    moved.append(receipt)
                    continue
                if entry.nonce < self._pending_count(entry.sender):
                    if self._in_pool(entry.tx_hash):  # another replica's, on its way: not ours to judge
                        continue
                    self.journal.record_dropped(entry.tx_hash)
                    continue
                try:
                    self.w3.eth.send_raw_transaction(entry.raw)
                except Web3RPCError as exc:
                    if "already" not in str(exc).lower():
                        raise _rpc_error(exc) from None
                pending.append(entry.tx_hash)
            self.nonces.reset()
        moved.extend(self.wait_for_receipt(tx_hash) for tx_hash in pending)
        return moved

    def _in_pool(self, tx_hash: str) -> bool:
        """Whether the node holds this transaction (pending, or mined since we looked)."""
        (response,) = self.rpc_batch([("eth_getTransactionByHash", [tx_hash])], raw=True)
        return bool(response.get("result"))

    # -- dev chains --------------------------------------------------------------

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """A raw JSON-RPC call (the dev methods Anvil, Hardhat and Ganache share, in tests and dev tools)."""
        response = self.w3.provider.make_request(method, params or [])  # type: ignore[arg-type]
        if "error" in response:
            raise ValidationError(f"{method} failed: {response['error']}")
        return response.get("result")

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        self.rpc("evm_revert", [snapshot_id])
        self.nonces.reset()
        self._recent_time = None  # the latest block is another one now: its time is read again

    def increase_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine")
        self._recent_time = None

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
        if isinstance(self.w3.provider, PooledHTTPProvider):
            self.w3.provider.close()


def client_options(settings: Settings) -> dict[str, Any]:
    """The :class:`ChainClient` keyword arguments the settings give (fees, finality, receipts)."""
    finality = settings.finality
    if finality not in ("auto", "tag", "confirmations"):
        raise ConfigurationError(f"IPLEDGER_FINALITY={finality!r}: choose auto, tag or confirmations")
    return {
        "receipt_timeout": settings.receipt_timeout,
        "max_fee_per_gas": settings.max_fee_per_gas,
        "priority_fee_per_gas": settings.priority_fee_per_gas,
        "finality": cast(FinalityMode, finality),
        "finality_confirmations": settings.finality_confirmations,
    }


def revert_data_of(data: Any) -> str | None:
    """The revert data in the ``data`` of a JSON-RPC error, as each node puts it: a hex string (Anvil,
    Ganache's ``eth_call``), ``{"data": hex}`` (Hardhat, with a message beside it) or ``{"result": hex}``
    (Ganache's ``eth_estimateGas``). None when there is none."""
    if isinstance(data, dict):
        data = data.get("data") if isinstance(data.get("data"), str) else data.get("result")
    return data if isinstance(data, str) and data.startswith("0x") else None


def _revert_data(exc: Exception) -> Any:
    return revert_data_of(getattr(exc, "data", None))


def _mined_revert(exc: Web3RPCError, tx_hash: str) -> str | None:
    """The revert data when a node answers the sending of a transaction it mined and that reverted.

    Anvil and Ganache answer the hash and leave the failure to the receipt; Hardhat's node (automine)
    answers an error whose data names the mined transaction and its revert data. That transaction
    is on chain (its nonce used, its gas paid): it is a failed transaction, not a refused one.
    """
    response = exc.rpc_response if isinstance(exc.rpc_response, dict) else {}
    error = response.get("error")
    data = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, dict) and str(data.get("txHash", "")).lower() == tx_hash.lower():
        return revert_data_of(data) or "0x"
    return None


def _rpc_error(exc: Web3RPCError) -> LedgerError:
    message = getattr(exc, "message", None) or str(exc)
    lowered = message.lower()
    if "insufficient funds" in lowered:
        return ValidationError(f"the account cannot pay for gas: {message}")
    if "not found" in lowered:
        return NotFoundError(message)
    return TransactionFailedError(f"the chain refused the transaction: {message}")


def _gwei(wei: int) -> str:
    """Wei as gwei for a sentence (``12.5``): display only, amounts stay integers."""
    whole, rest = divmod(wei, 10**9)
    return f"{whole}.{str(rest).rjust(9, '0').rstrip('0')}" if rest else str(whole)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."


def dev_account(index: int) -> LocalAccount:
    """Anvil's public development account ``index`` (0-9), derived alone (deriving is slow)."""
    from ledger.chain.devchain import DEV_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def dev_accounts(count: int = 10) -> list[LocalAccount]:
    """Anvil's public development accounts (from its well-known mnemonic)."""
    from ledger.chain.devchain import DEV_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)
    ]
