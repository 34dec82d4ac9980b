"""Accepting a deal the buyer proposed."""

from helpers import USD, milestones, reverts

from backend.terms import DealStatus


def test_supplier_accepts_buyer_proposal(escrow, buyer, supplier, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]), by=buyer)
    tx = escrow.acceptDeal(deal.id, {"from": supplier})
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACCEPTED
    assert tx.events["DealAccepted"]["by"] == supplier


def test_buyer_cannot_accept_its_own_proposal(escrow, buyer, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]), by=buyer)
    with reverts("CreatorCannotAccept"):
        escrow.acceptDeal(deal.id, {"from": buyer})


def test_stranger_cannot_accept(escrow, buyer, stranger, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]), by=buyer)
    with reverts("NotDealParty"):
        escrow.acceptDeal(deal.id, {"from": stranger})


def test_accepted_deal_cannot_be_accepted_again(escrow, supplier, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    with reverts("WrongDealStatus", deal.id, DealStatus.ACCEPTED):
        escrow.acceptDeal(deal.id, {"from": supplier})


def test_unknown_deal_cannot_be_accepted(escrow, supplier):
    with reverts("UnknownDeal", 999):
        escrow.acceptDeal(999, {"from": supplier})
