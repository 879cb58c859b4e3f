// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

/// @title The settlement token of local chains and tests.
/// @notice A plain ERC-20 with 6 decimals, as the stablecoins the market would settle in on a real
/// chain (USDC, USDT): 1 token is 1,000,000 units, and amounts are integers of units everywhere.
/// Its faucet mints to anyone on development chains; a production deployment disables it for good.
interface ISettlementToken is IERC20Metadata {
    /// @notice The faucet is disabled on this deployment (a production chain).
    error SettlementTokenFaucetDisabled();
    /// @notice One faucet call mints at most `limit` units; `amount` were asked.
    error SettlementTokenFaucetLimit(uint256 amount, uint256 limit);

    /// @notice Mints `amount` units to `to` (its {IERC20-Transfer} from address 0 is the record).
    /// Requirements:
    /// - the faucet is enabled (a development deployment);
    /// - `amount` is at most {FAUCET_LIMIT}; `to` is not zero.
    /// Emits a {IERC20-Transfer} event.
    function faucet(address to, uint256 amount) external;

    /// @notice Whether {faucet} mints: fixed at deployment, true only on development chains.
    function faucetEnabled() external view returns (bool);

    /// @notice The most units one {faucet} call mints (1,000,000 tokens).
    function FAUCET_LIMIT() external view returns (uint256);
}
