"""Cancellation by agreement: both parties end an Active deal and split what is left; the
other party's EIP-712 `Cancellation` signature, bound to the deal's version, both amounts of
the split, the signer's agreement nonce and a deadline."""

import brownie
import pytest
from helpers import DAY, USD, fund_fully, milestones, now, reverts

from backend import typed_data
from backend.terms import Cancellation, DealStatus, MilestoneStatus, Policy
from scripts.signing import sign_cancellation

EVIDENCE = brownie.web3.keccak(text="inspection report")


def _signed(escrow, signer, deal_id, to_supplier, version=1, deadline=None, to_buyer=None, nonce=0):
    """Signed by `signer` over what is held now (unless `to_buyer` says otherwise)."""
    if to_buyer is None:
        to_buyer = max(escrow.heldFor(deal_id) - to_supplier, 0)
    c = Cancellation(
        deal_id, version, to_supplier, to_buyer, deadline=deadline or now() + DAY, nonce=nonce
    )
    return c, sign_cancellation(escrow, signer, c)


@pytest.fixture
def deal(escrow, stable, buyer, ops, create_deal):
    """Funded, 10% retention: M0 100, M1 200, M2 300 USD, each inspector alone."""
    deal = create_deal(
        milestones([100 * USD, 200 * USD, 300 * USD], [(ops.inspector,)] * 3),
        policy=Policy(warranty_period=30 * DAY, retention_bps=1_000),
    )
    fund_fully(escrow, stable, buyer, deal.id)
    return deal


def test_both_agree_and_what_is_left_is_split(escrow, stable, buyer, supplier, inspector, deal):
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})  # 90 paid, 10 held
    assert stable.balanceOf(supplier) == 90 * USD
    # Left: the holdback of M0 (10) and M1, M2 (500): 510. The supplier keeps 110.
    c, signature = _signed(escrow, supplier, deal.id, 110 * USD)
    digest = typed_data.digest(typed_data.cancellation_message(brownie.chain.id, escrow.address, c))
    assert escrow.hashCancellation(c.as_tuple()) == "0x" + digest.hex()
    tx = escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    ended = tx.events["DealCancelledByAgreement"]
    assert (ended["held"], ended["toSupplier"]) == (510 * USD, 110 * USD)
    assert stable.balanceOf(supplier) == 200 * USD
    assert stable.balanceOf(buyer) == 400 * USD
    assert stable.balanceOf(escrow) == 0
    assert escrow.getDeal(deal.id)["status"] == DealStatus.CANCELLED
    statuses = [escrow.getMilestone(deal.id, i)["status"] for i in range(3)]
    assert statuses == [MilestoneStatus.SETTLED] * 3
    with reverts("WrongDealStatus"):  # replayed
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})


def test_supplier_submits_with_the_buyers_signature(escrow, stable, buyer, supplier, deal):
    c, signature = _signed(escrow, buyer, deal.id, 0)
    escrow.cancelByAgreement(c.as_tuple(), signature, {"from": supplier})
    assert stable.balanceOf(buyer) == 600 * USD


def test_refusals_change_nothing(escrow, stable, buyer, supplier, stranger, deal):
    c, by_stranger = _signed(escrow, stranger, deal.id, 0)
    with reverts("InvalidCounterpartySignature", supplier.address):
        escrow.cancelByAgreement(c.as_tuple(), by_stranger, {"from": buyer})
    c, own = _signed(escrow, buyer, deal.id, 0)
    with reverts("InvalidCounterpartySignature"):  # one party cannot sign for both
        escrow.cancelByAgreement(c.as_tuple(), own, {"from": buyer})
    c, signature = _signed(escrow, supplier, deal.id, 0)
    with reverts("NotDealParty"):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": stranger})
    c, signature = _signed(escrow, supplier, deal.id, 601 * USD)
    with reverts("HeldAmountChanged", deal.id, 601 * USD, 600 * USD):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    c, signature = _signed(escrow, supplier, deal.id, 100 * USD, to_buyer=499 * USD)
    with reverts("HeldAmountChanged", deal.id, 599 * USD, 600 * USD):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    c, signature = _signed(escrow, supplier, deal.id, 0, version=2)
    with reverts("StaleDealVersion", deal.id, 2, 1):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    c, signature = _signed(escrow, supplier, deal.id, 0, deadline=now() + 60)
    brownie.chain.sleep(120)
    with reverts("DeadlinePassed", c.deadline):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    assert stable.balanceOf(escrow) == 600 * USD
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACTIVE


def test_not_before_the_deal_is_active(escrow, buyer, supplier, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    c, signature = _signed(escrow, supplier, deal.id, 0)
    with reverts("WrongDealStatus"):  # cancelDeal is for that
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})


def test_a_payout_between_signing_and_applying_voids_the_split(
    escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    """The review's case: the buyer signs 500/500 of the 1,000 held; milestone 0 (500) is then
    released to the supplier; the supplier applies the signature. Before the fix it ended with
    1,000 and the buyer with 0: now the split no longer matches what is held and is refused."""
    deal = create_deal(milestones([500 * USD, 500 * USD], [(ops.inspector,)] * 2))
    fund_fully(escrow, stable, buyer, deal.id)
    c, signature = _signed(escrow, buyer, deal.id, 500 * USD)
    assert (c.to_supplier, c.to_buyer) == (500 * USD, 500 * USD)
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})  # 500 to the supplier
    with reverts("HeldAmountChanged", deal.id, 1_000 * USD, 500 * USD):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": supplier})
    assert stable.balanceOf(supplier) == 500 * USD
    assert stable.balanceOf(escrow) == 500 * USD
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACTIVE


def test_a_party_revokes_its_signed_cancellations(escrow, stable, buyer, supplier, deal):
    """One call moves the signer's agreement nonce on: its earlier signatures are dead, a new
    one over the new nonce works."""
    c, signature = _signed(escrow, buyer, deal.id, 600 * USD)
    tx = escrow.revokeAgreements(deal.id, {"from": buyer})
    assert tx.events["AgreementsRevoked"]["nonce"] == 1
    assert escrow.agreementNonce(deal.id, buyer) == 1
    assert escrow.agreementNonce(deal.id, supplier) == 0
    with reverts("AgreementRevoked", deal.id, buyer.address, 0, 1):
        escrow.cancelByAgreement(c.as_tuple(), signature, {"from": supplier})
    assert stable.balanceOf(escrow) == 600 * USD
    c, signature = _signed(escrow, buyer, deal.id, 0, nonce=1)
    escrow.cancelByAgreement(c.as_tuple(), signature, {"from": supplier})
    assert stable.balanceOf(buyer) == 600 * USD


def test_only_the_parties_revoke(escrow, stranger, deal):
    with reverts("NotDealParty", deal.id, stranger.address):
        escrow.revokeAgreements(deal.id, {"from": stranger})
    with reverts("UnknownDeal", 999):
        escrow.revokeAgreements(999, {"from": stranger})


def test_held_for_reads_what_a_cancellation_splits(escrow, inspector, deal):
    assert escrow.heldFor(deal.id) == 600 * USD
    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})  # 90 paid, 10 held back
    assert escrow.heldFor(deal.id) == 510 * USD
