"""Change orders: both parties sign an amendment that edits, adds or removes open milestones;
the deal's version goes up, its funding follows in the same transaction, and every change is
an event."""

import brownie
import pytest
from helpers import DAY, USD, fund_fully, milestones, now, reverts, signed_attestation

from backend import typed_data
from backend.terms import (
    Amendment,
    ChangeAction,
    Milestone,
    MilestoneChange,
    MilestoneStatus,
)
from scripts.signing import sign_amendment

EVIDENCE = brownie.web3.keccak(text="inspection report")


@pytest.fixture
def deal(escrow, stable, buyer, ops, create_deal):
    """Funded: M0 100, M1 200, M2 300 USD, each inspector alone, due in 10/20/30 days."""
    deal = create_deal(milestones([100 * USD, 200 * USD, 300 * USD], [(ops.inspector,)] * 3))
    fund_fully(escrow, stable, buyer, deal.id)
    return deal


def _terms(ops, amount, days=40, oracles=None, quorum=1) -> Milestone:
    return Milestone(
        amount=amount,
        due_at=now() + days * DAY,
        quorum=quorum,
        oracles=oracles or (ops.inspector,),
        requirements_hash=brownie.web3.keccak(text=f"requirements {amount}"),
    )


def _signed(escrow, signer, deal_id, changes, version=1, deadline=None, nonce=0):
    amendment = Amendment(
        deal_id, version, tuple(changes), deadline=deadline or now() + DAY, nonce=nonce
    )
    return amendment, sign_amendment(escrow, signer, amendment)


def test_change_order_adds_a_milestone_and_moves_a_date(escrow, stable, buyer, supplier, ops, deal):
    """The demo's change order: the buyer orders more (a 4th milestone, 150 USD) and the
    supplier gets 10 more days for M1. The buyer pays the 150 in with the same transaction."""
    m1 = escrow.getMilestone(deal.id, 1)
    later = Milestone(
        amount=m1["amount"],
        due_at=m1["dueAt"] + 10 * DAY,
        quorum=1,
        oracles=(ops.inspector,),
        requirements_hash=brownie.web3.keccak(text="requirements 1"),
    )
    changes = [
        MilestoneChange(1, ChangeAction.EDIT, later),
        MilestoneChange(3, ChangeAction.ADD, _terms(ops, 150 * USD)),
    ]
    amendment, signature = _signed(escrow, supplier, deal.id, changes)
    digest = typed_data.digest(
        typed_data.amendment_message(brownie.chain.id, escrow.address, amendment)
    )
    assert escrow.hashAmendment(amendment.as_tuple()) == "0x" + digest.hex()
    stable.mint(buyer, 150 * USD, {"from": buyer})
    stable.approve(escrow, 150 * USD, {"from": buyer})
    tx = escrow.amend(amendment.as_tuple(), signature, {"from": buyer})

    amended = tx.events["DealAmended"]
    assert (amended["version"], amended["added"], amended["removed"], amended["total"]) == (
        2,
        350 * USD,
        200 * USD,
        750 * USD,
    )
    assert [e["index"] for e in tx.events["MilestoneAmended"]] == [1, 3]
    assert stable.balanceOf(escrow) == 750 * USD
    view = escrow.getDeal(deal.id)
    assert (view["version"], view["milestoneCount"], view["total"]) == (2, 4, 750 * USD)
    assert escrow.getMilestone(deal.id, 1)["dueAt"] == m1["dueAt"] + 10 * DAY
    assert escrow.getMilestone(deal.id, 3)["status"] == MilestoneStatus.PENDING


def test_removal_and_a_smaller_amount_refund_the_difference(
    escrow, stable, buyer, supplier, ops, deal
):
    changes = [
        MilestoneChange(0, ChangeAction.EDIT, _terms(ops, 60 * USD)),
        MilestoneChange(2, ChangeAction.REMOVE),
    ]
    amendment, signature = _signed(escrow, buyer, deal.id, changes)
    escrow.amend(amendment.as_tuple(), signature, {"from": supplier})  # the supplier submits
    assert stable.balanceOf(buyer) == 340 * USD  # 40 + 300 back
    assert stable.balanceOf(escrow) == 260 * USD
    removed = escrow.getMilestone(deal.id, 2)
    assert (removed["status"], removed["amount"]) == (MilestoneStatus.REMOVED, 0)
    with reverts("MilestoneNotPending"):
        escrow.refund(deal.id, 2, {"from": buyer})


def test_edit_resets_verdicts_and_old_signed_attestations_go_stale(
    escrow, stable, supplier, buyer, inspector, carrier, ops, deal, stranger
):
    m0 = _terms(ops, 100 * USD, oracles=(ops.inspector, ops.carrier), quorum=2)
    escrow.attest(deal.id, 1, EVIDENCE, {"from": inspector})  # released at once (quorum 1)
    old = signed_attestation(escrow, inspector, deal.id, 0)  # signed for version 1
    amendment, signature = _signed(
        escrow, supplier, deal.id, [MilestoneChange(0, ChangeAction.EDIT, m0)]
    )
    escrow.amend(amendment.as_tuple(), signature, {"from": buyer})
    with reverts("StaleAttestation", deal.id, 1, 2):
        escrow.submitAttestation(old.as_tuple(), {"from": stranger})
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    assert escrow.getMilestone(deal.id, 0)["status"] == MilestoneStatus.PENDING  # 1 of 2 now
    escrow.attest(deal.id, 0, EVIDENCE, {"from": carrier})
    assert stable.balanceOf(supplier) == 300 * USD


def test_refusals_change_nothing(escrow, stable, buyer, supplier, inspector, stranger, ops, deal):
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})  # M0 released: not editable
    edit0 = [MilestoneChange(0, ChangeAction.EDIT, _terms(ops, 5 * USD))]
    cases = [
        (_signed(escrow, supplier, deal.id, edit0), buyer, "WrongMilestoneStatus"),
        (
            _signed(escrow, supplier, deal.id, [MilestoneChange(7, ChangeAction.REMOVE)]),
            buyer,
            "UnknownMilestone",
        ),
        (
            _signed(
                escrow, supplier, deal.id, [MilestoneChange(5, ChangeAction.ADD, _terms(ops, USD))]
            ),
            buyer,
            "InvalidChange",
        ),
        (
            _signed(
                escrow,
                supplier,
                deal.id,
                [MilestoneChange(1, ChangeAction.EDIT, _terms(ops, USD, days=-1))],
            ),
            buyer,
            "DueDateNotInFuture",
        ),
        (
            _signed(escrow, stranger, deal.id, [MilestoneChange(2, ChangeAction.REMOVE)]),
            buyer,
            "InvalidCounterpartySignature",
        ),
        (
            _signed(escrow, supplier, deal.id, [MilestoneChange(2, ChangeAction.REMOVE)]),
            stranger,
            "NotDealParty",
        ),
        (
            _signed(
                escrow, supplier, deal.id, [MilestoneChange(2, ChangeAction.REMOVE)], version=2
            ),
            buyer,
            "StaleDealVersion",
        ),
        (
            _signed(
                escrow,
                supplier,
                deal.id,
                [MilestoneChange(2, ChangeAction.REMOVE)],
                deadline=now() - 1,
            ),
            buyer,
            "DeadlinePassed",
        ),
    ]
    for (amendment, signature), sender, error in cases:
        with reverts(error):
            escrow.amend(amendment.as_tuple(), signature, {"from": sender})
    # A top-up without the buyer's allowance fails whole.
    grow = [MilestoneChange(3, ChangeAction.ADD, _terms(ops, 50 * USD))]
    amendment, signature = _signed(escrow, supplier, deal.id, grow)
    with brownie.reverts():
        escrow.amend(amendment.as_tuple(), signature, {"from": buyer})
    # Tokens are only pulled from the sender: a top-up is the buyer's to send.
    stable.mint(buyer, 50 * USD, {"from": buyer})
    stable.approve(escrow, 50 * USD, {"from": buyer})
    amendment, signature = _signed(escrow, buyer, deal.id, grow)
    with reverts("NotBuyer", deal.id, supplier.address):
        escrow.amend(amendment.as_tuple(), signature, {"from": supplier})
    assert escrow.getDeal(deal.id)["version"] == 1
    assert escrow.getDeal(deal.id)["milestoneCount"] == 3
    assert stable.balanceOf(escrow) == 500 * USD


def test_an_amendment_applies_once(escrow, stable, buyer, supplier, ops, deal):
    amendment, signature = _signed(
        escrow, supplier, deal.id, [MilestoneChange(2, ChangeAction.REMOVE)]
    )
    escrow.amend(amendment.as_tuple(), signature, {"from": buyer})
    with reverts("StaleDealVersion", deal.id, 1, 2):
        escrow.amend(amendment.as_tuple(), signature, {"from": buyer})
    assert stable.balanceOf(buyer) == 300 * USD


def test_a_party_revokes_its_signed_change_orders(escrow, stable, buyer, supplier, ops, deal):
    """The supplier signs a change order, thinks better of it and revokes it on chain in one
    call: the buyer can no longer apply it; one signed over the new nonce applies."""
    remove = [MilestoneChange(2, ChangeAction.REMOVE)]
    amendment, signature = _signed(escrow, supplier, deal.id, remove)
    escrow.revokeAgreements(deal.id, {"from": supplier})
    with reverts("AgreementRevoked", deal.id, supplier.address, 0, 1):
        escrow.amend(amendment.as_tuple(), signature, {"from": buyer})
    assert escrow.getDeal(deal.id)["version"] == 1
    assert stable.balanceOf(escrow) == 600 * USD
    amendment, signature = _signed(escrow, supplier, deal.id, remove, nonce=1)
    escrow.amend(amendment.as_tuple(), signature, {"from": buyer})
    assert stable.balanceOf(buyer) == 300 * USD


def test_a_payout_between_signing_and_applying_voids_the_change_order(
    escrow, stable, buyer, supplier, inspector, ops, deal
):
    """A change order speaks to open milestones only: one paid out after the signature was
    given (here released by its oracle) is no longer the signer's to change."""
    remove = [MilestoneChange(0, ChangeAction.REMOVE)]
    amendment, signature = _signed(escrow, buyer, deal.id, remove)
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})
    with reverts("WrongMilestoneStatus", deal.id, 0, MilestoneStatus.RELEASED):
        escrow.amend(amendment.as_tuple(), signature, {"from": supplier})
    assert stable.balanceOf(supplier) == 100 * USD
    assert stable.balanceOf(escrow) == 500 * USD


def test_a_total_past_96_bits_is_a_named_error(escrow, stable, buyer, supplier, ops, deal):
    """Before the fix the sum overflowed inside the escrow (Panic 0x11)."""
    huge = _terms(ops, 2**96 - 1)
    amendment, signature = _signed(
        escrow, supplier, deal.id, [MilestoneChange(3, ChangeAction.ADD, huge)]
    )
    with reverts("TotalTooLarge"):
        escrow.amend(amendment.as_tuple(), signature, {"from": buyer})
    assert escrow.getDeal(deal.id)["milestoneCount"] == 3
