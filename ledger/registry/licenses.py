"""Licenses of IP assets (LicenseRegistry): offer, accept, terminate, record the filing, list.

The owner offers, the licensee accepts; only then is a license active. Territory and field of
use are canonical prefix codes (``CN`` covers ``CN-BJ``; empty covers everything; other
spellings are mapped or refused by :mod:`ledger.registry.codes`), the term is the
half-open interval [start, end) in unix seconds, and the fee is an integer in token units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.chain.abi import Act
from ledger.chain.client import ChainClient, Contract
from ledger.encoding import (
    LicenseKind,
    LicenseStatus,
    decode_ascii32,
    encode_code,
    encode_filing_no,
    iso,
    parse_address,
    parse_amount,
    parse_date,
    parse_hash32,
)
from ledger.errors import ValidationError
from ledger.registry.assets import act
from ledger.registry.codes import canonical_field, canonical_territory

MAX_PAGE = 500


@dataclass(frozen=True)
class LicenseTerms:
    """What an owner offers (``ILicenseRegistry.LicenseTerms``)."""

    licensee: str
    kind: LicenseKind | str
    start: int
    end: int
    territory: str = ""
    field_of_use: str = ""
    terms_hash: str | None = None
    fee: int = 0
    sublicensable: bool = False

    def encode(self) -> tuple[Any, ...]:
        """The struct as the contract takes it (validated: bad input raises ValidationError)."""
        start = parse_date(self.start, "the start")
        end = parse_date(self.end, "the end", allow_zero=False)
        if start >= end:
            raise ValidationError(f"a license term must start before it ends (start {iso(start)}, end {iso(end)})")
        return (
            parse_address(self.licensee, "the licensee"), int(LicenseKind.parse(self.kind)), start, end,
            encode_code(canonical_territory(self.territory), "the territory"),
            encode_code(canonical_field(self.field_of_use), "the field of use"),
            parse_hash32(self.terms_hash, "the terms hash"), parse_amount(self.fee, "the fee"), self.sublicensable,
        )


@dataclass(frozen=True)
class License:
    """``ILicenseRegistry.License``, with its id; ``status`` is ``expired`` once its end has passed."""

    license_id: int
    asset_id: int
    licensor: str
    kind: LicenseKind
    status: LicenseStatus
    sublicensable: bool
    licensee: str
    start: int
    end: int
    territory: str
    field_of_use: str
    terms_hash: str
    fee: int
    recordal_no: str

    @classmethod
    def from_tuple(cls, license_id: int, raw: Any) -> License:
        (asset_id, licensor, kind, status, sublicensable, licensee, start, end, territory, field_of_use,
         terms_hash, fee, recordal_no) = raw
        return cls(
            license_id=license_id, asset_id=int(asset_id), licensor=parse_address(licensor), kind=LicenseKind(kind),
            status=LicenseStatus(status), sublicensable=bool(sublicensable), licensee=parse_address(licensee),
            start=int(start), end=int(end), territory=decode_ascii32(territory),
            field_of_use=decode_ascii32(field_of_use), terms_hash="0x" + bytes(terms_hash).hex(), fee=int(fee),
            recordal_no=decode_ascii32(recordal_no),
        )

    @property
    def exclusive(self) -> bool:
        """Exclusive or sole: it blocks any overlapping license."""
        return self.kind != LicenseKind.NON_EXCLUSIVE

    def scope(self) -> str:
        """``territory CN, field H04L, 2026-01-01 to 2027-01-01`` for sentences."""
        return (f"territory {self.territory or 'all'}, field {self.field_of_use or 'all'}, "
                f"{(iso(self.start) or '')[:10]} to {(iso(self.end) or '')[:10]}")

    def as_json(self) -> dict[str, Any]:
        return {
            "license_id": self.license_id, "asset_id": self.asset_id, "licensor": self.licensor,
            "licensee": self.licensee, "kind": self.kind.label, "exclusive": self.exclusive,
            "status": self.status.label, "start": self.start, "end": self.end, "starts_on": iso(self.start),
            "ends_on": iso(self.end), "territory": self.territory, "field_of_use": self.field_of_use,
            "terms_hash": self.terms_hash, "fee": self.fee, "sublicensable": self.sublicensable,
            "recordal_no": self.recordal_no or None,
        }


class LicenseService:
    """Offer, accept and end licenses; the registrar records their filing numbers."""

    def __init__(self, client: ChainClient, licenses: Contract, registry: Contract) -> None:
        self.client = client
        self.contract = licenses
        self.registry = registry

    def offer(self, asset_id: int, terms: LicenseTerms, *, sender: LocalAccount | None = None) -> Act:
        """Offer a license of the sender's asset; the act's ids carry ``licenseId``."""
        receipt = self.client.transact(self.contract.functions.offer(asset_id, terms.encode()), sender=sender)
        return act(self.client, self.contract, receipt, "licenseId", "assetId")

    def accept(self, license_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Accept an offer as its licensee: the license is active from now on."""
        receipt = self.client.transact(self.contract.functions.accept(license_id), sender=sender)
        return act(self.client, self.contract, receipt, "licenseId", "assetId")

    def terminate(self, license_id: int, reason_hash: bytes | str | None = None, *,
                  sender: LocalAccount | None = None) -> Act:
        """End an active license, or withdraw (owner) / decline (licensee) an offer."""
        fn = self.contract.functions.terminate(license_id, parse_hash32(reason_hash, "the reason hash"))
        receipt = self.client.transact(fn, sender=sender)
        return act(self.client, self.contract, receipt, "licenseId", "assetId")

    def record_filing(self, license_id: int, recordal_no: str, *, sender: LocalAccount | None = None) -> Act:
        """Record the filing (备案) number of an active license (registrar)."""
        fn = self.contract.functions.recordFiling(license_id, encode_filing_no(recordal_no))
        receipt = self.client.transact(fn, sender=sender)
        return act(self.client, self.contract, receipt, "licenseId", "assetId")

    # -- reads -------------------------------------------------------------------------------------

    def license_of(self, license_id: int) -> License:
        return License.from_tuple(license_id, self.client.call(self.contract.functions.licenseOf(license_id)))

    def license_count(self) -> int:
        return int(self.client.call(self.contract.functions.licenseCount()))

    def licenses_of(self, asset_id: int, *, offset: int = 0, limit: int = 50,
                    active_only: bool = False) -> tuple[list[License], int]:
        """A page of the asset's licenses, oldest first, and how many there are."""
        if not 0 < limit <= MAX_PAGE or offset < 0:
            raise ValidationError(f"limit must be 1..{MAX_PAGE} and offset at least 0")
        if active_only:
            active = self.active_licenses_of(asset_id)
            if not active:
                self.client.call(self.registry.functions.ownerOf(asset_id))
            return active[offset:offset + limit], len(active)
        ids = [int(i) for i in self.client.call(self.contract.functions.licensesOf(asset_id))]
        if not ids:
            self.client.call(self.registry.functions.ownerOf(asset_id))  # an unknown asset: NotFoundError
        page = ids[offset:offset + limit]
        raws = self.client.batch_call([self.contract.functions.licenseOf(i) for i in page])
        return [License.from_tuple(i, raw) for i, raw in zip(page, raws, strict=True)], len(ids)

    def active_licenses_of(self, asset_id: int) -> list[License]:
        """The asset's active licenses now (accepted, not terminated, not expired)."""
        ids, raws = self.client.call(self.contract.functions.activeLicensesOf(asset_id))
        return [License.from_tuple(int(i), raw) for i, raw in zip(ids, raws, strict=True)]
