// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IEscrowExtension} from "./IEscrowExtension.sol";
import {IMilestoneEscrow} from "./IMilestoneEscrow.sol";

/// @title Everything a MilestoneEscrow address answers: use this ABI in clients.
// solhint-disable-next-line no-empty-blocks
interface IEscrow is IMilestoneEscrow, IEscrowExtension {}
