// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {ILicenseMarket} from "./interfaces/ILicenseMarket.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {IMarketplace} from "./interfaces/IMarketplace.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";
import {MarketBase} from "./MarketBase.sol";
import {Codes} from "./types/Codes.sol";

/// @title LicenseMarket
/// @notice The market's license board (see {ILicenseMarket}): license listings whose purchase pays
/// the seller and has the LicenseRegistry grant the buyer an active license in one transaction. The
/// LicenseRegistry decides every license rule in {ILicenseRegistry-grant}; this contract holds no
/// money (payments go from the buyer straight to the seller and the treasury) and charges the
/// {Marketplace}'s protocol fee, so the admin sets one fee for the whole market.
contract LicenseMarket is ILicenseMarket, MarketBase {
    /// @notice The license registry, which grants the licenses sold here.
    ILicenseRegistry public immutable licenses;
    /// @notice The Marketplace, whose protocol fee applies here too.
    IMarketplace public immutable marketplace;

    mapping(uint256 listingId => LicenseListing) private _listings;
    uint256 private _listingCount;

    /// @param trustedForwarder The IpledgerForwarder that relays users' signed requests.
    constructor(
        address trustedForwarder,
        IIPRegistry registry_,
        IPledgeRegistry pledges_,
        ILicenseRegistry licenses_,
        IMarketplace marketplace_
    ) MarketBase(trustedForwarder, registry_, pledges_) {
        licenses = licenses_;
        marketplace = marketplace_;
    }

    /// @inheritdoc ILicenseMarket
    function listLicense(
        uint256 assetId,
        ILicenseRegistry.LicenseTerms calldata terms,
        address token,
        uint256 price,
        uint256 supply,
        uint40 expiry
    ) external nonReentrant returns (uint256 listingId) {
        address seller = _msgSender();
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != seller) revert MarketplaceNotOwner(assetId, seller);
        (bool approved, uint256 epoch) = licenses.operatorOf(seller, address(this));
        if (!approved) revert MarketplaceLicensingNotApproved(seller);
        _requireTerms(token, price, expiry);
        if (terms.licensee != address(0)) revert MarketplaceInvalidLicensee(terms.licensee);
        if (terms.start >= terms.end || terms.end <= block.timestamp) {
            revert MarketplaceInvalidTerm(terms.start, terms.end);
        }
        // The registry's own rule, checked when listing: a listing it would refuse could never be sold.
        if (!Codes.isCanonicalTerritory(terms.territory)) {
            revert ILicenseRegistry.LicenseRegistryNonCanonicalTerritory(terms.territory);
        }
        if (!Codes.isCanonicalField(terms.fieldOfUse)) {
            revert ILicenseRegistry.LicenseRegistryNonCanonicalField(terms.fieldOfUse);
        }
        if (
            supply == 0 || supply > type(uint16).max
                || (supply != 1 && terms.kind != ILicenseRegistry.LicenseKind.NonExclusive)
        ) revert MarketplaceInvalidSupply(supply);
        if (asset.frozenUntil > block.timestamp) revert MarketplaceAssetFrozen(assetId, asset.frozenUntil);

        listingId = ++_listingCount;
        LicenseListing storage listing = _listings[listingId];
        listing.seller = seller;
        listing.assetId = SafeCast.toUint64(assetId);
        listing.status = ListingStatus.Open;
        listing.token = token;
        listing.expiry = expiry;
        listing.price = price;
        listing.pledgeId = SafeCast.toUint64(pledges.activePledgeOf(assetId));
        listing.supply = uint16(supply);
        listing.transfers = SafeCast.toUint32(registry.transferCountOf(assetId));
        listing.operatorEpoch = SafeCast.toUint64(epoch);
        (address treasury, uint16 feeBps) = marketplace.fee();
        listing.feeBps = treasury == address(0) ? 0 : feeBps; // (a fee needs a treasury: setFee's rule)
        listing.terms = terms;
        _emitLicenseListed(listingId, listing, terms);
    }

    /// @inheritdoc ILicenseMarket
    function updateLicenseListing(uint256 listingId, uint256 price, uint40 expiry) external nonReentrant {
        LicenseListing storage listing = _existing(listingId);
        _requireSeller(listing.seller, listingId);
        if (listing.status != ListingStatus.Open || listing.expiry <= block.timestamp) {
            revert MarketplaceListingNotOpen(listingId, _statusOf(listing));
        }
        if (price == 0) revert MarketplaceZeroAmount();
        if (expiry <= block.timestamp) revert MarketplaceInvalidExpiry(expiry);
        uint32 nonce = listing.nonce + 1;
        listing.price = price;
        listing.expiry = expiry;
        listing.nonce = nonce;
        emit LicenseListingUpdated(listingId, price, expiry, nonce);
    }

    /// @inheritdoc ILicenseMarket
    function cancelLicenseListing(uint256 listingId) external nonReentrant {
        LicenseListing storage listing = _existing(listingId);
        address seller = _requireSeller(listing.seller, listingId);
        if (listing.status != ListingStatus.Open) revert MarketplaceListingNotOpen(listingId, listing.status);
        listing.status = ListingStatus.Cancelled;
        emit LicenseListingCancelled(listingId, listing.assetId, seller);
    }

    /// @inheritdoc ILicenseMarket
    function buyLicense(uint256 listingId, uint256 price, uint256 nonce)
        external
        nonReentrant
        returns (uint256 licenseId)
    {
        LicenseListing storage listing = _existing(listingId);
        {
            ListingStatus status = listing.status;
            if (status != ListingStatus.Open) revert MarketplaceListingNotOpen(listingId, status);
            if (listing.expiry <= block.timestamp) revert MarketplaceListingNotOpen(listingId, ListingStatus.Expired);
            if (listing.price != price || listing.nonce != nonce) {
                revert MarketplacePriceChanged(listingId, listing.price, listing.nonce);
            }
        }
        address buyer = _msgSender();
        address seller = listing.seller;
        if (buyer == seller) revert MarketplaceInvalidCounterparty(buyer);
        uint256 assetId = listing.assetId;
        _revertIf(_obstacle(listing));

        licenseId = _grant(listing, assetId, buyer);
        _pay(listingId, licenseId, buyer, price);
    }

    /// @inheritdoc ILicenseMarket
    function licenseListingOf(uint256 listingId) external view returns (LicenseListing memory listing) {
        LicenseListing storage stored = _existing(listingId);
        listing = stored;
        listing.status = _statusOf(stored);
    }

    /// @inheritdoc ILicenseMarket
    function openLicenseListings(uint256 fromId, uint256 toId)
        external
        view
        returns (uint256[] memory ids, LicenseListing[] memory listings)
    {
        (fromId, toId) = _range(fromId, toId, _listingCount);
        ids = new uint256[](toId - fromId);
        listings = new LicenseListing[](toId - fromId);
        uint256 n;
        for (uint256 id = fromId; id < toId; ++id) {
            LicenseListing storage stored = _listings[id];
            if (_statusOf(stored) != ListingStatus.Open) continue;
            ids[n] = id;
            listings[n] = stored;
            ++n;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
            mstore(listings, n)
        }
    }

    /// @inheritdoc ILicenseMarket
    function licenseListingCount() external view returns (uint256) {
        return _listingCount;
    }

    // -- private -----------------------------------------------------------------------------------

    /// @dev Counts one more license sold (closing the listing at its supply), then has the
    /// LicenseRegistry grant it to `buyer`. The LicenseRegistry is trusted: it applies every license
    /// rule and calls only the other registries.
    function _grant(LicenseListing storage listing, uint256 assetId, address buyer) private returns (uint256) {
        uint16 sold = listing.sold + 1;
        listing.sold = sold;
        if (sold == listing.supply) listing.status = ListingStatus.Sold;
        ILicenseRegistry.LicenseTerms memory terms = listing.terms;
        terms.licensee = buyer;
        return licenses.grant(assetId, terms);
    }

    /// @dev Emits {LicenseSold}, then pays `price` from the buyer: the Marketplace's fee to its
    /// treasury, the rest to the seller.
    function _pay(uint256 listingId, uint256 licenseId, address buyer, uint256 price) private {
        LicenseListing storage listing = _listings[listingId];
        (address treasury, uint256 fee) = _feeOf(price, listing.feeBps);
        address seller = listing.seller;
        address token = listing.token;
        emit LicenseSold(listingId, licenseId, buyer, listing.assetId, seller, token, price, fee);
        _settle(IERC20(token), buyer, seller, price, treasury, fee);
    }

    /// @dev The treasury now and the fee of a sale at `price`: the lower of `fixedBps` (the listing's)
    /// and the Marketplace's fee now.
    function _feeOf(uint256 price, uint16 fixedBps) private view returns (address treasury, uint256 fee) {
        uint16 feeBps;
        (treasury, feeBps) = marketplace.fee();
        fee = price * (feeBps < fixedBps ? feeBps : fixedBps) / _BPS;
    }

    /// @dev Why a license sale of `listing` cannot happen now (see {MarketBase-_assetObstacle}: the
    /// seller no longer owns the asset, or it moved since listed, ...), or that the seller revoked this
    /// contract as its licensing operator since (even if it approved it again).
    function _obstacle(LicenseListing storage listing) private view returns (bytes memory reason) {
        address seller = listing.seller;
        reason = _assetObstacle(listing.assetId, seller, listing.pledgeId, listing.transfers);
        if (reason.length != 0) return reason;
        (bool approved, uint256 epoch) = licenses.operatorOf(seller, address(this));
        if (!approved || epoch != listing.operatorEpoch) {
            reason = abi.encodeWithSelector(
                MarketplaceLicensingApprovalChanged.selector, seller, listing.operatorEpoch, epoch
            );
        }
    }

    function _statusOf(LicenseListing storage listing) private view returns (ListingStatus status) {
        status = listing.status;
        if (status != ListingStatus.Open) return status;
        if (listing.expiry <= block.timestamp) return ListingStatus.Expired;
        if (_obstacle(listing).length != 0) return ListingStatus.Void;
    }

    function _existing(uint256 listingId) private view returns (LicenseListing storage listing) {
        listing = _listings[listingId];
        if (listing.status == ListingStatus.None) revert MarketplaceUnknownLicenseListing(listingId);
    }

    /// @dev {LicenseListed} from the stored listing (a function of its own for the stack's sake).
    function _emitLicenseListed(uint256 listingId, LicenseListing storage listing, ILicenseRegistry.LicenseTerms calldata terms)
        private
    {
        emit LicenseListed(
            listingId,
            listing.assetId,
            listing.seller,
            listing.token,
            listing.price,
            listing.supply,
            listing.expiry,
            listing.pledgeId,
            listing.feeBps,
            terms
        );
    }
}
