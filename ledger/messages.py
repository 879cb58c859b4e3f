"""Contract custom errors as sentences a user understands.

The CLI prints these and the API puts them in a problem's ``detail``; the error
name and its decoded arguments (amounts as raw integers of token units) always travel with them.
Amounts of tokens read as people read money (``260 IPST``, not ``260000000``): the sentence is
given the token's formatter (``money``), e.g. the ledger's settlement token; without one an
amount is shown as ``260,000,000 token units``.

Interfaces that speak other languages translate the *templates* (:data:`SENTENCES` for contract
errors, :data:`NOTICES` for the ledger's own refusals) and render them with :func:`render` and
the same arguments, passing ``words`` to translate the few English words an argument may become
(``never``, a status's name: :func:`value_words` lists them). An error raised with :func:`notice` carries
its template's key and arguments in its context (``notice``, ``notice_args``) for that purpose.
"""

from __future__ import annotations

import datetime as _dt
import string
from collections.abc import Callable, Mapping
from typing import Any

from ledger.encoding import (
    NOTICES as ENCODING_NOTICES,
)
from ledger.encoding import (
    ROLES,
    AnswerStatus,
    AssetKind,
    DemandStatus,
    DisputeKind,
    DisputeOutcome,
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
Words = Callable[[str], str]
"""Translates an English word or phrase an argument is shown as (``never``); the identity in English."""

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
    # CoOwnership
    "CoOwnershipNotCoOwned": "asset {assetId} is not co-owned",
    "CoOwnershipNotCoOwner": "{account} is not a co-owner of asset {assetId}",
    "CoOwnershipConsentMissing": (
        "co-owner {coOwner} has not consented to this act on asset {assetId} (act {actId}); every co-owner must "
        "consent to it first"
    ),
    "CoOwnershipConsentExists": "{coOwner} already consented to act {actId} on asset {assetId}",
    "CoOwnershipInvalidCoOwnerCount": "an asset has 1 to 16 co-owners, not {count}",
    "CoOwnershipInvalidCoOwner": (
        "{account} cannot be a co-owner here: a co-owner is a non-zero address, named once, with a share above zero"
    ),
    "CoOwnershipSharesNotWhole": "the co-owners' shares sum to {total} basis points, not 10000",
    "CoOwnershipInvalidAgreement": "the agreement's rules ({flags}) are not known",
    "CoOwnershipInvalidShareTransfer": (
        "a share transfer of {bps} basis points is not possible: the co-owner holds {held} of asset {assetId}"
    ),
    "CoOwnershipAssetGone": "asset {assetId} has left its co-owners (it is held by {owner})",
    "CoOwnershipTooManyTokens": "asset {assetId} was sold for too many different tokens",
    "CoOwnershipNotLister": "only the co-owner who listed licence listing {listingId} may cancel it, not {account}",
    "CoOwnershipNotOwner": "{account} does not own asset {assetId}; only its owner may put it in co-ownership",
    "CoOwnershipNothingToWithdraw": "nothing is credited to you in {token}",
    "CoOwnedAssetUnauthorizedCaller": (
        "{caller} may not act for a co-owned asset's vault: the co-owners act through the CoOwnership contract"
    ),
    # IPRegistry
    "IPRegistryZeroContentHash": "an asset needs the hash of its content; the zero hash is not one",
    "IPRegistryZeroMetadataHash": "an asset needs the hash of its metadata document; the zero hash is not one",
    "IPRegistryContentAlreadyRegistered": "this content ({contentHash}) is already registered as asset {assetId}",
    "IPRegistryRefAlreadyRegistered": "the official number {ref:ref} is already registered as asset {assetId}",
    "IPRegistryAssetFrozen": (
        "asset {assetId} is frozen by a court order until {until:time}: it cannot be transferred, "
        "licensed or pledged"
    ),
    "IPRegistryAssetDisputed": (
        "the ownership of asset {assetId} is in dispute (dispute {disputeId}): it cannot be transferred or "
        "pledged until the dispute is resolved"
    ),
    "IPRegistryZeroDisputeRef": "a dispute needs its case or file number",
    "IPRegistryOwnershipAlreadyDisputed": (
        "an ownership dispute over asset {assetId} is already open (dispute {disputeId}); record a further claim "
        "in that case"
    ),
    "IPRegistryUnknownDispute": "dispute {disputeId} does not exist",
    "IPRegistryDisputeNotOpen": "dispute {disputeId} is already resolved ({outcome:dispute_outcome})",
    "IPRegistryInvalidDisputeOutcome": (
        "a resolution says how the dispute ended: upheld, dismissed, settled or withdrawn"
    ),
    "IPRegistryNotOwner": "{caller} does not own asset {assetId}; only its owner may do this",
    "IPRegistryInvalidParent": (
        "asset {parentId} cannot be the parent of asset {assetId}: a parent is an asset registered before its child"
    ),
    "IPRegistryParentAlreadySet": "asset {assetId} already names its parent, asset {parentId}; a parent is named once",
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
    "PledgeRegistryAssetDisputed": (
        "the ownership of asset {assetId} is in dispute (dispute {disputeId}); it cannot be pledged until the "
        "dispute is resolved"
    ),
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

NOTICES: dict[str, str] = {
    **ENCODING_NOTICES,
    # a sale the platform refuses although the Marketplace would record it (ledger/registry/disputes.py)
    "sale-disputed": (
        "asset {assetId} cannot be offered for sale: its ownership is in dispute (dispute {disputeId}, case "
        "{case}), and while the dispute is open no sale can complete (the registry refuses every transfer); "
        "offer it once the registrar has resolved the dispute"
    ),
    "offer-disputed": (
        "asset {assetId} cannot receive an offer: its ownership is in dispute (dispute {disputeId}, case "
        "{case}), and while the dispute is open no sale can complete (the registry refuses every transfer), so "
        "the amount would only sit in escrow; make the offer once the registrar has resolved the dispute"
    ),
    # what people type (ledger/encoding.py, ledger/registry/codes.py)
    "territory-unknown": (
        "the territory {text} is not a country: use an ISO 3166-1 code (CN, CHN or 156), its name (China), an "
        "ISO 3166-2 subdivision (CN-BJ), or nothing (or WW) for the whole world"
    ),
    "territory-subdivision-unknown": (
        "the territory {text} is not an ISO 3166-2 subdivision of {country} (e.g. {example}); use the country "
        "({country}) to cover all of it"
    ),
    "field-not-ipc": (
        "the field of use {text} is not an IPC code: use a section (H), class (H04), subclass (H04L) or main "
        "group (H04L9/00), or nothing for every field"
    ),
    "field-subgroup": (
        "the field of use {text} is an IPC subgroup: licences name a main group or coarser (e.g. {group}, which "
        "covers it)"
    ),
    "field-group-zero": "the field of use {text} is not an IPC main group (its number is 0)",
    # the bank check (ledger/registry/check.py): a loan's maturity, as the pledge it is for must have it
    "maturity-past": (
        "the maturity must be in the future: {maturity:time} is not after the chain's time, {now:time}"
    ),
    # an argument of a prepared act (ledger/relay/prepare.py): "{where}: {reason}", the reason one of these
    "argument-invalid": "{function}: argument {argument}: {reason}",
    "argument-list": "must be a list of {base}",
    "argument-size": "must hold exactly {size} items, got {count}",
    "argument-string": "must be a string, got {value}",
    "argument-integer": "must be an integer, got {value}",
    "argument-bool": "must be true or false, got {value}",
    "argument-hex": "must be 0x and hex digits, got {value}",
    "argument-bytes-size": "must be {size} bytes (0x and {digits} hex digits), got {count}",
    "argument-text-or-hex": "must be text or 0x and hex digits, got {value}",
    "argument-role": "unknown role {value}: use {roles} or a 32-byte hash",
    "argument-enum": "must be one of {labels}, got {value}",
    "argument-date": "must be a date (2027-06-30, 2027-06-30T12:00:00Z or Unix seconds), got {value}",
    "argument-number": "must be a whole number, got {value}",
    "argument-too-big": "{value} does not fit in uint{bits}",
    # fees, funds and the chain a service starts on (ledger/chain/client.py, ledger/relay, ledger/context.py)
    "fee-cap-exceeded": (
        "the chain asks more for gas than the cap allows: base fee {base_gwei} gwei plus tip {tip_gwei} gwei, "
        "cap {cap_gwei} gwei (IPLEDGER_MAX_FEE_PER_GAS); nothing was sent: try again when fees fall"
    ),
    "relayer-funds-low": (
        "the relayer {relayer} is low on funds ({balance}, below its threshold of {threshold}), so it relays no "
        "more requests until it is topped up; nothing was sent"
    ),
    # the relay (ledger/relay/service.py): what it refuses before the forwarder would
    "signature-unverifiable": "the signature does not verify: {reason}",
    "signature-length": "a signature is 65 bytes (r, s, v), not {length}",
    "signature-v": "the signature's v is {v}, but the forwarder accepts only 27 or 28",
    "signature-recovery-id": (
        "the signature's v is {v}, but the forwarder accepts only 27 or 28; add 27 to it (this wallet gives "
        "the recovery id 0/1)"
    ),
    "signature-high-s": (
        "the signature's s is in the upper half of the curve order (a malleable high-s signature, "
        "EIP-2), which the forwarder rejects: use s' = n - s and flip v (27 <-> 28), or a wallet that "
        "signs with low s"
    ),
    "signed-by-another": (
        "the request is signed by {signer}, not by its sender {sender} (or it was signed "
        "for another chain, forwarder or content)"
    ),
    "relay-unknown-target": (
        "{target} is not a contract of this ledger; requests are relayed only to its own contracts"
    ),
    "relay-carries-value": "relayed requests carry no value",
    "relay-pending": "this signed request was already relayed and is being executed",
    "relay-replayed": (
        "this signed request was already relayed in {tx_hash}; a signed request is sent at most once, even if "
        "it failed: sign a new one with the sender's next nonce"
    ),
    "relay-nonce-busy": (
        "{signer} already has a request with nonce {nonce} being relayed; only one can be "
        "executed: wait for its outcome, and sign the next request with nonce {next}"
    ),
    "relay-no-outcome": (
        "no outcome after {seconds}s; the request may still be executed: post it again later to learn its "
        "transaction"
    ),
    "relay-gas-cap": (
        "the request's gas ({gas}) is over the relay's cap of {cap} per request; a call that "
        "needs more cannot be relayed: split it, or send it yourself"
    ),
    "relay-deadline": (
        "the request expired or would expire before it is mined: its deadline is {deadline:when}, "
        "and the relay needs at least {margin}s after now ({now:when}, the later of the "
        "clock and the last block's time); sign it again with a later deadline"
    ),
    "relay-failed-when-executed": (
        "the request failed when executed in {tx_hash} (the chain changed since it "
        "was checked: {reason}); its signature is used"
    ),
    "relay-reverted-in-batch": "the call reverted when executed in {tx_hash} (the chain changed since it was checked)",
    "relay-nonce-used-in-batch": "the request was not executed in {tx_hash}: its nonce was used by another request",
    "relay-stale-nonce": (
        "the request's nonce {nonce} is not the sender's next ({current}): it was replayed or built on a stale nonce"
    ),
    "relay-verify-refused": "the forwarder's verify() refuses this request at block {block}",
    "relay-reverts-without-reason": (
        "the call of {target} reverts without a reason whatever its gas: is the calldata a function "
        "of that contract, with well-formed arguments?"
    ),
    "relay-gas-insufficient": (
        "the request's gas ({gas}) is insufficient: the call runs out of gas. It needs about {needed} "
        "(estimated); sign the request again with gas of at least {needed}, with some headroom"
    ),
    # certificates (ledger/timestamps): why a file and its certificate do not verify
    "certificate-malformed": "malformed certificate: {reasons}",
    "certificate-mismatch": (
        "file does not match the certificate: it was modified or is another file "
        "({what:word} has sha256 {actual}, the certificate is for {digest})"
    ),
    "certificate-leaf": (
        "certificate's leaf does not open to author {author} with this digest and salt: "
        "the commitment is {leaf}, the certificate claims {claimed}"
    ),
    "certificate-proof": (
        "forged proof: the certificate's proof does not lead from leaf {leaf} to the anchored root {root}"
    ),
    "certificate-other-chain": "the certificate is for chain {chain}, but this ledger is chain {this}",
    "certificate-other-contract": (
        "the certificate names contract {contract}, not this ledger's TimestampRegistry {registry}"
    ),
    "certificate-never-stamped": "{root} was never stamped on chain {chain}",
    "certificate-proof-rejected": "forged proof: the contract rejects it for this root",
    "certificate-author-unproven": (
        "the author is not proven: {stamper} sent the stamp, not the author {author}, and the certificate "
        "carries no signature of {author}; it proves the file existed then, not who made it"
    ),
    "certificate-authorship-proof": (
        "forged authorship: the proof does not lead from leaf {leaf} to the root {root} the author signed"
    ),
    "certificate-authorship-unreadable": "forged authorship: the signature of the author {author} is not a signature",
    "certificate-authorship-signature": (
        "forged authorship: the signature of the author {author} was made by {signer}"
    ),
    "certificate-out-of-date": (
        "the certificate says block {block} by {stamper}, but the chain records "
        "{root} in block {recorded} by {recorder}: the certificate is out of date or altered"
    ),
    "certificate-block-hash": "block {block} on this chain is not {hash}",
    "certificate-transaction": "transaction {tx_hash} did not stamp {root}",
    # the API's limits (api/limits.py)
    "rate-limited": "too many requests from {key}: retry in {wait}s",
    "body-too-large": "the request body exceeds {limit} bytes",
    "json-too-deep": "the request body nests deeper than {limit} levels of JSON arrays and objects",
    # the chain (ledger/chain/client.py)
    "chain-no-answer": "no chain answers at {url}: {reason}",
    "chain-stopped": "the chain at {url} stopped answering: {reason}",
    "chain-stopped-sending": (
        "the chain at {url} stopped answering while sending {tx_hash}: {reason}; run `ipledger reconcile` once "
        "it is back"
    ),
    "chain-stopped-waiting": "the chain stopped answering while waiting for {tx_hash}: {reason}",
    "revert-unknown-data": "the transaction reverted with unknown error data {data}",
    "revert-without-reason": "the transaction reverted without a reason",
}
"""The ledger's own refusals that people meet most (not contract errors), by key; raise them with
:func:`notice` so that an interface can say them in another language."""

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
    "dispute_kind": DisputeKind,
    "dispute_outcome": DisputeOutcome,
}


def _same(text: str) -> str:
    return text


def _render(value: Any, spec: str, money: Money | None = None, words: Words = _same) -> str:
    """One argument of a sentence, by its format spec.

    ``time``: a UTC date and time (``never`` for 0); ``role``: the role's name; ``ref``: a
    left-aligned ASCII ``bytes32`` (an official number, a code) as its text; ``currency``: a
    ``bytes3`` code; ``buyer``: a listing's buyer (zero: anyone); ``legal_status``, ``license_kind``,
    ...: an enum number as its name; ``money``: token units with the token's decimals and symbol
    (``money``); ``units``: a count of units of a token that is not known here, with thousands separators;
    ``when``: Unix seconds and the UTC date and time they are; ``word``: a value that may be an English word
    (``the file``) or a name (a path). Words go through ``words`` (a translation).
    """
    if spec == "money" and isinstance(value, int):
        return money(value) if money is not None else words("{units} token units").replace("{units}", f"{value:,}")
    if spec == "units" and isinstance(value, int):
        return f"{value:,}"
    if spec == "time" and isinstance(value, int):
        if value == 0:
            return words("never")
        return _dt.datetime.fromtimestamp(value, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if spec == "when" and isinstance(value, int):
        return f"{value} ({_dt.datetime.fromtimestamp(value, _dt.UTC):%Y-%m-%d %H:%M:%S} UTC)"
    if spec == "role" and isinstance(value, str):
        return words(ROLE_NAMES[value.lower()]) if value.lower() in ROLE_NAMES else value
    if spec in ("ref", "currency") and isinstance(value, (str, bytes)):
        return decode_ascii32(value) or words("(none)")
    if spec == "buyer" and isinstance(value, str):
        return words("anyone (the listing names no buyer)") if int(value, 16) == 0 else value
    if spec in _ENUMS and isinstance(value, int):
        return words(_ENUMS[spec].label_of(value).replace("-", " "))
    if spec == "word":
        return words(str(value)) if str(value) in _WORDS else str(value)
    return str(value)


_WORDS = ("the file", "the address", "the sender (from)", "a recipient", "the recipient", "the signer",
          "the account", "the official number", "the case number", "the filing number", "the territory",
          "the field of use", "the hash", "the date", "the number", *(e.label_name() for e in _ENUMS.values()))
"""Values of ``word`` arguments that are English words (anything else, a path say, is shown as it is)."""


def value_words() -> list[str]:
    """Every English word or phrase :func:`render` may show an argument as (what ``words`` must translate)."""
    found = {"never", "(none)", "anyone (the listing names no buyer)", "{units} token units", *ROLE_NAMES.values(),
             *_WORDS}
    for enum in _ENUMS.values():
        found.update(label.replace("-", " ") for label in enum.labels())
    return sorted(found)


def render(template: str, args: Mapping[str, Any], money: Money | None = None, words: Words | None = None) -> str:
    """``template`` (one of :data:`SENTENCES` or :data:`NOTICES`, or its translation) with ``args`` filled in by
    their format specs; ``money`` formats amounts of tokens, ``words`` translates the words an argument becomes."""
    out = []
    for literal, field_name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if field_name is not None:
            out.append(_render(args.get(field_name), spec or "", money, words or _same))
    return "".join(out)


def notice(key: str, /, **args: Any) -> dict[str, Any]:
    """The message of the ledger's own refusal ``key`` (:data:`NOTICES`) with ``args``, and the context an
    interface needs to say it in another language: ``raise ConflictError(**notice("relay-pending"))``."""
    return {"message": render(NOTICES[key], args), "notice": key, "notice_args": args}


def sentence(name: str, args: dict[str, Any], money: Money | None = None) -> str:
    """Render the sentence for a contract error, or a readable fallback with its arguments;
    ``money`` formats amounts of tokens (see :data:`Money`)."""
    template = SENTENCES.get(name)
    if template is None:
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"the contract refused: {name}({shown})"
    return render(template, args, money)
