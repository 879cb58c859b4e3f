// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ICoOwnedAsset} from "./interfaces/ICoOwnership.sol";

/// @title CoOwnedAsset
/// @notice The vault of one co-owned asset (an OpenZeppelin {Clones} clone with the asset id as its
/// immutable argument): the ERC-721 owner of the asset, which acts only when {CoOwnership} tells it.
/// It has no storage; its CoOwnership is an immutable of the implementation every clone runs.
contract CoOwnedAsset is ICoOwnedAsset {
    /// @inheritdoc ICoOwnedAsset
    address public immutable coOwnership;

    constructor() {
        coOwnership = msg.sender;
    }

    /// @inheritdoc ICoOwnedAsset
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != coOwnership) revert CoOwnedAssetUnauthorizedCaller(msg.sender);
        return Address.functionCall(target, data);
    }

    /// @inheritdoc ICoOwnedAsset
    function assetId() external view returns (uint256) {
        return abi.decode(Clones.fetchCloneArgs(address(this)), (uint256));
    }
}
