"""Calling off a deal before it is Active."""

from helpers import USD, fund_fully, milestones, reverts

from backend.terms import DealStatus


def test_buyer_cancels_partly_funded_deal_and_gets_deposit_back(
    escrow, stable, buyer, ops, create_deal
):
    deal = create_deal(milestones([50 * USD, 50 * USD], [(ops.inspector,)] * 2))
    stable.mint(buyer, 30 * USD, {"from": buyer})
    stable.approve(escrow, 30 * USD, {"from": buyer})
    escrow.fund(deal.id, 30 * USD, {"from": buyer})
    tx = escrow.cancelDeal(deal.id, {"from": buyer})
    assert stable.balanceOf(buyer) == 30 * USD
    assert stable.balanceOf(escrow) == 0
    assert escrow.getDeal(deal.id)["status"] == DealStatus.CANCELLED
    assert tx.events["DealCancelled"]["refunded"] == 30 * USD


def test_supplier_withdraws_a_proposal(escrow, buyer, supplier, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]), by=buyer)
    escrow.cancelDeal(deal.id, {"from": supplier})
    assert escrow.getDeal(deal.id)["status"] == DealStatus.CANCELLED


def test_active_deal_cannot_be_cancelled(escrow, stable, buyer, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    fund_fully(escrow, stable, buyer, deal.id)
    with reverts("WrongDealStatus", deal.id, DealStatus.ACTIVE):
        escrow.cancelDeal(deal.id, {"from": buyer})


def test_stranger_cannot_cancel(escrow, stranger, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    with reverts("NotDealParty"):
        escrow.cancelDeal(deal.id, {"from": stranger})


def test_cancelled_deal_takes_no_funds(escrow, stable, buyer, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    escrow.cancelDeal(deal.id, {"from": buyer})
    stable.mint(buyer, USD, {"from": buyer})
    stable.approve(escrow, USD, {"from": buyer})
    with reverts("WrongDealStatus", deal.id, DealStatus.CANCELLED):
        escrow.fund(deal.id, USD, {"from": buyer})
