"""Pledges of IP assets to accredited banks (PledgeRegistry): propose, accept, release, enforce, consent.

The owner proposes (pledgee, principal in token units of ``currency``, maturity in unix
seconds, the loan contract's hash); the pledgee, a holder of ``PLEDGEE_ROLE``, accepts naming
the encumbrance version its bank check showed (the acceptance fails if a license changed since).
While the pledge is active the asset moves only by enforcement or with the pledgee's consent to
one recipient, and is licensed only with the pledgee's one-time consent to that license's exact
terms (withdrawable until used; void once the pledge ends).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.chain.abi import Act
from ledger.chain.client import ChainClient, Contract
from ledger.encoding import (
    ZERO_ADDRESS,
    PledgeStatus,
    decode_currency,
    encode_currency,
    iso,
    parse_address,
    parse_amount,
    parse_date,
    parse_hash32,
)
from ledger.errors import NotFoundError, ValidationError
from ledger.registry.assets import act
from ledger.registry.licenses import LicenseTerms


@dataclass(frozen=True)
class Pledge:
    """``IPledgeRegistry.Pledge``, with its id."""

    pledge_id: int
    asset_id: int
    pledgor: str
    status: PledgeStatus
    pledgee: str
    maturity: int
    currency: str
    principal: int
    contract_hash: str

    @classmethod
    def from_tuple(cls, pledge_id: int, raw: Any) -> Pledge:
        asset_id, pledgor, status, pledgee, maturity, currency, principal, contract_hash = raw
        return cls(
            pledge_id=pledge_id, asset_id=int(asset_id), pledgor=parse_address(pledgor), status=PledgeStatus(status),
            pledgee=parse_address(pledgee), maturity=int(maturity), currency=decode_currency(currency),
            principal=int(principal), contract_hash="0x" + bytes(contract_hash).hex(),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "pledge_id": self.pledge_id, "asset_id": self.asset_id, "pledgor": self.pledgor,
            "pledgee": self.pledgee, "status": self.status.label, "principal": self.principal,
            "currency": self.currency, "maturity": self.maturity, "matures_on": iso(self.maturity),
            "contract_hash": self.contract_hash,
        }


class PledgeService:
    """The owner's and the bank's acts on pledges, and reads."""

    def __init__(self, client: ChainClient, pledges: Contract, registry: Contract) -> None:
        self.client = client
        self.contract = pledges
        self.registry = registry

    def propose(
        self,
        asset_id: int,
        pledgee: str,
        principal: int | str,
        currency: str,
        maturity: int | str,
        contract_hash: bytes | str | None = None,
        *,
        sender: LocalAccount | None = None,
    ) -> Act:
        """Propose to pledge the sender's asset; the act's ids carry ``pledgeId``."""
        amount = parse_amount(principal, "the principal")
        if amount == 0:
            raise ValidationError("a pledge must secure a principal greater than zero")
        fn = self.contract.functions.propose(
            asset_id, parse_address(pledgee, "the pledgee"), amount, encode_currency(currency),
            parse_date(maturity, "the maturity", allow_zero=False), parse_hash32(contract_hash, "the contract hash"),
        )
        return act(self.client, self.contract, self.client.transact(fn, sender=sender), "pledgeId", "assetId")

    def _act(self, fn: Any, sender: LocalAccount | None) -> Act:
        return act(self.client, self.contract, self.client.transact(fn, sender=sender), "pledgeId", "assetId")

    def accept(self, pledge_id: int, encumbrance_version: int, *, sender: LocalAccount | None = None) -> Act:
        """Accept a proposal as its pledgee: the asset is pledged from now on.

        ``encumbrance_version`` is the one the bank check showed (``DueDiligence.encumbrance_version``):
        if a license of the asset was offered, accepted or ended since, the chain refuses
        (``PledgeRegistryEncumbrancesChanged``) and the bank checks again.
        """
        if encumbrance_version < 0:
            raise ValidationError("the encumbrance version is a count, at least 0")
        return self._act(self.contract.functions.accept(pledge_id, encumbrance_version), sender)

    def cancel(self, pledge_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Withdraw (pledgor) or decline (pledgee) a pending proposal."""
        return self._act(self.contract.functions.cancel(pledge_id), sender)

    def release(self, pledge_id: int, *, sender: LocalAccount | None = None) -> Act:
        """Release an active pledge: the loan was repaid (pledgee)."""
        return self._act(self.contract.functions.release(pledge_id), sender)

    def enforce(self, pledge_id: int, buyer: str | None = None, *, sender: LocalAccount | None = None) -> Act:
        """After maturity, move the asset to ``buyer`` or, without one, to the pledgee (pledgee)."""
        to = parse_address(buyer, "the buyer") if buyer else ZERO_ADDRESS
        return self._act(self.contract.functions.enforce(pledge_id, to), sender)

    def consent_to_transfer(self, pledge_id: int, recipient: str | None, *,
                            sender: LocalAccount | None = None) -> Act:
        """Consent to one transfer of the pledged asset to ``recipient`` (None withdraws it) (pledgee)."""
        to = parse_address(recipient, "the recipient") if recipient else ZERO_ADDRESS
        return self._act(self.contract.functions.consentToTransfer(pledge_id, to), sender)

    def consent_to_license(self, pledge_id: int, terms: LicenseTerms | tuple[Any, ...], *,
                           sender: LocalAccount | None = None) -> tuple[Act, str]:
        """Consent to one license of the pledged asset on exactly ``terms`` (pledgee); a licensee of
        the zero address admits any licensee on these terms. Returns the act and the consent id
        (``0x`` hex; :meth:`withdraw_license_consent` takes it)."""
        encoded = terms.encode() if isinstance(terms, LicenseTerms) else terms
        receipt = self.client.transact(self.contract.functions.consentToLicense(pledge_id, encoded), sender=sender)
        return act(self.client, self.contract, receipt, "pledgeId", "assetId"), self.consent_id(encoded)

    def consent_to_offered_license(self, pledge_id: int, license: Any, *, any_licensee: bool = False,
                                   sender: LocalAccount | None = None) -> tuple[Act, str]:
        """Consent to the exact terms of a license offer (``License``); ``any_licensee``: to these
        terms for whoever takes them (e.g. a licence listing's buyers)."""
        terms = (ZERO_ADDRESS if any_licensee else license.licensee, int(license.kind), license.start, license.end,
                 license.territory.encode().ljust(32, b"\0"), license.field_of_use.encode().ljust(32, b"\0"),
                 bytes.fromhex(license.terms_hash[2:]), license.fee, license.sublicensable)
        return self.consent_to_license(pledge_id, terms, sender=sender)

    def withdraw_license_consent(self, pledge_id: int, consent_id: bytes | str, *,
                                 sender: LocalAccount | None = None) -> Act:
        """Withdraw an unused license consent (pledgee)."""
        fn = self.contract.functions.withdrawLicenseConsent(pledge_id, parse_hash32(consent_id, "the consent id"))
        return self._act(fn, sender)

    def consent_id(self, terms: tuple[Any, ...]) -> str:
        """The id of a consent to ``terms`` (encoded), as the contract computes it."""
        return "0x" + bytes(self.client.call(self.contract.functions.licenseConsentId(terms))).hex()

    # -- reads -------------------------------------------------------------------------------------

    def pledge_of(self, pledge_id: int) -> Pledge:
        return Pledge.from_tuple(pledge_id, self.client.call(self.contract.functions.pledgeOf(pledge_id)))

    def active_pledge_of(self, asset_id: int) -> Pledge | None:
        """The asset's active pledge, or None."""
        pledge_id = int(self.client.call(self.contract.functions.activePledgeOf(asset_id)))
        return self.pledge_of(pledge_id) if pledge_id else None

    def require_active_pledge_of(self, asset_id: int) -> Pledge:
        pledge = self.active_pledge_of(asset_id)
        if pledge is None:
            self.client.call(self.registry.functions.ownerOf(asset_id))  # an unknown asset: NotFoundError
            raise NotFoundError(f"asset {asset_id} is not pledged")
        return pledge

    def transfer_consent_of(self, pledge_id: int) -> str | None:
        recipient = str(self.client.call(self.contract.functions.transferConsentOf(pledge_id)))
        return None if int(recipient, 16) == 0 else parse_address(recipient)

    def is_license_consented(self, pledge_id: int, consent_id: bytes | str) -> bool:
        """Whether consent ``consent_id`` is given, unused, under the active pledge ``pledge_id``."""
        fn = self.contract.functions.isLicenseConsented(pledge_id, parse_hash32(consent_id, "the consent id"))
        return bool(self.client.call(fn))

    def pledge_count(self) -> int:
        return int(self.client.call(self.contract.functions.pledgeCount()))
