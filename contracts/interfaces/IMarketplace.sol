// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMarketplaceBase} from "./IMarketplaceBase.sol";

/// @title The ipledger market: asset listings, escrowed offers and the demand board.
/// @notice Settles in any ERC-20 except fee-on-transfer and rebasing tokens: every payment must arrive
/// whole, or the act reverts. Non-custodial for assets: the owner keeps the asset and approves the
/// Marketplace (ERC-721 `approve`) to move it when it sells. Custodial for money: an offer's amount is
/// held here until the owner accepts it or the buyer withdraws it. Licenses are sold by the
/// {ILicenseMarket}, which charges this contract's {fee}.
///
/// Boards and flows:
/// - Listing (the supply list): the owner approves the Marketplace for the asset and lists it at a
///   fixed price with an expiry; a buyer {buy}s it, naming the price and nonce it saw, and pays and
///   receives the asset in one transaction.
/// - Offer: a buyer offers an amount for an asset, held in escrow until the owner (the `seller` when
///   the offer was made) accepts it, or refuses it, or it expires or becomes void; the buyer then
///   withdraws it.
/// - Demand board: anyone posts a demand (description hash and URI, token, budget, deadline); owners
///   answer with an asset and a price within the budget; the poster accepts an answer, which moves
///   the answer's price from the poster into escrow as an offer for that asset to the answerer; the
///   answerer completes the sale with {acceptOffer} (or refuses it), exactly as for any offer.
///
/// Rules. A sale (buy, accepted offer) happens only while the seller of the listing or offer still
/// owns the asset, it is not frozen, and it carries no pledge but the one it carried when listed or
/// offered for; otherwise the listing or offer is void. Moving a pledged asset needs the pledgee's
/// consent to that buyer ({IPledgeRegistry-consentToTransfer}), which the IPRegistry's transfer guard
/// checks and uses up: the Marketplace never decides that itself. So a pledged asset is listed only
/// for a reserved buyer its pledgee has consented to, and an offer for a pledged asset is accepted
/// only once the pledgee consents to the offer's buyer. A frozen asset is not listed, offered for,
/// answered with or sold. A listing also needs the Marketplace's ERC-721 approval for that asset
/// (revoking it suspends the listing; cancel it to end it), and it records the asset's transfer count
/// ({IIPRegistry-transferCountOf}): a listing dies for good with the first move of the asset, even if
/// the asset comes back to the seller and the seller approves the Marketplace again. An optional
/// protocol fee (basis points, at most {MAX_FEE_BPS}) of every sale goes to a treasury; the seller
/// receives the rest. The fee is fixed when a listing or offer is made: its sale pays the lower of
/// that fee and the fee in force at the sale, so the admin may lower the fee of open listings and
/// offers but never raise it after the parties saw it.
///
/// Browsing: each board has a `...Of(id)` view, which reports `Expired` and `Void` as they are now
/// (these statuses are never stored), and an `open...(fromId, toId)` view of the open items with ids
/// in [fromId, toId); ids start at 1 and {counts} gives the latest id of each board.
interface IMarketplace is IMarketplaceBase {
    /// @notice An asset for sale. `nonce` counts the seller's updates; `buyer` is the one account that
    /// may buy (zero: anyone); `pledgeId` the asset's pledge when listed (0: none); `transfers` the
    /// asset's transfer count when listed ({IIPRegistry-transferCountOf}): once it changed, the
    /// listing is void for good. `feeBps` is the protocol fee when listed: the most its sale pays
    /// (the lower of it and the fee at the sale), so the admin cannot raise it under the parties.
    struct Listing {
        address seller;
        uint64 assetId;
        ListingStatus status;
        uint16 feeBps;
        address token;
        uint40 expiry;
        uint32 nonce;
        uint256 price;
        address buyer;
        uint64 pledgeId;
        uint32 transfers;
    }

    /// @notice An amount held in escrow for an asset. `seller` is the owner when the offer was made,
    /// the only account that may accept it; `pledgeId` the asset's pledge then (0: none); `feeBps`
    /// the protocol fee then: the most its acceptance pays (the lower of it and the fee at acceptance).
    struct Offer {
        address buyer;
        uint40 expiry;
        OfferStatus status;
        uint16 feeBps;
        address seller;
        uint64 assetId;
        address token;
        uint64 pledgeId;
        uint256 amount;
    }

    /// @notice A need posted on the demand board. The description is off chain, bound by its hash;
    /// its URI is in {DemandPosted}.
    struct Demand {
        address poster;
        uint40 deadline;
        DemandStatus status;
        address token;
        uint256 budget;
        bytes32 descriptionHash;
    }

    /// @notice An owner's answer to a demand: `assetId` at `price` (in the demand's token).
    struct Answer {
        address answerer;
        uint64 demandId;
        AnswerStatus status;
        uint64 assetId;
        uint256 price;
    }

    /// @notice `seller` listed `assetId` for `price` units of `token` until `expiry`, for `buyer` only if
    /// not zero; `pledgeId` is the asset's pledge (0: none); `feeBps` the most protocol fee its sale pays.
    event AssetListed(
        uint256 indexed listingId,
        uint256 indexed assetId,
        address indexed seller,
        address token,
        uint256 price,
        uint40 expiry,
        address buyer,
        uint256 pledgeId,
        uint16 feeBps
    );
    /// @notice The seller changed the listing's price or expiry; `nonce` is its new nonce.
    event ListingUpdated(uint256 indexed listingId, uint256 price, uint40 expiry, uint32 nonce);
    /// @notice `by` (the seller) cancelled the listing, or replaced it by listing the asset again.
    event ListingCancelled(uint256 indexed listingId, uint256 indexed assetId, address indexed by);
    /// @notice `buyer` bought the listed asset from `seller`: `price` paid, of which `fee` to the treasury.
    event AssetSold(
        uint256 indexed listingId,
        uint256 indexed assetId,
        address indexed buyer,
        address seller,
        address token,
        uint256 price,
        uint256 fee
    );
    /// @notice `buyer` offered `amount` units of `token` for `assetId` to its owner `seller`, held in escrow
    /// until `expiry`; `pledgeId` is the asset's pledge (0: none); `feeBps` the most protocol fee its
    /// acceptance pays.
    event OfferMade(
        uint256 indexed offerId,
        uint256 indexed assetId,
        address indexed buyer,
        address seller,
        address token,
        uint256 amount,
        uint40 expiry,
        uint256 pledgeId,
        uint16 feeBps
    );
    /// @notice The seller accepted the offer: the asset went to the buyer, `amount` to the seller less
    /// `fee` to the treasury.
    event OfferAccepted(
        uint256 indexed offerId, uint256 indexed assetId, address indexed buyer, address seller, uint256 amount, uint256 fee
    );
    /// @notice The seller refused the offer; the buyer may withdraw it.
    event OfferRefused(uint256 indexed offerId, uint256 indexed assetId, address indexed seller);
    /// @notice The buyer withdrew the offer's `amount` from escrow.
    event OfferWithdrawn(uint256 indexed offerId, uint256 indexed assetId, address indexed buyer, uint256 amount);
    /// @notice `poster` posted a demand: up to `budget` units of `token` until `deadline`, described by
    /// the document at `uri` whose hash is `descriptionHash`.
    event DemandPosted(
        uint256 indexed demandId,
        address indexed poster,
        address token,
        uint256 budget,
        uint40 deadline,
        bytes32 descriptionHash,
        string uri
    );
    /// @notice The poster closed the demand.
    event DemandClosed(uint256 indexed demandId, address indexed poster);
    /// @notice `answerer` answered the demand with `assetId` at `price`.
    event DemandAnswered(
        uint256 indexed answerId, uint256 indexed demandId, uint256 indexed assetId, address answerer, uint256 price
    );
    /// @notice The answerer withdrew the answer.
    event AnswerWithdrawn(uint256 indexed answerId, uint256 indexed demandId, address indexed answerer);
    /// @notice The poster accepted the answer: offer `offerId` (see {OfferMade}) now holds its price.
    event AnswerAccepted(uint256 indexed answerId, uint256 indexed demandId, uint256 indexed offerId);
    /// @notice The admin set the protocol fee: `feeBps` basis points of every sale to `treasury`.
    event FeeSet(address indexed treasury, uint16 feeBps);

    // -- listings ----------------------------------------------------------------------------------

    /// @notice Lists the caller's asset for `price` units of `token` until `expiry`. Listing an asset
    /// again replaces its earlier listing (which is cancelled).
    /// @param buyer The only account that may buy; zero for anyone. A pledged asset needs one: the
    /// account its pledgee consented to ({IPledgeRegistry-consentToTransfer}).
    /// Requirements:
    /// - the caller owns the asset and approved the Marketplace for it (ERC-721 `approve`);
    /// - the asset is not frozen; if it is pledged, `buyer` is the recipient its pledgee consented to
    ///   (else {MarketplacePledgeeNotConsented});
    /// - `token` is not zero; `price` is not zero; `expiry` is in the future; `buyer` is not the caller.
    /// Emits an {AssetListed} event (and a {ListingCancelled} event for a replaced listing).
    function listAsset(uint256 assetId, address token, uint256 price, uint40 expiry, address buyer)
        external
        returns (uint256 listingId);

    /// @notice Changes an open listing's price and expiry; its nonce goes up, so a buy naming the old
    /// price or nonce reverts.
    /// Requirements:
    /// - the caller is the seller; the listing is open (not sold, cancelled or expired);
    /// - `price` is not zero; `expiry` is in the future.
    /// Emits a {ListingUpdated} event.
    function updateListing(uint256 listingId, uint256 price, uint40 expiry) external;

    /// @notice Cancels a listing.
    /// Requirements:
    /// - the caller is the seller; the listing was not sold or cancelled.
    /// Emits a {ListingCancelled} event.
    function cancelListing(uint256 listingId) external;

    /// @notice Buys a listed asset: pays `price` (the fee to the treasury, the rest to the seller) and
    /// receives the asset, in one transaction.
    /// @param price The price the buyer saw. @param nonce The listing's nonce the buyer saw.
    /// Requirements:
    /// - the listing is open and not expired; `price` and `nonce` are the listing's;
    /// - the caller is the reserved buyer, if any, and not the seller;
    /// - the seller still owns the asset and it has not moved since listed, the Marketplace is still
    ///   approved for it, it is not frozen and it carries no pledge but the listing's; a pledged asset moves only with its pledgee's
    ///   consent to the caller (the IPRegistry's guard decides);
    /// - the caller approved the Marketplace for `price` of the token; the token delivers exactly.
    /// Emits an {AssetSold} event (and the registry's {IERC721-Transfer}).
    function buy(uint256 listingId, uint256 price, uint256 nonce) external;

    // -- offers ------------------------------------------------------------------------------------

    /// @notice Offers `amount` units of `token` for an asset; the amount is held in escrow until the
    /// owner accepts, or until the caller withdraws it once it expired, was refused or became void.
    /// Requirements:
    /// - the asset exists and is not frozen; the caller does not own it;
    /// - `token` is not zero; `amount` is not zero; `expiry` is in the future;
    /// - the caller approved the Marketplace for `amount` of the token; the token delivers exactly.
    /// Emits an {OfferMade} event.
    function makeOffer(uint256 assetId, address token, uint256 amount, uint40 expiry) external returns (uint256 offerId);

    /// @notice Accepts an offer: the escrowed amount goes to the caller (less the fee, to the treasury)
    /// and the asset to the buyer.
    /// Requirements:
    /// - the caller is the offer's seller; the offer is open and not expired;
    /// - the caller still owns the asset, it is not frozen and it carries no pledge but the offer's;
    ///   a pledged asset moves only with its pledgee's consent to the buyer (the IPRegistry's guard);
    /// - the Marketplace may move the asset (ERC-721 `approve` or `setApprovalForAll`); the token
    ///   delivers exactly.
    /// Emits an {OfferAccepted} event (and the registry's {IERC721-Transfer}).
    function acceptOffer(uint256 offerId) external;

    /// @notice Refuses an offer; its buyer may withdraw it at once.
    /// Requirements:
    /// - the caller is the offer's seller; the offer is open.
    /// Emits an {OfferRefused} event.
    function refuseOffer(uint256 offerId) external;

    /// @notice Pays an offer's escrowed amount back to its buyer.
    /// Requirements:
    /// - the caller is the offer's buyer; the offer is refused, or open and expired or void.
    /// Emits an {OfferWithdrawn} event.
    function withdrawOffer(uint256 offerId) external;

    // -- demand board ------------------------------------------------------------------------------

    /// @notice Posts a demand: a need described off chain (`descriptionHash`, `uri`), with a `budget` in
    /// `token` and a `deadline` for answers and acceptances. Nothing is escrowed until an answer is accepted.
    /// Requirements:
    /// - `descriptionHash` is not zero; `token` is not zero; `budget` is not zero; `deadline` is in the future.
    /// Emits a {DemandPosted} event.
    function postDemand(bytes32 descriptionHash, string calldata uri, address token, uint256 budget, uint40 deadline)
        external
        returns (uint256 demandId);

    /// @notice Closes a demand: no more answers or acceptances (offers it opened stay).
    /// Requirements:
    /// - the caller is the poster; the demand is not closed.
    /// Emits a {DemandClosed} event.
    function closeDemand(uint256 demandId) external;

    /// @notice Answers a demand with the caller's asset at `price` (in the demand's token).
    /// Requirements:
    /// - the demand is open (not closed, before its deadline); the caller is not its poster;
    /// - the caller owns the asset; the asset is not frozen; `price` is not zero and within the budget.
    /// Emits a {DemandAnswered} event.
    function answerDemand(uint256 demandId, uint256 assetId, uint256 price) external returns (uint256 answerId);

    /// @notice Withdraws an answer.
    /// Requirements:
    /// - the caller is the answerer; the answer is open.
    /// Emits an {AnswerWithdrawn} event.
    function withdrawAnswer(uint256 answerId) external;

    /// @notice Accepts an answer: the answer's price moves from the caller into escrow as an offer for the
    /// answer's asset to the answerer, open until `expiry`; the answerer completes the sale with
    /// {acceptOffer}, or the caller withdraws the offer once it expired, was refused or became void.
    /// Requirements:
    /// - the caller is the demand's poster; the demand and the answer are open;
    /// - the answerer still owns the asset; it is not frozen; `expiry` is in the future;
    /// - the caller approved the Marketplace for the price; the token delivers exactly.
    /// Emits an {AnswerAccepted} and an {OfferMade} event.
    function acceptAnswer(uint256 answerId, uint40 expiry) external returns (uint256 offerId);

    // -- admin -------------------------------------------------------------------------------------

    /// @notice Sets the protocol fee: `feeBps` basis points of the sales of listings and offers made
    /// from now on (here and in the {ILicenseMarket}) go to `treasury`; open listings and offers keep
    /// the fee they were made with, or pay this one if it is lower.
    /// Requirements:
    /// - the caller holds DEFAULT_ADMIN_ROLE in the IPRegistry; `feeBps` is at most {MAX_FEE_BPS};
    /// - `treasury` is not zero unless `feeBps` is zero.
    /// Emits a {FeeSet} event.
    function setFee(address treasury, uint16 feeBps) external;

    // -- views -------------------------------------------------------------------------------------

    /// @notice The listing, with its status as of now; reverts with {MarketplaceUnknownListing} if none.
    function listingOf(uint256 listingId) external view returns (Listing memory);

    /// @notice The open listings with ids in [fromId, toId) (bounded by the latest id), oldest first.
    function openListings(uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, Listing[] memory listings);

    /// @notice The asset's latest listing (0: never listed); see {listingOf} for its status.
    function listingOfAsset(uint256 assetId) external view returns (uint256);

    /// @notice The offer, with its status as of now; reverts with {MarketplaceUnknownOffer} if none.
    function offerOf(uint256 offerId) external view returns (Offer memory);

    /// @notice The open offers (acceptable now) with ids in [fromId, toId), oldest first.
    function openOffers(uint256 fromId, uint256 toId) external view returns (uint256[] memory ids, Offer[] memory offers);

    /// @notice The demand, with its status as of now; reverts with {MarketplaceUnknownDemand} if none.
    function demandOf(uint256 demandId) external view returns (Demand memory);

    /// @notice The open demands with ids in [fromId, toId), oldest first.
    function openDemands(uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, Demand[] memory demands);

    /// @notice The answer; reverts with {MarketplaceUnknownAnswer} if none.
    function answerOf(uint256 answerId) external view returns (Answer memory);

    /// @notice The open answers to `demandId` with answer ids in [fromId, toId), oldest first.
    function openAnswers(uint256 demandId, uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, Answer[] memory answers);

    /// @notice The latest id of each board (ids start at 1).
    function counts() external view returns (uint256 listings, uint256 offers, uint256 demands, uint256 answers);

    /// @notice The units of `token` held in escrow: the sum of the amounts of offers not yet accepted
    /// or withdrawn (open, refused, expired or void).
    function escrowOf(address token) external view returns (uint256);

    /// @notice The protocol fee: `feeBps` basis points of every sale go to `treasury`.
    function fee() external view returns (address treasury, uint16 feeBps);

    /// @notice The highest protocol fee the admin may set (10%).
    function MAX_FEE_BPS() external view returns (uint16);
}
