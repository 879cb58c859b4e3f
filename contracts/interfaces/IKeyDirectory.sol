// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Encryption keys of accounts, and disclosures of sealed documents.
/// @notice Each account publishes its own HPKE public keys (an X25519 key and, optionally, an
/// ML-KEM-768+X25519 hybrid key), versioned from 1: publishing again rotates to the next version,
/// earlier versions stay readable (to open older sealed files) unless revoked. A disclosure records
/// that the discloser gave recipients access to a sealed document (docs/sealed-format.md).
interface IKeyDirectory {
    /// @notice One published key version.
    struct EncryptionKey {
        bytes32 x25519;
        uint64 publishedAt;
        uint64 revokedAt;
        bytes hybrid;
    }

    /// @notice A zero X25519 key is not a key.
    error KeyDirectoryZeroKey();
    /// @notice A hybrid key is empty or exactly `expected` bytes (ML-KEM-768 1184 || X25519 32).
    error KeyDirectoryBadHybridKey(uint256 length, uint256 expected);
    /// @notice `account` has no key version `version`.
    error KeyDirectoryUnknownVersion(address account, uint32 version);
    /// @notice `account`'s key version `version` was already revoked.
    error KeyDirectoryAlreadyRevoked(address account, uint32 version, uint256 revokedAt);
    /// @notice A disclosure names a document (its id and plaintext hash) and at least one recipient.
    error KeyDirectoryEmptyDisclosure();

    /// @notice `account` published key version `version`.
    event KeyPublished(address indexed account, uint32 indexed version, bytes32 x25519, bytes hybrid);
    /// @notice `account` revoked its key version `version`: nobody should seal to it any more.
    event KeyRevoked(address indexed account, uint32 indexed version);
    /// @notice `discloser` gave `recipient` access to the sealed document `documentId`, whose plaintext
    /// has SHA-256 `plaintextHash`.
    event DocumentDisclosed(
        bytes32 indexed documentId, bytes32 indexed plaintextHash, address indexed discloser, address recipient
    );

    /// @notice Publishes the caller's next key version (the first is 1).
    /// Requirements:
    /// - `x25519` is not zero; `hybrid` is empty or 1216 bytes.
    /// Emits a {KeyPublished} event.
    function publish(bytes32 x25519, bytes calldata hybrid) external returns (uint32 version);

    /// @notice Revokes the caller's key version `version`.
    /// Requirements:
    /// - the version exists and is not revoked.
    /// Emits a {KeyRevoked} event.
    function revoke(uint32 version) external;

    /// @notice Records that the caller disclosed a sealed document to `recipients`.
    /// Requirements:
    /// - `documentId` and `plaintextHash` are not zero and `recipients` is not empty.
    /// Emits a {DocumentDisclosed} event per recipient.
    function disclose(bytes32 documentId, bytes32 plaintextHash, address[] calldata recipients) external;

    /// @notice The latest key version `account` published (0: none).
    function currentVersionOf(address account) external view returns (uint32);

    /// @notice `account`'s key version `version` (all zero if it does not exist).
    function keyOf(address account, uint32 version) external view returns (EncryptionKey memory);
}
