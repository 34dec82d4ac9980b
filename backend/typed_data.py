"""EIP-712 messages of the escrow (and EIP-2612 permits of its token), built and signed with
eth-account. docs/typed-data.md documents the same types for other clients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from backend.terms import Amendment, Cancellation, DealOffer

# secp256k1's n / 2: the escrow (OpenZeppelin ECDSA) refuses signatures with a larger s.
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

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
    {"name": "nonce", "type": "uint32"},
    {"name": "deadline", "type": "uint256"},
]

CANCELLATION_TYPE = [
    {"name": "dealId", "type": "uint256"},
    {"name": "dealVersion", "type": "uint16"},
    {"name": "toSupplier", "type": "uint96"},
    {"name": "toBuyer", "type": "uint96"},
    {"name": "nonce", "type": "uint32"},
    {"name": "deadline", "type": "uint256"},
]

OPERATOR_KEY_TYPE = [
    {"name": "admin", "type": "address"},
    {"name": "key", "type": "address"},
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


# The types each escrow message refers to (EIP712Domain aside), by primary type.
ESCROW_TYPES = {
    "DealOffer": {"DealOffer": DEAL_OFFER_TYPE, "Milestone": MILESTONE_TYPE, "Policy": POLICY_TYPE},
    "Cancellation": {"Cancellation": CANCELLATION_TYPE},
    "OperatorKey": {"OperatorKey": OPERATOR_KEY_TYPE},
    "Amendment": {
        "Amendment": AMENDMENT_TYPE,
        "MilestoneChange": MILESTONE_CHANGE_TYPE,
        "Milestone": MILESTONE_TYPE,
    },
}


def escrow_message(primary_type: str, chain_id: int, escrow: str, message: dict) -> dict:
    """The full EIP-712 message of `primary_type` (a key of ESCROW_TYPES) in the escrow's
    domain; `message` has that struct's fields (uints as ints, bytes32 as bytes or 0x hex)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN, **ESCROW_TYPES[primary_type]},
        "primaryType": primary_type,
        "domain": escrow_domain(chain_id, escrow),
        "message": message,
    }


def cancellation_message(chain_id: int, escrow: str, cancellation: Cancellation) -> dict:
    """The full EIP-712 message the other party signs to end a deal by agreement."""
    return escrow_message("Cancellation", chain_id, escrow, cancellation.as_typed())


def amendment_message(chain_id: int, escrow: str, amendment: Amendment) -> dict:
    """The full EIP-712 message the other party signs for a change order."""
    return escrow_message("Amendment", chain_id, escrow, amendment.as_typed())


def key_consent_message(chain_id: int, escrow: str, admin: str, key: str, deadline: int) -> dict:
    """The full EIP-712 message a key signs to agree to serve operators administered by
    `admin` (registerOperator / addOperatorKey with a key other than the sender)."""
    message = {"admin": str(admin), "key": str(key), "deadline": deadline}
    return escrow_message("OperatorKey", chain_id, escrow, message)


def ecdsa_recover(digest: bytes, signature: bytes) -> tuple[str | None, list[str]]:
    """The address whose key signed `digest`, and what the escrow's ECDSA check (OpenZeppelin
    `tryRecover`) refuses in the signature: anything but 65 bytes r || s || v, `v` other than
    27 or 28, `s` in the upper half (malleable). (None, problems) when nothing recovers."""
    if len(signature) != 65:
        return None, [f"signature is {len(signature)} bytes, expected 65 (r, s, v)"]
    problems = []
    if int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_N:
        problems.append("signature s is in the upper half (malleable): the escrow refuses it")
    if signature[64] not in (27, 28):
        problems.append(f"signature v is {signature[64]}: the escrow takes 27 or 28")
    try:
        recovered = Account._recover_hash(digest, signature=signature)
    except Exception as exc:  # eth-keys raises several types for garbage input
        return None, [*problems, f"signature does not recover: {exc}"]
    return recovered, problems


def signer_among(
    candidates: Iterable[str],
    digest: bytes,
    signature: bytes,
    contract_check: Callable[[str, bytes, bytes], bool] | None = None,
) -> tuple[str | None, str | None, list[str]]:
    """Which of `candidates` signed `digest`, as the escrow checks a signature for an address
    (EscrowBase._isValidSignature): a clean ECDSA signature (ecdsa_recover) that recovers to
    it, else, given `contract_check(address, digest, signature)` (an on-chain
    `isValidSignature` call, Chain.accepts_signature), a contract (EIP-1271) that accepts it.
    Returns (that candidate or None, the ECDSA-recovered address or None, the ECDSA
    signature's problems); no candidate and no problems: a clean signature by someone else."""
    candidates = tuple(candidates)
    recovered, problems = ecdsa_recover(digest, signature)
    if not problems and recovered in candidates:
        return recovered, recovered, []
    if contract_check is not None:
        for candidate in candidates:
            if contract_check(candidate, digest, signature):
                return candidate, recovered, []
    return None, recovered, problems
