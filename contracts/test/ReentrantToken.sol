// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @title ReentrantToken
/// @notice TEST ONLY, never part of the deployed suite: a malicious ERC-20 that is also a malicious
/// ERC-721 receiver and buyer. Armed with a target and a call, it makes that call once, as itself,
/// from inside its own token transfers ({Hook.Transfer}) or from inside `onERC721Received`
/// ({Hook.Receive}): the re-entry a market must withstand. It records whether the call succeeded and
/// what it returned; with `bubble` a failed re-entry also reverts the call it was made from.
contract ReentrantToken is ERC20, IERC721Receiver {
    /// @notice Where the attack is made from.
    enum Hook {
        None,
        Transfer,
        Receive
    }

    /// @notice The armed hook (None: disarmed; it disarms itself after one attempt).
    Hook public hook;
    /// @notice The contract the attack calls, and the call.
    address public target;
    bytes public payload;
    /// @notice Whether a failed re-entry reverts the outer call too.
    bool public bubble;
    /// @notice How many re-entries were attempted, whether the last one succeeded, and what it returned.
    uint256 public attempts;
    bool public reentered;
    bytes public lastResult;

    constructor() ERC20("Reentrant", "REEN") {}

    /// @notice Mints `amount` to `to` (anyone may: a test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the attack: at the next `hook`, call `target_` with `payload_` once.
    function arm(Hook hook_, address target_, bytes calldata payload_, bool bubble_) external {
        hook = hook_;
        target = target_;
        payload = payload_;
        bubble = bubble_;
    }

    /// @notice Calls `to` with `data` as this contract (to approve, offer, buy ... as an attacker would).
    function act(address to, bytes calldata data) external returns (bytes memory result) {
        bool ok;
        (ok, result) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @notice Accepts every ERC-721, attacking first if armed for {Hook.Receive}.
    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        if (hook == Hook.Receive) _attack();
        return IERC721Receiver.onERC721Received.selector;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (hook == Hook.Transfer) _attack();
    }

    function _attack() private {
        hook = Hook.None;
        ++attempts;
        (bool ok, bytes memory result) = target.call(payload);
        reentered = ok;
        lastResult = result;
        if (!ok && bubble) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
