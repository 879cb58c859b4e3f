"""Seal files to accounts by address and open them against the ledger's records.

Opening checks, before any plaintext is written, that the SHA-256 the header names is one the chain
records (an asset's content hash, a pledge's loan-contract hash, a stamp given its certificate); the
stream then checks the plaintext is exactly that. So a recipient never gets a file the ledger does not
name, and knows which record it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.chain.abi import Act
from ledger.encoding import parse_address
from ledger.errors import ConflictError, LedgerError, NotFoundError, ValidationError, VerificationError
from ledger.registry.assets import AssetService
from ledger.registry.pledges import PledgeService
from ledger.sealing.directory import KeyDirectory, PublishedKey
from ledger.sealing.format import KEM_MLKEM768_X25519, KEM_X25519, Header, Recipient, Record
from ledger.sealing.keys import AccountKeys
from ledger.sealing.stream import (
    To,
    open_file,
    read_header,
    require_recipient,
    rewrap,
    seal_file,
    with_recipients,
)
from ledger.timestamps.proofs import Certificate
from ledger.timestamps.service import TimestampService

PLEDGE_SCAN_LIMIT = 2000
"""Pledges searched (newest first) for a loan-contract hash when the header names no pledge id."""


def recipients_of(addresses: list[str], key_of: Callable[[str], PublishedKey], *, pq: bool = False) -> list[To]:
    """Whom to seal to: each address's latest published key (refused when revoked, or without a hybrid key
    for ``pq``)."""
    out: list[To] = []
    for address in dict.fromkeys(parse_address(a, "a recipient") for a in addresses):
        published = key_of(address)
        if published.keys.revoked:
            raise ConflictError(
                f"{address}'s encryption key (version {published.keys.version}) is revoked; they must publish "
                "a new one (`ipledger keys rotate`) before anything can be sealed to them")
        if pq and not published.keys.hybrid:
            raise ConflictError(f"{address} published no ML-KEM-768+X25519 key (version "
                                f"{published.keys.version}); seal without --pq")
        out.append(To(address, published.keys, KEM_MLKEM768_X25519 if pq else KEM_X25519))
    return out


@dataclass(frozen=True)
class Match:
    """A ledger record whose hash is the plaintext's."""

    kind: str
    id: int
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "detail": self.detail}


@dataclass(frozen=True)
class Sealed:
    path: Path
    header: Header
    recipients: list[Recipient]

    def as_json(self) -> dict[str, Any]:
        return {
            "sealed_file": str(self.path), "document_id": "0x" + self.header.document_id.hex(),
            "plaintext_sha256": "0x" + self.header.plaintext_sha256, "size": self.header.plaintext_size,
            "recipients": [{"address": r.address, "kem": r.kem, "key_version": r.key_version}
                           for r in self.recipients],
        }


class SealingService:
    """Keys of accounts (publish, rotate, revoke, show), sealing and opening."""

    def __init__(self, directory: KeyDirectory, assets: AssetService, pledges: PledgeService,
                 timestamps: TimestampService | None = None) -> None:
        self.directory = directory
        self.assets = assets
        self.pledges = pledges
        self.timestamps = timestamps

    # -- keys of accounts --------------------------------------------------------------

    def publish(self, sender: LocalAccount, *, rotate: bool = False) -> tuple[Act, PublishedKey]:
        """Publish the sender's next key version, derived from its account key (``rotate``: there must be one)."""
        current = self.directory.current_version_of(sender.address)
        if rotate and current == 0:
            raise NotFoundError(f"{sender.address} has no key to rotate: `ipledger keys publish` first")
        if not rotate and current != 0 and not self.directory.key_of(sender.address, current).keys.revoked:
            raise ConflictError(f"{sender.address} already published key version {current}; "
                                "`ipledger keys rotate` publishes the next one")
        keys = AccountKeys.derive(bytes(sender.key), current + 1).public()
        result = self.directory.publish(keys, sender=sender)
        return result, self.directory.key_of(sender.address, current + 1)

    def revoke(self, sender: LocalAccount, version: int | None = None) -> Act:
        version = version or self.directory.current_version_of(sender.address)
        if version == 0:
            raise NotFoundError(f"{sender.address} has published no key to revoke")
        return self.directory.revoke(version, sender=sender)

    def key_of(self, address: str, version: int | None = None) -> PublishedKey:
        return self.directory.key_of(address, version)

    # -- sealing -----------------------------------------------------------------------

    def recipients(self, addresses: list[str], *, pq: bool = False) -> list[To]:
        return recipients_of(addresses, self.directory.key_of, pq=pq)

    def seal(self, path: Path, to: list[str], target: Path, *, pq: bool = False, sealer: str = "",
             record: Record | None = None, known_sha256: str | None = None) -> Sealed:
        if not path.is_file():
            raise NotFoundError(f"no file at {path}")
        header, entries = seal_file(path, target, self.recipients(to, pq=pq), sealer=sealer, record=record,
                                    known_sha256=known_sha256)
        return Sealed(target, header, entries)

    def seal_record_file(self, path: Path, to: list[str], record: Record, sealer: str, *,
                         known_sha256: str | None = None) -> tuple[Sealed | None, str | None]:
        """Seal a file the ledger just recorded (a pledge's loan contract, an asset's content) to ``to`` beside it
        (``FILE.sealed``): the sealed file, or None and the reason it could not be sealed (a recipient without
        a usable key): the ledger act stands either way."""
        try:
            sealed = self.seal(path, to, path.with_name(path.name + ".sealed"), sealer=sealer, record=record,
                               known_sha256=known_sha256)
        except (NotFoundError, ConflictError) as exc:
            return None, exc.message
        return sealed, None

    # -- opening -----------------------------------------------------------------------

    def matches(self, header: Header, certificate: Certificate | None = None) -> list[Match]:
        """The ledger records whose hash is the plaintext's SHA-256; with ``certificate``, its stamp too (a stamp
        is an author-bound commitment: the chain finds it only with the certificate's author and salt)."""
        digest = "0x" + header.plaintext_sha256
        found: list[Match] = []
        if certificate is not None:
            if self.timestamps is None:
                raise VerificationError("stamps cannot be checked here: no timestamp registry")
            stamped = self.timestamps.verify_digest(bytes.fromhex(header.plaintext_sha256), certificate)
            found.append(Match("stamp", stamped.block_number, f"stamped by {stamped.author} in block "
                                                              f"{stamped.block_number} (tx {stamped.tx_hash})"))
        asset_id = self.assets.asset_id_of_content(digest)
        if asset_id:
            found.append(Match("asset", asset_id, f"asset {asset_id}'s content hash"))
        hint = header.record
        if hint is not None and hint.kind == "pledge" and hint.id:
            try:
                if self.pledges.pledge_of(hint.id).contract_hash == digest:
                    found.append(Match("pledge", hint.id, f"pledge {hint.id}'s loan contract"))
            except LedgerError:
                pass
        if not any(m.kind == "pledge" for m in found):
            count = self.pledges.pledge_count()
            for pledge_id in range(count, max(0, count - PLEDGE_SCAN_LIMIT), -1):
                if self.pledges.pledge_of(pledge_id).contract_hash == digest:
                    found.append(Match("pledge", pledge_id, f"pledge {pledge_id}'s loan contract"))
                    break
        return found

    def open(self, sealed: Path, target: Path, account: LocalAccount, *, require_record: bool = True,
             certificate: Certificate | None = None) -> tuple[Header, list[Match]]:
        """Open ``sealed`` with ``account``'s keys into ``target``; refused (nothing written) unless the
        plaintext's hash is on the ledger (``require_record``; a stamp counts given its ``certificate``)."""
        if not sealed.is_file():
            raise ValidationError(f"no sealed file at {sealed}")
        header, recipients = read_header(sealed)
        require_recipient(recipients, account.address)  # a stranger learns that first, not the ledger's answer
        found = self.matches(header, certificate)
        if require_record and not found:
            raise VerificationError(
                f"the sealed document's SHA-256 0x{header.plaintext_sha256} is not recorded on this ledger "
                "(no asset's content, no pledge's loan contract; a stamped file opens with its certificate, "
                "--certificate): it is not a document the chain names")
        key = bytes(account.key)
        opened = open_file(sealed, target, account.address, lambda version: AccountKeys.derive(key, version))
        return opened, found

    def add_recipients(self, sealed: Path, target: Path, account: LocalAccount, to: list[str], *,
                       pq: bool = False) -> list[Recipient]:
        """Wrap the file key of ``sealed`` (which ``account`` can open) for ``to`` too, into ``target``; the
        payload is copied unchanged."""
        header, recipients = read_header(sealed)
        key = bytes(account.key)
        added = rewrap(header, recipients, account.address, lambda v: AccountKeys.derive(key, v),
                       self.recipients(to, pq=pq))
        with_recipients(sealed, target, added)
        return added

    def disclose(self, header: Header, recipients: list[str], sender: LocalAccount) -> Act:
        return self.directory.disclose(header.document_id, "0x" + header.plaintext_sha256, recipients, sender=sender)
