// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Licenses of IP assets (许可): exclusive, sole and non-exclusive.
/// @notice The owner offers, the licensee accepts; only then is a license active. An operator the
/// owner approved (the Marketplace) may do both in one step, {grant}, under the same rules. It ends when
/// terminated (by the current owner or the licensee) or at its `end`; it survives transfers of the
/// asset. An active exclusive or sole license blocks any new license that overlaps it in time,
/// territory and field of use, and a new exclusive or sole license is blocked by any overlapping
/// active license, so no two active exclusive/sole licenses ever overlap.
///
/// Bounds: an asset has at most {MAX_ACTIVE_LICENSES} active exclusive or sole licenses, and its
/// active non-exclusive licenses cover at most {MAX_SHARED_SCOPES} scopes, where a scope is one
/// term, territory and field of use (every license sold from one listing has the listing's scope);
/// the number of non-exclusive licenses in a scope is not bounded. Only the owner makes scopes, so
/// buyers of non-exclusive licenses never lock the owner out of licensing elsewhere.
///
/// Territory and field of use are hierarchical codes: left-aligned ASCII in a bytes32, where a
/// code covers every code it is a prefix of, and the zero code (the empty prefix) covers all.
/// Territories are ISO 3166 codes ("CN" covers "CN-11", Beijing, and "CN-31", Shanghai); fields are
/// IPC classes ("H04" covers "H04L" and "H04L9/00"). Two scopes overlap when one code is a prefix of
/// the other: equal codes overlap, zero overlaps everything, "CN-11" and "CN-31" do not.
/// Only canonical codes are accepted ({Codes}): the zero code (the world, every field), an assigned
/// ISO 3166-1 alpha-2 country in capitals with an optional ISO 3166-2 subdivision ("CN", "CN-11"),
/// and IPC sections, classes, subclasses and main groups ("H", "H04", "H04L", "H04L9/00"); "CHN",
/// "156", "cn" and "H04L9/32" are refused.
/// Time is the half-open interval [start, end).
interface ILicenseRegistry {
    /// @notice 独占 exclusive (not even the owner uses it), 排他 sole (the owner may use it, nobody
    /// else may be licensed), 普通 non-exclusive. Append only.
    enum LicenseKind {
        Exclusive,
        Sole,
        NonExclusive
    }

    /// @notice Where a license is. `Expired` is never stored: views report an active license whose
    /// `end` has passed as expired. Append only.
    enum LicenseStatus {
        None,
        Offered,
        Active,
        Terminated,
        Expired
    }

    /// @notice What the owner offers. `fee` is in token units of the terms' currency; `termsHash`
    /// binds the off-chain contract.
    struct LicenseTerms {
        address licensee;
        LicenseKind kind;
        uint40 start;
        uint40 end;
        bytes32 territory;
        bytes32 fieldOfUse;
        bytes32 termsHash;
        uint256 fee;
        bool sublicensable;
    }

    /// @notice A license. `licensor` is the owner who offered it; `recordalNo` the registrar's
    /// filing number (备案号), zero until recorded.
    struct License {
        uint64 assetId;
        address licensor;
        LicenseKind kind;
        LicenseStatus status;
        bool sublicensable;
        address licensee;
        uint40 start;
        uint40 end;
        bytes32 territory;
        bytes32 fieldOfUse;
        bytes32 termsHash;
        uint256 fee;
        bytes32 recordalNo;
    }

    /// @notice No license has this id.
    error LicenseRegistryUnknownLicense(uint256 licenseId);
    /// @notice Only the asset's owner may offer a license of it.
    error LicenseRegistryNotOwner(uint256 assetId, address account);
    /// @notice Only the license's licensee may accept it.
    error LicenseRegistryNotLicensee(uint256 licenseId, address account);
    /// @notice Only the asset's current owner or the licensee may terminate a license.
    error LicenseRegistryNotParty(uint256 licenseId, address account);
    /// @notice The licensee must not be zero or the owner.
    error LicenseRegistryInvalidLicensee(address licensee);
    /// @notice The term must start before it ends, and end in the future.
    error LicenseRegistryInvalidTerm(uint256 start, uint256 end);
    /// @notice `territory` is not a canonical territory code (the zero code, an assigned ISO 3166-1
    /// alpha-2 country in capitals, or such a country, "-" and 1 to 3 capitals or digits).
    error LicenseRegistryNonCanonicalTerritory(bytes32 territory);
    /// @notice `fieldOfUse` is not a canonical IPC code (the zero code, a section "H", a class "H04",
    /// a subclass "H04L" or a main group "H04L9/00").
    error LicenseRegistryNonCanonicalField(bytes32 fieldOfUse);
    /// @notice The asset is under a court freeze until `until`.
    error LicenseRegistryAssetFrozen(uint256 assetId, uint256 until);
    /// @notice The asset is pledged under `pledgeId` and the pledgee has not consented to this license.
    error LicenseRegistryAssetPledged(uint256 assetId, uint256 pledgeId);
    /// @notice The license overlaps active license `conflictingLicenseId` (of kind `conflictingKind`)
    /// in time, territory and field, and one of the two is exclusive or sole.
    error LicenseRegistryExclusivityConflict(
        uint256 assetId, uint256 conflictingLicenseId, LicenseKind conflictingKind
    );
    /// @notice The asset already has `max` active exclusive or sole licenses.
    error LicenseRegistryActiveLicenseLimit(uint256 assetId, uint256 max);
    /// @notice The asset's active non-exclusive licenses already cover `max` scopes (distinct terms,
    /// territories and fields of use); a license in one of those scopes is still possible.
    error LicenseRegistrySharedScopeLimit(uint256 assetId, uint256 max);
    /// @notice The license is not a pending offer (its status is `status`).
    error LicenseRegistryNotOffered(uint256 licenseId, LicenseStatus status);
    /// @notice The license is neither offered nor active (its status is `status`).
    error LicenseRegistryClosed(uint256 licenseId, LicenseStatus status);
    /// @notice The license is not active (its status is `status`).
    error LicenseRegistryNotActive(uint256 licenseId, LicenseStatus status);
    /// @notice The asset changed hands since `licensor` offered: `owner` holds it now.
    error LicenseRegistryOfferStale(uint256 licenseId, address licensor, address owner);
    /// @notice The offer's term ended at `end`; it can no longer be accepted.
    error LicenseRegistryLicenseEnded(uint256 licenseId, uint256 end);
    /// @notice A recordal needs its filing number.
    error LicenseRegistryZeroRecordalNo();
    /// @notice `operator` is not an operator of `owner`, the asset's owner: it may not grant licenses of it.
    error LicenseRegistryUnauthorizedOperator(address owner, address operator);
    /// @notice The zero address or the owner itself cannot be an operator.
    error LicenseRegistryInvalidOperator(address operator);

    /// @notice `licensor` offered license `licenseId` of `assetId` to `licensee` on `terms`.
    event LicenseOffered(
        uint256 indexed licenseId,
        uint256 indexed assetId,
        address indexed licensee,
        address licensor,
        LicenseTerms terms
    );
    /// @notice The licensee accepted: the license is active.
    event LicenseAccepted(uint256 indexed licenseId, uint256 indexed assetId, address indexed licensee);
    /// @notice `by` (the owner or the licensee) terminated the license or withdrew/declined the offer.
    event LicenseTerminated(uint256 indexed licenseId, uint256 indexed assetId, address indexed by, bytes32 reasonHash);
    /// @notice `owner` approved (or revoked) `operator` to grant licenses of the owner's assets.
    event OperatorSet(address indexed owner, address indexed operator, bool approved);
    /// @notice `operator` granted license `licenseId` on the owner's behalf (its {LicenseOffered} and
    /// {LicenseAccepted} events come first).
    event LicenseGranted(uint256 indexed licenseId, uint256 indexed assetId, address indexed operator);
    /// @notice The registrar recorded the license's filing number.
    event LicenseRecorded(
        uint256 indexed licenseId, uint256 indexed assetId, bytes32 recordalNo, address indexed registrar
    );

    /// @notice Offers a license of the caller's asset.
    /// Requirements:
    /// - the caller owns the asset; the asset is not frozen;
    /// - `terms.licensee` is not zero or the caller; `terms.start < terms.end` and `terms.end` is in the future;
    /// - `terms.territory` and `terms.fieldOfUse` are canonical codes (see the contract notes);
    /// - no active license conflicts with it (see the contract notes).
    /// Emits a {LicenseOffered} event.
    function offer(uint256 assetId, LicenseTerms calldata terms) external returns (uint256 licenseId);

    /// @notice Accepts an offer: the license is active from now on.
    /// Requirements:
    /// - the caller is the licensee; the offer is pending and its term has not ended;
    /// - the offeror still owns the asset; the asset is not frozen;
    /// - if the asset is pledged, its pledgee consented to these terms under the active pledge
    ///   ({IPledgeRegistry-consentToLicense}; the consent is used up);
    /// - no active license conflicts with it; an exclusive or sole license needs one of the asset's
    ///   {MAX_ACTIVE_LICENSES} slots, a non-exclusive one a scope already active or one of the
    ///   {MAX_SHARED_SCOPES} scope slots.
    /// Emits a {LicenseAccepted} event.
    function accept(uint256 licenseId) external;

    /// @notice Ends an active license, or withdraws (owner) or declines (licensee) an offer.
    /// Requirements:
    /// - the caller is the asset's current owner or the licensee; the license is offered or active.
    /// Emits a {LicenseTerminated} event.
    function terminate(uint256 licenseId, bytes32 reasonHash) external;

    /// @notice Approves (or revokes) `operator` to grant licenses of every asset the caller owns, on
    /// the caller's behalf, with {grant}: e.g. the Marketplace, which grants a license to whoever
    /// buys one of the owner's license listings. Like ERC-721's operators, the approval is the
    /// owner's, not an asset's: it covers assets the owner acquires later, and not assets it sold.
    /// Each change (approval or revocation) starts a new epoch ({operatorOf}); setting the approval it
    /// already has changes nothing but emits the event.
    /// Requirements:
    /// - `operator` is not zero or the caller.
    /// Emits an {OperatorSet} event.
    function setOperator(address operator, bool approved) external;

    /// @notice Offers and activates a license in one step, on behalf of the asset's owner: the owner
    /// agreed by approving the caller as its operator (and, for the Marketplace, by listing the
    /// license), the licensee by paying the operator. Every rule of {offer} and {accept} applies;
    /// a pledged asset needs its pledgee's consent to these terms (for this licensee or for any).
    /// Requirements:
    /// - the caller is an operator of the asset's current owner (see {setOperator});
    /// - `terms.licensee` is not zero or the owner; `terms.start < terms.end` and `terms.end` is in the future;
    /// - `terms.territory` and `terms.fieldOfUse` are canonical codes (see the contract notes);
    /// - the asset is not frozen; if it is pledged, its pledgee consented to these terms;
    /// - no active license conflicts with it; there is room for it (as for {accept}).
    /// Emits {LicenseOffered}, {LicenseAccepted} and {LicenseGranted} events.
    function grant(uint256 assetId, LicenseTerms calldata terms) external returns (uint256 licenseId);

    /// @notice Records the filing number (备案号) of an active license.
    /// Requirements:
    /// - the caller holds REGISTRAR_ROLE; the license is active; `recordalNo` is not zero.
    /// Emits a {LicenseRecorded} event.
    function recordFiling(uint256 licenseId, bytes32 recordalNo) external;

    /// @notice The license `licenseId`; reverts with {LicenseRegistryUnknownLicense} if there is none.
    function licenseOf(uint256 licenseId) external view returns (License memory);

    /// @notice Every license ever offered for the asset, oldest first.
    function licensesOf(uint256 assetId) external view returns (uint256[] memory);

    /// @notice The asset's active licenses now (accepted, not terminated, not expired), oldest first,
    /// with their data. It reads every license of the asset: call it off chain.
    function activeLicensesOf(uint256 assetId)
        external
        view
        returns (uint256[] memory licenseIds, License[] memory licenses);

    /// @notice The asset's pending offers now (offered, neither accepted nor terminated, not ended),
    /// with their data. Offers of an earlier owner are included: they revive if it owns the asset again.
    function offeredLicensesOf(uint256 assetId)
        external
        view
        returns (uint256[] memory licenseIds, License[] memory licenses);

    /// @notice A counter of the asset's license changes: every offer, acceptance, grant and
    /// termination raises it. A bank's check reports it, and {IPledgeRegistry-accept} refuses if it
    /// moved since (the asset's encumbrances changed after the check).
    function encumbranceVersionOf(uint256 assetId) external view returns (uint256);

    /// @notice Whether `operator` may grant licenses of `owner`'s assets (see {setOperator}).
    function isOperator(address owner, address operator) external view returns (bool);

    /// @notice Whether `operator` may grant licenses of `owner`'s assets, and the approval's epoch: how
    /// many times it was given or revoked. It only grows, so what an operator agreed under one approval
    /// (a license listing) can tell that the owner revoked it since, even if the owner approved again.
    function operatorOf(address owner, address operator) external view returns (bool approved, uint256 epoch);

    /// @notice How many licenses were offered (the latest id).
    function licenseCount() external view returns (uint256);

    /// @notice The most active exclusive and sole licenses one asset may have at a time.
    function MAX_ACTIVE_LICENSES() external view returns (uint256);

    /// @notice The most scopes (term, territory, field of use) the active non-exclusive licenses of one
    /// asset may cover at a time; each scope holds any number of licenses.
    function MAX_SHARED_SCOPES() external view returns (uint256);
}
