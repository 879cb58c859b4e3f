// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IIPRegistry} from "./IIPRegistry.sol";
import {ILicenseRegistry} from "./ILicenseRegistry.sol";
import {IPledgeRegistry} from "./IPledgeRegistry.sol";

/// @title A bank's due diligence on an IP asset in one call.
/// @notice Reads the three registries and returns everything their state says about an asset,
/// with the red flags for a loan maturing at a given time.
interface IIPLens {
    /// @notice What should make a lender pause. All false is a clean asset. Each flag is judged over
    /// the life of the loan, from now to its `maturity` (a report without a maturity looks at now):
    /// - `unverified`: the registrar has not reconciled the asset with the official register;
    /// - `expiresBeforeMaturity`: the asset's expiry is known and earlier than the maturity
    ///   (expiring exactly at maturity is not flagged: {IPledgeRegistry-propose} allows it);
    /// - `feesUnpaid`: annual fees are known to be paid only until a date earlier than the maturity
    ///   (or than now): paid until exactly the maturity is not flagged;
    /// - `invalidationPending`: an invalidation request is pending;
    /// - `notPledgeable`: invalidated, lapsed, expired, or past its expiry date now;
    /// - `frozen`: under a court freeze now; `pledged`: under an active pledge now;
    /// - `exclusivelyLicensed`: an exclusive or sole license is active (it has not ended);
    /// - `holderDisputed`: the registrar found that the registrant is not the holder in the official
    ///   register;
    /// - `exclusivelyOffered`: an exclusive or sole license is offered and not yet accepted (its
    ///   licensee may accept it at any time before the pledge is accepted).
    struct RedFlags {
        bool unverified;
        bool expiresBeforeMaturity;
        bool feesUnpaid;
        bool invalidationPending;
        bool notPledgeable;
        bool frozen;
        bool pledged;
        bool exclusivelyLicensed;
        bool holderDisputed;
        bool exclusivelyOffered;
    }

    /// @notice The answer. `pledgeId` is 0 (and `pledge` empty) when the asset is not pledged.
    /// `ref` is the official number when the report was asked by it, zero otherwise (it is in the
    /// asset's {IIPRegistry-AssetRegistered} event). `offerIds` / `offers` are the pending license
    /// offers; `encumbranceVersion` is {ILicenseRegistry-encumbranceVersionOf}, which the bank names
    /// when it accepts a pledge ({IPledgeRegistry-accept}) so that a change after this report makes
    /// the acceptance fail.
    struct Report {
        uint256 assetId;
        bytes32 ref;
        IIPRegistry.Asset asset;
        bool frozen;
        IIPRegistry.Freeze freeze;
        uint256 pledgeId;
        IPledgeRegistry.Pledge pledge;
        uint256[] licenseIds;
        ILicenseRegistry.License[] licenses;
        RedFlags flags;
        uint256 blockNumber;
        uint256 timestamp;
        uint256[] offerIds;
        ILicenseRegistry.License[] offers;
        uint256 encumbranceVersion;
    }

    /// @notice No asset is registered with the official number `ref`.
    error IPLensUnknownRef(bytes32 ref);

    /// @notice The due-diligence report of `assetId` for a loan maturing at `maturity` (0: none).
    /// Reverts with {IERC721Errors-ERC721NonexistentToken} for an unknown asset.
    function dueDiligence(uint256 assetId, uint40 maturity) external view returns (Report memory);

    /// @notice The same report, for the asset registered with the official number `ref`.
    function dueDiligenceOfRef(bytes32 ref, uint40 maturity) external view returns (Report memory);
}
