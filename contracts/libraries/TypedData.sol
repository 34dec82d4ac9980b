// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMilestoneEscrow} from "../interfaces/IMilestoneEscrow.sol";

/// @title EIP-712 struct hashes of the escrow's typed data
/// @notice The type strings here are the interoperability contract with off-chain signers
/// (ethers, viem, eth-account, wallets); docs/typed-data.md documents them with examples.
library TypedData {
    bytes32 internal constant MILESTONE_TYPEHASH = keccak256(
        "Milestone(uint96 amount,uint40 dueAt,uint8 quorum,uint32[3] oracles,bytes32 requirementsHash)"
    );

    bytes32 internal constant DEAL_OFFER_TYPEHASH = keccak256(
        "DealOffer(address buyer,address supplier,uint32 arbiter,Milestone[] milestones,uint256 nonce,uint256 deadline)"
        "Milestone(uint96 amount,uint40 dueAt,uint8 quorum,uint32[3] oracles,bytes32 requirementsHash)"
    );

    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint256 dealId,uint256 milestone,uint16 dealVersion,bool met,bytes32 evidenceHash,uint256 deadline)"
    );

    function hashAttestation(IMilestoneEscrow.Attestation calldata a) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH, a.dealId, a.milestone, a.dealVersion, a.met, a.evidenceHash, a.deadline
            )
        );
    }

    function hashMilestone(IMilestoneEscrow.MilestoneTerms calldata t) internal pure returns (bytes32) {
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

    function hashOffer(IMilestoneEscrow.DealOffer calldata offer) internal pure returns (bytes32) {
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
                keccak256(abi.encodePacked(hashes)),
                offer.nonce,
                offer.deadline
            )
        );
    }
}
