"""Disputes scoped to one milestone: who may open one and when, the arbiter's split, the
default after the ruling deadline, and the milestones around it that keep running."""

import brownie
import pytest
from helpers import DAY, USD, fund_fully, key_consent, milestones, new_account, reverts

from backend.terms import MilestoneStatus, Policy

EVIDENCE = brownie.web3.keccak(text="inspection report")


@pytest.fixture
def deal(active_deal):
    """Funded: M0 100 USD (inspector), M1 200 USD (inspector + carrier, 2 of 2), M2 300 USD
    (customs)."""
    return active_deal


def _sleep_past(escrow, deal_id, index):
    due = escrow.getMilestone(deal_id, index)["dueAt"]
    brownie.chain.sleep(due - brownie.chain[-1].timestamp + 1)
    brownie.chain.mine()


def test_supplier_disputes_a_rejection_and_the_arbiter_splits_70_30(
    escrow, stable, buyer, supplier, inspector, carrier, customs, arbiter, deal
):
    escrow.reject(deal.id, 1, EVIDENCE, {"from": inspector})  # 2-of-2: out of reach
    assert escrow.getMilestone(deal.id, 1)["status"] == MilestoneStatus.REJECTED
    tx = escrow.openDispute(deal.id, 1, {"from": supplier})
    opened = tx.events["DisputeOpened"]
    assert (opened["by"], opened["amount"]) == (supplier, 200 * USD)
    assert opened["rulingDeadline"] == tx.timestamp + escrow.DEFAULT_RULING_PERIOD()

    # The other milestones keep running while M1 is disputed.
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    assert stable.balanceOf(supplier) == 100 * USD

    tx = escrow.rule(deal.id, 1, 140 * USD, {"from": arbiter})
    settled = tx.events["DisputeSettled"]
    assert (settled["by"], settled["toSupplier"], settled["toBuyer"]) == (
        arbiter,
        140 * USD,
        60 * USD,
    )
    assert stable.balanceOf(supplier) == 240 * USD
    assert stable.balanceOf(buyer) == 60 * USD
    assert escrow.getMilestone(deal.id, 1)["status"] == MilestoneStatus.SETTLED
    escrow.attest(deal.id, 2, EVIDENCE, {"from": customs})
    assert stable.balanceOf(supplier) == 540 * USD
    assert stable.balanceOf(escrow) == 0
    with reverts("WrongMilestoneStatus"):  # ruled once
        escrow.rule(deal.id, 1, 0, {"from": arbiter})


def test_supplier_disputes_a_withheld_milestone_which_stops_the_refund(
    escrow, stable, buyer, supplier, stranger, deal
):
    due = escrow.getMilestone(deal.id, 0)["dueAt"]
    with reverts("MilestoneNotDue", deal.id, 0, due):
        escrow.openDispute(deal.id, 0, {"from": supplier})
    _sleep_past(escrow, deal.id, 0)
    escrow.openDispute(deal.id, 0, {"from": supplier})
    with reverts("MilestoneNotPending"):
        escrow.refund(deal.id, 0, {"from": buyer})
    # No ruling: after the deadline the default is the outcome without the dispute, the
    # refund (the oracles never approved the milestone).
    _sleep_past(escrow, deal.id, 0)
    tx = escrow.settleDispute(deal.id, 0, {"from": stranger})
    settled = tx.events["DisputeSettled"]
    assert (settled["byDefault"], settled["toSupplier"], settled["toBuyer"]) == (
        True,
        0,
        100 * USD,
    )
    assert stable.balanceOf(buyer) == 100 * USD
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.SETTLED


def test_unanswered_buyer_dispute_releases(
    escrow, stable, buyer, supplier, inspector, stranger, create_deal, ops
):
    deal = create_deal(
        milestones([100 * USD], [(ops.inspector,)]),
        policy=Policy(examination_window=2 * DAY, ruling_period=10 * DAY),
    )
    fund_fully(escrow, stable, buyer, deal.id)
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    tx = escrow.openDispute(deal.id, 0, {"from": buyer})
    assert tx.events["DisputeOpened"]["rulingDeadline"] == tx.timestamp + 10 * DAY
    _sleep_past(escrow, deal.id, 0)
    tx = escrow.settleDispute(deal.id, 0, {"from": stranger})
    assert tx.events["DisputeSettled"]["byDefault"] is True
    assert stable.balanceOf(supplier) == 100 * USD
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.RELEASED


def test_only_a_live_arbiter_key_rules_and_only_in_time(
    escrow, stable, buyer, supplier, inspector, arbiter, stranger, ops, deal
):
    escrow.reject(deal.id, 0, EVIDENCE, {"from": inspector})
    escrow.openDispute(deal.id, 0, {"from": supplier})
    with reverts("NotArbiter", deal.id, inspector.address):  # an oracle of the deal
        escrow.rule(deal.id, 0, 0, {"from": inspector})
    # The arbiter rotates its key: the new key rules, the revoked one no longer can.
    new_key = new_account()
    escrow.addOperatorKey(
        ops.arbiter, new_key, *key_consent(escrow, arbiter, new_key), {"from": arbiter}
    )
    escrow.revokeOperatorKey(ops.arbiter, arbiter, {"from": arbiter})
    with reverts("NotArbiter"):
        escrow.rule(deal.id, 0, 0, {"from": arbiter})
    _sleep_past(escrow, deal.id, 0)
    deadline = escrow.getMilestone(deal.id, 0)["dueAt"]
    with reverts("DeadlinePassed", deadline):
        escrow.rule(deal.id, 0, 50 * USD, {"from": new_key})
    escrow.settleDispute(deal.id, 0, {"from": stranger})
    assert stable.balanceOf(buyer) == 100 * USD


def test_ruling_for_the_supplier_in_full(escrow, stable, supplier, inspector, arbiter, deal):
    escrow.reject(deal.id, 0, EVIDENCE, {"from": inspector})
    escrow.openDispute(deal.id, 0, {"from": supplier})
    escrow.rule(deal.id, 0, 100 * USD, {"from": arbiter})
    assert stable.balanceOf(supplier) == 100 * USD


def test_who_may_dispute_what(escrow, buyer, supplier, stranger, inspector, deal):
    with reverts("WrongMilestoneStatus"):  # nothing to examine
        escrow.openDispute(deal.id, 0, {"from": buyer})
    with reverts("NotDealParty"):
        escrow.openDispute(deal.id, 0, {"from": stranger})
    with reverts("UnknownMilestone"):
        escrow.openDispute(deal.id, 7, {"from": supplier})
    with reverts("UnknownDeal"):
        escrow.openDispute(999, 0, {"from": supplier})
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})  # released: nothing to contest
    with reverts("WrongMilestoneStatus"):
        escrow.openDispute(deal.id, 0, {"from": supplier})
