// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICoOwnership} from "../../../contracts/interfaces/ICoOwnership.sol";
import {Suite} from "../utils/Suite.sol";
import {console} from "../utils/Vm.sol";
import {CoOwnersHandler} from "./CoOwnersHandler.sol";

/// @notice The co-ownership rules as invariants over random sequences of acts (see {CoOwnersHandler}):
/// shares always sum to 10,000; no act needing every co-owner succeeds without every consent; a
/// co-owned asset leaves its vault only by a consented transfer; proceeds are split exactly and
/// nothing is stuck. `test_handlerCarriesEveryCoOwnerActThrough` guards against a vacuous handler.
contract CoOwnersInvariantsTest is Suite {
    CoOwnersHandler internal handler;

    function setUp() public {
        _deploy();
    }

    function _deploy() internal {
        deploySuite();
        deployMarket();
        deployCoOwnership();
        handler = new CoOwnersHandler(coOwnership, registry, licenseMarket, token);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Every co-owned asset has 1 to 16 co-owners with shares > 0 summing to 10,000.
    function invariant_sharesAlwaysSumToWhole() public view {
        _noViolation("shares");
        uint256[] memory assets = handler.assets();
        for (uint256 i = 0; i < assets.length; ++i) {
            (ICoOwnership.Share[] memory shares,,,) = coOwnership.coOwnersOf(assets[i]);
            require(shares.length > 0 && shares.length <= coOwnership.MAX_CO_OWNERS(), "co-owner count out of bounds");
            uint256 total;
            for (uint256 j = 0; j < shares.length; ++j) {
                require(shares[j].bps > 0, "a co-owner with a zero share");
                total += shares[j].bps;
            }
            require(total == 10_000, "shares do not sum to 10,000");
        }
    }

    /// @notice No transfer, exclusive licence, pledge, change of co-owners or share transfer went
    /// through without every other co-owner's consent to that exact act; and a co-owned asset is held
    /// by its vault until such a transfer.
    function invariant_noUnanimousActWithoutEveryConsent() public view {
        _noViolation("consents");
        uint256[] memory assets = handler.assets();
        for (uint256 i = 0; i < assets.length; ++i) {
            if (handler.gone(assets[i])) continue;
            require(
                registry.ownerOf(assets[i]) == coOwnership.vaultOf(assets[i]), "a co-owned asset left its vault"
            );
        }
    }

    /// @notice Every unit paid to a vault is in a vault, credited, or withdrawn; the contract holds
    /// exactly the credits.
    function invariant_feesSplitExactlyNothingStuck() public view {
        _noViolation("money");
        uint256[] memory assets = handler.assets();
        uint256 inVaults;
        for (uint256 i = 0; i < assets.length; ++i) {
            inVaults += token.balanceOf(coOwnership.vaultOf(assets[i]));
        }
        address[] memory parties = handler.parties();
        uint256 credits;
        for (uint256 i = 0; i < parties.length; ++i) {
            credits += coOwnership.creditOf(address(token), parties[i]);
        }
        require(token.balanceOf(address(coOwnership)) == credits, "the contract holds other than the credits");
        require(handler.paidToVaults() == inVaults + credits + handler.withdrawn(), "proceeds were lost or created");
    }

    /// @notice Sequences like the campaign's carry every kind of act through at least once.
    function test_handlerCarriesEveryCoOwnerActThrough() public {
        bytes32[11] memory acts = [
            bytes32("register"), "consent", "withdraw consent", "transfer", "exclusive licence", "pledge",
            "change co-owners", "share transfer", "licence sale", "distribute", "withdraw"
        ];
        uint256[11] memory total;
        vm.pauseGasMetering();
        uint256 seed = uint256(keccak256("co-owners"));
        for (uint256 run = 0; run < 24; ++run) {
            _deploy();
            for (uint256 i = 0; i < 100; ++i) {
                seed = uint256(keccak256(abi.encode(seed, i)));
                _act(seed);
            }
            for (uint256 i = 0; i < acts.length; ++i) {
                total[i] += handler.successes(acts[i]);
            }
            invariant_sharesAlwaysSumToWhole();
            invariant_noUnanimousActWithoutEveryConsent();
            invariant_feesSplitExactlyNothingStuck();
        }
        string memory counts;
        bool missing;
        for (uint256 i = 0; i < acts.length; ++i) {
            if (total[i] == 0) missing = true;
            counts = string.concat(counts, _text(acts[i]), "=", _decimal(total[i]), " ");
        }
        console.log(string.concat("co-owner acts carried through: ", counts));
        require(!missing, string.concat("an act never went through: ", counts));
    }

    function _act(uint256 seed) internal {
        uint256 a = uint256(keccak256(abi.encode(seed, "a")));
        uint256 b = uint256(keccak256(abi.encode(seed, "b")));
        uint256 c = uint256(keccak256(abi.encode(seed, "c")));
        uint256 which = seed % 10;
        if (which == 0) handler.register(a, b, c, (seed >> 8) % 8 == 0);
        else if (which <= 3) handler.consent(a, b, c, (seed >> 8) % 6 == 0);
        else if (which <= 5) handler.unanimousAct(a, b, c);
        else if (which == 6) handler.licenceSale(a, b);
        else if (which == 7) handler.distribute(b);
        else if (which == 8) handler.withdraw(a);
        else handler.timeTravel(a);
    }

    function _noViolation(bytes32 rule) internal view {
        require(handler.violations(rule) == 0, handler.lastViolation(rule));
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
