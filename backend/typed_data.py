"""EIP-712 messages of the escrow (and EIP-2612 permits of its token), built and signed with
eth-account. docs/typed-data.md documents the same types for other clients."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from backend.terms import Amendment, Cancellation, DealOffer

ESCROW_DOMAIN_NAME = "MilestoneEscrow"
ESCROW_DOMAIN_VERSION = "1"

EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

MILESTONE_TYPE = [
    {"name": "amount", "type": "uint96"},
    {"name": "dueAt", "type": "uint40"},
    {"name": "quorum", "type": "uint8"},
    {"name": "oracles", "type": "uint32[3]"},
    {"name": "requirementsHash", "type": "bytes32"},
]

POLICY_TYPE = [
    {"name": "examinationWindow", "type": "uint32"},
    {"name": "rulingPeriod", "type": "uint32"},
    {"name": "warrantyPeriod", "type": "uint32"},
    {"name": "retentionBps", "type": "uint16"},
]

DEAL_OFFER_TYPE = [
    {"name": "buyer", "type": "address"},
    {"name": "supplier", "type": "address"},
    {"name": "arbiter", "type": "uint32"},
    {"name": "policy", "type": "Policy"},
    {"name": "milestones", "type": "Milestone[]"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]

ATTESTATION_TYPE = [
    {"name": "dealId", "type": "uint256"},
    {"name": "milestone", "type": "uint256"},
    {"name": "dealVersion", "type": "uint16"},
    {"name": "met", "type": "bool"},
    {"name": "evidenceHash", "type": "bytes32"},
    {"name": "deadline", "type": "uint256"},
]

MILESTONE_CHANGE_TYPE = [
    {"name": "index", "type": "uint8"},
    {"name": "action", "type": "uint8"},
    {"name": "terms", "type": "Milestone"},
]

AMENDMENT_TYPE = [
    {"name": "dealId", "type": "uint256"},
    {"name": "dealVersion", "type": "uint16"},
    {"name": "changes", "type": "MilestoneChange[]"},
    {"name": "deadline", "type": "uint256"},
]

CANCELLATION_TYPE = [
    {"name": "dealId", "type": "uint256"},
    {"name": "dealVersion", "type": "uint16"},
    {"name": "toSupplier", "type": "uint96"},
    {"name": "deadline", "type": "uint256"},
]

PERMIT_TYPE = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def escrow_domain(chain_id: int, escrow: str) -> dict:
    return {
        "name": ESCROW_DOMAIN_NAME,
        "version": ESCROW_DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": str(escrow),
    }


def offer_message(chain_id: int, escrow: str, offer: DealOffer) -> dict:
    """The full EIP-712 message a supplier signs to offer a deal."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "DealOffer": DEAL_OFFER_TYPE,
            "Milestone": MILESTONE_TYPE,
            "Policy": POLICY_TYPE,
        },
        "primaryType": "DealOffer",
        "domain": escrow_domain(chain_id, escrow),
        "message": offer.as_typed(),
    }


def attestation_message(chain_id: int, escrow: str, attestation: dict) -> dict:
    """The full EIP-712 message an oracle key signs: `attestation` has the fields of
    ATTESTATION_TYPE (evidenceHash as 32 bytes)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN, "Attestation": ATTESTATION_TYPE},
        "primaryType": "Attestation",
        "domain": escrow_domain(chain_id, escrow),
        "message": dict(attestation),
    }


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
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN, "Permit": PERMIT_TYPE},
        "primaryType": "Permit",
        "domain": {
            "name": token_name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": str(token),
        },
        "message": {
            "owner": str(owner),
            "spender": str(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


@dataclass(frozen=True)
class Signature:
    v: int
    r: bytes
    s: bytes
    signature: bytes  # r || s || v, 65 bytes

    @property
    def vrs(self) -> tuple[int, bytes, bytes]:
        return self.v, self.r, self.s


def digest(message: dict) -> bytes:
    """The 32-byte EIP-712 digest of a full message."""
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign(message: dict, private_key: str | bytes) -> Signature:
    signed = Account.sign_message(encode_typed_data(full_message=message), private_key)
    return Signature(
        v=signed.v,
        r=signed.r.to_bytes(32, "big"),
        s=signed.s.to_bytes(32, "big"),
        signature=bytes(signed.signature),
    )


def cancellation_message(chain_id: int, escrow: str, cancellation: Cancellation) -> dict:
    """The full EIP-712 message the other party signs to end a deal by agreement."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN, "Cancellation": CANCELLATION_TYPE},
        "primaryType": "Cancellation",
        "domain": escrow_domain(chain_id, escrow),
        "message": cancellation.as_typed(),
    }


def amendment_message(chain_id: int, escrow: str, amendment: Amendment) -> dict:
    """The full EIP-712 message the other party signs for a change order."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN,
            "Amendment": AMENDMENT_TYPE,
            "MilestoneChange": MILESTONE_CHANGE_TYPE,
            "Milestone": MILESTONE_TYPE,
        },
        "primaryType": "Amendment",
        "domain": escrow_domain(chain_id, escrow),
        "message": amendment.as_typed(),
    }
