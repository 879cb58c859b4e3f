// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ITimestampRegistry} from "./interfaces/ITimestampRegistry.sol";

/// @title TimestampRegistry
/// @notice First-come records of author-bound commitments and Merkle roots of them.
/// @dev One storage slot per key (stamper, block number, time) keeps a single stamp near the
/// 21,000 + calldata + one cold SSTORE floor. Senders are read with `_msgSender()` so stamps
/// relayed through the trusted ERC-2771 forwarder are credited to their signer.
contract TimestampRegistry is ITimestampRegistry, ERC2771Context {
    /// @dev A record packed by hand into one word (stamper | blockNumber << 160 | timestamp << 208):
    /// written with a single SSTORE and no read-modify-write of a struct.
    mapping(bytes32 key => uint256 packedRecord) private _records;

    constructor(address trustedForwarder) ERC2771Context(trustedForwarder) {}

    /// @inheritdoc ITimestampRegistry
    function stamp(bytes32 leaf) external {
        address stamper = _record(leaf);
        emit Stamped(leaf, stamper);
    }

    /// @inheritdoc ITimestampRegistry
    function stampBatch(bytes32 root, uint256 count) external {
        if (count == 0) revert TimestampRegistryEmptyBatch();
        address stamper = _record(root);
        emit BatchStamped(root, stamper, count);
    }

    /// @inheritdoc ITimestampRegistry
    function recordOf(bytes32 key) external view returns (Record memory) {
        return _unpack(_records[key]);
    }

    /// @inheritdoc ITimestampRegistry
    function verifyBatchMember(bytes32[] calldata proof, bytes32 root, bytes32 commitment)
        external
        view
        returns (bool)
    {
        return _records[root] != 0 && MerkleProof.verifyCalldata(proof, root, keccak256(bytes.concat(commitment)));
    }

    function _record(bytes32 key) private returns (address stamper) {
        if (key == bytes32(0)) revert TimestampRegistryZeroKey();
        uint256 existing = _records[key];
        if (existing != 0) {
            Record memory first = _unpack(existing);
            revert TimestampRegistryAlreadyStamped(key, first.stamper, first.blockNumber, first.timestamp);
        }
        stamper = _msgSender();
        _records[key] = uint256(uint160(stamper)) | (block.number << 160) | (block.timestamp << 208);
    }

    function _unpack(uint256 packed) private pure returns (Record memory) {
        return Record(address(uint160(packed)), uint48(packed >> 160), uint48(packed >> 208));
    }
}
