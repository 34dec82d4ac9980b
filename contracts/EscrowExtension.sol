// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EscrowBase} from "./EscrowBase.sol";
import {Agreements} from "./extension/Agreements.sol";
import {Cancellations} from "./extension/Cancellations.sol";
import {ChangeOrders} from "./extension/ChangeOrders.sol";
import {Disputes} from "./extension/Disputes.sol";
import {Operators} from "./extension/Operators.sol";
import {Payouts} from "./extension/Payouts.sol";
import {Retention} from "./extension/Retention.sol";

/// @title The rest of a MilestoneEscrow's lifecycle, run in the escrow's own context
/// @notice Deployed by each MilestoneEscrow's constructor and reached only through its fallback
/// (delegatecall), so everything here reads and moves the escrow's storage and tokens, under
/// the escrow's reentrancy guard and EIP-712 domain. Called directly, it sees its own storage,
/// which is empty: every deal is unknown and it holds no tokens.
/// @dev Composed of one abstract contract per concept (contracts/extension/), each with a
/// header of the state it may change and the invariants it keeps; none declares storage (all
/// of it is EscrowBase's). See MilestoneEscrow for the trust model and docs/contracts.md for
/// the map of concepts to files and the state diagrams.
contract EscrowExtension is
    Agreements,
    Cancellations,
    ChangeOrders,
    Disputes,
    Operators,
    Payouts,
    Retention
{
    // solhint-disable-next-line no-empty-blocks
    constructor(IERC20 token_) EscrowBase(token_) {}
}
