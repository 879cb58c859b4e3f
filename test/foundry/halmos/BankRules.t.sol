// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IIPRegistry} from "../../../contracts/interfaces/IIPRegistry.sol";
import {IPledgeRegistry} from "../../../contracts/interfaces/IPledgeRegistry.sol";
import {ITimestampRegistry} from "../../../contracts/interfaces/ITimestampRegistry.sol";
import {Roles} from "../../../contracts/types/Roles.sol";
import {Suite} from "../utils/Suite.sol";

/// @notice The rules a bank relies on, proven by Halmos for all inputs: every caller, every time,
/// and every call (function and arguments) of the contracts, as symbolic values. Run with
/// `halmos --config security/halmos.toml` (see README "Security gate"); forge ignores `check_`.
///
/// Callers left out, each for a reason (see {_external}): the trusted ERC-2771 forwarder speaks for
/// whoever signed a request (OpenZeppelin's ERC2771Forwarder checks the signature;
/// tests/contracts/test_signature_attacks.py attacks it), so a call through it is a call by the
/// signer, which these properties already cover; address zero never sends a transaction (and OZ's
/// ERC721 reads an `auth` of zero as "no check"); and the suite's own contracts call each other only
/// as their code says, which is what is under proof here.
contract BankRulesCheck is Suite {
    uint256 internal assetId;
    uint256 internal pledgeId;
    uint40 internal maturity;
    uint40 internal frozenUntil;

    /// @dev ALICE's asset, pledged to BANK (maturity in 30 days), with a consent to sell to CAROL.
    function setUp() public {
        deploySuite();
        assetId = registerAsset(ALICE, 1);
        maturity = uint40(T0 + 30 days);
        pledgeId = pledgeAsset(ALICE, assetId, BANK, maturity);
        vm.prank(BANK);
        pledges.consentToTransfer(pledgeId, CAROL);
    }

    /// @notice Only the pledgee releases or enforces: no call by anyone else, at any time, to any
    /// function of the registry or the PledgeRegistry ends the pledge or moves the asset.
    function check_onlyThePledgeeReleasesOrEnforces(address caller, uint40 at, bool onPledges) public {
        vm.assume(caller != BANK && _external(caller));
        vm.assume(at >= T0);
        vm.warp(at);
        _anyCall(caller, onPledges);
        assert(pledges.activePledgeOf(assetId) == pledgeId);
        assert(pledges.pledgeOf(pledgeId).status == IPledgeRegistry.PledgeStatus.Active);
        // A move needs the pledgee's consent (to CAROL), which only the owner can use.
        address owner = registry.ownerOf(assetId);
        assert(owner == ALICE || (owner == CAROL && caller == ALICE));
    }

    /// @notice Enforcement before maturity always reverts, whatever the maturity, time and buyer.
    function check_enforceBeforeMaturityAlwaysReverts(uint40 term, uint40 at, address buyer) public {
        uint256 other = registerAsset(BOB, 2);
        vm.assume(term > 0 && uint256(term) + T0 <= type(uint40).max);
        uint40 due = uint40(T0 + term);
        uint256 id = pledgeAsset(BOB, other, BANK2, due);
        vm.assume(at >= T0 && at <= due);
        vm.warp(at);
        vm.prank(BANK2);
        (bool ok,) = address(pledges).call(abi.encodeCall(pledges.enforce, (id, buyer)));
        assert(!ok);
        assert(registry.ownerOf(other) == BOB);
        assert(pledges.activePledgeOf(other) == id);
    }

    /// @notice A frozen asset's owner never changes: no call by anyone (the pledgee past maturity,
    /// the owner with the pledgee's consent, the registrar, the admin...) to any function of the
    /// registry or the PledgeRegistry moves it while the freeze binds.
    function check_frozenAssetOwnerNeverChanges(address caller, uint40 at, bool onPledges) public {
        frozenUntil = uint40(T0 + 60 days);
        freezeAsset(assetId, frozenUntil);
        vm.assume(_external(caller));
        vm.assume(at >= T0 && at < frozenUntil); // includes times past the loan's maturity
        vm.warp(at);
        _anyCall(caller, onPledges);
        assert(registry.ownerOf(assetId) == ALICE);
    }

    /// @notice A non-registrar never changes an asset's legal status, verification, dates or freeze,
    /// by any call to any function of the registry, the PledgeRegistry or the LicenseRegistry.
    function check_nonRegistrarNeverChangesStatusOrFreezes(address caller, uint8 target) public {
        vm.assume(!registry.hasRole(Roles.REGISTRAR, caller) && _external(caller));
        IIPRegistry.Asset memory before = registry.assetOf(assetId);
        bytes memory data;
        address to;
        if (target % 3 == 0) {
            (to, data) = (address(registry), svm.createCalldata("IPRegistry"));
        } else if (target % 3 == 1) {
            (to, data) = (address(pledges), svm.createCalldata("PledgeRegistry"));
        } else {
            (to, data) = (address(licenses), svm.createCalldata("LicenseRegistry"));
        }
        vm.prank(caller);
        (bool ok,) = to.call(data);
        ok;
        IIPRegistry.Asset memory now_ = registry.assetOf(assetId);
        assert(now_.status == before.status);
        assert(now_.frozenUntil == before.frozenUntil);
        assert(now_.expiresAt == before.expiresAt && now_.feesPaidUntil == before.feesPaidUntil);
        // A move clears `verified` (the official register names the old owner); nothing else may.
        assert(now_.verified == before.verified || (!now_.verified && now_.owner != before.owner));
    }

    /// @notice A stamp, once written, never changes, whoever calls whatever on the TimestampRegistry.
    function check_stampNeverChanges(address caller, bytes32 leaf, uint40 at) public {
        vm.assume(leaf != bytes32(0) && _external(caller));
        bytes32 root = keccak256(bytes.concat(leaf)); // a single stamp's record key
        vm.prank(ALICE);
        stamps.stamp(leaf);
        ITimestampRegistry.Record memory first = stamps.recordOf(root);
        vm.assume(at >= T0);
        vm.warp(at);
        vm.prank(caller);
        (bool ok,) = address(stamps).call(svm.createCalldata("TimestampRegistry"));
        ok;
        ITimestampRegistry.Record memory now_ = stamps.recordOf(root);
        assert(first.stamper == ALICE);
        assert(now_.stamper == first.stamper && now_.blockNumber == first.blockNumber);
        assert(now_.timestamp == first.timestamp);
    }

    /// @dev A caller from outside: an account, not the forwarder, zero or one of the suite's contracts.
    function _external(address caller) internal view returns (bool) {
        return caller != address(0) && caller != address(forwarder) && caller != address(registry)
            && caller != address(pledges) && caller != address(licenses) && caller != address(stamps)
            && caller != address(lens) && caller != address(this);
    }

    /// @dev One call by `caller` with symbolic calldata (any function, any arguments).
    function _anyCall(address caller, bool onPledges) internal {
        bytes memory data = onPledges ? svm.createCalldata("PledgeRegistry") : svm.createCalldata("IPRegistry");
        vm.prank(caller);
        (bool ok,) = (onPledges ? address(pledges) : address(registry)).call(data);
        ok;
    }
}
