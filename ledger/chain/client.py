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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import requests
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import event_abi_to_log_topic, function_signature_to_4byte_selector, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError
from web3.providers.rpc import HTTPProvider
from web3.types import BlockIdentifier, TxParams, TxReceipt

from ledger import messages
from ledger.chain.journal import Journal
from ledger.chain.toolchain import Artifact
from ledger.errors import (
    ChainError,
    ChainUnavailableError,
    LedgerError,
    NotFoundError,
    TransactionFailedError,
    ValidationError,
    contract_error,
)

__all__ = ["ChainClient", "Contract", "ErrorDecoder", "Event", "NonceManager", "Receipt", "dev_account",
           "dev_accounts"]
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
                return TransactionFailedError("the transaction reverted without a reason", **context)
            return TransactionFailedError(
                f"the transaction reverted with unknown error data {raw.to_0x_hex()}", **context)
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
        return to_checksum_address(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


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


class ChainClient:
    """One connection to one chain, acting as one default account."""

    def __init__(
        self,
        rpc_url: str,
        account: LocalAccount | None = None,
        *,
        journal_dir: Path | None = None,
        receipt_timeout: float = 120.0,
        error_abis: Iterable[Sequence[dict[str, Any]]] = (),
    ) -> None:
        self.rpc_url = rpc_url
        self.account = account
        self.receipt_timeout = receipt_timeout
        provider = HTTPProvider(
            rpc_url, request_kwargs={"timeout": 30}, exception_retry_configuration=None
        )
        self.w3 = Web3(provider)
        # We set chainId, gas and fees on every transaction ourselves and use no ENS names; these
        # middlewares would otherwise add an eth_chainId round trip to each call (4 per relayed write).
        for name in ("validation", "ens_name_to_address", "gas_price_strategy", "gas_estimate"):
            self.w3.middleware_onion.remove(name)
        self.errors = ErrorDecoder(error_abis)
        self.nonces = NonceManager(lambda a: self.w3.eth.get_transaction_count(to_checksum_address(a), "pending"))
        try:
            self.chain_id = int(self.w3.eth.chain_id)
        except (requests.RequestException, OSError, ValueError) as exc:
            raise ChainUnavailableError(f"no chain answers at {rpc_url}: {_short(exc)}") from None
        self.journal: Journal | None = None
        if journal_dir is not None:
            self.journal = Journal(
                journal_dir / f"journal-{self.chain_id}.sqlite", str(self.chain_id)
            )
        self._fees: tuple[float, int, int] | None = None
        self._recent_time: tuple[float, int] | None = None

    # -- reading -----------------------------------------------------------------

    def contract(self, abi: Sequence[dict[str, Any]], address: str) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=abi)

    def call(self, fn: ContractFunction, block: BlockIdentifier = "latest") -> Any:
        """Call a view function; a revert becomes the decoded ledger error."""
        try:
            return fn.call(block_identifier=block)
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.errors.decode(_revert_data(exc)) from None
        except (requests.RequestException, OSError) as exc:
            raise ChainUnavailableError(f"the chain at {self.rpc_url} stopped answering: {_short(exc)}") from None

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
        by_topic = {
            event_abi_to_log_topic(cast(Any, item)): str(cast(Any, item)["name"])
            for item in contract.abi
            if item.get("type") == "event"
        }
        out: list[Event] = []
        for log in logs:
            if to_checksum_address(log["address"]) != contract.address or not log["topics"]:
                continue
            name = by_topic.get(bytes(log["topics"][0]))
            if name is None:
                continue
            data = contract.events[name]().process_log(log)
            out.append(
                Event(
                    name=name,
                    args={k: _plain(v) for k, v in data["args"].items()},
                    address=contract.address,
                    tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                    block_number=int(log["blockNumber"]),
                    block_hash=HexBytes(log["blockHash"]).to_0x_hex(),
                    log_index=int(log["logIndex"]),
                )
            )
        return out

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
        except requests.Timeout as exc:
            raise ChainError(f"the chain at {self.rpc_url} timed out on a batch: {_short(exc)}") from None
        except (requests.RequestException, OSError) as exc:
            raise ChainUnavailableError(f"the chain at {self.rpc_url} stopped answering: {_short(exc)}") from None
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
        except requests.Timeout as exc:
            raise ChainError(f"eth_getLogs {from_block}-{to_block} timed out: {_short(exc)}") from None
        except requests.HTTPError as exc:
            raise ChainError(f"eth_getLogs {from_block}-{to_block} refused: {_short(exc)}") from None
        except (requests.RequestException, OSError) as exc:
            raise ChainUnavailableError(f"the chain at {self.rpc_url} stopped answering: {_short(exc)}") from None
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

    # -- writing -----------------------------------------------------------------

    def signer(self, sender: LocalAccount | None = None) -> LocalAccount:
        """The account that signs: ``sender`` if given, else the client's default account."""
        signer = sender or self.account
        if signer is None:
            raise ValidationError("no account to sign with: create one with `ipledger account new`")
        return signer

    def _fee_fields(self) -> dict[str, int]:
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > 5:
            base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            tip = 1_000_000_000
            self._fees = (now, 2 * base + tip, tip)
        return {"maxFeePerGas": self._fees[1], "maxPriorityFeePerGas": self._fees[2]}

    def transact(
        self,
        fn: ContractFunction,
        *,
        sender: LocalAccount | None = None,
        value: int = 0,
        gas: int | None = None,
        wait: bool = True,
    ) -> Receipt:
        """Sign ``fn`` with the sender's key, send it, and wait for its receipt.

        A call that would revert is refused before sending, with the decoded error.
        """
        signer = self.signer(sender)
        base: dict[str, Any] = {"from": signer.address, "value": value, "chainId": self.chain_id}
        tx: dict[str, Any] = dict(fn.build_transaction(cast(TxParams, {**base, "gas": 1, "nonce": 0,
                                                                       **self._fee_fields()})))
        tx["gas"] = gas or self.estimate_gas(cast(TxParams, {**base, "to": tx["to"], "data": tx["data"]}))
        return self.send_transaction(cast(TxParams, tx), signer, wait=wait)

    def deploy(self, artifact: Artifact, *args: Any, sender: LocalAccount | None = None) -> Receipt:
        """Deploy a compiled contract; the receipt carries its address."""
        signer = self.signer(sender)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        base: dict[str, Any] = {"from": signer.address, "value": 0, "chainId": self.chain_id}
        tx: dict[str, Any] = {**base, "data": data, **self._fee_fields()}
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
        except (requests.RequestException, OSError) as exc:
            raise ChainUnavailableError(f"the chain at {self.rpc_url} stopped answering: {_short(exc)}") from None
        return int(estimate * 1.25) + 10_000

    def send_transaction(self, tx: TxParams, signer: LocalAccount, *, wait: bool = True) -> Receipt:
        """Allocate a nonce, sign, journal and send under one lock; then wait outside it."""
        address = signer.address
        for attempt in range(3):
            with self.nonces.lock:
                nonce = self.nonces.allocate(address)
                signed = signer.sign_transaction(cast(Any, {**cast(dict[str, Any], tx), "nonce": nonce}))
                tx_hash = HexBytes(signed.hash).to_0x_hex()
                if self.journal is not None:
                    self.journal.record_signed(tx_hash, address, nonce, bytes(signed.raw_transaction))
                try:
                    self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except Web3RPCError as exc:
                    if self.journal is not None:
                        self.journal.forget(tx_hash)
                    text = str(exc).lower()
                    if "nonce" in text and attempt < 2:
                        self.nonces.reset(address)  # someone else used this account: resync
                        continue
                    self.nonces.release(address, nonce)
                    raise _rpc_error(exc) from None
                except (requests.RequestException, OSError) as exc:
                    # The node may or may not have it; the journal keeps it for reconcile().
                    self.nonces.reset(address)
                    raise ChainUnavailableError(
                        f"the chain at {self.rpc_url} stopped answering while sending {tx_hash}: "
                        f"{_short(exc)}; run `ipledger reconcile` once it is back", tx_hash=tx_hash
                    ) from None
            break
        if not wait:
            return Receipt(tx_hash, -1, "", 0, -1, None, [])
        receipt = self.wait_for_receipt(tx_hash)
        if receipt.status != 1:
            raise self._explain_failure(tx, receipt)
        return receipt

    def wait_for_receipt(self, tx_hash: str, timeout: float | None = None) -> Receipt:
        """Poll for the receipt (it is null until mined); record it in the journal."""
        deadline = time.monotonic() + (timeout or self.receipt_timeout)
        delay = 0.002
        while True:
            try:
                raw = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except (requests.RequestException, OSError) as exc:
                raise ChainUnavailableError(
                    f"the chain stopped answering while waiting for {tx_hash}: {_short(exc)}", tx_hash=tx_hash
                ) from None
            except Exception:  # noqa: BLE001 - TransactionNotFound while pending
                raw = None
            if raw is not None:
                receipt = Receipt.from_web3(raw)
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
            delay = min(delay * 2, 0.25)

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
                if entry.nonce < self.w3.eth.get_transaction_count(to_checksum_address(entry.sender), "pending"):
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

    # -- dev chains --------------------------------------------------------------

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """A raw JSON-RPC call (Anvil's evm_* methods in tests and dev tools)."""
        response = self.w3.provider.make_request(method, params or [])  # type: ignore[arg-type]
        if "error" in response:
            raise ValidationError(f"{method} failed: {response['error']}")
        return response.get("result")

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        self.rpc("evm_revert", [snapshot_id])
        self.nonces.reset()

    def increase_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine")

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


def _revert_data(exc: Exception) -> Any:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and not data.startswith("0x"):
        return None
    return data


def _rpc_error(exc: Web3RPCError) -> LedgerError:
    message = getattr(exc, "message", None) or str(exc)
    lowered = message.lower()
    if "insufficient funds" in lowered:
        return ValidationError(f"the account cannot pay for gas: {message}")
    if "not found" in lowered:
        return NotFoundError(message)
    return TransactionFailedError(f"the chain refused the transaction: {message}")


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
