"""Signed oracle attestations: build, sign, serialise, and verify offline.

The JSON form (docs/attestations.md) is what an oracle hands to a relayer, the service, or
the supplier; `verify` checks it without any node for ECDSA keys.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_account import Account
from eth_utils import to_checksum_address

from backend import typed_data

FORMAT = "milestone-escrow/attestation@1"


@dataclass(frozen=True)
class Attestation:
    chain_id: int
    escrow: str
    deal_id: int
    milestone: int
    deal_version: int
    met: bool
    evidence_hash: bytes
    deadline: int

    def __post_init__(self) -> None:
        if len(self.evidence_hash) != 32:
            raise ValueError("evidence_hash must be 32 bytes (a sha256)")
        if not 0 < self.deal_version < 2**16:
            raise ValueError("deal_version is a uint16 and starts at 1")

    def fields(self) -> dict:
        return {
            "dealId": self.deal_id,
            "milestone": self.milestone,
            "dealVersion": self.deal_version,
            "met": self.met,
            "evidenceHash": self.evidence_hash,
            "deadline": self.deadline,
        }

    def message(self) -> dict:
        return typed_data.attestation_message(self.chain_id, self.escrow, self.fields())

    def digest(self) -> bytes:
        return typed_data.digest(self.message())

    def as_tuple(self) -> tuple:
        """ABI form of the contract's `Attestation` struct."""
        return (
            self.deal_id,
            self.milestone,
            self.deal_version,
            self.met,
            self.evidence_hash,
            self.deadline,
        )


@dataclass(frozen=True)
class SignedAttestation:
    attestation: Attestation
    signer: str
    signature: bytes

    def as_tuple(self) -> tuple:
        """ABI form of `SignedAttestation`, for submitAttestation(s)."""
        return (self.attestation.as_tuple(), self.signer, self.signature)

    def to_json(self) -> str:
        a = self.attestation
        return json.dumps(
            {
                "format": FORMAT,
                "domain": typed_data.escrow_domain(a.chain_id, a.escrow),
                "attestation": {
                    "dealId": str(a.deal_id),
                    "milestone": str(a.milestone),
                    "dealVersion": a.deal_version,
                    "met": a.met,
                    "evidenceHash": "0x" + a.evidence_hash.hex(),
                    "deadline": str(a.deadline),
                },
                "signer": self.signer,
                "signature": "0x" + self.signature.hex(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SignedAttestation:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} document")
            domain, body = data["domain"], data["attestation"]
            if (domain["name"], domain["version"]) != (
                typed_data.ESCROW_DOMAIN_NAME,
                typed_data.ESCROW_DOMAIN_VERSION,
            ):
                raise ValueError("attestation is for another contract (EIP-712 domain)")
            attestation = Attestation(
                chain_id=_uint(domain["chainId"], "chainId"),
                escrow=to_checksum_address(domain["verifyingContract"]),
                deal_id=_uint(body["dealId"], "dealId"),
                milestone=_uint(body["milestone"], "milestone"),
                deal_version=_uint(body["dealVersion"], "dealVersion"),
                met=_strict_bool(body["met"]),
                evidence_hash=_hex32(body["evidenceHash"]),
                deadline=_uint(body["deadline"], "deadline"),
            )
            return cls(
                attestation,
                to_checksum_address(data["signer"]),
                bytes.fromhex(data["signature"].removeprefix("0x")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed attestation: {exc!r}") from exc


def sign(attestation: Attestation, private_key: str | bytes) -> SignedAttestation:
    signed = typed_data.sign(attestation.message(), private_key)
    signer = Account.from_key(private_key).address
    return SignedAttestation(attestation, signer, signed.signature)


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
    signer, recovered, problems = typed_data.signer_among(
        (signed.signer,), digest, signed.signature, contract_check
    )
    if signer is None and recovered is not None and recovered != signed.signer:
        problems.append(f"signature is by {recovered}, not by the named signer {signed.signer}")
    now = int(time.time()) if now is None else now
    if now > signed.attestation.deadline:
        problems.append(f"deadline {signed.attestation.deadline} has passed (now {now})")
    return Verification(not problems, digest, recovered, tuple(problems))


def _uint(value, name: str) -> int:
    """A uint256 written as a JSON integer or a decimal string: never a boolean or a fraction
    (which int() would take as 1 or truncate)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 256:
        raise ValueError(f"{name} must be a uint256, as an integer or a decimal string")
    return value


def _hex32(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("evidenceHash must be 32 bytes")
    return raw


def _strict_bool(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("met must be true or false")
    return value
