// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IndexerTestEmitter
/// @notice TEST ONLY, never part of the deployed suite: emits many events per call for the
/// indexer's tests and benchmark, and events of every ABI shape the generic decoder must handle
/// (indexed dynamic types, structs, arrays, several address arguments).
contract IndexerTestEmitter {
    /// @notice A struct argument, to exercise tuple decoding.
    struct Terms {
        address payee;
        uint256 amount;
    }

    /// @notice One of many events emitted by {emitMany}.
    event Emitted(uint256 indexed assetId, address indexed account, uint256 seq);
    /// @notice An event with every awkward shape: an indexed string, a struct, arrays, a tokenId.
    event Shaped(
        string indexed label, bytes32 tag, string note, address[] parties, Terms terms, uint256 tokenId, bool flag
    );

    /// @notice Emits `count` {Emitted} events for assets `firstAssetId` .. `firstAssetId + assets - 1` in turn.
    /// Emits `count` {Emitted} events.
    function emitMany(uint256 firstAssetId, uint256 assets, uint256 count, address account) external {
        for (uint256 i = 0; i < count; ++i) {
            emit Emitted(firstAssetId + (i % assets), account, i);
        }
    }

    /// @notice Emits one {Shaped} event with the given values.
    /// Emits a {Shaped} event.
    function emitShaped(
        string calldata label,
        bytes32 tag,
        string calldata note,
        address[] calldata parties,
        Terms calldata terms,
        uint256 tokenId,
        bool flag
    ) external {
        emit Shaped(label, tag, note, parties, terms, tokenId, flag);
    }
}
