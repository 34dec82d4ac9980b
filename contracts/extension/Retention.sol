// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrowExtension} from "../interfaces/IEscrowExtension.sol";
import {EscrowBase} from "../EscrowBase.sol";

/// @title Examination and retention: the releases that wait for the buyer
/// @dev A deal's Policy can hold a milestone the oracles approved for an examination window
/// (Examining) and, once released, a share of it for a warranty (Retained). The release that
/// follows the quorum is EscrowBase._quorumMet and _release (from MilestoneEscrow's attest);
/// this is the release that follows the wait. docs/contracts.md maps every path to a payout.
/// MAY CHANGE: an Examining milestone's status (to Released, or Retained with a new `dueAt`:
/// the end of the warranty); a Retained milestone's status (to Released). Pays the payee.
/// KEEPS: the buyer has the whole window and the whole warranty, inclusive, to dispute
/// (Disputes): before the window ends only the buyer can release the milestone
/// (waiveExamination), before the warranty ends nobody can release the holdback; after
/// either, anyone can. The holdback is the deal's fixed retention share of the milestone.
/// State first, then the transfer (nonReentrant).
abstract contract Retention is IEscrowExtension, EscrowBase {
    /// @inheritdoc IEscrowExtension
    function release(uint256 dealId, uint256 index) external nonReentrant {
        (Deal storage deal, Milestone storage slot) = _open(dealId, index, MilestoneStatus.Examining);
        // The buyer has until the end of the window, inclusive, to dispute.
        if (block.timestamp <= slot.dueAt) revert DeadlineNotPassed(slot.dueAt);
        _release(dealId, index, deal, slot);
    }

    /// @inheritdoc IEscrowExtension
    function waiveExamination(uint256 dealId, uint256 index) external nonReentrant {
        (Deal storage deal, Milestone storage slot) = _open(dealId, index, MilestoneStatus.Examining);
        if (msg.sender != deal.buyer) revert NotBuyer(dealId, msg.sender);
        _release(dealId, index, deal, slot);
    }

    /// @inheritdoc IEscrowExtension
    function releaseRetention(uint256 dealId, uint256 index) external nonReentrant {
        (Deal storage deal, Milestone storage slot) = _open(dealId, index, MilestoneStatus.Retained);
        // The buyer has until the end of the warranty, inclusive, to dispute the holdback.
        if (block.timestamp <= slot.dueAt) revert DeadlineNotPassed(slot.dueAt);
        uint96 holdback = _holdback(dealId, slot.amount);
        slot.status = MilestoneStatus.Released;
        address to = _payee(dealId, deal);
        emit MilestoneReleased(dealId, to, index, holdback);
        _pay(to, holdback);
    }
}
