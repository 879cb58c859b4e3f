"""The on-chain KeyDirectory: each account's published encryption keys, and disclosure records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.chain.abi import Act
from ledger.chain.client import ChainClient, Contract
from ledger.encoding import iso, parse_address, parse_hash32
from ledger.errors import NotFoundError, ValidationError
from ledger.registry.assets import act
from ledger.sealing.keys import PublicKeys


@dataclass(frozen=True)
class PublishedKey:
    """One key version as the directory holds it."""

    address: str
    keys: PublicKeys
    published_at: int
    revoked_at: int

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address, "version": self.keys.version, "x25519": "0x" + self.keys.x25519.hex(),
            "hybrid": "0x" + self.keys.hybrid.hex() if self.keys.hybrid else None,
            "published_at": iso(self.published_at), "revoked": self.keys.revoked,
            "revoked_at": iso(self.revoked_at) if self.revoked_at else None,
        }


def published_from_json(data: dict[str, Any]) -> PublishedKey:
    """A :class:`PublishedKey` from its ``as_json`` form (``GET /api/v1/keys/{address}``)."""
    keys = PublicKeys(int(data["version"]), bytes.fromhex(str(data["x25519"])[2:]),
                      bytes.fromhex(str(data["hybrid"])[2:]) if data.get("hybrid") else b"", bool(data["revoked"]))
    return PublishedKey(str(data["address"]), keys, 0, 1 if keys.revoked else 0)


class KeyDirectory:
    """Reads and writes of the KeyDirectory contract."""

    def __init__(self, client: ChainClient, contract: Contract) -> None:
        self.client = client
        self.contract = contract

    def current_version_of(self, address: str) -> int:
        return int(self.client.call(self.contract.functions.currentVersionOf(parse_address(address, "the account"))))

    def key_of(self, address: str, version: int | None = None) -> PublishedKey:
        """``address``'s key ``version`` (default: the latest); :class:`NotFoundError` if none."""
        account = parse_address(address, "the account")
        if version is None:
            version = self.current_version_of(account)
            if version == 0:
                raise NotFoundError(f"{account} has published no encryption key: they run `ipledger keys publish` "
                                    "(or publish one at /keys)")
        raw = self.client.call(self.contract.functions.keyOf(account, version))
        x25519, published_at, revoked_at, hybrid = raw
        if int(published_at) == 0:
            raise NotFoundError(f"{account} has no encryption key version {version}")
        keys = PublicKeys(version, bytes(x25519), bytes(hybrid), revoked=int(revoked_at) != 0)
        return PublishedKey(account, keys, int(published_at), int(revoked_at))

    def publish(self, keys: PublicKeys, *, sender: LocalAccount | None = None) -> Act:
        fn = self.contract.functions.publish(keys.x25519, keys.hybrid)
        return act(self.client, self.contract, self.client.transact(fn, sender=sender), "version")

    def revoke(self, version: int, *, sender: LocalAccount | None = None) -> Act:
        if version < 1:
            raise ValidationError("key versions start at 1")
        fn = self.contract.functions.revoke(version)
        return act(self.client, self.contract, self.client.transact(fn, sender=sender), "version")

    def disclose(self, document_id: bytes | str, plaintext_hash: bytes | str, recipients: list[str], *,
                 sender: LocalAccount | None = None) -> Act:
        fn = self.contract.functions.disclose(
            parse_hash32(document_id, "the document id"), parse_hash32(plaintext_hash, "the plaintext hash"),
            [parse_address(r, "a recipient") for r in recipients])
        return act(self.client, self.contract, self.client.transact(fn, sender=sender))
