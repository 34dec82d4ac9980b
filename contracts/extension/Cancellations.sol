// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrowExtension} from "../interfaces/IEscrowExtension.sol";
import {TypedData} from "../libraries/TypedData.sol";
import {Agreements} from "./Agreements.sol";

/// @title Cancellations: calling a deal off, by either party before it is Active, by both after
/// @dev MAY CHANGE: a deal's status (Proposed or Accepted to Cancelled by either party; Active
/// to Cancelled by both), its unfunded amount (to 0), every open milestone's status (to
/// Settled). Pays out what the escrow holds for the deal.
/// KEEPS: a cancelled deal pays out exactly what the escrow held for it: before Active, the
/// buyer's deposit back to the buyer; by agreement, `toSupplier + toBuyer` as the other party
/// signed, only while the escrow still holds exactly that sum (so nothing paid out since can
/// be paid twice), with the consent of an assigned payee that gets less than everything held.
/// State first, then the transfers (nonReentrant).
abstract contract Cancellations is IEscrowExtension, Agreements {
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

    /// @dev What the escrow still holds for the deal: every milestone not yet paid out one way
    /// or the other, the disputed part of a dispute, the holdback of a Retained milestone.
    function _held(uint256 dealId, uint256 count) private view returns (uint256 held) {
        for (uint256 i; i < count; ++i) {
            held += _heldIn(dealId, _milestones[dealId][i]);
        }
    }
}
