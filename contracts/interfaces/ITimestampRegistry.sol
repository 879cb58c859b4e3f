// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Proof of existence and authorship for files that never leave their holder's machine.
/// @notice A leaf is an author-bound commitment `keccak256(abi.encode(digest, author, salt))`. Every
/// record is keyed by the root of an OpenZeppelin `StandardMerkleTree` over commitments (leaves hashed
/// `keccak256(bytes.concat(commitment))`, pairs sorted): a batch sends its root, a single stamp sends
/// its leaf and is recorded under its one-leaf root `keccak256(bytes.concat(leaf))`. So one rule,
/// `MerkleProof.verify(proof, root, keccak256(bytes.concat(leaf)))` with an empty proof for a single
/// stamp, verifies every stamp, and OpenZeppelin's `StandardMerkleTree.verify` accepts it.
interface ITimestampRegistry {
    /// @notice The first record of a key: who sent it, and in which block.
    struct Record {
        address stamper;
        uint48 blockNumber;
        uint48 timestamp;
    }

    /// @notice The root `key` was already stamped (alone or as a batch); the first record stands.
    error TimestampRegistryAlreadyStamped(bytes32 key, address stamper, uint256 blockNumber, uint256 timestamp);
    /// @notice A zero leaf or root is not a commitment; zero is reserved for "not stamped".
    error TimestampRegistryZeroKey();
    /// @notice A batch must hold at least one leaf.
    error TimestampRegistryEmptyBatch();

    /// @notice A single commitment was stamped; `root` is its one-leaf root `keccak256(bytes.concat(leaf))`,
    /// the key of its record.
    event Stamped(bytes32 indexed root, address stamper);
    /// @notice The Merkle root of `count` commitments was stamped.
    event BatchStamped(bytes32 indexed root, address indexed stamper, uint256 count);

    /// @notice Records `leaf` (an author-bound commitment) at the current block, under its one-leaf
    /// `StandardMerkleTree` root `keccak256(bytes.concat(leaf))`.
    /// Requirements:
    /// - `leaf` is not zero, and its root was never stamped (by `stamp(leaf)` or `stampBatch(root, 1)`).
    /// Emits a {Stamped} event.
    function stamp(bytes32 leaf) external;

    /// @notice Records `root`, the Merkle root of `count` commitments, at the current block.
    /// Requirements:
    /// - `root` is not zero and was never stamped; `count` is not zero.
    /// Emits a {BatchStamped} event.
    function stampBatch(bytes32 root, uint256 count) external;

    /// @notice The first record of the root `key` (for a single stamp `keccak256(bytes.concat(leaf))`);
    /// all zero when never stamped.
    function recordOf(bytes32 key) external view returns (Record memory);

    /// @notice Whether `commitment` is a leaf of the stamped tree `root` by `proof`
    /// (OpenZeppelin `MerkleProof.verify` over `keccak256(bytes.concat(commitment))`); for a single
    /// stamp the proof is empty.
    function verifyBatchMember(bytes32[] calldata proof, bytes32 root, bytes32 commitment)
        external
        view
        returns (bool);
}
