// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IIPRegistry} from "./IIPRegistry.sol";

/// @title Pledges of IP assets to accredited banks (质押).
/// @notice The owner proposes, the pledgee (a holder of PLEDGEE_ROLE) accepts; only then is the asset
/// pledged. While pledged it moves only by enforcement or with the pledgee's one-time consent for a
/// recipient, and is licensed only with the pledgee's consent for that license.
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
    /// @notice Only the IPRegistry may call this function.
    error PledgeRegistryUnauthorizedCaller(address caller);

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
    /// @notice The pledgee consented to license `licenseId` of the pledged asset.
    event LicenseConsented(uint256 indexed pledgeId, uint256 indexed assetId, uint256 indexed licenseId);

    /// @notice Proposes to pledge the caller's asset to `pledgee`.
    /// Requirements:
    /// - the caller owns the asset; `pledgee` holds PLEDGEE_ROLE and is not the caller;
    /// - `principal` > 0; `currency` not zero; `maturity` in the future and not after the asset's expiry;
    /// - the asset is not pledged, not frozen, not invalidated, lapsed or expired.
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
    /// Requirements:
    /// - the caller is the proposal's pledgee and holds PLEDGEE_ROLE; the proposal is pending;
    /// - the proposer still owns the asset; the rules of {propose} still hold.
    /// Emits a {PledgeAccepted} event.
    function accept(uint256 pledgeId) external;

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
    /// - the asset is not frozen.
    /// Emits a {PledgeEnforced} event (and the registry's {IERC721-Transfer}).
    function enforce(uint256 pledgeId, address buyer) external;

    /// @notice Consents to one transfer of the pledged asset to `recipient` (replaces an earlier
    /// consent; zero withdraws it). The pledge follows the asset.
    /// Requirements:
    /// - the caller is the pledgee; the pledge is active.
    /// Emits a {TransferConsented} event.
    function consentToTransfer(uint256 pledgeId, address recipient) external;

    /// @notice Consents to license `licenseId` of the pledged asset.
    /// Requirements:
    /// - the caller is the pledgee; the pledge is active.
    /// Emits a {LicenseConsented} event.
    function consentToLicense(uint256 pledgeId, uint256 licenseId) external;

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

    /// @notice Whether the pledgee consented to license `licenseId` under `pledgeId`.
    function isLicenseConsented(uint256 pledgeId, uint256 licenseId) external view returns (bool);

    /// @notice How many pledges were proposed (the latest id).
    function pledgeCount() external view returns (uint256);
}
