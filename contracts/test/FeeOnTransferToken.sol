// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken
/// @notice TEST ONLY, never part of the deployed suite: an ERC-20 that burns `feeBps` basis points of
/// every transfer, so the recipient receives less than was sent (as some deflationary tokens do).
/// The fee can be changed at any time, to model a token that starts charging after an offer was made.
contract FeeOnTransferToken is ERC20 {
    /// @notice The share of every transfer that is burnt, in basis points.
    uint256 public feeBps;

    constructor(uint256 feeBps_) ERC20("Fee on transfer", "FOT") {
        feeBps = feeBps_;
    }

    /// @notice Mints `amount` to `to` (anyone may: a test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Sets the fee of later transfers.
    function setFeeBps(uint256 feeBps_) external {
        feeBps = feeBps_;
    }

    /// @dev A transfer delivers `value` less the fee; the fee is burnt. Mints and burns are whole.
    function _update(address from, address to, uint256 value) internal override {
        uint256 fee = from == address(0) || to == address(0) ? 0 : value * feeBps / 10_000;
        super._update(from, to, value - fee);
        if (fee != 0) super._update(from, address(0), fee);
    }
}
