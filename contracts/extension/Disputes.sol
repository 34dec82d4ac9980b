// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrowExtension} from "../interfaces/IEscrowExtension.sol";
import {EscrowBase} from "../EscrowBase.sol";

/// @title Disputes: one milestone at a time, ruled by the deal's arbiter or settled by default
/// @dev MAY CHANGE: a milestone's status (Examining, Retained, Rejected or an overdue Pending
/// to Disputed; Disputed to Settled, or on to Released or Retained by the default), its
/// `dueAt` (the ruling deadline) and its dispute marks (HOLDBACK_DISPUTE, SUPPLIER_DISPUTE in
/// `verdicts`). Pays out the disputed amount.
/// KEEPS: the buyer disputes what its oracles approved (within the examination window, or the
/// holdback within the warranty), the supplier side what they refused or let pass its due
/// date. Only a live key of the deal's arbiter rules, by the deadline, and never splits more
/// than is disputed. Once the deadline has passed anyone can apply the default (the outcome
/// the milestone had without the dispute), so no disputed amount is ever stuck. The other
/// milestones keep running. State first, then the transfers (nonReentrant).
abstract contract Disputes is IEscrowExtension, EscrowBase {
    /// @inheritdoc IEscrowExtension
    uint256 public constant DEFAULT_RULING_PERIOD = DEFAULT_RULING_SECONDS;

    /// @inheritdoc IEscrowExtension
    function openDispute(uint256 dealId, uint256 index) external {
        Deal storage deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Active);
        Milestone storage slot = _milestones[dealId][index];
        MilestoneStatus status = slot.status;
        if (status == MilestoneStatus.None) revert UnknownMilestone(dealId, index);
        uint96 disputed = slot.amount;
        uint8 mark;
        if (msg.sender == deal.buyer) {
            mark = _checkBuyerDispute(dealId, index, status, slot.dueAt);
            if (mark == HOLDBACK_DISPUTE) disputed = _holdback(dealId, disputed);
        } else if (msg.sender == deal.supplier || msg.sender == _payee(dealId, deal)) {
            // The supplier side: the supplier, or the payee it assigned its payouts to.
            mark = _checkSupplierDispute(dealId, index, status, slot.dueAt);
        } else {
            revert NotDealParty(dealId, msg.sender);
        }
        uint256 period = DEFAULT_RULING_SECONDS;
        if (deal.flags & FLAG_POLICY != 0) {
            uint256 set = _policies[dealId].rulingPeriod;
            if (set != 0) period = set;
        }
        uint40 rulingDeadline = uint40(block.timestamp + period);
        slot.status = MilestoneStatus.Disputed;
        slot.dueAt = rulingDeadline;
        slot.verdicts |= mark;
        emit DisputeOpened(dealId, index, msg.sender, disputed, rulingDeadline);
    }

    /// @inheritdoc IEscrowExtension
    function rule(uint256 dealId, uint256 index, uint96 toSupplier) external nonReentrant {
        (Deal storage deal, Milestone storage slot) = _open(dealId, index, MilestoneStatus.Disputed);
        // Only a live key of the arbiter operator the parties named.
        if (_operatorOf(msg.sender) != deal.arbiter) revert NotArbiter(dealId, msg.sender);
        // The arbiter rules until the deadline, inclusive; then the default stands.
        if (block.timestamp > slot.dueAt) revert DeadlinePassed(slot.dueAt);
        uint96 disputed = _disputed(dealId, slot);
        if (toSupplier > disputed) revert SplitTooLarge(toSupplier, disputed);
        _settle(dealId, index, deal, slot, false, toSupplier, disputed - toSupplier);
    }

    /// @inheritdoc IEscrowExtension
    function settleDispute(uint256 dealId, uint256 index) external nonReentrant {
        (Deal storage deal, Milestone storage slot) = _open(dealId, index, MilestoneStatus.Disputed);
        if (block.timestamp <= slot.dueAt) revert DeadlineNotPassed(slot.dueAt);
        uint8 verdicts = slot.verdicts;
        // The default: the outcome the milestone had without the dispute.
        if (verdicts & SUPPLIER_DISPUTE != 0) {
            // Its oracles did not approve it: back to the buyer.
            _settle(dealId, index, deal, slot, true, 0, slot.amount);
        } else if (verdicts & HOLDBACK_DISPUTE != 0) {
            // The warranty claim was not upheld: the holdback goes to the payee.
            _settle(dealId, index, deal, slot, true, _holdback(dealId, slot.amount), 0);
        } else {
            // Its oracles approved it: released as if the window had passed in silence
            // (the holdback, if any, is then kept for the warranty). The release's own events
            // follow this one.
            uint96 amount = slot.amount;
            uint96 holdback = deal.flags & FLAG_POLICY == 0 ? 0 : _holdback(dealId, amount);
            emit DisputeSettled(dealId, index, msg.sender, true, amount - holdback, 0);
            _release(dealId, index, deal, slot);
        }
    }

    /// @dev The buyer examines what its oracles approved: the milestone during its window, the
    /// holdback during the warranty; both until their end, inclusive. Returns the dispute mark.
    function _checkBuyerDispute(uint256 dealId, uint256 index, MilestoneStatus status, uint40 ends)
        private
        view
        returns (uint8 mark)
    {
        if (status == MilestoneStatus.Retained) mark = HOLDBACK_DISPUTE;
        else if (status != MilestoneStatus.Examining) revert WrongMilestoneStatus(dealId, index, status);
        if (block.timestamp > ends) revert DeadlinePassed(ends);
    }

    /// @dev The supplier contests oracles that refused the milestone, or that let its due date
    /// pass without a verdict (before the buyer takes it back).
    function _checkSupplierDispute(uint256 dealId, uint256 index, MilestoneStatus status, uint40 due)
        private
        view
        returns (uint8)
    {
        if (status == MilestoneStatus.Pending) {
            if (block.timestamp <= due) revert MilestoneNotDue(dealId, index, due);
        } else if (status != MilestoneStatus.Rejected) {
            revert WrongMilestoneStatus(dealId, index, status);
        }
        return SUPPLIER_DISPUTE;
    }

    /// @dev Ends a dispute: Settled, then the two transfers. Each part also has its
    /// MilestoneReleased / MilestoneRefunded, so that every payout of a milestone shows in
    /// those two events; DisputeSettled comes last.
    function _settle(
        uint256 dealId,
        uint256 index,
        Deal storage deal,
        Milestone storage slot,
        bool byDefault,
        uint96 toSupplier,
        uint96 toBuyer
    ) private {
        slot.status = MilestoneStatus.Settled;
        address payee = _payee(dealId, deal);
        address buyer = deal.buyer;
        if (toSupplier != 0) emit MilestoneReleased(dealId, payee, index, toSupplier);
        if (toBuyer != 0) emit MilestoneRefunded(dealId, buyer, index, toBuyer);
        emit DisputeSettled(dealId, index, msg.sender, byDefault, toSupplier, toBuyer);
        _pay(payee, toSupplier);
        _pay(buyer, toBuyer);
    }
}
