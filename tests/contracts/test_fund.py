"""Funding: only the buyer, only once the supplier has agreed, credited by balance change."""

from helpers import DAY, USD, fund_fully, milestones, now, reverts, sign_permit

from backend.terms import DealStatus


def _deal(create_deal, ops, by=None):
    return create_deal(milestones([40 * USD, 60 * USD], [(ops.inspector,)] * 2), by=by)


def test_full_funding_activates_the_deal(escrow, stable, buyer, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(buyer, 100 * USD, {"from": buyer})
    stable.approve(escrow, 100 * USD, {"from": buyer})
    tx = escrow.fund(deal.id, 100 * USD, {"from": buyer})
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACTIVE
    assert stable.balanceOf(escrow) == 100 * USD
    assert tx.events["DealFunded"]["credited"] == 100 * USD
    assert tx.events["DealFunded"]["remaining"] == 0


def test_partial_deposits_add_up(escrow, stable, buyer, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(buyer, 100 * USD, {"from": buyer})
    stable.approve(escrow, 100 * USD, {"from": buyer})
    escrow.fund(deal.id, 30 * USD, {"from": buyer})
    assert escrow.getDeal(deal.id)["unfunded"] == 70 * USD
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACCEPTED
    escrow.fund(deal.id, 70 * USD, {"from": buyer})
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACTIVE


def test_deposit_is_capped_at_what_the_deal_still_needs(escrow, stable, buyer, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(buyer, 500 * USD, {"from": buyer})
    stable.approve(escrow, 500 * USD, {"from": buyer})
    escrow.fund(deal.id, 500 * USD, {"from": buyer})
    assert stable.balanceOf(escrow) == 100 * USD
    assert stable.balanceOf(buyer) == 400 * USD


def test_only_the_buyer_funds(escrow, stable, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(supplier, 100 * USD, {"from": supplier})
    stable.approve(escrow, 100 * USD, {"from": supplier})
    with reverts("NotBuyer", deal.id, supplier.address):
        escrow.fund(deal.id, 100 * USD, {"from": supplier})


def test_funding_waits_for_the_supplier(escrow, stable, buyer, ops, create_deal):
    deal = _deal(create_deal, ops, by=buyer)
    stable.mint(buyer, 100 * USD, {"from": buyer})
    stable.approve(escrow, 100 * USD, {"from": buyer})
    with reverts("WrongDealStatus", deal.id, DealStatus.PROPOSED):
        escrow.fund(deal.id, 100 * USD, {"from": buyer})
    assert stable.balanceOf(buyer) == 100 * USD


def test_active_deal_takes_no_more_funds(escrow, stable, buyer, ops, create_deal):
    deal = _deal(create_deal, ops)
    fund_fully(escrow, stable, buyer, deal.id)
    stable.mint(buyer, USD, {"from": buyer})
    stable.approve(escrow, USD, {"from": buyer})
    with reverts("WrongDealStatus", deal.id, DealStatus.ACTIVE):
        escrow.fund(deal.id, USD, {"from": buyer})


def test_zero_deposit_is_refused(escrow, buyer, ops, create_deal):
    deal = _deal(create_deal, ops)
    with reverts("ZeroFunding", deal.id):
        escrow.fund(deal.id, 0, {"from": buyer})


def test_missing_allowance_changes_nothing(escrow, stable, buyer, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(buyer, 100 * USD, {"from": buyer})
    with reverts("ERC20InsufficientAllowance"):
        escrow.fund(deal.id, 100 * USD, {"from": buyer})
    assert escrow.getDeal(deal.id)["unfunded"] == 100 * USD


def test_unknown_deal_cannot_be_funded(escrow, buyer):
    with reverts("UnknownDeal", 42):
        escrow.fund(42, USD, {"from": buyer})


def test_fund_with_permit_in_one_transaction(escrow, stable, buyer, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(buyer, 100 * USD, {"from": buyer})
    deadline = now() + DAY
    sig = sign_permit(stable, buyer, escrow, 100 * USD, deadline)
    escrow.fundWithPermit(deal.id, 100 * USD, deadline, *sig.vrs, {"from": buyer})
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACTIVE
    assert stable.balanceOf(escrow) == 100 * USD


def test_front_run_permit_does_not_block_funding(escrow, stable, buyer, stranger, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(buyer, 100 * USD, {"from": buyer})
    deadline = now() + DAY
    sig = sign_permit(stable, buyer, escrow, 100 * USD, deadline)
    # Someone copies the permit from the mempool and submits it first.
    stable.permit(buyer, escrow, 100 * USD, deadline, *sig.vrs, {"from": stranger})
    escrow.fundWithPermit(deal.id, 100 * USD, deadline, *sig.vrs, {"from": buyer})
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACTIVE


def test_permit_for_someone_else_does_not_fund(escrow, stable, buyer, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    stable.mint(buyer, 100 * USD, {"from": buyer})
    deadline = now() + DAY
    sig = sign_permit(stable, buyer, supplier, 100 * USD, deadline)  # spender is not the escrow
    with reverts("ERC20InsufficientAllowance"):
        escrow.fundWithPermit(deal.id, 100 * USD, deadline, *sig.vrs, {"from": buyer})
    assert escrow.getDeal(deal.id)["unfunded"] == 100 * USD
