// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IIPRegistry} from "../../../contracts/interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "../../../contracts/interfaces/ILicenseRegistry.sol";
import {IPledgeRegistry} from "../../../contracts/interfaces/IPledgeRegistry.sol";
import {ITimestampRegistry} from "../../../contracts/interfaces/ITimestampRegistry.sol";
import {Suite} from "../utils/Suite.sol";

/// @notice One rule per test, over fuzzed parties, times and terms (runs in foundry.toml).
contract RulesFuzzTest is Suite {
    uint256 internal assetId;

    function setUp() public {
        deploySuite();
        assetId = registerAsset(ALICE, 1);
    }

    // -- pledges -------------------------------------------------------------------------------------

    function testFuzz_enforceBeforeMaturityReverts(uint32 term, uint32 wait, address buyer) public {
        uint40 maturity = uint40(block.timestamp + 1 + term);
        uint256 pledgeId = pledgeAsset(ALICE, assetId, BANK, maturity);
        vm.warp(block.timestamp + uint256(wait) % (uint256(maturity) - block.timestamp + 1)); // at most maturity
        vm.prank(BANK);
        vm.expectRevert(abi.encodeWithSelector(IPledgeRegistry.PledgeRegistryNotMatured.selector, pledgeId, maturity));
        pledges.enforce(pledgeId, buyer);
        require(registry.ownerOf(assetId) == ALICE, "the asset moved before maturity");
    }

    function testFuzz_onlyThePledgeeReleasesOrEnforces(address caller, uint32 wait, bool enforce) public {
        vm.assume(caller != BANK && caller != address(forwarder));
        uint256 pledgeId = pledgeAsset(ALICE, assetId, BANK, uint40(block.timestamp + 30 days));
        vm.warp(block.timestamp + wait);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IPledgeRegistry.PledgeRegistryNotPledgee.selector, pledgeId, caller));
        if (enforce) pledges.enforce(pledgeId, caller);
        else pledges.release(pledgeId);
        require(pledges.activePledgeOf(assetId) == pledgeId && registry.ownerOf(assetId) == ALICE, "pledge changed");
    }

    function testFuzz_pledgedAssetMovesOnlyToTheConsentedRecipient(address to, address consented) public {
        vm.assume(to != address(0) && to.code.length == 0 && to != ALICE);
        uint256 pledgeId = pledgeAsset(ALICE, assetId, BANK, uint40(block.timestamp + 30 days));
        vm.prank(BANK);
        pledges.consentToTransfer(pledgeId, consented);
        vm.prank(ALICE);
        if (to != consented) {
            vm.expectRevert(abi.encodeWithSelector(IIPRegistry.IPRegistryAssetPledged.selector, assetId, pledgeId));
        }
        registry.transferFrom(ALICE, to, assetId);
        require(registry.ownerOf(assetId) == (to == consented ? to : ALICE), "a pledged asset moved without consent");
    }

    function testFuzz_secondPledgeOfAnAssetReverts(uint32 term, bool sameBank) public {
        uint40 maturity = uint40(block.timestamp + 1 + term);
        uint256 first = pledgeAsset(ALICE, assetId, BANK, maturity);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IPledgeRegistry.PledgeRegistryAlreadyPledged.selector, assetId, first));
        pledges.propose(assetId, sameBank ? BANK : BANK2, 1, "CNY", maturity, bytes32(0));
    }

    // -- freezes and the registrar -----------------------------------------------------------------

    function testFuzz_frozenAssetNeverMoves(address to, uint32 term, uint32 wait, bool byEnforcement) public {
        vm.assume(to != address(0) && to.code.length == 0);
        uint40 until = uint40(block.timestamp + 1 + term);
        uint256 pledgeId = pledgeAsset(ALICE, assetId, BANK, uint40(block.timestamp + 1));
        freezeAsset(assetId, until);
        vm.warp(block.timestamp + uint256(wait) % (uint256(until) - block.timestamp)); // before `until`
        if (byEnforcement) {
            vm.warp(block.timestamp < T0 + 2 ? T0 + 2 : block.timestamp); // past the loan's maturity
            vm.assume(block.timestamp < until);
            vm.prank(BANK);
            vm.expectRevert(abi.encodeWithSelector(IIPRegistry.IPRegistryAssetFrozen.selector, assetId, until));
            pledges.enforce(pledgeId, to);
        } else {
            vm.prank(BANK);
            pledges.consentToTransfer(pledgeId, to);
            vm.prank(ALICE);
            vm.expectRevert(abi.encodeWithSelector(IIPRegistry.IPRegistryAssetFrozen.selector, assetId, until));
            registry.transferFrom(ALICE, to, assetId);
        }
        require(registry.ownerOf(assetId) == ALICE, "a frozen asset moved");
    }

    function testFuzz_nonRegistrarNeverChangesStatusOrFreezes(address caller, uint8 status, uint32 term) public {
        vm.assume(caller != REGISTRAR && caller != address(forwarder));
        bytes memory denied = abi.encodeWithSignature(
            "AccessControlUnauthorizedAccount(address,bytes32)", caller, registry.REGISTRAR_ROLE()
        );
        vm.prank(caller);
        vm.expectRevert(denied);
        registry.setLegalStatus(assetId, IIPRegistry.LegalStatus(status % 6));
        vm.prank(caller);
        vm.expectRevert(denied);
        registry.freeze(assetId, "court", "case", bytes32(0), uint40(block.timestamp + 1 + term));
        vm.prank(caller);
        vm.expectRevert(denied);
        registry.setVerified(assetId, true);
        vm.prank(caller);
        vm.expectRevert(denied);
        registry.renewFreeze(assetId, uint40(block.timestamp + 1 + term));
        vm.prank(caller);
        vm.expectRevert(denied);
        registry.unfreeze(assetId, bytes32(0));
        IIPRegistry.Asset memory asset = registry.assetOf(assetId);
        require(asset.status == IIPRegistry.LegalStatus.Filed && asset.frozenUntil == 0 && !asset.verified, "changed");
    }

    // -- licenses ------------------------------------------------------------------------------------

    /// @notice Two licenses of one asset, the second accepted after the first: it goes through exactly
    /// when the two do not overlap or both are non-exclusive (reference model of the scope rule).
    function testFuzz_exclusiveLicensesNeverOverlap(
        uint8 kinds,
        uint32[4] memory times,
        uint8[4] memory scopes
    ) public {
        bytes32[5] memory territories = [bytes32(0), bytes32("CN"), bytes32("CN-11"), bytes32("CN-31"), bytes32("US")];
        bytes32[4] memory fields = [bytes32(0), bytes32("H04"), bytes32("H04L"), bytes32("G06")];
        ILicenseRegistry.LicenseTerms memory a = _terms(
            BOB, kinds % 3, times[0], times[1], territories[scopes[0] % 5], fields[scopes[1] % 4]
        );
        ILicenseRegistry.LicenseTerms memory b = _terms(
            CAROL, (kinds / 3) % 3, times[2], times[3], territories[scopes[2] % 5], fields[scopes[3] % 4]
        );
        vm.startPrank(ALICE);
        uint256 first = licenses.offer(assetId, a);
        uint256 second = licenses.offer(assetId, b);
        vm.stopPrank();
        vm.prank(BOB);
        licenses.accept(first);
        bool conflict = (a.kind != ILicenseRegistry.LicenseKind.NonExclusive
                || b.kind != ILicenseRegistry.LicenseKind.NonExclusive) && a.start < b.end && b.start < a.end
            && _prefix(a.territory, b.territory) && _prefix(a.fieldOfUse, b.fieldOfUse);
        vm.prank(CAROL);
        if (conflict) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ILicenseRegistry.LicenseRegistryExclusivityConflict.selector, assetId, first, a.kind
                )
            );
        }
        licenses.accept(second);
    }

    // -- stamps --------------------------------------------------------------------------------------

    function testFuzz_stampIsFirstComeAndNeverChanges(bytes32 leaf, address first, address second, uint32 later)
        public
    {
        vm.assume(leaf != bytes32(0) && first != address(forwarder) && second != address(forwarder));
        bytes32 root = keccak256(bytes.concat(leaf)); // a single stamp is the one-leaf tree's root
        vm.prank(first);
        stamps.stamp(leaf);
        ITimestampRegistry.Record memory record = stamps.recordOf(root);
        require(record.stamper == first && stamps.recordOf(leaf).stamper == address(0), "not under its root");
        require(stamps.verifyBatchMember(new bytes32[](0), root, leaf), "the empty proof must verify");
        vm.warp(block.timestamp + later);
        vm.roll(block.number + 1);
        vm.prank(second);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITimestampRegistry.TimestampRegistryAlreadyStamped.selector, root, first, record.blockNumber, record.timestamp
            )
        );
        stamps.stampBatch(root, 1);
        vm.prank(second);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITimestampRegistry.TimestampRegistryAlreadyStamped.selector, root, first, record.blockNumber, record.timestamp
            )
        );
        stamps.stamp(leaf);
        ITimestampRegistry.Record memory after_ = stamps.recordOf(root);
        require(after_.stamper == first && after_.timestamp == T0 && after_.blockNumber == record.blockNumber, "changed");
    }

    // -- helpers -------------------------------------------------------------------------------------

    function _terms(address licensee, uint256 kind, uint32 startSeed, uint32 lengthSeed, bytes32 territory, bytes32 field)
        internal
        view
        returns (ILicenseRegistry.LicenseTerms memory terms)
    {
        terms.licensee = licensee;
        terms.kind = ILicenseRegistry.LicenseKind(kind);
        terms.start = uint40(block.timestamp + startSeed % 100 days);
        terms.end = terms.start + 1 + uint40(lengthSeed % 100 days);
        terms.territory = territory;
        terms.fieldOfUse = field;
    }

    function _prefix(bytes32 a, bytes32 b) internal pure returns (bool) {
        for (uint256 i = 0; i < 32; ++i) {
            if (a[i] == 0 || b[i] == 0) return true;
            if (a[i] != b[i]) return false;
        }
        return true;
    }
}
