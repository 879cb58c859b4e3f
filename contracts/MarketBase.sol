// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {IMarketplaceBase} from "./interfaces/IMarketplaceBase.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";

/// @title MarketBase
/// @notice What the {Marketplace} and the {LicenseMarket} share: the registries they read, the one
/// definition of a void sale, exact payments, ERC-2771 and the reentrancy guard (transient storage).
/// Every state-changing function of both is `nonReentrant` and follows checks-effects-interactions:
/// the record is written and its event emitted before any token or asset moves.
abstract contract MarketBase is IMarketplaceBase, ERC2771Context, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant _BPS = 10_000;
    /// @dev In place of a transfer count: the sale (an offer) did not record one.
    uint256 internal constant _UNCOUNTED = type(uint256).max;

    /// @notice The asset registry and role authority.
    IIPRegistry public immutable registry;
    /// @notice The pledge registry, asked for an asset's active pledge and its transfer consent.
    IPledgeRegistry public immutable pledges;

    constructor(address trustedForwarder, IIPRegistry registry_, IPledgeRegistry pledges_)
        ERC2771Context(trustedForwarder)
    {
        registry = registry_;
        pledges = pledges_;
    }

    // -- checks ------------------------------------------------------------------------------------

    /// @dev The common terms of a listing, offer or demand: a token, a non-zero amount, a future expiry.
    function _requireTerms(address token, uint256 amount, uint40 expiry) internal view {
        if (token == address(0)) revert MarketplaceZeroAddress();
        if (amount == 0) revert MarketplaceZeroAmount();
        if (expiry <= block.timestamp) revert MarketplaceInvalidExpiry(expiry);
    }

    /// @dev The caller, if it is `seller` (of the listing, offer or answer `id`).
    function _requireSeller(address seller, uint256 id) internal view returns (address caller) {
        caller = _msgSender();
        if (caller != seller) revert MarketplaceNotSeller(id, caller);
    }

    /// @dev Why a sale of `assetId` by `seller` cannot happen now, as the revert data of the error to
    /// raise; empty if it can. The asset's part of the one definition of a void listing or offer: the
    /// seller no longer owns the asset, or (a listing, which recorded the asset's transfer count
    /// `transfers`) it moved since, even if it came back; it is frozen; or it carries a pledge other
    /// than `pledgeId` (the one it carried when listed or offered for). Offers pass {_UNCOUNTED}.
    /// Whether a pledged asset may move is not decided here: the IPRegistry's transfer guard asks the
    /// PledgeRegistry for the pledgee's consent.
    function _assetObstacle(uint256 assetId, address seller, uint256 pledgeId, uint256 transfers)
        internal
        view
        returns (bytes memory)
    {
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != seller) {
            return abi.encodeWithSelector(MarketplaceAssetChangedHands.selector, assetId, seller, asset.owner);
        }
        if (transfers != _UNCOUNTED) {
            uint256 current = registry.transferCountOf(assetId);
            if (current != transfers) {
                return abi.encodeWithSelector(MarketplaceAssetMovedSinceListed.selector, assetId, transfers, current);
            }
        }
        if (asset.frozenUntil > block.timestamp) {
            return abi.encodeWithSelector(MarketplaceAssetFrozen.selector, assetId, asset.frozenUntil);
        }
        uint256 active = pledges.activePledgeOf(assetId);
        if (active != 0 && active != pledgeId) {
            return abi.encodeWithSelector(MarketplaceAssetPledged.selector, assetId, active);
        }
        return "";
    }

    /// @dev Reverts with `reason` (the revert data of an error) unless it is empty.
    function _revertIf(bytes memory reason) internal pure {
        if (reason.length != 0) {
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }

    /// @dev [fromId, toId) cut to the ids that exist, [1, count]; empty when nothing is left.
    function _range(uint256 fromId, uint256 toId, uint256 count) internal pure returns (uint256, uint256) {
        if (fromId == 0) fromId = 1;
        if (toId > count + 1) toId = count + 1;
        if (fromId > toId) fromId = toId;
        return (fromId, toId);
    }

    // -- payments ----------------------------------------------------------------------------------

    /// @dev Pays `amount` of `token` from `from` (a buyer, or this contract's escrow): `fee` to
    /// `treasury`, the rest to `seller`.
    function _settle(IERC20 token, address from, address seller, uint256 amount, address treasury, uint256 fee)
        internal
    {
        if (fee != 0) _transferExactly(token, from, treasury, fee);
        _transferExactly(token, from, seller, amount - fee);
    }

    /// @dev Moves `amount` of `token` from `from` (this contract: from escrow) to `to`, and reverts with
    /// {MarketplaceInexactPayment} unless `to`'s balance rose by exactly `amount`. Paying oneself (a
    /// treasury that buys) moves nothing.
    function _transferExactly(IERC20 token, address from, address to, uint256 amount) internal {
        if (from == to) return;
        uint256 before = token.balanceOf(to);
        if (from == address(this)) token.safeTransfer(to, amount);
        else token.safeTransferFrom(from, to, amount);
        uint256 balance = token.balanceOf(to);
        if (balance != before + amount) {
            revert MarketplaceInexactPayment(address(token), amount, balance > before ? balance - before : 0);
        }
    }
}
