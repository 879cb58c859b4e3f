"""Contract custom errors as sentences a user understands.

The CLI prints these and the API puts them in a problem's ``detail``; the error
name and its decoded arguments (amounts as raw integers of token units) always travel with them.
Amounts of tokens read as people read money (``260 IPST``, not ``260000000``): the sentence is
given the token's formatter (``money``), e.g. the ledger's settlement token; without one an
amount is shown as ``260,000,000 token units``.
"""

from __future__ import annotations

import datetime as _dt
import string
from collections.abc import Callable
from typing import Any

from ledger.encoding import (
    ROLES,
    AnswerStatus,
    AssetKind,
    DemandStatus,
    LabelledEnum,
    LegalStatus,
    LicenseKind,
    LicenseStatus,
    ListingStatus,
    OfferStatus,
    PledgeStatus,
    decode_ascii32,
)

Money = Callable[[int], str]
"""Token units as a person reads them: ``260000000`` → ``260 IPST`` (the token's decimals and symbol)."""

SENTENCES: dict[str, str] = {
    "TimestampRegistryAlreadyStamped": (
        "{key} was already stamped by {stamper} in block {blockNumber} at {timestamp:time}; "
        "the first record stands"
    ),
    "TimestampRegistryZeroKey": "the zero hash cannot be stamped",
    "TimestampRegistryEmptyBatch": "a batch must contain at least one file",
    "AccessControlUnauthorizedAccount": "{account} does not hold the role {neededRole:role} needed for this act",
    "ERC721NonexistentToken": "asset {tokenId} does not exist",
    "ERC721IncorrectOwner": "{sender} does not own asset {tokenId} (the owner is {owner})",
    "ERC721InsufficientApproval": "{operator} may not move asset {tokenId}",
    "ERC721InvalidReceiver": "{receiver} cannot receive an asset",
    # ERC2771Forwarder (OpenZeppelin), as the relay reports a request the forwarder would refuse
    "ERC2771UntrustfulTarget": (
        "{target} does not trust the forwarder {forwarder} (it is not an ERC-2771 contract of this ledger), "
        "so a signed request cannot call it; call its view functions directly"
    ),
    "ERC2771ForwarderExpiredRequest": "the request expired at {deadline:time}; sign it again with a later deadline",
    "ERC2771ForwarderInvalidSigner": "the request is signed by {signer}, not by its sender {from}",
    "ERC2771ForwarderMismatchedValue": "the request carries {requestedValue} wei but {msgValue} was sent",
    "FailedCall": "the forwarded call reverted",
    # IPRegistry
    "IPRegistryZeroContentHash": "an asset needs the hash of its content; the zero hash is not one",
    "IPRegistryZeroMetadataHash": "an asset needs the hash of its metadata document; the zero hash is not one",
    "IPRegistryContentAlreadyRegistered": "this content ({contentHash}) is already registered as asset {assetId}",
    "IPRegistryRefAlreadyRegistered": "the official number {ref:ref} is already registered as asset {assetId}",
    "IPRegistryAssetFrozen": (
        "asset {assetId} is frozen by a court order until {until:time}: it cannot be transferred, "
        "licensed or pledged"
    ),
    "IPRegistryAssetPledged": (
        "asset {assetId} is pledged (pledge {pledgeId}); it moves only with the pledgee's consent "
        "to this recipient, or by enforcement"
    ),
    "IPRegistryAlreadyFrozen": "asset {assetId} is already frozen until {until:time}; renew or lift that freeze",
    "IPRegistryNotFrozen": "asset {assetId} is not frozen",
    "IPRegistryInvalidFreezeTerm": (
        "a freeze must end in the future, and a renewal after the current term ({until:time} is not)"
    ),
    "IPRegistryEmptyCourtOrder": "a court order must name its court and case number",
    "IPRegistryUnauthorizedCaller": "only the pledge registry may do this, not {caller}",
    "IPRegistryPledgeRegistryAlreadySet": "the asset registry is already wired to the pledge registry {pledgeRegistry}",
    "IPRegistryZeroAddress": "the zero address cannot be the pledge registry",
    # LicenseRegistry
    "LicenseRegistryUnknownLicense": "license {licenseId} does not exist",
    "LicenseRegistryNotOwner": "{account} does not own asset {assetId}, so cannot license it",
    "LicenseRegistryNotLicensee": "{account} is not the licensee of license {licenseId}",
    "LicenseRegistryNotParty": "{account} is neither the asset's owner nor the licensee of license {licenseId}",
    "LicenseRegistryInvalidLicensee": "{licensee} cannot be the licensee (zero address or the owner)",
    "LicenseRegistryInvalidTerm": (
        "a license term must start before it ends and end in the future "
        "(start {start:time}, end {end:time})"
    ),
    "LicenseRegistryAssetFrozen": (
        "asset {assetId} is frozen by a court order until {until:time}; it cannot be licensed"
    ),
    "LicenseRegistryAssetPledged": (
        "asset {assetId} is pledged (pledge {pledgeId}) and the pledgee has not consented to a license on "
        "exactly these terms (or withdrew or used that consent)"
    ),
    "LicenseRegistryExclusivityConflict": (
        "the license overlaps the {conflictingKind:license_kind} license {conflictingLicenseId} of asset {assetId} "
        "in time, territory and field; where one of the two is exclusive or sole, no overlap is allowed"
    ),
    "LicenseRegistryActiveLicenseLimit": (
        "asset {assetId} already has the most active exclusive or sole licenses allowed ({max})"
    ),
    "LicenseRegistrySharedScopeLimit": (
        "the active non-exclusive licenses of asset {assetId} already cover the most scopes allowed ({max} "
        "distinct terms, territories and fields of use); a license in one of those scopes is still possible"
    ),
    "LicenseRegistryNotOffered": "license {licenseId} is not a pending offer (it is {status:license_status})",
    "LicenseRegistryClosed": "license {licenseId} is already closed (it is {status:license_status})",
    "LicenseRegistryNotActive": "license {licenseId} is not active (it is {status:license_status})",
    "LicenseRegistryOfferStale": (
        "the offer of license {licenseId} was made by {licensor}, but the asset changed hands: {owner} owns it now"
    ),
    "LicenseRegistryLicenseEnded": "the term of license {licenseId} ended at {end:time}; it can no longer be accepted",
    "LicenseRegistryZeroRecordalNo": "a license recordal needs its filing number",
    "LicenseRegistryNonCanonicalTerritory": (
        "the territory {territory:ref} is not a canonical code: use an ISO 3166-1 alpha-2 country in capitals "
        "(\"CN\"), optionally with an ISO 3166-2 subdivision (\"CN-11\"), or nothing for the whole world"
    ),
    "LicenseRegistryNonCanonicalField": (
        "the field of use {fieldOfUse:ref} is not a canonical IPC code: use a section (\"H\"), class (\"H04\"), "
        "subclass (\"H04L\") or main group (\"H04L9/00\"), or nothing for every field"
    ),
    "LicenseRegistryUnauthorizedOperator": (
        "{operator} is not an operator of {owner}, the asset's owner, so it may not grant licenses of it"
    ),
    "LicenseRegistryInvalidOperator": "{operator} cannot be an operator (the zero address or the owner itself)",
    # PledgeRegistry
    "PledgeRegistryUnknownPledge": "pledge {pledgeId} does not exist",
    "PledgeRegistryNotOwner": "{account} does not own asset {assetId}, so cannot pledge it",
    "PledgeRegistryNotPledgee": "{account} is not the pledgee of pledge {pledgeId}",
    "PledgeRegistryNotParty": "{account} is neither the pledgor nor the pledgee of pledge {pledgeId}",
    "PledgeRegistryAlreadyPledged": "asset {assetId} is already pledged (pledge {pledgeId})",
    "PledgeRegistryAssetFrozen": "asset {assetId} is frozen by a court order until {until:time}; it cannot be pledged",
    "PledgeRegistryAssetNotPledgeable": (
        "asset {assetId} cannot be pledged: its legal status is {status:legal_status}"
    ),
    "PledgeRegistryAssetPastExpiry": "asset {assetId} expired at {expiresAt:time}; it cannot be pledged",
    "PledgeRegistryMaturityAfterExpiry": (
        "the loan would mature at {maturity:time}, after the asset expires at {expiresAt:time}"
    ),
    "PledgeRegistryInvalidMaturity": "the maturity must be in the future ({maturity:time} is not)",
    "PledgeRegistryInvalidPledgee": "{pledgee} cannot be the pledgee (zero address or the owner)",
    "PledgeRegistryZeroPrincipal": "a pledge must secure a principal greater than zero",
    "PledgeRegistryZeroCurrency": "a pledge must name the currency of its principal",
    "PledgeRegistryNotProposed": "pledge {pledgeId} is not a pending proposal (it is {status:pledge_status})",
    "PledgeRegistryNotActive": "pledge {pledgeId} is not active (it is {status:pledge_status})",
    "PledgeRegistryProposalStale": (
        "pledge {pledgeId} was proposed by {pledgor}, but the asset changed hands: {owner} owns it now"
    ),
    "PledgeRegistryNotMatured": "pledge {pledgeId} can be enforced only after its maturity, {maturity:time}",
    "PledgeRegistryUnauthorizedCaller": "only the asset registry (or the license registry) may do this, not {caller}",
    "PledgeRegistryEncumbrancesChanged": (
        "the licenses of the asset of pledge {pledgeId} changed since your check (version {expectedVersion}, "
        "now {version}): an offer, acceptance or termination happened; check the asset again, then accept"
    ),
    "PledgeRegistryNoLicenseConsent": (
        "pledge {pledgeId} has no unused license consent {consentId} (never given, already used or withdrawn)"
    ),
    "PledgeRegistryLicenseConsentExists": (
        "the pledgee already consented to these terms under pledge {pledgeId} (consent {consentId}, unused)"
    ),
    "PledgeRegistryLicenseRegistryAlreadySet": (
        "the pledge registry is already wired to the license registry {licenseRegistry}"
    ),
    "PledgeRegistryLicenseRegistryNotSet": (
        "the pledge registry is not wired to the license registry yet; the admin must wire it (ipledger deploy)"
    ),
    "PledgeRegistryZeroAddress": "the zero address is not a license registry",
    "IPRegistryUnknownRef": "no asset is bound to the official number {ref:ref}",
    "IPRegistryZeroRef": "name the official number to unbind; an empty one is never bound",
    "IPRegistryUnknownContent": "no asset is bound to the content hash {contentHash}",
    # IPLens
    "IPLensUnknownRef": "no asset is registered with the official number {ref:ref}",
    # Marketplace and LicenseMarket (statuses: ListingStatus, OfferStatus, DemandStatus, AnswerStatus)
    "MarketplaceUnknownListing": "listing {listingId} does not exist",
    "MarketplaceUnknownOffer": "offer {offerId} does not exist",
    "MarketplaceUnknownLicenseListing": "license listing {listingId} does not exist",
    "MarketplaceUnknownDemand": "demand {demandId} does not exist",
    "MarketplaceUnknownAnswer": "answer {answerId} does not exist",
    "MarketplaceNotOwner": "{account} does not own asset {assetId}, so cannot sell it or answer with it",
    "MarketplaceNotSeller": "{account} is not the seller of listing, offer or answer {id}",
    "MarketplaceNotBuyer": "{account} is not the buyer of offer {offerId}",
    "MarketplaceNotPoster": "{account} did not post demand {demandId}",
    "MarketplaceInvalidCounterparty": "{account} cannot trade with itself",
    "MarketplaceZeroAmount": "a price, an amount or a budget must be greater than zero",
    "MarketplaceZeroAddress": "a token (or a fee's treasury) cannot be the zero address",
    "MarketplaceZeroHash": "a demand needs the hash of its description; the zero hash is not one",
    "MarketplaceInvalidExpiry": "an expiry or deadline must be in the future ({expiry:time} is not)",
    "MarketplaceInvalidSupply": (
        "a license listing sells 1 to 65,535 licenses, and exactly 1 if exclusive or sole ({supply} asked)"
    ),
    "MarketplaceInvalidLicensee": (
        "a license listing leaves the licensee empty: each buyer becomes the licensee ({licensee} given)"
    ),
    "MarketplaceInvalidTerm": (
        "listed licenses must start before they end and end in the future (start {start:time}, end {end:time})"
    ),
    "MarketplaceInvalidFee": "the protocol fee is at most {maxFeeBps} basis points ({feeBps} asked)",
    "MarketplaceAssetFrozen": (
        "asset {assetId} is frozen by a court order until {until:time}: it cannot be listed, offered for or sold"
    ),
    "MarketplaceAssetPledged": (
        "asset {assetId} was pledged (pledge {pledgeId}) after it was listed or offered for: the listing or "
        "offer is void"
    ),
    "MarketplacePledgeeNotConsented": (
        "asset {assetId} is pledged (pledge {pledgeId}) and its pledgee has not consented to a transfer to "
        "{buyer:buyer}: a pledged asset is listed only for the buyer its pledgee consented to"
    ),
    "MarketplaceAssetChangedHands": (
        "asset {assetId} changed hands since {seller} listed it, answered a demand with it or was offered "
        "for it: {owner} owns it now"
    ),
    "MarketplaceAssetMovedSinceListed": (
        "asset {assetId} moved since it was listed (transfer count {transfers} then, {currentTransfers} now): "
        "the listing is void for good, even though its seller holds the asset again; list it anew"
    ),
    "MarketplaceTransferNotApproved": (
        "the market is not approved to transfer asset {assetId}; the owner must approve it for this asset "
        "(a transfer of the asset clears that approval)"
    ),
    "MarketplaceLicensingNotApproved": (
        "{owner} has not made the license market an operator in the license registry, so it cannot sell "
        "licenses of {owner}'s assets"
    ),
    "MarketplaceLicensingApprovalChanged": (
        "{owner} revoked the license market as its operator after this license listing was made (approval "
        "epoch {epoch} then, {currentEpoch} now): the listing is void for good, even if approved again; "
        "list the licenses anew"
    ),
    "MarketplaceListingNotOpen": "listing {listingId} is not open (it is {status:listing_status})",
    "MarketplaceReservedListing": "listing {listingId} is reserved for {buyer}",
    "MarketplacePriceChanged": (
        "listing {listingId} changed since you saw it: its price is now {price:money} at nonce {nonce}; "
        "look again before buying"
    ),
    "MarketplaceOfferNotOpen": "offer {offerId} is not open (it is {status:offer_status})",
    "MarketplaceOfferStillOpen": (
        "offer {offerId} is open until {expiry:time}; its amount can be withdrawn after that, or once "
        "the seller refused it or it became void"
    ),
    "MarketplaceDemandNotOpen": "demand {demandId} is not open (it is {status:demand_status})",
    "MarketplaceAnswerNotOpen": "answer {answerId} is not open (it is {status:answer_status})",
    "MarketplaceOverBudget": "the price {price:money} exceeds the budget of demand {demandId} ({budget:money})",
    "MarketplaceInexactPayment": (
        "the token {token} delivered {received:units} of the {expected:units} units sent (a fee-on-transfer token?); "
        "the market accepts only tokens that deliver exactly"
    ),
    # SettlementToken and OpenZeppelin token errors the market passes on
    "SettlementTokenFaucetDisabled": "the faucet is disabled on this chain (it is on for development chains only)",
    "SettlementTokenFaucetLimit": "the faucet mints at most {limit:money} at a time ({amount:money} asked)",
    "ERC20InsufficientBalance": "{sender} holds {balance:money}, not the {needed:money} needed",
    "ERC20InsufficientAllowance": (
        "{spender} may spend only {allowance:money} of the payer's tokens, not the {needed:money} needed; "
        "approve it first"
    ),
    "ERC20InvalidReceiver": "{receiver} cannot receive tokens (the zero address)",
    "ERC20InvalidSender": "{sender} cannot send tokens (the zero address)",
    "ERC20InvalidApprover": "{approver} cannot approve a spender (the zero address)",
    "ERC20InvalidSpender": "{spender} cannot be approved to spend tokens (the zero address)",
    "SafeERC20FailedOperation": "the token {token} refused the transfer",
    "SafeCastOverflowedUintDowncast": "the value {value} does not fit in {bits} bits",
    "ReentrancyGuardReentrantCall": "a call re-entered the market during another of its acts; refused",
}

ROLE_NAMES: dict[str, str] = {
    "0x" + role.hex(): f"{name} ({'DEFAULT_ADMIN' if name == 'admin' else name.upper()}_ROLE)"
    for name, role in ROLES.items()
}
"""Role hashes (as decoded arguments carry them: 0x hex) to names."""

_ENUMS: dict[str, type[LabelledEnum]] = {
    "asset_kind": AssetKind,
    "legal_status": LegalStatus,
    "license_kind": LicenseKind,
    "license_status": LicenseStatus,
    "pledge_status": PledgeStatus,
    "listing_status": ListingStatus,
    "offer_status": OfferStatus,
    "demand_status": DemandStatus,
    "answer_status": AnswerStatus,
}


def _render(value: Any, spec: str, money: Money | None = None) -> str:
    """One argument of a sentence, by its format spec.

    ``time``: a UTC date and time (``never`` for 0); ``role``: the role's name; ``ref``: a
    left-aligned ASCII ``bytes32`` (an official number, a code) as its text; ``currency``: a
    ``bytes3`` code; ``buyer``: a listing's buyer (zero: anyone); ``legal_status``, ``license_kind``,
    ...: an enum number as its name; ``money``: token units with the token's decimals and symbol
    (``money``); ``units``: a count of units of a token that is not known here, with thousands separators.
    """
    if spec == "money" and isinstance(value, int):
        return money(value) if money is not None else f"{value:,} token units"
    if spec == "units" and isinstance(value, int):
        return f"{value:,}"
    if spec == "time" and isinstance(value, int):
        if value == 0:
            return "never"
        return _dt.datetime.fromtimestamp(value, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if spec == "role" and isinstance(value, str):
        return ROLE_NAMES.get(value.lower(), value)
    if spec in ("ref", "currency") and isinstance(value, (str, bytes)):
        return decode_ascii32(value) or "(none)"
    if spec == "buyer" and isinstance(value, str):
        return "anyone (the listing names no buyer)" if int(value, 16) == 0 else value
    if spec in _ENUMS and isinstance(value, int):
        return _ENUMS[spec].label_of(value).replace("-", " ")
    return str(value)


def sentence(name: str, args: dict[str, Any], money: Money | None = None) -> str:
    """Render the sentence for a contract error, or a readable fallback with its arguments;
    ``money`` formats amounts of tokens (see :data:`Money`)."""
    template = SENTENCES.get(name)
    if template is None:
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"the contract refused: {name}({shown})"
    out = []
    for literal, field_name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if field_name is not None:
            out.append(_render(args.get(field_name), spec or "", money))
    return "".join(out)
