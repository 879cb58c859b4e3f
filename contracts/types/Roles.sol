// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Roles
/// @notice The roles of ipledger, held in one place: the {IPRegistry}'s AccessControl. Every other
/// contract asks the registry `hasRole(role, account)` instead of keeping its own role table.
library Roles {
    /// @notice Governance: grants and revokes the other roles, wires the registries once
    /// (OpenZeppelin's DEFAULT_ADMIN_ROLE).
    bytes32 internal constant ADMIN = 0x00;
    /// @notice The IP service centre: verification, legal status, official dates, court freezes,
    /// license recordal.
    bytes32 internal constant REGISTRAR = keccak256("REGISTRAR_ROLE");
    /// @notice An accredited bank: may accept pledges. Granted by the admin.
    bytes32 internal constant PLEDGEE = keccak256("PLEDGEE_ROLE");
}
