"""The embedded chain's state file survives any number of restarts: one genesis, linked blocks, a clock
that never goes back; a state file damaged by earlier restarts is repaired, an unrepairable one refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain.devchain import Anvil, dump_file, genesis_file, rpc_call
from ledger.errors import ChainInconsistentError


def block(url: str, tag: str) -> dict[str, str]:
    found = rpc_call(url, "eth_getBlockByNumber", [tag, False])
    assert isinstance(found, dict)
    return found


def geneses(state: Path) -> list[dict]:  # type: ignore[type-arg]
    return [b for b in json.loads(state.read_text())["blocks"] if int(b["header"]["number"], 16) == 0]


def mine(url: str, count: int = 1) -> None:
    for _ in range(count):
        rpc_call(url, "evm_mine", [])


def test_restart_many_times_keeps_one_genesis_and_linked_blocks(tmp_path):
    state = tmp_path / "devchain" / "state.json"
    with Anvil(state) as node:
        mine(node.url, 2)
        genesis = block(node.url, "0x0")["hash"]
    for _ in range(4):
        with Anvil(state) as node:
            mine(node.url)
            assert block(node.url, "0x0")["hash"] == genesis
            assert block(node.url, "0x1")["parentHash"] == genesis
    assert len(geneses(state)) == 1


def test_restart_after_time_moved_forward_never_goes_back_in_time(tmp_path):
    state = tmp_path / "state.json"
    with Anvil(state) as node:
        rpc_call(node.url, "evm_increaseTime", [400 * 86_400])
        mine(node.url)
        last = block(node.url, "latest")
    with Anvil(state) as node:
        assert block(node.url, "latest")["hash"] == last["hash"], "the clean stop lost the last block"
        mine(node.url)
        assert int(block(node.url, "latest")["timestamp"], 16) > int(last["timestamp"], 16)


def damaged_state(tmp_path: Path) -> tuple[Path, str]:
    """A state file as restarts by older ipledger left it: the first genesis, then later ones.

    Returns the file and the hash of its first genesis."""
    state = tmp_path / "state.json"
    with Anvil(state) as node:
        mine(node.url, 3)
        genesis = block(node.url, "0x0")["hash"]
    genesis_file(state).unlink()
    data = json.loads(state.read_text())
    [first] = [b for b in data["blocks"] if int(b["header"]["number"], 16) == 0]
    later = []
    for shift in (7, 30, 90):
        copy = json.loads(json.dumps(first))
        copy["header"]["timestamp"] = hex(int(first["header"]["timestamp"], 16) + shift)
        later.append(copy)
    data["blocks"] = [later[0], *data["blocks"], *later[1:]]
    state.write_text(json.dumps(data))
    return state, genesis


def test_start_on_state_with_many_geneses_repairs_it_and_block_one_follows_block_zero(tmp_path):
    state, genesis = damaged_state(tmp_path)
    with Anvil(extra_args=["--state", str(state)]) as old_way:  # how ipledger started it before: no repair
        assert block(old_way.url, "0x1")["parentHash"] != block(old_way.url, "0x0")["hash"]
    state, genesis = damaged_state(tmp_path / "again")
    with Anvil(state) as node:
        assert block(node.url, "0x0")["hash"] == genesis
        assert block(node.url, "0x1")["parentHash"] == genesis
    assert len(geneses(state)) == 1


def test_start_on_state_whose_genesis_is_lost_refuses_with_damaged_message(tmp_path):
    state, _ = damaged_state(tmp_path)
    data = json.loads(state.read_text())
    data["blocks"] = [b for b in data["blocks"] if int(b["header"]["number"], 16) != 0
                      or int(b["header"]["timestamp"], 16) != min(int(g["header"]["timestamp"], 16)
                                                                   for g in geneses(state))]
    state.write_text(json.dumps(data))
    with pytest.raises(ChainInconsistentError, match="is damaged: block 1 follows"):
        Anvil(state).start()


def test_start_after_dump_cut_short_by_a_kill_loads_the_whole_state_and_sets_the_half_aside(tmp_path):
    state = tmp_path / "state.json"
    with Anvil(state) as node:
        mine(node.url, 5)
    # Anvil rewrites its dump in place: killed mid-write, it leaves the first part of a file
    half = state.read_bytes()[: state.stat().st_size // 2]
    dump_file(state).write_bytes(half)
    with Anvil(state) as node:
        assert int(str(rpc_call(node.url, "eth_blockNumber", [])), 16) == 5
    assert dump_file(state).with_name(dump_file(state).name + ".partial").read_bytes() == half
    assert json.loads(state.read_text())["best_block_number"] in (5, "0x5")


def test_clean_stop_leaves_the_whole_state_in_state_json(tmp_path):
    state = tmp_path / "state.json"
    with Anvil(state) as node:
        mine(node.url, 2)
    assert not dump_file(state).exists()
    with Anvil(state) as node:
        assert int(str(rpc_call(node.url, "eth_blockNumber", [])), 16) == 2
