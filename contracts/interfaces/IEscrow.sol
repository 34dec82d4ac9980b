// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IEscrowExtension} from "./IEscrowExtension.sol";
import {IMilestoneEscrow} from "./IMilestoneEscrow.sol";

/// @title Everything a MilestoneEscrow address answers: use this ABI in clients.
interface IEscrow is IMilestoneEscrow, IEscrowExtension {}
