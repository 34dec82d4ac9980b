// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrowTypes} from "../interfaces/IEscrowTypes.sol";

/// @title EIP-712 struct hashes of the escrow's typed data
/// @notice The type strings here are the interoperability contract with off-chain signers
/// (ethers, viem, eth-account, wallets); docs/typed-data.md documents them with examples.
library TypedData {
    bytes32 internal constant MILESTONE_TYPEHASH = keccak256(
        "Milestone(uint96 amount,uint40 dueAt,uint8 quorum,uint32[3] oracles,bytes32 requirementsHash)"
    );

    bytes32 internal constant POLICY_TYPEHASH = keccak256(
        "Policy(uint32 examinationWindow,uint32 rulingPeriod,uint32 warrantyPeriod,uint16 retentionBps)"
    );

    bytes32 internal constant DEAL_OFFER_TYPEHASH = keccak256(
        "DealOffer(address buyer,address supplier,uint32 arbiter,Policy policy,Milestone[] milestones,uint256 nonce,uint256 deadline)"
        "Milestone(uint96 amount,uint40 dueAt,uint8 quorum,uint32[3] oracles,bytes32 requirementsHash)"
        "Policy(uint32 examinationWindow,uint32 rulingPeriod,uint32 warrantyPeriod,uint16 retentionBps)"
    );

    bytes32 internal constant MILESTONE_CHANGE_TYPEHASH = keccak256(
        "MilestoneChange(uint8 index,uint8 action,Milestone terms)"
        "Milestone(uint96 amount,uint40 dueAt,uint8 quorum,uint32[3] oracles,bytes32 requirementsHash)"
    );

    bytes32 internal constant AMENDMENT_TYPEHASH = keccak256(
        "Amendment(uint256 dealId,uint16 dealVersion,MilestoneChange[] changes,uint32 nonce,uint256 deadline)"
        "Milestone(uint96 amount,uint40 dueAt,uint8 quorum,uint32[3] oracles,bytes32 requirementsHash)"
        "MilestoneChange(uint8 index,uint8 action,Milestone terms)"
    );

    bytes32 internal constant CANCELLATION_TYPEHASH = keccak256(
        "Cancellation(uint256 dealId,uint16 dealVersion,uint96 toSupplier,uint96 toBuyer,uint32 nonce,uint256 deadline)"
    );

    bytes32 internal constant OPERATOR_KEY_TYPEHASH =
        keccak256("OperatorKey(address admin,address key,uint256 deadline)");

    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint256 dealId,uint256 milestone,uint16 dealVersion,bool met,bytes32 evidenceHash,uint256 deadline)"
    );

    function hashAttestation(IEscrowTypes.Attestation calldata a) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH, a.dealId, a.milestone, a.dealVersion, a.met, a.evidenceHash, a.deadline
            )
        );
    }

    function hashMilestone(IEscrowTypes.MilestoneTerms calldata t) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                MILESTONE_TYPEHASH,
                t.amount,
                t.dueAt,
                t.quorum,
                keccak256(abi.encode(t.oracles[0], t.oracles[1], t.oracles[2])),
                t.requirementsHash
            )
        );
    }

    function hashPolicy(IEscrowTypes.Policy calldata p) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(POLICY_TYPEHASH, p.examinationWindow, p.rulingPeriod, p.warrantyPeriod, p.retentionBps)
        );
    }

    function hashCancellation(IEscrowTypes.Cancellation calldata c) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                CANCELLATION_TYPEHASH, c.dealId, c.dealVersion, c.toSupplier, c.toBuyer, c.nonce, c.deadline
            )
        );
    }

    function hashKeyConsent(address admin, address key, uint256 deadline) internal pure returns (bytes32) {
        return keccak256(abi.encode(OPERATOR_KEY_TYPEHASH, admin, key, deadline));
    }

    function hashAmendment(IEscrowTypes.Amendment calldata a) internal pure returns (bytes32) {
        uint256 count = a.changes.length;
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            IEscrowTypes.MilestoneChange calldata c = a.changes[i];
            hashes[i] = keccak256(
                abi.encode(MILESTONE_CHANGE_TYPEHASH, c.index, uint8(c.action), hashMilestone(c.terms))
            );
        }
        return keccak256(
            abi.encode(
                AMENDMENT_TYPEHASH, a.dealId, a.dealVersion, keccak256(abi.encodePacked(hashes)), a.nonce, a.deadline
            )
        );
    }

    function hashOffer(IEscrowTypes.DealOffer calldata offer) internal pure returns (bytes32) {
        uint256 count = offer.milestones.length;
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            hashes[i] = hashMilestone(offer.milestones[i]);
        }
        return keccak256(
            abi.encode(
                DEAL_OFFER_TYPEHASH,
                offer.buyer,
                offer.supplier,
                offer.arbiter,
                hashPolicy(offer.policy),
                keccak256(abi.encodePacked(hashes)),
                offer.nonce,
                offer.deadline
            )
        );
    }
}
