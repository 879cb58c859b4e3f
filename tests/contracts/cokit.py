"""The co-ownership test kit: co-owners, shares, act ids and consents (used by the co-owner tests).

Co-owners: A = the IP kit's owner [1] (50 %), B = its other owner [2] (30 %), C = account [9] (20 %).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from ledger.chain.client import Receipt
from ledger.chain.toolchain import Artifact
from tests.contracts.ipkit import INVENTION_PATENT, URI, ZERO32, IPKit
from tests.contracts.test_marketplace import MarketKit, market_kit

# ICoOwnership.ActKind
(LICENSE, LICENSE_LISTING, CANCEL_LICENSE_LISTING, SALE, CANCEL_SALE, OFFER_ACCEPTANCE, PLEDGE, CANCEL_PLEDGE,
 TRANSFER, CO_OWNERS_CHANGE, SHARE_TRANSFER) = range(11)
FREE_SHARE_TRANSFER, UNANIMOUS_LICENSING = 1, 2
TERMS_TYPE = "(address,uint8,uint40,uint40,bytes32,bytes32,bytes32,uint256,bool)"
SHARES_TYPE = "(address,uint16)[]"
AGREEMENT_TYPE = "(bytes32,uint8)"
PARAM_TYPES: dict[int, list[str]] = {
    LICENSE: [TERMS_TYPE],
    LICENSE_LISTING: [TERMS_TYPE, "address", "uint256", "uint256", "uint40"],
    SALE: ["address", "uint256", "uint40", "address"],
    OFFER_ACCEPTANCE: ["uint256"],
    PLEDGE: ["address", "uint256", "bytes3", "uint40", "bytes32"],
    TRANSFER: ["address"],
    CO_OWNERS_CHANGE: [SHARES_TYPE, AGREEMENT_TYPE],
    SHARE_TRANSFER: ["address", "address", "uint16"],
}


@dataclass
class CoKit:
    ip: IPKit
    market: MarketKit
    co: Contract
    artifacts: dict[str, Artifact]

    @property
    def a(self) -> LocalAccount:
        return self.ip.owner

    @property
    def b(self) -> LocalAccount:
        return self.ip.other

    @property
    def c(self) -> LocalAccount:
        return self.ip.accounts[9]

    def shares(self, *pairs: tuple[LocalAccount | str, int]) -> list[tuple[str, int]]:
        if not pairs:
            pairs = ((self.a, 5_000), (self.b, 3_000), (self.c, 2_000))
        return [(p if isinstance(p, str) else p.address, bps) for p, bps in pairs]

    def register_fn(self, shares: list[tuple[str, int]] | None = None, *, flags: int = 0,
                    agreement: bytes = ZERO32, ref: bytes = ZERO32) -> Any:
        return self.co.functions.register(os.urandom(32), INVENTION_PATENT, ref, os.urandom(32), URI,
                                          self.shares() if shares is None else shares, (agreement, flags))

    def register(self, shares: list[tuple[str, int]] | None = None, *, flags: int = 0,
                 sender: LocalAccount | None = None, agreement: bytes = ZERO32) -> int:
        receipt = self.ip.send(self.register_fn(shares, flags=flags, agreement=agreement), sender or self.a)
        [args] = [a for n, a in self.ip.events(self.co, receipt) if n == "CoOwnersSet"]
        return int(args["assetId"])

    def co_owners(self, asset_id: int) -> dict[str, Any]:
        shares, agreement, vault, epoch = self.ip.call(self.co.functions.coOwnersOf(asset_id))
        return {"shares": [tuple(s) for s in shares], "agreement": tuple(agreement), "vault": vault, "epoch": epoch}

    def vault(self, asset_id: int) -> str:
        return str(self.ip.call(self.co.functions.vaultOf(asset_id)))

    def act_id(self, asset_id: int, kind: int, *values: Any) -> str:
        """The act's id as the contract's events and errors give it (0x-hex)."""
        params = abi_encode(PARAM_TYPES[kind], list(values))
        return "0x" + bytes(self.ip.call(self.co.functions.actId(asset_id, kind, params))).hex()

    def consent(self, asset_id: int, act: str, *who: LocalAccount) -> None:
        for account in who:
            self.ip.send(self.co.functions.consent(asset_id, act), account)

    def consents(self, asset_id: int, kind: int, *values: Any, by: tuple[LocalAccount, ...] | None = None) -> str:
        """Every co-owner but A consents to the act (or those in ``by``); returns its id."""
        act = self.act_id(asset_id, kind, *values)
        self.consent(asset_id, act, *(by if by is not None else (self.b, self.c)))
        return act

    def has_consented(self, asset_id: int, act: str, who: LocalAccount) -> bool:
        return bool(self.ip.call(self.co.functions.hasConsented(asset_id, act, who.address)))

    def credit(self, who: LocalAccount | str) -> int:
        address = who if isinstance(who, str) else who.address
        return int(self.ip.call(self.co.functions.creditOf(self.market.token.address, address)))

    def performed(self, receipt: Receipt) -> list[dict[str, Any]]:
        return [dict(a) for n, a in self.ip.events(self.co, receipt) if n == "ActPerformed"]


def co_kit(ip: IPKit, contract: Any, artifacts: dict[str, Artifact]) -> CoKit:
    market = market_kit(ip, contract, artifacts)
    kit = CoKit(ip=ip, market=market, co=contract("CoOwnership"), artifacts=artifacts)
    return kit

