"""Contract calls and logs as bytes: calldata from a signature, raw ``eth_call`` and
``eth_getLogs`` requests for one JSON-RPC batch, and their answers decoded from the ABIs.

Used by clients that sign requests without the compiled artifacts (:mod:`ledger.client.api`) and
by reads that must cost one round trip (the bank check, the market's boards).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from ledger.chain.client import revert_data_of
from ledger.errors import ChainError, HistoryUnavailableError, ValidationError

if TYPE_CHECKING:
    from ledger.chain.client import ChainClient


# -- calls ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """A transaction that did what was asked: where it landed and the ids it created."""

    tx_hash: str
    block_number: int
    ids: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"tx_hash": self.tx_hash, "block_number": self.block_number, **self.ids}


_SIGNATURE = re.compile(r"^(\w+)\((.*)\)$")


def encode_call(signature: str, *args: Any) -> bytes:
    """Calldata of ``signature`` (``"accept(uint256)"``, tuples as ``(address,uint8,...)``) with ``args``."""
    match = _SIGNATURE.match(signature.replace(" ", ""))
    if match is None:
        raise ValidationError(f"not a function signature: {signature!r}")
    types = _split_types(match.group(2))
    return bytes(keccak(text=signature.replace(" ", ""))[:4]) + abi_encode(types, list(args))


def _split_types(inner: str) -> list[str]:
    types, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            types.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    if current:
        types.append(current)
    return types


# -- raw JSON-RPC reads: calls and logs decoded from the ABIs ------------------------------------------
# The bank check and other one-round-trip reads build plain JSON-RPC requests, send them in one
# batch (ChainClient.rpc_batch) and decode the answers here.


def _type_string(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_type_string(c) for c in item['components'])}){kind[5:]}"
    return kind


def function_abi(abi: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for item in abi:
        if item.get("type") == "function" and item.get("name") == name:
            return item
    raise ValidationError(f"the ABI has no function {name}")


def call_request(address: str, data: bytes | str, block: int | str = "latest") -> tuple[str, list[Any]]:
    """An ``eth_call`` for :meth:`ChainClient.rpc_batch`."""
    tag = hex(block) if isinstance(block, int) else block
    return "eth_call", [{"to": address, "data": data if isinstance(data, str) else "0x" + data.hex()}, tag]


def decode_output(fn: Mapping[str, Any], result: str) -> tuple[Any, ...]:
    """The return values of a raw ``eth_call`` result, decoded with the function's ABI."""
    types = [_type_string(o) for o in fn["outputs"]]
    return tuple(abi_decode(types, bytes.fromhex(result[2:])))


def uint_topic(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def logs_request(addresses: Sequence[str], topics: Sequence[Any], from_block: int = 0,
                 to_block: int | str = "latest") -> tuple[str, list[Any]]:
    """An ``eth_getLogs`` for :meth:`ChainClient.rpc_batch`."""
    tag = hex(to_block) if isinstance(to_block, int) else to_block
    return "eth_getLogs", [{"address": list(addresses), "topics": list(topics), "fromBlock": hex(from_block),
                            "toBlock": tag}]


_NO_HISTORY = re.compile(
    r"BlockOutOfRange|missing trie node|header not found|historical state\b.*\bnot available"
    r"|state (?:is )?not available|state histor(?:y|ies)\b.*\b(?:pruned|not|unavailable)|pruned history"
    r"|not an archive node|distance to target block exceeds", re.IGNORECASE)
"""How nodes say they keep no state of an earlier block: Anvil after ``--load-state`` ("BlockOutOfRangeError:
block height is 92 but requested was 45"), geth and its kin ("missing trie node", "header not found",
"historical state ... is not available"), Erigon and Reth (state history pruned)."""


def lacks_history(error: object) -> bool:
    """Whether a JSON-RPC error says the node keeps no state (or logs) of the block asked for."""
    message = error.get("message") if isinstance(error, dict) else error
    return isinstance(message, str) and _NO_HISTORY.search(message) is not None


def raw_results(client: ChainClient, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """Send ``calls`` in ONE round trip; a reverted ``eth_call`` raises its decoded ledger error, a node
    that keeps no state of the block asked for :class:`HistoryUnavailableError`."""
    results = []
    for (method, _), response in zip(calls, client.rpc_batch(calls, raw=True), strict=True):
        error = response.get("error")
        if error is None:
            results.append(response.get("result"))
            continue
        data = revert_data_of(error.get("data") if isinstance(error, dict) else None)
        if method == "eth_call" and data is not None:
            raise client.errors.decode(data)
        if lacks_history(error):
            raise HistoryUnavailableError(f"{method} failed: the node keeps no state of the block asked for "
                                          f"({error.get('message') if isinstance(error, dict) else error})")
        raise ChainError(f"{method} failed: {error}")
    return results


def plain(value: Any, item: Mapping[str, Any]) -> Any:
    """A decoded ABI value as JSON-friendly Python: hex for bytes, checksummed addresses, structs as dicts."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [plain(v, inner) for v in value]
    if kind.startswith("tuple"):
        return {(c.get("name") or f"arg{i}"): plain(v, c)
                for i, (c, v) in enumerate(zip(item["components"], value, strict=True))}
    if kind == "address":
        return str(to_checksum_address(value))
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


@dataclass(frozen=True)
class LogEvent:
    """A decoded log with where and when it happened (``block_time`` 0 if the node did not say)."""

    contract: str
    event: str
    args: dict[str, Any]
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    block_time: int


class LogDecoder:
    """Decodes raw ``eth_getLogs`` entries of known contracts from their ABIs."""

    def __init__(self, contracts: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]]) -> None:
        """``contracts``: address → (contract name, ABI)."""
        self._events: dict[tuple[str, str], tuple[str, str, list[Mapping[str, Any]]]] = {}
        for address, (name, abi) in contracts.items():
            for item in abi:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                inputs = list(item.get("inputs", []))
                topic = "0x" + keccak(text=f"{item['name']}({','.join(_type_string(i) for i in inputs)})").hex()
                self._events[(address.lower(), topic)] = (name, str(item["name"]), inputs)

    def topic(self, event: str) -> str:
        """The topic 0 of an event by name."""
        for (_, topic), (_, name, _) in self._events.items():
            if name == event:
                return topic
        raise ValidationError(f"no known event {event}")

    def decode(self, log: Mapping[str, Any]) -> LogEvent | None:
        topics = [str(t).lower() for t in log.get("topics", [])]
        known = self._events.get((str(log["address"]).lower(), topics[0])) if topics else None
        if known is None:
            return None
        contract, event, inputs = known
        indexed = [i for i in inputs if i.get("indexed")]
        if len(indexed) != len(topics) - 1:
            return None  # same signature, other indexing: not this event
        data = [i for i in inputs if not i.get("indexed")]
        values: dict[str, Any] = {}
        for item, topic in zip(indexed, topics[1:], strict=True):
            kind = str(item["type"])
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("tuple"):
                values[item["name"]] = topic  # indexed dynamic values are stored as their hash
            else:
                values[item["name"]] = plain(abi_decode([kind], bytes.fromhex(topic[2:]))[0], item)
        if data:
            decoded = abi_decode([_type_string(i) for i in data], bytes.fromhex(str(log["data"])[2:]))
            for item, raw in zip(data, decoded, strict=True):
                values[item["name"]] = plain(raw, item)
        args = {(i.get("name") or f"arg{n}"): values.get(i["name"]) for n, i in enumerate(inputs)}
        stamp = log.get("blockTimestamp")
        return LogEvent(
            contract=contract, event=event, args=args, tx_hash=str(log["transactionHash"]),
            block_number=int(log["blockNumber"], 16), block_hash=str(log["blockHash"]),
            log_index=int(log["logIndex"], 16), block_time=int(stamp, 16) if stamp else 0,
        )
