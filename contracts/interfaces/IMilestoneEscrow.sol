// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IEscrowTypes} from "./IEscrowTypes.sol";

/// @title Milestone escrow for B2B trade: the hot path
/// @notice A buyer locks an ERC-20 amount for a deal split into milestones; each milestone is
/// paid to the supplier (or whoever the supplier assigned its payments to) once the oracles
/// named for it (registered operators) have attested it, and can be taken back by the buyer
/// once its due date has passed unpaid. The rest of the lifecycle (disputes, examination,
/// retention, change orders, cancellation, operators) is {IEscrowExtension}, answered at the
/// same address; {IEscrow} is both. The state diagrams are in docs/contracts.md.
///
/// Deal: createDeal ──► Proposed ──acceptDeal──► Accepted ──fund (in full)──► Active
///       (a deal created by its supplier, or from its signed offer, starts Accepted)
///       Proposed / Accepted ──cancelDeal (either party)──► Cancelled
///       Active ──cancelByAgreement (both parties)──► Cancelled
/// Milestone (deal Active): see {IEscrowTypes-MilestoneStatus} and docs/contracts.md.
interface IMilestoneEscrow is IEscrowTypes {
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
        Policy calldata policy,
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

    /// @notice Whether `supplier`'s offer nonce has been used (accepted or cancelled).
    function offerNonceUsed(address supplier, uint256 nonce) external view returns (bool);

    /// @notice The EIP-712 digest a supplier signs for `offer`.
    function hashOffer(DealOffer calldata offer) external view returns (bytes32);

    /// @notice Deposit `amount` towards an Accepted deal. Buyer only. The deal is credited with
    /// what the escrow actually received (balance change), up to what it still needs, and
    /// anything beyond that is paid straight back: a fee-on-transfer token cannot over-credit a
    /// deal, and a deal in such a token is completed by sending a little more than it needs
    /// (the buyer loses only what the token takes). Reaching the total makes the deal Active.
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
    /// The attestation that reaches the milestone's quorum releases it to the payee, or opens
    /// its examination window when the deal has one.
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
    /// stale item cannot sink a relayer's batch; a payout that fails is deferred (pull).
    /// @return applied How many attestations were applied.
    function submitAttestations(SignedAttestation[] calldata batch)
        external
        returns (uint256 applied);

    /// @notice The EIP-712 digest an oracle key signs for `attestation`.
    function hashAttestation(Attestation calldata attestation) external view returns (bytes32);

    /// @notice Take back a milestone that is still unpaid (Pending or Rejected) after its due
    /// date. Buyer only. The due date does not end the oracles' say: until the buyer refunds,
    /// a late quorum of attestations still releases a Pending milestone. A dispute the supplier
    /// opened first stops the refund.
    function refund(uint256 dealId, uint256 index) external;

    function getDeal(uint256 dealId) external view returns (DealView memory);

    function getMilestone(uint256 dealId, uint256 index)
        external
        view
        returns (MilestoneView memory);
}
