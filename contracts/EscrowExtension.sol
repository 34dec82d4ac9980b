// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IEscrowExtension} from "./interfaces/IEscrowExtension.sol";
import {EscrowBase} from "./EscrowBase.sol";
import {OperatorRegistry} from "./OperatorRegistry.sol";
import {TypedData} from "./libraries/TypedData.sol";

/// @title The rest of a MilestoneEscrow's lifecycle, run in the escrow's own context
/// @notice Deployed by each MilestoneEscrow's constructor and reached only through its fallback
/// (delegatecall), so everything here reads and moves the escrow's storage and tokens, under
/// the escrow's reentrancy guard and EIP-712 domain. Called directly, it sees its own storage,
/// which is empty: every deal is unknown and it holds no tokens.
/// See MilestoneEscrow for the trust model and docs/contracts.md for the state diagrams.
contract EscrowExtension is IEscrowExtension, EscrowBase, OperatorRegistry {
    using SafeERC20 for IERC20;

    /// @inheritdoc IEscrowExtension
    uint256 public constant DEFAULT_RULING_PERIOD = DEFAULT_RULING_SECONDS;

    constructor(IERC20 token_) EscrowBase(token_) {}

    // ---------------------------------------------------------------- offers and set-up

    /// @inheritdoc IEscrowExtension
    function cancelOffer(uint256 nonce) external {
        _useOfferNonce(msg.sender, nonce);
        emit OfferCancelled(msg.sender, nonce);
    }

    /// @inheritdoc IEscrowExtension
    function acceptDeal(uint256 dealId) external {
        Deal storage deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Proposed);
        // A Proposed deal was created by its buyer, so only the supplier is left to agree.
        if (msg.sender != deal.supplier) {
            if (msg.sender == deal.buyer) revert CreatorCannotAccept(dealId, msg.sender);
            revert NotDealParty(dealId, msg.sender);
        }
        deal.status = DealStatus.Accepted;
        emit DealAccepted(dealId, msg.sender);
    }

    /// @inheritdoc IEscrowExtension
    function cancelDeal(uint256 dealId) external nonReentrant {
        Deal storage deal = _deals[dealId];
        DealStatus status = deal.status;
        if (status == DealStatus.None) revert UnknownDeal(dealId);
        address buyer = deal.buyer;
        // Either party may walk away before the terms are locked in by full funding.
        if (msg.sender != buyer && msg.sender != deal.supplier) {
            revert NotDealParty(dealId, msg.sender);
        }
        if (status != DealStatus.Proposed && status != DealStatus.Accepted) {
            revert WrongDealStatus(dealId, status);
        }
        uint96 deposited = _total(dealId, deal.milestoneCount) - deal.unfunded;
        deal.status = DealStatus.Cancelled;
        deal.unfunded = 0;
        emit DealCancelled(dealId, msg.sender, deposited);
        _pay(buyer, deposited);
    }

    // ---------------------------------------------------------------- examination, retention

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

    // ---------------------------------------------------------------- disputes

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
        } else if (msg.sender == deal.supplier) {
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

    // ---------------------------------------------------------------- receivables, payouts

    /// @inheritdoc IEscrowExtension
    function assignPayments(uint256 dealId, address to) external {
        Deal storage deal = _deals[dealId];
        DealStatus status = deal.status;
        if (status == DealStatus.None) revert UnknownDeal(dealId);
        if (status == DealStatus.Cancelled) revert WrongDealStatus(dealId, status);
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

    // ---------------------------------------------------------------- cancellation

    /// @inheritdoc IEscrowExtension
    function cancelByAgreement(Cancellation calldata c, bytes calldata signature)
        external
        nonReentrant
    {
        uint256 dealId = c.dealId;
        Deal storage deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Active);
        address buyer = deal.buyer;
        _checkAgreed(dealId, deal, buyer, c.dealVersion, c.deadline,
            _hashTypedDataV4(TypedData.hashCancellation(c)), signature);

        uint96 held;
        uint256 count = deal.milestoneCount;
        for (uint256 i; i < count; ++i) {
            Milestone storage slot = _milestones[dealId][i];
            MilestoneStatus s = slot.status;
            if (s == MilestoneStatus.Retained) {
                held += _holdback(dealId, slot.amount);
            } else if (s == MilestoneStatus.Disputed) {
                held += _disputed(dealId, slot);
            } else if (
                s == MilestoneStatus.Pending || s == MilestoneStatus.Rejected
                    || s == MilestoneStatus.Examining
            ) {
                held += slot.amount;
            } else {
                continue; // already paid out one way or the other
            }
            slot.status = MilestoneStatus.Settled;
        }
        if (c.toSupplier > held) revert SplitTooLarge(c.toSupplier, held);
        deal.status = DealStatus.Cancelled;
        emit DealCancelledByAgreement(dealId, held, c.toSupplier);
        _pay(_payee(dealId, deal), c.toSupplier);
        _pay(buyer, held - c.toSupplier);
    }

    /// @inheritdoc IEscrowExtension
    function hashCancellation(Cancellation calldata c) external view returns (bytes32) {
        return _hashTypedDataV4(TypedData.hashCancellation(c));
    }

    // ---------------------------------------------------------------- change orders

    /// @inheritdoc IEscrowExtension
    function amend(Amendment calldata a, bytes calldata signature) external nonReentrant {
        uint256 dealId = a.dealId;
        Deal storage deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Active);
        address buyer = deal.buyer;
        _checkAgreed(dealId, deal, buyer, a.dealVersion, a.deadline,
            _hashTypedDataV4(TypedData.hashAmendment(a)), signature);

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
        uint16 version = deal.version + 1;
        deal.version = version;
        emit DealAmended(dealId, version, uint96(added), uint96(removed), uint96(total));

        if (added > removed) {
            // The buyer pays in the increase, as it funds: from its own transaction only (a
            // change order that costs more is signed by the supplier and sent by the buyer).
            // It must arrive whole: the deal stays fully funded.
            if (msg.sender != buyer) revert NotBuyer(dealId, msg.sender);
            uint256 owedIn = added - removed;
            uint256 before = TOKEN.balanceOf(address(this));
            TOKEN.safeTransferFrom(msg.sender, address(this), owedIn);
            uint256 received = TOKEN.balanceOf(address(this)) - before;
            if (received != owedIn) revert TopUpShort(owedIn, received);
        } else {
            _pay(buyer, removed - added);
        }
    }

    /// @inheritdoc IEscrowExtension
    function hashAmendment(Amendment calldata a) external view returns (bytes32) {
        return _hashTypedDataV4(TypedData.hashAmendment(a));
    }

    /// @inheritdoc IEscrowExtension
    function getPolicy(uint256 dealId) external view returns (Policy memory) {
        if (_deals[dealId].status == DealStatus.None) revert UnknownDeal(dealId);
        return _policies[dealId];
    }

    // ---------------------------------------------------------------- internals

    /// @dev Both parties agree: the caller is one of them and the other signed `digest`, for
    /// the deal's current version, before `deadline` (inclusive).
    function _checkAgreed(
        uint256 dealId,
        Deal storage deal,
        address buyer,
        uint16 signedVersion,
        uint256 deadline,
        bytes32 digest,
        bytes calldata signature
    ) private view {
        address supplier = deal.supplier;
        address other;
        if (msg.sender == buyer) other = supplier;
        else if (msg.sender == supplier) other = buyer;
        else revert NotDealParty(dealId, msg.sender);
        if (block.timestamp > deadline) revert DeadlinePassed(deadline);
        // It agrees to the deal as it is now: after a change order it needs signing again.
        uint16 version = deal.version;
        if (signedVersion != version) revert StaleDealVersion(dealId, signedVersion, version);
        if (!_isValidSignature(other, digest, signature)) revert InvalidCounterpartySignature(other);
    }

    /// @dev The milestone of an Active deal, which must be in `expected` status.
    function _open(uint256 dealId, uint256 index, MilestoneStatus expected)
        private
        view
        returns (Deal storage deal, Milestone storage slot)
    {
        deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Active);
        slot = _milestones[dealId][index];
        MilestoneStatus status = slot.status;
        if (status != expected) {
            if (status == MilestoneStatus.None) revert UnknownMilestone(dealId, index);
            revert WrongMilestoneStatus(dealId, index, status);
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

    /// @dev What a Disputed milestone's dispute is about: the holdback, or the whole amount.
    function _disputed(uint256 dealId, Milestone storage slot) private view returns (uint96) {
        uint96 amount = slot.amount;
        return slot.verdicts & HOLDBACK_DISPUTE != 0 ? _holdback(dealId, amount) : amount;
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
