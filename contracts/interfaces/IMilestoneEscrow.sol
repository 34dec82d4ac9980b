// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IOperatorRegistry} from "./IOperatorRegistry.sol";

/// @title Milestone escrow for B2B trade
/// @notice A buyer locks an ERC-20 amount for a deal split into milestones; each milestone is
/// paid to the supplier once the oracles named for it (registered operators) have attested it,
/// and can be taken back by the buyer once its due date has passed unpaid.
///
/// Deal lifecycle:
///   createDeal ──► Proposed ──acceptDeal (counterparty)──► Accepted ──fund (in full)──► Active
///   (a deal created by its supplier starts Accepted: funding is the buyer's acceptance)
///   Proposed / Accepted ──cancelDeal (either party)──► Cancelled (deposits back to the buyer)
/// Milestone lifecycle (deal Active):
///   Pending ──"met" × quorum──► Released (paid to the supplier)
///   Pending ──"not met" from enough oracles that the quorum is out of reach──► Rejected
///   Pending / Rejected ──refund (buyer, after dueAt)──► Refunded (paid back to the buyer)
/// Verdicts come from a live key of one of the milestone's oracles, either sent directly
/// ({attest}, {reject}) or signed off chain (EIP-712 `Attestation`) and relayed by anyone.
interface IMilestoneEscrow is IOperatorRegistry {
    enum DealStatus {
        None,
        Proposed,
        Accepted,
        Active,
        Cancelled
    }

    enum MilestoneStatus {
        None,
        Pending,
        Released,
        Refunded,
        Rejected
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

    struct DealView {
        address buyer;
        address supplier;
        uint32 arbiter;
        DealStatus status;
        uint16 version;
        uint8 milestoneCount;
        uint96 total;
        uint96 unfunded;
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
    event MilestoneReleased(uint256 indexed dealId, address indexed to, uint256 index, uint96 amount);
    event MilestoneRefunded(uint256 indexed dealId, address indexed to, uint256 index, uint96 amount);

    error UnknownDeal(uint256 dealId);
    error InvalidParties(address buyer, address supplier);
    error NotDealParty(uint256 dealId, address caller);
    error NotBuyer(uint256 dealId, address caller);
    error CreatorCannotAccept(uint256 dealId, address caller);
    error WrongDealStatus(uint256 dealId, DealStatus status);
    error MilestoneCountOutOfRange(uint256 count, uint256 max);
    error ZeroAmount(uint256 index);
    error TotalTooLarge();
    error DueDateNotInFuture(uint256 index, uint256 dueAt);
    error InvalidQuorum(uint256 index, uint256 quorum, uint256 oracleCount);
    error InvalidOracleList(uint256 index);
    error UnknownMilestone(uint256 dealId, uint256 index);
    error MilestoneNotPending(uint256 dealId, uint256 index, MilestoneStatus status);
    error NotMilestoneOracle(uint256 dealId, uint256 index, address signer);
    error AlreadyAttested(uint256 dealId, uint256 index, uint32 operatorId);
    error MilestoneNotDue(uint256 dealId, uint256 index, uint256 dueAt);
    error ZeroFunding(uint256 dealId);
    error UnexpectedBalanceChange(uint256 requested, uint256 received);
    error OfferExpired(uint256 deadline);
    error AttestationExpired(uint256 deadline);
    error InvalidAttestationSignature(address signer);
    error StaleAttestation(uint256 dealId, uint256 signedVersion, uint256 currentVersion);
    error OfferNonceUsed(address supplier, uint256 nonce);
    error InvalidSupplierSignature(address supplier);

    /// @notice The token every deal of this escrow is denominated in.
    function token() external view returns (IERC20);

    /// @notice Most milestones a deal may have.
    function MAX_MILESTONES() external view returns (uint256);

    /// @notice Number of deals created; ids run from 1 to this number.
    function dealCount() external view returns (uint256);

    /// @notice Propose a deal. The caller must be its buyer or its supplier; a supplier's
    /// proposal counts as the supplier's acceptance, so the deal starts Accepted.
    /// @param arbiter Operator id of the arbiter who will rule on disputes.
    function createDeal(
        address buyer,
        address supplier,
        uint32 arbiter,
        MilestoneTerms[] calldata milestones
    ) external returns (uint256 dealId);

    /// @notice Create a deal from an offer signed by its supplier, and fund it with up to
    /// `fundAmount` in the same transaction (0: fund later with {fund}). Buyer only.
    /// @param supplierSignature The supplier's EIP-712 signature of `offer` (65-byte ECDSA with
    /// low s, or any EIP-1271 signature when the supplier is a contract).
    function acceptOffer(DealOffer calldata offer, bytes calldata supplierSignature, uint256 fundAmount)
        external
        returns (uint256 dealId);

    /// @notice {acceptOffer} with an EIP-2612 permit for `fundAmount`.
    function acceptOfferWithPermit(
        DealOffer calldata offer,
        bytes calldata supplierSignature,
        uint256 fundAmount,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 dealId);

    /// @notice Withdraw an offer the caller signed as supplier, before it is accepted.
    function cancelOffer(uint256 nonce) external;

    /// @notice Whether `supplier`'s offer nonce has been used (accepted or cancelled).
    function offerNonceUsed(address supplier, uint256 nonce) external view returns (bool);

    /// @notice The EIP-712 digest a supplier signs for `offer`.
    function hashOffer(DealOffer calldata offer) external view returns (bytes32);

    /// @notice Accept a Proposed deal. Only the party that did not create it.
    function acceptDeal(uint256 dealId) external;

    /// @notice Deposit up to `amount` towards an Accepted deal (never more than it still needs).
    /// The deal is credited with what the escrow actually received, so a fee-on-transfer token
    /// cannot over-credit it; fund again to cover the shortfall. Buyer only.
    /// @return credited The amount added to the deal.
    function fund(uint256 dealId, uint256 amount) external returns (uint96 credited);

    /// @notice {fund} with an EIP-2612 permit for the escrow, in one transaction. A permit that
    /// fails (already used, e.g. front-run) is ignored when the allowance is already in place.
    function fundWithPermit(
        uint256 dealId,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint96 credited);

    /// @notice Attest, as a key of one of the milestone's oracles, that milestone `index` is met.
    /// The attestation that reaches the milestone's quorum releases it to the supplier.
    /// @param evidenceHash sha256 of the evidence document (its IPFS CIDv1 raw digest when the
    /// document fits one block).
    function attest(uint256 dealId, uint256 index, bytes32 evidenceHash) external;

    /// @notice Find milestone `index` not met, as a key of one of its oracles, with the sha256
    /// of the evidence. One oracle's "not met" blocks the milestone (Rejected) only once the
    /// oracles left can no longer reach its quorum; a blocked milestone is never released, and
    /// the buyer can take it back after its due date.
    function reject(uint256 dealId, uint256 index, bytes32 evidenceHash) external;

    /// @notice Submit one signed attestation (anyone may relay it). Reverts on any problem.
    function submitAttestation(SignedAttestation calldata signed) external;

    /// @notice Submit many signed attestations, across deals, in one transaction. An item that
    /// cannot be applied (bad or expired signature, already counted, milestone no longer
    /// pending...) is skipped with {AttestationSkipped} and the others still apply, so one
    /// stale item cannot sink a relayer's batch. A failing payout still reverts the batch.
    /// @return applied How many attestations were applied.
    function submitAttestations(SignedAttestation[] calldata batch)
        external
        returns (uint256 applied);

    /// @notice The EIP-712 digest an oracle key signs for `attestation`.
    function hashAttestation(Attestation calldata attestation) external view returns (bytes32);

    /// @notice Take back a milestone that is still unpaid after its due date. Buyer only.
    function refund(uint256 dealId, uint256 index) external;

    /// @notice Call off a deal that is not Active yet; any deposit goes back to the buyer.
    /// Either party.
    function cancelDeal(uint256 dealId) external;

    function getDeal(uint256 dealId) external view returns (DealView memory);

    function getMilestone(uint256 dealId, uint256 index)
        external
        view
        returns (MilestoneView memory);
}
