// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IIPRegistry} from "../../../contracts/interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "../../../contracts/interfaces/ILicenseRegistry.sol";
import {IMarketplace} from "../../../contracts/interfaces/IMarketplace.sol";
import {IMarketplaceBase} from "../../../contracts/interfaces/IMarketplaceBase.sol";
import {IPledgeRegistry} from "../../../contracts/interfaces/IPledgeRegistry.sol";
import {ITimestampRegistry} from "../../../contracts/interfaces/ITimestampRegistry.sol";
import {Suite} from "../utils/Suite.sol";
import {LedgerHandler} from "./LedgerHandler.sol";

/// @notice The rules a bank relies on, as invariants over random sequences of acts by random
/// parties (see {LedgerHandler}). Depth and runs are in foundry.toml (CI: 256 x 100; the `deep`
/// profile goes further: `FOUNDRY_PROFILE=deep`).
contract LedgerInvariantsTest is Suite {
    LedgerHandler internal handler;

    function setUp() public {
        deploySuite();
        deployMarket();
        handler = new LedgerHandler(registry, pledges, licenses, stamps, market, token);
    }

    /// @dev Forge fuzzes only the handler (read by forge as forge-std's StdInvariant would expose it).
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice A pledged or frozen asset's owner changes only by enforcement (or, for a pledged asset,
    /// with the pledgee's consent for that recipient); nobody moves what they do not own. This covers
    /// the market too: a listing sale or an accepted offer never moves a frozen asset, nor a pledged
    /// one without its pledgee's consent for that buyer.
    function invariant_pledgedOrFrozenAssetMovesOnlyByEnforcement() public {
        _sync();
        _noViolation("moves");
        uint256 count = registry.assetCount();
        for (uint256 assetId = 1; assetId <= count; ++assetId) {
            require(registry.ownerOf(assetId) == handler.expectedOwner(assetId), "an asset's owner drifted from the rules");
        }
    }

    /// @notice At most one active pledge per asset, and it is the one the registry reports; every
    /// pledge moved only along the transitions its parties may make (only the pledgee accepts,
    /// releases or enforces, and enforces only after maturity).
    function invariant_atMostOneActivePledgePerAsset() public {
        _sync();
        _noViolation("pledges");
        uint256 assets = registry.assetCount();
        uint256 count = pledges.pledgeCount();
        uint256[] memory active = new uint256[](assets + 1);
        for (uint256 pledgeId = 1; pledgeId <= count; ++pledgeId) {
            IPledgeRegistry.Pledge memory pledge = pledges.pledgeOf(pledgeId);
            require(uint8(pledge.status) == handler.expectedPledgeStatus(pledgeId), "a pledge left its lifecycle");
            if (pledge.status != IPledgeRegistry.PledgeStatus.Active) continue;
            require(active[pledge.assetId] == 0, "two active pledges of one asset");
            active[pledge.assetId] = pledgeId;
        }
        for (uint256 assetId = 1; assetId <= assets; ++assetId) {
            require(pledges.activePledgeOf(assetId) == active[assetId], "activePledgeOf disagrees with the pledges");
            require(handler.expectedActivePledge(assetId) == active[assetId], "an asset's pledge drifted from the rules");
        }
    }

    /// @notice No two active licenses of an asset overlap in time, territory and field when either of
    /// them is exclusive or sole; licenses are accepted only by their licensee, never of a frozen
    /// asset, and of a pledged asset only with the pledgee's consent.
    function invariant_noOverlappingExclusiveLicenses() public {
        _sync();
        _noViolation("licenses");
        uint256 assets = registry.assetCount();
        for (uint256 assetId = 1; assetId <= assets; ++assetId) {
            (, ILicenseRegistry.License[] memory active) = licenses.activeLicensesOf(assetId);
            for (uint256 i = 0; i < active.length; ++i) {
                require(active[i].status == ILicenseRegistry.LicenseStatus.Active, "a listed license is not active");
                for (uint256 j = i + 1; j < active.length; ++j) {
                    if (
                        active[i].kind == ILicenseRegistry.LicenseKind.NonExclusive
                            && active[j].kind == ILicenseRegistry.LicenseKind.NonExclusive
                    ) continue;
                    require(!_overlap(active[i], active[j]), "two overlapping active licenses, one exclusive or sole");
                }
            }
        }
    }

    /// @notice An asset's encumbrance version moves exactly with its license acts (offer, acceptance,
    /// termination), so a bank's stale check is always caught.
    function invariant_encumbranceVersionCountsLicenseActs() public {
        _sync();
        uint256 assets = registry.assetCount();
        for (uint256 assetId = 1; assetId <= assets; ++assetId) {
            require(
                licenses.encumbranceVersionOf(assetId) == handler.expectedEncumbranceVersion(assetId),
                "the encumbrance version drifted from the license acts"
            );
        }
    }

    /// @notice No asset moves while an ownership dispute over it is open (by any path: transfers, the
    /// market's sales and accepted offers, pledge enforcement), and disputes open and close only by the
    /// registrar: the registry's open ownership dispute of every asset is the model's.
    function invariant_noMoveWhileOwnershipDisputed() public {
        _sync();
        _noViolation("disputes");
        _noViolation("moves");
        uint256 count = registry.assetCount();
        for (uint256 assetId = 1; assetId <= count; ++assetId) {
            require(
                registry.ownershipDisputeOf(assetId) == handler.expectedOwnershipDispute(assetId),
                "an ownership dispute opened or closed outside the registrar's acts"
            );
        }
        require(registry.disputeCount() == handler.expectedDisputeCount(), "a dispute was recorded outside the rules");
    }

    /// @notice An asset's parent (its version chain) is set only by its owner, once, to an earlier asset;
    /// and each parent lists the asset among its children.
    function invariant_parentsSetOnceByOwnerToEarlierAsset() public {
        _sync();
        _noViolation("versions");
        uint256 count = registry.assetCount();
        for (uint256 assetId = 1; assetId <= count; ++assetId) {
            uint256 parentId = registry.parentOf(assetId);
            require(parentId == handler.expectedParent(assetId), "a parent changed outside the owner's act");
            require(parentId < assetId, "a parent is not an earlier asset");
        }
    }

    /// @notice Legal status, verification, official dates and freezes change only by the registrar.
    function invariant_registrarRecordsChangeOnlyByRegistrar() public {
        _sync();
        _noViolation("registrar");
        uint256 count = registry.assetCount();
        for (uint256 assetId = 1; assetId <= count; ++assetId) {
            IIPRegistry.Asset memory asset = registry.assetOf(assetId);
            LedgerHandler.RegistrarRecord memory expected = handler.expectedRecord(assetId);
            require(asset.frozenUntil == expected.frozenUntil, "a freeze changed outside the registrar's acts");
            require(asset.status == expected.status, "a legal status changed outside the registrar's acts");
            require(asset.verified == expected.verified, "verified changed outside the registrar's acts");
            require(
                asset.expiresAt == expected.expiresAt && asset.feesPaidUntil == expected.feesPaidUntil,
                "official dates changed outside the registrar's acts"
            );
        }
    }

    /// @notice A stamp, once written, never changes: same stamper, block and time as when first written.
    function invariant_stampsNeverChange() public {
        _sync();
        _noViolation("stamps");
        bytes32[] memory keys = handler.stampKeys();
        for (uint256 i = 0; i < keys.length; ++i) {
            ITimestampRegistry.Record memory actual = stamps.recordOf(keys[i]);
            ITimestampRegistry.Record memory expected = handler.expectedStamp(keys[i]);
            require(
                actual.stamper == expected.stamper && actual.blockNumber == expected.blockNumber
                    && actual.timestamp == expected.timestamp,
                "a stamp changed after it was written"
            );
        }
    }

    /// @notice ERC-721 balances sum to the supply (every asset has exactly one owner among the parties).
    function invariant_balancesSumToSupply() public {
        _sync();
        _noViolation("registrations");
        address[] memory parties = handler.actors();
        uint256 sum;
        for (uint256 i = 0; i < parties.length; ++i) {
            sum += registry.balanceOf(parties[i]);
        }
        require(sum == registry.assetCount(), "balances do not sum to the supply");
    }

    /// @notice The market's token balance equals the escrow of open offers: the sum, from the
    /// handler's model, of the amounts of offers neither accepted nor withdrawn (refused ones still
    /// hold theirs) equals both `token.balanceOf(market)` and `market.escrowOf(token)`; every listing
    /// and offer is where the market's rules put it; no token is created or lost by a sale (the
    /// parties', the treasury's and the market's balances sum to the supply the faucet minted).
    function invariant_marketEscrowEqualsOpenOffers() public {
        _sync();
        _noViolation("market");
        uint256 escrow = handler.expectedEscrow();
        require(token.balanceOf(address(market)) == escrow, "the market's balance is not the escrow of open offers");
        require(market.escrowOf(address(token)) == escrow, "escrowOf is not the escrow of open offers");
        (uint256 listingCount, uint256 offerCount,,) = market.counts();
        for (uint256 id = 1; id <= listingCount; ++id) {
            IMarketplaceBase.ListingStatus actual = market.listingOf(id).status;
            IMarketplaceBase.ListingStatus expected = handler.expectedListingStatus(id);
            if (expected == IMarketplaceBase.ListingStatus.Open) {
                require(
                    actual == IMarketplaceBase.ListingStatus.Open || actual == IMarketplaceBase.ListingStatus.Expired
                        || actual == IMarketplaceBase.ListingStatus.Void,
                    "an open listing closed outside the market's rules"
                );
            } else {
                require(actual == expected, "a listing's status drifted from the market's rules");
            }
        }
        for (uint256 id = 1; id <= offerCount; ++id) {
            IMarketplaceBase.OfferStatus actual = market.offerOf(id).status;
            IMarketplaceBase.OfferStatus expected = handler.expectedOfferStatus(id);
            if (expected == IMarketplaceBase.OfferStatus.Open) {
                require(
                    actual == IMarketplaceBase.OfferStatus.Open || actual == IMarketplaceBase.OfferStatus.Expired
                        || actual == IMarketplaceBase.OfferStatus.Void,
                    "an open offer closed outside the market's rules"
                );
            } else {
                require(actual == expected, "an offer's status drifted from the market's rules");
            }
        }
        address[] memory parties = handler.actors();
        uint256 sum = token.balanceOf(address(market)) + token.balanceOf(TREASURY);
        for (uint256 i = 0; i < parties.length; ++i) {
            sum += token.balanceOf(parties[i]);
        }
        require(sum == token.totalSupply(), "tokens appeared or vanished in a sale");
    }


    // -- helpers -----------------------------------------------------------------------------------

    /// @dev The invariant sees the handler's clock.
    function _sync() internal {
        vm.warp(handler.currentTime());
        vm.roll(handler.currentBlock());
    }

    function _noViolation(bytes32 rule) internal view {
        require(handler.violations(rule) == 0, handler.lastViolation(rule));
    }

    function _overlap(ILicenseRegistry.License memory a, ILicenseRegistry.License memory b)
        internal
        pure
        returns (bool)
    {
        return a.start < b.end && b.start < a.end && _scopesOverlap(a.territory, b.territory)
            && _scopesOverlap(a.fieldOfUse, b.fieldOfUse);
    }

    /// @dev Reference model of the hierarchical scope rule: one code is a prefix of the other.
    function _scopesOverlap(bytes32 a, bytes32 b) internal pure returns (bool) {
        uint256 n = _length(a) < _length(b) ? _length(a) : _length(b);
        for (uint256 i = 0; i < n; ++i) {
            if (a[i] != b[i]) return false;
        }
        return true;
    }

    function _length(bytes32 code) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < 32; ++i) {
            if (code[i] != 0) n = i + 1;
        }
    }
}
