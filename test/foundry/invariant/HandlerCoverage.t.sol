// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Suite} from "../utils/Suite.sol";
import {console} from "../utils/Vm.sol";
import {LedgerHandler} from "./LedgerHandler.sol";

/// @notice Guards the invariant campaign against a vacuous handler: sequences shaped like the
/// campaign's (fresh suite, 100 pseudo-random acts each) must carry every kind of act through at
/// least once (an invariant over acts that always revert proves nothing), and break no rule. The
/// counts are in the failure message.
contract HandlerCoverageTest is Suite {
    uint256 internal constant SEQUENCES = 48;
    uint256 internal constant DEPTH = 100;

    LedgerHandler internal handler;

    function test_handlerCarriesEveryActThrough() public {
        bytes32[36] memory acts = [
            bytes32("register"), "transfer", "transfer pledged", "freeze", "propose", "accept pledge", "release",
            "enforce", "consent transfer", "consent license", "offer license", "accept license",
            "accept license pledged", "stamp", "unfreeze", "cancel", "list", "buy", "update listing",
            "cancel listing", "offer", "accept offer", "refuse offer", "withdraw offer", "withdraw expired offer", "accept answer",
            "round trip", "set fee", "non-canonical refused", "unbind", "withdraw consent", "stale check refused", "unconsented refused",
            "open dispute", "resolve dispute", "set parent"
        ];
        bytes32[9] memory rules = [
            bytes32("moves"), "pledges", "licenses", "registrar", "stamps", "registrations", "market", "disputes",
            "versions"
        ];
        uint256[36] memory total;
        // 48 fresh suites and 4,800 acts exceed the default block gas limit; gas is not what this measures.
        vm.pauseGasMetering();
        uint256 seed = uint256(keccak256("ipledger"));
        for (uint256 run = 0; run < SEQUENCES; ++run) {
            deploySuite();
            deployMarket();
            handler = new LedgerHandler(registry, pledges, licenses, stamps, market, token);
            for (uint256 i = 0; i < DEPTH; ++i) {
                seed = uint256(keccak256(abi.encode(seed, i)));
                _act(seed);
            }
            for (uint256 i = 0; i < acts.length; ++i) {
                total[i] += handler.successes(acts[i]);
            }
            for (uint256 i = 0; i < rules.length; ++i) {
                require(handler.violations(rules[i]) == 0, handler.lastViolation(rules[i]));
            }
        }
        string memory counts;
        bool missing;
        for (uint256 i = 0; i < acts.length; ++i) {
            if (total[i] == 0) missing = true;
            counts = string.concat(counts, _text(acts[i]), "=", _decimal(total[i]), " ");
        }
        console.log(string.concat("acts carried through: ", counts));
        require(!missing, string.concat("an act never went through: ", counts));
    }

    function _act(uint256 seed) internal {
        uint256 a = uint256(keccak256(abi.encode(seed, "a")));
        uint256 b = uint256(keccak256(abi.encode(seed, "b")));
        uint256 c = uint256(keccak256(abi.encode(seed, "c")));
        uint256 which = seed % 20;
        if (which == 0) handler.timeTravel(a);
        else if (which == 1 && (seed >> 8) % 3 == 0) handler.setParent(a, b, c);
        else if (which == 1) handler.register(a, b, c, uint8(seed >> 8));
        else if (which == 2 && (seed >> 8) % 4 == 0) handler.roundTrip(a, b, c);
        else if (which == 2) handler.transfer(a, b, c);
        else if (which == 3) handler.courtOrder(a, b, uint8(seed >> 8), c);
        else if (which == 4) handler.registrarAct(a, b, uint8(seed >> 8), c);
        else if (which == 5 && (seed >> 8) % 3 == 0) handler.setFee(a);
        else if (which == 5) handler.attack(a, b, c, (seed >> 8) % 2 == 0);
        else if (which == 6) handler.proposePledge(a, b, c, seed >> 8);
        else if (which == 7) handler.acceptPledge(a, b);
        else if (which == 8) handler.releasePledge(a, b);
        else if (which == 9) handler.enforcePledge(a, b, c);
        else if (which == 10) handler.pledgeeConsent(a, b, c, (seed >> 8) % 2 == 0);
        else if (which == 11) handler.offerLicense(a, b, c, seed >> 8, seed >> 16);
        else if (which == 12) handler.acceptLicense(a, b);
        else if (which == 13) handler.terminateLicense(a, b, (seed >> 8) % 2 == 0);
        else if (which == 14) handler.listAsset(a, b, c, seed >> 8);
        else if (which == 15) handler.buyListing(a, b, c);
        else if (which == 16) handler.makeOffer(a, b, c);
        else if (which == 17) handler.answerOffer(a, b, c);
        else if (which == 18) handler.demandBoard(a, b, c);
        else handler.stamp(a, b, c);
    }

    function _text(bytes32 word) internal pure returns (string memory) {
        uint256 n;
        while (n < 32 && word[n] != 0) ++n;
        bytes memory out = new bytes(n);
        for (uint256 i = 0; i < n; ++i) {
            out[i] = word[i];
        }
        return string(out);
    }

    function _decimal(uint256 value) internal pure returns (string memory out) {
        if (value == 0) return "0";
        while (value > 0) {
            out = string.concat(string(abi.encodePacked(bytes1(uint8(48 + value % 10)))), out);
            value /= 10;
        }
    }
}
