// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IIPRegistry} from "./IIPRegistry.sol";
import {ILicenseRegistry} from "./ILicenseRegistry.sol";

/// @title Pledges of IP assets to accredited banks (质押).
/// @notice The owner proposes, the pledgee (a holder of PLEDGEE_ROLE) accepts; only then is the asset
/// pledged. While pledged it moves only by enforcement or with the pledgee's one-time consent for a
/// recipient, and is licensed only with the pledgee's one-time consent to that license's exact terms.
///
/// A license consent is for terms, not for a license number: its id is {licenseConsentId}, the hash
/// of the whole {ILicenseRegistry-LicenseTerms} (licensee, kind, start, end, territory, field, terms
/// hash, fee, sublicensable). A license activates under the pledge only if its terms hash to a
/// consent the pledgee gave under this pledge (or to one with licensee zero: "these terms, to
/// whoever takes them", e.g. buyers of a licence listing); the consent is then used up. The pledgee
/// withdraws an unused consent at will. Consents belong to their pledge: once it is released or
/// enforced they are void, and a later pledge of the same asset starts with none.
///
/// The pledgee accepts a proposal naming the asset's encumbrance version it checked
/// ({ILicenseRegistry-encumbranceVersionOf}, shown by the bank check): if a license was offered,
/// accepted, granted or terminated since, the acceptance fails and the bank checks again.
interface IPledgeRegistry {
    /// @notice Where a pledge is. Append only.
    enum PledgeStatus {
        None,
        Proposed,
        Active,
        Released,
        Enforced,
        Cancelled
    }

    /// @notice A pledge. `principal` is in units of `currency` (an ISO 4217 code, e.g. "CNY"); the
    /// loan itself is off chain, bound by `contractHash`. `maturity` is unix seconds.
    struct Pledge {
        uint64 assetId;
        address pledgor;
        PledgeStatus status;
        address pledgee;
        uint40 maturity;
        bytes3 currency;
        uint256 principal;
        bytes32 contractHash;
    }

    /// @notice No pledge has this id.
    error PledgeRegistryUnknownPledge(uint256 pledgeId);
    /// @notice Only the asset's owner may propose a pledge of it.
    error PledgeRegistryNotOwner(uint256 assetId, address account);
    /// @notice Only the pledge's pledgee may do this.
    error PledgeRegistryNotPledgee(uint256 pledgeId, address account);
    /// @notice Only the pledgor or the pledgee may cancel a proposal.
    error PledgeRegistryNotParty(uint256 pledgeId, address account);
    /// @notice The asset is already pledged under `pledgeId`.
    error PledgeRegistryAlreadyPledged(uint256 assetId, uint256 pledgeId);
    /// @notice The asset is under a court freeze until `until`.
    error PledgeRegistryAssetFrozen(uint256 assetId, uint256 until);
    /// @notice An ownership dispute (`disputeId`) over the asset is open: it cannot be pledged until it is resolved.
    error PledgeRegistryAssetDisputed(uint256 assetId, uint256 disputeId);
    /// @notice The asset's legal status (invalidated, lapsed or expired) forbids a pledge.
    error PledgeRegistryAssetNotPledgeable(uint256 assetId, IIPRegistry.LegalStatus status);
    /// @notice The asset's expiry date has passed.
    error PledgeRegistryAssetPastExpiry(uint256 assetId, uint256 expiresAt);
    /// @notice The loan would mature after the asset expires.
    error PledgeRegistryMaturityAfterExpiry(uint256 maturity, uint256 expiresAt);
    /// @notice The maturity must be in the future.
    error PledgeRegistryInvalidMaturity(uint256 maturity);
    /// @notice The pledgee must not be zero or the owner.
    error PledgeRegistryInvalidPledgee(address pledgee);
    /// @notice A pledge secures a principal greater than zero.
    error PledgeRegistryZeroPrincipal();
    /// @notice A pledge names the currency of its principal.
    error PledgeRegistryZeroCurrency();
    /// @notice The pledge is not a pending proposal (its status is `status`).
    error PledgeRegistryNotProposed(uint256 pledgeId, PledgeStatus status);
    /// @notice The pledge is not active (its status is `status`).
    error PledgeRegistryNotActive(uint256 pledgeId, PledgeStatus status);
    /// @notice The asset changed hands since `pledgor` proposed: `owner` holds it now.
    error PledgeRegistryProposalStale(uint256 pledgeId, address pledgor, address owner);
    /// @notice A pledge is enforced only after its maturity.
    error PledgeRegistryNotMatured(uint256 pledgeId, uint256 maturity);
    /// @notice Only the IPRegistry (or, for licenses, the wired LicenseRegistry) may call this function.
    error PledgeRegistryUnauthorizedCaller(address caller);
    /// @notice The asset's licenses changed since the pledgee's check: it saw encumbrance version
    /// `expectedVersion`, the asset is at `version` now. Check again, then accept.
    error PledgeRegistryEncumbrancesChanged(uint256 pledgeId, uint256 expectedVersion, uint256 version);
    /// @notice The pledgee gave no unused consent `consentId` under this pledge.
    error PledgeRegistryNoLicenseConsent(uint256 pledgeId, bytes32 consentId);
    /// @notice The pledgee already gave consent `consentId` under this pledge, unused.
    error PledgeRegistryLicenseConsentExists(uint256 pledgeId, bytes32 consentId);
    /// @notice The LicenseRegistry is wired once; it already is, to `licenseRegistry`.
    error PledgeRegistryLicenseRegistryAlreadySet(address licenseRegistry);
    /// @notice No LicenseRegistry is wired yet: pledges cannot be accepted.
    error PledgeRegistryLicenseRegistryNotSet();
    /// @notice The zero address is not a LicenseRegistry.
    error PledgeRegistryZeroAddress();

    /// @notice The owner proposed a pledge of `assetId` to `pledgee`.
    event PledgeProposed(
        uint256 indexed pledgeId,
        uint256 indexed assetId,
        address indexed pledgee,
        address pledgor,
        uint256 principal,
        bytes3 currency,
        uint40 maturity,
        bytes32 contractHash
    );
    /// @notice The pledgee accepted: the asset is pledged.
    event PledgeAccepted(uint256 indexed pledgeId, uint256 indexed assetId, address indexed pledgee);
    /// @notice The pledgor withdrew, or the pledgee declined, a proposal.
    event PledgeCancelled(uint256 indexed pledgeId, uint256 indexed assetId, address indexed by);
    /// @notice The pledgee released the pledge (loan repaid).
    event PledgeReleased(uint256 indexed pledgeId, uint256 indexed assetId, address indexed pledgee);
    /// @notice The pledgee enforced the pledge: the asset went to `to` (the pledgee or a buyer).
    event PledgeEnforced(uint256 indexed pledgeId, uint256 indexed assetId, address indexed pledgee, address to);
    /// @notice The pledgee consented to one transfer of the asset to `recipient` (0: consent withdrawn).
    event TransferConsented(uint256 indexed pledgeId, uint256 indexed assetId, address recipient);
    /// @notice The consented transfer happened; the consent is used up. The pledge stays active.
    event TransferConsentUsed(uint256 indexed pledgeId, uint256 indexed assetId, address recipient);
    /// @notice The pledgee consented to one license of the pledged asset on `terms` (licensee zero:
    /// to whoever takes these terms); `consentId` is {licenseConsentId} of `terms`.
    event LicenseConsented(
        uint256 indexed pledgeId, uint256 indexed assetId, bytes32 indexed consentId, ILicenseRegistry.LicenseTerms terms
    );
    /// @notice The pledgee withdrew its unused consent `consentId`.
    event LicenseConsentWithdrawn(uint256 indexed pledgeId, uint256 indexed assetId, bytes32 indexed consentId);
    /// @notice License `licenseId` activated under the pledge on consent `consentId`, which is used up.
    event LicenseConsentUsed(
        uint256 indexed pledgeId, uint256 indexed assetId, bytes32 indexed consentId, uint256 licenseId
    );
    /// @notice The admin wired the LicenseRegistry whose encumbrance versions and license activations
    /// this registry answers.
    event LicenseRegistrySet(address indexed licenseRegistry);

    /// @notice Proposes to pledge the caller's asset to `pledgee`.
    /// Requirements:
    /// - the caller owns the asset; `pledgee` holds PLEDGEE_ROLE and is not the caller;
    /// - `principal` > 0; `currency` not zero; `maturity` in the future and not after the asset's expiry;
    /// - the asset is not pledged, not frozen, not under an open ownership dispute, not invalidated,
    ///   lapsed or expired.
    /// Emits a {PledgeProposed} event.
    function propose(
        uint256 assetId,
        address pledgee,
        uint256 principal,
        bytes3 currency,
        uint40 maturity,
        bytes32 contractHash
    ) external returns (uint256 pledgeId);

    /// @notice Accepts a proposal: the asset is pledged from now on.
    /// @param encumbranceVersion The asset's {ILicenseRegistry-encumbranceVersionOf} in the check the
    /// pledgee relies on (the bank check reports it).
    /// Requirements:
    /// - the caller is the proposal's pledgee and holds PLEDGEE_ROLE; the proposal is pending;
    /// - the proposer still owns the asset; the rules of {propose} still hold;
    /// - the asset's encumbrance version is still `encumbranceVersion` (a LicenseRegistry is wired).
    /// Emits a {PledgeAccepted} event.
    function accept(uint256 pledgeId, uint256 encumbranceVersion) external;

    /// @notice Withdraws (pledgor) or declines (pledgee) a pending proposal.
    /// Requirements:
    /// - the caller is the pledgor or the pledgee; the proposal is pending.
    /// Emits a {PledgeCancelled} event.
    function cancel(uint256 pledgeId) external;

    /// @notice Releases an active pledge (the loan was repaid); possible at any time.
    /// Requirements:
    /// - the caller is the pledgee; the pledge is active.
    /// Emits a {PledgeReleased} event.
    function release(uint256 pledgeId) external;

    /// @notice Enforces an active pledge after maturity: the asset goes to `buyer`, or to the
    /// pledgee if `buyer` is zero, through the IPRegistry's guarded path.
    /// Requirements:
    /// - the caller is the pledgee; the pledge is active; its maturity has passed;
    /// - the asset is not frozen and not under an open ownership dispute.
    /// Emits a {PledgeEnforced} event (and the registry's {IERC721-Transfer}).
    function enforce(uint256 pledgeId, address buyer) external;

    /// @notice Consents to one transfer of the pledged asset to `recipient` (replaces an earlier
    /// consent; zero withdraws it). The pledge follows the asset.
    /// Requirements:
    /// - the caller is the pledgee; the pledge is active.
    /// Emits a {TransferConsented} event.
    function consentToTransfer(uint256 pledgeId, address recipient) external;

    /// @notice Consents to one license of the pledged asset on exactly `terms` (a licensee of zero
    /// admits any licensee on otherwise these terms). The consent is used by the first license that
    /// activates on these terms under this pledge, and dies with the pledge.
    /// Requirements:
    /// - the caller is the pledgee; the pledge is active; no unused consent to the same terms exists.
    /// Emits a {LicenseConsented} event.
    function consentToLicense(uint256 pledgeId, ILicenseRegistry.LicenseTerms calldata terms)
        external
        returns (bytes32 consentId);

    /// @notice Withdraws an unused license consent.
    /// Requirements:
    /// - the caller is the pledgee; the pledge is active; the consent exists and is unused.
    /// Emits a {LicenseConsentWithdrawn} event.
    function withdrawLicenseConsent(uint256 pledgeId, bytes32 consentId) external;

    /// @notice Called by the LicenseRegistry when a license of a pledged asset is about to activate:
    /// returns 0 if the asset is not pledged or its pledgee consented to these terms (for this
    /// licensee, or for any) under the active pledge (the consent is then used up), otherwise the id
    /// of the pledge that forbids the license.
    /// Requirements:
    /// - the caller is the wired LicenseRegistry.
    /// Emits a {LicenseConsentUsed} event when a consent is used.
    function authorizeLicense(uint256 assetId, uint256 licenseId, ILicenseRegistry.LicenseTerms calldata terms)
        external
        returns (uint256 blockingPledgeId);

    /// @notice Wires the LicenseRegistry, once.
    /// Requirements:
    /// - the caller holds DEFAULT_ADMIN_ROLE in the IPRegistry; none is wired yet; it is not zero.
    /// Emits a {LicenseRegistrySet} event.
    function setLicenseRegistry(address licenseRegistry_) external;

    /// @notice Called by the IPRegistry on every move of an asset that is not an enforcement:
    /// returns 0 if the asset is not pledged or its pledgee consented to a transfer to `to` (the
    /// consent is then used up), otherwise the id of the pledge that forbids the move.
    /// Requirements:
    /// - the caller is the IPRegistry.
    /// Emits a {TransferConsentUsed} event when a consent is used.
    function authorizeTransfer(uint256 assetId, address to) external returns (uint256 blockingPledgeId);

    /// @notice The pledge `pledgeId`; reverts with {PledgeRegistryUnknownPledge} if there is none.
    function pledgeOf(uint256 pledgeId) external view returns (Pledge memory);

    /// @notice The active pledge of the asset, or 0.
    function activePledgeOf(uint256 assetId) external view returns (uint256 pledgeId);

    /// @notice The recipient the pledgee consented to for the next transfer, or 0.
    function transferConsentOf(uint256 pledgeId) external view returns (address);

    /// @notice Whether consent `consentId` is given, unused, under `pledgeId`, and the pledge is active.
    function isLicenseConsented(uint256 pledgeId, bytes32 consentId) external view returns (bool);

    /// @notice The id of a consent to `terms`: `keccak256(abi.encode(terms))`.
    function licenseConsentId(ILicenseRegistry.LicenseTerms calldata terms) external pure returns (bytes32);

    /// @notice The wired LicenseRegistry (0 until wired).
    function licenseRegistry() external view returns (address);

    /// @notice How many pledges were proposed (the latest id).
    function pledgeCount() external view returns (uint256);
}
