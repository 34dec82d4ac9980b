// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IMilestoneEscrow} from "./interfaces/IMilestoneEscrow.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {EscrowBase} from "./EscrowBase.sol";
import {EscrowExtension} from "./EscrowExtension.sol";
import {TypedData} from "./libraries/TypedData.sol";

/// @title MilestoneEscrow: milestone payments for B2B trade, released by oracle attestations
///
/// TRUST MODEL
/// - Nobody holds an admin key: there is no owner, no pause, no upgrade, no fee, no sweep.
///   Tokens leave the escrow only by the rules below.
/// - Buyer: deposits; takes back a milestone that is still unpaid after its due date; calls
///   off a deal that is not yet Active (getting any deposit back); disputes a milestone during
///   its examination window or its holdback during the warranty.
/// - Supplier: receives a milestone's amount when the milestone's quorum of oracles has
///   attested it (or whoever it assigned its payouts to). Accepts the terms before they are
///   funded (or proposes them); disputes a milestone its oracles refuse or withhold.
/// - Oracles (registered operators named per milestone): decide, by attesting, when a
///   milestone is paid. A quorum of them can pay a milestone early; they can never send funds
///   anywhere but to the supplier, and cannot stop the buyer's refund after the due date. Their
///   keys are managed by each operator's own admin (see OperatorRegistry).
/// - Arbiter (an operator named in the deal): splits a disputed milestone between the parties,
///   and nothing else; if it does not rule in time the documented default applies.
/// - Both parties together: end an Active deal, splitting what is left as they agree.
/// - The token: trusted to report balances honestly. Deposits are credited by balance change,
///   so a fee-on-transfer token cannot over-credit a deal; rebasing tokens are not supported.
///
/// DESIGN: ONE ESCROW PER TOKEN, MANY DEALS EACH
/// A factory of per-deal clones would pay ~40k gas of deployment per deal and an external call
/// per attestation to reach a shared registry. One contract holding every deal of one token
/// keeps a deal in two storage slots and a milestone in one, makes the token an immutable (no
/// storage read on any payout), and confines whatever a misbehaving token does to the deals
/// denominated in it. Deploy one instance per token.
///
/// DESIGN: TWO HALVES, ONE ADDRESS
/// This contract holds the hot path (create, fund, attest, release, refund, views). What it does
/// not implement, its fallback delegates to an EscrowExtension that its constructor deploys and
/// fixes for ever (an immutable address: no upgrade, no admin): the operator registry,
/// examination, disputes, retention, receivables, deferred payments, cancellation (one file per
/// concept under contracts/extension/). Both share EscrowBase's storage. Clients use the
/// IEscrow ABI at this address.
///
/// Every entry point that moves tokens is nonReentrant (transient storage, EIP-1153); the
/// guard's slot is this contract's, so it also covers the extension's entry points.
contract MilestoneEscrow is IMilestoneEscrow, EscrowBase {
    using SafeERC20 for IERC20;

    /// @inheritdoc IMilestoneEscrow
    uint256 public constant MAX_MILESTONES = MAX_MILESTONE_COUNT;

    /// @dev Passed as the signed version by direct verdicts, whose sender is checked live. No
    /// signed `uint16 dealVersion` can equal it.
    uint256 private constant ANY_VERSION = type(uint256).max;

    /// @dev Where the fallback delegates; deployed by the constructor, never changed.
    address private immutable EXTENSION;

    constructor(IERC20 token_) EscrowBase(token_) {
        EXTENSION = address(new EscrowExtension(token_));
    }

    /// @dev Everything else the escrow answers ({IEscrowExtension}) runs in the extension, in
    /// this contract's context (storage, balance, address, reentrancy guard).
    fallback() external {
        address extension = EXTENSION;
        // Memory-safe: it works past the free memory pointer and never returns to Solidity.
        // (Without the annotation solc drops its memory guard for the whole contract and
        // inlines far less: createDeal cost ~900 gas more per milestone.)
// solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), extension, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
            return(ptr, returndatasize())
        }
    }

    // ---------------------------------------------------------------- deal set-up

    /// @inheritdoc IMilestoneEscrow
    function createDeal(
        address buyer,
        address supplier,
        uint32 arbiter,
        Policy calldata policy,
        MilestoneTerms[] calldata milestones
    ) external returns (uint256 dealId) {
        // Nobody signs others up for a deal: the creator is one of its parties.
        if (msg.sender != buyer && msg.sender != supplier) revert NotDealParty(0, msg.sender);
        // A supplier's proposal is its acceptance; a buyer's waits for the supplier.
        DealStatus status = msg.sender == supplier ? DealStatus.Accepted : DealStatus.Proposed;
        dealId = _storeDeal(buyer, supplier, arbiter, policy, milestones, status);
    }

    /// @inheritdoc IMilestoneEscrow
    function acceptOffer(DealOffer calldata offer, bytes calldata supplierSignature, uint256 fundAmount)
        external
        nonReentrant
        returns (uint256 dealId)
    {
        dealId = _acceptOffer(offer, supplierSignature);
        // The sender is the offer's buyer and the deal is Accepted: _acceptOffer checked both.
        if (fundAmount != 0) _deposit(dealId, _deals[dealId], fundAmount);
    }

    /// @inheritdoc IMilestoneEscrow
    function acceptOfferWithPermit(
        DealOffer calldata offer,
        bytes calldata supplierSignature,
        uint256 fundAmount,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 dealId) {
        dealId = _acceptOffer(offer, supplierSignature);
        _tryPermit(fundAmount, permitDeadline, v, r, s);
        // The sender is the offer's buyer and the deal is Accepted: _acceptOffer checked both.
        _deposit(dealId, _deals[dealId], fundAmount);
    }

    /// @inheritdoc IMilestoneEscrow
    function fund(uint256 dealId, uint256 amount) external nonReentrant returns (uint96) {
        return _fund(dealId, amount);
    }

    /// @inheritdoc IMilestoneEscrow
    function fundWithPermit(
        uint256 dealId,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint96) {
        _tryPermit(amount, deadline, v, r, s);
        return _fund(dealId, amount);
    }

    // ---------------------------------------------------------------- milestones

    /// @inheritdoc IMilestoneEscrow
    function attest(uint256 dealId, uint256 index, bytes32 evidenceHash) external nonReentrant {
        _attest(dealId, index, msg.sender, true, evidenceHash, ANY_VERSION, true, 0, msg.data[0:0]);
    }

    /// @inheritdoc IMilestoneEscrow
    function reject(uint256 dealId, uint256 index, bytes32 evidenceHash) external nonReentrant {
        _attest(dealId, index, msg.sender, false, evidenceHash, ANY_VERSION, true, 0, msg.data[0:0]);
    }

    /// @inheritdoc IMilestoneEscrow
    function submitAttestation(SignedAttestation calldata signed) external nonReentrant {
        _submit(signed, true);
    }

    /// @inheritdoc IMilestoneEscrow
    function submitAttestations(SignedAttestation[] calldata batch)
        external
        nonReentrant
        returns (uint256 applied)
    {
        uint256 count = batch.length;
        for (uint256 i; i < count; ++i) {
            if (_submit(batch[i], false)) ++applied;
        }
    }

    /// @inheritdoc IMilestoneEscrow
    function refund(uint256 dealId, uint256 index) external nonReentrant {
        Deal storage deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Active);
        address buyer = deal.buyer;
        if (msg.sender != buyer) revert NotBuyer(dealId, msg.sender);
        Milestone storage slot = _milestones[dealId][index];
        Milestone memory m = slot;
        // Only a milestone that was never paid: still pending, or blocked by its oracles.
        if (m.status != MilestoneStatus.Pending && m.status != MilestoneStatus.Rejected) {
            if (m.status == MilestoneStatus.None) revert UnknownMilestone(dealId, index);
            revert MilestoneNotPending(dealId, index, m.status);
        }
        // Not before the due date has passed (the due date itself still belongs to the
        // supplier). Oracles may still attest after it: whichever comes first wins.
        if (block.timestamp <= m.dueAt) revert MilestoneNotDue(dealId, index, m.dueAt);
        slot.status = MilestoneStatus.Refunded;
        emit MilestoneRefunded(dealId, buyer, index, m.amount);
        _pay(buyer, m.amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMilestoneEscrow
    function token() external view returns (IERC20) {
        return TOKEN;
    }

    /// @inheritdoc IMilestoneEscrow
    function dealCount() external view returns (uint256) {
        return _dealCount;
    }

    /// @inheritdoc IMilestoneEscrow
    function offerNonceUsed(address supplier, uint256 nonce) external view returns (bool) {
        return _offerNonces[supplier][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IMilestoneEscrow
    function hashOffer(DealOffer calldata offer) external view returns (bytes32) {
        return _hashTypedDataV4(TypedData.hashOffer(offer));
    }

    /// @inheritdoc IMilestoneEscrow
    function hashAttestation(Attestation calldata attestation) external view returns (bytes32) {
        return _hashTypedDataV4(TypedData.hashAttestation(attestation));
    }

    /// @inheritdoc IMilestoneEscrow
    function getDeal(uint256 dealId) external view returns (DealView memory) {
        Deal memory d = _deals[dealId];
        if (d.status == DealStatus.None) revert UnknownDeal(dealId);
        return DealView({
            buyer: d.buyer,
            supplier: d.supplier,
            payee: d.flags & FLAG_ASSIGNED == 0 ? d.supplier : _payees[dealId],
            arbiter: d.arbiter,
            status: d.status,
            version: d.version,
            milestoneCount: d.milestoneCount,
            // Safe: every stored total was checked against the 96-bit fields (TotalTooLarge).
            total: uint96(_total(dealId, d.milestoneCount)),
            unfunded: d.unfunded
        });
    }

    /// @inheritdoc IMilestoneEscrow
    function getMilestone(uint256 dealId, uint256 index)
        external
        view
        returns (MilestoneView memory v)
    {
        if (_deals[dealId].status == DealStatus.None) revert UnknownDeal(dealId);
        Milestone memory m = _milestones[dealId][index];
        if (m.status == MilestoneStatus.None) revert UnknownMilestone(dealId, index);
        v.amount = m.amount;
        v.dueAt = m.dueAt;
        v.status = m.status;
        v.quorum = m.quorum;
        uint8 verdicts = m.verdicts;
        v.attestations = _popcount(verdicts & 7);
        v.rejections = _popcount(verdicts >> 4);
        v.oracles = [m.oracle0, m.oracle1, m.oracle2];
        v.attested = [verdicts & 1 != 0, verdicts & 2 != 0, verdicts & 4 != 0];
        v.rejected = [verdicts & 16 != 0, verdicts & 32 != 0, verdicts & 64 != 0];
    }

    // ---------------------------------------------------------------- internals

    /// @dev Applies one oracle verdict. `signer` is the key that speaks for the operator: the
    /// sender (`digest` 0), or the named signer of a relayed attestation, whose `signature` over
    /// `digest` is checked last, after everything that storage alone can refuse: a relayer's
    /// batch pays for a contract signer's isValidSignature only when that signer is a live key
    /// of one of the milestone's own oracles yet to give its verdict, and then a bounded amount.
    /// On a problem it reverts with the custom error when `strict`, else emits
    /// AttestationSkipped and returns false. The error data is only built on those paths, so
    /// the happy path pays nothing.
    function _attest(
        uint256 dealId,
        uint256 index,
        address signer,
        bool met,
        bytes32 evidenceHash,
        uint256 signedVersion,
        bool strict,
        bytes32 digest,
        bytes calldata signature
    ) private returns (bool) {
        Deal storage deal = _deals[dealId];
        DealStatus status = deal.status;
        // Verdicts count only while the funds are locked in.
        if (status != DealStatus.Active) {
            return _fail(strict, dealId, index, signer, status == DealStatus.None
                ? abi.encodeWithSelector(UnknownDeal.selector, dealId)
                : abi.encodeWithSelector(WrongDealStatus.selector, dealId, status));
        }
        // A signed verdict speaks to the terms its oracle saw: an amended deal needs a new one.
        if (signedVersion != ANY_VERSION && signedVersion != deal.version) {
            return _fail(strict, dealId, index, signer, abi.encodeWithSelector(
                StaleAttestation.selector, dealId, signedVersion, deal.version));
        }
        Milestone storage slot = _milestones[dealId][index];
        Milestone memory m = slot;
        if (m.status != MilestoneStatus.Pending) {
            return _fail(strict, dealId, index, signer, m.status == MilestoneStatus.None
                ? abi.encodeWithSelector(UnknownMilestone.selector, dealId, index)
                : abi.encodeWithSelector(MilestoneNotPending.selector, dealId, index, m.status));
        }
        uint32 operatorId = _operatorOf(signer);
        uint8 bit = _oracleBit(m, operatorId);
        // Only a live key of one of this milestone's own oracles counts.
        if (bit == 0) {
            return _fail(strict, dealId, index, signer, abi.encodeWithSelector(
                NotMilestoneOracle.selector, dealId, index, signer));
        }
        // One verdict per oracle and milestone, whichever it is.
        if (m.verdicts & (bit | (bit << 4)) != 0) {
            return _fail(strict, dealId, index, signer, abi.encodeWithSelector(
                AlreadyAttested.selector, dealId, index, operatorId));
        }
        // The named key signed exactly this verdict, for this escrow on this chain.
        if (digest != 0 && !_isValidSignatureBounded(signer, digest, signature)) {
            return _fail(strict, dealId, index, signer, abi.encodeWithSelector(
                InvalidAttestationSignature.selector, signer));
        }

        if (met) {
            uint8 verdicts = m.verdicts | bit;
            slot.verdicts = verdicts;
            emit MilestoneAttested(dealId, operatorId, index, signer, evidenceHash);
            // Quorum reached: release (or examine first). State first, then the transfer.
            if (_popcount(verdicts & 7) >= m.quorum) {
                // The common case, kept to the one slot-0 read a release needed before deals
                // had options: no policy, no assignment, so pay the supplier in full.
                if (deal.flags == 0) {
                    slot.status = MilestoneStatus.Released;
                    address to = deal.supplier;
                    emit MilestoneReleased(dealId, to, index, m.amount);
                    _pay(to, m.amount);
                } else {
                    _quorumMet(dealId, index, deal, slot);
                }
            }
        } else {
            uint8 verdicts = m.verdicts | (bit << 4);
            slot.verdicts = verdicts;
            // Blocked once the oracles yet to say "not met" can no longer make the quorum.
            bool blocked = _oracleCount(m) - _popcount(verdicts >> 4) < m.quorum;
            if (blocked) slot.status = MilestoneStatus.Rejected;
            emit MilestoneRejected(dealId, operatorId, index, signer, evidenceHash, blocked);
        }
        return true;
    }

    /// @dev Checks a relayed attestation's deadline, then applies it (signature included).
    function _submit(SignedAttestation calldata signed, bool strict) private returns (bool) {
        Attestation calldata a = signed.attestation;
        address signer = signed.signer;
        // A signed verdict can be submitted until its deadline, inclusive.
        if (block.timestamp > a.deadline) {
            return _fail(strict, a.dealId, a.milestone, signer,
                abi.encodeWithSelector(AttestationExpired.selector, a.deadline));
        }
        bytes32 digest = _hashTypedDataV4(TypedData.hashAttestation(a));
        return _attest(
            a.dealId, a.milestone, signer, a.met, a.evidenceHash, a.dealVersion, strict, digest,
            signed.signature
        );
    }

    /// @dev Reverts with `reason` (an encoded custom error) when `strict`; otherwise records
    /// the skipped batch item and returns false.
    function _fail(bool strict, uint256 dealId, uint256 index, address signer, bytes memory reason)
        private
        returns (bool)
    {
        if (strict) {
            // Re-throw the encoded custom error unchanged (the same as `revert Error(...)`).
// solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
        emit AttestationSkipped(dealId, index, signer, reason);
        return false;
    }

    function _storeDeal(
        address buyer,
        address supplier,
        uint32 arbiter,
        Policy calldata policy,
        MilestoneTerms[] calldata milestones,
        DealStatus status
    ) private returns (uint256 dealId) {
        // Two distinct, real parties.
        if (buyer == address(0) || supplier == address(0) || buyer == supplier) {
            revert InvalidParties(buyer, supplier);
        }
        uint256 count = milestones.length;
        if (count == 0 || count > MAX_MILESTONES) {
            revert MilestoneCountOutOfRange(count, MAX_MILESTONES);
        }
        uint32 operators = _operatorCount();
        // The arbiter must exist when the terms are agreed.
        if (arbiter == 0 || arbiter > operators) revert IOperatorRegistry.UnknownOperator(arbiter);
        // A holdback cannot exceed the milestone.
        if (policy.retentionBps > MAX_BPS) revert InvalidPolicy();
        bool hasPolicy = policy.examinationWindow != 0 || policy.rulingPeriod != 0
            || policy.warrantyPeriod != 0 || policy.retentionBps != 0;

        dealId = ++_dealCount;
        uint256 total;
        uint256[] memory packed = new uint256[](count);
        bytes32[] memory requirements = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            MilestoneTerms calldata t = milestones[i];
            _checkTerms(i, t, operators);
            total += t.amount;
            _storeTerms(dealId, i, t);
            packed[i] = _packTerms(t);
            requirements[i] = t.requirementsHash;
        }
        // The deal's total must fit the 96-bit accounting fields.
        if (total > type(uint96).max) revert TotalTooLarge();

        _deals[dealId] = Deal({
            supplier: supplier,
            status: status,
            milestoneCount: uint8(count),
            version: 1,
            arbiter: arbiter,
            flags: hasPolicy ? FLAG_POLICY : 0,
            buyer: buyer,
            unfunded: uint96(total)
        });
        emit DealCreated(
            dealId, buyer, supplier, arbiter, status, uint96(total), packed, requirements
        );
        if (hasPolicy) {
            _policies[dealId] = policy;
            emit DealPolicySet(dealId, policy);
        }
    }

    function _acceptOffer(DealOffer calldata offer, bytes calldata signature)
        private
        returns (uint256 dealId)
    {
        // Only the buyer named in the offer can take it up (and pay for it).
        if (msg.sender != offer.buyer) revert NotBuyer(0, msg.sender);
        // An offer is good until its deadline, inclusive.
        if (block.timestamp > offer.deadline) revert OfferExpired(offer.deadline);
        address supplier = offer.supplier;
        bytes32 digest = _hashTypedDataV4(TypedData.hashOffer(offer));
        // The supplier's own signature (or its contract wallet's approval) on these exact terms.
        if (!_isValidSignature(supplier, digest, signature)) revert InvalidSupplierSignature(supplier);
        _useOfferNonce(supplier, offer.nonce);
        dealId = _storeDeal(
            offer.buyer, supplier, offer.arbiter, offer.policy, offer.milestones, DealStatus.Accepted
        );
    }

    /// @dev A permit already consumed by someone who saw it in the mempool must not block the
    /// deposit: a failing permit is ignored and the transfer then checks the allowance.
    function _tryPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) private {
        // Both outcomes are fine: the deposit that follows is what checks the allowance.
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(address(TOKEN)).permit(msg.sender, address(this), amount, deadline, v, r, s) {}
            catch {} // solhint-disable-line no-empty-blocks
    }

    function _fund(uint256 dealId, uint256 amount) private returns (uint96) {
        Deal storage deal = _deals[dealId];
        DealStatus status = deal.status;
        if (status == DealStatus.None) revert UnknownDeal(dealId);
        // Only the buyer pays in: a deposit is the buyer's acceptance of the terms.
        if (msg.sender != deal.buyer) revert NotBuyer(dealId, msg.sender);
        // Funding needs the supplier's acceptance first, and stops once the deal is Active.
        if (status != DealStatus.Accepted) revert WrongDealStatus(dealId, status);
        return _deposit(dealId, deal, amount);
    }

    /// @dev Takes `amount` from the sender, the buyer of an Accepted deal (checked by the
    /// caller), and credits what arrived, up to what the deal still needs; anything beyond
    /// that goes straight back. A token that delivers less than it is asked for (a transfer
    /// fee) is met by asking for a little more than is owed: the deal still becomes Active,
    /// and the buyer loses only what the token takes.
    function _deposit(uint256 dealId, Deal storage deal, uint256 amount)
        private
        returns (uint96 credited)
    {
        if (amount == 0) revert ZeroFunding(dealId);
        uint96 unfunded = deal.unfunded;

        // The transfer comes before the effects on purpose: the credit is what actually
        // arrived (balance delta), known only afterwards. nonReentrant covers the gap.
        uint256 before = TOKEN.balanceOf(address(this));
        TOKEN.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = TOKEN.balanceOf(address(this)) - before;
        // More than was sent means the token's accounting cannot be trusted.
        if (received > amount) revert UnexpectedBalanceChange(amount, received);
        if (received == 0) revert ZeroFunding(dealId);
        uint256 excess;
        if (received > unfunded) {
            excess = received - unfunded;
            credited = unfunded;
        } else {
            // Safe: received <= unfunded, a uint96.
            credited = uint96(received);
        }
        uint96 remaining = unfunded - credited;
        deal.unfunded = remaining;
        if (remaining == 0) deal.status = DealStatus.Active;
        emit DealFunded(dealId, msg.sender, credited, remaining);
        // What the deal did not need goes straight back to the sender, in this transaction: if
        // the token refuses that transfer the whole deposit reverts (nothing to keep for later).
        if (excess != 0) TOKEN.safeTransfer(msg.sender, excess);
    }

    /// @dev The "met" verdict bit of `operatorId` in this milestone, or 0 if it is not one of
    /// its oracles. Operator 0 (an unknown or revoked key) never matches an unused slot.
    function _oracleBit(Milestone memory m, uint32 operatorId) private pure returns (uint8) {
        if (operatorId == 0) return 0;
        if (m.oracle0 == operatorId) return 1;
        if (m.oracle1 == operatorId) return 2;
        if (m.oracle2 == operatorId) return 4;
        return 0;
    }

    function _oracleCount(Milestone memory m) private pure returns (uint8) {
        return m.oracle1 == 0 ? 1 : (m.oracle2 == 0 ? 2 : 3);
    }
}
