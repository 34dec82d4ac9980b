"""Receivables: the supplier assigns the right to be paid to a financier; later payouts of the
deal go there, and only the current holder of the right can pass it on."""

import brownie
from helpers import USD, new_account, reverts

from backend.terms import MilestoneStatus

EVIDENCE = brownie.web3.keccak(text="bill of lading")


def test_assigned_payouts_go_to_the_financier(
    escrow, stable, supplier, inspector, carrier, active_deal
):
    financier = new_account()
    escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})  # before: to the supplier
    tx = escrow.assignPayments(active_deal.id, financier, {"from": supplier})
    assigned = tx.events["PaymentsAssigned"]
    assert (assigned["from"], assigned["to"]) == (supplier, financier)
    assert escrow.payeeOf(active_deal.id) == financier
    assert escrow.getDeal(active_deal.id)["payee"] == financier
    escrow.attest(active_deal.id, 1, EVIDENCE, {"from": inspector})
    tx = escrow.attest(active_deal.id, 1, EVIDENCE, {"from": carrier})
    assert tx.events["MilestoneReleased"]["to"] == financier
    assert stable.balanceOf(financier) == 200 * USD
    assert stable.balanceOf(supplier) == 100 * USD


def test_only_the_current_payee_passes_the_right_on(escrow, supplier, buyer, active_deal):
    financier, second = new_account(), new_account()
    with reverts("NotPayee", active_deal.id, buyer.address):
        escrow.assignPayments(active_deal.id, financier, {"from": buyer})
    escrow.assignPayments(active_deal.id, financier, {"from": supplier})
    with reverts("NotPayee", active_deal.id, supplier.address):  # sold: no taking it back
        escrow.assignPayments(active_deal.id, supplier, {"from": supplier})
    escrow.assignPayments(active_deal.id, second, {"from": financier})
    assert escrow.payeeOf(active_deal.id) == second
    with reverts("InvalidPayee"):
        escrow.assignPayments(active_deal.id, brownie.ZERO_ADDRESS, {"from": second})
    with reverts("InvalidPayee"):
        escrow.assignPayments(active_deal.id, escrow.address, {"from": second})


def test_a_ruling_pays_the_supplier_share_to_the_financier(
    escrow, stable, supplier, inspector, arbiter, active_deal
):
    financier = new_account()
    escrow.assignPayments(active_deal.id, financier, {"from": supplier})
    escrow.reject(active_deal.id, 0, EVIDENCE, {"from": inspector})
    escrow.openDispute(active_deal.id, 0, {"from": supplier})  # still the supplier's dispute
    escrow.rule(active_deal.id, 0, 70 * USD, {"from": arbiter})
    assert stable.balanceOf(financier) == 70 * USD
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.SETTLED


def test_no_assignment_on_unknown_or_cancelled_deals(escrow, supplier, ops, create_deal):
    from helpers import milestones

    with reverts("UnknownDeal"):
        escrow.assignPayments(999, new_account(), {"from": supplier})
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    escrow.cancelDeal(deal.id, {"from": supplier})
    with reverts("WrongDealStatus"):
        escrow.assignPayments(deal.id, new_account(), {"from": supplier})
