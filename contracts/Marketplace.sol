// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {IMarketplace} from "./interfaces/IMarketplace.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";
import {MarketBase} from "./MarketBase.sol";

/// @title Marketplace
/// @notice Asset listings, escrowed offers and the demand board (see {IMarketplace}); one contract,
/// so that an accepted demand answer is an ordinary escrowed offer. Assets move only through the
/// IPRegistry's `safeTransferFrom`, so its transfer guard (freeze, pledge consent) is the one place
/// that decides whether an asset may move; this contract's own checks make a stale listing or offer
/// fail early with a clear error. Money moves only after the record is written, and every payment
/// is checked by the recipient's balance before and after. The escrow of each token is accounted
/// for in {escrowOf}: the sum of the amounts of the offers not yet accepted or withdrawn.
contract Marketplace is IMarketplace, MarketBase {
    using SafeERC20 for IERC20;

    /// @inheritdoc IMarketplace
    uint16 public constant MAX_FEE_BPS = 1_000;

    mapping(uint256 listingId => Listing) private _listings;
    mapping(uint256 assetId => uint256 listingId) private _listingOfAsset;
    mapping(uint256 offerId => Offer) private _offers;
    mapping(uint256 demandId => Demand) private _demands;
    mapping(uint256 answerId => Answer) private _answers;
    mapping(address token => uint256 amount) private _escrow;
    uint256 private _listingCount;
    uint256 private _offerCount;
    uint256 private _demandCount;
    uint256 private _answerCount;
    address private _treasury;
    uint16 private _feeBps;

    /// @param trustedForwarder The IpledgerForwarder that relays users' signed requests.
    constructor(address trustedForwarder, IIPRegistry registry_, IPledgeRegistry pledges_)
        MarketBase(trustedForwarder, registry_, pledges_)
    {}

    // -- listings ----------------------------------------------------------------------------------

    /// @inheritdoc IMarketplace
    function listAsset(uint256 assetId, address token, uint256 price, uint40 expiry, address buyer)
        external
        nonReentrant
        returns (uint256 listingId)
    {
        address seller = _msgSender();
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != seller) revert MarketplaceNotOwner(assetId, seller);
        if (IERC721(address(registry)).getApproved(assetId) != address(this)) {
            revert MarketplaceTransferNotApproved(assetId);
        }
        _requireTerms(token, price, expiry);
        if (buyer == seller) revert MarketplaceInvalidCounterparty(seller);
        if (asset.frozenUntil > block.timestamp) revert MarketplaceAssetFrozen(assetId, asset.frozenUntil);
        uint256 pledgeId = pledges.activePledgeOf(assetId);
        if (pledgeId != 0 && (buyer == address(0) || pledges.transferConsentOf(pledgeId) != buyer)) {
            revert MarketplacePledgeeNotConsented(assetId, pledgeId, buyer);
        }

        uint256 previous = _listingOfAsset[assetId];
        if (previous != 0 && _listings[previous].status == ListingStatus.Open) {
            _listings[previous].status = ListingStatus.Cancelled;
            emit ListingCancelled(previous, assetId, seller);
        }
        listingId = ++_listingCount;
        uint16 feeBps = _feeBps;
        _listings[listingId] = Listing(
            seller,
            SafeCast.toUint64(assetId),
            ListingStatus.Open,
            feeBps,
            token,
            expiry,
            0,
            price,
            buyer,
            SafeCast.toUint64(pledgeId),
            SafeCast.toUint32(registry.transferCountOf(assetId))
        );
        _listingOfAsset[assetId] = listingId;
        emit AssetListed(listingId, assetId, seller, token, price, expiry, buyer, pledgeId, feeBps);
    }

    /// @inheritdoc IMarketplace
    function updateListing(uint256 listingId, uint256 price, uint40 expiry) external nonReentrant {
        Listing storage listing = _existingListing(listingId);
        _requireSeller(listing.seller, listingId);
        if (listing.status != ListingStatus.Open || listing.expiry <= block.timestamp) {
            revert MarketplaceListingNotOpen(listingId, _listingStatus(listing));
        }
        if (price == 0) revert MarketplaceZeroAmount();
        if (expiry <= block.timestamp) revert MarketplaceInvalidExpiry(expiry);
        uint32 nonce = listing.nonce + 1;
        listing.price = price;
        listing.expiry = expiry;
        listing.nonce = nonce;
        emit ListingUpdated(listingId, price, expiry, nonce);
    }

    /// @inheritdoc IMarketplace
    function cancelListing(uint256 listingId) external nonReentrant {
        Listing storage listing = _existingListing(listingId);
        address seller = _requireSeller(listing.seller, listingId);
        if (listing.status != ListingStatus.Open) revert MarketplaceListingNotOpen(listingId, listing.status);
        listing.status = ListingStatus.Cancelled;
        emit ListingCancelled(listingId, listing.assetId, seller);
    }

    /// @inheritdoc IMarketplace
    function buy(uint256 listingId, uint256 price, uint256 nonce) external nonReentrant {
        Listing storage listing = _existingListing(listingId);
        ListingStatus status = listing.status;
        if (status != ListingStatus.Open) revert MarketplaceListingNotOpen(listingId, status);
        if (listing.expiry <= block.timestamp) revert MarketplaceListingNotOpen(listingId, ListingStatus.Expired);
        if (listing.price != price || listing.nonce != nonce) {
            revert MarketplacePriceChanged(listingId, listing.price, listing.nonce);
        }
        address buyer = _msgSender();
        address reserved = listing.buyer;
        if (reserved != address(0) && reserved != buyer) revert MarketplaceReservedListing(listingId, reserved);
        address seller = listing.seller;
        if (buyer == seller) revert MarketplaceInvalidCounterparty(buyer);
        uint256 assetId = listing.assetId;
        _revertIf(_obstacle(assetId, seller, listing.pledgeId, listing.transfers));

        listing.status = ListingStatus.Sold;
        address token = listing.token;
        uint256 cut = price * _feeAt(listing.feeBps) / _BPS;
        emit AssetSold(listingId, assetId, buyer, seller, token, price, cut);

        _settle(IERC20(token), buyer, seller, price, _treasury, cut);
        IERC721(address(registry)).safeTransferFrom(seller, buyer, assetId);
    }

    // -- offers ------------------------------------------------------------------------------------

    /// @inheritdoc IMarketplace
    function makeOffer(uint256 assetId, address token, uint256 amount, uint40 expiry)
        external
        nonReentrant
        returns (uint256 offerId)
    {
        address buyer = _msgSender();
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner == buyer) revert MarketplaceInvalidCounterparty(buyer);
        _requireTerms(token, amount, expiry);
        if (asset.frozenUntil > block.timestamp) revert MarketplaceAssetFrozen(assetId, asset.frozenUntil);
        offerId = _recordOffer(buyer, asset.owner, assetId, token, amount, expiry);
        _transferExactly(IERC20(token), buyer, address(this), amount);
    }

    /// @inheritdoc IMarketplace
    function acceptOffer(uint256 offerId) external nonReentrant {
        Offer storage offer = _existingOffer(offerId);
        address seller = _requireSeller(offer.seller, offerId);
        if (offer.status != OfferStatus.Open) revert MarketplaceOfferNotOpen(offerId, offer.status);
        if (offer.expiry <= block.timestamp) revert MarketplaceOfferNotOpen(offerId, OfferStatus.Expired);
        uint256 assetId = offer.assetId;
        _revertIf(_obstacle(assetId, seller, offer.pledgeId, _UNCOUNTED));

        offer.status = OfferStatus.Accepted;
        address token = offer.token;
        address buyer = offer.buyer;
        uint256 amount = offer.amount;
        _escrow[token] -= amount;
        uint256 cut = amount * _feeAt(offer.feeBps) / _BPS;
        emit OfferAccepted(offerId, assetId, buyer, seller, amount, cut);

        _settle(IERC20(token), address(this), seller, amount, _treasury, cut);
        IERC721(address(registry)).safeTransferFrom(seller, buyer, assetId);
    }

    /// @inheritdoc IMarketplace
    function refuseOffer(uint256 offerId) external nonReentrant {
        Offer storage offer = _existingOffer(offerId);
        address seller = _requireSeller(offer.seller, offerId);
        if (offer.status != OfferStatus.Open) revert MarketplaceOfferNotOpen(offerId, offer.status);
        offer.status = OfferStatus.Refused;
        emit OfferRefused(offerId, offer.assetId, seller);
    }

    /// @inheritdoc IMarketplace
    function withdrawOffer(uint256 offerId) external nonReentrant {
        Offer storage offer = _existingOffer(offerId);
        address buyer = offer.buyer;
        address caller = _msgSender();
        if (caller != buyer) revert MarketplaceNotBuyer(offerId, caller);
        OfferStatus status = offer.status;
        uint256 assetId = offer.assetId;
        if (status == OfferStatus.Open) {
            // Expiry first: an expired offer is withdrawn without asking the registries anything.
            if (
                offer.expiry > block.timestamp
                    && _obstacle(assetId, offer.seller, offer.pledgeId, _UNCOUNTED).length == 0
            ) revert MarketplaceOfferStillOpen(offerId, offer.expiry);
        } else if (status != OfferStatus.Refused) {
            revert MarketplaceOfferNotOpen(offerId, status);
        }

        offer.status = OfferStatus.Withdrawn;
        address token = offer.token;
        uint256 amount = offer.amount;
        _escrow[token] -= amount;
        emit OfferWithdrawn(offerId, assetId, buyer, amount);

        // No exactness check on the way back: a refund must never be stuck.
        IERC20(token).safeTransfer(buyer, amount);
    }

    // -- demand board ------------------------------------------------------------------------------

    /// @inheritdoc IMarketplace
    function postDemand(bytes32 descriptionHash, string calldata uri, address token, uint256 budget, uint40 deadline)
        external
        nonReentrant
        returns (uint256 demandId)
    {
        if (descriptionHash == bytes32(0)) revert MarketplaceZeroHash();
        _requireTerms(token, budget, deadline);
        address poster = _msgSender();
        demandId = ++_demandCount;
        _demands[demandId] = Demand(poster, deadline, DemandStatus.Open, token, budget, descriptionHash);
        emit DemandPosted(demandId, poster, token, budget, deadline, descriptionHash, uri);
    }

    /// @inheritdoc IMarketplace
    function closeDemand(uint256 demandId) external nonReentrant {
        Demand storage demand = _posterDemand(demandId);
        if (demand.status != DemandStatus.Open) revert MarketplaceDemandNotOpen(demandId, demand.status);
        demand.status = DemandStatus.Closed;
        emit DemandClosed(demandId, demand.poster);
    }

    /// @inheritdoc IMarketplace
    function answerDemand(uint256 demandId, uint256 assetId, uint256 price)
        external
        nonReentrant
        returns (uint256 answerId)
    {
        Demand storage demand = _openDemand(demandId);
        address answerer = _msgSender();
        if (answerer == demand.poster) revert MarketplaceInvalidCounterparty(answerer);
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != answerer) revert MarketplaceNotOwner(assetId, answerer);
        if (asset.frozenUntil > block.timestamp) revert MarketplaceAssetFrozen(assetId, asset.frozenUntil);
        if (price == 0) revert MarketplaceZeroAmount();
        if (price > demand.budget) revert MarketplaceOverBudget(demandId, price, demand.budget);
        answerId = ++_answerCount;
        _answers[answerId] =
            Answer(answerer, SafeCast.toUint64(demandId), AnswerStatus.Open, SafeCast.toUint64(assetId), price);
        emit DemandAnswered(answerId, demandId, assetId, answerer, price);
    }

    /// @inheritdoc IMarketplace
    function withdrawAnswer(uint256 answerId) external nonReentrant {
        Answer storage answer = _existingAnswer(answerId);
        address answerer = _requireSeller(answer.answerer, answerId);
        if (answer.status != AnswerStatus.Open) revert MarketplaceAnswerNotOpen(answerId, answer.status);
        answer.status = AnswerStatus.Withdrawn;
        emit AnswerWithdrawn(answerId, answer.demandId, answerer);
    }

    /// @inheritdoc IMarketplace
    function acceptAnswer(uint256 answerId, uint40 expiry) external nonReentrant returns (uint256 offerId) {
        Answer storage answer = _existingAnswer(answerId);
        uint256 demandId = answer.demandId;
        Demand storage demand = _posterDemand(demandId);
        _openDemand(demandId);
        if (answer.status != AnswerStatus.Open) revert MarketplaceAnswerNotOpen(answerId, answer.status);
        if (expiry <= block.timestamp) revert MarketplaceInvalidExpiry(expiry);
        uint256 assetId = answer.assetId;
        address answerer = answer.answerer;
        {
            IIPRegistry.Asset memory asset = registry.assetOf(assetId);
            if (asset.owner != answerer) revert MarketplaceAssetChangedHands(assetId, answerer, asset.owner);
            if (asset.frozenUntil > block.timestamp) revert MarketplaceAssetFrozen(assetId, asset.frozenUntil);
        }

        answer.status = AnswerStatus.Accepted;
        offerId = _recordOffer(demand.poster, answerer, assetId, demand.token, answer.price, expiry);
        emit AnswerAccepted(answerId, demandId, offerId);
        _transferExactly(IERC20(demand.token), demand.poster, address(this), answer.price);
    }

    // -- admin -------------------------------------------------------------------------------------

    /// @inheritdoc IMarketplace
    function setFee(address treasury, uint16 feeBps) external nonReentrant {
        address caller = _msgSender();
        if (!IAccessControl(address(registry)).hasRole(bytes32(0), caller)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(caller, bytes32(0));
        }
        if (feeBps > MAX_FEE_BPS) revert MarketplaceInvalidFee(feeBps, MAX_FEE_BPS);
        if (treasury == address(0) && feeBps != 0) revert MarketplaceZeroAddress();
        _treasury = treasury;
        _feeBps = feeBps;
        emit FeeSet(treasury, feeBps);
    }

    // -- views -------------------------------------------------------------------------------------

    /// @inheritdoc IMarketplace
    function listingOf(uint256 listingId) external view returns (Listing memory listing) {
        Listing storage stored = _existingListing(listingId);
        listing = stored;
        listing.status = _listingStatus(stored);
    }

    /// @inheritdoc IMarketplace
    function openListings(uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, Listing[] memory listings)
    {
        (fromId, toId) = _range(fromId, toId, _listingCount);
        ids = new uint256[](toId - fromId);
        listings = new Listing[](toId - fromId);
        uint256 n;
        for (uint256 id = fromId; id < toId; ++id) {
            Listing storage stored = _listings[id];
            if (_listingStatus(stored) != ListingStatus.Open) continue;
            ids[n] = id;
            listings[n] = stored;
            ++n;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
            mstore(listings, n)
        }
    }

    /// @inheritdoc IMarketplace
    function listingOfAsset(uint256 assetId) external view returns (uint256) {
        return _listingOfAsset[assetId];
    }

    /// @inheritdoc IMarketplace
    function offerOf(uint256 offerId) external view returns (Offer memory offer) {
        Offer storage stored = _existingOffer(offerId);
        offer = stored;
        offer.status = _offerStatus(stored);
    }

    /// @inheritdoc IMarketplace
    function openOffers(uint256 fromId, uint256 toId) external view returns (uint256[] memory ids, Offer[] memory offers) {
        (fromId, toId) = _range(fromId, toId, _offerCount);
        ids = new uint256[](toId - fromId);
        offers = new Offer[](toId - fromId);
        uint256 n;
        for (uint256 id = fromId; id < toId; ++id) {
            Offer storage stored = _offers[id];
            if (_offerStatus(stored) != OfferStatus.Open) continue;
            ids[n] = id;
            offers[n] = stored;
            ++n;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
            mstore(offers, n)
        }
    }

    /// @inheritdoc IMarketplace
    function demandOf(uint256 demandId) external view returns (Demand memory demand) {
        Demand storage stored = _demands[demandId];
        if (stored.status == DemandStatus.None) revert MarketplaceUnknownDemand(demandId);
        demand = stored;
        demand.status = _demandStatus(stored);
    }

    /// @inheritdoc IMarketplace
    function openDemands(uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, Demand[] memory demands)
    {
        (fromId, toId) = _range(fromId, toId, _demandCount);
        ids = new uint256[](toId - fromId);
        demands = new Demand[](toId - fromId);
        uint256 n;
        for (uint256 id = fromId; id < toId; ++id) {
            Demand storage stored = _demands[id];
            if (_demandStatus(stored) != DemandStatus.Open) continue;
            ids[n] = id;
            demands[n] = stored;
            ++n;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
            mstore(demands, n)
        }
    }

    /// @inheritdoc IMarketplace
    function answerOf(uint256 answerId) external view returns (Answer memory) {
        return _existingAnswer(answerId);
    }

    /// @inheritdoc IMarketplace
    function openAnswers(uint256 demandId, uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, Answer[] memory answers)
    {
        (fromId, toId) = _range(fromId, toId, _answerCount);
        ids = new uint256[](toId - fromId);
        answers = new Answer[](toId - fromId);
        uint256 n;
        for (uint256 id = fromId; id < toId; ++id) {
            Answer storage stored = _answers[id];
            if (stored.demandId != demandId || stored.status != AnswerStatus.Open) continue;
            ids[n] = id;
            answers[n] = stored;
            ++n;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
            mstore(answers, n)
        }
    }

    /// @inheritdoc IMarketplace
    function counts() external view returns (uint256 listings, uint256 offers, uint256 demands, uint256 answers) {
        return (_listingCount, _offerCount, _demandCount, _answerCount);
    }

    /// @inheritdoc IMarketplace
    function escrowOf(address token) external view returns (uint256) {
        return _escrow[token];
    }

    /// @inheritdoc IMarketplace
    function fee() external view returns (address treasury, uint16 feeBps) {
        return (_treasury, _feeBps);
    }

    // -- private -----------------------------------------------------------------------------------

    /// @dev Why a sale by `seller` cannot happen now (see {MarketBase-_assetObstacle}); a listing
    /// (`transfers` is the transfer count it recorded, not {_UNCOUNTED}) also needs the Marketplace's
    /// ERC-721 approval for the asset.
    function _obstacle(uint256 assetId, address seller, uint256 pledgeId, uint256 transfers)
        private
        view
        returns (bytes memory reason)
    {
        reason = _assetObstacle(assetId, seller, pledgeId, transfers);
        if (
            reason.length == 0 && transfers != _UNCOUNTED
                && IERC721(address(registry)).getApproved(assetId) != address(this)
        ) reason = abi.encodeWithSelector(MarketplaceTransferNotApproved.selector, assetId);
    }

    /// @dev Records an open offer and its escrow; the caller then collects the amount.
    function _recordOffer(address buyer, address seller, uint256 assetId, address token, uint256 amount, uint40 expiry)
        private
        returns (uint256 offerId)
    {
        uint256 pledgeId = pledges.activePledgeOf(assetId);
        uint16 feeBps = _feeBps;
        offerId = ++_offerCount;
        _offers[offerId] = Offer(
            buyer,
            expiry,
            OfferStatus.Open,
            feeBps,
            seller,
            SafeCast.toUint64(assetId),
            token,
            SafeCast.toUint64(pledgeId),
            amount
        );
        _escrow[token] += amount;
        emit OfferMade(offerId, assetId, buyer, seller, token, amount, expiry, pledgeId, feeBps);
    }

    /// @dev The fee a sale pays, in basis points: the lower of `fixedBps` (the fee when its listing or
    /// offer was made) and the fee now.
    function _feeAt(uint16 fixedBps) private view returns (uint256) {
        uint16 current = _feeBps;
        return current < fixedBps ? current : fixedBps;
    }

    function _listingStatus(Listing storage listing) private view returns (ListingStatus status) {
        status = listing.status;
        if (status != ListingStatus.Open) return status;
        if (listing.expiry <= block.timestamp) return ListingStatus.Expired;
        if (_obstacle(listing.assetId, listing.seller, listing.pledgeId, listing.transfers).length != 0) {
            return ListingStatus.Void;
        }
    }

    function _offerStatus(Offer storage offer) private view returns (OfferStatus status) {
        status = offer.status;
        if (status != OfferStatus.Open) return status;
        if (offer.expiry <= block.timestamp) return OfferStatus.Expired;
        if (_obstacle(offer.assetId, offer.seller, offer.pledgeId, _UNCOUNTED).length != 0) return OfferStatus.Void;
    }

    function _demandStatus(Demand storage demand) private view returns (DemandStatus status) {
        status = demand.status;
        if (status == DemandStatus.Open && demand.deadline <= block.timestamp) return DemandStatus.Expired;
    }

    function _existingListing(uint256 listingId) private view returns (Listing storage listing) {
        listing = _listings[listingId];
        if (listing.status == ListingStatus.None) revert MarketplaceUnknownListing(listingId);
    }

    function _existingOffer(uint256 offerId) private view returns (Offer storage offer) {
        offer = _offers[offerId];
        if (offer.status == OfferStatus.None) revert MarketplaceUnknownOffer(offerId);
    }

    function _existingAnswer(uint256 answerId) private view returns (Answer storage answer) {
        answer = _answers[answerId];
        if (answer.status == AnswerStatus.None) revert MarketplaceUnknownAnswer(answerId);
    }

    /// @dev The demand, if the caller is its poster.
    function _posterDemand(uint256 demandId) private view returns (Demand storage demand) {
        demand = _demands[demandId];
        if (demand.status == DemandStatus.None) revert MarketplaceUnknownDemand(demandId);
        address caller = _msgSender();
        if (caller != demand.poster) revert MarketplaceNotPoster(demandId, caller);
    }

    /// @dev The demand, if it is open now (not closed, before its deadline).
    function _openDemand(uint256 demandId) private view returns (Demand storage demand) {
        demand = _demands[demandId];
        DemandStatus status = _demandStatus(demand);
        if (status == DemandStatus.None) revert MarketplaceUnknownDemand(demandId);
        if (status != DemandStatus.Open) revert MarketplaceDemandNotOpen(demandId, status);
    }
}
