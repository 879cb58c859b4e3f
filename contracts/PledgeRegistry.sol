// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";
import {Roles} from "./types/Roles.sol";

/// @title PledgeRegistry
/// @notice Pledges of IP assets to accredited banks: at most one active pledge per asset. The
/// IPRegistry's transfer guard asks this contract about every move ({authorizeTransfer}) and lets
/// it alone move a pledged asset without consent ({enforce}); the LicenseRegistry asks it whether
/// the pledgee consented to a license's terms ({authorizeLicense}), and it asks the LicenseRegistry
/// whether the asset's licenses changed since the pledgee's check ({accept}).
contract PledgeRegistry is IPledgeRegistry, ERC2771Context {
    /// @notice The asset registry and role authority this registry serves.
    IIPRegistry public immutable registry;

    mapping(uint256 pledgeId => Pledge) private _pledges;
    mapping(uint256 assetId => uint256 pledgeId) private _activePledge;
    mapping(uint256 pledgeId => address recipient) private _transferConsent;
    /// @dev Keyed by pledge: a released or enforced pledge's consents are never read again.
    mapping(uint256 pledgeId => mapping(bytes32 consentId => bool)) private _licenseConsent;
    uint256 private _pledgeCount;
    ILicenseRegistry private _licenseRegistry;

    constructor(address trustedForwarder, IIPRegistry registry_) ERC2771Context(trustedForwarder) {
        registry = registry_;
    }

    /// @inheritdoc IPledgeRegistry
    function propose(
        uint256 assetId,
        address pledgee,
        uint256 principal,
        bytes3 currency,
        uint40 maturity,
        bytes32 contractHash
    ) external returns (uint256 pledgeId) {
        address owner = _msgSender();
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != owner) revert PledgeRegistryNotOwner(assetId, owner);
        if (pledgee == address(0) || pledgee == owner) revert PledgeRegistryInvalidPledgee(pledgee);
        if (principal == 0) revert PledgeRegistryZeroPrincipal();
        if (currency == bytes3(0)) revert PledgeRegistryZeroCurrency();
        _requireAccredited(pledgee);
        _requirePledgeable(assetId, asset, maturity);
        pledgeId = ++_pledgeCount;
        _pledges[pledgeId] = Pledge(
            SafeCast.toUint64(assetId), owner, PledgeStatus.Proposed, pledgee, maturity, currency, principal, contractHash
        );
        emit PledgeProposed(pledgeId, assetId, pledgee, owner, principal, currency, maturity, contractHash);
    }

    /// @inheritdoc IPledgeRegistry
    function accept(uint256 pledgeId, uint256 encumbranceVersion) external {
        Pledge storage pledge = _pledgeeOf(pledgeId, PledgeStatus.Proposed);
        address pledgee = pledge.pledgee;
        _requireAccredited(pledgee);
        uint256 assetId = pledge.assetId;
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        if (asset.owner != pledge.pledgor) revert PledgeRegistryProposalStale(pledgeId, pledge.pledgor, asset.owner);
        _requirePledgeable(assetId, asset, pledge.maturity);
        ILicenseRegistry licenses = _licenseRegistry;
        if (address(licenses) == address(0)) revert PledgeRegistryLicenseRegistryNotSet();
        uint256 version = licenses.encumbranceVersionOf(assetId);
        if (version != encumbranceVersion) {
            revert PledgeRegistryEncumbrancesChanged(pledgeId, encumbranceVersion, version);
        }
        pledge.status = PledgeStatus.Active;
        _activePledge[assetId] = pledgeId;
        emit PledgeAccepted(pledgeId, assetId, pledgee);
    }

    /// @inheritdoc IPledgeRegistry
    function cancel(uint256 pledgeId) external {
        Pledge storage pledge = _existing(pledgeId);
        address caller = _msgSender();
        if (caller != pledge.pledgor && caller != pledge.pledgee) revert PledgeRegistryNotParty(pledgeId, caller);
        if (pledge.status != PledgeStatus.Proposed) revert PledgeRegistryNotProposed(pledgeId, pledge.status);
        pledge.status = PledgeStatus.Cancelled;
        emit PledgeCancelled(pledgeId, pledge.assetId, caller);
    }

    /// @inheritdoc IPledgeRegistry
    function release(uint256 pledgeId) external {
        Pledge storage pledge = _pledgeeOf(pledgeId, PledgeStatus.Active);
        uint256 assetId = pledge.assetId;
        pledge.status = PledgeStatus.Released;
        delete _activePledge[assetId];
        delete _transferConsent[pledgeId];
        emit PledgeReleased(pledgeId, assetId, pledge.pledgee);
    }

    /// @inheritdoc IPledgeRegistry
    function enforce(uint256 pledgeId, address buyer) external {
        Pledge storage pledge = _pledgeeOf(pledgeId, PledgeStatus.Active);
        if (block.timestamp <= pledge.maturity) revert PledgeRegistryNotMatured(pledgeId, pledge.maturity);
        uint256 assetId = pledge.assetId;
        address pledgee = pledge.pledgee;
        address to = buyer == address(0) ? pledgee : buyer;
        pledge.status = PledgeStatus.Enforced;
        delete _activePledge[assetId];
        delete _transferConsent[pledgeId];
        emit PledgeEnforced(pledgeId, assetId, pledgee, to);
        registry.enforceTransfer(assetId, to);
    }

    /// @inheritdoc IPledgeRegistry
    function consentToTransfer(uint256 pledgeId, address recipient) external {
        Pledge storage pledge = _pledgeeOf(pledgeId, PledgeStatus.Active);
        _transferConsent[pledgeId] = recipient;
        emit TransferConsented(pledgeId, pledge.assetId, recipient);
    }

    /// @inheritdoc IPledgeRegistry
    function consentToLicense(uint256 pledgeId, ILicenseRegistry.LicenseTerms calldata terms)
        external
        returns (bytes32 consentId)
    {
        Pledge storage pledge = _pledgeeOf(pledgeId, PledgeStatus.Active);
        consentId = keccak256(abi.encode(terms));
        mapping(bytes32 => bool) storage consents = _licenseConsent[pledgeId];
        if (consents[consentId]) revert PledgeRegistryLicenseConsentExists(pledgeId, consentId);
        consents[consentId] = true;
        emit LicenseConsented(pledgeId, pledge.assetId, consentId, terms);
    }

    /// @inheritdoc IPledgeRegistry
    function withdrawLicenseConsent(uint256 pledgeId, bytes32 consentId) external {
        Pledge storage pledge = _pledgeeOf(pledgeId, PledgeStatus.Active);
        mapping(bytes32 => bool) storage consents = _licenseConsent[pledgeId];
        if (!consents[consentId]) revert PledgeRegistryNoLicenseConsent(pledgeId, consentId);
        delete consents[consentId];
        emit LicenseConsentWithdrawn(pledgeId, pledge.assetId, consentId);
    }

    /// @inheritdoc IPledgeRegistry
    /// @dev The caller is read from `msg.sender`: this is the LicenseRegistry calling.
    function authorizeLicense(uint256 assetId, uint256 licenseId, ILicenseRegistry.LicenseTerms calldata terms)
        external
        returns (uint256 blockingPledgeId)
    {
        if (msg.sender != address(_licenseRegistry)) revert PledgeRegistryUnauthorizedCaller(msg.sender);
        uint256 pledgeId = _activePledge[assetId];
        if (pledgeId == 0) return 0;
        mapping(bytes32 => bool) storage consents = _licenseConsent[pledgeId];
        bytes32 consentId = keccak256(abi.encode(terms));
        if (!consents[consentId]) {
            ILicenseRegistry.LicenseTerms memory anyone = terms;
            anyone.licensee = address(0);
            consentId = keccak256(abi.encode(anyone));
            if (!consents[consentId]) return pledgeId;
        }
        delete consents[consentId];
        emit LicenseConsentUsed(pledgeId, assetId, consentId, licenseId);
        return 0;
    }

    /// @inheritdoc IPledgeRegistry
    function setLicenseRegistry(address licenseRegistry_) external {
        address caller = _msgSender();
        if (!IAccessControl(address(registry)).hasRole(Roles.ADMIN, caller)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(caller, Roles.ADMIN);
        }
        if (address(_licenseRegistry) != address(0)) {
            revert PledgeRegistryLicenseRegistryAlreadySet(address(_licenseRegistry));
        }
        if (licenseRegistry_ == address(0)) revert PledgeRegistryZeroAddress();
        _licenseRegistry = ILicenseRegistry(licenseRegistry_);
        emit LicenseRegistrySet(licenseRegistry_);
    }

    /// @inheritdoc IPledgeRegistry
    /// @dev The caller is read from `msg.sender`: this is the IPRegistry's guard calling.
    function authorizeTransfer(uint256 assetId, address to) external returns (uint256 blockingPledgeId) {
        if (msg.sender != address(registry)) revert PledgeRegistryUnauthorizedCaller(msg.sender);
        uint256 pledgeId = _activePledge[assetId];
        if (pledgeId == 0) return 0;
        if (to == address(0) || _transferConsent[pledgeId] != to) return pledgeId;
        delete _transferConsent[pledgeId];
        emit TransferConsentUsed(pledgeId, assetId, to);
        return 0;
    }

    /// @inheritdoc IPledgeRegistry
    function pledgeOf(uint256 pledgeId) external view returns (Pledge memory) {
        return _existing(pledgeId);
    }

    /// @inheritdoc IPledgeRegistry
    function activePledgeOf(uint256 assetId) external view returns (uint256) {
        return _activePledge[assetId];
    }

    /// @inheritdoc IPledgeRegistry
    function transferConsentOf(uint256 pledgeId) external view returns (address) {
        return _transferConsent[pledgeId];
    }

    /// @inheritdoc IPledgeRegistry
    function isLicenseConsented(uint256 pledgeId, bytes32 consentId) external view returns (bool) {
        return _pledges[pledgeId].status == PledgeStatus.Active && _licenseConsent[pledgeId][consentId];
    }

    /// @inheritdoc IPledgeRegistry
    function licenseConsentId(ILicenseRegistry.LicenseTerms calldata terms) external pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }

    /// @inheritdoc IPledgeRegistry
    function licenseRegistry() external view returns (address) {
        return address(_licenseRegistry);
    }

    /// @inheritdoc IPledgeRegistry
    function pledgeCount() external view returns (uint256) {
        return _pledgeCount;
    }

    /// @dev The rules an asset and a maturity must meet both when a pledge is proposed and when it is
    /// accepted (time passes and the registrar acts in between).
    function _requirePledgeable(uint256 assetId, IIPRegistry.Asset memory asset, uint40 maturity) private view {
        uint256 active = _activePledge[assetId];
        if (active != 0) revert PledgeRegistryAlreadyPledged(assetId, active);
        if (asset.frozenUntil > block.timestamp) revert PledgeRegistryAssetFrozen(assetId, asset.frozenUntil);
        uint256 disputeId = registry.ownershipDisputeOf(assetId);
        if (disputeId != 0) revert PledgeRegistryAssetDisputed(assetId, disputeId);
        IIPRegistry.LegalStatus status = asset.status;
        if (
            status == IIPRegistry.LegalStatus.Invalidated || status == IIPRegistry.LegalStatus.Lapsed
                || status == IIPRegistry.LegalStatus.Expired
        ) revert PledgeRegistryAssetNotPledgeable(assetId, status);
        uint40 expiresAt = asset.expiresAt;
        if (expiresAt != 0 && expiresAt <= block.timestamp) revert PledgeRegistryAssetPastExpiry(assetId, expiresAt);
        if (maturity <= block.timestamp) revert PledgeRegistryInvalidMaturity(maturity);
        if (expiresAt != 0 && maturity > expiresAt) revert PledgeRegistryMaturityAfterExpiry(maturity, expiresAt);
    }

    function _requireAccredited(address pledgee) private view {
        if (!IAccessControl(address(registry)).hasRole(Roles.PLEDGEE, pledgee)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(pledgee, Roles.PLEDGEE);
        }
    }

    function _existing(uint256 pledgeId) private view returns (Pledge storage pledge) {
        pledge = _pledges[pledgeId];
        if (pledge.status == PledgeStatus.None) revert PledgeRegistryUnknownPledge(pledgeId);
    }

    /// @dev The pledge, if the caller is its pledgee and it has `status`.
    function _pledgeeOf(uint256 pledgeId, PledgeStatus status) private view returns (Pledge storage pledge) {
        pledge = _existing(pledgeId);
        address caller = _msgSender();
        if (caller != pledge.pledgee) revert PledgeRegistryNotPledgee(pledgeId, caller);
        if (pledge.status != status) {
            if (status == PledgeStatus.Proposed) revert PledgeRegistryNotProposed(pledgeId, pledge.status);
            revert PledgeRegistryNotActive(pledgeId, pledge.status);
        }
    }
}
