// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IEscrowExtension} from "../interfaces/IEscrowExtension.sol";
import {EscrowBase} from "../EscrowBase.sol";

/// @title Payouts and receivables: where the supplier side's payouts go, and what is owed
/// @dev Every payout is EscrowBase._pay to EscrowBase._payee: a transfer the token refuses is
/// kept owed rather than block the deal. This is how a supplier assigns its receivable, and
/// how an account collects what it is owed.
/// MAY CHANGE: a deal's payee (`_payees`, FLAG_ASSIGNED); an account's owed amount (to 0).
/// Transfers what was owed.
/// KEEPS: only the current payee passes the receivable on, once the deal is Active, and never
/// to the zero address or the escrow. A withdrawal sends exactly what was owed, or reverts and
/// leaves it owed; nothing goes to the zero address or the escrow (where no deal would count
/// it). nonReentrant around the transfer.
abstract contract Payouts is IEscrowExtension, EscrowBase {
    using SafeERC20 for IERC20;

    /// @inheritdoc IEscrowExtension
    function assignPayments(uint256 dealId, address to) external {
        Deal storage deal = _deals[dealId];
        // A receivable exists once the deal is locked in: before that either party may still
        // walk away (cancelDeal), which no payee could be protected from.
        _requireStatus(deal, dealId, DealStatus.Active);
        address from = _payee(dealId, deal);
        // Only whoever holds the right to be paid can pass it on.
        if (msg.sender != from) revert NotPayee(dealId, msg.sender);
        if (to == address(0) || to == address(this)) revert InvalidPayee();
        _payees[dealId] = to;
        deal.flags |= FLAG_ASSIGNED;
        emit PaymentsAssigned(dealId, from, to);
    }

    /// @inheritdoc IEscrowExtension
    function payeeOf(uint256 dealId) external view returns (address) {
        Deal storage deal = _deals[dealId];
        if (deal.status == DealStatus.None) revert UnknownDeal(dealId);
        return _payee(dealId, deal);
    }

    /// @inheritdoc IEscrowExtension
    function withdraw(address to) external nonReentrant returns (uint256 amount) {
        // Tokens sent to nobody, or to the escrow (where no deal would count them), are lost.
        if (to == address(0) || to == address(this)) revert InvalidRecipient(to);
        amount = _owed[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _owed[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        // A transfer that fails here reverts, and the amount stays owed: try another `to`.
        TOKEN.safeTransfer(to, amount);
    }

    /// @inheritdoc IEscrowExtension
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }
}
