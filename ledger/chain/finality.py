"""How final a record is: confirmations, or the chain's own ``finalized`` block where it has one.

A record (a stamp, a registration, a pledge) is as final as the block that holds it. Chains say it
in two ways, and :class:`Finality` carries both:

* **The ``finalized`` block tag** (``eth_getBlockByNumber("finalized")``): proof-of-stake Ethereum
  names the last block that cannot be reverted without burning stake; Anvil imitates it (64 blocks
  behind its head); Hardhat's node and Ganache answer their head (they never reorganise). A record
  at or below that block is *final*.
* **Confirmations** (blocks on top, the record's own included), for a chain without the tag, or
  when the settings ask for them (``IPLEDGER_FINALITY=confirmations``): a record with at least
  ``IPLEDGER_FINALITY_CONFIRMATIONS`` is *final*. On a BFT chain (Besu with QBFT or IBFT 2.0) every
  block is final once sealed, so 1 confirmation is enough there.

This module only judges; :meth:`ledger.chain.client.ChainClient.finality` asks the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FinalityMode = Literal["auto", "tag", "confirmations"]
"""``auto``: the ``finalized`` tag where the chain has one, else confirmations; ``tag``: the tag only
(a chain without it is a configuration error); ``confirmations``: count confirmations only."""

FINALIZED_TAG = "finalized-tag"
CONFIRMATIONS = "confirmations"


@dataclass(frozen=True)
class Finality:
    """How final the record in block ``block_number`` is, seen at chain head ``head``."""

    block_number: int
    head: int
    required: int
    """Confirmations that make a record final where the finalized tag is not used."""
    finalized_block: int | None = None
    """The chain's ``finalized`` block when that is the measure (None: confirmations are)."""

    @property
    def confirmations(self) -> int:
        """Blocks from the record's to the head, both included (0: not in the chain the head is on)."""
        return max(0, self.head - self.block_number + 1)

    @property
    def basis(self) -> str:
        return FINALIZED_TAG if self.finalized_block is not None else CONFIRMATIONS

    @property
    def final(self) -> bool:
        if self.finalized_block is not None:
            return self.block_number <= self.finalized_block
        return self.confirmations >= self.required

    @property
    def status(self) -> str:
        """``final``, ``confirmed`` (in a block, not final yet) or ``pending`` (not in the head's chain)."""
        if self.final:
            return "final"
        return "confirmed" if self.confirmations else "pending"

    def sentence(self) -> str:
        """One line for a person: how final, and why."""
        if self.final and self.basis == FINALIZED_TAG:
            return (f"final: block {self.block_number} is finalized by the chain (finalized block "
                    f"{self.finalized_block}; {self.confirmations} confirmations)")
        if self.final:
            return f"final: {self.confirmations} confirmations (at least {self.required} make a record final)"
        if self.basis == FINALIZED_TAG:
            counted = f"{self.confirmations} confirmation{'' if self.confirmations == 1 else 's'}"
            return (f"not final yet: {counted}; the chain has finalized up to block "
                    f"{self.finalized_block}, and this record is in block {self.block_number}")
        return f"not final yet: {self.confirmations} of {self.required} confirmations"

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "final": self.final, "basis": self.basis, "block_number": self.block_number,
                "head": self.head, "confirmations": self.confirmations, "required_confirmations": self.required,
                "finalized_block": self.finalized_block, "sentence": self.sentence()}
