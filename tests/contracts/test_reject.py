"""'Not met' verdicts: recorded with evidence; they block a milestone once its quorum is out of
reach, and a blocked milestone is never paid but can be refunded after its due date."""

import brownie
from helpers import USD, fund_fully, milestones, reverts, signed_attestation

from backend.terms import MilestoneStatus

EVIDENCE = brownie.web3.keccak(text="failed inspection report")


def test_sole_oracle_not_met_blocks_the_milestone(escrow, inspector, active_deal):
    tx = escrow.reject(active_deal.id, 0, EVIDENCE, {"from": inspector})
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.REJECTED
    event = tx.events["MilestoneRejected"]
    assert event["blocked"] is True
    assert event["evidenceHash"] == "0x" + EVIDENCE.hex()


def test_blocked_milestone_is_never_released(escrow, stable, supplier, inspector, active_deal):
    escrow.reject(active_deal.id, 0, EVIDENCE, {"from": inspector})
    with reverts("MilestoneNotPending", active_deal.id, 0, MilestoneStatus.REJECTED):
        escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    assert stable.balanceOf(supplier) == 0


def test_blocked_milestone_is_refunded_after_due(escrow, stable, buyer, inspector, active_deal):
    escrow.reject(active_deal.id, 0, EVIDENCE, {"from": inspector})
    due = escrow.getMilestone(active_deal.id, 0)["dueAt"]
    brownie.chain.sleep(due - brownie.chain[-1].timestamp + 1)
    brownie.chain.mine()
    escrow.refund(active_deal.id, 0, {"from": buyer})
    assert stable.balanceOf(buyer) == 100 * USD


def test_one_not_met_in_two_of_two_blocks(escrow, inspector, active_deal):
    escrow.reject(active_deal.id, 1, EVIDENCE, {"from": inspector})
    assert escrow.getMilestone(active_deal.id, 1)["status"] == MilestoneStatus.REJECTED


def test_one_not_met_in_two_of_three_does_not_block(
    escrow, stable, buyer, supplier, inspector, carrier, customs, ops, create_deal
):
    deal = create_deal(milestones([90 * USD], [(ops.inspector, ops.carrier, ops.customs)], [2]))
    fund_fully(escrow, stable, buyer, deal.id)
    tx = escrow.reject(deal.id, 0, EVIDENCE, {"from": customs})
    assert tx.events["MilestoneRejected"]["blocked"] is False
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    escrow.attest(deal.id, 0, EVIDENCE, {"from": carrier})
    assert stable.balanceOf(supplier) == 90 * USD
    m = escrow.getMilestone(deal.id, 0)
    assert (m["attestations"], m["rejections"]) == (2, 1)


def test_two_not_met_in_two_of_three_block(
    escrow, stable, buyer, carrier, customs, ops, create_deal
):
    deal = create_deal(milestones([90 * USD], [(ops.inspector, ops.carrier, ops.customs)], [2]))
    fund_fully(escrow, stable, buyer, deal.id)
    escrow.reject(deal.id, 0, EVIDENCE, {"from": customs})
    escrow.reject(deal.id, 0, EVIDENCE, {"from": carrier})
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.REJECTED


def test_an_oracle_gives_one_verdict_only(escrow, inspector, ops, active_deal):
    escrow.attest(active_deal.id, 1, EVIDENCE, {"from": inspector})
    with reverts("AlreadyAttested", active_deal.id, 1, ops.inspector):
        escrow.reject(active_deal.id, 1, EVIDENCE, {"from": inspector})


def test_not_met_can_be_signed_and_relayed(escrow, inspector, stranger, active_deal):
    signed = signed_attestation(escrow, inspector, active_deal.id, 0, met=False)
    escrow.submitAttestation(signed.as_tuple(), {"from": stranger})
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.REJECTED


def test_stranger_cannot_reject(escrow, stranger, active_deal):
    with reverts("NotMilestoneOracle"):
        escrow.reject(active_deal.id, 0, EVIDENCE, {"from": stranger})
