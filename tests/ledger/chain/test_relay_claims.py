"""The relay's claims taken a batch at a time (one statement each), on SQLite and PostgreSQL (``shared``)."""

from __future__ import annotations

from ledger.audit.store import Store
from ledger.relay.service import _Claims

SENDER = "0x" + "cd" * 20


def test_claims_of_a_batch_take_only_what_is_free_and_settle_gives_back_only_the_unsent(shared: Store) -> None:
    one, other = (_Claims(shared.engine, 31337, stale_after=600) for _ in range(2))  # two replicas
    assert one.claim_many(["0xa", "0xb"]) == {"0xa", "0xb"}
    assert other.claim_many(["0xb", "0xc"]) == {"0xc"}  # 0xb is taken: the per-request path says by whom
    assert other.claim("0xb") == "pending"
    assert one.reserve_many([(SENDER, 0), (SENDER, 1)]) == {(SENDER, 0), (SENDER, 1)}
    assert other.reserve_many([(SENDER, 1), (SENDER, 2)]) == {(SENDER, 2)}

    one.settle({"0x" + "11" * 32: ["0xa"]}, ["0xb"], [(SENDER, 0), (SENDER, 1), (SENDER, 2)])

    assert other.claim("0xa") == "0x" + "11" * 32  # sent: used for good, with its transaction
    assert other.claim_many(["0xb"]) == {"0xb"}  # never sent: given back
    assert other.reserve_many([(SENDER, 0), (SENDER, 1), (SENDER, 2)]) == {(SENDER, 0), (SENDER, 1)}  # not its (2)
    other.settle({}, ["0xc"], [])
    assert one.claim_many(["0xc"]) == {"0xc"}
