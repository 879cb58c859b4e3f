// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ITimestampRegistry} from "./interfaces/ITimestampRegistry.sol";

/// @title TimestampRegistry
/// @notice First-come records of Merkle roots of author-bound commitments.
/// @dev Every record is keyed by an OpenZeppelin `StandardMerkleTree` root: a batch's root as
/// given, a single commitment's one-leaf root `keccak256(bytes.concat(leaf))` computed here, so one
/// rule (`MerkleProof.verify(proof, root, keccak256(bytes.concat(leaf)))`, empty proof for a single
/// stamp) verifies every stamp. One storage slot per key (stamper, block number, time) keeps a
/// single stamp near the 21,000 + calldata + one cold SSTORE floor. Senders are read with
/// `_msgSender()` so stamps relayed through the trusted ERC-2771 forwarder are credited to their signer.
contract TimestampRegistry is ITimestampRegistry, ERC2771Context {
    /// @dev A record packed by hand into one word (stamper | blockNumber << 160 | timestamp << 208):
    /// written with a single SSTORE and no read-modify-write of a struct.
    mapping(bytes32 key => uint256 packedRecord) private _records;

    constructor(address trustedForwarder) ERC2771Context(trustedForwarder) {}

    /// @inheritdoc ITimestampRegistry
    function stamp(bytes32 leaf) external {
        if (leaf == bytes32(0)) revert TimestampRegistryZeroKey();
        // keccak256(bytes.concat(leaf)), the one-leaf StandardMerkleTree root, hashed in the scratch
        // space as OpenZeppelin's Hashes.efficientKeccak256 does: no memory allocated (91 gas less).
        bytes32 root;
        assembly ("memory-safe") {
            mstore(0x00, leaf)
            root := keccak256(0x00, 0x20)
        }
        address stamper = _record(root);
        emit Stamped(root, stamper);
    }

    /// @inheritdoc ITimestampRegistry
    function stampBatch(bytes32 root, uint256 count) external {
        if (root == bytes32(0)) revert TimestampRegistryZeroKey();
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
