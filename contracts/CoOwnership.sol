// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {CoOwnedAsset} from "./CoOwnedAsset.sol";
import {ICoOwnedAsset, ICoOwnership} from "./interfaces/ICoOwnership.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {ILicenseMarket} from "./interfaces/ILicenseMarket.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {IMarketplace} from "./interfaces/IMarketplace.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";

/// @title CoOwnership
/// @notice Co-owned IP assets with shares (see {ICoOwnership}). Why a vault per asset rather than
/// one contract holding every co-owned token: ERC-20 proceeds paid by the markets to "the owner"
/// arrive with no note of what they pay for, so one holder could not tell whose they are; a vault
/// per asset makes every token it receives the proceeds of that asset, split exactly by its shares.
/// The markets and registries need no change (the vault is an ordinary owner to them), and none of
/// their gas rows moves. `ownerOf` names the vault: a wallet sees a contract, not a person, and
/// {coOwnersOf} (or the vault's {ICoOwnedAsset-assetId} and {ICoOwnedAsset-coOwnership}) says who
/// stands behind it. No path around the rules: the vault obeys only this contract, and every act of
/// this contract checks the caller and the consents before the vault calls anything.
/// @dev Every state-changing function is `nonReentrant`; the registries and markets called are the
/// suite's own, and the only untrusted calls are the ERC-20 transfers of {distribute} and {withdraw}.
contract CoOwnership is ICoOwnership, ERC2771Context, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc ICoOwnership
    uint256 public constant MAX_CO_OWNERS = 16;
    /// @inheritdoc ICoOwnership
    uint256 public constant MAX_TOKENS = 8;
    /// @inheritdoc ICoOwnership
    uint8 public constant FLAG_FREE_SHARE_TRANSFER = 1;
    /// @inheritdoc ICoOwnership
    uint8 public constant FLAG_UNANIMOUS_LICENSING = 2;
    uint256 private constant _BPS = 10_000;
    uint8 private constant _FLAGS = FLAG_FREE_SHARE_TRANSFER | FLAG_UNANIMOUS_LICENSING;

    /// @dev A co-owned asset: its vault, the co-owners' epoch and agreement, and the shares.
    struct Holding {
        address vault;
        uint32 epoch;
        uint8 flags;
        bytes32 agreementHash;
        Share[] shares;
    }

    /// @notice The asset registry.
    IIPRegistry public immutable registry;
    /// @notice The licence registry.
    ILicenseRegistry public immutable licenses;
    /// @notice The licence board of the market.
    ILicenseMarket public immutable licenseMarket;
    /// @notice The asset market.
    IMarketplace public immutable marketplace;
    /// @notice The pledge registry.
    IPledgeRegistry public immutable pledges;
    /// @notice The implementation every vault clone runs.
    address public immutable vaultImplementation;

    mapping(uint256 assetId => Holding) private _holdings;
    mapping(uint256 assetId => mapping(bytes32 actId => mapping(address coOwner => bool))) private _consents;
    /// @dev Written through a storage pointer (`tokens.push` in {_addToken}), which Slither's
    /// uninitialized-state detector does not follow (security/slither-triage.md).
    // slither-disable-next-line uninitialized-state
    mapping(uint256 assetId => address[] tokens) private _tokens;
    mapping(address token => mapping(address account => uint256 amount)) private _credits;
    mapping(uint256 listingId => address coOwner) private _listers;

    /// @param trustedForwarder The IpledgerForwarder that relays co-owners' signed requests.
    constructor(
        address trustedForwarder,
        IIPRegistry registry_,
        ILicenseRegistry licenses_,
        ILicenseMarket licenseMarket_,
        IMarketplace marketplace_,
        IPledgeRegistry pledges_
    ) ERC2771Context(trustedForwarder) {
        registry = registry_;
        licenses = licenses_;
        licenseMarket = licenseMarket_;
        marketplace = marketplace_;
        pledges = pledges_;
        vaultImplementation = address(new CoOwnedAsset());
    }

    // -- becoming co-owned -------------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    /// @dev The vault is cloned for the id the registry will give (the next one, in this same
    /// transaction), then registers the asset itself, so the registry mints it straight to the vault.
    function register(
        bytes32 contentHash,
        IIPRegistry.AssetKind kind,
        bytes32 ref,
        bytes32 metadataHash,
        string calldata uri,
        Share[] calldata shares,
        Agreement calldata agreement
    ) external nonReentrant returns (uint256 assetId) {
        _requireShares(shares, agreement.flags);
        uint256 expected = registry.assetCount() + 1;
        address vault = Clones.cloneWithImmutableArgs(vaultImplementation, abi.encode(expected));
        bytes memory result = ICoOwnedAsset(vault).execute(
            address(registry), abi.encodeCall(IIPRegistry.register, (contentHash, kind, ref, metadataHash, uri))
        );
        assetId = abi.decode(result, (uint256));
        assert(assetId == expected);
        _hold(assetId, vault, shares, agreement);
    }

    /// @inheritdoc ICoOwnership
    /// @dev The token moves from the caller, checked to be its owner (Slither's arbitrary-send-erc20 reads an
    /// ERC-721 move as an ERC-20's); every entry is `nonReentrant` (reentrancy-no-eth: security/slither-triage.md).
    // slither-disable-next-line arbitrary-send-erc20,reentrancy-no-eth
    function coOwn(uint256 assetId, Share[] calldata shares, Agreement calldata agreement) external nonReentrant {
        address caller = _msgSender();
        address owner = IERC721(address(registry)).ownerOf(assetId);
        if (owner != caller) revert CoOwnershipNotOwner(assetId, caller);
        _requireShares(shares, agreement.flags);
        Holding storage holding = _holdings[assetId];
        address vault = holding.vault;
        if (vault == address(0)) {
            vault = Clones.cloneWithImmutableArgs(vaultImplementation, abi.encode(assetId));
        } else {
            // It was co-owned, left, and came back to one owner: the old co-owners' proceeds first.
            _distributeAll(assetId, holding);
            delete holding.shares;
        }
        _hold(assetId, vault, shares, agreement);
        IERC721(address(registry)).transferFrom(owner, vault, assetId);
    }

    // -- consents ----------------------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    function consent(uint256 assetId, bytes32 act) external nonReentrant {
        address coOwner = _msgSender();
        _shareOf(_holding(assetId), assetId, coOwner);
        mapping(address => bool) storage given = _consents[assetId][act];
        if (given[coOwner]) revert CoOwnershipConsentExists(assetId, act, coOwner);
        given[coOwner] = true;
        emit ConsentGiven(assetId, act, coOwner);
    }

    /// @inheritdoc ICoOwnership
    function withdrawConsent(uint256 assetId, bytes32 act) external nonReentrant {
        address coOwner = _msgSender();
        mapping(address => bool) storage given = _consents[assetId][act];
        if (!given[coOwner]) revert CoOwnershipConsentMissing(assetId, act, coOwner);
        delete given[coOwner];
        emit ConsentWithdrawn(assetId, act, coOwner);
    }

    // -- licences ----------------------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    function offerLicense(uint256 assetId, ILicenseRegistry.LicenseTerms calldata terms)
        external
        nonReentrant
        returns (uint256 licenseId)
    {
        Holding storage holding = _holding(assetId);
        _licensing(holding, assetId, terms.kind, ActKind.License, abi.encode(terms));
        bytes memory result =
            _execute(holding, address(licenses), abi.encodeCall(ILicenseRegistry.offer, (assetId, terms)));
        licenseId = abi.decode(result, (uint256));
    }

    /// @inheritdoc ICoOwnership
    function listLicense(
        uint256 assetId,
        ILicenseRegistry.LicenseTerms calldata terms,
        address token,
        uint256 price,
        uint256 supply,
        uint40 expiry
    ) external nonReentrant returns (uint256 listingId) {
        Holding storage holding = _holding(assetId);
        address coOwner = _licensing(
            holding, assetId, terms.kind, ActKind.LicenseListing, abi.encode(terms, token, price, supply, expiry)
        );
        address market = address(licenseMarket);
        if (!licenses.isOperator(holding.vault, market)) {
            _execute(holding, address(licenses), abi.encodeCall(ILicenseRegistry.setOperator, (market, true)));
        }
        _addToken(assetId, token);
        bytes memory result = _execute(
            holding, market, abi.encodeCall(ILicenseMarket.listLicense, (assetId, terms, token, price, supply, expiry))
        );
        listingId = abi.decode(result, (uint256));
        _listers[listingId] = coOwner;
    }

    /// @inheritdoc ICoOwnership
    function cancelLicenseListing(uint256 assetId, uint256 listingId) external nonReentrant {
        Holding storage holding = _holding(assetId);
        address coOwner = _msgSender();
        _shareOf(holding, assetId, coOwner);
        if (_listers[listingId] != coOwner) revert CoOwnershipNotLister(listingId, coOwner);
        emit ActPerformed(assetId, 0, ActKind.CancelLicenseListing, coOwner);
        _execute(holding, address(licenseMarket), abi.encodeCall(ILicenseMarket.cancelLicenseListing, (listingId)));
    }

    // -- sales -------------------------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    function listAsset(uint256 assetId, address token, uint256 price, uint40 expiry, address buyer)
        external
        nonReentrant
        returns (uint256 listingId)
    {
        Holding storage holding = _holding(assetId);
        _unanimous(holding, assetId, ActKind.Sale, abi.encode(token, price, expiry, buyer));
        _addToken(assetId, token);
        _execute(holding, address(registry), abi.encodeCall(IERC721.approve, (address(marketplace), assetId)));
        bytes memory result = _execute(
            holding, address(marketplace), abi.encodeCall(IMarketplace.listAsset, (assetId, token, price, expiry, buyer))
        );
        listingId = abi.decode(result, (uint256));
    }

    /// @inheritdoc ICoOwnership
    function cancelListing(uint256 assetId, uint256 listingId) external nonReentrant {
        Holding storage holding = _holding(assetId);
        address coOwner = _msgSender();
        _shareOf(holding, assetId, coOwner);
        emit ActPerformed(assetId, 0, ActKind.CancelSale, coOwner);
        _execute(holding, address(marketplace), abi.encodeCall(IMarketplace.cancelListing, (listingId)));
        _execute(holding, address(registry), abi.encodeCall(IERC721.approve, (address(0), assetId)));
    }

    /// @inheritdoc ICoOwnership
    function acceptOffer(uint256 assetId, uint256 offerId) external nonReentrant {
        Holding storage holding = _holding(assetId);
        _unanimous(holding, assetId, ActKind.OfferAcceptance, abi.encode(offerId));
        _addToken(assetId, marketplace.offerOf(offerId).token);
        _execute(holding, address(registry), abi.encodeCall(IERC721.approve, (address(marketplace), assetId)));
        _execute(holding, address(marketplace), abi.encodeCall(IMarketplace.acceptOffer, (offerId)));
    }

    // -- pledges and transfers ---------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    function proposePledge(
        uint256 assetId,
        address pledgee,
        uint256 principal,
        bytes3 currency,
        uint40 maturity,
        bytes32 contractHash
    ) external nonReentrant returns (uint256 pledgeId) {
        Holding storage holding = _holding(assetId);
        _unanimous(holding, assetId, ActKind.Pledge, abi.encode(pledgee, principal, currency, maturity, contractHash));
        bytes memory result = _execute(
            holding,
            address(pledges),
            abi.encodeCall(IPledgeRegistry.propose, (assetId, pledgee, principal, currency, maturity, contractHash))
        );
        pledgeId = abi.decode(result, (uint256));
    }

    /// @inheritdoc ICoOwnership
    function cancelPledge(uint256 assetId, uint256 pledgeId) external nonReentrant {
        Holding storage holding = _holding(assetId);
        address coOwner = _msgSender();
        _shareOf(holding, assetId, coOwner);
        emit ActPerformed(assetId, 0, ActKind.CancelPledge, coOwner);
        _execute(holding, address(pledges), abi.encodeCall(IPledgeRegistry.cancel, (pledgeId)));
    }

    /// @inheritdoc ICoOwnership
    function transfer(uint256 assetId, address to) external nonReentrant {
        Holding storage holding = _holding(assetId);
        _unanimous(holding, assetId, ActKind.Transfer, abi.encode(to));
        address vault = holding.vault;
        _execute(holding, address(registry), abi.encodeCall(IERC721.transferFrom, (vault, to, assetId)));
    }

    // -- the co-owners -----------------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    /// @dev The proceeds are distributed (external calls) at the old shares before the new ones are written;
    /// every entry is `nonReentrant` (reentrancy-no-eth: security/slither-triage.md).
    // slither-disable-next-line reentrancy-no-eth
    function changeCoOwners(uint256 assetId, Share[] calldata shares, Agreement calldata agreement)
        external
        nonReentrant
    {
        Holding storage holding = _holding(assetId);
        _requireHeld(holding, assetId);
        _unanimous(holding, assetId, ActKind.CoOwnersChange, abi.encode(shares, agreement));
        _requireShares(shares, agreement.flags);
        _distributeAll(assetId, holding);
        delete holding.shares;
        _hold(assetId, holding.vault, shares, agreement);
    }

    /// @inheritdoc ICoOwnership
    function transferShare(uint256 assetId, address to, uint16 bps) external nonReentrant {
        Holding storage holding = _holding(assetId);
        _requireHeld(holding, assetId);
        address from = _msgSender();
        uint256 index = _shareOf(holding, assetId, from);
        Share[] storage shares = holding.shares;
        uint16 held = shares[index].bps;
        if (bps == 0 || bps > held) revert CoOwnershipInvalidShareTransfer(assetId, bps, held);
        if (to == address(0) || to == from) revert CoOwnershipInvalidCoOwner(to);
        bytes memory params = abi.encode(from, to, bps);
        if (holding.flags & FLAG_FREE_SHARE_TRANSFER == 0) {
            _unanimous(holding, assetId, ActKind.ShareTransfer, params);
        } else {
            emit ActPerformed(assetId, 0, ActKind.ShareTransfer, from);
        }
        _distributeAll(assetId, holding);
        uint256 length = shares.length;
        uint256 target = length;
        for (uint256 i = 0; i < length; ++i) {
            if (shares[i].account == to) target = i;
        }
        if (target == length) {
            if (length >= MAX_CO_OWNERS) revert CoOwnershipInvalidCoOwnerCount(length + 1);
            shares.push(Share(to, bps));
        } else {
            shares[target].bps += bps;
        }
        if (bps == held) {
            shares[index] = shares[shares.length - 1];
            shares.pop();
        } else {
            shares[index].bps = held - bps;
        }
        uint32 epoch = ++holding.epoch;
        emit ShareTransferred(assetId, from, to, bps);
        emit CoOwnersSet(assetId, holding.vault, shares, holding.agreementHash, holding.flags, epoch);
    }

    // -- proceeds ----------------------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    function distribute(uint256 assetId, address token) external nonReentrant returns (uint256 amount) {
        return _distribute(assetId, _holding(assetId), token);
    }

    /// @inheritdoc ICoOwnership
    function withdraw(address token) external nonReentrant returns (uint256 amount) {
        address account = _msgSender();
        amount = _credits[token][account];
        if (amount == 0) revert CoOwnershipNothingToWithdraw(token);
        delete _credits[token][account];
        emit ProceedsWithdrawn(account, token, amount);
        IERC20(token).safeTransfer(account, amount);
    }

    // -- views -------------------------------------------------------------------------------------

    /// @inheritdoc ICoOwnership
    function coOwnersOf(uint256 assetId)
        external
        view
        returns (Share[] memory shares, Agreement memory agreement, address vault, uint32 epoch)
    {
        Holding storage holding = _holding(assetId);
        return (holding.shares, Agreement(holding.agreementHash, holding.flags), holding.vault, holding.epoch);
    }

    /// @inheritdoc ICoOwnership
    function isCoOwned(uint256 assetId) external view returns (bool) {
        return _holdings[assetId].vault != address(0);
    }

    /// @inheritdoc ICoOwnership
    function vaultOf(uint256 assetId) external view returns (address) {
        return _holdings[assetId].vault;
    }

    /// @inheritdoc ICoOwnership
    function actId(uint256 assetId, ActKind kind, bytes calldata params) external view returns (bytes32) {
        return _actId(assetId, _holdings[assetId].epoch, kind, params);
    }

    /// @inheritdoc ICoOwnership
    function hasConsented(uint256 assetId, bytes32 act, address coOwner) external view returns (bool) {
        return _consents[assetId][act][coOwner];
    }

    /// @inheritdoc ICoOwnership
    function creditOf(address token, address account) external view returns (uint256) {
        return _credits[token][account];
    }

    /// @inheritdoc ICoOwnership
    function proceedsTokensOf(uint256 assetId) external view returns (address[] memory) {
        return _tokens[assetId];
    }

    // -- private -----------------------------------------------------------------------------------

    /// @dev Writes the shares and agreement of `assetId` (held by `vault`), bumping its epoch.
    function _hold(uint256 assetId, address vault, Share[] calldata shares, Agreement calldata agreement) private {
        Holding storage holding = _holdings[assetId];
        uint32 epoch = holding.epoch + 1;
        holding.vault = vault;
        holding.epoch = epoch;
        holding.flags = agreement.flags;
        if (holding.agreementHash != agreement.hash) holding.agreementHash = agreement.hash;
        Share[] storage stored = holding.shares;
        for (uint256 i = 0; i < shares.length; ++i) {
            stored.push(shares[i]);
        }
        emit CoOwnersSet(assetId, vault, shares, agreement.hash, agreement.flags, epoch);
    }

    /// @dev Reverts unless `shares` are 1 to MAX_CO_OWNERS distinct non-zero accounts with shares > 0
    /// summing to 10,000, and `flags` are known.
    function _requireShares(Share[] calldata shares, uint8 flags) private pure {
        uint256 length = shares.length;
        if (length == 0 || length > MAX_CO_OWNERS) revert CoOwnershipInvalidCoOwnerCount(length);
        if (flags & ~_FLAGS != 0) revert CoOwnershipInvalidAgreement(flags);
        uint256 total = 0;
        for (uint256 i = 0; i < length; ++i) {
            address account = shares[i].account;
            if (account == address(0) || shares[i].bps == 0) revert CoOwnershipInvalidCoOwner(account);
            for (uint256 j = 0; j < i; ++j) {
                if (shares[j].account == account) revert CoOwnershipInvalidCoOwner(account);
            }
            total += shares[i].bps;
        }
        if (total != _BPS) revert CoOwnershipSharesNotWhole(total);
    }

    /// @dev The rule of a licence act: a co-owner alone for a non-exclusive licence (unless the
    /// agreement asks for unanimity), every co-owner otherwise. Returns the acting co-owner.
    function _licensing(
        Holding storage holding,
        uint256 assetId,
        ILicenseRegistry.LicenseKind kind,
        ActKind act,
        bytes memory params
    ) private returns (address coOwner) {
        if (kind != ILicenseRegistry.LicenseKind.NonExclusive || holding.flags & FLAG_UNANIMOUS_LICENSING != 0) {
            return _unanimous(holding, assetId, act, params);
        }
        coOwner = _msgSender();
        _shareOf(holding, assetId, coOwner);
        emit ActPerformed(assetId, 0, act, coOwner);
    }

    /// @dev The rule of an act that needs every co-owner: the caller is one, and every other one
    /// consented to exactly this act under the current epoch; the consents are used up.
    function _unanimous(Holding storage holding, uint256 assetId, ActKind kind, bytes memory params)
        private
        returns (address coOwner)
    {
        coOwner = _msgSender();
        _shareOf(holding, assetId, coOwner);
        bytes32 id = _actId(assetId, holding.epoch, kind, params);
        mapping(address => bool) storage given = _consents[assetId][id];
        Share[] storage shares = holding.shares;
        uint256 length = shares.length;
        for (uint256 i = 0; i < length; ++i) {
            address account = shares[i].account;
            if (account != coOwner && !given[account]) revert CoOwnershipConsentMissing(assetId, id, account);
            // Every consent to the act is used, the actor's own too: none survives to a repeat of it.
            delete given[account];
        }
        emit ActPerformed(assetId, id, kind, coOwner);
    }

    /// @dev The index of `account` among the asset's co-owners; reverts if it is not one.
    function _shareOf(Holding storage holding, uint256 assetId, address account) private view returns (uint256) {
        Share[] storage shares = holding.shares;
        uint256 length = shares.length;
        for (uint256 i = 0; i < length; ++i) {
            if (shares[i].account == account) return i;
        }
        revert CoOwnershipNotCoOwner(assetId, account);
    }

    function _holding(uint256 assetId) private view returns (Holding storage holding) {
        holding = _holdings[assetId];
        if (holding.vault == address(0)) revert CoOwnershipNotCoOwned(assetId);
    }

    /// @dev Reverts unless the vault still holds the asset (its shares can change only while it does).
    function _requireHeld(Holding storage holding, uint256 assetId) private view {
        address owner = IERC721(address(registry)).ownerOf(assetId);
        if (owner != holding.vault) revert CoOwnershipAssetGone(assetId, owner);
    }

    function _execute(Holding storage holding, address target, bytes memory data) private returns (bytes memory) {
        return ICoOwnedAsset(holding.vault).execute(target, data);
    }

    function _addToken(uint256 assetId, address token) private {
        address[] storage tokens = _tokens[assetId];
        uint256 length = tokens.length;
        for (uint256 i = 0; i < length; ++i) {
            if (tokens[i] == token) return;
        }
        if (length >= MAX_TOKENS) revert CoOwnershipTooManyTokens(assetId);
        tokens.push(token);
    }

    function _distributeAll(uint256 assetId, Holding storage holding) private {
        address[] storage tokens = _tokens[assetId];
        for (uint256 i = 0; i < tokens.length; ++i) {
            _distribute(assetId, holding, tokens[i]);
        }
    }

    /// @dev Moves the vault's balance of `token` here and credits it by share; what the shares'
    /// rounding leaves goes to the first co-owner listed, so every unit is credited to someone.
    /// The amount credited is what arrived (a token that charges for transfers credits less).
    function _distribute(uint256 assetId, Holding storage holding, address token) private returns (uint256 amount) {
        address vault = holding.vault;
        uint256 balance = IERC20(token).balanceOf(vault);
        if (balance < 1) return 0; // (not `== 0`: nothing to distribute, whatever the token says)
        uint256 before = IERC20(token).balanceOf(address(this));
        _execute(holding, token, abi.encodeCall(IERC20.transfer, (address(this), balance)));
        amount = IERC20(token).balanceOf(address(this)) - before;
        Share[] storage shares = holding.shares;
        uint256 length = shares.length;
        uint256 rest = amount;
        for (uint256 i = length; i > 1;) {
            --i;
            Share storage share = shares[i];
            uint256 part = amount * share.bps / _BPS;
            rest -= part;
            _credit(assetId, token, share.account, part);
        }
        _credit(assetId, token, shares[0].account, rest);
    }

    function _credit(uint256 assetId, address token, address account, uint256 amount) private {
        if (amount < 1) return; // a share too small for a unit this time gets nothing, and no event
        _credits[token][account] += amount;
        emit ProceedsCredited(assetId, token, account, amount);
    }

    function _actId(uint256 assetId, uint32 epoch, ActKind kind, bytes memory params) private pure returns (bytes32) {
        return keccak256(abi.encode(kind, assetId, epoch, keccak256(params)));
    }
}
