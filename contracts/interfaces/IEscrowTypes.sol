// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title The escrow's types, events and errors, shared by its two halves
/// ({IMilestoneEscrow}: the hot path; {IEscrowExtension}: the rest of the lifecycle). Clients
/// use {IEscrow}, which is both at one address.
interface IEscrowTypes {
    enum DealStatus {
        None,
        Proposed,
        Accepted,
        Active,
        Cancelled
    }

    /// @dev New values go at the end: clients decode these numbers.
    enum MilestoneStatus {
        None,
        Pending, // awaiting its oracles' verdicts; refundable after dueAt
        Released, // paid to the payee in full
        Refunded, // paid back to the buyer in full
        Rejected, // its oracles put the quorum out of reach; refundable after dueAt
        Examining, // quorum met; the buyer may dispute until dueAt, then anyone releases
        Disputed, // the arbiter rules by dueAt, else the default applies
        Retained, // released but for the holdback, which is paid after dueAt (the warranty)
        Settled, // divided between payee and buyer (ruling, default, or cancellation)
        Removed // taken out by a change order
    }

    /// @notice Optional terms of a deal beyond its milestones. All zero: release on quorum,
    /// disputes ruled within DEFAULT_RULING_PERIOD, no retention.
    /// @param examinationWindow Seconds after a milestone's quorum during which the buyer may
    /// dispute it; silence releases it. 0: released on quorum.
    /// @param rulingPeriod Seconds the arbiter has to rule on a dispute (0: the default).
    /// @param warrantyPeriod Seconds the holdback is kept after release.
    /// @param retentionBps Share of each milestone held back after release, in basis points.
    struct Policy {
        uint32 examinationWindow;
        uint32 rulingPeriod;
        uint32 warrantyPeriod;
        uint16 retentionBps;
    }

    /// @notice The terms of one milestone, as given to {createDeal}.
    /// @param amount Token amount paid on release (token units, with the token's decimals).
    /// @param dueAt Unix time after which the buyer may take an unpaid milestone back.
    /// @param quorum How many of `oracles` must attest before release (1..number of oracles).
    /// @param oracles Operator ids allowed to attest, packed to the front; 0 marks an unused slot.
    /// @param requirementsHash sha256 of the evidence-requirements document (what the oracles
    /// must see before attesting); it is anchored in {DealCreated}, not stored.
    struct MilestoneTerms {
        uint96 amount;
        uint40 dueAt;
        uint8 quorum;
        uint32[3] oracles;
        bytes32 requirementsHash;
    }

    /// @notice A deal offered by its supplier off chain (EIP-712 typed data `DealOffer`, see
    /// docs/typed-data.md), accepted and funded by its buyer in one transaction.
    /// @param nonce Any unused number of the supplier's (unordered, like Permit2): each offer
    /// can be accepted once, and the supplier can withdraw it with {cancelOffer}.
    /// @param deadline Unix time after which the offer can no longer be accepted.
    struct DealOffer {
        address buyer;
        address supplier;
        uint32 arbiter;
        Policy policy;
        MilestoneTerms[] milestones;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice An oracle's verdict on one milestone, signed off chain (EIP-712 `Attestation`,
    /// see docs/attestations.md) and submitted by anyone.
    /// @param dealVersion The deal's version the oracle saw; an amended deal needs a new one.
    /// @param met true: the milestone is met; false: it is not (with the evidence of why).
    /// @param deadline Unix time after which the signature can no longer be submitted.
    struct Attestation {
        uint256 dealId;
        uint256 milestone;
        uint16 dealVersion;
        bool met;
        bytes32 evidenceHash;
        uint256 deadline;
    }

    /// @notice An attestation with its signer (an operator key: EOA or EIP-1271 contract) and
    /// signature (65-byte ECDSA with low s, or whatever the contract key accepts).
    struct SignedAttestation {
        Attestation attestation;
        address signer;
        bytes signature;
    }

    /// @notice Both parties agree to end an Active deal (EIP-712 `Cancellation`): the escrow
    /// still holds exactly `toSupplier + toBuyer` for it, `toSupplier` goes to the payee and
    /// `toBuyer` to the buyer. The party who submits it signs by sending the transaction; the
    /// other signs this. Both amounts are fixed at signing: if anything is paid out of the deal
    /// before the cancellation is applied, what is held no longer matches and it is refused
    /// (HeldAmountChanged), so nobody gets more than the signer saw.
    /// @param nonce The signer's agreement nonce for the deal ({agreementNonce}); the signer
    /// revokes every outstanding signature of its own for the deal with {revokeAgreements}.
    struct Cancellation {
        uint256 dealId;
        uint16 dealVersion;
        uint96 toSupplier;
        uint96 toBuyer;
        uint32 nonce;
        uint256 deadline;
    }

    enum ChangeAction {
        Edit, // new terms for an open milestone (Pending or Rejected); its verdicts start over
        Add, // a new milestone, appended: `index` must be the deal's milestone count
        Remove // an open milestone taken out; its amount goes back to the buyer
    }

    /// @notice One change of a change order. `terms` is ignored for Remove (sign zeros).
    struct MilestoneChange {
        uint8 index;
        ChangeAction action;
        MilestoneTerms terms;
    }

    /// @notice A change order both parties agree to (EIP-712 `Amendment`): the submitter by
    /// sending it, the other by signing it. Applies to the deal at `dealVersion` only, and
    /// moves it to the next version: signed attestations of the old version become stale.
    /// @param nonce The signer's agreement nonce for the deal, as in {Cancellation}.
    struct Amendment {
        uint256 dealId;
        uint16 dealVersion;
        MilestoneChange[] changes;
        uint32 nonce;
        uint256 deadline;
    }

    struct DealView {
        address buyer;
        address supplier;
        uint32 arbiter;
        DealStatus status;
        uint16 version;
        uint8 milestoneCount;
        uint96 total;
        uint96 unfunded;
        address payee; // where payouts to the supplier side go (see assignPayments)
    }

    struct MilestoneView {
        uint96 amount;
        uint40 dueAt;
        MilestoneStatus status;
        uint8 quorum;
        uint8 attestations;
        uint8 rejections;
        uint32[3] oracles;
        bool[3] attested;
        bool[3] rejected;
    }

    /// @notice A deal was created, in `status` Proposed (awaiting the supplier) or Accepted (by
    /// the supplier, as creator or as signer of the offer). The event carries every term, so an
    /// indexer needs no further call: `milestones[i]` packs milestone i's terms into one word,
    /// from the least significant bit: amount (96 bits) | dueAt (40) | quorum (8) | oracles[0]
    /// (32) | oracles[1] (32) | oracles[2] (32); `requirements[i]` is its requirementsHash.
    event DealCreated(
        uint256 indexed dealId,
        address indexed buyer,
        address indexed supplier,
        uint32 arbiter,
        DealStatus status,
        uint96 total,
        uint256[] milestones,
        bytes32[] requirements
    );
    /// @notice The supplier accepted a deal its buyer proposed.
    event DealAccepted(uint256 indexed dealId, address indexed by);
    /// @notice The supplier withdrew an unaccepted offer.
    event OfferCancelled(address indexed supplier, uint256 nonce);
    /// @notice `credited` tokens (measured by balance change) were added to the deal;
    /// `remaining == 0` means the deal is fully funded and now Active.
    event DealFunded(uint256 indexed dealId, address indexed from, uint96 credited, uint96 remaining);
    /// @notice The deal was called off before it became Active; `refunded` went back to the buyer.
    event DealCancelled(uint256 indexed dealId, address indexed by, uint96 refunded);
    /// @notice A change order moved the deal to `version`. The escrow took `added` more from
    /// the buyer, or gave `removed` back, whichever is larger by the difference; `total` is
    /// the deal's new total. Each change has its own MilestoneAmended.
    event DealAmended(uint256 indexed dealId, uint16 version, uint96 added, uint96 removed, uint96 total);
    /// @notice Milestone `index` was edited, added or removed by a change order; `terms` packs
    /// the new terms as DealCreated does (0 for a removal).
    event MilestoneAmended(
        uint256 indexed dealId, uint256 index, ChangeAction action, uint256 terms, bytes32 requirementsHash
    );
    /// @notice The deal's optional terms (emitted at creation when any is set).
    event DealPolicySet(uint256 indexed dealId, Policy policy);
    /// @notice Both parties ended the deal: of the `held` tokens, `toSupplier` went to the
    /// payee and the rest to the buyer; every open milestone is now Settled.
    event DealCancelledByAgreement(uint256 indexed dealId, uint96 held, uint96 toSupplier);
    /// @notice From now on the deal's payouts to the supplier go to `to` (a receivable assigned,
    /// e.g. to a financier), by `from`, the payee until now.
    event PaymentsAssigned(uint256 indexed dealId, address indexed from, address indexed to);
    /// @notice Operator `operatorId`, signing with `signer`, attested that milestone `index` is
    /// met, with the sha256 of its evidence document.
    event MilestoneAttested(
        uint256 indexed dealId,
        uint32 indexed operatorId,
        uint256 index,
        address signer,
        bytes32 evidenceHash
    );
    /// @notice Operator `operatorId` found milestone `index` not met, with the sha256 of its
    /// evidence; `blocked` is true when this verdict put the quorum out of reach (Rejected).
    event MilestoneRejected(
        uint256 indexed dealId,
        uint32 indexed operatorId,
        uint256 index,
        address signer,
        bytes32 evidenceHash,
        bool blocked
    );
    /// @notice A batched attestation was not applied; `reason` is the custom error it would have
    /// reverted with (e.g. AlreadyAttested, AttestationExpired). Only {submitAttestations}.
    event AttestationSkipped(
        uint256 indexed dealId, uint256 milestone, address indexed signer, bytes reason
    );
    /// @notice `amount` of milestone `index` went to the payee `to` (in full, or all but the
    /// holdback when the deal has retention).
    event MilestoneReleased(uint256 indexed dealId, address indexed to, uint256 index, uint96 amount);
    event MilestoneRefunded(uint256 indexed dealId, address indexed to, uint256 index, uint96 amount);
    /// @notice The milestone's quorum is met; the buyer may dispute it until `examinationEnds`.
    event ExaminationStarted(uint256 indexed dealId, uint256 index, uint40 examinationEnds);
    /// @notice `amount` of the milestone is held back until `warrantyEnds`.
    event RetentionHeld(uint256 indexed dealId, uint256 index, uint96 amount, uint40 warrantyEnds);
    /// @notice A dispute over `amount` of milestone `index`, opened by a party; the arbiter has
    /// until `rulingDeadline`.
    event DisputeOpened(
        uint256 indexed dealId, uint256 index, address indexed by, uint96 amount, uint40 rulingDeadline
    );
    /// @notice The dispute ended: by the arbiter's ruling (`byDefault` false, `by` its key) or
    /// by the documented default after the ruling deadline. `toSupplier` went to the payee,
    /// `toBuyer` to the buyer.
    event DisputeSettled(
        uint256 indexed dealId,
        uint256 index,
        address indexed by,
        bool byDefault,
        uint96 toSupplier,
        uint96 toBuyer
    );
    /// @notice `party` revoked every cancellation and change order it had signed for the deal;
    /// from now on only signatures over `nonce` count.
    event AgreementsRevoked(uint256 indexed dealId, address indexed party, uint32 nonce);
    /// @notice The deal's payee (a financier it was assigned to) agreed (`consented` true) or
    /// withdrew its agreement to the change order or cancellation whose EIP-712 digest is
    /// `digest`.
    event PayeeConsentSet(uint256 indexed dealId, address indexed payee, bytes32 digest, bool consented);
    /// @notice A transfer to `account` failed (e.g. a token's denylist); the amount is kept for
    /// it to {withdraw} instead of blocking the deal.
    event PaymentDeferred(address indexed account, uint256 amount);
    /// @notice `account` withdrew its deferred payments to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice No deal has this id (ids run from 1 to {dealCount}). Check the id.
    error UnknownDeal(uint256 dealId);
    /// @notice The buyer or the supplier is the zero address, or they are the same address. Name
    /// two distinct parties.
    error InvalidParties(address buyer, address supplier);
    /// @notice Only the deal's buyer or supplier (for disputes: or the payee its payouts are
    /// assigned to) may do this; `dealId` is 0 when creating. Send from a party's account.
    error NotDealParty(uint256 dealId, address caller);
    /// @notice Only the deal's buyer may do this (fund, refund, waive an examination, pay in a
    /// change order's increase, accept an offer made to it). Send from the buyer's account.
    error NotBuyer(uint256 dealId, address caller);
    /// @notice The party that proposed the deal cannot also accept it: the other party accepts.
    error CreatorCannotAccept(uint256 dealId, address caller);
    /// @notice The deal is not in a status that allows this (e.g. funding an Active deal, attesting
    /// before it is funded). Read {getDeal} and act on its current status.
    error WrongDealStatus(uint256 dealId, DealStatus status);
    /// @notice A deal has 1 to `max` (64) milestones. Split a larger order into several deals.
    error MilestoneCountOutOfRange(uint256 count, uint256 max);
    /// @notice Milestone `index` has a zero amount. Give it an amount, or leave it out (Remove it
    /// in a change order).
    error ZeroAmount(uint256 index);
    /// @notice The deal's total would not fit the escrow's 96-bit amounts (about 7.9e28 base
    /// units). Use smaller amounts or several deals.
    error TotalTooLarge();
    /// @notice Milestone `index` is due at or before the current block's time: it would be
    /// refundable at once. Pick a later due date.
    error DueDateNotInFuture(uint256 index, uint256 dueAt);
    /// @notice Milestone `index` needs a quorum from 1 to its number of oracles. Fix the quorum or
    /// the oracle list.
    error InvalidQuorum(uint256 index, uint256 quorum, uint256 oracleCount);
    /// @notice Milestone `index`'s oracles are not 1 to 3 distinct operator ids packed to the front
    /// (0 marks an unused slot). Fix the list.
    error InvalidOracleList(uint256 index);
    /// @notice The deal has no milestone `index`. Check the index against the deal's milestone
    /// count.
    error UnknownMilestone(uint256 dealId, uint256 index);
    /// @notice The milestone is no longer open to verdicts or to a refund (it is `status`). Nothing
    /// to do: read {getMilestone}.
    error MilestoneNotPending(uint256 dealId, uint256 index, MilestoneStatus status);
    /// @notice `signer` is not a live key of one of the milestone's oracles (unknown, revoked, or
    /// another operator's). Sign with a live key of a named oracle.
    error NotMilestoneOracle(uint256 dealId, uint256 index, address signer);
    /// @notice Operator `operatorId` has already given its verdict on this milestone; each oracle
    /// speaks once. Nothing to do.
    error AlreadyAttested(uint256 dealId, uint256 index, uint32 operatorId);
    /// @notice The milestone's due date (`dueAt`) has not passed: the buyer cannot refund it, nor
    /// the supplier dispute its silence, yet. Wait until after `dueAt`.
    error MilestoneNotDue(uint256 dealId, uint256 index, uint256 dueAt);
    /// @notice A deposit of nothing: the amount was 0, or the token delivered nothing. Send a
    /// positive amount the token actually transfers.
    error ZeroFunding(uint256 dealId);
    /// @notice The escrow's balance grew by more than it asked the token for: the token's
    /// accounting cannot be trusted, and the deposit is refused.
    error UnexpectedBalanceChange(uint256 requested, uint256 received);
    /// @notice The signed offer's deadline has passed. Ask the supplier for a new offer.
    error OfferExpired(uint256 deadline);
    /// @notice The signed attestation's deadline has passed. Ask the oracle to sign it again.
    error AttestationExpired(uint256 deadline);
    /// @notice The signature is not `signer`'s over this attestation, for this escrow and chain (or
    /// its contract key refused it). Check the typed data and the key.
    error InvalidAttestationSignature(address signer);
    /// @notice The attestation speaks to an older version of the deal (a change order was applied
    /// since). The oracle signs again for `currentVersion`.
    error StaleAttestation(uint256 dealId, uint256 signedVersion, uint256 currentVersion);
    /// @notice The supplier's offer nonce was spent: that offer was accepted or withdrawn. Ask for
    /// a new offer with another nonce.
    error OfferNonceUsed(address supplier, uint256 nonce);
    /// @notice The offer is not signed by its supplier (or by its contract wallet), for these exact
    /// terms, this escrow and chain. Ask the supplier to sign it.
    error InvalidSupplierSignature(address supplier);
    /// @notice The policy's retention is above 10,000 basis points (100%). Fix the policy.
    error InvalidPolicy();
    /// @notice Change number `position` of the change order adds a milestone out of order (its
    /// index must be the deal's milestone count at that point) or past the 64-milestone limit.
    error InvalidChange(uint256 position);
    /// @notice A change order's increase must arrive whole, and the token delivered less than
    /// `expected` (a fee-taking token). Such a change order cannot be applied in that token.
    error TopUpShort(uint256 expected, uint256 received);
    /// @notice Only the deal's current payee (the supplier, or whom it assigned its payouts to) may
    /// do this. Send from the payee's account.
    error NotPayee(uint256 dealId, address caller);
    /// @notice Payouts cannot be assigned to the zero address or to the escrow itself. Name another
    /// address.
    error InvalidPayee();
    /// @notice The milestone is `status`, which does not allow this (e.g. a change order on a paid
    /// milestone, a release before its examination). Read {getMilestone} and act on its status.
    error WrongMilestoneStatus(uint256 dealId, uint256 index, MilestoneStatus status);
    /// @notice Only a live key of the deal's arbiter operator may rule. Send from that key.
    error NotArbiter(uint256 dealId, address caller);
    /// @notice Too late: the deadline (of a signature, an examination window, a warranty or a
    /// ruling) was `deadline`. Get a new signature, or use what applies after it.
    error DeadlinePassed(uint256 deadline);
    /// @notice Too early: this applies only after `deadline` (the end of an examination window, a
    /// warranty or a ruling period). Wait until then.
    error DeadlineNotPassed(uint256 deadline);
    /// @notice The arbiter's `toSupplier` is more than the disputed `amount`. Rule at most
    /// `amount`.
    error SplitTooLarge(uint256 toSupplier, uint256 amount);
    /// @notice The change order or cancellation is not signed by the other party (`signer`), for
    /// this escrow and chain. The submitter cannot sign for both sides.
    error InvalidCounterpartySignature(address signer);
    /// @notice The change order or cancellation was signed for an older version of the deal. Sign
    /// again for `currentVersion`.
    error StaleDealVersion(uint256 dealId, uint256 signedVersion, uint256 currentVersion);
    /// @notice `account` is owed nothing: no payout to it was ever deferred, or it withdrew
    /// already.
    error NothingToWithdraw(address account);
    /// @notice {withdraw} to the zero address or to the escrow itself, where the tokens would
    /// be lost for good. Name another address.
    error InvalidRecipient(address to);
    /// @notice A cancellation splits `signed` (toSupplier + toBuyer) but the deal now holds
    /// `held`: something was paid out since it was signed. Sign a new one over what is held.
    error HeldAmountChanged(uint256 dealId, uint256 signed, uint256 held);
    /// @notice The signer revoked its signatures for the deal ({revokeAgreements}) after signing
    /// this one: it was signed over `signedNonce`, the signer's nonce is now `currentNonce`.
    error AgreementRevoked(uint256 dealId, address signer, uint256 signedNonce, uint256 currentNonce);
    /// @notice The deal's payouts are assigned to `payee`, and this change order or cancellation
    /// would reduce what the payee receives: the payee must first agree to `digest` with
    /// {consentAsPayee}.
    error PayeeConsentMissing(uint256 dealId, address payee, bytes32 digest);
    /// @notice Too little gas left to give a contract signer's isValidSignature its full
    /// allowance (`needed`); resend the transaction with more gas.
    error InsufficientGasForSignatureCheck(uint256 needed, uint256 left);
    /// @notice The deal has had 65,535 versions, the most a signed `dealVersion` can name: it
    /// takes no more change orders. Cancel it by agreement and start a new deal.
    error VersionLimitReached(uint256 dealId);
}
