// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";

/// @title SettlementToken
/// @notice OpenZeppelin's ERC-20 with 6 decimals and a development faucet, for local chains and
/// tests (on a real chain the market settles in any ERC-20, e.g. a bank's stablecoin). The faucet is
/// an immutable constructor flag: `ledger.deploy` passes true only for development deployments,
/// and nobody can turn it on later. Users sign approvals through the forwarder like any other act.
contract SettlementToken is ISettlementToken, ERC20, ERC2771Context {
    /// @inheritdoc ISettlementToken
    uint256 public constant FAUCET_LIMIT = 1_000_000 * 10 ** 6;

    /// @inheritdoc ISettlementToken
    bool public immutable faucetEnabled;

    /// @param trustedForwarder The IpledgerForwarder that relays users' signed requests.
    /// @param faucetEnabled_ Whether {faucet} mints: true on development chains only.
    constructor(address trustedForwarder, bool faucetEnabled_)
        ERC20("ipledger settlement token", "IPST")
        ERC2771Context(trustedForwarder)
    {
        faucetEnabled = faucetEnabled_;
    }

    /// @inheritdoc ISettlementToken
    function faucet(address to, uint256 amount) external {
        if (!faucetEnabled) revert SettlementTokenFaucetDisabled();
        if (amount > FAUCET_LIMIT) revert SettlementTokenFaucetLimit(amount, FAUCET_LIMIT);
        _mint(to, amount);
    }

    /// @notice 6: one token is 1,000,000 units.
    function decimals() public pure override(ERC20, IERC20Metadata) returns (uint8) {
        return 6;
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
