"""Examination windows (the buyer may dispute a milestone its oracles approved, silence
releases it) and retention (a holdback paid after the warranty unless disputed)."""

import brownie
import pytest
from helpers import DAY, USD, fund_fully, milestones, reverts

from backend.terms import MilestoneStatus, Policy

EVIDENCE = brownie.web3.keccak(text="inspection report")
WINDOW = 5 * DAY
WARRANTY = 90 * DAY


@pytest.fixture
def deal_with(escrow, stable, buyer, ops, create_deal):
    """A funded deal of two milestones (100 and 200 USD, inspector alone) under `policy`."""

    def make(policy: Policy):
        deal = create_deal(
            milestones([100 * USD, 200 * USD], [(ops.inspector,)] * 2), policy=policy
        )
        fund_fully(escrow, stable, buyer, deal.id)
        return deal

    return make


def _sleep_past(escrow, deal_id, index):
    due = escrow.getMilestone(deal_id, index)["dueAt"]
    brownie.chain.sleep(due - brownie.chain[-1].timestamp + 1)
    brownie.chain.mine()


def test_policy_is_stored_and_announced(escrow, deal_with):
    policy = Policy(examination_window=WINDOW, ruling_period=7 * DAY, retention_bps=500)
    deal = deal_with(policy)
    assert tuple(escrow.getPolicy(deal.id)) == policy.as_tuple()


def test_retention_above_the_whole_is_refused(escrow, buyer, supplier, ops):
    terms = [m.as_tuple() for m in milestones([USD], [(ops.inspector,)])]
    with reverts("InvalidPolicy"):
        escrow.createDeal(
            buyer, supplier, ops.arbiter, (0, 0, 0, 10_001), terms, {"from": supplier}
        )


def test_quorum_opens_the_window_and_silence_releases(
    escrow, stable, supplier, inspector, stranger, deal_with
):
    deal = deal_with(Policy(examination_window=WINDOW))
    tx = escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    ends = tx.events["ExaminationStarted"]["examinationEnds"]
    assert ends == tx.timestamp + WINDOW
    assert "MilestoneReleased" not in tx.events
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.EXAMINING
    assert stable.balanceOf(supplier) == 0
    with reverts("DeadlineNotPassed", ends):
        escrow.release(deal.id, 0, {"from": stranger})
    _sleep_past(escrow, deal.id, 0)
    tx = escrow.release(deal.id, 0, {"from": stranger})  # anyone
    assert tx.events["MilestoneReleased"]["amount"] == 100 * USD
    assert stable.balanceOf(supplier) == 100 * USD
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.RELEASED
    with reverts("WrongMilestoneStatus"):
        escrow.release(deal.id, 0, {"from": stranger})


def test_buyer_may_waive_the_window(escrow, stable, buyer, supplier, inspector, deal_with):
    deal = deal_with(Policy(examination_window=WINDOW))
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    with reverts("NotBuyer", deal.id, supplier.address):
        escrow.waiveExamination(deal.id, 0, {"from": supplier})
    escrow.waiveExamination(deal.id, 0, {"from": buyer})
    assert stable.balanceOf(supplier) == 100 * USD


def test_buyer_disputes_within_the_window_not_after(
    escrow, buyer, supplier, inspector, stranger, deal_with
):
    deal = deal_with(Policy(examination_window=WINDOW))
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    escrow.attest(deal.id, 1, EVIDENCE, {"from": inspector})
    with reverts("WrongMilestoneStatus"):  # the supplier contests refusals, not approvals
        escrow.openDispute(deal.id, 0, {"from": supplier})
    with reverts("NotDealParty", deal.id, stranger.address):
        escrow.openDispute(deal.id, 0, {"from": stranger})
    tx = escrow.openDispute(deal.id, 0, {"from": buyer})
    assert tx.events["DisputeOpened"]["amount"] == 100 * USD
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.DISPUTED
    _sleep_past(escrow, deal.id, 1)
    with reverts("DeadlinePassed"):
        escrow.openDispute(deal.id, 1, {"from": buyer})


def test_retention_holds_back_a_share_until_the_warranty_ends(
    escrow, stable, supplier, inspector, stranger, deal_with
):
    deal = deal_with(Policy(warranty_period=WARRANTY, retention_bps=1_000))  # 10%
    tx = escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    assert tx.events["MilestoneReleased"]["amount"] == 90 * USD
    held = tx.events["RetentionHeld"]
    assert (held["amount"], held["warrantyEnds"]) == (10 * USD, tx.timestamp + WARRANTY)
    assert stable.balanceOf(supplier) == 90 * USD
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.RETAINED
    with reverts("DeadlineNotPassed"):
        escrow.releaseRetention(deal.id, 0, {"from": stranger})
    _sleep_past(escrow, deal.id, 0)
    tx = escrow.releaseRetention(deal.id, 0, {"from": stranger})
    assert tx.events["MilestoneReleased"]["amount"] == 10 * USD
    assert stable.balanceOf(supplier) == 100 * USD
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.RELEASED
    assert stable.balanceOf(escrow) == 200 * USD  # milestone 1 untouched


def test_window_then_retention(escrow, stable, supplier, inspector, stranger, deal_with):
    deal = deal_with(Policy(examination_window=WINDOW, warranty_period=WARRANTY, retention_bps=500))
    escrow.attest(deal.id, 1, EVIDENCE, {"from": inspector})
    _sleep_past(escrow, deal.id, 1)
    escrow.release(deal.id, 1, {"from": stranger})
    assert stable.balanceOf(supplier) == 190 * USD
    assert escrow.getMilestone(deal.id, 1)["status"] == MilestoneStatus.RETAINED


def test_buyer_disputes_the_holdback_and_the_arbiter_rules(
    escrow, stable, buyer, supplier, inspector, arbiter, deal_with
):
    deal = deal_with(Policy(warranty_period=WARRANTY, retention_bps=1_000))
    escrow.attest(deal.id, 1, EVIDENCE, {"from": inspector})  # 180 paid, 20 held
    tx = escrow.openDispute(deal.id, 1, {"from": buyer})
    assert tx.events["DisputeOpened"]["amount"] == 20 * USD
    with reverts("SplitTooLarge", 21 * USD, 20 * USD):
        escrow.rule(deal.id, 1, 21 * USD, {"from": arbiter})
    tx = escrow.rule(deal.id, 1, 5 * USD, {"from": arbiter})
    settled = tx.events["DisputeSettled"]
    assert (settled["toSupplier"], settled["toBuyer"], settled["byDefault"]) == (
        5 * USD,
        15 * USD,
        False,
    )
    assert stable.balanceOf(supplier) == 185 * USD
    assert stable.balanceOf(buyer) == 15 * USD
    assert escrow.getMilestone(deal.id, 1)["status"] == MilestoneStatus.SETTLED


def test_unanswered_holdback_dispute_pays_the_supplier(
    escrow, stable, buyer, supplier, inspector, stranger, deal_with
):
    deal = deal_with(Policy(warranty_period=WARRANTY, retention_bps=1_000, ruling_period=3 * DAY))
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    tx = escrow.openDispute(deal.id, 0, {"from": buyer})
    assert tx.events["DisputeOpened"]["rulingDeadline"] == tx.timestamp + 3 * DAY
    with reverts("DeadlineNotPassed"):
        escrow.settleDispute(deal.id, 0, {"from": stranger})
    _sleep_past(escrow, deal.id, 0)
    tx = escrow.settleDispute(deal.id, 0, {"from": stranger})
    assert tx.events["DisputeSettled"]["byDefault"] is True
    assert stable.balanceOf(supplier) == 100 * USD
