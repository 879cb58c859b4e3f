// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IP assets as ERC-721 tokens, with the registrar's record of each and one transfer guard.
/// @notice An asset is a patent, design, copyright, trade secret, research result or trademark
/// registered by its owner. On chain are only hashes and codes: `contentHash` (the protected
/// content, unique), `ref` (the official number, unique when present), `metadataHash` and a URI
/// of the off-chain metadata document (title etc.). The `ref`, `contentHash`, `metadataHash` and
/// URI are published in {AssetRegistered}; the first three are also bound to the asset on chain by
/// {assetIdOfContent} and {assetIdOfRef}. The record is evidence, not the official register:
/// `verified` says whether the registrar has reconciled it with the official record.
interface IIPRegistry {
    /// @notice What is registered. The order is part of the ABI: append only.
    enum AssetKind {
        InventionPatent,
        UtilityModel,
        Design,
        SoftwareCopyright,
        TradeSecret,
        ResearchResult,
        Trademark
    }

    /// @notice The legal status in the official register, as last set by the registrar.
    /// A new asset is `Filed` until the registrar says otherwise. Append only.
    enum LegalStatus {
        Filed,
        Granted,
        InvalidationRequested,
        Lapsed,
        Expired,
        Invalidated
    }

    /// @notice An asset as the contracts see it now. Dates are unix seconds; 0 means "not known"
    /// (for `expiresAt` and `feesPaidUntil`) or "not frozen" (`frozenUntil`). `holderDisputed` is the
    /// registrar's mark that the registrant is not the holder in the official register (set when the
    /// registrar unbinds a squatted official number or content hash, or by {setHolderDisputed}).
    struct Asset {
        address owner;
        AssetKind kind;
        LegalStatus status;
        bool verified;
        uint40 expiresAt;
        uint40 feesPaidUntil;
        uint40 frozenUntil;
        bool holderDisputed;
    }

    /// @notice What a dispute recorded by the registrar is about. Append only.
    /// `Ownership` (who holds the right) blocks every move of the asset and new pledges while open.
    enum DisputeKind {
        Ownership,
        InvalidationRequest,
        InfringementSuit,
        Other
    }

    /// @notice How a dispute ended; `Open` while it has not. Append only.
    enum DisputeOutcome {
        Open,
        Upheld,
        Dismissed,
        Settled,
        Withdrawn
    }

    /// @notice A dispute over an asset, as the registrar recorded it (from a court's or the office's
    /// file): `ref` is the case number as left-aligned ASCII, `evidenceHash` the hash of the filing,
    /// `resolutionHash` the hash of the decision that ended it. Times are unix seconds (0: not yet).
    struct Dispute {
        uint64 assetId;
        DisputeKind kind;
        DisputeOutcome outcome;
        uint40 openedAt;
        uint40 resolvedAt;
        bytes32 ref;
        bytes32 evidenceHash;
        bytes32 resolutionHash;
    }

    /// @notice The latest court freeze of an asset. It binds while `until` is in the future; it stays
    /// readable after it lapsed or was lifted (`liftedAt` not 0).
    struct Freeze {
        string court;
        string caseNumber;
        bytes32 reasonHash;
        uint40 frozenAt;
        uint40 until;
        uint40 liftedAt;
    }

    /// @notice The content hash of a registration must not be zero.
    error IPRegistryZeroContentHash();
    /// @notice The metadata hash of a registration must not be zero.
    error IPRegistryZeroMetadataHash();
    /// @notice `contentHash` is already registered, as `assetId`.
    error IPRegistryContentAlreadyRegistered(bytes32 contentHash, uint256 assetId);
    /// @notice The official number `ref` is already registered, as `assetId`.
    error IPRegistryRefAlreadyRegistered(bytes32 ref, uint256 assetId);
    /// @notice The asset is under a court freeze until `until`: it cannot move, be licensed or pledged.
    error IPRegistryAssetFrozen(uint256 assetId, uint256 until);
    /// @notice The asset is pledged under `pledgeId` and the pledgee has not consented to this transfer.
    error IPRegistryAssetPledged(uint256 assetId, uint256 pledgeId);
    /// @notice The asset is already frozen until `until`; renew or lift that freeze instead.
    error IPRegistryAlreadyFrozen(uint256 assetId, uint256 until);
    /// @notice The asset is not frozen now (never frozen, lifted, or lapsed).
    error IPRegistryNotFrozen(uint256 assetId);
    /// @notice A freeze must end in the future, and a renewal later than the current term.
    error IPRegistryInvalidFreezeTerm(uint256 until);
    /// @notice A court order names its court and case number.
    error IPRegistryEmptyCourtOrder();
    /// @notice Only the PledgeRegistry may call this function.
    error IPRegistryUnauthorizedCaller(address caller);
    /// @notice The PledgeRegistry is wired once; it already is, to `pledgeRegistry`.
    error IPRegistryPledgeRegistryAlreadySet(address pledgeRegistry);
    /// @notice The zero address is not a PledgeRegistry.
    error IPRegistryZeroAddress();
    /// @notice No asset is bound to the official number `ref`.
    error IPRegistryUnknownRef(bytes32 ref);
    /// @notice An official number to unbind must not be zero (the zero ref means "none" and is never bound).
    error IPRegistryZeroRef();
    /// @notice No asset is bound to the content hash `contentHash`.
    error IPRegistryUnknownContent(bytes32 contentHash);

    /// @notice An ownership dispute (`disputeId`) over the asset is open: it cannot move until it is resolved.
    error IPRegistryAssetDisputed(uint256 assetId, uint256 disputeId);
    /// @notice A dispute names its case: the zero reference is not one.
    error IPRegistryZeroDisputeRef();
    /// @notice An ownership dispute over the asset is already open (`disputeId`); a further claim joins that case.
    error IPRegistryOwnershipAlreadyDisputed(uint256 assetId, uint256 disputeId);
    /// @notice No dispute has the id `disputeId`.
    error IPRegistryUnknownDispute(uint256 disputeId);
    /// @notice The dispute was already resolved, with `outcome`.
    error IPRegistryDisputeNotOpen(uint256 disputeId, DisputeOutcome outcome);
    /// @notice A resolution names how the dispute ended (upheld, dismissed, settled or withdrawn), not `Open`.
    error IPRegistryInvalidDisputeOutcome();
    /// @notice Only the asset's owner may do this; `caller` is not the owner of `assetId`.
    error IPRegistryNotOwner(uint256 assetId, address caller);
    /// @notice A parent is an asset registered before its child (a lower id, not 0); `parentId` is not one for `assetId`.
    error IPRegistryInvalidParent(uint256 assetId, uint256 parentId);
    /// @notice The asset already names its parent, `parentId`; a parent is named once.
    error IPRegistryParentAlreadySet(uint256 assetId, uint256 parentId);

    /// @notice `owner` registered `assetId`. The token's {IERC721-Transfer} from address 0 comes first.
    event AssetRegistered(
        uint256 indexed assetId,
        address indexed owner,
        bytes32 indexed ref,
        AssetKind kind,
        bytes32 contentHash,
        bytes32 metadataHash,
        string uri
    );
    /// @notice The registrar `by` marked the asset reconciled (or not) with the official record; a
    /// transfer clears the mark (then `by` is the account that moved it).
    event VerificationChanged(uint256 indexed assetId, bool verified, address indexed by);
    /// @notice The registrar set the asset's legal status.
    event LegalStatusChanged(uint256 indexed assetId, LegalStatus status, address indexed registrar);
    /// @notice The registrar set the asset's expiry and annual-fees-paid-until dates.
    event DatesChanged(uint256 indexed assetId, uint40 expiresAt, uint40 feesPaidUntil, address indexed registrar);
    /// @notice The registrar recorded a court freeze of the asset until `until`.
    event AssetFrozen(
        uint256 indexed assetId,
        string court,
        string caseNumber,
        bytes32 reasonHash,
        uint40 until,
        address indexed registrar
    );
    /// @notice The registrar extended the current freeze to `until`.
    event FreezeRenewed(uint256 indexed assetId, uint40 until, address indexed registrar);
    /// @notice The registrar lifted the current freeze (a court's lifting order, by its hash).
    event AssetUnfrozen(uint256 indexed assetId, bytes32 reasonHash, address indexed registrar);
    /// @notice The registrar `registrar` unbound the official number `ref` from `assetId` (the official
    /// register names another holder; `reasonHash` binds the finding). The number is free to register.
    event RefUnbound(bytes32 indexed ref, uint256 indexed assetId, bytes32 reasonHash, address indexed registrar);
    /// @notice The registrar unbound `contentHash` from `assetId`; the content is free to register.
    event ContentUnbound(
        bytes32 indexed contentHash, uint256 indexed assetId, bytes32 reasonHash, address indexed registrar
    );
    /// @notice The registrar marked (or cleared) the asset as registered by someone who is not the
    /// holder in the official register.
    event HolderDisputeChanged(uint256 indexed assetId, bool disputed, bytes32 reasonHash, address indexed registrar);
    /// @notice The registrar recorded dispute `disputeId` over the asset (a case `ref`, the filing's hash).
    event DisputeOpened(
        uint256 indexed assetId,
        uint256 indexed disputeId,
        DisputeKind kind,
        bytes32 ref,
        bytes32 evidenceHash,
        address indexed registrar
    );
    /// @notice The registrar recorded how dispute `disputeId` ended (`resolutionHash`: the decision's hash).
    event DisputeResolved(
        uint256 indexed assetId,
        uint256 indexed disputeId,
        DisputeOutcome outcome,
        bytes32 resolutionHash,
        address indexed registrar
    );
    /// @notice The owner named `parentId` as the asset's parent (a divisional or continuation
    /// application's original, a software version's predecessor).
    event ParentSet(uint256 indexed assetId, uint256 indexed parentId, address indexed owner);
    /// @notice The admin wired the PledgeRegistry whose enforcement and consents the guard obeys.
    event PledgeRegistrySet(address pledgeRegistry);
    /// @notice The admin set the base of {IERC721Metadata-tokenURI} (`baseURI` followed by the id).
    event BaseURISet(string baseURI);

    /// @notice Registers an asset and mints it to the caller, with the next id (1, 2, ...).
    /// @param ref The official number as left-aligned ASCII (e.g. "CN202010123456.7"), zero if none.
    /// @param uri Where the metadata document is; published in {AssetRegistered} only.
    /// Requirements:
    /// - `contentHash` and `metadataHash` are not zero; `contentHash` is not registered yet;
    /// - `ref` is zero or not registered yet.
    /// Emits a {IERC721-Transfer} and an {AssetRegistered} event.
    function register(bytes32 contentHash, AssetKind kind, bytes32 ref, bytes32 metadataHash, string calldata uri)
        external
        returns (uint256 assetId);

    /// @notice Marks the asset reconciled (or not) with the official record (owner and ref).
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset exists.
    /// Emits a {VerificationChanged} event.
    function setVerified(uint256 assetId, bool verified) external;

    /// @notice Sets the asset's legal status as in the official register.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset exists.
    /// Emits a {LegalStatusChanged} event.
    function setLegalStatus(uint256 assetId, LegalStatus status) external;

    /// @notice Sets the official expiry date and the date annual fees are paid until (0: not known).
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset exists.
    /// Emits a {DatesChanged} event.
    function setDates(uint256 assetId, uint40 expiresAt, uint40 feesPaidUntil) external;

    /// @notice The remedy against squatting: frees the official number `ref` from the asset it is bound
    /// to, after the registrar found in the official register that the asset's registrant does not hold
    /// it. The asset keeps existing, marked `holderDisputed` and no longer verified; the real holder can
    /// then register with `ref`, and {assetIdOfRef} no longer names the squatter.
    /// Requirements:
    /// - `ref` is not zero; the caller holds REGISTRAR_ROLE; `ref` is bound to an asset.
    /// Emits a {RefUnbound} event, a {HolderDisputeChanged} event, and a {VerificationChanged} event if
    /// the asset was verified.
    function unbindRef(bytes32 ref, bytes32 reasonHash) external;

    /// @notice The same remedy for a squatted content hash: frees `contentHash` for its real holder.
    /// Requirements:
    /// - `contentHash` is not zero; the caller holds REGISTRAR_ROLE; `contentHash` is bound to an asset.
    /// Emits a {ContentUnbound} event, a {HolderDisputeChanged} event, and a {VerificationChanged} event
    /// if the asset was verified.
    function unbindContent(bytes32 contentHash, bytes32 reasonHash) external;

    /// @notice Marks (or clears) the asset as registered by someone who is not the holder in the
    /// official register; banks see it as a red flag.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset exists.
    /// Emits a {HolderDisputeChanged} event.
    function setHolderDisputed(uint256 assetId, bool disputed, bytes32 reasonHash) external;

    /// @notice Records a court freeze: until `until` the asset cannot move (not even by pledge
    /// enforcement), be licensed or pledged. It lapses by itself at `until`.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset exists and is not frozen now;
    /// - `court` and `caseNumber` are not empty; `until` is in the future.
    /// Emits an {AssetFrozen} event.
    function freeze(
        uint256 assetId,
        string calldata court,
        string calldata caseNumber,
        bytes32 reasonHash,
        uint40 until
    ) external;

    /// @notice Extends the current freeze to `until`.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset is frozen now; `until` is later than its term.
    /// Emits a {FreezeRenewed} event.
    function renewFreeze(uint256 assetId, uint40 until) external;

    /// @notice Lifts the current freeze before its term.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset is frozen now.
    /// Emits an {AssetUnfrozen} event.
    function unfreeze(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Records a dispute over the asset (a court's order or the office's file, recorded by the
    /// service centre). An `Ownership` dispute blocks every move of the asset (pledge enforcement
    /// included) and new pledges until it is resolved; at most one is open per asset.
    /// @param caseRef The case or file number as left-aligned ASCII, as official numbers are kept.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the asset exists; `caseRef` is not zero;
    /// - for `Ownership`, no ownership dispute over the asset is open.
    /// Emits a {DisputeOpened} event.
    function openDispute(uint256 assetId, DisputeKind kind, bytes32 caseRef, bytes32 evidenceHash)
        external
        returns (uint256 disputeId);

    /// @notice Records how an open dispute ended; an ownership dispute no longer blocks the asset.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the dispute exists and is open; `outcome` is not `Open`.
    /// Emits a {DisputeResolved} event.
    function resolveDispute(uint256 disputeId, DisputeOutcome outcome, bytes32 resolutionHash) external;

    /// @notice Names the asset's parent: an asset registered before it (a divisional or continuation
    /// application's original, a software version's predecessor). Named once; a child can only name
    /// a lower id, so parents never form a cycle.
    /// Requirements:
    /// - the caller owns `assetId`; `parentId` exists and is lower than `assetId`; no parent is named yet.
    /// Emits a {ParentSet} event.
    function setParent(uint256 assetId, uint256 parentId) external;

    /// @notice Moves a pledged asset to `to` on the pledgee's enforcement. Called by the
    /// PledgeRegistry only, which checked the pledge; the freeze guard still applies.
    /// Requirements:
    /// - the caller is the PledgeRegistry; the asset exists, is not frozen and not under an open
    ///   ownership dispute; `to` is not zero.
    /// Emits a {IERC721-Transfer} event.
    function enforceTransfer(uint256 assetId, address to) external;

    /// @notice Wires the PledgeRegistry, once.
    /// Requirements:
    /// - the caller holds DEFAULT_ADMIN_ROLE; none is wired yet; `pledgeRegistry` is not zero.
    /// Emits a {PledgeRegistrySet} event.
    function setPledgeRegistry(address pledgeRegistry) external;

    /// @notice Sets the base of token URIs: `tokenURI(id)` is `baseURI` followed by the decimal id
    /// (e.g. the API's "https://host/assets/"), which serves the metadata document of that asset.
    /// Requirements:
    /// - the caller holds DEFAULT_ADMIN_ROLE.
    /// Emits a {BaseURISet} event.
    function setBaseURI(string calldata baseURI) external;

    /// @notice The asset now; reverts with {IERC721Errors-ERC721NonexistentToken} for an unknown id.
    function assetOf(uint256 assetId) external view returns (Asset memory);

    /// @notice How many times the asset moved since it was registered (every ERC-721 transfer, pledge
    /// enforcement included), modulo 2^24. It only grows (short of 16,777,216 moves): a market listing
    /// records it and is void for good once it changed, even if the asset came back to its seller.
    /// Reverts with
    /// {IERC721Errors-ERC721NonexistentToken} for an unknown id.
    function transferCountOf(uint256 assetId) external view returns (uint256);

    /// @notice The latest freeze order of the asset (all empty if it was never frozen).
    function freezeOf(uint256 assetId) external view returns (Freeze memory);

    /// @notice Whether the asset is under a freeze now (`frozenUntil > block.timestamp`).
    function isFrozen(uint256 assetId) external view returns (bool);

    /// @notice Dispute `disputeId`; reverts with {IPRegistryUnknownDispute} for an unknown id.
    function disputeOf(uint256 disputeId) external view returns (Dispute memory);

    /// @notice The ids of the disputes over the asset that are open now (any kind), in no set order.
    function openDisputesOf(uint256 assetId) external view returns (uint256[] memory);

    /// @notice The open ownership dispute that blocks the asset, or 0.
    function ownershipDisputeOf(uint256 assetId) external view returns (uint256);

    /// @notice How many disputes were recorded (the latest id).
    function disputeCount() external view returns (uint256);

    /// @notice The asset's parent, or 0.
    function parentOf(uint256 assetId) external view returns (uint256);

    /// @notice The assets that named this one as their parent, in the order they did.
    function childrenOf(uint256 assetId) external view returns (uint256[] memory);

    /// @notice The asset registered with `contentHash`, or 0.
    function assetIdOfContent(bytes32 contentHash) external view returns (uint256);

    /// @notice The asset registered with the official number `ref`, or 0.
    function assetIdOfRef(bytes32 ref) external view returns (uint256);

    /// @notice How many assets were registered (the latest id).
    function assetCount() external view returns (uint256);

    /// @notice The wired PledgeRegistry (0 until wired).
    function pledgeRegistry() external view returns (address);
}
