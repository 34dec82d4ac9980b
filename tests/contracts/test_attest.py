"""Attestations by named oracles, quorums, and release to the supplier."""

import brownie
from helpers import USD, key_consent, milestones, reverts

from backend.terms import MilestoneStatus

EVIDENCE = brownie.web3.keccak(text="inspection report")


def test_single_oracle_attestation_releases(escrow, stable, supplier, inspector, ops, active_deal):
    tx = escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    assert stable.balanceOf(supplier) == 100 * USD
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.RELEASED
    released = tx.events["MilestoneReleased"]
    assert (released["to"], released["index"], released["amount"]) == (supplier, 0, 100 * USD)


def test_attestation_event_anchors_the_evidence(escrow, inspector, ops, active_deal):
    tx = escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    event = tx.events["MilestoneAttested"]
    assert event["evidenceHash"] == "0x" + EVIDENCE.hex()
    assert event["operatorId"] == ops.inspector
    assert event["signer"] == inspector


def test_quorum_of_two_waits_for_the_second(escrow, stable, supplier, inspector, active_deal):
    tx = escrow.attest(active_deal.id, 1, EVIDENCE, {"from": inspector})
    assert "MilestoneReleased" not in tx.events
    m = escrow.getMilestone(active_deal.id, 1)
    assert m["status"] == MilestoneStatus.PENDING
    assert m["attestations"] == 1
    assert tuple(m["attested"]) == (True, False, False)
    assert stable.balanceOf(supplier) == 0


def test_second_attestation_completes_quorum(
    escrow, stable, supplier, inspector, carrier, active_deal
):
    escrow.attest(active_deal.id, 1, EVIDENCE, {"from": inspector})
    escrow.attest(active_deal.id, 1, EVIDENCE, {"from": carrier})
    assert stable.balanceOf(supplier) == 200 * USD
    assert tuple(escrow.getMilestone(active_deal.id, 1)["attested"]) == (True, True, False)


def test_milestones_release_in_any_order(escrow, stable, supplier, inspector, customs, active_deal):
    escrow.attest(active_deal.id, 2, EVIDENCE, {"from": customs})
    escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    assert stable.balanceOf(supplier) == 400 * USD
    assert escrow.getMilestone(active_deal.id, 1)["status"] == MilestoneStatus.PENDING


def test_same_oracle_cannot_count_twice(escrow, inspector, ops, active_deal):
    escrow.attest(active_deal.id, 1, EVIDENCE, {"from": inspector})
    with reverts("AlreadyAttested", active_deal.id, 1, ops.inspector):
        escrow.attest(active_deal.id, 1, EVIDENCE, {"from": inspector})


def test_oracle_of_another_milestone_cannot_attest(escrow, customs, active_deal):
    with reverts("NotMilestoneOracle", active_deal.id, 0, customs.address):
        escrow.attest(active_deal.id, 0, EVIDENCE, {"from": customs})


def test_unregistered_key_cannot_attest(escrow, stranger, active_deal):
    with reverts("NotMilestoneOracle"):
        escrow.attest(active_deal.id, 0, EVIDENCE, {"from": stranger})


def test_parties_cannot_attest(escrow, buyer, supplier, active_deal):
    for party in (buyer, supplier):
        with reverts("NotMilestoneOracle"):
            escrow.attest(active_deal.id, 0, EVIDENCE, {"from": party})


def test_released_milestone_is_not_paid_twice(
    escrow, stable, supplier, inspector, carrier, active_deal
):
    escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    with reverts("MilestoneNotPending", active_deal.id, 0, MilestoneStatus.RELEASED):
        escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})
    assert stable.balanceOf(supplier) == 100 * USD


def test_revoked_key_no_longer_attests(escrow, inspector, ops, active_deal):
    escrow.revokeOperatorKey(ops.inspector, inspector, {"from": inspector})
    with reverts("NotMilestoneOracle"):
        escrow.attest(active_deal.id, 0, EVIDENCE, {"from": inspector})


def test_rotated_key_attests_for_live_deal(escrow, stable, supplier, inspector, ops, active_deal):
    new_key = brownie.accounts.add()
    escrow.addOperatorKey(
        ops.inspector, new_key, *key_consent(escrow, inspector, new_key), {"from": inspector}
    )
    escrow.revokeOperatorKey(ops.inspector, inspector, {"from": inspector})
    escrow.attest(active_deal.id, 0, EVIDENCE, {"from": new_key})
    assert stable.balanceOf(supplier) == 100 * USD


def test_unfunded_deal_cannot_be_attested(escrow, inspector, ops, create_deal):
    deal = create_deal(milestones([USD], [(ops.inspector,)]))
    with reverts("WrongDealStatus"):
        escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})


def test_unknown_milestone_cannot_be_attested(escrow, inspector, active_deal):
    with reverts("UnknownMilestone", active_deal.id, 3):
        escrow.attest(active_deal.id, 3, EVIDENCE, {"from": inspector})


def test_unknown_deal_cannot_be_attested(escrow, inspector):
    with reverts("UnknownDeal", 77):
        escrow.attest(77, 0, EVIDENCE, {"from": inspector})
