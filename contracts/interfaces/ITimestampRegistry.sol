// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Proof of existence and authorship for files that never leave their holder's machine.
/// @notice A key is either an author-bound commitment `keccak256(abi.encode(digest, author, salt))`
/// (a single stamp) or the Merkle root of many such commitments (a batch), with leaves hashed as in
/// OpenZeppelin's `StandardMerkleTree`: `keccak256(bytes.concat(commitment))`, pairs sorted.
interface ITimestampRegistry {
    /// @notice The first record of a key: who sent it, and in which block.
    struct Record {
        address stamper;
        uint48 blockNumber;
        uint48 timestamp;
    }

    /// @notice The key was already stamped; the first record stands.
    error TimestampRegistryAlreadyStamped(bytes32 key, address stamper, uint256 blockNumber, uint256 timestamp);
    /// @notice The zero key is reserved for "not stamped".
    error TimestampRegistryZeroKey();
    /// @notice A batch must hold at least one leaf.
    error TimestampRegistryEmptyBatch();

    /// @notice A single commitment was stamped.
    event Stamped(bytes32 indexed leaf, address stamper);
    /// @notice The Merkle root of `count` commitments was stamped.
    event BatchStamped(bytes32 indexed root, address indexed stamper, uint256 count);

    /// @notice Records `leaf` (an author-bound commitment) at the current block.
    /// Requirements:
    /// - `leaf` is not zero and was never stamped (as a leaf or a root).
    /// Emits a {Stamped} event.
    function stamp(bytes32 leaf) external;

    /// @notice Records `root`, the Merkle root of `count` commitments, at the current block.
    /// Requirements:
    /// - `root` is not zero and was never stamped; `count` is not zero.
    /// Emits a {BatchStamped} event.
    function stampBatch(bytes32 root, uint256 count) external;

    /// @notice The first record of `key` (a leaf or a root); all zero when never stamped.
    function recordOf(bytes32 key) external view returns (Record memory);

    /// @notice Whether `commitment` is a leaf of the stamped tree `root` by `proof`
    /// (OpenZeppelin `MerkleProof.verify` over `keccak256(bytes.concat(commitment))`).
    function verifyBatchMember(bytes32[] calldata proof, bytes32 root, bytes32 commitment)
        external
        view
        returns (bool);
}
