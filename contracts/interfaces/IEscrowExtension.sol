// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IEscrowTypes} from "./IEscrowTypes.sol";
import {IOperatorRegistry} from "./IOperatorRegistry.sol";

/// @title Milestone escrow: the rest of the lifecycle
/// @notice Answered at the escrow's own address (the escrow delegates what it does not
/// implement to an immutable extension contract fixed at its deployment): operators, offer
/// and deal housekeeping, examination windows, per-milestone disputes, retention,
/// receivables, deferred payments and cancellation by agreement.
/// @dev Grouped by concept, each section naming the file that implements it; the operator
/// registry's functions are {IOperatorRegistry} (contracts/OperatorRegistry.sol and
/// contracts/extension/Operators.sol). docs/contracts.md maps every concept to its files.
interface IEscrowExtension is IEscrowTypes, IOperatorRegistry {
    // ---------------------------------------- agreements (extension/Agreements.sol)

    /// @notice Accept a Proposed deal. Only the party that did not create it.
    function acceptDeal(uint256 dealId) external;

    /// @notice Withdraw an offer the caller signed as supplier, before it is accepted.
    function cancelOffer(uint256 nonce) external;

    /// @notice The deal's optional terms (all zero when none were set).
    function getPolicy(uint256 dealId) external view returns (Policy memory);

    /// @notice Revoke every cancellation and change order the caller (buyer or supplier) has
    /// signed for the deal and not seen applied: its agreement nonce moves on by one.
    function revokeAgreements(uint256 dealId) external;

    /// @notice The nonce `party`'s next signed cancellation or change order for the deal must
    /// name (0 until it first revokes).
    function agreementNonce(uint256 dealId, address party) external view returns (uint32);

    /// @notice The deal's payee (whom its payouts are assigned to) agrees (`consented` true) to
    /// the change order or cancellation with EIP-712 digest `digest` ({hashAmendment},
    /// {hashCancellation}), or withdraws that agreement. Only the current payee.
    function consentAsPayee(uint256 dealId, bytes32 digest, bool consented) external;

    /// @notice The payee that agreed to `digest`, or the zero address.
    function payeeConsented(bytes32 digest) external view returns (address);

    // ---------------------------------------- cancellation (extension/Cancellations.sol)

    /// @notice Call off a deal that is not Active yet; any deposit goes back to the buyer.
    /// Either party.
    function cancelDeal(uint256 dealId) external;

    /// @notice End an Active deal by agreement of both parties: the caller is one party, the
    /// other signed `cancellation` (EIP-712 `Cancellation`, docs/typed-data.md) over its
    /// current agreement nonce. The escrow must still hold exactly `toSupplier + toBuyer` for
    /// the deal (else HeldAmountChanged): `toSupplier` goes to the payee, `toBuyer` to the
    /// buyer. With assigned payouts, a split that gives the payee less than everything held
    /// needs the payee's {consentAsPayee} to this cancellation's digest.
    function cancelByAgreement(Cancellation calldata cancellation, bytes calldata signature) external;

    /// @notice What the escrow holds for an Active deal (0 otherwise): what a cancellation
    /// splits into `toSupplier + toBuyer`.
    function heldFor(uint256 dealId) external view returns (uint96);

    /// @notice The EIP-712 digest a party signs for `cancellation`.
    function hashCancellation(Cancellation calldata cancellation) external view returns (bytes32);

    // ---------------------------------------- change orders (extension/ChangeOrders.sol)

    /// @notice Apply a change order both parties agreed to: the caller is one party, the other
    /// signed `amendment` (EIP-712 `Amendment`, docs/typed-data.md). Open milestones (Pending
    /// or Rejected) can be edited or removed, new ones appended; the deal's version goes up by
    /// one. The funding follows in the same transaction: the buyer gets a decrease back, or
    /// pays in an increase from its own transaction (so a change order that costs more is
    /// signed by the supplier and sent by the buyer, with an allowance in place). A deadline
    /// extension is an Edit that only moves `dueAt`. The signature names the signer's current
    /// agreement nonce ({revokeAgreements}). With assigned payouts, a change order that edits
    /// or removes a milestone needs the payee's {consentAsPayee} to its digest.
    function amend(Amendment calldata amendment, bytes calldata signature) external;

    /// @notice The EIP-712 digest a party signs for `amendment`.
    function hashAmendment(Amendment calldata amendment) external view returns (bytes32);

    // ---------------------------------------- disputes (extension/Disputes.sol)

    /// @notice Open a dispute on one milestone; the other milestones keep running. The buyer
    /// may dispute a milestone under examination (the whole amount) or a holdback during its
    /// warranty (the holdback); the supplier side (the supplier, or the payee its payouts are
    /// assigned to) a milestone its oracles rejected, or one still unattested after its due
    /// date (the whole amount). The arbiter then has the deal's
    /// ruling period to {rule}; if it does not, {settleDispute} applies the default: the
    /// outcome the milestone had without the dispute (a buyer's dispute: released; a
    /// supplier's: refunded).
    function openDispute(uint256 dealId, uint256 index) external;

    /// @notice The arbiter (a live key of the deal's arbiter operator) splits the disputed
    /// amount: `toSupplier` to the payee, the rest to the buyer. Before the ruling deadline.
    function rule(uint256 dealId, uint256 index, uint96 toSupplier) external;

    /// @notice After the ruling deadline without a ruling: apply the default. Anyone.
    function settleDispute(uint256 dealId, uint256 index) external;

    /// @notice The ruling period applied when a deal sets none.
    function DEFAULT_RULING_PERIOD() external view returns (uint256);

    // ---------------------------------------- payouts and receivables (extension/Payouts.sol)

    /// @notice Assign the deal's future payouts to the supplier side to `to` (e.g. a
    /// financier). Only the current payee (the supplier, until it assigns), and only once the
    /// deal is Active. From then on a change order that edits or removes a milestone, or a
    /// cancellation that gives the supplier side less than everything held, applies only
    /// with the payee's agreement ({consentAsPayee}); and the payee may open the supplier
    /// side's disputes.
    function assignPayments(uint256 dealId, address to) external;

    /// @notice Where the deal's payouts to the supplier side go.
    function payeeOf(uint256 dealId) external view returns (address);

    /// @notice Send the caller's deferred payments (transfers to it that failed) to `to` (not
    /// the zero address, not the escrow).
    function withdraw(address to) external returns (uint256 amount);

    /// @notice Deferred payments waiting for `account` to {withdraw}.
    function owed(address account) external view returns (uint256);

    // ---------------------------------------- examination and retention (extension/Retention.sol)

    /// @notice Release a milestone whose examination window has passed without a dispute.
    /// Anyone.
    function release(uint256 dealId, uint256 index) external;

    /// @notice The buyer accepts a milestone under examination without waiting for the window
    /// to pass: it is released now.
    function waiveExamination(uint256 dealId, uint256 index) external;

    /// @notice Pay out a milestone's holdback once its warranty period has passed without a
    /// dispute. Anyone.
    function releaseRetention(uint256 dealId, uint256 index) external;
}
