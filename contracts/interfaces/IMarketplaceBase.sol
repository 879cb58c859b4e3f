// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title What the market's two contracts share: statuses and errors.
/// @notice The {IMarketplace} (asset listings, escrowed offers, the demand board) and the
/// {ILicenseMarket} (license listings) raise the same errors, named `Marketplace<Problem>`, as
/// OpenZeppelin's ERC-721 variants share `IERC721Errors`.
interface IMarketplaceBase {
    /// @notice Where a listing (of an asset or of licenses) is. `Expired` and `Void` are never stored.
    /// Append only.
    enum ListingStatus {
        None,
        Open,
        Sold,
        Cancelled,
        Expired,
        Void
    }

    /// @notice Where an offer is. `Refused` offers still hold their amount until withdrawn.
    /// `Expired` and `Void` are never stored. Append only.
    enum OfferStatus {
        None,
        Open,
        Refused,
        Accepted,
        Withdrawn,
        Expired,
        Void
    }

    /// @notice Where a demand is. `Expired` (past its deadline) is never stored. Append only.
    enum DemandStatus {
        None,
        Open,
        Closed,
        Expired
    }

    /// @notice Where an answer to a demand is. Append only.
    enum AnswerStatus {
        None,
        Open,
        Accepted,
        Withdrawn
    }

    /// @notice No listing has this id.
    error MarketplaceUnknownListing(uint256 listingId);
    /// @notice No offer has this id.
    error MarketplaceUnknownOffer(uint256 offerId);
    /// @notice No license listing has this id.
    error MarketplaceUnknownLicenseListing(uint256 listingId);
    /// @notice No demand has this id.
    error MarketplaceUnknownDemand(uint256 demandId);
    /// @notice No answer has this id.
    error MarketplaceUnknownAnswer(uint256 answerId);
    /// @notice Only the asset's owner may do this; `account` is not.
    error MarketplaceNotOwner(uint256 assetId, address account);
    /// @notice Only the seller of the listing, offer or answer `id` may do this; `account` is not.
    error MarketplaceNotSeller(uint256 id, address account);
    /// @notice Only the buyer of offer `offerId` may do this; `account` is not.
    error MarketplaceNotBuyer(uint256 offerId, address account);
    /// @notice Only the poster of demand `demandId` may do this; `account` is not.
    error MarketplaceNotPoster(uint256 demandId, address account);
    /// @notice `account` would trade with itself (buyer and seller are the same account).
    error MarketplaceInvalidCounterparty(address account);
    /// @notice A price, an amount or a budget must be greater than zero.
    error MarketplaceZeroAmount();
    /// @notice The token (or the treasury of a fee) must not be the zero address.
    error MarketplaceZeroAddress();
    /// @notice A demand names the hash of its description.
    error MarketplaceZeroHash();
    /// @notice An expiry or deadline must be in the future.
    error MarketplaceInvalidExpiry(uint256 expiry);
    /// @notice A license listing sells 1 to 65,535 licenses, and exactly 1 if exclusive or sole.
    error MarketplaceInvalidSupply(uint256 supply);
    /// @notice A license listing's terms leave the licensee zero: each buyer becomes the licensee.
    error MarketplaceInvalidLicensee(address licensee);
    /// @notice The term of listed licenses must start before it ends, and end in the future.
    error MarketplaceInvalidTerm(uint256 start, uint256 end);
    /// @notice The protocol fee is at most `maxFeeBps` basis points.
    error MarketplaceInvalidFee(uint256 feeBps, uint256 maxFeeBps);
    /// @notice The asset is under a court freeze until `until`: it is not listed, offered for or sold.
    error MarketplaceAssetFrozen(uint256 assetId, uint256 until);
    /// @notice The asset was pledged under `pledgeId` after it was listed or offered for (it carried no
    /// pledge, or another one, then): the listing or offer is void.
    error MarketplaceAssetPledged(uint256 assetId, uint256 pledgeId);
    /// @notice The asset is pledged under `pledgeId` and its pledgee has not consented to a transfer to
    /// `buyer` (zero: the listing names no buyer): a pledged asset is listed only for the buyer its
    /// pledgee consented to ({IPledgeRegistry-consentToTransfer}).
    error MarketplacePledgeeNotConsented(uint256 assetId, uint256 pledgeId, address buyer);
    /// @notice The asset changed hands since `seller` listed it, answered a demand with it, or was offered
    /// for it: `owner` holds it now.
    error MarketplaceAssetChangedHands(uint256 assetId, address seller, address owner);
    /// @notice The asset moved since it was listed (its transfer count was `transfers`, it is
    /// `currentTransfers` now): the listing is void for good, even though its seller holds it again.
    error MarketplaceAssetMovedSinceListed(uint256 assetId, uint256 transfers, uint256 currentTransfers);
    /// @notice The Marketplace is not approved (ERC-721 `approve`) to move the asset: a listing needs it,
    /// and a transfer of the asset clears it.
    error MarketplaceTransferNotApproved(uint256 assetId);
    /// @notice `owner` has not approved the LicenseMarket as its operator in the LicenseRegistry.
    error MarketplaceLicensingNotApproved(address owner);
    /// @notice `owner` revoked the LicenseMarket as its operator since the license listing was made
    /// (the approval's epoch was `epoch`, it is `currentEpoch` now): the listing is void for good, even
    /// if the owner approved the LicenseMarket again.
    error MarketplaceLicensingApprovalChanged(address owner, uint256 epoch, uint256 currentEpoch);
    /// @notice The listing (of an asset or of licenses) is not open: its status is `status`.
    error MarketplaceListingNotOpen(uint256 listingId, ListingStatus status);
    /// @notice The listing is reserved for `buyer`.
    error MarketplaceReservedListing(uint256 listingId, address buyer);
    /// @notice The listing's price or nonce is not what the buyer saw: it is `price` at nonce `nonce` now.
    error MarketplacePriceChanged(uint256 listingId, uint256 price, uint256 nonce);
    /// @notice The offer is not open: its status is `status`.
    error MarketplaceOfferNotOpen(uint256 offerId, OfferStatus status);
    /// @notice The offer is open (not expired, refused or void) until `expiry`; it can be withdrawn after.
    error MarketplaceOfferStillOpen(uint256 offerId, uint256 expiry);
    /// @notice The demand is not open (closed, or past its deadline): its status is `status`.
    error MarketplaceDemandNotOpen(uint256 demandId, DemandStatus status);
    /// @notice The answer is not open: its status is `status`.
    error MarketplaceAnswerNotOpen(uint256 answerId, AnswerStatus status);
    /// @notice The answer's price exceeds the demand's budget.
    error MarketplaceOverBudget(uint256 demandId, uint256 price, uint256 budget);
    /// @notice `token` delivered `received` units of the `expected` (a fee-on-transfer token, or worse).
    error MarketplaceInexactPayment(address token, uint256 expected, uint256 received);
}
