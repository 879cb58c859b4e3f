// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CoOwnership} from "../../../contracts/CoOwnership.sol";
import {IPRegistry} from "../../../contracts/IPRegistry.sol";
import {LicenseMarket} from "../../../contracts/LicenseMarket.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {ICoOwnership} from "../../../contracts/interfaces/ICoOwnership.sol";
import {IIPRegistry} from "../../../contracts/interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "../../../contracts/interfaces/ILicenseRegistry.sol";
import {Cheats} from "../utils/Vm.sol";

/// @notice Drives co-owned assets with random acts by random parties (three co-owners-to-be and a
/// stranger): registrations with good and bad shares, consents and their withdrawal, the acts that
/// need every co-owner (a transfer, an exclusive licence, a pledge, a change of co-owners, a share
/// transfer) and those one co-owner may do alone (a non-exclusive licence listing, its sale, the
/// distribution and withdrawal of proceeds). It keeps a model of the consents: an act needing every
/// co-owner that succeeds while the model lacks a consent is a violation ("consents"); a co-owned
/// asset's vault losing the asset other than by a consented transfer is a violation ("moves").
/// Money is followed by ghost sums: what was paid to the vaults, credited and withdrawn.
contract CoOwnersHandler is Cheats {
    address internal constant BANK = address(0xBA01);
    uint256 internal constant MAX_ASSETS = 6;
    uint256 internal constant PRICE = 1_000_003; // odd: the shares' rounding leaves a remainder

    bytes32 internal constant CONSENTS = "consents";
    bytes32 internal constant MOVES = "moves";
    bytes32 internal constant SHARES = "shares";
    bytes32 internal constant MONEY = "money";

    CoOwnership public immutable co;
    IPRegistry public immutable registry;
    LicenseMarket public immutable licenseMarket;
    SettlementToken public immutable token;

    address[] internal _parties;
    uint256[] internal _assets;
    mapping(uint256 assetId => bool) public gone; // moved out of its vault by a consented transfer
    /// @dev The model of the consents: (asset, act id) -> party -> consented and unused.
    mapping(uint256 assetId => mapping(bytes32 actId => mapping(address party => bool))) internal _consents;

    uint256 public paidToVaults;
    uint256 public withdrawn;
    uint256 public currentTime;

    mapping(bytes32 rule => uint256) public violations;
    mapping(bytes32 rule => string) public lastViolation;
    mapping(bytes32 act => uint256) public successes;

    constructor(CoOwnership co_, IPRegistry registry_, LicenseMarket licenseMarket_, SettlementToken token_) {
        co = co_;
        registry = registry_;
        licenseMarket = licenseMarket_;
        token = token_;
        _parties = [address(0xA11CE), address(0xB0B), address(0xCA201), address(0x5E7)];
        for (uint256 i = 0; i < 20; ++i) {
            token_.faucet(address(this), token_.FAUCET_LIMIT());
        }
        token_.approve(address(licenseMarket_), type(uint256).max);
        currentTime = block.timestamp;
    }

    // == acts ======================================================================================

    function register(uint256 partySeed, uint256 countSeed, uint256 splitSeed, bool bad) external {
        _tick();
        if (_assets.length >= MAX_ASSETS) return;
        ICoOwnership.Share[] memory shares = _shares(partySeed, countSeed, splitSeed, bad);
        ICoOwnership.Agreement memory agreement = ICoOwnership.Agreement(bytes32(0), uint8(countSeed >> 8) % 4);
        vm.prank(_party(partySeed));
        try co.register(
            keccak256(abi.encode("content", _assets.length, block.timestamp, splitSeed)),
            IIPRegistry.AssetKind.InventionPatent,
            bytes32(0),
            keccak256("metadata"),
            "",
            shares,
            agreement
        ) returns (uint256 assetId) {
            if (bad) _violate(SHARES, "shares that do not sum to 10,000 were registered");
            _assets.push(assetId);
            _ok("register");
        } catch {
            if (!bad) _violate(SHARES, "a good registration reverted");
        }
    }

    /// @dev 1 to 3 of the first three parties with random shares summing to 10,000 (one less if `bad`).
    function _shares(uint256 partySeed, uint256 countSeed, uint256 splitSeed, bool bad)
        internal
        view
        returns (ICoOwnership.Share[] memory shares)
    {
        uint256 n = 1 + countSeed % 3;
        shares = new ICoOwnership.Share[](n);
        uint256 left = 10_000;
        for (uint256 i = 0; i < n; ++i) {
            uint256 bps = i + 1 == n ? left : 1 + (splitSeed >> (8 * i)) % (left - (n - i - 1));
            left -= bps;
            shares[i] = ICoOwnership.Share(_parties[(partySeed + i) % 3], uint16(bps));
        }
        if (bad) shares[0].bps -= 1; // the shares no longer sum to 10,000
    }

    /// @notice A party consents to (or withdraws its consent to) one of the asset's candidate acts.
    function consent(uint256 partySeed, uint256 assetSeed, uint256 actSeed, bool withdrawing) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0 || gone[assetId]) return;
        address party = _party(partySeed);
        bytes32 id = _candidate(assetId, actSeed);
        bool given = _consents[assetId][id][party];
        vm.prank(party);
        if (withdrawing) {
            try co.withdrawConsent(assetId, id) {
                if (!given) _violate(CONSENTS, "a consent never given was withdrawn");
                _consents[assetId][id][party] = false;
                _ok("withdraw consent");
            } catch {
                if (given) _violate(CONSENTS, "a given consent could not be withdrawn");
            }
        } else {
            try co.consent(assetId, id) {
                if (given || !_isCoOwner(assetId, party)) _violate(CONSENTS, "a stranger's or second consent counted");
                _consents[assetId][id][party] = true;
                _ok("consent");
            } catch {
                if (!given && _isCoOwner(assetId, party)) _violate(CONSENTS, "a co-owner's consent reverted");
            }
        }
    }

    /// @notice A party tries one of the acts that need every co-owner, on the candidate's parameters.
    function unanimousAct(uint256 partySeed, uint256 assetSeed, uint256 actSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0 || gone[assetId]) return;
        uint256 which = actSeed % 5;
        (ICoOwnership.Share[] memory shares,, ICoOwnership.Agreement memory agreement,) = _holding(assetId);
        // A share transfer is the caller's own: half the time by the co-owner the candidates name.
        address party = which == 4 && partySeed % 2 == 0 ? shares[0].account : _party(partySeed);
        bytes32 id = which == 4
            ? co.actId(assetId, ICoOwnership.ActKind.ShareTransfer, abi.encode(party, _parties[3], uint16(1)))
            : _candidate(assetId, actSeed);
        bool consented = _isCoOwner(assetId, party)
            && (_othersConsented(assetId, id, party) || (which == 4 && agreement.flags & 1 != 0));
        bytes memory data = _candidateCall(assetId, which); // (before the prank: it reads the co-owners)
        vm.prank(party);
        (bool ok,) = address(co).call(data);
        if (!ok) return; // other rules may refuse (a licence conflict, a bad share transfer): safety only
        if (!consented) {
            _violate(CONSENTS, "an act needing every co-owner went through without every consent");
            return;
        }
        _useConsents(assetId, id, shares);
        if (which == 0) gone[assetId] = true;
        _ok([bytes32("transfer"), "exclusive licence", "pledge", "change co-owners", "share transfer"][which]);
    }

    /// @notice A co-owner alone lists a non-exclusive licence, and this handler buys it.
    function licenceSale(uint256 partySeed, uint256 assetSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address party = _party(partySeed);
        ILicenseRegistry.LicenseTerms memory terms = _terms(address(0), ILicenseRegistry.LicenseKind.NonExclusive);
        vm.prank(party);
        try co.listLicense(assetId, terms, address(token), PRICE, 1, uint40(block.timestamp + 30 days)) returns (
            uint256 listingId
        ) {
            (ICoOwnership.Share[] memory shares,, ICoOwnership.Agreement memory agreement,) = _holding(assetId);
            // Under unanimous licensing the others never consented to a listing (a sole co-owner needs none).
            if (!_isCoOwner(assetId, party) || (agreement.flags & 2 != 0 && shares.length > 1)) {
                _violate(CONSENTS, "a licence was listed by a stranger or against the agreement");
            }
            (, address vault,,) = _holding(assetId);
            uint256 before = token.balanceOf(vault);
            try licenseMarket.buyLicense(listingId, PRICE, 0) {
                paidToVaults += token.balanceOf(vault) - before;
                _ok("licence sale");
            } catch {}
        } catch {}
    }

    function distribute(uint256 assetSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        co.distribute(assetId, address(token));
        _ok("distribute");
    }

    function withdraw(uint256 partySeed) external {
        _tick();
        address party = _party(partySeed);
        uint256 credit = co.creditOf(address(token), party);
        vm.prank(party);
        try co.withdraw(address(token)) returns (uint256 amount) {
            if (amount != credit) _violate(MONEY, "a withdrawal paid other than the credit");
            withdrawn += amount;
            _ok("withdraw");
        } catch {
            if (credit != 0) _violate(MONEY, "a credit could not be withdrawn");
        }
    }

    function timeTravel(uint256 secondsSeed) external {
        currentTime += secondsSeed % 3 days;
        _tick();
    }

    // == views for the invariants ==================================================================

    function assets() external view returns (uint256[] memory) {
        return _assets;
    }

    function parties() external view returns (address[] memory) {
        return _parties;
    }

    // == the candidates ============================================================================

    /// @dev The id of one of the asset's candidate acts (a few fixed parameters per kind, so that
    /// consents and acts meet often).
    function _candidate(uint256 assetId, uint256 actSeed) internal view returns (bytes32) {
        (ICoOwnership.ActKind kind, bytes memory params) = _candidateParams(assetId, actSeed % 5);
        return co.actId(assetId, kind, params);
    }

    function _candidateParams(uint256 assetId, uint256 which)
        internal
        view
        returns (ICoOwnership.ActKind kind, bytes memory params)
    {
        if (which == 0) return (ICoOwnership.ActKind.Transfer, abi.encode(_parties[3]));
        if (which == 1) {
            return (ICoOwnership.ActKind.License, abi.encode(_terms(_parties[3], ILicenseRegistry.LicenseKind.Exclusive)));
        }
        if (which == 2) {
            return (ICoOwnership.ActKind.Pledge, abi.encode(BANK, uint256(1_000_000), bytes3("CNY"), _maturity(), bytes32("loan")));
        }
        if (which == 3) return (ICoOwnership.ActKind.CoOwnersChange, abi.encode(_rotated(assetId), _noAgreement()));
        (ICoOwnership.Share[] memory shares,,,) = _holding(assetId);
        return (ICoOwnership.ActKind.ShareTransfer, abi.encode(shares[0].account, _parties[3], uint16(1)));
    }

    function _candidateCall(uint256 assetId, uint256 which) internal view returns (bytes memory) {
        if (which == 0) return abi.encodeCall(CoOwnership.transfer, (assetId, _parties[3]));
        if (which == 1) {
            return abi.encodeCall(
                CoOwnership.offerLicense, (assetId, _terms(_parties[3], ILicenseRegistry.LicenseKind.Exclusive))
            );
        }
        if (which == 2) {
            return abi.encodeCall(
                CoOwnership.proposePledge, (assetId, BANK, 1_000_000, bytes3("CNY"), _maturity(), bytes32("loan"))
            );
        }
        if (which == 3) return abi.encodeCall(CoOwnership.changeCoOwners, (assetId, _rotated(assetId), _noAgreement()));
        return abi.encodeCall(CoOwnership.transferShare, (assetId, _parties[3], uint16(1)));
    }

    /// @dev The current co-owners with their shares moved one place along (same accounts, new shares).
    function _rotated(uint256 assetId) internal view returns (ICoOwnership.Share[] memory rotated) {
        (ICoOwnership.Share[] memory shares,,,) = _holding(assetId);
        rotated = new ICoOwnership.Share[](shares.length);
        for (uint256 i = 0; i < shares.length; ++i) {
            rotated[i] = ICoOwnership.Share(shares[i].account, shares[(i + 1) % shares.length].bps);
        }
    }

    function _noAgreement() internal pure returns (ICoOwnership.Agreement memory) {
        return ICoOwnership.Agreement(bytes32(0), 0);
    }

    function _maturity() internal view returns (uint40) {
        return uint40((currentTime / 30 days + 12) * 30 days); // fixed within a month: the same act
    }

    function _terms(address licensee, ILicenseRegistry.LicenseKind kind)
        internal
        view
        returns (ILicenseRegistry.LicenseTerms memory)
    {
        uint40 start = uint40(currentTime / 30 days * 30 days);
        return ILicenseRegistry.LicenseTerms(
            licensee, kind, start, start + 365 days, bytes32(0), bytes32(0), keccak256("terms"), 0, false
        );
    }

    // == the model =================================================================================

    function _holding(uint256 assetId)
        internal
        view
        returns (ICoOwnership.Share[] memory shares, address vault, ICoOwnership.Agreement memory agreement, uint32)
    {
        uint32 epoch;
        (shares, agreement, vault, epoch) = co.coOwnersOf(assetId);
        return (shares, vault, agreement, epoch);
    }

    function _isCoOwner(uint256 assetId, address party) internal view returns (bool) {
        (ICoOwnership.Share[] memory shares,,,) = _holding(assetId);
        for (uint256 i = 0; i < shares.length; ++i) {
            if (shares[i].account == party) return true;
        }
        return false;
    }

    function _othersConsented(uint256 assetId, bytes32 id, address party) internal view returns (bool) {
        (ICoOwnership.Share[] memory shares,,,) = _holding(assetId);
        for (uint256 i = 0; i < shares.length; ++i) {
            if (shares[i].account != party && !_consents[assetId][id][shares[i].account]) return false;
        }
        return true;
    }

    /// @dev The act used every co-owner's consent to it (the actor's own too); others' stay.
    function _useConsents(uint256 assetId, bytes32 id, ICoOwnership.Share[] memory shares) internal {
        for (uint256 i = 0; i < shares.length; ++i) {
            _consents[assetId][id][shares[i].account] = false;
        }
    }

    function _tick() internal {
        vm.warp(currentTime);
    }

    function _party(uint256 seed) internal view returns (address) {
        return _parties[seed % _parties.length];
    }

    function _asset(uint256 seed) internal view returns (uint256) {
        return _assets.length == 0 ? 0 : _assets[seed % _assets.length];
    }

    function _violate(bytes32 rule, string memory what) internal {
        violations[rule] += 1;
        lastViolation[rule] = what;
    }

    function _ok(bytes32 act) internal {
        successes[act] += 1;
    }
}
