// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";
import {Codes} from "./types/Codes.sol";
import {Roles} from "./types/Roles.sol";

/// @title LicenseRegistry
/// @notice Licenses of IP assets, offered by the owner and accepted by the licensee. The overlap
/// checks of an acceptance cost bounded gas, and nobody but the owner can exhaust the bounds: each
/// asset keeps its active exclusive and sole licenses in a set bounded by {MAX_ACTIVE_LICENSES}, and
/// its active non-exclusive licenses grouped by scope (term, territory and field of use), at most
/// {MAX_SHARED_SCOPES} scopes at a time, each with the number of its active licenses. Only the owner
/// chooses scopes (by offering, or by listing licenses for sale), so a buyer of a thousand
/// non-exclusive licenses of one listing fills one scope, not the asset's slots. A new non-exclusive
/// license is checked against the exclusive and sole ones; a new exclusive or sole license against
/// both sets. Licenses and scopes that expired by time leave their set lazily, at the next
/// acceptance for that asset that needs room. An operator the owner approved (the Marketplace) may
/// offer and activate a license in one step ({grant}); the rules are the same private functions.
contract LicenseRegistry is ILicenseRegistry, ERC2771Context {
    /// @inheritdoc ILicenseRegistry
    uint256 public constant MAX_ACTIVE_LICENSES = 32;
    /// @inheritdoc ILicenseRegistry
    uint256 public constant MAX_SHARED_SCOPES = 32;

    /// @dev An owner's approval of an operator, and how many times it changed (see {operatorOf}).
    struct Operator {
        bool approved;
        uint64 epoch;
    }

    /// @dev A scope of active non-exclusive licenses: `licenseId` is the first license activated in it
    /// (which carries its term, territory and field), `count` how many of its licenses are active.
    struct SharedScope {
        uint64 licenseId;
        uint64 count;
    }

    /// @notice The asset registry and role authority.
    IIPRegistry public immutable registry;
    /// @notice The pledge registry, asked whether a pledged asset's pledgee consented to a license.
    IPledgeRegistry public immutable pledges;

    mapping(uint256 licenseId => License) private _licenses;
    mapping(uint256 assetId => uint256[] licenseIds) private _licensesOf;
    /// @dev Written through storage pointers (`active.push`, `active.pop`), which Slither's
    /// uninitialized-state detector does not follow (security/slither-triage.md).
    /// The asset's active exclusive and sole licenses.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 assetId => uint256[] licenseIds) private _activeOf;
    /// @dev The asset's scopes of active non-exclusive licenses, each by its first license (see
    /// {SharedScope}); written through storage pointers like `_activeOf`.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 assetId => uint256[] licenseIds) private _sharedOf;
    mapping(uint256 assetId => mapping(bytes32 scope => SharedScope)) private _shared;
    mapping(address owner => mapping(address operator => Operator)) private _operators;
    uint256 private _licenseCount;
    /// @dev Bumped by every offer, activation and termination of a license of the asset.
    mapping(uint256 assetId => uint256 version) private _encumbranceVersion;

    constructor(address trustedForwarder, IIPRegistry registry_, IPledgeRegistry pledges_)
        ERC2771Context(trustedForwarder)
    {
        registry = registry_;
        pledges = pledges_;
    }

    /// @inheritdoc ILicenseRegistry
    function offer(uint256 assetId, LicenseTerms calldata terms) external returns (uint256 licenseId) {
        address owner = _msgSender();
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != owner) revert LicenseRegistryNotOwner(assetId, owner);
        licenseId = _offer(assetId, owner, asset.frozenUntil, terms, true);
    }

    /// @inheritdoc ILicenseRegistry
    function accept(uint256 licenseId) external {
        License storage license = _existing(licenseId);
        address caller = _msgSender();
        if (caller != license.licensee) revert LicenseRegistryNotLicensee(licenseId, caller);
        if (license.status != LicenseStatus.Offered) revert LicenseRegistryNotOffered(licenseId, license.status);
        if (license.end <= block.timestamp) revert LicenseRegistryLicenseEnded(licenseId, license.end);
        uint256 assetId = license.assetId;
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != license.licensor) {
            revert LicenseRegistryOfferStale(licenseId, license.licensor, asset.owner);
        }
        if (asset.frozenUntil > block.timestamp) revert LicenseRegistryAssetFrozen(assetId, asset.frozenUntil);
        _activate(assetId, licenseId, license);
    }

    /// @inheritdoc ILicenseRegistry
    /// @dev The offer's conflict check is left to the activation's, which runs on the same state.
    function grant(uint256 assetId, LicenseTerms calldata terms) external returns (uint256 licenseId) {
        address operator = _msgSender();
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        address owner = asset.owner;
        if (!_operators[owner][operator].approved) revert LicenseRegistryUnauthorizedOperator(owner, operator);
        licenseId = _offer(assetId, owner, asset.frozenUntil, terms, false);
        _activate(assetId, licenseId, _licenses[licenseId]);
        emit LicenseGranted(licenseId, assetId, operator);
    }

    /// @inheritdoc ILicenseRegistry
    function setOperator(address operator, bool approved) external {
        address owner = _msgSender();
        if (operator == address(0) || operator == owner) revert LicenseRegistryInvalidOperator(operator);
        Operator storage approval = _operators[owner][operator];
        if (approval.approved != approved) {
            approval.approved = approved;
            ++approval.epoch;
        }
        emit OperatorSet(owner, operator, approved);
    }

    /// @inheritdoc ILicenseRegistry
    function terminate(uint256 licenseId, bytes32 reasonHash) external {
        License storage license = _existing(licenseId);
        LicenseStatus status = _statusOf(license);
        if (status != LicenseStatus.Offered && status != LicenseStatus.Active) {
            revert LicenseRegistryClosed(licenseId, status);
        }
        uint256 assetId = license.assetId;
        address caller = _msgSender();
        if (caller != license.licensee && caller != registry.assetOf(assetId).owner) {
            revert LicenseRegistryNotParty(licenseId, caller);
        }
        license.status = LicenseStatus.Terminated;
        ++_encumbranceVersion[assetId];
        if (status == LicenseStatus.Active) _deactivate(assetId, licenseId, license);
        emit LicenseTerminated(licenseId, assetId, caller, reasonHash);
    }

    /// @inheritdoc ILicenseRegistry
    function recordFiling(uint256 licenseId, bytes32 recordalNo) external {
        address caller = _msgSender();
        if (!IAccessControl(address(registry)).hasRole(Roles.REGISTRAR, caller)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(caller, Roles.REGISTRAR);
        }
        License storage license = _existing(licenseId);
        LicenseStatus status = _statusOf(license);
        if (status != LicenseStatus.Active) revert LicenseRegistryNotActive(licenseId, status);
        if (recordalNo == bytes32(0)) revert LicenseRegistryZeroRecordalNo();
        license.recordalNo = recordalNo;
        emit LicenseRecorded(licenseId, license.assetId, recordalNo, caller);
    }

    /// @inheritdoc ILicenseRegistry
    function licenseOf(uint256 licenseId) external view returns (License memory license) {
        License storage stored = _existing(licenseId);
        license = stored;
        license.status = _statusOf(stored);
    }

    /// @inheritdoc ILicenseRegistry
    function licensesOf(uint256 assetId) external view returns (uint256[] memory) {
        return _licensesOf[assetId];
    }

    /// @inheritdoc ILicenseRegistry
    /// @dev Reads every license ever offered for the asset: meant for off-chain calls.
    function activeLicensesOf(uint256 assetId)
        external
        view
        returns (uint256[] memory licenseIds, License[] memory licenses)
    {
        uint256[] storage all = _licensesOf[assetId];
        licenseIds = new uint256[](all.length);
        uint256 count = 0;
        for (uint256 i = 0; i < all.length; ++i) {
            if (_statusOf(_licenses[all[i]]) == LicenseStatus.Active) licenseIds[count++] = all[i];
        }
        assembly ("memory-safe") {
            mstore(licenseIds, count)
        }
        licenses = new License[](count);
        for (uint256 i = 0; i < count; ++i) {
            licenses[i] = _licenses[licenseIds[i]];
        }
    }

    /// @inheritdoc ILicenseRegistry
    function offeredLicensesOf(uint256 assetId)
        external
        view
        returns (uint256[] memory licenseIds, License[] memory licenses)
    {
        uint256[] storage all = _licensesOf[assetId];
        licenseIds = new uint256[](all.length);
        licenses = new License[](all.length);
        uint256 n = 0;
        for (uint256 i = 0; i < all.length; ++i) {
            License storage license = _licenses[all[i]];
            if (license.status != LicenseStatus.Offered || license.end <= block.timestamp) continue;
            licenseIds[n] = all[i];
            licenses[n] = license;
            ++n;
        }
        assembly ("memory-safe") {
            mstore(licenseIds, n)
            mstore(licenses, n)
        }
    }

    /// @inheritdoc ILicenseRegistry
    function encumbranceVersionOf(uint256 assetId) external view returns (uint256) {
        return _encumbranceVersion[assetId];
    }

    /// @inheritdoc ILicenseRegistry
    function isOperator(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator].approved;
    }

    /// @inheritdoc ILicenseRegistry
    function operatorOf(address owner, address operator) external view returns (bool approved, uint256 epoch) {
        Operator storage approval = _operators[owner][operator];
        return (approval.approved, approval.epoch);
    }

    /// @inheritdoc ILicenseRegistry
    function licenseCount() external view returns (uint256) {
        return _licenseCount;
    }

    /// @dev The rules of an offer by (or for) `owner`, then the offer itself.
    function _offer(uint256 assetId, address owner, uint40 frozenUntil, LicenseTerms calldata terms, bool checkConflict)
        private
        returns (uint256 licenseId)
    {
        if (terms.licensee == address(0) || terms.licensee == owner) {
            revert LicenseRegistryInvalidLicensee(terms.licensee);
        }
        if (terms.start >= terms.end || terms.end <= block.timestamp) {
            revert LicenseRegistryInvalidTerm(terms.start, terms.end);
        }
        if (!Codes.isCanonicalTerritory(terms.territory)) revert LicenseRegistryNonCanonicalTerritory(terms.territory);
        if (!Codes.isCanonicalField(terms.fieldOfUse)) revert LicenseRegistryNonCanonicalField(terms.fieldOfUse);
        if (frozenUntil > block.timestamp) revert LicenseRegistryAssetFrozen(assetId, frozenUntil);
        if (checkConflict) {
            _requireNoConflict(assetId, terms.kind, terms.start, terms.end, terms.territory, terms.fieldOfUse);
        }

        licenseId = ++_licenseCount;
        License storage license = _licenses[licenseId];
        license.assetId = SafeCast.toUint64(assetId);
        license.licensor = owner;
        license.kind = terms.kind;
        license.status = LicenseStatus.Offered;
        license.sublicensable = terms.sublicensable;
        license.licensee = terms.licensee;
        license.start = terms.start;
        license.end = terms.end;
        license.territory = terms.territory;
        license.fieldOfUse = terms.fieldOfUse;
        license.termsHash = terms.termsHash;
        license.fee = terms.fee;
        _licensesOf[assetId].push(licenseId);
        ++_encumbranceVersion[assetId];
        emit LicenseOffered(licenseId, assetId, terms.licensee, owner, terms);
    }

    /// @dev The rules of an acceptance that do not depend on who accepts, then the activation:
    /// the pledgee's consent to these terms (used up), the exclusivity rules and the bounds on active
    /// licenses. The PledgeRegistry is trusted: it calls no one.
    function _activate(uint256 assetId, uint256 licenseId, License storage license) private {
        if (pledges.activePledgeOf(assetId) != 0) {
            uint256 pledgeId = pledges.authorizeLicense(assetId, licenseId, _termsOf(license));
            if (pledgeId != 0) revert LicenseRegistryAssetPledged(assetId, pledgeId);
        }
        LicenseKind kind = license.kind;
        uint40 start = license.start;
        uint40 end = license.end;
        bytes32 territory = license.territory;
        bytes32 fieldOfUse = license.fieldOfUse;
        _requireNoConflict(assetId, kind, start, end, territory, fieldOfUse);
        if (kind == LicenseKind.NonExclusive) {
            SharedScope storage scope = _shared[assetId][_scopeKey(start, end, territory, fieldOfUse)];
            if (scope.count == 0) {
                uint256[] storage shared = _sharedOf[assetId];
                _pruneExpired(shared);
                if (shared.length >= MAX_SHARED_SCOPES) {
                    revert LicenseRegistrySharedScopeLimit(assetId, MAX_SHARED_SCOPES);
                }
                shared.push(licenseId);
                scope.licenseId = SafeCast.toUint64(licenseId);
            }
            ++scope.count;
        } else {
            uint256[] storage active = _activeOf[assetId];
            _pruneExpired(active);
            if (active.length >= MAX_ACTIVE_LICENSES) {
                revert LicenseRegistryActiveLicenseLimit(assetId, MAX_ACTIVE_LICENSES);
            }
            active.push(licenseId);
        }
        license.status = LicenseStatus.Active;
        ++_encumbranceVersion[assetId];
        emit LicenseAccepted(licenseId, assetId, license.licensee);
    }

    /// @dev Takes an active license that ends before its time out of its set (or its scope's count).
    function _deactivate(uint256 assetId, uint256 licenseId, License storage license) private {
        if (license.kind != LicenseKind.NonExclusive) {
            _remove(_activeOf[assetId], licenseId);
            return;
        }
        mapping(bytes32 => SharedScope) storage scopes = _shared[assetId];
        bytes32 key = _scopeKey(license.start, license.end, license.territory, license.fieldOfUse);
        SharedScope storage scope = scopes[key];
        uint64 left = scope.count - 1;
        if (left != 0) {
            scope.count = left;
            return;
        }
        _remove(_sharedOf[assetId], scope.licenseId);
        delete scopes[key];
    }

    /// @dev Reverts if a license of `kind` over [start, end) x territory x field would overlap an
    /// active license of the asset where either of the two is exclusive or sole: any new license is
    /// checked against the active exclusive and sole licenses, a new exclusive or sole one also
    /// against the scopes of the active non-exclusive licenses (reporting a scope's first license).
    function _requireNoConflict(
        uint256 assetId,
        LicenseKind kind,
        uint40 start,
        uint40 end,
        bytes32 territory,
        bytes32 fieldOfUse
    ) private view {
        _requireNoOverlap(assetId, _activeOf[assetId], start, end, territory, fieldOfUse);
        if (kind != LicenseKind.NonExclusive) {
            _requireNoOverlap(assetId, _sharedOf[assetId], start, end, territory, fieldOfUse);
        }
    }

    /// @dev Reverts if a license in `set` (not expired) overlaps [start, end) x territory x field.
    function _requireNoOverlap(
        uint256 assetId,
        uint256[] storage set,
        uint40 start,
        uint40 end,
        bytes32 territory,
        bytes32 fieldOfUse
    ) private view {
        for (uint256 i = 0; i < set.length; ++i) {
            License storage other = _licenses[set[i]];
            uint40 otherEnd = other.end;
            if (otherEnd <= block.timestamp) continue;
            if (
                start < otherEnd && other.start < end && _scopesOverlap(territory, other.territory)
                    && _scopesOverlap(fieldOfUse, other.fieldOfUse)
            ) revert LicenseRegistryExclusivityConflict(assetId, set[i], other.kind);
        }
    }

    /// @dev Drops from `set` the licenses (or scopes, by their first license) that expired by time.
    function _pruneExpired(uint256[] storage set) private {
        uint256 i = set.length;
        while (i > 0) {
            --i;
            if (_licenses[set[i]].end <= block.timestamp) {
                set[i] = set[set.length - 1];
                set.pop();
            }
        }
    }

    /// @dev The terms a license was offered on (what a pledgee's consent names).
    function _termsOf(License storage license) private view returns (LicenseTerms memory) {
        return LicenseTerms(
            license.licensee,
            license.kind,
            license.start,
            license.end,
            license.territory,
            license.fieldOfUse,
            license.termsHash,
            license.fee,
            license.sublicensable
        );
    }

    function _remove(uint256[] storage set, uint256 licenseId) private {
        uint256 length = set.length;
        for (uint256 i = 0; i < length; ++i) {
            if (set[i] == licenseId) {
                set[i] = set[length - 1];
                set.pop();
                return;
            }
        }
    }

    /// @dev The key of a scope of non-exclusive licenses: its term, territory and field of use.
    function _scopeKey(uint40 start, uint40 end, bytes32 territory, bytes32 fieldOfUse) private pure returns (bytes32) {
        return keccak256(abi.encode(start, end, territory, fieldOfUse));
    }

    function _existing(uint256 licenseId) private view returns (License storage license) {
        license = _licenses[licenseId];
        if (license.status == LicenseStatus.None) revert LicenseRegistryUnknownLicense(licenseId);
    }

    function _statusOf(License storage license) private view returns (LicenseStatus) {
        LicenseStatus status = license.status;
        if (status == LicenseStatus.Active && license.end <= block.timestamp) return LicenseStatus.Expired;
        return status;
    }

    /// @dev Hierarchical codes overlap when one is a prefix of the other (zero is the empty prefix).
    function _scopesOverlap(bytes32 a, bytes32 b) private pure returns (bool) {
        uint256 n = Math.min(_codeLength(a), _codeLength(b));
        if (n == 0) return true;
        bytes32 mask = bytes32(type(uint256).max << (256 - 8 * n));
        return (a & mask) == (b & mask);
    }

    /// @dev The length of a left-aligned code: 32 minus its trailing zero bytes.
    function _codeLength(bytes32 code) private pure returns (uint256) {
        uint256 x = uint256(code);
        if (x == 0) return 0;
        unchecked {
            return 32 - Math.log2(x & (0 - x)) / 8;
        }
    }
}
