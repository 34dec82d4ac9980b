"""EIP-712 messages: the escrow's domain, full messages, digests, signing with eth-account,
and the signature checks the escrow makes (OpenZeppelin ECDSA, then EIP-1271). The types
themselves come from the structs' declarations (backend/escrow/structs.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

# secp256k1's n / 2: the escrow (OpenZeppelin ECDSA) refuses signatures with a larger s.
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

ESCROW_DOMAIN_NAME = "MilestoneEscrow"
ESCROW_DOMAIN_VERSION = "1"

# The standard's own type (EIP-712), the same for the escrow and for tokens (EIP-2612).
EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def domain(name: str, version: str, chain_id: int, verifying_contract: str) -> dict:
    return {
        "name": name,
        "version": version,
        "chainId": chain_id,
        "verifyingContract": str(verifying_contract),
    }


def escrow_domain(chain_id: int, escrow: str) -> dict:
    return domain(ESCROW_DOMAIN_NAME, ESCROW_DOMAIN_VERSION, chain_id, escrow)


def full_message(types: dict[str, list[dict]], domain: dict, message: dict) -> dict:
    """The message eth_signTypedData_v4 takes: `types` has the primary type first (as
    Struct.eip712_types gives them), `message` that type's fields."""
    primary = next(iter(types))
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN, **types},
        "primaryType": primary,
        "domain": domain,
        "message": message,
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
