"""Receivables: the supplier assigns the right to be paid to a financier; later payouts of the
deal go there, only the current holder of the right can pass it on, and nothing that cuts what
the supplier side receives (a change order that edits or removes a milestone, a cancellation
that does not pay it everything held) applies without the payee's consent."""

import brownie
from helpers import DAY, USD, milestones, new_account, now, reverts

from backend.terms import (
    Amendment,
    Cancellation,
    ChangeAction,
    DealStatus,
    MilestoneChange,
    MilestoneStatus,
)
from scripts.signing import sign_amendment, sign_cancellation

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


def test_no_assignment_before_the_deal_is_active_or_after(escrow, supplier, ops, create_deal):
    """A receivable exists once the deal is locked in: before that either party may walk away
    (cancelDeal), which no payee could be protected from."""
    with reverts("UnknownDeal"):
        escrow.assignPayments(999, new_account(), {"from": supplier})
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    with reverts("WrongDealStatus", deal.id, DealStatus.ACCEPTED):
        escrow.assignPayments(deal.id, new_account(), {"from": supplier})
    escrow.cancelDeal(deal.id, {"from": supplier})
    with reverts("WrongDealStatus", deal.id, DealStatus.CANCELLED):
        escrow.assignPayments(deal.id, new_account(), {"from": supplier})


def _cancellation(escrow, signer, deal_id, to_supplier, to_buyer):
    c = Cancellation(deal_id, 1, to_supplier, to_buyer, deadline=now() + DAY)
    return c, sign_cancellation(escrow, signer, c)


def _amendment(escrow, signer, deal_id, changes):
    a = Amendment(deal_id, 1, tuple(changes), deadline=now() + DAY)
    return a, sign_amendment(escrow, signer, a)


def test_a_cancellation_that_cuts_the_payee_needs_its_consent(
    escrow, stable, buyer, supplier, active_deal
):
    """The review's case: after the assignment buyer and supplier cancel with toSupplier = 0.
    Before the fix the financier lost the 600 it had paid for; now it must agree first."""
    financier = new_account()
    escrow.assignPayments(active_deal.id, financier, {"from": supplier})
    c, signature = _cancellation(escrow, supplier, active_deal.id, 0, 600 * USD)
    digest = escrow.hashCancellation(c.as_tuple())
    with reverts("PayeeConsentMissing", active_deal.id, financier.address, bytes(digest)):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    assert stable.balanceOf(escrow) == 600 * USD
    with reverts("NotPayee", active_deal.id, supplier.address):  # only the payee consents
        escrow.consentAsPayee(active_deal.id, digest, True, {"from": supplier})
    tx = escrow.consentAsPayee(active_deal.id, digest, True, {"from": financier})
    assert tx.events["PayeeConsentSet"]["consented"] is True
    assert escrow.payeeConsented(digest) == financier
    escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    assert stable.balanceOf(buyer) == 600 * USD


def test_a_cancellation_paying_the_payee_everything_held_needs_no_consent(
    escrow, stable, buyer, supplier, active_deal
):
    financier = new_account()
    escrow.assignPayments(active_deal.id, financier, {"from": supplier})
    c, signature = _cancellation(escrow, buyer, active_deal.id, 600 * USD, 0)
    escrow.cancelByAgreement(c.as_tuple(), signature, {"from": supplier})
    assert stable.balanceOf(financier) == 600 * USD


def test_a_change_order_that_removes_a_milestone_needs_the_payees_consent(
    escrow, stable, buyer, supplier, ops, active_deal
):
    financier = new_account()
    escrow.assignPayments(active_deal.id, financier, {"from": supplier})
    remove = [MilestoneChange(2, ChangeAction.REMOVE)]
    a, signature = _amendment(escrow, supplier, active_deal.id, remove)
    digest = escrow.hashAmendment(a.as_tuple())
    with reverts("PayeeConsentMissing", active_deal.id, financier.address, bytes(digest)):
        escrow.amend(a.as_tuple(), signature, {"from": buyer})
    escrow.consentAsPayee(active_deal.id, digest, True, {"from": financier})
    escrow.consentAsPayee(active_deal.id, digest, False, {"from": financier})  # withdrawn
    with reverts("PayeeConsentMissing"):
        escrow.amend(a.as_tuple(), signature, {"from": buyer})
    assert escrow.getDeal(active_deal.id)["version"] == 1
    escrow.consentAsPayee(active_deal.id, digest, True, {"from": financier})
    escrow.amend(a.as_tuple(), signature, {"from": buyer})
    assert escrow.getMilestone(active_deal.id, 2)["status"] == MilestoneStatus.REMOVED


def test_the_payee_opens_the_supplier_sides_dispute(
    escrow, stable, supplier, inspector, arbiter, active_deal
):
    """Before the fix the financier got NotDealParty and could not contest a rejection."""
    financier = new_account()
    escrow.assignPayments(active_deal.id, financier, {"from": supplier})
    escrow.reject(active_deal.id, 0, EVIDENCE, {"from": inspector})
    tx = escrow.openDispute(active_deal.id, 0, {"from": financier})
    assert tx.events["DisputeOpened"]["by"] == financier
    escrow.rule(active_deal.id, 0, 100 * USD, {"from": arbiter})
    assert stable.balanceOf(financier) == 100 * USD
