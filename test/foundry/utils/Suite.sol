// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CoOwnership} from "../../../contracts/CoOwnership.sol";
import {IpledgerForwarder} from "../../../contracts/IpledgerForwarder.sol";
import {LicenseMarket} from "../../../contracts/LicenseMarket.sol";
import {IPLens} from "../../../contracts/IPLens.sol";
import {Marketplace} from "../../../contracts/Marketplace.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {IPRegistry} from "../../../contracts/IPRegistry.sol";
import {LicenseRegistry} from "../../../contracts/LicenseRegistry.sol";
import {PledgeRegistry} from "../../../contracts/PledgeRegistry.sol";
import {TimestampRegistry} from "../../../contracts/TimestampRegistry.sol";
import {IIPRegistry} from "../../../contracts/interfaces/IIPRegistry.sol";
import {ILicenseMarket} from "../../../contracts/interfaces/ILicenseMarket.sol";
import {IMarketplace} from "../../../contracts/interfaces/IMarketplace.sol";
import {IPledgeRegistry} from "../../../contracts/interfaces/IPledgeRegistry.sol";
import {Roles} from "../../../contracts/types/Roles.sol";
import {Cheats} from "./Vm.sol";

/// @notice The deployed suite, wired as `ledger/deploy.py` wires it, with separate parties: an admin
/// (DEFAULT_ADMIN_ROLE only), a registrar (REGISTRAR_ROLE only), two accredited banks (PLEDGEE_ROLE),
/// three owners and a stranger with no role.
abstract contract Suite is Cheats {
    address internal constant ADMIN = address(0xAD00);
    address internal constant REGISTRAR = address(0x5EC0);
    address internal constant BANK = address(0xBA01);
    address internal constant BANK2 = address(0xBA02);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA201);
    address internal constant STRANGER = address(0x5E7);
    /// @dev Receives the market's fee; not one of the parties.
    address internal constant TREASURY = address(0xFEE5);
    /// @dev The market's fee in the invariant campaign: 2.5 %.
    uint16 internal constant FEE_BPS = 250;

    /// @dev The start of every test's clock: far from zero so "before" and "after" both exist.
    uint256 internal constant T0 = 1_750_000_000;

    IpledgerForwarder internal forwarder;
    TimestampRegistry internal stamps;
    IPRegistry internal registry;
    PledgeRegistry internal pledges;
    LicenseRegistry internal licenses;
    IPLens internal lens;
    Marketplace internal market;
    SettlementToken internal token;
    LicenseMarket internal licenseMarket;
    CoOwnership internal coOwnership;

    function deploySuite() internal {
        vm.warp(T0);
        forwarder = new IpledgerForwarder();
        stamps = new TimestampRegistry(address(forwarder));
        registry = new IPRegistry(address(forwarder), ADMIN);
        pledges = new PledgeRegistry(address(forwarder), IIPRegistry(address(registry)));
        licenses = new LicenseRegistry(address(forwarder), IIPRegistry(address(registry)), IPledgeRegistry(address(pledges)));
        lens = new IPLens(IIPRegistry(address(registry)), licenses, IPledgeRegistry(address(pledges)));
        vm.startPrank(ADMIN);
        registry.setPledgeRegistry(address(pledges));
        pledges.setLicenseRegistry(address(licenses));
        registry.grantRole(Roles.REGISTRAR, REGISTRAR);
        registry.grantRole(Roles.PLEDGEE, BANK);
        registry.grantRole(Roles.PLEDGEE, BANK2);
        vm.stopPrank();
    }

    /// @dev The Marketplace over the suite, settling in a SettlementToken with its development
    /// faucet on (as `ledger/deploy.py` deploys it on local chains), with a fee to the treasury.
    function deployMarket() internal {
        token = new SettlementToken(address(forwarder), true);
        market = new Marketplace(address(forwarder), IIPRegistry(address(registry)), IPledgeRegistry(address(pledges)));
        vm.prank(ADMIN);
        market.setFee(TREASURY, FEE_BPS);
    }

    /// @dev The LicenseMarket and the CoOwnership over the suite and the market (after {deployMarket}).
    function deployCoOwnership() internal {
        licenseMarket = new LicenseMarket(
            address(forwarder), IIPRegistry(address(registry)), IPledgeRegistry(address(pledges)), licenses,
            IMarketplace(address(market))
        );
        coOwnership = new CoOwnership(
            address(forwarder), IIPRegistry(address(registry)), licenses, ILicenseMarket(address(licenseMarket)),
            IMarketplace(address(market)), IPledgeRegistry(address(pledges))
        );
    }

    /// @dev A fresh asset of `owner` with a content hash derived from `seed`.
    function registerAsset(address owner, uint256 seed) internal returns (uint256 assetId) {
        vm.prank(owner);
        assetId = registry.register(
            keccak256(abi.encode("content", seed)),
            IIPRegistry.AssetKind.InventionPatent,
            bytes32(0),
            keccak256(abi.encode("metadata", seed)),
            ""
        );
    }

    /// @dev An active pledge of `assetId` (owned by `owner`) to `bank`, maturing at `maturity`.
    function pledgeAsset(address owner, uint256 assetId, address bank, uint40 maturity)
        internal
        returns (uint256 pledgeId)
    {
        vm.prank(owner);
        pledgeId = pledges.propose(assetId, bank, 1_000_000, "CNY", maturity, keccak256("loan contract"));
        uint256 version = licenses.encumbranceVersionOf(assetId);
        vm.prank(bank);
        pledges.accept(pledgeId, version);
    }

    function freezeAsset(uint256 assetId, uint40 until) internal {
        vm.prank(REGISTRAR);
        registry.freeze(assetId, "Beijing IP Court", "(2024) Jing 73 Min Chu 123", keccak256("order"), until);
    }
}
