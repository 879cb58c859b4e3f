// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IPRegistry} from "../../../contracts/IPRegistry.sol";
import {LicenseRegistry} from "../../../contracts/LicenseRegistry.sol";
import {Marketplace} from "../../../contracts/Marketplace.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {PledgeRegistry} from "../../../contracts/PledgeRegistry.sol";
import {TimestampRegistry} from "../../../contracts/TimestampRegistry.sol";
import {IIPRegistry} from "../../../contracts/interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "../../../contracts/interfaces/ILicenseRegistry.sol";
import {IMarketplaceBase} from "../../../contracts/interfaces/IMarketplaceBase.sol";
import {ITimestampRegistry} from "../../../contracts/interfaces/ITimestampRegistry.sol";
import {Cheats} from "../utils/Vm.sol";

/// @notice Drives the ledger with random acts by random parties, and keeps a model of what the rules
/// allow. Every act is tried; the model says beforehand whether the rules permit it:
/// - an act the rules forbid that succeeds is a violation (counted per rule, and the model is *not*
///   updated, so the state comparison in the invariants fails too);
/// - where the model is exact (moves, registrar acts, pledges, stamps), an act the rules permit that
///   reverts is a violation as well, so a broken model cannot pass silently.
/// Licenses are checked for safety only (who may accept, frozen, pledged); their overlap rule is
/// checked on the contract's own state by the invariant.
///
/// Parties: three owners, two accredited banks, a stranger, the registrar and the admin (who is not
/// a registrar). Role-gated acts are made by the right party three times in four and by anyone the
/// fourth, so unauthorized attempts are frequent.
contract LedgerHandler is Cheats {
    address internal constant ADMIN = address(0xAD00);
    address internal constant REGISTRAR = address(0x5EC0);
    address internal constant BANK = address(0xBA01);
    address internal constant BANK2 = address(0xBA02);

    /// @dev Few assets, so that pledges, licenses and freezes pile up on the same ones.
    uint256 internal constant MAX_ASSETS = 8;
    /// @dev Few stamp keys, so that re-stamping a known key is tried often.
    uint256 internal constant STAMP_KEYS = 24;

    bytes32 internal constant MOVES = "moves";
    bytes32 internal constant PLEDGES = "pledges";
    bytes32 internal constant LICENSES = "licenses";
    bytes32 internal constant REGISTRAR_ACTS = "registrar";
    bytes32 internal constant STAMPS = "stamps";
    bytes32 internal constant REGISTRATIONS = "registrations";
    bytes32 internal constant MARKET = "market";
    bytes32 internal constant DISPUTES = "disputes";
    bytes32 internal constant VERSIONS = "versions";

    IPRegistry public immutable registry;
    PledgeRegistry public immutable pledges;
    LicenseRegistry public immutable licenses;
    TimestampRegistry public immutable stamps;
    Marketplace public immutable market;
    SettlementToken public immutable token;
    address public immutable treasury;
    uint16 internal _feeBps; // the protocol fee now (the admin changes it: {setFee})

    address[] internal _actors;

    /// @notice The clock of the run (forge does not promise that a warp persists between calls).
    uint256 public currentTime;
    uint256 public currentBlock;
    /// @notice Acts tried in this run.
    uint256 public calls;

    // -- the model --------------------------------------------------------------------------------

    struct RegistrarRecord {
        uint40 frozenUntil;
        IIPRegistry.LegalStatus status;
        bool verified;
        uint40 expiresAt;
        uint40 feesPaidUntil;
    }

    struct PledgeModel {
        uint256 assetId;
        address pledgor;
        address pledgee;
        uint40 maturity;
        uint8 status; // IPledgeRegistry.PledgeStatus
        address consent;
    }

    struct LicenseModel {
        uint256 assetId;
        address licensor;
        address licensee;
        bytes32 consentId; // IPledgeRegistry.licenseConsentId of its terms
        bytes32 anyoneId; // the same with licensee zero
    }

    uint8 internal constant P_PROPOSED = 1;
    uint8 internal constant P_ACTIVE = 2;
    uint8 internal constant P_RELEASED = 3;
    uint8 internal constant P_ENFORCED = 4;
    uint8 internal constant P_CANCELLED = 5;

    mapping(uint256 assetId => address) public expectedOwner;
    mapping(uint256 assetId => RegistrarRecord) internal _records;
    mapping(uint256 assetId => uint256 pledgeId) public expectedActivePledge;
    mapping(uint256 pledgeId => PledgeModel) internal _pledges;
    mapping(uint256 pledgeId => mapping(bytes32 consentId => bool)) internal _licenseConsent;
    mapping(uint256 pledgeId => bytes32 consentId) internal _lastConsent;
    /// @notice The model of {ILicenseRegistry-encumbranceVersionOf}: license acts that went through.
    mapping(uint256 assetId => uint256) public expectedEncumbranceVersion;
    mapping(uint256 licenseId => LicenseModel) internal _licenses;
    bytes32[] internal _stampKeys;
    mapping(bytes32 key => ITimestampRegistry.Record) internal _stamps;

    struct ListingModel {
        uint256 assetId;
        address seller;
        address buyer;
        uint256 price;
        uint32 nonce;
        uint40 expiry;
        uint256 pledgeId;
        uint256 transfers; // the asset's transfer count when listed: the listing dies once it changed
        uint16 feeBps; // the fee when listed: its sale pays the lower of it and the fee then
        IMarketplaceBase.ListingStatus status; // only Open, Sold, Cancelled (the stored ones)
    }

    struct DisputeModel {
        uint256 assetId;
        bool ownership;
        bool open;
    }

    /// @notice The open ownership dispute that stops an asset (every move, new pledges), or 0.
    mapping(uint256 assetId => uint256 disputeId) public expectedOwnershipDispute;
    mapping(uint256 disputeId => DisputeModel) internal _disputes;
    uint256 public expectedDisputeCount;

    struct OfferModel {
        uint256 assetId;
        address buyer;
        address seller;
        uint256 amount;
        uint40 expiry;
        uint256 pledgeId;
        uint16 feeBps; // the fee when made: its acceptance pays the lower of it and the fee then
        IMarketplaceBase.OfferStatus status; // only Open, Refused, Accepted, Withdrawn (the stored ones)
    }

    mapping(uint256 listingId => ListingModel) internal _marketListings;
    mapping(uint256 assetId => uint256 listingId) internal _listingOfAsset;
    mapping(uint256 offerId => OfferModel) internal _marketOffers;
    /// @dev Whether the registry's ERC-721 approval of `assetId` is the Marketplace (every move clears it).
    mapping(uint256 assetId => bool) internal _marketApproved;
    mapping(uint256 assetId => uint256) internal _transferCount;
    /// @notice The escrow the market must hold: the amounts of offers neither accepted nor withdrawn.
    uint256 public expectedEscrow;

    /// @notice The model of {IIPRegistry-parentOf}: set once, by the owner, to an earlier asset.
    mapping(uint256 assetId => uint256 parentId) public expectedParent;

    mapping(bytes32 rule => uint256) public violations;
    /// @notice How often each kind of act went through (for tuning the handler; see test/foundry/README.md).
    mapping(bytes32 act => uint256) public successes;
    mapping(bytes32 rule => string) public lastViolation;

    constructor(
        IPRegistry registry_,
        PledgeRegistry pledges_,
        LicenseRegistry licenses_,
        TimestampRegistry stamps_,
        Marketplace market_,
        SettlementToken token_
    ) {
        registry = registry_;
        pledges = pledges_;
        licenses = licenses_;
        stamps = stamps_;
        market = market_;
        token = token_;
        (treasury, _feeBps) = market_.fee();
        _actors = [address(0xA11CE), address(0xB0B), address(0xCA201), BANK, BANK2, address(0x5E7), REGISTRAR, ADMIN];
        // Every party lets the market collect what it pays (the app's one-time approval).
        for (uint256 i = 0; i < _actors.length; ++i) {
            vm.prank(_actors[i]);
            token_.approve(address(market_), type(uint256).max);
        }
        currentTime = block.timestamp;
        currentBlock = block.number;
    }

    // == time ======================================================================================

    function timeTravel(uint256 secondsSeed) external {
        currentTime += secondsSeed % 10 days;
        currentBlock += 1;
        _tick();
    }

    // == assets ====================================================================================

    function register(uint256 ownerSeed, uint256 contentSeed, uint256 refSeed, uint8 kindSeed) external {
        _tick();
        if (registry.assetCount() >= MAX_ASSETS) return;
        address owner = _actor(ownerSeed);
        bytes32 content = keccak256(abi.encode("content", contentSeed % 16));
        bytes32 ref = refSeed % 3 == 0 ? bytes32(0) : keccak256(abi.encode("ref", refSeed % 8));
        bool fresh = registry.assetIdOfContent(content) == 0 && (ref == 0 || registry.assetIdOfRef(ref) == 0);
        vm.prank(owner);
        try registry.register(content, IIPRegistry.AssetKind(kindSeed % 7), ref, keccak256(abi.encode(contentSeed)), "")
        returns (uint256 assetId) {
            if (!fresh) {
                _violate(REGISTRATIONS, "a duplicate content hash or ref was registered");
                return;
            }
            expectedOwner[assetId] = owner;
            _ok("register");
        } catch {
            if (fresh) _violate(REGISTRATIONS, "a fresh registration reverted");
        }
    }

    /// @notice The owner (or, one time in four, anyone) names an asset's parent (a version act: a
    /// divisional, a continuation, a software version): once, and only an earlier asset.
    function setParent(uint256 callerSeed, uint256 assetSeed, uint256 parentSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = callerSeed % 4 == 0 ? _actor(callerSeed >> 8) : expectedOwner[assetId];
        uint256 parentId = parentSeed % (assetId + 1); // 0 .. assetId: the zero and itself are refused
        bool allowed = caller == expectedOwner[assetId] && parentId != 0 && parentId < assetId
            && expectedParent[assetId] == 0;
        vm.prank(caller);
        try registry.setParent(assetId, parentId) {
            if (!allowed) {
                _violate(VERSIONS, "a parent was set by a non-owner, twice, or to a later asset");
                return;
            }
            expectedParent[assetId] = parentId;
            _ok("set parent");
        } catch {
            if (allowed) _violate(VERSIONS, "a permitted setParent reverted");
        }
    }

    /// @notice The owner (or, one time in four, anyone) moves an asset to anyone.
    function transfer(uint256 callerSeed, uint256 assetSeed, uint256 toSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address from = expectedOwner[assetId];
        address caller = callerSeed % 4 == 0 ? _actor(callerSeed >> 8) : from;
        uint256 pledgeId = expectedActivePledge[assetId];
        address to = _actor(toSeed);
        // Half the time a pledged asset goes to whom its pledgee consented to (if anyone).
        if (pledgeId != 0 && toSeed % 2 == 0 && _pledges[pledgeId].consent != address(0)) {
            to = _pledges[pledgeId].consent;
        }
        _transfer(caller, assetId, to);
    }

    function _transfer(address caller, uint256 assetId, address to) internal {
        address from = expectedOwner[assetId];
        uint256 pledgeId = expectedActivePledge[assetId];
        bool allowed = caller == from && !_frozen(assetId) && !_disputed(assetId)
            && (pledgeId == 0 || _pledges[pledgeId].consent == to);
        vm.prank(caller);
        try registry.transferFrom(from, to, assetId) {
            if (!allowed) {
                _violate(MOVES, "a frozen, disputed, pledged or foreign asset moved");
                return;
            }
            _moved(assetId, to);
            if (pledgeId != 0) _pledges[pledgeId].consent = address(0);
            _ok(pledgeId != 0 ? bytes32("transfer pledged") : bytes32("transfer"));
        } catch {
            if (allowed) _violate(MOVES, "a permitted transfer reverted");
        }
    }

    /// @notice Anyone knocks on a door meant for one contract: the registry's enforcement transfer
    /// (only the PledgeRegistry) or the PledgeRegistry's transfer check (only the registry; it would
    /// use up a transfer consent).
    function attack(uint256 callerSeed, uint256 assetSeed, uint256 toSeed, bool onPledges) external {
        if (onPledges) _authorizeTransferDirectly(callerSeed, assetSeed, toSeed);
        else _enforceTransferDirectly(callerSeed, assetSeed, toSeed);
    }

    function _enforceTransferDirectly(uint256 callerSeed, uint256 assetSeed, uint256 toSeed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        vm.prank(_actor(callerSeed));
        try registry.enforceTransfer(assetId, _actor(toSeed)) {
            _violate(MOVES, "enforceTransfer answered a caller other than the PledgeRegistry");
        } catch {}
    }

    // == registrar =================================================================================

    /// @notice The registrar (or, one time in four, anyone) records a court order: a freeze (most
    /// often), a renewal or a lifting; or a dispute opened (of any kind; ownership stops the asset) or
    /// resolved (with any outcome, Open refused).
    function courtOrder(uint256 callerSeed, uint256 assetSeed, uint8 mode, uint256 termSeed) external {
        uint8 m = mode % 8;
        if (m < 3) _freeze(callerSeed, assetSeed, termSeed);
        else if (m == 3) _renewFreeze(callerSeed, assetSeed, termSeed);
        else if (m == 4) _unfreeze(callerSeed, assetSeed);
        else if (m == 5) _openDispute(callerSeed, assetSeed, termSeed);
        else _resolveDispute(callerSeed, assetSeed, termSeed);
    }

    function _openDispute(uint256 callerSeed, uint256 assetSeed, uint256 seed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        IIPRegistry.DisputeKind kind = IIPRegistry.DisputeKind(seed % 4);
        bytes32 caseRef = seed % 11 == 0 ? bytes32(0) : keccak256(abi.encode("case", seed));
        bool ownership = kind == IIPRegistry.DisputeKind.Ownership;
        bool allowed = caller == REGISTRAR && caseRef != 0 && !(ownership && _disputed(assetId));
        vm.prank(caller);
        try registry.openDispute(assetId, kind, caseRef, keccak256(abi.encode("evidence", seed))) returns (
            uint256 disputeId
        ) {
            if (!allowed) {
                _violate(DISPUTES, "a dispute was opened by a non-registrar, without a case, or a second of ownership");
                return;
            }
            expectedDisputeCount += 1;
            if (disputeId != expectedDisputeCount) _violate(DISPUTES, "dispute ids are not sequential");
            _disputes[disputeId] = DisputeModel(assetId, ownership, true);
            if (ownership) expectedOwnershipDispute[assetId] = disputeId;
            _ok("open dispute");
        } catch {
            if (allowed) _violate(DISPUTES, "a permitted dispute reverted");
        }
    }

    function _resolveDispute(uint256 callerSeed, uint256 disputeSeed, uint256 seed) internal {
        _tick();
        uint256 count = expectedDisputeCount;
        // Mostly an ownership dispute that stops an asset now, so that assets move again.
        uint256 disputeId = count == 0 ? 1 : 1 + disputeSeed % (count + 1);
        uint256 assets = registry.assetCount();
        if (disputeSeed % 3 != 0) {
            for (uint256 i = 0; i < assets; ++i) {
                uint256 open = expectedOwnershipDispute[1 + (disputeSeed + i) % assets];
                if (open != 0) {
                    disputeId = open;
                    break;
                }
            }
        }
        address caller = _registrarOrAnyone(callerSeed);
        IIPRegistry.DisputeOutcome outcome = IIPRegistry.DisputeOutcome(seed % 5);
        DisputeModel storage d = _disputes[disputeId];
        bool allowed = caller == REGISTRAR && d.open && outcome != IIPRegistry.DisputeOutcome.Open;
        vm.prank(caller);
        try registry.resolveDispute(disputeId, outcome, keccak256(abi.encode("decision", seed))) {
            if (!allowed) {
                _violate(DISPUTES, "a dispute was resolved by a non-registrar, twice, unknown or as Open");
                return;
            }
            d.open = false;
            if (d.ownership) expectedOwnershipDispute[d.assetId] = 0;
            _ok("resolve dispute");
        } catch {
            if (allowed) _violate(DISPUTES, "a permitted resolution reverted");
        }
    }

    function _freeze(uint256 callerSeed, uint256 assetSeed, uint256 termSeed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        uint40 until = termSeed % 16 == 0 ? uint40(block.timestamp) : uint40(block.timestamp + 1 + termSeed % 20 days);
        bool allowed = caller == REGISTRAR && !_frozen(assetId) && until > block.timestamp;
        vm.prank(caller);
        try registry.freeze(assetId, "Beijing IP Court", "(2024) Jing 73 Min Chu 123", bytes32(termSeed), until) {
            if (!allowed) {
                _violate(REGISTRAR_ACTS, "a freeze was accepted from a non-registrar or twice");
                return;
            }
            _records[assetId].frozenUntil = until;
            _ok("freeze");
        } catch {
            if (allowed) _violate(REGISTRAR_ACTS, "a permitted freeze reverted");
        }
    }

    function _renewFreeze(uint256 callerSeed, uint256 assetSeed, uint256 termSeed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        uint40 current = _records[assetId].frozenUntil;
        uint40 until = uint40(block.timestamp + termSeed % 30 days);
        bool allowed = caller == REGISTRAR && _frozen(assetId) && until > current;
        vm.prank(caller);
        try registry.renewFreeze(assetId, until) {
            if (!allowed) {
                _violate(REGISTRAR_ACTS, "a freeze was renewed by a non-registrar or badly");
                return;
            }
            _records[assetId].frozenUntil = until;
        } catch {
            if (allowed) _violate(REGISTRAR_ACTS, "a permitted renewal reverted");
        }
    }

    function _unfreeze(uint256 callerSeed, uint256 assetSeed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        bool allowed = caller == REGISTRAR && _frozen(assetId);
        vm.prank(caller);
        try registry.unfreeze(assetId, bytes32(callerSeed)) {
            if (!allowed) {
                _violate(REGISTRAR_ACTS, "a freeze was lifted by a non-registrar");
                return;
            }
            _records[assetId].frozenUntil = 0;
            _ok("unfreeze");
        } catch {
            if (allowed) _violate(REGISTRAR_ACTS, "a permitted unfreeze reverted");
        }
    }

    /// @notice The registrar (or, one time in four, anyone) sets a legal status, verification or
    /// dates, or unbinds a squatted official number or content hash.
    function registrarAct(uint256 callerSeed, uint256 assetSeed, uint8 mode, uint256 valueSeed) external {
        if (mode % 4 == 0) _setLegalStatus(callerSeed, assetSeed, valueSeed);
        else if (mode % 4 == 1) _setVerified(callerSeed, assetSeed, valueSeed % 2 == 0);
        else if (mode % 4 == 2) _setDates(callerSeed, assetSeed, valueSeed, valueSeed >> 128);
        else _unbind(callerSeed, valueSeed);
    }

    /// @dev The keys {register} uses: one of 16 content hashes or 8 refs; bound or not.
    function _unbind(uint256 callerSeed, uint256 keySeed) internal {
        _tick();
        address caller = _registrarOrAnyone(callerSeed);
        bool ofRef = keySeed % 2 == 0;
        bytes32 key = ofRef ? keccak256(abi.encode("ref", (keySeed >> 8) % 8))
            : keccak256(abi.encode("content", (keySeed >> 8) % 16));
        uint256 bound = ofRef ? registry.assetIdOfRef(key) : registry.assetIdOfContent(key);
        bool allowed = caller == REGISTRAR && bound != 0;
        bool done;
        vm.prank(caller);
        if (ofRef) {
            try registry.unbindRef(key, keccak256("official register")) {
                done = true;
            } catch {}
        } else {
            try registry.unbindContent(key, keccak256("official register")) {
                done = true;
            } catch {}
        }
        if (!done) {
            if (allowed) _violate(REGISTRAR_ACTS, "a permitted unbinding reverted");
            return;
        }
        if (!allowed) {
            _violate(REGISTRAR_ACTS, "a ref or content hash was unbound by a non-registrar or while unbound");
            return;
        }
        if ((ofRef ? registry.assetIdOfRef(key) : registry.assetIdOfContent(key)) != 0) {
            _violate(REGISTRATIONS, "an unbound ref or content hash still names an asset");
        }
        if (!registry.assetOf(bound).holderDisputed) _violate(REGISTRAR_ACTS, "an unbound asset is not disputed");
        _records[bound].verified = false;
        _ok("unbind");
    }

    function _setLegalStatus(uint256 callerSeed, uint256 assetSeed, uint256 statusSeed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        IIPRegistry.LegalStatus status = IIPRegistry.LegalStatus(statusSeed % 6);
        vm.prank(caller);
        try registry.setLegalStatus(assetId, status) {
            if (caller != REGISTRAR) {
                _violate(REGISTRAR_ACTS, "a non-registrar set a legal status");
                return;
            }
            _records[assetId].status = status;
        } catch {
            if (caller == REGISTRAR) _violate(REGISTRAR_ACTS, "the registrar could not set a legal status");
        }
    }

    function _setVerified(uint256 callerSeed, uint256 assetSeed, bool verified) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        vm.prank(caller);
        try registry.setVerified(assetId, verified) {
            if (caller != REGISTRAR) {
                _violate(REGISTRAR_ACTS, "a non-registrar set verified");
                return;
            }
            _records[assetId].verified = verified;
        } catch {
            if (caller == REGISTRAR) _violate(REGISTRAR_ACTS, "the registrar could not set verified");
        }
    }

    function _setDates(uint256 callerSeed, uint256 assetSeed, uint256 expiresSeed, uint256 feesSeed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        uint40 expiresAt = expiresSeed % 3 == 0 ? 0 : uint40(block.timestamp + expiresSeed % 200 days);
        uint40 feesPaidUntil = uint40(block.timestamp + feesSeed % 400 days);
        vm.prank(caller);
        try registry.setDates(assetId, expiresAt, feesPaidUntil) {
            if (caller != REGISTRAR) {
                _violate(REGISTRAR_ACTS, "a non-registrar set the dates");
                return;
            }
            _records[assetId].expiresAt = expiresAt;
            _records[assetId].feesPaidUntil = feesPaidUntil;
        } catch {
            if (caller == REGISTRAR) _violate(REGISTRAR_ACTS, "the registrar could not set the dates");
        }
    }

    // == pledges ===================================================================================

    function proposePledge(uint256 callerSeed, uint256 assetSeed, uint256 pledgeeSeed, uint256 maturitySeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address owner = expectedOwner[assetId];
        address caller = callerSeed % 5 == 0 ? _actor(callerSeed >> 8) : owner;
        address pledgee = pledgeeSeed % 4 == 0 ? _actor(pledgeeSeed >> 8) : (pledgeeSeed % 2 == 0 ? BANK : BANK2);
        uint40 maturity = uint40(block.timestamp + maturitySeed % 30 days);
        bool allowed = caller == owner && pledgee != owner && _accredited(pledgee) && _pledgeable(assetId, maturity);
        vm.prank(caller);
        try pledges.propose(assetId, pledgee, 1_000_000, "CNY", maturity, bytes32(maturitySeed)) returns (
            uint256 pledgeId
        ) {
            if (!allowed) {
                _violate(PLEDGES, "a pledge was proposed against the rules");
                return;
            }
            _pledges[pledgeId] = PledgeModel(assetId, owner, pledgee, maturity, P_PROPOSED, address(0));
            _ok("propose");
            // Often the bank accepts at once.
            if ((maturitySeed >> 64) % 2 == 0) _acceptPledge(pledgee, pledgeId);
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted proposal reverted");
        }
    }

    /// @notice The pledgee (or anyone) accepts a proposal; one time in five a party cancels it instead.
    function acceptPledge(uint256 callerSeed, uint256 pledgeSeed) external {
        if (callerSeed % 5 == 4) {
            _cancelPledge(callerSeed >> 8, pledgeSeed);
            return;
        }
        _tick();
        uint256 pledgeId = _pledge(pledgeSeed);
        if (pledgeId == 0) return;
        address caller = callerSeed % 4 == 0 ? _actor(callerSeed >> 8) : _pledges[pledgeId].pledgee;
        uint256 version = expectedEncumbranceVersion[_pledges[pledgeId].assetId];
        // One time in four the bank checked before a license changed: an older version.
        if ((callerSeed >> 16) % 4 == 0 && version != 0) {
            version -= 1 + (callerSeed >> 24) % version;
            _acceptPledge(caller, pledgeId, version);
            if (_pledges[pledgeId].status == P_PROPOSED && caller == _pledges[pledgeId].pledgee) _ok("stale check refused");
            return;
        }
        _acceptPledge(caller, pledgeId, version);
    }

    function _acceptPledge(address caller, uint256 pledgeId) internal {
        _acceptPledge(caller, pledgeId, expectedEncumbranceVersion[_pledges[pledgeId].assetId]);
    }

    /// @dev `version`: the encumbrance version the bank's check showed (stale if a license changed since).
    function _acceptPledge(address caller, uint256 pledgeId, uint256 version) internal {
        PledgeModel storage p = _pledges[pledgeId];
        bool allowed = caller == p.pledgee && p.status == P_PROPOSED && _accredited(p.pledgee)
            && expectedOwner[p.assetId] == p.pledgor && _pledgeable(p.assetId, p.maturity)
            && version == expectedEncumbranceVersion[p.assetId];
        vm.prank(caller);
        try pledges.accept(pledgeId, version) {
            if (!allowed) {
                _violate(PLEDGES, "a pledge was accepted against the rules");
                return;
            }
            p.status = P_ACTIVE;
            expectedActivePledge[p.assetId] = pledgeId;
            _ok("accept pledge");
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted acceptance reverted");
        }
    }

    function _cancelPledge(uint256 callerSeed, uint256 pledgeSeed) internal {
        _tick();
        uint256 pledgeId = _pledge(pledgeSeed);
        if (pledgeId == 0) return;
        PledgeModel storage p = _pledges[pledgeId];
        address caller = callerSeed % 3 == 0 ? _actor(callerSeed >> 8) : (callerSeed % 3 == 1 ? p.pledgor : p.pledgee);
        bool allowed = (caller == p.pledgor || caller == p.pledgee) && p.status == P_PROPOSED;
        vm.prank(caller);
        try pledges.cancel(pledgeId) {
            if (!allowed) {
                _violate(PLEDGES, "a pledge was cancelled against the rules");
                return;
            }
            p.status = P_CANCELLED;
            _ok("cancel");
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted cancellation reverted");
        }
    }

    function releasePledge(uint256 callerSeed, uint256 pledgeSeed) external {
        _tick();
        uint256 pledgeId = _activeOrAnyPledge(pledgeSeed);
        if (pledgeId == 0) return;
        PledgeModel storage p = _pledges[pledgeId];
        address caller = callerSeed % 3 == 0 ? _actor(callerSeed >> 8) : p.pledgee;
        bool allowed = caller == p.pledgee && p.status == P_ACTIVE;
        vm.prank(caller);
        try pledges.release(pledgeId) {
            if (!allowed) {
                _violate(PLEDGES, "a pledge was released by someone other than its pledgee");
                return;
            }
            p.status = P_RELEASED;
            _ok("release");
            p.consent = address(0);
            expectedActivePledge[p.assetId] = 0;
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted release reverted");
        }
    }

    function enforcePledge(uint256 callerSeed, uint256 pledgeSeed, uint256 buyerSeed) external {
        _tick();
        uint256 pledgeId = _activeOrAnyPledge(pledgeSeed);
        if (pledgeId == 0) return;
        PledgeModel storage p = _pledges[pledgeId];
        // A bank waits for maturity one time in two (time travel to just after it).
        if (p.status == P_ACTIVE && buyerSeed % 4 < 2 && currentTime <= p.maturity) {
            currentTime = p.maturity + 1 + (buyerSeed >> 16) % 2 days;
            _tick();
        }
        address caller = callerSeed % 3 == 0 ? _actor(callerSeed >> 8) : p.pledgee;
        address buyer = buyerSeed % 2 == 0 ? address(0) : _actor(buyerSeed >> 8);
        address to = buyer == address(0) ? p.pledgee : buyer;
        bool allowed = caller == p.pledgee && p.status == P_ACTIVE && block.timestamp > p.maturity
            && !_frozen(p.assetId) && !_disputed(p.assetId);
        vm.prank(caller);
        try pledges.enforce(pledgeId, buyer) {
            if (!allowed) {
                _violate(PLEDGES, "a pledge was enforced before maturity, by a non-pledgee, frozen or disputed");
                return;
            }
            p.status = P_ENFORCED;
            _ok("enforce");
            p.consent = address(0);
            expectedActivePledge[p.assetId] = 0;
            _moved(p.assetId, to);
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted enforcement reverted");
        }
    }

    /// @notice The pledgee (or, one time in four, anyone) consents to a transfer or to a license.
    function pledgeeConsent(uint256 callerSeed, uint256 pledgeSeed, uint256 targetSeed, bool toLicense) external {
        if (toLicense) _consentToLicense(callerSeed, pledgeSeed, targetSeed);
        else _consentToTransfer(callerSeed, pledgeSeed, targetSeed);
    }

    function _consentToTransfer(uint256 callerSeed, uint256 pledgeSeed, uint256 recipientSeed) internal {
        _tick();
        uint256 pledgeId = _activeOrAnyPledge(pledgeSeed);
        if (pledgeId == 0) return;
        PledgeModel storage p = _pledges[pledgeId];
        address caller = callerSeed % 4 == 0 ? _actor(callerSeed >> 8) : p.pledgee;
        address recipient = _actor(recipientSeed);
        bool allowed = caller == p.pledgee && p.status == P_ACTIVE;
        vm.prank(caller);
        try pledges.consentToTransfer(pledgeId, recipient) {
            if (!allowed) {
                _violate(PLEDGES, "someone other than the pledgee consented to a transfer");
                return;
            }
            p.consent = recipient;
            _ok("consent transfer");
            // Often the owner then sells to that recipient at once.
            if (recipientSeed % 2 == 0) _transfer(expectedOwner[p.assetId], p.assetId, recipient);
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted transfer consent reverted");
        }
    }

    /// @dev One time in five the pledgee (or anyone) withdraws a consent; otherwise it consents to
    /// the terms of a license the owner offers now (or of any license), for that licensee or, one
    /// time in four, for anyone; often the licensee then accepts. One time in eight the owner then
    /// offers the accomplice's terms instead (same scope, zero fee): the consent must not cover them.
    function _consentToLicense(uint256 callerSeed, uint256 pledgeSeed, uint256 licenseSeed) internal {
        _tick();
        uint256 pledgeId = _activeOrAnyPledge(pledgeSeed);
        if (pledgeId == 0) return;
        PledgeModel storage p = _pledges[pledgeId];
        address caller = callerSeed % 4 == 0 ? _actor(callerSeed >> 8) : p.pledgee;
        if (licenseSeed % 5 == 4) {
            _withdrawLicenseConsent(caller, pledgeId, licenseSeed >> 8);
            return;
        }
        uint256 licenseId;
        ILicenseRegistry.LicenseTerms memory terms;
        if (licenseSeed % 4 != 0) {
            address owner = expectedOwner[p.assetId];
            address licensee = _actor(licenseSeed >> 8);
            if (licensee == owner) licensee = p.pledgee == owner ? address(0xFEE) : p.pledgee;
            terms = _terms(licensee, licenseSeed >> 16, licenseSeed >> 32);
            licenseId = _offerLicense(owner, p.assetId, terms);
        } else {
            licenseId = _license(licenseSeed);
            if (licenseId != 0) terms = _licenseTerms(licenseId);
        }
        if (licenseId == 0) return;
        bool forAnyone = (licenseSeed >> 4) % 4 == 0;
        bytes32 consentId = forAnyone ? _licenses[licenseId].anyoneId : _licenses[licenseId].consentId;
        if (forAnyone) terms.licensee = address(0);
        bool allowed = caller == p.pledgee && p.status == P_ACTIVE && !_licenseConsent[pledgeId][consentId];
        vm.prank(caller);
        try pledges.consentToLicense(pledgeId, terms) returns (bytes32 given) {
            if (!allowed || given != consentId) {
                _violate(PLEDGES, "a license consent was given against the rules or under another id");
                return;
            }
            _licenseConsent[pledgeId][consentId] = true;
            _lastConsent[pledgeId] = consentId;
            _ok("consent license");
            if (licenseSeed % 8 == 1) {
                // The owner tries the consent on other terms: the accomplice's zero-fee licence.
                ILicenseRegistry.LicenseTerms memory other = _licenseTerms(licenseId);
                other.fee += 1;
                uint256 otherId = _offerLicense(expectedOwner[p.assetId], p.assetId, other);
                if (otherId != 0) _acceptLicense(other.licensee, otherId);
            } else if (licenseSeed % 8 == 2) {
                // The bank changes its mind before the licensee accepts: the acceptance must fail.
                _withdrawLicenseConsent(p.pledgee, pledgeId, licenseSeed & ~uint256(3) | 1);
                if (_licenses[licenseId].licensee != address(0)) _acceptLicense(_licenses[licenseId].licensee, licenseId);
            } else if (licenseSeed % 8 > 2 && _licenses[licenseId].licensee != address(0)) {
                _acceptLicense(_licenses[licenseId].licensee, licenseId);
            }
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted license consent reverted");
        }
    }

    /// @dev Mostly the pledge's latest consent (used, withdrawn or not), otherwise a license's terms.
    function _withdrawLicenseConsent(address caller, uint256 pledgeId, uint256 seed) internal {
        PledgeModel storage p = _pledges[pledgeId];
        bytes32 consentId = _lastConsent[pledgeId];
        if (seed % 4 == 0 || consentId == 0) {
            uint256 licenseId = _license(seed >> 2);
            if (licenseId == 0) return;
            consentId = (seed >> 1) % 2 == 0 ? _licenses[licenseId].anyoneId : _licenses[licenseId].consentId;
        }
        bool allowed = caller == p.pledgee && p.status == P_ACTIVE && _licenseConsent[pledgeId][consentId];
        vm.prank(caller);
        try pledges.withdrawLicenseConsent(pledgeId, consentId) {
            if (!allowed) {
                _violate(PLEDGES, "a license consent was withdrawn against the rules");
                return;
            }
            _licenseConsent[pledgeId][consentId] = false;
            _ok("withdraw consent");
        } catch {
            if (allowed) _violate(PLEDGES, "a permitted consent withdrawal reverted");
        }
    }

    /// @dev The stored terms of a license, as offered.
    function _licenseTerms(uint256 licenseId) internal view returns (ILicenseRegistry.LicenseTerms memory terms) {
        ILicenseRegistry.License memory l = licenses.licenseOf(licenseId);
        terms = ILicenseRegistry.LicenseTerms(
            l.licensee, l.kind, l.start, l.end, l.territory, l.fieldOfUse, l.termsHash, l.fee, l.sublicensable
        );
    }

    function _authorizeTransferDirectly(uint256 callerSeed, uint256 assetSeed, uint256 toSeed) internal {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        vm.prank(_actor(callerSeed));
        try pledges.authorizeTransfer(assetId, _actor(toSeed)) {
            _violate(PLEDGES, "authorizeTransfer answered a caller other than the IPRegistry");
        } catch {}
    }

    // == licenses ==================================================================================

    function offerLicense(
        uint256 callerSeed,
        uint256 assetSeed,
        uint256 licenseeSeed,
        uint256 termSeed,
        uint256 scopeSeed
    ) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address owner = expectedOwner[assetId];
        address caller = callerSeed % 5 == 0 ? _actor(callerSeed >> 8) : owner;
        _offerLicense(caller, assetId, _terms(_actor(licenseeSeed), termSeed, scopeSeed));
    }

    function _offerLicense(address caller, uint256 assetId, ILicenseRegistry.LicenseTerms memory terms)
        internal
        returns (uint256)
    {
        address owner = expectedOwner[assetId];
        bool nonCanonical = _nonCanonical(terms.territory) || _nonCanonical(terms.fieldOfUse);
        bool forbidden = caller != owner || _frozen(assetId) || nonCanonical;
        vm.prank(caller);
        try licenses.offer(assetId, terms) returns (uint256 licenseId) {
            if (forbidden) {
                _violate(LICENSES, "a license was offered by a non-owner, of a frozen asset or with a non-canonical code");
                return 0;
            }
            address licensee = terms.licensee;
            bytes32 consentId = keccak256(abi.encode(terms));
            terms.licensee = address(0); // memory structs alias: restored below
            bytes32 anyoneId = keccak256(abi.encode(terms));
            terms.licensee = licensee;
            _licenses[licenseId] = LicenseModel(assetId, owner, licensee, consentId, anyoneId);
            expectedEncumbranceVersion[assetId] += 1;
            _ok("offer license");
            return licenseId;
        } catch {
            if (nonCanonical) _ok("non-canonical refused");
            return 0;
        }
    }

    function acceptLicense(uint256 callerSeed, uint256 licenseSeed) external {
        _tick();
        uint256 licenseId = _license(licenseSeed);
        if (licenseId == 0) return;
        _acceptLicense(callerSeed % 5 == 0 ? _actor(callerSeed >> 8) : _licenses[licenseId].licensee, licenseId);
    }

    function _acceptLicense(address caller, uint256 licenseId) internal {
        LicenseModel storage l = _licenses[licenseId];
        uint256 pledgeId = expectedActivePledge[l.assetId];
        mapping(bytes32 => bool) storage consents = _licenseConsent[pledgeId];
        bool consented = consents[l.consentId] || consents[l.anyoneId];
        bool forbidden = caller != l.licensee || _frozen(l.assetId) || expectedOwner[l.assetId] != l.licensor
            || (pledgeId != 0 && !consented);
        vm.prank(caller);
        try licenses.accept(licenseId) {
            if (forbidden) {
                _violate(LICENSES, "a license was accepted by a non-licensee, or of a frozen, sold or pledged asset");
            }
            if (pledgeId != 0) {
                // The exact consent is used first, else the one for anyone; either is used up.
                if (consents[l.consentId]) consents[l.consentId] = false;
                else consents[l.anyoneId] = false;
            }
            expectedEncumbranceVersion[l.assetId] += 1;
            _ok(pledgeId != 0 ? bytes32("accept license pledged") : bytes32("accept license"));
        } catch {
            if (pledgeId != 0 && !consented && caller == l.licensee) _ok("unconsented refused");
        }
    }

    /// @notice A party (or anyone) terminates a license; half the time the registrar (or anyone)
    /// records its filing instead.
    function terminateLicense(uint256 callerSeed, uint256 licenseSeed, bool recordal) external {
        if (recordal) {
            _recordFiling(callerSeed, licenseSeed);
            return;
        }
        _tick();
        uint256 licenseId = _license(licenseSeed);
        if (licenseId == 0) return;
        LicenseModel storage l = _licenses[licenseId];
        address owner = expectedOwner[l.assetId];
        address caller = callerSeed % 5 == 0 ? _actor(callerSeed >> 8) : (callerSeed % 2 == 0 ? l.licensee : owner);
        bool forbidden = caller != l.licensee && caller != owner;
        vm.prank(caller);
        try licenses.terminate(licenseId, bytes32(callerSeed)) {
            if (forbidden) _violate(LICENSES, "a license was terminated by a third party");
            expectedEncumbranceVersion[l.assetId] += 1;
        } catch {}
    }

    function _recordFiling(uint256 callerSeed, uint256 licenseSeed) internal {
        _tick();
        uint256 licenseId = _license(licenseSeed);
        if (licenseId == 0) return;
        address caller = _registrarOrAnyone(callerSeed);
        vm.prank(caller);
        try licenses.recordFiling(licenseId, bytes32(callerSeed | 1)) {
            if (caller != REGISTRAR) _violate(LICENSES, "a non-registrar recorded a license filing");
        } catch {}
    }

    // == timestamps ================================================================================

    function stamp(uint256 callerSeed, uint256 keySeed, uint256 countSeed) external {
        _tick();
        address caller = _actor(callerSeed);
        bytes32 leaf = keccak256(abi.encode("stamp", keySeed % STAMP_KEYS));
        // A single stamp is recorded under its one-leaf root; a batch under the root it names, which
        // is sometimes that same one-leaf root (a batch of one), so the two paths collide as they must.
        bytes32 key = countSeed % 4 == 3 ? leaf : keccak256(bytes.concat(leaf));
        bool known = _stamps[key].stamper != address(0);
        vm.prank(caller);
        bool ok;
        if (countSeed % 2 == 0) {
            try stamps.stamp(leaf) {
                ok = true;
            } catch {}
        } else {
            try stamps.stampBatch(key, 1 + countSeed % 1000) {
                ok = true;
            } catch {}
        }
        if (ok && known) {
                _violate(STAMPS, "a stamped key was stamped again");
                return;
            }
        if (!ok && !known) {
                _violate(STAMPS, "a fresh stamp reverted");
                return;
            }
        if (ok) {
            _stamps[key] = ITimestampRegistry.Record(caller, uint48(block.number), uint48(block.timestamp));
            _stampKeys.push(key);
            _ok("stamp");
        }
    }

    // == market ====================================================================================
    // The Marketplace (listings and escrowed offers) over the same assets, settling in the
    // SettlementToken (buyers funded by its faucet); the demand board's accepted answers are escrowed
    // offers like the others. A sale is a move: it goes through the same model
    // as {_transfer} (freeze, pledge and its consent), on top of the market's own rules (seller,
    // price and nonce, reservation, expiry, ERC-721 approval). The model is exact both ways: an act
    // the rules forbid that succeeds, or one they permit that reverts, is a violation.

    uint256 internal constant MAX_PRICE = 1e9; // 1,000 tokens (6 decimals), under the faucet's limit

    /// @notice The owner (or, one time in five, anyone) approves the market and lists an asset, for
    /// anyone or reserved for a buyer (for a pledged asset, mostly the one its pledgee consented to);
    /// half the time a buyer buys at once.
    function listAsset(uint256 callerSeed, uint256 assetSeed, uint256 priceSeed, uint256 buyerSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address owner = expectedOwner[assetId];
        address caller = callerSeed % 5 == 0 ? _actor(callerSeed >> 8) : owner;
        uint256 pledgeId = expectedActivePledge[assetId];
        address buyer;
        if (pledgeId != 0 && buyerSeed % 4 != 0) buyer = _pledges[pledgeId].consent;
        else if (buyerSeed % 3 == 0) buyer = _actor(buyerSeed >> 8);
        uint256 price = 1 + priceSeed % MAX_PRICE;
        uint40 expiry = _marketExpiry(priceSeed >> 64);
        if (caller == owner) _approveMarket(owner, assetId);
        bool allowed = caller == owner && _marketApproved[assetId] && expiry > block.timestamp && buyer != caller
            && !_frozen(assetId) && (pledgeId == 0 || (buyer != address(0) && _pledges[pledgeId].consent == buyer));
        vm.prank(caller);
        try market.listAsset(assetId, address(token), price, expiry, buyer) returns (uint256 listingId) {
            if (!allowed) {
                _violate(MARKET, "a listing was accepted from a non-owner, unapproved, frozen or pledged");
                return;
            }
            uint256 previous = _listingOfAsset[assetId];
            if (previous != 0 && _marketListings[previous].status == IMarketplaceBase.ListingStatus.Open) {
                _marketListings[previous].status = IMarketplaceBase.ListingStatus.Cancelled;
            }
            _marketListings[listingId] = ListingModel(
                assetId, caller, buyer, price, 0, expiry, pledgeId, _transferCount[assetId], _feeBps,
                IMarketplaceBase.ListingStatus.Open
            );
            _listingOfAsset[assetId] = listingId;
            _ok("list");
            if ((buyerSeed >> 16) % 2 == 0) {
                _buy(buyer != address(0) ? buyer : _actor(buyerSeed >> 24), listingId, price, 0);
            }
        } catch {
            if (allowed) _violate(MARKET, "a permitted listing reverted");
        }
    }

    /// @notice A buyer buys a listing, naming its price and nonce (one time in four a stale one); one
    /// time in four the seller (or anyone) cancels it instead, one time in four changes its price.
    function buyListing(uint256 callerSeed, uint256 listingSeed, uint256 mode) external {
        _tick();
        uint256 listingId = _listingId(listingSeed);
        if (listingId == 0) return;
        ListingModel storage l = _marketListings[listingId];
        if (mode % 4 == 0) {
            _cancelListing(callerSeed % 4 == 0 ? _actor(callerSeed >> 8) : l.seller, listingId);
        } else if (mode % 4 == 1) {
            _updateListing(callerSeed % 4 == 0 ? _actor(callerSeed >> 8) : l.seller, listingId, mode >> 8);
        } else {
            address buyer = l.buyer != address(0) && callerSeed % 4 != 0 ? l.buyer : _actor(callerSeed >> 8);
            uint256 price = l.price;
            uint256 nonce = l.nonce;
            if ((mode >> 8) % 8 == 0) price += 1;
            else if ((mode >> 8) % 8 == 1 && nonce > 0) nonce -= 1;
            _buy(buyer, listingId, price, nonce);
        }
    }

    /// @notice The admin (or, one time in four, anyone) sets the protocol fee between the parties'
    /// look and their sale: open listings and offers keep the fee they were made with, or pay a lower one.
    function setFee(uint256 seed) external {
        _tick();
        uint16[4] memory fees = [uint16(0), 25, 250, 1_000];
        uint16 feeBps = fees[seed % 4];
        address caller = (seed >> 8) % 4 == 0 ? _actor(seed >> 16) : ADMIN;
        vm.prank(caller);
        try market.setFee(treasury, feeBps) {
            if (caller != ADMIN) {
                _violate(MARKET, "the fee was set by someone other than the admin");
                return;
            }
            _feeBps = feeBps;
            _ok("set fee");
        } catch {
            if (caller == ADMIN) _violate(MARKET, "the admin's permitted fee change reverted");
        }
    }

    /// @dev The fee a sale pays: the lower of its listing's or offer's and the fee now.
    function _feeAt(uint16 fixedBps) internal view returns (uint256) {
        return _feeBps < fixedBps ? _feeBps : fixedBps;
    }

    /// @notice An asset goes away and comes back (owner -> someone -> owner), the owner approves the
    /// Marketplace again, and a watcher tries the asset's latest listing at its price and nonce: a
    /// listing made before the round trip is dead for good (its transfer count changed).
    function roundTrip(uint256 assetSeed, uint256 toSeed, uint256 buyerSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address owner = expectedOwner[assetId];
        address to = _actor(toSeed);
        if (to == owner) return;
        uint256 before = _transferCount[assetId];
        _transfer(owner, assetId, to);
        if (_transferCount[assetId] == before) return;
        _transfer(to, assetId, owner);
        if (expectedOwner[assetId] != owner) return;
        _approveMarket(owner, assetId);
        _ok("round trip");
        uint256 listingId = _listingOfAsset[assetId];
        if (listingId == 0) return;
        ListingModel storage l = _marketListings[listingId];
        address buyer = l.buyer != address(0) ? l.buyer : _actor(buyerSeed);
        _buy(buyer, listingId, l.price, l.nonce);
    }

    function _buy(address buyer, uint256 listingId, uint256 price, uint256 nonce) internal {
        ListingModel storage l = _marketListings[listingId];
        uint256 assetId = l.assetId;
        uint256 pledgeId = expectedActivePledge[assetId];
        bool frozen = _frozen(assetId) || _disputed(assetId); // stopped: a sale cannot move it
        bool consented = pledgeId == 0 || _pledges[pledgeId].consent == buyer;
        bool allowed = l.status == IMarketplaceBase.ListingStatus.Open && l.expiry > block.timestamp
            && price == l.price && nonce == l.nonce && (l.buyer == address(0) || l.buyer == buyer) && buyer != l.seller
            && expectedOwner[assetId] == l.seller && _transferCount[assetId] == l.transfers
            && (pledgeId == 0 || pledgeId == l.pledgeId) && _marketApproved[assetId] && !frozen && consented;
        token.faucet(buyer, price);
        uint256 sellerBefore = token.balanceOf(l.seller);
        uint256 treasuryBefore = token.balanceOf(treasury);
        vm.prank(buyer);
        try market.buy(listingId, price, nonce) {
            if (frozen || !consented) {
                _violate(MOVES, "a listing sale moved a frozen asset or a pledged asset without consent");
                return;
            }
            if (!allowed) {
                _violate(MARKET, "a purchase went through against the market's rules (stale, reserved, unapproved)");
                return;
            }
            uint256 cut = price * _feeAt(l.feeBps) / 10_000;
            if (token.balanceOf(l.seller) != sellerBefore + price - cut || token.balanceOf(treasury) != treasuryBefore + cut) {
                _violate(MARKET, "a purchase paid the seller or the treasury a wrong amount");
            }
            l.status = IMarketplaceBase.ListingStatus.Sold;
            _moved(assetId, buyer);
            if (pledgeId != 0) _pledges[pledgeId].consent = address(0);
            _ok(pledgeId != 0 ? bytes32("buy pledged") : bytes32("buy"));
        } catch {
            if (allowed) _violate(MARKET, "a permitted purchase reverted");
        }
    }

    function _cancelListing(address caller, uint256 listingId) internal {
        ListingModel storage l = _marketListings[listingId];
        bool allowed = caller == l.seller && l.status == IMarketplaceBase.ListingStatus.Open;
        vm.prank(caller);
        try market.cancelListing(listingId) {
            if (!allowed) {
                _violate(MARKET, "a listing was cancelled by a non-seller or twice");
                return;
            }
            l.status = IMarketplaceBase.ListingStatus.Cancelled;
            _ok("cancel listing");
        } catch {
            if (allowed) _violate(MARKET, "a permitted cancellation of a listing reverted");
        }
    }

    function _updateListing(address caller, uint256 listingId, uint256 seed) internal {
        ListingModel storage l = _marketListings[listingId];
        uint256 price = 1 + seed % MAX_PRICE;
        uint40 expiry = uint40(block.timestamp + 1 hours + (seed >> 64) % 10 days);
        bool allowed = caller == l.seller && l.status == IMarketplaceBase.ListingStatus.Open && l.expiry > block.timestamp;
        vm.prank(caller);
        try market.updateListing(listingId, price, expiry) {
            if (!allowed) {
                _violate(MARKET, "a listing was changed by a non-seller, or after it closed");
                return;
            }
            l.price = price;
            l.expiry = expiry;
            l.nonce += 1;
            _ok("update listing");
        } catch {
            if (allowed) _violate(MARKET, "a permitted change of a listing reverted");
        }
    }

    /// @notice A party (funded by the faucet) makes an escrowed offer for an asset; half the time its
    /// owner accepts at once.
    function makeOffer(uint256 callerSeed, uint256 assetSeed, uint256 amountSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address owner = expectedOwner[assetId];
        address buyer = _actor(callerSeed);
        uint256 amount = 1 + amountSeed % MAX_PRICE;
        uint40 expiry = _marketExpiry(amountSeed >> 64);
        bool allowed = buyer != owner && expiry > block.timestamp && !_frozen(assetId);
        token.faucet(buyer, amount);
        vm.prank(buyer);
        try market.makeOffer(assetId, address(token), amount, expiry) returns (uint256 offerId) {
            if (!allowed) {
                _violate(MARKET, "an offer was made by the owner, already expired, or for a frozen asset");
                return;
            }
            _marketOffers[offerId] = OfferModel(
                assetId, buyer, owner, amount, expiry, expectedActivePledge[assetId], _feeBps,
                IMarketplaceBase.OfferStatus.Open
            );
            expectedEscrow += amount;
            _ok("offer");
            if ((amountSeed >> 128) % 2 == 0) _acceptOffer(owner, offerId);
        } catch {
            if (allowed) _violate(MARKET, "a permitted offer reverted");
        }
    }

    /// @notice The seller (or, one time in four, anyone) accepts (half the time) or refuses an offer;
    /// or its buyer (or anyone) withdraws it, half the time after waiting for its expiry.
    function answerOffer(uint256 callerSeed, uint256 offerSeed, uint256 mode) external {
        _tick();
        uint256 offerId = _offerId(offerSeed);
        if (offerId == 0) return;
        OfferModel storage o = _marketOffers[offerId];
        address other = _actor(callerSeed >> 8);
        if (mode % 4 < 2) {
            _acceptOffer(callerSeed % 4 == 0 ? other : o.seller, offerId);
        } else if (mode % 4 == 2) {
            _refuseOffer(callerSeed % 4 == 0 ? other : o.seller, offerId);
        } else {
            if ((mode >> 8) % 2 == 0 && currentTime < o.expiry) {
                currentTime = o.expiry + (mode >> 16) % 1 days;
                _tick();
            }
            _withdrawOffer(callerSeed % 4 == 0 ? other : o.buyer, offerId);
        }
    }

    function _acceptOffer(address caller, uint256 offerId) internal {
        OfferModel storage o = _marketOffers[offerId];
        uint256 assetId = o.assetId;
        uint256 pledgeId = expectedActivePledge[assetId];
        bool frozen = _frozen(assetId) || _disputed(assetId); // stopped: an accepted offer cannot move it
        bool consented = pledgeId == 0 || _pledges[pledgeId].consent == o.buyer;
        // The seller approves the market for the asset, then accepts (the app's two steps).
        if (caller == expectedOwner[assetId]) _approveMarket(caller, assetId);
        bool allowed = caller == o.seller && o.status == IMarketplaceBase.OfferStatus.Open && o.expiry > block.timestamp
            && expectedOwner[assetId] == o.seller && (pledgeId == 0 || pledgeId == o.pledgeId) && !frozen && consented;
        uint256 sellerBefore = token.balanceOf(o.seller);
        vm.prank(caller);
        try market.acceptOffer(offerId) {
            if (frozen || !consented) {
                _violate(MOVES, "an accepted offer moved a frozen asset or a pledged asset without consent");
                return;
            }
            if (!allowed) {
                _violate(MARKET, "an offer was accepted by a non-seller, twice, expired or of a sold asset");
                return;
            }
            uint256 cut = o.amount * _feeAt(o.feeBps) / 10_000;
            if (token.balanceOf(o.seller) != sellerBefore + o.amount - cut) {
                _violate(MARKET, "an accepted offer paid the seller a wrong amount");
            }
            o.status = IMarketplaceBase.OfferStatus.Accepted;
            expectedEscrow -= o.amount;
            _moved(assetId, o.buyer);
            if (pledgeId != 0) _pledges[pledgeId].consent = address(0);
            _ok("accept offer");
        } catch {
            if (allowed) _violate(MARKET, "a permitted acceptance of an offer reverted");
        }
    }

    function _refuseOffer(address caller, uint256 offerId) internal {
        OfferModel storage o = _marketOffers[offerId];
        bool allowed = caller == o.seller && o.status == IMarketplaceBase.OfferStatus.Open;
        vm.prank(caller);
        try market.refuseOffer(offerId) {
            if (!allowed) {
                _violate(MARKET, "an offer was refused by a non-seller or after it closed");
                return;
            }
            o.status = IMarketplaceBase.OfferStatus.Refused;
            _ok("refuse offer");
        } catch {
            if (allowed) _violate(MARKET, "a permitted refusal reverted");
        }
    }

    function _withdrawOffer(address caller, uint256 offerId) internal {
        OfferModel storage o = _marketOffers[offerId];
        uint256 assetId = o.assetId;
        uint256 pledgeId = expectedActivePledge[assetId];
        bool expired = o.expiry <= block.timestamp;
        bool void = expectedOwner[assetId] != o.seller || _frozen(assetId) || (pledgeId != 0 && pledgeId != o.pledgeId);
        bool allowed = caller == o.buyer
            && (o.status == IMarketplaceBase.OfferStatus.Refused
                || (o.status == IMarketplaceBase.OfferStatus.Open && (expired || void)));
        uint256 buyerBefore = token.balanceOf(o.buyer);
        vm.prank(caller);
        try market.withdrawOffer(offerId) {
            if (!allowed) {
                _violate(MARKET, "an offer was withdrawn by a non-buyer, twice, or while it could still be accepted");
                return;
            }
            if (token.balanceOf(o.buyer) != buyerBefore + o.amount) {
                _violate(MARKET, "a withdrawn offer did not refund its amount");
            }
            bool open = o.status == IMarketplaceBase.OfferStatus.Open;
            o.status = IMarketplaceBase.OfferStatus.Withdrawn;
            expectedEscrow -= o.amount;
            _ok(open && expired ? bytes32("withdraw expired offer") : bytes32("withdraw offer"));
        } catch {
            if (allowed) _violate(MARKET, "a permitted withdrawal of an offer reverted");
        }
    }

    /// @notice The demand board: a party posts a demand, the owner of an asset (or, one time in five,
    /// anyone) answers it, and the poster (funded by the faucet) accepts the answer, which becomes an
    /// ordinary escrowed offer; half the time the seller then accepts that offer at once.
    function demandBoard(uint256 posterSeed, uint256 assetSeed, uint256 priceSeed) external {
        _tick();
        uint256 assetId = _asset(assetSeed);
        if (assetId == 0) return;
        address poster = _actor(posterSeed);
        uint256 budget = 1 + priceSeed % MAX_PRICE;
        uint40 deadline = _marketExpiry(priceSeed >> 64);
        uint256 demandId;
        vm.prank(poster);
        try market.postDemand(keccak256(abi.encode("need", priceSeed)), "", address(token), budget, deadline) returns (
            uint256 id
        ) {
            if (deadline <= block.timestamp) {
                _violate(MARKET, "a demand was posted with a past deadline");
                return;
            }
            demandId = id;
        } catch {
            if (deadline > block.timestamp) _violate(MARKET, "a permitted demand reverted");
            return;
        }
        address owner = expectedOwner[assetId];
        address answerer = posterSeed % 5 == 0 ? _actor(posterSeed >> 8) : owner;
        uint256 price = 1 + (priceSeed >> 128) % budget;
        if ((priceSeed >> 32) % 8 == 0) price = budget + 1; // over budget
        bool allowed = answerer != poster && answerer == owner && !_frozen(assetId) && price <= budget;
        uint256 answerId;
        vm.prank(answerer);
        try market.answerDemand(demandId, assetId, price) returns (uint256 id) {
            if (!allowed) {
                _violate(MARKET, "a demand was answered by a non-owner, its poster, over budget or with a frozen asset");
                return;
            }
            answerId = id;
        } catch {
            if (allowed) _violate(MARKET, "a permitted answer reverted");
            return;
        }
        uint40 expiry = _marketExpiry(priceSeed >> 96);
        token.faucet(poster, price);
        allowed = expiry > block.timestamp;
        vm.prank(poster);
        try market.acceptAnswer(answerId, expiry) returns (uint256 offerId) {
            if (!allowed) {
                _violate(MARKET, "an answer was accepted with a past expiry");
                return;
            }
            _marketOffers[offerId] = OfferModel(
                assetId, poster, owner, price, expiry, expectedActivePledge[assetId], _feeBps,
                IMarketplaceBase.OfferStatus.Open
            );
            expectedEscrow += price;
            _ok("accept answer");
            if ((priceSeed >> 160) % 2 == 0) _acceptOffer(owner, offerId);
        } catch {
            if (allowed) _violate(MARKET, "a permitted acceptance of an answer reverted");
        }
    }

    /// @dev The owner approves the Marketplace for the asset (the registry's ERC-721 approval).
    function _approveMarket(address owner, uint256 assetId) internal {
        vm.prank(owner);
        try registry.approve(address(market), assetId) {
            _marketApproved[assetId] = true;
        } catch {}
    }

    /// @dev One time in sixteen already expired (rejected), otherwise an hour to ten days ahead.
    function _marketExpiry(uint256 seed) internal view returns (uint40) {
        if (seed % 16 == 0) return uint40(block.timestamp);
        return uint40(block.timestamp + 1 hours + (seed >> 8) % 10 days);
    }

    /// @dev Half the time the latest, so that a listing is often followed by its sale.
    function _listingId(uint256 seed) internal view returns (uint256) {
        (uint256 count,,,) = market.counts();
        if (count == 0) return 0;
        return seed % 2 == 0 ? count : 1 + (seed >> 1) % count;
    }

    function _offerId(uint256 seed) internal view returns (uint256) {
        (, uint256 count,,) = market.counts();
        if (count == 0) return 0;
        return seed % 2 == 0 ? count : 1 + (seed >> 1) % count;
    }

    // == reads for the invariants ==================================================================

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function expectedRecord(uint256 assetId) external view returns (RegistrarRecord memory) {
        return _records[assetId];
    }

    function expectedPledgeStatus(uint256 pledgeId) external view returns (uint8) {
        return _pledges[pledgeId].status;
    }

    function expectedListingStatus(uint256 listingId) external view returns (IMarketplaceBase.ListingStatus) {
        return _marketListings[listingId].status;
    }

    function expectedOfferStatus(uint256 offerId) external view returns (IMarketplaceBase.OfferStatus) {
        return _marketOffers[offerId].status;
    }

    function stampKeys() external view returns (bytes32[] memory) {
        return _stampKeys;
    }

    function expectedStamp(bytes32 key) external view returns (ITimestampRegistry.Record memory) {
        return _stamps[key];
    }

    // == helpers ===================================================================================

    function _tick() internal {
        calls += 1;
        vm.warp(currentTime);
        vm.roll(currentBlock);
    }

    function _violate(bytes32 rule, string memory what) internal {
        violations[rule] += 1;
        lastViolation[rule] = what;
    }

    function _ok(bytes32 act) internal {
        successes[act] += 1;
    }

    function _moved(uint256 assetId, address to) internal {
        expectedOwner[assetId] = to;
        _transferCount[assetId] += 1;
        _records[assetId].verified = false;
        _marketApproved[assetId] = false; // every move clears the ERC-721 approval
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _registrarOrAnyone(uint256 seed) internal view returns (address) {
        return seed % 4 == 0 ? _actor(seed >> 8) : REGISTRAR;
    }

    function _accredited(address account) internal pure returns (bool) {
        return account == BANK || account == BANK2;
    }

    function _asset(uint256 seed) internal view returns (uint256) {
        uint256 count = registry.assetCount();
        return count == 0 ? 0 : 1 + seed % count;
    }

    /// @dev Half the time the latest, so that a proposal is often followed by its acceptance.
    function _pledge(uint256 seed) internal view returns (uint256) {
        uint256 count = pledges.pledgeCount();
        if (count == 0) return 0;
        return seed % 2 == 0 ? count : 1 + (seed >> 1) % count;
    }

    /// @dev Three times in four an active pledge (of the first pledged asset from a random start), if any.
    function _activeOrAnyPledge(uint256 seed) internal view returns (uint256) {
        uint256 count = registry.assetCount();
        if (seed % 4 != 0) {
            for (uint256 i = 0; i < count; ++i) {
                uint256 pledgeId = expectedActivePledge[1 + (seed % count + i) % count];
                if (pledgeId != 0) return pledgeId;
            }
        }
        return _pledge(seed >> 2);
    }

    /// @dev Half the time the latest, so that an offer is often followed by its acceptance.
    function _license(uint256 seed) internal view returns (uint256) {
        uint256 count = licenses.licenseCount();
        if (count == 0) return 0;
        return seed % 2 == 0 ? count : 1 + (seed >> 1) % count;
    }

    function _frozen(uint256 assetId) internal view returns (bool) {
        return _records[assetId].frozenUntil > block.timestamp;
    }

    /// @dev An open ownership dispute stops the asset: no move by any path, no new pledge.
    function _disputed(uint256 assetId) internal view returns (bool) {
        return expectedOwnershipDispute[assetId] != 0;
    }

    /// @dev PledgeRegistry's rules for a pledgeable asset and maturity, from the model.
    function _pledgeable(uint256 assetId, uint40 maturity) internal view returns (bool) {
        RegistrarRecord storage r = _records[assetId];
        if (expectedActivePledge[assetId] != 0 || _frozen(assetId) || _disputed(assetId)) return false;
        if (
            r.status == IIPRegistry.LegalStatus.Invalidated || r.status == IIPRegistry.LegalStatus.Lapsed
                || r.status == IIPRegistry.LegalStatus.Expired
        ) return false;
        if (r.expiresAt != 0 && r.expiresAt <= block.timestamp) return false;
        if (maturity <= block.timestamp) return false;
        return r.expiresAt == 0 || maturity <= r.expiresAt;
    }

    /// @dev The non-canonical spellings {_terms} tries (contracts/types/Codes.sol refuses them).
    function _nonCanonical(bytes32 code) internal pure returns (bool) {
        return code == bytes32("CHN") || code == bytes32("cn") || code == bytes32("156") || code == bytes32("H04L9/32");
    }

    /// @dev Terms over a few nested territories and fields, so that overlaps are common; one time in
    /// eight a non-canonical spelling of China or of a subgroup, which the registry must refuse.
    function _terms(address licensee, uint256 termSeed, uint256 scopeSeed)
        internal
        view
        returns (ILicenseRegistry.LicenseTerms memory terms)
    {
        bytes32[5] memory territories = [bytes32(0), bytes32("CN"), bytes32("CN-11"), bytes32("CN-31"), bytes32("US")];
        bytes32[4] memory fields = [bytes32(0), bytes32("H04"), bytes32("H04L"), bytes32("G06")];
        bytes32[4] memory odd = [bytes32("CHN"), bytes32("cn"), bytes32("156"), bytes32("H04L9/32")];
        uint40 start = uint40(block.timestamp - 5 days + termSeed % 20 days);
        terms.licensee = licensee;
        terms.kind = ILicenseRegistry.LicenseKind((termSeed >> 64) % 3);
        terms.start = start;
        terms.end = start + 1 days + uint40((termSeed >> 128) % 40 days);
        terms.territory = territories[scopeSeed % 5];
        terms.fieldOfUse = fields[(scopeSeed >> 8) % 4];
        if ((scopeSeed >> 16) % 8 == 0) {
            bytes32 code = odd[(scopeSeed >> 24) % 4];
            if (code == bytes32("H04L9/32")) terms.fieldOfUse = code;
            else terms.territory = code;
        }
        terms.termsHash = keccak256(abi.encode(termSeed));
        terms.fee = termSeed % 1e9;
    }
}
