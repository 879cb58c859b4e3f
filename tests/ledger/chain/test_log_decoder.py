"""The relay's event decoder (eth_abi directly) against web3's ``process_log``, for every event of the suite."""

from __future__ import annotations

import re
from typing import Any

from eth_abi import encode
from eth_utils import event_abi_to_log_topic, keccak
from hexbytes import HexBytes
from web3 import Web3

from ledger.chain.client import _plain, log_decoder

ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def sample(kind: str) -> Any:
    array = re.fullmatch(r"(.+)\[(\d*)\]", kind)
    if array:
        return [sample(array.group(1))] * (int(array.group(2)) if array.group(2) else 2)
    if kind == "address":
        return ADDRESS
    if kind == "bool":
        return True
    if kind == "string":
        return "licence é"
    if kind == "bytes":
        return b"\x01\x02\x03"
    if kind.startswith("bytes"):
        return bytes(range(1, int(kind[5:]) + 1))
    if kind.startswith("int"):
        return -3
    return 7


def test_log_decoder_gives_what_web3_gives_for_every_event_of_the_suite(artifacts) -> None:
    w3 = Web3()
    checked = 0
    for artifact in artifacts.values():
        contract = w3.eth.contract(address=ADDRESS, abi=artifact.abi)
        for item in (i for i in artifact.abi if i.get("type") == "event"):
            decode = log_decoder(item)
            if decode is None:
                continue
            topics = [HexBytes(event_abi_to_log_topic(item))]
            for arg in (i for i in item["inputs"] if i["indexed"]):
                dynamic = arg["type"] in ("string", "bytes") or arg["type"].endswith("]")
                topics.append(HexBytes(keccak(b"x") if dynamic else encode([arg["type"]], [sample(arg["type"])])))
            plain = [i for i in item["inputs"] if not i["indexed"]]
            log = {"address": ADDRESS, "topics": topics, "logIndex": 0, "transactionIndex": 0, "blockNumber": 1,
                   "transactionHash": HexBytes(b"\x01" * 32), "blockHash": HexBytes(b"\x02" * 32),
                   "data": HexBytes(encode([i["type"] for i in plain], [sample(i["type"]) for i in plain]))}
            expected = {k: _plain(v) for k, v in contract.events[item["name"]]().process_log(log)["args"].items()}
            assert decode(log) == expected, item["name"]
            checked += 1
    assert checked > 30
