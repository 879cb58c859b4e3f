// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title ReentrancyGuardTransient for EVM targets before Cancun
/// @notice Chains without transient storage (EIP-1153: Shanghai, Paris, most consortium chains as
/// configured today) cannot run OpenZeppelin's `ReentrancyGuardTransient` (TSTORE/TLOAD). Builds for
/// such a target remap its import here (ledger/chain/toolchain.py, foundry.toml), so the contracts
/// keep one source: the same `nonReentrant` modifier and `ReentrancyGuardReentrantCall()` error,
/// backed by OpenZeppelin's storage-slot `ReentrancyGuard` (a few thousand gas more per guarded call).
abstract contract ReentrancyGuardTransient is ReentrancyGuard {}
