// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IEscrowExtension} from "./interfaces/IEscrowExtension.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
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

// solhint-disable-next-line no-empty-blocks
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
        // Safe: the stored total fits 96 bits (TotalTooLarge), and unfunded never exceeds it.
        uint96 deposited = uint96(_total(dealId, deal.milestoneCount)) - deal.unfunded;
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

    // ---------------------------------------------------------------- receivables, payouts

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
        bytes32 digest = _hashTypedDataV4(TypedData.hashCancellation(c));
        _checkAgreed(dealId, deal, buyer, c.dealVersion, c.nonce, c.deadline, digest, signature);

        uint256 held;
        uint256 count = deal.milestoneCount;
        for (uint256 i; i < count; ++i) {
            Milestone storage slot = _milestones[dealId][i];
            uint96 part = _heldIn(dealId, slot);
            if (part == 0) continue; // already paid out one way or the other
            held += part;
            slot.status = MilestoneStatus.Settled;
        }
        // Both sides' amounts are what the signer saw: anything paid out since changes `held`.
        uint256 signed = uint256(c.toSupplier) + c.toBuyer;
        if (signed != held) revert HeldAmountChanged(dealId, signed, held);
        address payee = _payee(dealId, deal);
        // A payee other than the supplier agrees to getting less than everything held.
        if (c.toSupplier != held) _requirePayeeConsent(dealId, deal, payee, digest);
        deal.status = DealStatus.Cancelled;
        // Safe: held == toSupplier + toBuyer, two uint96.
        emit DealCancelledByAgreement(dealId, uint96(held), c.toSupplier);
        _pay(payee, c.toSupplier);
        _pay(buyer, c.toBuyer);
    }

    /// @inheritdoc IEscrowExtension
    function heldFor(uint256 dealId) external view returns (uint96) {
        Deal storage deal = _deals[dealId];
        if (deal.status == DealStatus.None) revert UnknownDeal(dealId);
        // Nothing is held for a deal that is not Active (a deposit towards an Accepted one is
        // the buyer's to take back with cancelDeal). Safe cast: held <= the deal's total.
        if (deal.status != DealStatus.Active) return 0;
        return uint96(_held(dealId, deal.milestoneCount));
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

    /// @inheritdoc IEscrowExtension
    function hashAmendment(Amendment calldata a) external view returns (bytes32) {
        return _hashTypedDataV4(TypedData.hashAmendment(a));
    }

    // ---------------------------------------------------------------- revocation, consent

    /// @inheritdoc IEscrowExtension
    function revokeAgreements(uint256 dealId) external {
        Deal storage deal = _deals[dealId];
        if (deal.status == DealStatus.None) revert UnknownDeal(dealId);
        // Only the two parties sign cancellations and change orders.
        if (msg.sender != deal.buyer && msg.sender != deal.supplier) {
            revert NotDealParty(dealId, msg.sender);
        }
        uint32 nonce = _agreementNonces[dealId][msg.sender] + 1;
        _agreementNonces[dealId][msg.sender] = nonce;
        emit AgreementsRevoked(dealId, msg.sender, nonce);
    }

    /// @inheritdoc IEscrowExtension
    function agreementNonce(uint256 dealId, address party) external view returns (uint32) {
        return _agreementNonces[dealId][party];
    }

    /// @inheritdoc IEscrowExtension
    function consentAsPayee(uint256 dealId, bytes32 digest, bool consented) external {
        Deal storage deal = _deals[dealId];
        if (deal.status == DealStatus.None) revert UnknownDeal(dealId);
        address payee = _payee(dealId, deal);
        // Only whoever holds the right to be paid speaks for it.
        if (msg.sender != payee) revert NotPayee(dealId, msg.sender);
        _payeeConsents[digest] = consented ? payee : address(0);
        emit PayeeConsentSet(dealId, payee, digest, consented);
    }

    /// @inheritdoc IEscrowExtension
    function payeeConsented(bytes32 digest) external view returns (address) {
        return _payeeConsents[digest];
    }

    /// @inheritdoc IOperatorRegistry
    function hashKeyConsent(address admin, address key, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(TypedData.hashKeyConsent(admin, key, deadline));
    }

    /// @dev The holder of `key` agreed, by an EIP-712 `OperatorKey` signature (or its contract
    /// wallet's EIP-1271 approval), to serve operators administered by the caller.
    function _checkKeyConsent(address key, uint256 deadline, bytes calldata signature)
        internal
        view
        override
    {
        if (key == msg.sender) return; // its own holder is adding it
        if (!_isValidSignature(key, hashKeyConsent(msg.sender, key, deadline), signature)) {
            revert InvalidKeyConsent(key);
        }
        // A consent is good until its deadline, inclusive.
        if (block.timestamp > deadline) revert KeyConsentExpired(deadline);
    }

    /// @inheritdoc IEscrowExtension
    function getPolicy(uint256 dealId) external view returns (Policy memory) {
        if (_deals[dealId].status == DealStatus.None) revert UnknownDeal(dealId);
        return _policies[dealId];
    }

    // ---------------------------------------------------------------- internals

    /// @dev Both parties agree: the caller is one of them and the other signed `digest`, for
    /// the deal's current version and its own current agreement nonce, before `deadline`
    /// (inclusive).
    function _checkAgreed(
        uint256 dealId,
        Deal storage deal,
        address buyer,
        uint16 signedVersion,
        uint32 signedNonce,
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
        uint32 nonce = _agreementNonces[dealId][other];
        // The signer has not revoked it since.
        if (signedNonce != nonce) revert AgreementRevoked(dealId, other, signedNonce, nonce);
        if (!_isValidSignature(other, digest, signature)) revert InvalidCounterpartySignature(other);
    }

    /// @dev What the escrow still holds for the deal: every milestone not yet paid out one way
    /// or the other, the disputed part of a dispute, the holdback of a Retained milestone.
    function _held(uint256 dealId, uint256 count) private view returns (uint256 held) {
        for (uint256 i; i < count; ++i) {
            held += _heldIn(dealId, _milestones[dealId][i]);
        }
    }

    /// @dev What the escrow holds for one milestone (0 once it has been paid out).
    function _heldIn(uint256 dealId, Milestone storage slot) private view returns (uint96) {
        MilestoneStatus s = slot.status;
        if (s == MilestoneStatus.Retained) return _holdback(dealId, slot.amount);
        if (s == MilestoneStatus.Disputed) return _disputed(dealId, slot);
        if (s == MilestoneStatus.Pending || s == MilestoneStatus.Rejected || s == MilestoneStatus.Examining) {
            return slot.amount;
        }
        return 0;
    }

    /// @dev An assigned payee (other than the supplier) agreed to `digest` (consentAsPayee).
    function _requirePayeeConsent(uint256 dealId, Deal storage deal, address payee, bytes32 digest)
        private
        view
    {
        if (deal.flags & FLAG_ASSIGNED == 0 || payee == deal.supplier) return;
        if (_payeeConsents[digest] != payee) revert PayeeConsentMissing(dealId, payee, digest);
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
