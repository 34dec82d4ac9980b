"""The signatures the escrow and its token take from parties off chain, made with local keys on
the chain brownie is connected to: a supplier's offer, a buyer's permit, an oracle's
attestation, the other party's change order or cancellation, a key's consent to serve an
operator. One place for the scripts and the tests (tests/helpers.py)."""

from __future__ import annotations

from brownie import chain, web3

from backend import attestations, typed_data
from backend.terms import Amendment, Cancellation, DealOffer
from scripts.brownie_types import Addressed, LocalKey, PermitToken, address_of
from scripts.local_chain import DAY, now


def sign_offer(escrow: Addressed, supplier: LocalKey, offer: DealOffer) -> bytes:
    """The supplier's EIP-712 signature of `offer`, for acceptOffer(WithPermit)."""
    message = typed_data.offer_message(chain.id, escrow.address, offer)
    return typed_data.sign(message, supplier.private_key).signature


def sign_permit(
    token: PermitToken, owner: LocalKey, spender: Addressed | str, value: int, deadline: int
) -> typed_data.Signature:
    """`owner`'s EIP-2612 permit for `spender` to move `value`, at the owner's next nonce."""
    message = typed_data.permit_message(
        chain.id,
        token.address,
        token.name(),
        owner.address,
        address_of(spender),
        value,
        token.nonces(owner),
        deadline,
    )
    return typed_data.sign(message, owner.private_key)


def sign_amendment(escrow: Addressed, signer: LocalKey, amendment: Amendment) -> bytes:
    """The other party's signature of a change order, for amend()."""
    message = typed_data.amendment_message(chain.id, escrow.address, amendment)
    return typed_data.sign(message, signer.private_key).signature


def sign_cancellation(escrow: Addressed, signer: LocalKey, cancellation: Cancellation) -> bytes:
    """The other party's signature of a cancellation by agreement, for cancelByAgreement()."""
    message = typed_data.cancellation_message(chain.id, escrow.address, cancellation)
    return typed_data.sign(message, signer.private_key).signature


def key_consent(
    escrow: Addressed | str,
    admin: Addressed | str,
    key: Addressed | str,
    signer: LocalKey | None = None,
    deadline: int | None = None,
) -> tuple[int, bytes]:
    """(deadline, signature): `key`'s consent to serve operators administered by `admin`, for
    registerOperator / addOperatorKey (a day from now unless `deadline` says). `signer` signs
    for a contract key (its owner); otherwise `key` signs and must be a local key."""
    deadline = now() + DAY if deadline is None else deadline
    message = typed_data.key_consent_message(
        chain.id, address_of(escrow), address_of(admin), address_of(key), deadline
    )
    by = signer if signer is not None else key
    if not isinstance(by, LocalKey):
        raise TypeError(f"{key} holds no local key: pass the signer that signs for it")
    return deadline, typed_data.sign(message, by.private_key).signature


def signed_attestation(
    escrow_contract: Addressed,
    key: LocalKey,
    deal_id: int,
    index: int,
    met: bool = True,
    *,
    deal_version: int = 1,
    evidence_hash: bytes | None = None,
    deadline: int | None = None,
    chain_id: int | None = None,
    escrow: str | None = None,
) -> attestations.SignedAttestation:
    """An oracle key's verdict on milestone `index` of `deal_id`, signed off chain. Unless
    given: deal version 1, an evidence hash made from the deal and milestone, a deadline a day
    from now, this chain and `escrow_contract`'s address (a test may sign for another)."""
    attestation = attestations.Attestation(
        chain_id=chain.id if chain_id is None else chain_id,
        escrow=escrow_contract.address if escrow is None else escrow,
        deal_id=deal_id,
        milestone=index,
        deal_version=deal_version,
        met=met,
        evidence_hash=(
            bytes(web3.keccak(text=f"evidence {deal_id}/{index}"))
            if evidence_hash is None
            else evidence_hash
        ),
        deadline=now() + DAY if deadline is None else deadline,
    )
    return attestations.sign(attestation, key.private_key)
