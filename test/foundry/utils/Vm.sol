// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The few Foundry cheatcodes these tests use (forge-std is not installable here). Forge and
/// Halmos both answer calls to this address; signatures as in forge-std's `Vm.sol`.
interface Vm {
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function deal(address account, uint256 newBalance) external;
    function assume(bool condition) external;
    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function label(address account, string calldata newLabel) external;
    function addr(uint256 privateKey) external pure returns (address);
    function pauseGasMetering() external;
}

/// @notice Symbolic values for Halmos (the `SVM` of halmos-cheatcodes, at its well-known address).
interface SVM {
    function createUint256(string memory name) external pure returns (uint256);
    function createUint(uint256 bitSize, string memory name) external pure returns (uint256);
    function createAddress(string memory name) external pure returns (address);
    function createBytes32(string memory name) external pure returns (bytes32);
    function createBool(string memory name) external pure returns (bool);
    function createCalldata(string memory contractName) external pure returns (bytes memory);
    function createCalldata(string memory contractName, bool includeViewFunctions) external pure returns (bytes memory);
}

/// @notice Where the cheatcodes live, and a base with `vm` and `svm` ready for use.
abstract contract Cheats {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    SVM internal constant svm = SVM(0xF3993A62377BCd56AE39D773740A5390411E8BC9);
}

/// @notice Forge's console (shown with `forge test -vv`).
library console {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory message) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string)", message));
        ok;
    }
}
