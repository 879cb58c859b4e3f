// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";
import {Roles} from "./types/Roles.sol";

/// @title LicenseRegistry
/// @notice Licenses of IP assets, offered by the owner and accepted by the licensee. Each asset
/// keeps a set of its active licenses, bounded by {MAX_ACTIVE_LICENSES} so that the overlap check
/// of an acceptance costs bounded gas; licenses that expired by time leave the set lazily, at the
/// next acceptance for that asset. An operator the owner approved (the Marketplace) may offer and
/// activate a license in one step ({grant}); the rules are the same private functions.
contract LicenseRegistry is ILicenseRegistry, ERC2771Context {
    /// @inheritdoc ILicenseRegistry
    uint256 public constant MAX_ACTIVE_LICENSES = 32;

    /// @notice The asset registry and role authority.
    IIPRegistry public immutable registry;
    /// @notice The pledge registry, asked whether a pledged asset's pledgee consented to a license.
    IPledgeRegistry public immutable pledges;

    mapping(uint256 licenseId => License) private _licenses;
    mapping(uint256 assetId => uint256[] licenseIds) private _licensesOf;
    /// @dev Written through storage pointers (`active.push`, `active.pop`), which Slither's
    /// uninitialized-state detector does not follow (security/slither-triage.md).
    // slither-disable-next-line uninitialized-state
    mapping(uint256 assetId => uint256[] licenseIds) private _activeOf;
    mapping(address owner => mapping(address operator => bool)) private _operators;
    uint256 private _licenseCount;

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
        if (!_operators[owner][operator]) revert LicenseRegistryUnauthorizedOperator(owner, operator);
        licenseId = _offer(assetId, owner, asset.frozenUntil, terms, false);
        _activate(assetId, licenseId, _licenses[licenseId]);
        emit LicenseGranted(licenseId, assetId, operator);
    }

    /// @inheritdoc ILicenseRegistry
    function setOperator(address operator, bool approved) external {
        address owner = _msgSender();
        if (operator == address(0) || operator == owner) revert LicenseRegistryInvalidOperator(operator);
        _operators[owner][operator] = approved;
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
        if (status == LicenseStatus.Active) _removeActive(assetId, licenseId);
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
    function activeLicensesOf(uint256 assetId)
        external
        view
        returns (uint256[] memory licenseIds, License[] memory licenses)
    {
        uint256[] storage active = _activeOf[assetId];
        uint256 count = 0;
        for (uint256 i = 0; i < active.length; ++i) {
            if (_licenses[active[i]].end > block.timestamp) ++count;
        }
        licenseIds = new uint256[](count);
        licenses = new License[](count);
        uint256 n = 0;
        for (uint256 i = 0; i < active.length; ++i) {
            License storage license = _licenses[active[i]];
            if (license.end <= block.timestamp) continue;
            licenseIds[n] = active[i];
            licenses[n] = license;
            ++n;
        }
    }

    /// @inheritdoc ILicenseRegistry
    function isOperator(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
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
        emit LicenseOffered(licenseId, assetId, terms.licensee, owner, terms);
    }

    /// @dev The rules of an acceptance that do not depend on who accepts, then the activation:
    /// the pledgee's consent, the exclusivity rules and the bound on active licenses.
    function _activate(uint256 assetId, uint256 licenseId, License storage license) private {
        uint256 pledgeId = pledges.activePledgeOf(assetId);
        if (pledgeId != 0 && !pledges.isLicenseConsented(pledgeId, licenseId)) {
            revert LicenseRegistryAssetPledged(assetId, pledgeId);
        }
        _pruneExpired(assetId);
        _requireNoConflict(assetId, license.kind, license.start, license.end, license.territory, license.fieldOfUse);
        uint256[] storage active = _activeOf[assetId];
        if (active.length >= MAX_ACTIVE_LICENSES) revert LicenseRegistryActiveLicenseLimit(assetId, MAX_ACTIVE_LICENSES);
        license.status = LicenseStatus.Active;
        active.push(licenseId);
        emit LicenseAccepted(licenseId, assetId, license.licensee);
    }

    /// @dev Reverts if a license of `kind` over [start, end) x territory x field would overlap an
    /// active license of the asset where either of the two is exclusive or sole.
    function _requireNoConflict(
        uint256 assetId,
        LicenseKind kind,
        uint40 start,
        uint40 end,
        bytes32 territory,
        bytes32 fieldOfUse
    ) private view {
        uint256[] storage active = _activeOf[assetId];
        bool exclusive = kind != LicenseKind.NonExclusive;
        for (uint256 i = 0; i < active.length; ++i) {
            License storage other = _licenses[active[i]];
            if (!exclusive && other.kind == LicenseKind.NonExclusive) continue;
            uint40 otherEnd = other.end;
            if (otherEnd <= block.timestamp) continue;
            if (
                start < otherEnd && other.start < end && _scopesOverlap(territory, other.territory)
                    && _scopesOverlap(fieldOfUse, other.fieldOfUse)
            ) revert LicenseRegistryExclusivityConflict(assetId, active[i], other.kind);
        }
    }

    /// @dev Drops the asset's licenses that expired by time from its active set.
    function _pruneExpired(uint256 assetId) private {
        uint256[] storage active = _activeOf[assetId];
        uint256 i = active.length;
        while (i > 0) {
            --i;
            if (_licenses[active[i]].end <= block.timestamp) {
                active[i] = active[active.length - 1];
                active.pop();
            }
        }
    }

    function _removeActive(uint256 assetId, uint256 licenseId) private {
        uint256[] storage active = _activeOf[assetId];
        uint256 length = active.length;
        for (uint256 i = 0; i < length; ++i) {
            if (active[i] == licenseId) {
                active[i] = active[length - 1];
                active.pop();
                return;
            }
        }
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
