// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IEscrowExtension} from "../interfaces/IEscrowExtension.sol";
import {TypedData} from "../libraries/TypedData.sol";
import {Agreements} from "./Agreements.sol";

/// @title Change orders: both parties edit, remove or add milestones of an Active deal
/// @dev MAY CHANGE: an Active deal's open milestones (Pending or Rejected: edited, or removed
/// to amount 0), new milestones appended after the last, the deal's milestone count and
/// version (up by one). Moves the difference in funding: a decrease back to the buyer, an
/// increase in from the buyer.
/// KEEPS: both parties agreed (Agreements._checkAgreed), and an assigned payee to any edit or
/// removal of what it is owed. Only open milestones change (nothing paid, refunded or under a
/// dispute or examination). The deal stays fully funded: an increase must arrive whole
/// (TopUpShort). The total fits 96 bits (TotalTooLarge); the version never wraps
/// (VersionLimitReached). An edited milestone's verdicts start over.
abstract contract ChangeOrders is IEscrowExtension, Agreements {
    using SafeERC20 for IERC20;

    /// @inheritdoc IEscrowExtension
    function amend(Amendment calldata a, bytes calldata signature) external nonReentrant {
        uint256 dealId = a.dealId;
        Deal storage deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Active);
        address buyer = deal.buyer;
        bytes32 digest = _hashTypedDataV4(TypedData.hashAmendment(a));
        _checkAgreed(dealId, deal, buyer, a.dealVersion, a.nonce, a.deadline, digest, signature);
        bool payeeAgreed;

        uint256 count = deal.milestoneCount;
        uint32 operators = _operatorCount();
        uint256 added;
        uint256 removed;
        uint256 changes = a.changes.length;
        for (uint256 i; i < changes; ++i) {
            MilestoneChange calldata c = a.changes[i];
            uint256 index = c.index;
            if (c.action == ChangeAction.Add) {
                // Appended in order, within the milestone limit.
                if (index != count || count == MAX_MILESTONE_COUNT) revert InvalidChange(i);
                ++count;
            } else {
                if (index >= count) revert UnknownMilestone(dealId, index);
                Milestone storage slot = _milestones[dealId][index];
                MilestoneStatus status = slot.status;
                // Only what nobody has been paid for and nobody is deciding on.
                if (status != MilestoneStatus.Pending && status != MilestoneStatus.Rejected) {
                    revert WrongMilestoneStatus(dealId, index, status);
                }
                // Editing or removing what an assigned payee is owed takes its agreement.
                if (!payeeAgreed) {
                    _requirePayeeConsent(dealId, deal, _payee(dealId, deal), digest);
                    payeeAgreed = true;
                }
                removed += slot.amount;
                if (c.action == ChangeAction.Remove) {
                    slot.amount = 0;
                    slot.status = MilestoneStatus.Removed;
                    emit MilestoneAmended(dealId, index, ChangeAction.Remove, 0, bytes32(0));
                    continue;
                }
            }
            MilestoneTerms calldata t = c.terms;
            _checkTerms(index, t, operators);
            added += t.amount;
            // New terms, verdicts start over (they spoke to the old terms).
            _storeTerms(dealId, index, t);
            emit MilestoneAmended(dealId, index, c.action, _packTerms(t), t.requirementsHash);
        }
        uint256 total = _total(dealId, count);
        if (total > type(uint96).max) revert TotalTooLarge();
        deal.milestoneCount = uint8(count);
        // The version is a uint16 that signatures name: it must never wrap back to one in use.
        if (deal.version == type(uint16).max) revert VersionLimitReached(dealId);
        uint16 version = deal.version + 1;
        deal.version = version;
        emit DealAmended(dealId, version, uint96(added), uint96(removed), uint96(total));
        _settleChange(dealId, buyer, added, removed);
    }

    /// @inheritdoc IEscrowExtension
    function hashAmendment(Amendment calldata a) external view returns (bytes32) {
        return _hashTypedDataV4(TypedData.hashAmendment(a));
    }

    /// @dev The funding follows a change order: the buyer pays in an increase, or gets a
    /// decrease back.
    function _settleChange(uint256 dealId, address buyer, uint256 added, uint256 removed) private {
        if (added <= removed) {
            _pay(buyer, removed - added);
            return;
        }
        // The buyer pays in the increase, as it funds: from its own transaction only (a change
        // order that costs more is signed by the supplier and sent by the buyer). It must
        // arrive whole: the deal stays fully funded.
        if (msg.sender != buyer) revert NotBuyer(dealId, msg.sender);
        uint256 owedIn = added - removed;
        uint256 before = TOKEN.balanceOf(address(this));
        TOKEN.safeTransferFrom(msg.sender, address(this), owedIn);
        uint256 received = TOKEN.balanceOf(address(this)) - before;
        if (received != owedIn) revert TopUpShort(owedIn, received);
    }
}
