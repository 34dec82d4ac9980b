"""Signed oracle attestations: sign, and verify offline.

The JSON form (docs/attestations.md, SignedAttestation.to_json) is what an oracle hands to a
relayer, the service, or the supplier; `verify` checks it without any node for ECDSA keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_account import Account

from backend.escrow import eip712
from backend.escrow.structs import ATTESTATION_FORMAT as FORMAT
from backend.escrow.structs import Attestation, SignedAttestation

__all__ = ["FORMAT", "Attestation", "SignedAttestation", "Verification", "sign", "verify"]


def sign(attestation: Attestation, private_key: str | bytes) -> SignedAttestation:
    signed = eip712.sign(attestation.message(), private_key)
    signer = Account.from_key(private_key).address
    return SignedAttestation(attestation=attestation, signer=signer, signature=signed.signature)


@dataclass(frozen=True)
class Verification:
    ok: bool
    digest: bytes
    recovered: str | None
    problems: tuple[str, ...]


def verify(
    signed: SignedAttestation,
    now: int | None = None,
    contract_check: Callable[[str, bytes, bytes], bool] | None = None,
) -> Verification:
    """Offline checks: the ECDSA signature recovers to `signer`, `s` is in the lower half
    (the escrow refuses malleable signatures), and the deadline has not passed. A contract
    key (EIP-1271) cannot be checked offline: `recovered` then differs from `signer`. Given
    `contract_check(signer, digest, signature)` (an on-chain `isValidSignature` call, as the
    escrow makes), a signature that is not the signer's ECDSA one is put to it instead."""
    digest = signed.attestation.digest()
    signer, recovered, problems = eip712.signer_among(
        (signed.signer,), digest, signed.signature, contract_check
    )
    if signer is None and recovered is not None and recovered != signed.signer:
        problems.append(f"signature is by {recovered}, not by the named signer {signed.signer}")
    now = int(time.time()) if now is None else now
    if now > signed.attestation.deadline:
        problems.append(f"deadline {signed.attestation.deadline} has passed (now {now})")
    return Verification(not problems, digest, recovered, tuple(problems))
