"""Attestations signed off chain by an oracle key and relayed by anyone."""

import brownie
from helpers import USD, key_consent, reverts, signed_attestation

from backend.terms import MilestoneStatus
from scripts.deploy import deploy_escrow

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_relayed_attestation_releases(escrow, stable, supplier, inspector, stranger, active_deal):
    signed = signed_attestation(escrow, inspector, active_deal.id, 0)
    tx = escrow.submitAttestation(signed.as_tuple(), {"from": stranger})
    assert stable.balanceOf(supplier) == 100 * USD
    event = tx.events["MilestoneAttested"]
    assert event["signer"] == inspector
    assert event["evidenceHash"] == "0x" + signed.attestation.evidence_hash.hex()


def test_contract_digest_matches_python(escrow, inspector, active_deal):
    signed = signed_attestation(escrow, inspector, active_deal.id, 0)
    assert escrow.hashAttestation(signed.attestation.as_tuple()) == (
        "0x" + signed.attestation.digest().hex()
    )


def test_replay_on_another_deal_is_refused(
    escrow, stable, buyer, inspector, stranger, ops, create_deal, active_deal
):
    from helpers import fund_fully, milestones

    other = create_deal(milestones([5 * USD], [(ops.inspector,)]))
    fund_fully(escrow, stable, buyer, other.id)
    signed = signed_attestation(escrow, inspector, active_deal.id, 0)
    moved = signed.as_tuple()
    moved = ((other.id, *moved[0][1:]), *moved[1:])
    with reverts("InvalidAttestationSignature", inspector.address):
        escrow.submitAttestation(moved, {"from": stranger})


def test_replay_on_another_milestone_is_refused(escrow, inspector, stranger, active_deal):
    t = signed_attestation(escrow, inspector, active_deal.id, 0).as_tuple()
    with reverts("InvalidAttestationSignature"):
        escrow.submitAttestation(((t[0][0], 1, *t[0][2:]), *t[1:]), {"from": stranger})


def test_signature_for_another_chain_is_refused(escrow, inspector, stranger, active_deal):
    signed = signed_attestation(escrow, inspector, active_deal.id, 0, chain_id=1)
    with reverts("InvalidAttestationSignature"):
        escrow.submitAttestation(signed.as_tuple(), {"from": stranger})


def test_signature_for_another_escrow_is_refused(
    escrow, stable, inspector, stranger, deployer, active_deal
):

    twin = deploy_escrow(stable, deployer)
    signed = signed_attestation(escrow, inspector, active_deal.id, 0, escrow=twin.address)
    with reverts("InvalidAttestationSignature"):
        escrow.submitAttestation(signed.as_tuple(), {"from": stranger})


def test_high_s_signature_is_refused(escrow, inspector, stranger, active_deal):
    signed = signed_attestation(escrow, inspector, active_deal.id, 0)
    sig = signed.signature
    s = int.from_bytes(sig[32:64], "big")
    malleable = sig[:32] + (N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    with reverts("InvalidAttestationSignature"):
        escrow.submitAttestation(
            (signed.attestation.as_tuple(), signed.signer, malleable), {"from": stranger}
        )


def test_expired_attestation_is_refused(escrow, inspector, stranger, active_deal):
    signed = signed_attestation(
        escrow, inspector, active_deal.id, 0, deadline=brownie.chain[-1].timestamp + 60
    )
    brownie.chain.sleep(120)
    with reverts("AttestationExpired", signed.attestation.deadline):
        escrow.submitAttestation(signed.as_tuple(), {"from": stranger})


def test_attestation_for_another_deal_version_is_refused(escrow, inspector, stranger, active_deal):
    signed = signed_attestation(escrow, inspector, active_deal.id, 0, deal_version=2)
    with reverts("StaleAttestation", active_deal.id, 2, 1):
        escrow.submitAttestation(signed.as_tuple(), {"from": stranger})


def test_key_revoked_after_signing_no_longer_counts(escrow, inspector, stranger, ops, active_deal):
    signed = signed_attestation(escrow, inspector, active_deal.id, 0)
    escrow.revokeOperatorKey(ops.inspector, inspector, {"from": inspector})
    with reverts("NotMilestoneOracle"):
        escrow.submitAttestation(signed.as_tuple(), {"from": stranger})


def test_key_rotated_out_no_longer_counts_but_new_key_does(
    escrow, stable, supplier, inspector, stranger, ops, active_deal
):
    new_key = brownie.accounts.add()
    escrow.addOperatorKey(
        ops.inspector, new_key, *key_consent(escrow, inspector, new_key), {"from": inspector}
    )
    escrow.revokeOperatorKey(ops.inspector, inspector, {"from": inspector})
    old = signed_attestation(escrow, inspector, active_deal.id, 0)
    with reverts("NotMilestoneOracle"):
        escrow.submitAttestation(old.as_tuple(), {"from": stranger})
    escrow.submitAttestation(
        signed_attestation(escrow, new_key, active_deal.id, 0).as_tuple(), {"from": stranger}
    )
    assert stable.balanceOf(supplier) == 100 * USD


def test_signer_who_is_not_an_oracle_of_the_milestone_is_refused(
    escrow, customs, stranger, active_deal
):
    signed = signed_attestation(escrow, customs, active_deal.id, 0)
    with reverts("NotMilestoneOracle"):
        escrow.submitAttestation(signed.as_tuple(), {"from": stranger})


def test_signature_claimed_for_another_signer_is_refused(escrow, inspector, stranger, active_deal):
    signed = signed_attestation(escrow, stranger, active_deal.id, 0)
    with reverts("InvalidAttestationSignature", inspector.address):
        escrow.submitAttestation(
            (signed.attestation.as_tuple(), inspector, signed.signature), {"from": stranger}
        )


def test_contract_key_signs_by_eip1271(
    escrow, stable, supplier, inspector, stranger, deployer, ops, active_deal
):
    from brownie import MockContractWallet

    multisig = MockContractWallet.deploy(stranger, {"from": deployer})
    escrow.addOperatorKey(
        ops.inspector,
        multisig,
        *key_consent(escrow, inspector, multisig, stranger),
        {"from": inspector},
    )
    signed = signed_attestation(escrow, stranger, active_deal.id, 0)  # the wallet's owner signs
    escrow.submitAttestation(
        (signed.attestation.as_tuple(), multisig, signed.signature), {"from": stranger}
    )
    assert stable.balanceOf(supplier) == 100 * USD
    assert escrow.getMilestone(active_deal.id, 0)["status"] == MilestoneStatus.RELEASED


def test_contract_key_rejecting_the_signature_is_refused(
    escrow, inspector, stranger, deployer, ops, active_deal
):
    from brownie import MockContractWallet

    multisig = MockContractWallet.deploy(stranger, {"from": deployer})
    escrow.addOperatorKey(
        ops.inspector,
        multisig,
        *key_consent(escrow, inspector, multisig, stranger),
        {"from": inspector},
    )
    signed = signed_attestation(escrow, inspector, active_deal.id, 0)  # not the wallet's owner
    with reverts("InvalidAttestationSignature"):
        escrow.submitAttestation(
            (signed.attestation.as_tuple(), multisig, signed.signature), {"from": stranger}
        )


def test_ethers_signed_attestation_is_accepted(
    escrow, stable, supplier, inspector, stranger, active_deal
):
    from test_interop import ethers_sign

    signed = signed_attestation(escrow, inspector, active_deal.id, 0)
    by_ethers = ethers_sign(signed.attestation.message(), inspector.private_key)
    escrow.submitAttestation(
        (signed.attestation.as_tuple(), inspector, by_ethers["signature"]), {"from": stranger}
    )
    assert stable.balanceOf(supplier) == 100 * USD
