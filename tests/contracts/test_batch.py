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


def _forty_milestones(escrow, stable, buyer, ops, create_deal):
    deal = create_deal(milestones([USD] * 40, [(ops.inspector,)] * 40))
    fund_fully(escrow, stable, buyer, deal.id)
    return deal


def _good_items(escrow, inspector, deal_id):
    return [signed_attestation(escrow, inspector, deal_id, i).as_tuple() for i in range(40)]


def test_a_gas_burning_stranger_costs_a_batch_almost_nothing(
    escrow, stable, buyer, supplier, inspector, stranger, deployer, ops, create_deal
):
    """The review's case: an item naming a contract signer that burns all the gas it gets.
    Before the fix its isValidSignature ran first, with 63/64 of what was left: 40 good items
    plus this one needed ~54M gas instead of ~1M. Now its signer is refused as no oracle of
    the milestone before any call is made."""
    from brownie import GasBurningWallet

    deal = _forty_milestones(escrow, stable, buyer, ops, create_deal)
    burner = GasBurningWallet.deploy(stranger, {"from": deployer})
    burner.setBurning(True, {"from": stranger})
    bad = signed_attestation(escrow, stranger, deal.id, 0)
    bad_item = (bad.attestation.as_tuple(), burner.address, bad.signature)
    good = _good_items(escrow, inspector, deal.id)
    alone = escrow.submitAttestations.estimate_gas(good, {"from": stranger})
    with_bad = escrow.submitAttestations.estimate_gas([bad_item, *good], {"from": stranger})
    # What any skipped item costs: its calldata, its hash, one key lookup, the skip event.
    assert with_bad - alone < 20_000
    tx = escrow.submitAttestations([bad_item, *good], {"from": stranger, "gas_limit": with_bad})
    assert tx.return_value == 40
    assert bytes(tx.events["AttestationSkipped"]["reason"])[:4] == _error_selector(
        "NotMilestoneOracle(uint256,uint256,address)"
    )
    assert stable.balanceOf(supplier) == 40 * USD


def test_an_oracles_own_contract_key_gone_hostile_costs_a_bounded_amount(
    escrow, stable, buyer, supplier, inspector, stranger, deployer, ops, create_deal
):
    """Even a live key of the milestone's own oracle that burns gas gets exactly 50,000 for
    its isValidSignature, and its item is skipped as a bad signature."""
    from brownie import GasBurningWallet
    from helpers import key_consent

    deal = _forty_milestones(escrow, stable, buyer, ops, create_deal)
    burner = GasBurningWallet.deploy(stranger, {"from": deployer})
    escrow.addOperatorKey(
        ops.inspector,
        burner,
        *key_consent(escrow, inspector, burner, stranger),
        {"from": inspector},
    )
    burner.setBurning(True, {"from": stranger})
    bad = signed_attestation(escrow, stranger, deal.id, 0)
    bad_item = (bad.attestation.as_tuple(), burner.address, bad.signature)
    good = _good_items(escrow, inspector, deal.id)
    alone = escrow.submitAttestations.estimate_gas(good, {"from": stranger})
    with_bad = escrow.submitAttestations.estimate_gas([bad_item, *good], {"from": stranger})
    assert with_bad - alone < 50_000 + 20_000
    tx = escrow.submitAttestations([bad_item, *good], {"from": stranger, "gas_limit": with_bad})
    assert tx.return_value == 40
    assert bytes(tx.events["AttestationSkipped"]["reason"])[:4] == _error_selector(
        "InvalidAttestationSignature(address)"
    )
    assert stable.balanceOf(supplier) == 40 * USD


def test_too_little_gas_for_a_contract_signature_fails_the_batch_not_the_item(
    escrow, stable, buyer, inspector, stranger, deployer, ops, active_deal
):
    """A relayer that sends too little gas to give a contract key its full allowance gets a
    named error, rather than a good signature skipped as bad."""
    from brownie import GasBurningWallet
    from helpers import key_consent, reverts

    wallet = GasBurningWallet.deploy(stranger, {"from": deployer})  # honest: not burning
    escrow.addOperatorKey(
        ops.inspector,
        wallet,
        *key_consent(escrow, inspector, wallet, stranger),
        {"from": inspector},
    )
    signed = signed_attestation(escrow, stranger, active_deal.id, 0)
    item = (signed.attestation.as_tuple(), wallet.address, signed.signature)
    with reverts("InsufficientGasForSignatureCheck"):
        escrow.submitAttestations([item], {"from": stranger, "gas_limit": 80_000})
    tx = escrow.submitAttestations([item], {"from": stranger})
    assert tx.return_value == 1
