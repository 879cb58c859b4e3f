// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IIPRegistry} from "./IIPRegistry.sol";
import {ILicenseRegistry} from "./ILicenseRegistry.sol";

/// @title Co-owned IP assets with shares (共有; Patent Law art. 14).
/// @notice The token of a co-owned asset is held by the asset's own vault, a {ICoOwnedAsset} clone that
/// obeys only this contract: `ownerOf(assetId)` is the vault, which is true (no single person owns
/// the asset), and {coOwnersOf} names the co-owners, their shares in basis points (summing to 10,000)
/// and their agreement. Toward the LicenseRegistry, the LicenseMarket, the Marketplace and the
/// PledgeRegistry the vault is the owner, and it acts only through this contract, under these rules:
///
/// - any co-owner alone may offer or list a **non-exclusive** licence (unless the agreement's
///   {FLAG_UNANIMOUS_LICENSING} says otherwise);
/// - an exclusive or sole licence (offered or listed), a sale (listing or accepted offer), a transfer
///   of the asset, a pledge, and a change of the co-owners need **every** co-owner: the one who acts,
///   and each other's consent to that exact act;
/// - a co-owner transfers (part of) its own share with the others' consent, or alone under
///   {FLAG_FREE_SHARE_TRANSFER}.
///
/// A consent is for one act: its id is {actId}, the hash of the act's kind, the asset, the
/// co-owners' epoch (which every change of the co-owners bumps, voiding older consents) and the
/// act's exact parameters. A co-owner gives it with {consent} (relayable through the forwarder: an
/// EIP-712 request signed by the co-owner, sent by anyone), withdraws it with {withdrawConsent}
/// until it is used, and the act uses it up.
///
/// Proceeds (a licence or asset sale through the market) are paid to the vault; {distribute} (anyone)
/// moves them here and credits each co-owner by share, the rounding remainder to the first co-owner
/// listed; each withdraws its credit with {withdraw}. Before any change of the shares every token the
/// asset was sold for is distributed at the old shares.
interface ICoOwnership {
    /// @notice One co-owner and its share in basis points.
    struct Share {
        address account;
        uint16 bps;
    }

    /// @notice What the co-owners agreed that departs from the defaults: the agreement's hash (the
    /// document is off chain) and flags (see {FLAG_FREE_SHARE_TRANSFER}, {FLAG_UNANIMOUS_LICENSING}).
    struct Agreement {
        bytes32 hash;
        uint8 flags;
    }

    /// @notice The acts a co-owner performs through this contract. Append only.
    enum ActKind {
        License,
        LicenseListing,
        CancelLicenseListing,
        Sale,
        CancelSale,
        OfferAcceptance,
        Pledge,
        CancelPledge,
        Transfer,
        CoOwnersChange,
        ShareTransfer
    }

    /// @notice The asset is not co-owned through this contract.
    error CoOwnershipNotCoOwned(uint256 assetId);
    /// @notice `account` is not a co-owner of the asset.
    error CoOwnershipNotCoOwner(uint256 assetId, address account);
    /// @notice `coOwner` has not consented to act `actId` (or its consent was used or withdrawn).
    error CoOwnershipConsentMissing(uint256 assetId, bytes32 actId, address coOwner);
    /// @notice `coOwner` already consented to act `actId`, unused.
    error CoOwnershipConsentExists(uint256 assetId, bytes32 actId, address coOwner);
    /// @notice Between 1 and {MAX_CO_OWNERS} co-owners: `count` were named.
    error CoOwnershipInvalidCoOwnerCount(uint256 count);
    /// @notice A co-owner must be a non-zero address, named once, with a share > 0.
    error CoOwnershipInvalidCoOwner(address account);
    /// @notice The shares sum to `total` basis points, not 10,000.
    error CoOwnershipSharesNotWhole(uint256 total);
    /// @notice The agreement's flags `flags` name no known rule.
    error CoOwnershipInvalidAgreement(uint8 flags);
    /// @notice A share transfer of `bps` basis points: more than `held` or zero.
    error CoOwnershipInvalidShareTransfer(uint256 assetId, uint256 bps, uint256 held);
    /// @notice The asset's vault no longer holds it (it was sold, transferred or enforced).
    error CoOwnershipAssetGone(uint256 assetId, address owner);
    /// @notice The asset's proceeds came in more than {MAX_TOKENS} tokens.
    error CoOwnershipTooManyTokens(uint256 assetId);
    /// @notice Only the co-owner who listed licence listing `listingId` may cancel it alone.
    error CoOwnershipNotLister(uint256 listingId, address account);
    /// @notice Only the owner of the asset (or its approved operator) may put it in co-ownership.
    error CoOwnershipNotOwner(uint256 assetId, address account);
    /// @notice Nothing is credited to the caller in `token`.
    error CoOwnershipNothingToWithdraw(address token);

    /// @notice The co-owners, shares and agreement of `assetId` are now these (registration, a change
    /// or a share transfer); `epoch` counts the changes (consents given earlier are void).
    event CoOwnersSet(
        uint256 indexed assetId, address indexed vault, Share[] shares, bytes32 agreementHash, uint8 flags, uint32 epoch
    );
    /// @notice `from` transferred `bps` basis points of its share to `to`.
    event ShareTransferred(uint256 indexed assetId, address indexed from, address indexed to, uint16 bps);
    /// @notice `coOwner` consented to act `actId` of the asset.
    event ConsentGiven(uint256 indexed assetId, bytes32 indexed actId, address indexed coOwner);
    /// @notice `coOwner` withdrew its unused consent to act `actId`.
    event ConsentWithdrawn(uint256 indexed assetId, bytes32 indexed actId, address indexed coOwner);
    /// @notice Co-owner `by` performed act `actId` (of `kind`) on the asset; any consents it needed are
    /// used up. `actId` is zero for an act a co-owner may do alone.
    event ActPerformed(uint256 indexed assetId, bytes32 indexed actId, ActKind kind, address indexed by);
    /// @notice `amount` of `token` received by the vault was credited to `account` (its share).
    event ProceedsCredited(uint256 indexed assetId, address indexed token, address indexed account, uint256 amount);
    /// @notice `account` withdrew its credit of `amount` in `token`.
    event ProceedsWithdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice Registers a new asset (as {IIPRegistry-register}) held by a fresh vault for `shares`.
    /// Requirements:
    /// - the registry's rules for a registration; 1 to {MAX_CO_OWNERS} co-owners, distinct, non-zero,
    ///   each with a share > 0, summing to 10,000; known agreement flags.
    /// Emits {CoOwnersSet} (and the registry's {IIPRegistry-AssetRegistered}).
    function register(
        bytes32 contentHash,
        IIPRegistry.AssetKind kind,
        bytes32 ref,
        bytes32 metadataHash,
        string calldata uri,
        Share[] calldata shares,
        Agreement calldata agreement
    ) external returns (uint256 assetId);

    /// @notice Puts an existing asset into co-ownership: it moves (through the registry's guard) from
    /// its owner to a fresh vault for `shares`.
    /// Requirements:
    /// - the caller owns the asset and approved this contract for it; the rules of {register} for
    ///   the shares; the registry's transfer guard (not frozen, disputed or pledged without consent).
    /// Emits {CoOwnersSet}.
    function coOwn(uint256 assetId, Share[] calldata shares, Agreement calldata agreement) external;

    /// @notice Consents to act `act` (its {actId}) of the asset.
    /// Requirements:
    /// - the caller is a co-owner; it has no unused consent to the same act.
    /// Emits a {ConsentGiven} event.
    function consent(uint256 assetId, bytes32 act) external;

    /// @notice Withdraws an unused consent.
    /// Requirements:
    /// - the caller gave consent `actId` and it is unused.
    /// Emits a {ConsentWithdrawn} event.
    function withdrawConsent(uint256 assetId, bytes32 act) external;

    /// @notice Offers a licence of the asset (the vault is the licensor, see {ILicenseRegistry-offer}).
    /// Requirements:
    /// - the caller is a co-owner; an exclusive or sole licence (any, under
    ///   {FLAG_UNANIMOUS_LICENSING}) needs every other co-owner's consent to
    ///   `actId(assetId, License, abi.encode(terms))`; the LicenseRegistry's rules.
    /// Emits an {ActPerformed} event.
    function offerLicense(uint256 assetId, ILicenseRegistry.LicenseTerms calldata terms)
        external
        returns (uint256 licenseId);

    /// @notice Lists licences of the asset on the LicenseMarket (see {ILicenseMarket-listLicense});
    /// the proceeds go to the vault, split by {distribute}.
    /// Requirements:
    /// - as {offerLicense}, the consents to `actId(assetId, LicenseListing,
    ///   abi.encode(terms, token, price, supply, expiry))`; the LicenseMarket's rules.
    /// Emits an {ActPerformed} event.
    function listLicense(
        uint256 assetId,
        ILicenseRegistry.LicenseTerms calldata terms,
        address token,
        uint256 price,
        uint256 supply,
        uint40 expiry
    ) external returns (uint256 listingId);

    /// @notice Cancels a licence listing of the asset.
    /// Requirements:
    /// - the caller is the co-owner who listed it and still a co-owner.
    /// Emits an {ActPerformed} event.
    function cancelLicenseListing(uint256 assetId, uint256 listingId) external;

    /// @notice Lists the asset for sale on the Marketplace (see {IMarketplace-listAsset}), approving it.
    /// Requirements:
    /// - the caller is a co-owner and every other co-owner consented to
    ///   `actId(assetId, Sale, abi.encode(token, price, expiry, buyer))`; the Marketplace's rules.
    /// Emits an {ActPerformed} event.
    function listAsset(uint256 assetId, address token, uint256 price, uint40 expiry, address buyer)
        external
        returns (uint256 listingId);

    /// @notice Cancels a Marketplace listing of the asset and withdraws the Marketplace's approval.
    /// Requirements:
    /// - the caller is a co-owner (stopping a sale needs no consent).
    /// Emits an {ActPerformed} event.
    function cancelListing(uint256 assetId, uint256 listingId) external;

    /// @notice Accepts an escrowed offer for the asset (see {IMarketplace-acceptOffer}).
    /// Requirements:
    /// - the caller is a co-owner and every other co-owner consented to
    ///   `actId(assetId, OfferAcceptance, abi.encode(offerId))`; the Marketplace's rules.
    /// Emits an {ActPerformed} event.
    function acceptOffer(uint256 assetId, uint256 offerId) external;

    /// @notice Proposes a pledge of the asset (see {IPledgeRegistry-propose}); the vault is the pledgor.
    /// Requirements:
    /// - the caller is a co-owner and every other co-owner consented to `actId(assetId, Pledge,
    ///   abi.encode(pledgee, principal, currency, maturity, contractHash))`; the PledgeRegistry's rules.
    /// Emits an {ActPerformed} event.
    function proposePledge(
        uint256 assetId,
        address pledgee,
        uint256 principal,
        bytes3 currency,
        uint40 maturity,
        bytes32 contractHash
    ) external returns (uint256 pledgeId);

    /// @notice Withdraws a pending pledge proposal of the asset.
    /// Requirements:
    /// - the caller is a co-owner (stopping a pledge needs no consent).
    /// Emits an {ActPerformed} event.
    function cancelPledge(uint256 assetId, uint256 pledgeId) external;

    /// @notice Transfers the asset out of co-ownership to `to`; proceeds already received stay
    /// distributable.
    /// Requirements:
    /// - the caller is a co-owner and every other co-owner consented to
    ///   `actId(assetId, Transfer, abi.encode(to))`; the registry's transfer guard.
    /// Emits an {ActPerformed} event.
    function transfer(uint256 assetId, address to) external;

    /// @notice Replaces the co-owners, shares and agreement (pending proceeds are distributed first).
    /// Requirements:
    /// - the caller is a co-owner and every other co-owner consented to
    ///   `actId(assetId, CoOwnersChange, abi.encode(shares, agreement))`; the rules of {register}.
    /// Emits {ActPerformed} and {CoOwnersSet} events.
    function changeCoOwners(uint256 assetId, Share[] calldata shares, Agreement calldata agreement) external;

    /// @notice Transfers `bps` of the caller's share to `to` (pending proceeds are distributed first).
    /// Requirements:
    /// - the caller is a co-owner holding at least `bps` > 0; unless the agreement has
    ///   {FLAG_FREE_SHARE_TRANSFER}, every other co-owner consented to
    ///   `actId(assetId, ShareTransfer, abi.encode(caller, to, bps))`.
    /// Emits {ActPerformed}, {ShareTransferred} and {CoOwnersSet} events.
    function transferShare(uint256 assetId, address to, uint16 bps) external;

    /// @notice Credits the co-owners, by share, with the vault's whole balance of `token`.
    /// Emits a {ProceedsCredited} event per co-owner credited.
    function distribute(uint256 assetId, address token) external returns (uint256 amount);

    /// @notice Pays the caller its credit in `token`.
    /// Requirements:
    /// - the caller has a credit in `token`.
    /// Emits a {ProceedsWithdrawn} event.
    function withdraw(address token) external returns (uint256 amount);

    /// @notice The co-owners and shares of `assetId`, their agreement, its vault (the ERC-721 owner
    /// while co-owned) and epoch; reverts with {CoOwnershipNotCoOwned} if it is not co-owned here.
    function coOwnersOf(uint256 assetId)
        external
        view
        returns (Share[] memory shares, Agreement memory agreement, address vault, uint32 epoch);

    /// @notice Whether `assetId` was put in co-ownership here (its vault may have sold it since).
    function isCoOwned(uint256 assetId) external view returns (bool);

    /// @notice The vault of `assetId`, or zero.
    function vaultOf(uint256 assetId) external view returns (address);

    /// @notice The id of act `kind` on `assetId` with `params` (the ABI encoding named at each act)
    /// under the current co-owners: `keccak256(abi.encode(kind, assetId, epoch, keccak256(params)))`.
    function actId(uint256 assetId, ActKind kind, bytes calldata params) external view returns (bytes32);

    /// @notice Whether `coOwner` gave consent to act `act` (its {actId}), unused.
    function hasConsented(uint256 assetId, bytes32 act, address coOwner) external view returns (bool);

    /// @notice What `account` may withdraw in `token`.
    function creditOf(address token, address account) external view returns (uint256);

    /// @notice The tokens the asset was listed or sold for (distributed before every change of shares).
    function proceedsTokensOf(uint256 assetId) external view returns (address[] memory);

    /// @notice The most co-owners an asset may have (bounds every loop over them).
    function MAX_CO_OWNERS() external view returns (uint256);

    /// @notice The most tokens an asset's proceeds may come in (bounds the distribution before a change).
    function MAX_TOKENS() external view returns (uint256);

    /// @notice Agreement flag: a co-owner transfers its share without the others' consent.
    function FLAG_FREE_SHARE_TRANSFER() external view returns (uint8);

    /// @notice Agreement flag: even a non-exclusive licence needs every co-owner.
    function FLAG_UNANIMOUS_LICENSING() external view returns (uint8);
}

/// @title The vault of one co-owned asset: a clone that holds the token and obeys only {ICoOwnership}.
interface ICoOwnedAsset {
    /// @notice Only the CoOwnership contract may have the vault act.
    error CoOwnedAssetUnauthorizedCaller(address caller);

    /// @notice Calls `target` with `data` as the vault (the asset's owner).
    /// Requirements:
    /// - the caller is the CoOwnership contract.
    function execute(address target, bytes calldata data) external returns (bytes memory);

    /// @notice The CoOwnership contract this vault obeys.
    function coOwnership() external view returns (address);

    /// @notice The asset this vault holds for its co-owners.
    function assetId() external view returns (uint256);
}
