// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IIPLens} from "./interfaces/IIPLens.sol";
import {IIPRegistry} from "./interfaces/IIPRegistry.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {IPledgeRegistry} from "./interfaces/IPledgeRegistry.sol";

/// @title IPLens
/// @notice A bank's due diligence in one `eth_call`: the asset, its freeze, its active pledge, its
/// active licenses, its pending license offers, its encumbrance version and the red flags for a
/// loan, all read in the same block. (Licence listings of the LicenseMarket are not here: the
/// LicenseMarket is deployed after the lens. A listing sold after the check changes the encumbrance
/// version, which makes the bank's acceptance fail; a sale after the pledge needs the bank's consent.) Stateless; it holds
/// no rules of its own beyond what counts as a red flag.
contract IPLens is IIPLens {
    /// @notice The asset registry.
    IIPRegistry public immutable registry;
    /// @notice The license registry.
    ILicenseRegistry public immutable licenses;
    /// @notice The pledge registry.
    IPledgeRegistry public immutable pledges;

    constructor(IIPRegistry registry_, ILicenseRegistry licenses_, IPledgeRegistry pledges_) {
        registry = registry_;
        licenses = licenses_;
        pledges = pledges_;
    }

    /// @inheritdoc IIPLens
    function dueDiligence(uint256 assetId, uint40 maturity) public view returns (Report memory report) {
        report.assetId = assetId;
        report.asset = registry.assetOf(assetId);
        report.frozen = report.asset.frozenUntil > block.timestamp;
        report.freeze = registry.freezeOf(assetId);
        report.pledgeId = pledges.activePledgeOf(assetId);
        if (report.pledgeId != 0) report.pledge = pledges.pledgeOf(report.pledgeId);
        (report.licenseIds, report.licenses) = licenses.activeLicensesOf(assetId);
        (report.offerIds, report.offers) = licenses.offeredLicensesOf(assetId);
        report.encumbranceVersion = licenses.encumbranceVersionOf(assetId);
        report.flags = _flags(report, maturity);
        report.blockNumber = block.number;
        report.timestamp = block.timestamp;
    }

    /// @inheritdoc IIPLens
    function dueDiligenceOfRef(bytes32 ref, uint40 maturity) external view returns (Report memory report) {
        uint256 assetId = registry.assetIdOfRef(ref);
        if (assetId == 0) revert IPLensUnknownRef(ref);
        report = dueDiligence(assetId, maturity);
        report.ref = ref;
    }

    function _flags(Report memory report, uint40 maturity) private view returns (RedFlags memory flags) {
        IIPRegistry.Asset memory asset = report.asset;
        IIPRegistry.LegalStatus status = asset.status;
        flags.unverified = !asset.verified;
        flags.expiresBeforeMaturity = maturity != 0 && asset.expiresAt != 0 && asset.expiresAt < maturity;
        // Fees must be paid at least until the loan matures (until now when there is no loan).
        uint256 horizon = maturity > block.timestamp ? maturity : block.timestamp;
        flags.feesUnpaid = asset.feesPaidUntil != 0 && asset.feesPaidUntil < horizon;
        // Enum comparisons, not balance or time equalities (security/slither-triage.md).
        // slither-disable-next-line incorrect-equality
        flags.invalidationPending = status == IIPRegistry.LegalStatus.InvalidationRequested;
        // slither-disable-next-line incorrect-equality
        flags.notPledgeable = status == IIPRegistry.LegalStatus.Invalidated
            || status == IIPRegistry.LegalStatus.Lapsed || status == IIPRegistry.LegalStatus.Expired
            || (asset.expiresAt != 0 && asset.expiresAt <= block.timestamp);
        flags.frozen = report.frozen;
        flags.pledged = report.pledgeId != 0;
        flags.holderDisputed = asset.holderDisputed;
        flags.exclusivelyLicensed = _anyExclusive(report.licenses);
        flags.exclusivelyOffered = _anyExclusive(report.offers);
    }

    function _anyExclusive(ILicenseRegistry.License[] memory list) private pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i].kind != ILicenseRegistry.LicenseKind.NonExclusive) return true;
        }
        return false;
    }
}
