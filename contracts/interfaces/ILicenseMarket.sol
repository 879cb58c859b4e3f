// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILicenseRegistry} from "./ILicenseRegistry.sol";
import {IMarketplaceBase} from "./IMarketplaceBase.sol";

/// @title The market's license board: license listings, each license bought in one transaction.
/// @notice An owner approves the LicenseMarket as its operator in the LicenseRegistry
/// ({ILicenseRegistry-setOperator}) and lists license terms at a price, for up to `supply` buyers.
/// {buyLicense} takes the payment and has the LicenseRegistry grant the buyer an active license
/// ({ILicenseRegistry-grant}) in the same transaction; every license rule applies there (exclusivity,
/// the pledgee's consent for a pledged asset, the bounds on active licenses). A license listing is void
/// while the seller no longer owns the asset, it is frozen, or it carries a pledge other than the one
/// it carried when listed; and void for good once the asset moved ({IIPRegistry-transferCountOf}) or
/// the seller revoked the operator approval ({ILicenseRegistry-operatorOf}) since it was listed, even
/// if the asset came back or the seller approved the LicenseMarket again. Payment is exact (no
/// fee-on-transfer tokens), and the protocol fee is the {IMarketplace}'s, fixed when listed: a sale
/// pays the lower of the listing's fee and the fee at the sale.
///
/// Pledged assets: the PledgeRegistry's consent to a license names the license id, so each license
/// sold of a pledged asset needs the pledgee's consent to the id it will get (`licenseCount() + 1` in
/// the LicenseRegistry) before the purchase; otherwise the purchase reverts with
/// {ILicenseRegistry-LicenseRegistryAssetPledged}.
interface ILicenseMarket is IMarketplaceBase {
    /// @notice Licenses for sale: each buyer gets an active license on `terms`, with itself as the
    /// licensee, up to `supply` buyers (`sold` so far). `nonce` counts the seller's updates;
    /// `pledgeId` is the asset's pledge when listed (0: none); `transfers` the asset's transfer count
    /// ({IIPRegistry-transferCountOf}) and `operatorEpoch` the epoch of the seller's operator approval
    /// ({ILicenseRegistry-operatorOf}) when listed: once either changed, the listing is void for good.
    /// `feeBps` is the {IMarketplace}'s protocol fee when listed: the most each sale pays (the lower of
    /// it and the fee at the sale), so the admin cannot raise it under the parties.
    struct LicenseListing {
        address seller;
        uint64 assetId;
        ListingStatus status;
        address token;
        uint40 expiry;
        uint32 nonce;
        uint256 price;
        uint64 pledgeId;
        uint16 supply;
        uint16 sold;
        uint32 transfers;
        uint64 operatorEpoch;
        uint16 feeBps;
        ILicenseRegistry.LicenseTerms terms;
    }

    /// @notice `seller` listed licenses of `assetId` on `terms`, `supply` of them at `price` units of
    /// `token` each, until `expiry`; `pledgeId` is the asset's pledge (0: none); `feeBps` the most
    /// protocol fee each sale pays.
    event LicenseListed(
        uint256 indexed listingId,
        uint256 indexed assetId,
        address indexed seller,
        address token,
        uint256 price,
        uint16 supply,
        uint40 expiry,
        uint256 pledgeId,
        uint16 feeBps,
        ILicenseRegistry.LicenseTerms terms
    );
    /// @notice The seller changed the license listing's price or expiry; `nonce` is its new nonce.
    event LicenseListingUpdated(uint256 indexed listingId, uint256 price, uint40 expiry, uint32 nonce);
    /// @notice `by` (the seller) cancelled the license listing.
    event LicenseListingCancelled(uint256 indexed listingId, uint256 indexed assetId, address indexed by);
    /// @notice `buyer` bought license `licenseId` from the listing: `price` paid, of which `fee` to the treasury.
    event LicenseSold(
        uint256 indexed listingId,
        uint256 indexed licenseId,
        address indexed buyer,
        uint256 assetId,
        address seller,
        address token,
        uint256 price,
        uint256 fee
    );

    /// @notice Lists licenses of the caller's asset: up to `supply` buyers each get an active license
    /// on `terms`, for `price` units of `token`, until `expiry`.
    /// @param terms The license terms; `terms.licensee` is zero (each buyer becomes the licensee).
    /// Requirements:
    /// - the caller owns the asset and approved the LicenseMarket as its operator in the LicenseRegistry;
    /// - the asset is not frozen;
    /// - `terms.start < terms.end`, `terms.end` in the future; `supply` is 1 to 65,535, and 1 for an
    ///   exclusive or sole license; `token` and `price` are not zero; `expiry` is in the future;
    /// - `terms.territory` and `terms.fieldOfUse` are canonical codes, as the LicenseRegistry requires
    ///   (else its {ILicenseRegistry-LicenseRegistryNonCanonicalTerritory} / `...Field` error).
    /// The LicenseRegistry holds whatever a listing sells: the licenses of a non-exclusive listing all
    /// have its scope (term, territory, field), so together they take one of the asset's
    /// {ILicenseRegistry-MAX_SHARED_SCOPES} scopes, whatever the supply; an exclusive or sole listing
    /// sells one license, one of its {ILicenseRegistry-MAX_ACTIVE_LICENSES} slots.
    /// Emits a {LicenseListed} event.
    function listLicense(
        uint256 assetId,
        ILicenseRegistry.LicenseTerms calldata terms,
        address token,
        uint256 price,
        uint256 supply,
        uint40 expiry
    ) external returns (uint256 listingId);

    /// @notice Changes an open license listing's price and expiry; its nonce goes up.
    /// Requirements:
    /// - the caller is the seller; the license listing is open; `price` is not zero; `expiry` is in the future.
    /// Emits a {LicenseListingUpdated} event.
    function updateLicenseListing(uint256 listingId, uint256 price, uint40 expiry) external;

    /// @notice Cancels a license listing (licenses already sold stay).
    /// Requirements:
    /// - the caller is the seller; the license listing was not sold out or cancelled.
    /// Emits a {LicenseListingCancelled} event.
    function cancelLicenseListing(uint256 listingId) external;

    /// @notice Buys one license of a listing: pays `price` and becomes the licensee of a new active
    /// license, in one transaction.
    /// @param price The price the buyer saw. @param nonce The listing's nonce the buyer saw.
    /// Requirements:
    /// - the license listing is open (not sold out) and not expired; `price` and `nonce` are the listing's;
    /// - the caller is not the seller; the seller still owns the asset, which has not moved since listed,
    ///   and has not revoked the LicenseMarket as its operator since; the asset is not frozen and
    ///   carries no pledge but the listing's;
    /// - every rule of {ILicenseRegistry-grant} (exclusivity, pledgee consent, the active-license bound);
    /// - the caller approved the LicenseMarket for `price` of the token; the token delivers exactly.
    /// Emits a {LicenseSold} event (and the LicenseRegistry's {ILicenseRegistry-LicenseGranted}).
    function buyLicense(uint256 listingId, uint256 price, uint256 nonce) external returns (uint256 licenseId);

    /// @notice The license listing, with its status as of now (`Expired` and `Void` are never stored);
    /// reverts with {MarketplaceUnknownLicenseListing} if there is none.
    function licenseListingOf(uint256 listingId) external view returns (LicenseListing memory);

    /// @notice The open license listings with ids in [fromId, toId), oldest first.
    function openLicenseListings(uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, LicenseListing[] memory listings);

    /// @notice How many license listings were made (the latest id; ids start at 1).
    function licenseListingCount() external view returns (uint256);
}
