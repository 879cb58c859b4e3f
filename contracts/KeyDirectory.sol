// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IKeyDirectory} from "./interfaces/IKeyDirectory.sol";

/// @title KeyDirectory
/// @notice Encryption keys bound to Ethereum addresses by the addresses themselves, and disclosure records.
/// @dev An account can only write its own entries (`_msgSender()`, so relayed through the trusted
/// ERC-2771 forwarder too): the binding of a key to an address is that address's own signature.
contract KeyDirectory is IKeyDirectory, ERC2771Context {
    uint256 private constant _HYBRID_KEY_LENGTH = 1216;

    mapping(address account => uint32 version) private _current;
    mapping(address account => mapping(uint32 version => EncryptionKey)) private _keys;

    constructor(address trustedForwarder) ERC2771Context(trustedForwarder) {}

    /// @inheritdoc IKeyDirectory
    function publish(bytes32 x25519, bytes calldata hybrid) external returns (uint32 version) {
        if (x25519 == bytes32(0)) revert KeyDirectoryZeroKey();
        if (hybrid.length != 0 && hybrid.length != _HYBRID_KEY_LENGTH) {
            revert KeyDirectoryBadHybridKey(hybrid.length, _HYBRID_KEY_LENGTH);
        }
        address account = _msgSender();
        version = _current[account] + 1;
        _current[account] = version;
        _keys[account][version] = EncryptionKey(x25519, uint64(block.timestamp), 0, hybrid);
        emit KeyPublished(account, version, x25519, hybrid);
    }

    /// @inheritdoc IKeyDirectory
    function revoke(uint32 version) external {
        address account = _msgSender();
        EncryptionKey storage key = _keys[account][version];
        if (key.publishedAt == 0) revert KeyDirectoryUnknownVersion(account, version);
        if (key.revokedAt != 0) revert KeyDirectoryAlreadyRevoked(account, version, key.revokedAt);
        key.revokedAt = uint64(block.timestamp);
        emit KeyRevoked(account, version);
    }

    /// @inheritdoc IKeyDirectory
    function disclose(bytes32 documentId, bytes32 plaintextHash, address[] calldata recipients) external {
        if (documentId == bytes32(0) || plaintextHash == bytes32(0) || recipients.length == 0) {
            revert KeyDirectoryEmptyDisclosure();
        }
        address discloser = _msgSender();
        for (uint256 i = 0; i < recipients.length; ++i) {
            emit DocumentDisclosed(documentId, plaintextHash, discloser, recipients[i]);
        }
    }

    /// @inheritdoc IKeyDirectory
    function currentVersionOf(address account) external view returns (uint32) {
        return _current[account];
    }

    /// @inheritdoc IKeyDirectory
    function keyOf(address account, uint32 version) external view returns (EncryptionKey memory) {
        return _keys[account][version];
    }
}
