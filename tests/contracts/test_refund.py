"""Refund of an unpaid milestone to the buyer after its due date."""

import brownie
from helpers import USD, reverts

from backend.terms import MilestoneStatus

EVIDENCE = brownie.web3.keccak(text="bill of lading")


def _past_due(escrow, deal, index):
    due = escrow.getMilestone(deal.id, index)["dueAt"]
    brownie.chain.sleep(due - brownie.chain[-1].timestamp + 1)
    brownie.chain.mine()


def test_buyer_takes_back_an_overdue_milestone(escrow, stable, buyer, active_deal):
    _past_due(escrow, active_deal, 0)
    tx = escrow.refund(active_deal.id, 0, {"from": buyer})
    assert stable.balanceOf(buyer) == 100 * USD
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.REFUNDED
    assert tx.events["MilestoneRefunded"]["amount"] == 100 * USD


def test_no_refund_until_the_due_date_has_passed(escrow, buyer, active_deal):
    due = escrow.getMilestone(active_deal.id, 0)["dueAt"]
    with reverts("MilestoneNotDue", active_deal.id, 0, due):
        escrow.refund(active_deal.id, 0, {"from": buyer})


def test_only_the_buyer_takes_refunds(escrow, supplier, active_deal):
    _past_due(escrow, active_deal, 0)
    with reverts("NotBuyer"):
        escrow.refund(active_deal.id, 0, {"from": supplier})


def test_released_milestone_cannot_be_refunded(escrow, buyer, inspector, active_deal):
    escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    _past_due(escrow, active_deal, 0)
    with reverts("MilestoneNotPending", active_deal.id, 0, MilestoneStatus.RELEASED):
        escrow.refund(active_deal.id, 0, {"from": buyer})


def test_refunded_milestone_cannot_be_released(
    escrow, stable, supplier, buyer, inspector, active_deal
):
    _past_due(escrow, active_deal, 0)
    escrow.refund(active_deal.id, 0, {"from": buyer})
    with reverts("MilestoneNotPending", active_deal.id, 0, MilestoneStatus.REFUNDED):
        escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    assert stable.balanceOf(supplier) == 0


def test_refund_is_paid_once(escrow, stable, buyer, active_deal):
    _past_due(escrow, active_deal, 0)
    escrow.refund(active_deal.id, 0, {"from": buyer})
    with reverts("MilestoneNotPending"):
        escrow.refund(active_deal.id, 0, {"from": buyer})
    assert stable.balanceOf(buyer) == 100 * USD


def test_partly_attested_milestone_is_refundable_after_due(
    escrow, stable, buyer, inspector, active_deal
):
    escrow.attest(active_deal.id, 1, EVIDENCE, {"from": inspector})  # 1 of 2
    _past_due(escrow, active_deal, 1)
    escrow.refund(active_deal.id, 1, {"from": buyer})
    assert stable.balanceOf(buyer) == 200 * USD


def test_late_attestation_still_pays_until_refunded(
    escrow, stable, supplier, inspector, active_deal
):
    _past_due(escrow, active_deal, 0)
    escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    assert stable.balanceOf(supplier) == 100 * USD
