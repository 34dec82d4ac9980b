"""Batches of signed attestations across deals: one bad item is skipped, the rest apply."""

from helpers import USD, fund_fully, milestones, signed_attestation

from backend.terms import MilestoneStatus


def test_batch_across_deals_applies_every_item(
    escrow, stable, buyer, supplier, inspector, carrier, stranger, ops, create_deal, active_deal
):
    other = create_deal(milestones([50 * USD], [(ops.carrier,)]))
    fund_fully(escrow, stable, buyer, other.id)
    batch = [
        signed_attestation(escrow, inspector, active_deal.id, 0),
        signed_attestation(escrow, inspector, active_deal.id, 1),
        signed_attestation(escrow, carrier, active_deal.id, 1),
        signed_attestation(escrow, carrier, other.id, 0),
    ]
    tx = escrow.submitAttestations([s.as_tuple() for s in batch], {"from": stranger})
    assert tx.return_value == 4
    assert stable.balanceOf(supplier) == 350 * USD
    assert "AttestationSkipped" not in tx.events


def test_bad_item_is_skipped_with_its_reason(
    escrow, stable, supplier, inspector, customs, stranger, active_deal
):
    good = signed_attestation(escrow, inspector, active_deal.id, 0)
    wrong_oracle = signed_attestation(escrow, customs, active_deal.id, 0)
    tx = escrow.submitAttestations([wrong_oracle.as_tuple(), good.as_tuple()], {"from": stranger})
    assert tx.return_value == 1
    assert stable.balanceOf(supplier) == 100 * USD
    skipped = tx.events["AttestationSkipped"]
    assert skipped["signer"] == customs
    reason = bytes(skipped["reason"])
    assert reason[:4] == _error_selector("NotMilestoneOracle(uint256,uint256,address)")


def test_duplicate_in_a_batch_counts_once(
    escrow, stable, supplier, inspector, stranger, active_deal
):
    first = signed_attestation(escrow, inspector, active_deal.id, 1)
    tx = escrow.submitAttestations([first.as_tuple(), first.as_tuple()], {"from": stranger})
    assert tx.return_value == 1
    assert bytes(tx.events["AttestationSkipped"]["reason"])[:4] == _error_selector(
        "AlreadyAttested(uint256,uint256,uint32)"
    )
    assert escrow.getMilestone(active_deal.id, 1)["status"] == MilestoneStatus.PENDING


def test_bad_signature_in_a_batch_is_skipped(escrow, inspector, stranger, active_deal):
    good = signed_attestation(escrow, inspector, active_deal.id, 0)
    forged = (good.attestation.as_tuple(), good.signer, b"\x01" * 65)
    tx = escrow.submitAttestations([forged], {"from": stranger})
    assert tx.return_value == 0
    assert bytes(tx.events["AttestationSkipped"]["reason"])[:4] == _error_selector(
        "InvalidAttestationSignature(address)"
    )
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.PENDING


def _error_selector(signature: str) -> bytes:
    import brownie

    return bytes(brownie.web3.keccak(text=signature)[:4])
