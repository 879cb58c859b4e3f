// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title IpledgerForwarder
/// @notice OpenZeppelin's ERC-2771 forwarder under ipledger's EIP-712 domain: the service relays
/// requests that users sign with their own keys, and every ipledger contract trusts it.
contract IpledgerForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("ipledger") {}
}
