// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IEscrowTypes} from "./interfaces/IEscrowTypes.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {OperatorStorage} from "./OperatorRegistry.sol";

/// @title The escrow's storage and the rules both of its halves apply
/// @dev MilestoneEscrow (the hot path) and EscrowExtension (the rest, reached by delegatecall
/// from the escrow's fallback) both inherit exactly this and add no storage of their own, so
/// they read and write the same slots. tests/contracts/test_layout.py compares the two
/// compilers' storage layouts. Every state variable of the escrow is declared here.
abstract contract EscrowBase is IEscrowTypes, OperatorStorage, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant MAX_MILESTONE_COUNT = 64;
    uint256 internal constant DEFAULT_RULING_SECONDS = 30 days;
    uint256 internal constant MAX_BPS = 10_000;
    /// @dev The gas a contract key's isValidSignature gets when it signs an attestation: a relayer
    /// pays for other people's signatures, so one bad item must cost it a bounded amount.
    uint256 internal constant ATTESTATION_1271_GAS = 50_000;

    /// @dev Deal.flags: a Policy is stored for the deal; its payouts were assigned.
    uint8 internal constant FLAG_POLICY = 1;
    uint8 internal constant FLAG_ASSIGNED = 2;

    /// @dev Milestone.verdicts bits 0-2 ("met" by oracle i) and 4-6 ("not met") are the
    /// oracles'; bit 3 marks a dispute over the holdback only, bit 7 one opened by the supplier.
    uint8 internal constant HOLDBACK_DISPUTE = 0x08;
    uint8 internal constant SUPPLIER_DISPUTE = 0x80;

    IERC20 internal immutable TOKEN;

    /// @dev Layout, two slots:
    ///   slot 0: supplier (20) | status (1) | milestoneCount (1) | version (2) | arbiter (4) |
    ///           flags (1)
    ///   slot 1: buyer (20) | unfunded (12)
    /// Slot 0 is all a release reads; slot 1 all that funding and refunds read.
    struct Deal {
        address supplier;
        DealStatus status;
        uint8 milestoneCount;
        uint16 version;
        uint32 arbiter;
        uint8 flags;
        address buyer;
        uint96 unfunded;
    }

    /// @dev Layout, one slot: amount (12) | dueAt (5) | status (1) | quorum (1) |
    /// verdicts (1) | oracle0 (4) | oracle1 (4) | oracle2 (4).
    /// `dueAt` is the deadline of the milestone's current stage: the due date while Pending or
    /// Rejected, the end of the examination window while Examining, the ruling deadline while
    /// Disputed, the end of the warranty while Retained.
    struct Milestone {
        uint96 amount;
        uint40 dueAt;
        MilestoneStatus status;
        uint8 quorum;
        uint8 verdicts;
        uint32 oracle0;
        uint32 oracle1;
        uint32 oracle2;
    }

    mapping(uint256 dealId => Deal) internal _deals;
    mapping(uint256 dealId => mapping(uint256 index => Milestone)) internal _milestones;
    /// @dev Unordered offer nonces: bit (nonce % 256) of word (nonce / 256) is set once used.
    mapping(address supplier => mapping(uint256 word => uint256 bits)) internal _offerNonces;
    /// @dev Only for deals with FLAG_POLICY: one slot.
    mapping(uint256 dealId => Policy) internal _policies;
    /// @dev Only for deals with FLAG_ASSIGNED.
    mapping(uint256 dealId => address) internal _payees;
    /// @dev Payouts whose transfer failed, for the account to withdraw.
    mapping(address account => uint256) internal _owed;
    /// @dev Each party's agreement nonce per deal: its signed cancellations and change orders
    /// count only while they name the current one; revokeAgreements moves it on.
    mapping(uint256 dealId => mapping(address party => uint32)) internal _agreementNonces;
    /// @dev The payee that agreed to a change order or cancellation, by its EIP-712 digest
    /// (which names the deal, this escrow and this chain).
    mapping(bytes32 digest => address payee) internal _payeeConsents;

    /// @dev EIP-712 domain: name "MilestoneEscrow", version "1", this chain, this contract
    /// (for the extension too: it runs in the escrow's context, where address(this) is the
    /// escrow's, so its domain separator is rebuilt for that address).
    constructor(IERC20 token_) EIP712("MilestoneEscrow", "1") {
        TOKEN = token_;
    }

    // ---------------------------------------------------------------- payouts

    /// @dev Where payouts to the supplier side go: the supplier, or whom it assigned them to.
    function _payee(uint256 dealId, Deal storage deal) internal view returns (address) {
        return deal.flags & FLAG_ASSIGNED == 0 ? deal.supplier : _payees[dealId];
    }

    /// @dev Push `amount` to `to`; if the transfer fails (a denylisted recipient, a paused
    /// token), keep it for `to` to withdraw, so that one recipient cannot block a deal.
    function _pay(address to, uint256 amount) internal {
        if (amount == 0) return;
        if (!TOKEN.trySafeTransfer(to, amount)) {
            _owed[to] += amount;
            emit PaymentDeferred(to, amount);
        }
    }

    /// @dev The quorum of milestone `index` is met: open its examination window, or release.
    function _quorumMet(uint256 dealId, uint256 index, Deal storage deal, Milestone storage slot)
        internal
    {
        if (deal.flags & FLAG_POLICY != 0) {
            uint256 window = _policies[dealId].examinationWindow;
            if (window != 0) {
                uint40 ends = uint40(block.timestamp + window);
                slot.status = MilestoneStatus.Examining;
                slot.dueAt = ends;
                emit ExaminationStarted(dealId, index, ends);
                return;
            }
        }
        _release(dealId, index, deal, slot);
    }

    /// @dev Pays a milestone to the payee: in full, or all but the holdback, which is then
    /// kept until the end of the warranty. State first, then the transfer.
    function _release(uint256 dealId, uint256 index, Deal storage deal, Milestone storage slot)
        internal
    {
        uint96 amount = slot.amount;
        uint96 holdback = deal.flags & FLAG_POLICY == 0 ? 0 : _holdback(dealId, amount);
        address to = _payee(dealId, deal);
        // Events in this order (released, then held) so that an indexer applying them in
        // turn ends with the milestone's status.
        emit MilestoneReleased(dealId, to, index, amount - holdback);
        if (holdback == 0) {
            slot.status = MilestoneStatus.Released;
        } else {
            uint40 ends = uint40(block.timestamp + _policies[dealId].warrantyPeriod);
            slot.status = MilestoneStatus.Retained;
            slot.dueAt = ends;
            emit RetentionHeld(dealId, index, holdback, ends);
        }
        _pay(to, amount - holdback);
    }

    /// @dev The holdback of a Retained milestone (its retention share, fixed for the deal).
    function _holdback(uint256 dealId, uint96 amount) internal view returns (uint96) {
        return uint96(uint256(amount) * _policies[dealId].retentionBps / MAX_BPS);
    }

    /// @dev What a Disputed milestone's dispute is about: the holdback, or the whole amount.
    function _disputed(uint256 dealId, Milestone storage slot) internal view returns (uint96) {
        uint96 amount = slot.amount;
        return slot.verdicts & HOLDBACK_DISPUTE != 0 ? _holdback(dealId, amount) : amount;
    }

    /// @dev What the escrow holds for one milestone (0 once it has been paid out): all of it
    /// until then, the disputed part of a dispute, the holdback of a Retained milestone.
    function _heldIn(uint256 dealId, Milestone storage slot) internal view returns (uint96) {
        MilestoneStatus s = slot.status;
        if (s == MilestoneStatus.Retained) return _holdback(dealId, slot.amount);
        if (s == MilestoneStatus.Disputed) return _disputed(dealId, slot);
        if (s == MilestoneStatus.Pending || s == MilestoneStatus.Rejected || s == MilestoneStatus.Examining) {
            return slot.amount;
        }
        return 0;
    }

    // ---------------------------------------------------------------- checks

    /// @dev As _isValidSignature, but a contract signer's isValidSignature gets exactly
    /// ATTESTATION_1271_GAS and no more, and only 32 bytes of its answer are read: whatever the
    /// signer does, checking it costs a bounded amount of gas.
    function _isValidSignatureBounded(address signer, bytes32 digest, bytes calldata signature)
        internal
        view
        returns (bool valid)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        if (signer.code.length == 0) return false;
        // The call must get its whole allowance (EIP-150 keeps back 1/64 of what is left), or a
        // relayer sending too little gas could have a good signature skipped as bad.
        uint256 needed = ATTESTATION_1271_GAS + ATTESTATION_1271_GAS / 63 + 2_000;
        if (gasleft() < needed) revert InsufficientGasForSignatureCheck(needed, gasleft());
        bytes memory query = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bytes32 answer;
        bool ok;
        uint256 size;
        // A staticcall with a gas limit that copies at most one word back (no return bomb).
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0, 0)
            ok := staticcall(ATTESTATION_1271_GAS, signer, add(query, 0x20), mload(query), 0, 0x20)
            size := returndatasize()
            answer := mload(0)
        }
        valid = ok && size >= 32 && answer == bytes32(IERC1271.isValidSignature.selector);
    }

    /// @dev ECDSA first (no malleable high-s signatures), then EIP-1271 for contract signers.
    /// Checking ECDSA before the signer's code saves a cold account access for EOAs.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature)
        internal
        view
        returns (bool)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    function _useOfferNonce(address supplier, uint256 nonce) internal {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _offerNonces[supplier][nonce >> 8];
        // Each offer nonce is spent once, by acceptance or by cancellation.
        if (word & bit != 0) revert OfferNonceUsed(supplier, nonce);
        _offerNonces[supplier][nonce >> 8] = word | bit;
    }

    function _checkTerms(uint256 index, MilestoneTerms calldata t, uint32 operators) internal view {
        if (t.amount == 0) revert ZeroAmount(index);
        // A due date in the past would make the milestone refundable at once.
        if (t.dueAt <= block.timestamp) revert DueDateNotInFuture(index, t.dueAt);
        uint32 a = t.oracles[0];
        uint32 b = t.oracles[1];
        uint32 c = t.oracles[2];
        // Oracles are packed to the front, distinct, and registered.
        if (a == 0 || (b == 0 && c != 0) || a == b || a == c || (b != 0 && b == c)) {
            revert InvalidOracleList(index);
        }
        if (a > operators) revert IOperatorRegistry.UnknownOperator(a);
        if (b > operators) revert IOperatorRegistry.UnknownOperator(b);
        if (c > operators) revert IOperatorRegistry.UnknownOperator(c);
        uint256 oracleCount = b == 0 ? 1 : (c == 0 ? 2 : 3);
        // At least one attestation, and no more than there are oracles to give them.
        if (t.quorum == 0 || t.quorum > oracleCount) {
            revert InvalidQuorum(index, t.quorum, oracleCount);
        }
    }

    /// @dev Milestone `index` with terms `t`: Pending, no verdicts (a new one, or an edited one
    /// whose old verdicts spoke to other terms).
    function _storeTerms(uint256 dealId, uint256 index, MilestoneTerms calldata t) internal {
        _milestones[dealId][index] = Milestone({
            amount: t.amount,
            dueAt: t.dueAt,
            status: MilestoneStatus.Pending,
            quorum: t.quorum,
            verdicts: 0,
            oracle0: t.oracles[0],
            oracle1: t.oracles[1],
            oracle2: t.oracles[2]
        });
    }

    /// @dev A milestone's terms in one word, as DealCreated and MilestoneAmended carry them.
    function _packTerms(MilestoneTerms calldata t) internal pure returns (uint256) {
        return uint256(t.amount) | (uint256(t.dueAt) << 96) | (uint256(t.quorum) << 136)
            | (uint256(t.oracles[0]) << 144) | (uint256(t.oracles[1]) << 176)
            | (uint256(t.oracles[2]) << 208);
    }

    function _requireStatus(Deal storage deal, uint256 dealId, DealStatus expected) internal view {
        DealStatus status = deal.status;
        if (status == expected) return;
        if (status == DealStatus.None) revert UnknownDeal(dealId);
        revert WrongDealStatus(dealId, status);
    }

    /// @dev The milestone of an Active deal, which must be in `expected` status.
    function _open(uint256 dealId, uint256 index, MilestoneStatus expected)
        internal
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

    function _popcount(uint8 mask) internal pure returns (uint8) {
        return (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);
    }

    /// @dev The sum of the deal's milestones, in 256 bits: a change order's new total is
    /// checked against the 96-bit fields (TotalTooLarge) before it is stored.
    function _total(uint256 dealId, uint256 count) internal view returns (uint256 total) {
        for (uint256 i; i < count; ++i) {
            total += _milestones[dealId][i].amount;
        }
    }
}
