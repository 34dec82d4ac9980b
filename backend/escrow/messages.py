"""The full EIP-712 messages the escrow's parties sign, in the escrow's domain (an EIP-2612
permit in its token's): what wallets are handed and what the escrow hashes."""

from __future__ import annotations

from backend.escrow.eip712 import domain, escrow_domain, full_message
from backend.escrow.struct import Struct
from backend.escrow.structs import (
    SIGNED,
    Amendment,
    Attestation,
    Cancellation,
    DealOffer,
    OperatorKey,
    Permit,
)

# The types of each message the escrow verifies (EIP712Domain aside), by primary type: what
# the page signs with (/app/config.json).
ESCROW_TYPES = {name: struct.eip712_types() for name, struct in SIGNED.items()}


def escrow_message(struct: type[Struct], chain_id: int, escrow: str, message: dict) -> dict:
    """The full message of `struct`'s type in the escrow's domain, `message` its fields by
    wire name (uints as ints, bytes32 as bytes or 0x hex): for messages handed in as JSON."""
    return full_message(struct.eip712_types(), escrow_domain(chain_id, escrow), dict(message))


def offer_message(chain_id: int, escrow: str, offer: DealOffer) -> dict:
    """What a supplier signs to offer a deal."""
    return offer.typed_message(escrow_domain(chain_id, escrow))


def cancellation_message(chain_id: int, escrow: str, cancellation: Cancellation) -> dict:
    """What the other party signs to end a deal by agreement."""
    return cancellation.typed_message(escrow_domain(chain_id, escrow))


def amendment_message(chain_id: int, escrow: str, amendment: Amendment) -> dict:
    """What the other party signs for a change order."""
    return amendment.typed_message(escrow_domain(chain_id, escrow))


def attestation_message(chain_id: int, escrow: str, attestation: dict) -> dict:
    """What an oracle key signs: `attestation` has the fields of `Attestation` by wire name."""
    return escrow_message(Attestation, chain_id, escrow, attestation)


def key_consent_message(chain_id: int, escrow: str, admin: str, key: str, deadline: int) -> dict:
    """What a key signs to agree to serve operators administered by `admin`
    (registerOperator / addOperatorKey with a key other than the sender)."""
    consent = OperatorKey(admin=str(admin), key=str(key), deadline=deadline)
    return consent.typed_message(escrow_domain(chain_id, escrow))


def permit_message(
    chain_id: int,
    token: str,
    token_name: str,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
    version: str = "1",
) -> dict:
    """An EIP-2612 permit for `spender` to move `value` of `owner`'s tokens."""
    permit = Permit(
        owner=str(owner), spender=str(spender), value=value, nonce=nonce, deadline=deadline
    )
    return permit.typed_message(domain(token_name, version, chain_id, token))
