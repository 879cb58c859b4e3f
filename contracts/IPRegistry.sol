// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";
import {Roles} from "./types/Roles.sol";

/// @title IPRegistry
/// @notice The ERC-721 registry of IP assets and ipledger's single role authority: the
/// LicenseRegistry and the PledgeRegistry ask it `hasRole`. Every move of an asset passes one
/// guard, in {_update}: a frozen asset never moves (not even by enforcement), and a pledged asset
/// moves only by the PledgeRegistry's enforcement or with its pledgee's one-time consent for that
/// recipient. A move also clears `verified`, since the official register still names the old owner,
/// and counts in {transferCountOf}, so that what was agreed with an owner (a market listing) can tell
/// an owner who kept the asset from one who got it back.
/// @dev Gas of a registration. A registration writes three fresh slots (the asset's record, the
/// content-hash claim and the ref claim) plus the owner's balance and the counter. The record
/// carries the registrant, so the asset is minted the way OpenZeppelin's ERC721Consecutive mints:
/// the balance is raised with {_increaseBalance}, {_ownerOf} falls back to the record's registrant
/// while ERC721's own owner slot is empty, and that slot is first written by the first transfer.
/// This saves ERC-721's owner slot (22,100 gas) at registration and costs it once at the first
/// transfer instead. Strings stay out of storage: the metadata URI is only in {AssetRegistered}
/// and {tokenURI} is the admin-set base URI followed by the id. `contentHash`, `ref` and
/// `metadataHash` are in {AssetRegistered}; the first two are bound to the asset by the claims.
/// There is no burn: an asset, once registered, always has an owner.
/// An open ownership dispute is a third rule of the guard, next to the freeze: it costs every move
/// one read of {ownershipDisputeOf}'s slot. Disputes and parents are kept out of the record so
/// that a registration still writes only what it did.
contract IPRegistry is IIPRegistry, ERC721, AccessControl, ERC2771Context {
    /// @notice The IP service centre's role (verification, status, dates, freezes, recordal).
    bytes32 public constant REGISTRAR_ROLE = Roles.REGISTRAR;
    /// @notice An accredited bank's role (accepts pledges).
    bytes32 public constant PLEDGEE_ROLE = Roles.PLEDGEE;

    /// @dev One slot per asset (32 bytes): what a registration writes and the transfer guard reads.
    /// `registrant` is the owner until the first transfer writes ERC721's owner slot; `transfers` counts
    /// the asset's moves (see {transferCountOf}) modulo 2^24: it wraps rather than stop an asset from
    /// moving, and a wrap needs 16,777,216 moves; `holderDisputed` is the registrar's squatting mark.
    struct Record {
        address registrant;
        AssetKind kind;
        LegalStatus status;
        bool verified;
        uint40 frozenUntil;
        uint24 transfers;
        bool holderDisputed;
    }

    /// @dev The registrar's official dates, written only by the registrar.
    struct Dates {
        uint40 expiresAt;
        uint40 feesPaidUntil;
    }

    mapping(uint256 assetId => Record) private _records;
    mapping(uint256 assetId => Dates) private _dates;
    mapping(uint256 assetId => Freeze) private _freezes;
    mapping(bytes32 contentHash => uint256 assetId) private _assetIdOfContent;
    mapping(bytes32 ref => uint256 assetId) private _assetIdOfRef;
    mapping(uint256 disputeId => Dispute) private _disputes;
    mapping(uint256 assetId => uint256[] disputeIds) private _openDisputes;
    mapping(uint256 assetId => uint256 disputeId) private _ownershipDispute;
    mapping(uint256 assetId => uint256 parentId) private _parentOf;
    mapping(uint256 parentId => uint256[] assetIds) private _childrenOf;
    uint256 private _assetCount;
    uint256 private _disputeCount;
    address private _pledgeRegistry;
    string private _baseTokenURI;

    /// @param trustedForwarder The IpledgerForwarder that relays users' signed requests.
    /// @param admin Gets DEFAULT_ADMIN_ROLE (grants and revokes the other roles).
    constructor(address trustedForwarder, address admin)
        ERC721("ipledger IP asset", "IPA")
        ERC2771Context(trustedForwarder)
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // -- owners ------------------------------------------------------------------------------------

    /// @inheritdoc IIPRegistry
    function register(bytes32 contentHash, AssetKind kind, bytes32 ref, bytes32 metadataHash, string calldata uri)
        external
        returns (uint256 assetId)
    {
        if (contentHash == bytes32(0)) revert IPRegistryZeroContentHash();
        if (metadataHash == bytes32(0)) revert IPRegistryZeroMetadataHash();
        uint256 prior = _assetIdOfContent[contentHash];
        if (prior != 0) revert IPRegistryContentAlreadyRegistered(contentHash, prior);
        assetId = ++_assetCount;
        _assetIdOfContent[contentHash] = assetId;
        if (ref != bytes32(0)) {
            prior = _assetIdOfRef[ref];
            if (prior != 0) revert IPRegistryRefAlreadyRegistered(ref, prior);
            _assetIdOfRef[ref] = assetId;
        }
        address owner = _msgSender();
        _records[assetId] = Record(owner, kind, LegalStatus.Filed, false, 0, 0, false);
        _increaseBalance(owner, 1);
        emit Transfer(address(0), owner, assetId);
        emit AssetRegistered(assetId, owner, ref, kind, contentHash, metadataHash, uri);
    }

    /// @inheritdoc IIPRegistry
    function setParent(uint256 assetId, uint256 parentId) external {
        address caller = _msgSender();
        if (_requireOwned(assetId) != caller) revert IPRegistryNotOwner(assetId, caller);
        if (parentId == 0 || parentId >= assetId) revert IPRegistryInvalidParent(assetId, parentId);
        uint256 current = _parentOf[assetId];
        if (current != 0) revert IPRegistryParentAlreadySet(assetId, current);
        _parentOf[assetId] = parentId;
        _childrenOf[parentId].push(assetId);
        emit ParentSet(assetId, parentId, caller);
    }

    // -- registrar ---------------------------------------------------------------------------------

    /// @inheritdoc IIPRegistry
    function openDispute(uint256 assetId, DisputeKind kind, bytes32 caseRef, bytes32 evidenceHash)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (uint256 disputeId)
    {
        _existing(assetId);
        if (caseRef == bytes32(0)) revert IPRegistryZeroDisputeRef();
        disputeId = ++_disputeCount;
        if (kind == DisputeKind.Ownership) {
            uint256 open = _ownershipDispute[assetId];
            if (open != 0) revert IPRegistryOwnershipAlreadyDisputed(assetId, open);
            _ownershipDispute[assetId] = disputeId;
        }
        _disputes[disputeId] = Dispute(
            SafeCast.toUint64(assetId), kind, DisputeOutcome.Open, uint40(block.timestamp), 0, caseRef, evidenceHash, 0
        );
        _openDisputes[assetId].push(disputeId);
        emit DisputeOpened(assetId, disputeId, kind, caseRef, evidenceHash, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    function resolveDispute(uint256 disputeId, DisputeOutcome outcome, bytes32 resolutionHash)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        Dispute storage dispute = _existingDispute(disputeId);
        if (dispute.outcome != DisputeOutcome.Open) revert IPRegistryDisputeNotOpen(disputeId, dispute.outcome);
        if (outcome == DisputeOutcome.Open) revert IPRegistryInvalidDisputeOutcome();
        uint256 assetId = dispute.assetId;
        dispute.outcome = outcome;
        dispute.resolvedAt = uint40(block.timestamp);
        dispute.resolutionHash = resolutionHash;
        if (_ownershipDispute[assetId] == disputeId) delete _ownershipDispute[assetId]; // it was of ownership
        uint256[] storage open = _openDisputes[assetId];
        uint256 last = open.length - 1;
        for (uint256 i = 0; i < last; ++i) {
            if (open[i] == disputeId) {
                open[i] = open[last];
                break;
            }
        }
        open.pop();
        emit DisputeResolved(assetId, disputeId, outcome, resolutionHash, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    function setVerified(uint256 assetId, bool verified) external onlyRole(REGISTRAR_ROLE) {
        _existing(assetId).verified = verified;
        emit VerificationChanged(assetId, verified, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    function setLegalStatus(uint256 assetId, LegalStatus status) external onlyRole(REGISTRAR_ROLE) {
        _existing(assetId).status = status;
        emit LegalStatusChanged(assetId, status, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    function setDates(uint256 assetId, uint40 expiresAt, uint40 feesPaidUntil) external onlyRole(REGISTRAR_ROLE) {
        _existing(assetId);
        _dates[assetId] = Dates(expiresAt, feesPaidUntil);
        emit DatesChanged(assetId, expiresAt, feesPaidUntil, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    /// @dev Bad input (the zero ref, never bound) is refused before the role, as with any caller.
    function unbindRef(bytes32 ref, bytes32 reasonHash) external {
        if (ref == bytes32(0)) revert IPRegistryZeroRef();
        _checkRole(REGISTRAR_ROLE);
        uint256 assetId = _assetIdOfRef[ref];
        if (assetId == 0) revert IPRegistryUnknownRef(ref);
        delete _assetIdOfRef[ref];
        emit RefUnbound(ref, assetId, reasonHash, _msgSender());
        _disputeHolder(assetId, reasonHash);
    }

    /// @inheritdoc IIPRegistry
    /// @dev As {unbindRef}: the zero hash (never registered) is refused before the role.
    function unbindContent(bytes32 contentHash, bytes32 reasonHash) external {
        if (contentHash == bytes32(0)) revert IPRegistryZeroContentHash();
        _checkRole(REGISTRAR_ROLE);
        uint256 assetId = _assetIdOfContent[contentHash];
        if (assetId == 0) revert IPRegistryUnknownContent(contentHash);
        delete _assetIdOfContent[contentHash];
        emit ContentUnbound(contentHash, assetId, reasonHash, _msgSender());
        _disputeHolder(assetId, reasonHash);
    }

    /// @inheritdoc IIPRegistry
    function setHolderDisputed(uint256 assetId, bool disputed, bytes32 reasonHash) external onlyRole(REGISTRAR_ROLE) {
        _existing(assetId).holderDisputed = disputed;
        emit HolderDisputeChanged(assetId, disputed, reasonHash, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    function freeze(
        uint256 assetId,
        string calldata court,
        string calldata caseNumber,
        bytes32 reasonHash,
        uint40 until
    ) external onlyRole(REGISTRAR_ROLE) {
        Record storage record = _existing(assetId);
        uint40 current = record.frozenUntil;
        if (current > block.timestamp) revert IPRegistryAlreadyFrozen(assetId, current);
        if (bytes(court).length == 0 || bytes(caseNumber).length == 0) revert IPRegistryEmptyCourtOrder();
        if (until <= block.timestamp) revert IPRegistryInvalidFreezeTerm(until);
        record.frozenUntil = until;
        _freezes[assetId] = Freeze(court, caseNumber, reasonHash, uint40(block.timestamp), until, 0);
        emit AssetFrozen(assetId, court, caseNumber, reasonHash, until, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    function renewFreeze(uint256 assetId, uint40 until) external onlyRole(REGISTRAR_ROLE) {
        Record storage record = _frozen(assetId);
        if (until <= record.frozenUntil) revert IPRegistryInvalidFreezeTerm(until);
        record.frozenUntil = until;
        _freezes[assetId].until = until;
        emit FreezeRenewed(assetId, until, _msgSender());
    }

    /// @inheritdoc IIPRegistry
    function unfreeze(uint256 assetId, bytes32 reasonHash) external onlyRole(REGISTRAR_ROLE) {
        _frozen(assetId).frozenUntil = 0;
        _freezes[assetId].liftedAt = uint40(block.timestamp);
        emit AssetUnfrozen(assetId, reasonHash, _msgSender());
    }

    // -- pledge enforcement ------------------------------------------------------------------------

    /// @inheritdoc IIPRegistry
    /// @dev The caller is read from `msg.sender`, not {_msgSender}: this is a contract-to-contract call.
    function enforceTransfer(uint256 assetId, address to) external {
        if (msg.sender != _pledgeRegistry) revert IPRegistryUnauthorizedCaller(msg.sender);
        _transfer(_requireOwned(assetId), to, assetId);
    }

    // -- admin -------------------------------------------------------------------------------------

    /// @inheritdoc IIPRegistry
    function setPledgeRegistry(address pledgeRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_pledgeRegistry != address(0)) revert IPRegistryPledgeRegistryAlreadySet(_pledgeRegistry);
        if (pledgeRegistry_ == address(0)) revert IPRegistryZeroAddress();
        _pledgeRegistry = pledgeRegistry_;
        emit PledgeRegistrySet(pledgeRegistry_);
    }

    /// @inheritdoc IIPRegistry
    function setBaseURI(string calldata baseURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _baseTokenURI = baseURI;
        emit BaseURISet(baseURI);
    }

    // -- views -------------------------------------------------------------------------------------

    /// @inheritdoc IIPRegistry
    function assetOf(uint256 assetId) external view returns (Asset memory) {
        Record memory record = _records[assetId];
        address owner = _requireOwned(assetId);
        Dates memory dates = _dates[assetId];
        return Asset(
            owner,
            record.kind,
            record.status,
            record.verified,
            dates.expiresAt,
            dates.feesPaidUntil,
            record.frozenUntil,
            record.holderDisputed
        );
    }

    /// @inheritdoc IIPRegistry
    function transferCountOf(uint256 assetId) external view returns (uint256) {
        return _existing(assetId).transfers;
    }

    /// @inheritdoc IIPRegistry
    function freezeOf(uint256 assetId) external view returns (Freeze memory) {
        return _freezes[assetId];
    }

    /// @inheritdoc IIPRegistry
    function isFrozen(uint256 assetId) external view returns (bool) {
        return _records[assetId].frozenUntil > block.timestamp;
    }

    /// @inheritdoc IIPRegistry
    function disputeOf(uint256 disputeId) external view returns (Dispute memory) {
        return _existingDispute(disputeId);
    }

    /// @inheritdoc IIPRegistry
    function openDisputesOf(uint256 assetId) external view returns (uint256[] memory) {
        return _openDisputes[assetId];
    }

    /// @inheritdoc IIPRegistry
    function ownershipDisputeOf(uint256 assetId) external view returns (uint256) {
        return _ownershipDispute[assetId];
    }

    /// @inheritdoc IIPRegistry
    function disputeCount() external view returns (uint256) {
        return _disputeCount;
    }

    /// @inheritdoc IIPRegistry
    function parentOf(uint256 assetId) external view returns (uint256) {
        return _parentOf[assetId];
    }

    /// @inheritdoc IIPRegistry
    function childrenOf(uint256 assetId) external view returns (uint256[] memory) {
        return _childrenOf[assetId];
    }

    /// @inheritdoc IIPRegistry
    function assetIdOfContent(bytes32 contentHash) external view returns (uint256) {
        return _assetIdOfContent[contentHash];
    }

    /// @inheritdoc IIPRegistry
    function assetIdOfRef(bytes32 ref) external view returns (uint256) {
        return _assetIdOfRef[ref];
    }

    /// @inheritdoc IIPRegistry
    function assetCount() external view returns (uint256) {
        return _assetCount;
    }

    /// @inheritdoc IIPRegistry
    function pledgeRegistry() external view returns (address) {
        return _pledgeRegistry;
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return interfaceId == type(IIPRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // -- the transfer guard ------------------------------------------------------------------------

    /// @dev The one hook every move passes. Authorization first (so a stranger learns nothing else),
    /// then the freeze, then an open ownership dispute, then the pledge: the PledgeRegistry itself moves the asset only to enforce a
    /// pledge; anyone else needs the asset unpledged or the pledgee's consent for `to`, which the
    /// PledgeRegistry uses up. Minting does not pass here (see the contract notes), so `from` is
    /// never zero: an unknown id reverts.
    function _update(address to, uint256 assetId, address auth) internal override returns (address) {
        address from = _ownerOf(assetId);
        if (from == address(0)) revert ERC721NonexistentToken(assetId);
        if (auth != address(0)) _checkAuthorized(from, auth, assetId);
        Record storage record = _records[assetId];
        uint40 until = record.frozenUntil;
        if (until > block.timestamp) revert IPRegistryAssetFrozen(assetId, until);
        uint256 disputeId = _ownershipDispute[assetId];
        if (disputeId != 0) revert IPRegistryAssetDisputed(assetId, disputeId);
        address pledges = _pledgeRegistry;
        if (pledges != address(0) && msg.sender != pledges) {
            uint256 pledgeId = IPledgeRegistry(pledges).authorizeTransfer(assetId, to);
            if (pledgeId != 0) revert IPRegistryAssetPledged(assetId, pledgeId);
        }
        unchecked {
            record.transfers += 1;
        }
        if (record.verified) {
            record.verified = false;
            emit VerificationChanged(assetId, false, _msgSender());
        }
        return super._update(to, assetId, address(0));
    }

    /// @dev ERC721's owner slot once the asset moved, the registrant before (ERC721Consecutive's way).
    function _ownerOf(uint256 assetId) internal view override returns (address owner) {
        owner = super._ownerOf(assetId);
        if (owner == address(0)) owner = _records[assetId].registrant;
    }

    function _baseURI() internal view override returns (string memory) {
        return _baseTokenURI;
    }

    function _existing(uint256 assetId) private view returns (Record storage record) {
        record = _records[assetId];
        if (record.registrant == address(0)) revert ERC721NonexistentToken(assetId);
    }

    /// @dev Marks `assetId` as registered by someone who is not the official holder, and unverified.
    function _disputeHolder(uint256 assetId, bytes32 reasonHash) private {
        Record storage record = _records[assetId];
        record.holderDisputed = true;
        emit HolderDisputeChanged(assetId, true, reasonHash, _msgSender());
        if (record.verified) {
            record.verified = false;
            emit VerificationChanged(assetId, false, _msgSender());
        }
    }

    function _existingDispute(uint256 disputeId) private view returns (Dispute storage dispute) {
        dispute = _disputes[disputeId];
        if (dispute.openedAt == 0) revert IPRegistryUnknownDispute(disputeId);
    }

    function _frozen(uint256 assetId) private view returns (Record storage record) {
        record = _existing(assetId);
        if (record.frozenUntil <= block.timestamp) revert IPRegistryNotFrozen(assetId);
    }

    // -- ERC-2771 ----------------------------------------------------------------------------------

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
