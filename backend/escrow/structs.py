"""The escrow's structs (contracts/interfaces/IEscrowTypes.sol), each declared once: the ABI
tuple, the EIP-712 type and message, and the HTTP model (backend/escrow/http.py) are derived
from these fields; tests/contracts/test_vocabulary.py holds them to the compiled ABI and the
escrow's own hashing. The views the escrow answers (DealView, MilestoneView) are read by
their ABI component names (backend/escrow/abi.py), so they are not repeated here."""

from __future__ import annotations

import json
from dataclasses import KW_ONLY, dataclass
from typing import Literal, get_args

from eth_utils import to_checksum_address

from backend.escrow import eip712
from backend.escrow.statuses import ChangeAction
from backend.escrow.struct import Struct, bits, sol

ZERO_HASH = b"\x00" * 32
AttestationFormat = Literal["milestone-escrow/attestation@1"]
ATTESTATION_FORMAT: str = get_args(AttestationFormat)[0]
AGREEMENT_NONCE = "the signer's agreementNonce for the deal"
MAX_ORACLES = 3  # oracle slots of a milestone (MilestoneTerms.oracles: uint32[3])
MAX_BPS = 10_000  # the escrow's MAX_BPS: a policy's retention is at most all of it
UINT96_MAX = (1 << bits("uint96")) - 1  # a milestone's amount


def _fits(struct: Struct) -> None:
    """Every uint field of `struct` fits its type."""
    for name, s in struct.sol_fields():
        value = getattr(struct, name)
        kind = s.solidity
        if kind.startswith("uint") and s.base == kind and not 0 <= value < 1 << bits(kind):
            raise ValueError(f"{name} must fit a {kind}")


@dataclass(frozen=True)
class Policy(Struct):
    """A deal's optional terms, in seconds and basis points. All zero: release on quorum, the
    default ruling period, no retention."""

    EIP712 = ABI = "Policy"

    examination_window: int = sol("uint32", "examinationWindow", default=0)
    ruling_period: int = sol("uint32", "rulingPeriod", default=0)
    warranty_period: int = sol("uint32", "warrantyPeriod", default=0)
    retention_bps: int = sol("uint16", "retentionBps", default=0)

    def __post_init__(self) -> None:
        if not 0 <= self.retention_bps <= MAX_BPS:
            raise ValueError(f"retention_bps must be within 0..{MAX_BPS}")
        _fits(self)


NO_POLICY = Policy()


def _slots(oracles: tuple[int, ...]) -> list[int]:
    """The fixed three-slot list the contract takes, unused slots as 0."""
    return list(oracles) + [0] * (MAX_ORACLES - len(oracles))


@dataclass(frozen=True)
class Milestone(Struct):
    """One milestone's terms: `oracles` are operator ids (one to three), `quorum` how many of
    them must attest, `requirements_hash` the sha256 of the evidence-requirements document."""

    EIP712, ABI = "Milestone", "MilestoneTerms"

    amount: int = sol("uint96", "amount")
    due_at: int = sol("uint40", "dueAt")
    quorum: int = sol("uint8", "quorum")
    oracles: tuple[int, ...] = sol("uint32[3]", "oracles", encode=_slots)
    requirements_hash: bytes = sol("bytes32", "requirementsHash", default=ZERO_HASH)

    def __post_init__(self) -> None:
        if not 1 <= len(self.oracles) <= MAX_ORACLES:
            raise ValueError(f"a milestone names one to {MAX_ORACLES} oracles")
        if len(self.requirements_hash) != 32:
            raise ValueError("requirements_hash must be 32 bytes")

    @property
    def oracle_slots(self) -> list[int]:
        return _slots(self.oracles)

    def packed(self) -> int:
        """The word `DealCreated.milestones[i]` (and `MilestoneAmended.terms`) carries: every
        term but the requirements hash, from the least significant bit, each its type's
        width (IMilestoneEscrow)."""
        word, shift = 0, 0
        for width, value in _packed_terms(self.amount, self.due_at, self.quorum, self.oracles):
            word |= value << shift
            shift += width
        return word

    @classmethod
    def unpack(cls, word: int, requirements_hash: bytes) -> Milestone:
        """Inverse of `packed`, for indexers reading `DealCreated`."""
        values = []
        for width, _ in _packed_terms(0, 0, 0, ()):
            values.append(word & ((1 << width) - 1))
            word >>= width
        amount, due_at, quorum, *oracles = values
        return cls(
            amount=amount,
            due_at=due_at,
            quorum=quorum,
            oracles=tuple(o for o in oracles if o),
            requirements_hash=bytes(requirements_hash),
        )


def _packed_terms(
    amount: int, due_at: int, quorum: int, oracles: tuple[int, ...]
) -> list[tuple[int, int]]:
    """(width, value) of each packed term, in the declared order: the three scalars, then
    each of the three oracle slots."""
    widths = [bits(s.base) for _, s in Milestone.sol_fields()[:4]]
    return list(zip(widths[:3], (amount, due_at, quorum), strict=True)) + [
        (widths[3], slot) for slot in _slots(oracles)
    ]


@dataclass(frozen=True)
class DealOffer(Struct):
    """A deal offered by its supplier off chain."""

    EIP712 = ABI = "DealOffer"

    buyer: str = sol("address", "buyer")
    supplier: str = sol("address", "supplier")
    arbiter: int = sol("uint32", "arbiter")
    _: KW_ONLY
    policy: Policy = sol("Policy", "policy", default=NO_POLICY)
    milestones: tuple[Milestone, ...] = sol("Milestone[]", "milestones")
    nonce: int = sol("uint256", "nonce")
    deadline: int = sol("uint256", "deadline")

    @property
    def total(self) -> int:
        return sum(m.amount for m in self.milestones)


@dataclass(frozen=True)
class Attestation(Struct):
    """An oracle's verdict on one milestone, for the escrow at `escrow` on `chain_id` (its
    EIP-712 domain, not part of the struct)."""

    EIP712 = ABI = "Attestation"

    chain_id: int
    escrow: str
    deal_id: int = sol("uint256", "dealId")
    milestone: int = sol("uint256", "milestone")
    deal_version: int = sol("uint16", "dealVersion", low=1)  # versions start at 1
    met: bool = sol("bool", "met")
    evidence_hash: bytes = sol("bytes32", "evidenceHash")
    deadline: int = sol("uint256", "deadline")

    def __post_init__(self) -> None:
        if len(self.evidence_hash) != 32:
            raise ValueError("evidence_hash must be 32 bytes (a sha256)")
        if not 0 < self.deal_version < 2**16:
            raise ValueError("deal_version is a uint16 and starts at 1")

    def message(self) -> dict:
        return self.typed_message(eip712.escrow_domain(self.chain_id, self.escrow))

    def digest(self) -> bytes:
        return eip712.digest(self.message())


@dataclass(frozen=True)
class SignedAttestation(Struct):
    """An attestation with its signer (an operator key) and signature, as submitAttestation(s)
    takes it; its JSON document is backend/attestations.py's."""

    ABI = "SignedAttestation"

    attestation: Attestation = sol("Attestation", "attestation")
    signer: str = sol("address", "signer")
    signature: bytes = sol("bytes", "signature")

    def to_json(self) -> str:
        """The document (docs/attestations.md): uint256 values as decimal strings."""
        a = self.attestation
        fields = a.as_typed()
        for _, s in Attestation.sol_fields():
            if s.solidity == "uint256":
                fields[s.name] = str(fields[s.name])
        fields["evidenceHash"] = "0x" + a.evidence_hash.hex()
        document = {
            "format": ATTESTATION_FORMAT,
            "domain": eip712.escrow_domain(a.chain_id, a.escrow),
            "attestation": fields,
            "signer": self.signer,
            "signature": "0x" + self.signature.hex(),
        }
        return json.dumps(document, indent=2)

    @classmethod
    def from_json(cls, text: str) -> SignedAttestation:
        try:
            data = json.loads(text)
            if data.get("format") != ATTESTATION_FORMAT:
                raise ValueError(f"not a {ATTESTATION_FORMAT} document")
            domain, body = data["domain"], data["attestation"]
            if (domain["name"], domain["version"]) != (
                eip712.ESCROW_DOMAIN_NAME,
                eip712.ESCROW_DOMAIN_VERSION,
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
                attestation=attestation,
                signer=to_checksum_address(data["signer"]),
                signature=bytes.fromhex(data["signature"].removeprefix("0x")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed attestation: {exc!r}") from exc


def _uint(value: object, name: str) -> int:
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


def _strict_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("met must be true or false")
    return value


@dataclass(frozen=True)
class Cancellation(Struct):
    """Both parties end an Active deal: the escrow must still hold exactly `to_supplier +
    to_buyer` for it when it is applied; `to_supplier` goes to the payee, `to_buyer` to the
    buyer. `nonce` is the signer's agreement nonce for the deal (0 until it revokes its
    signatures with revokeAgreements)."""

    EIP712 = ABI = "Cancellation"

    deal_id: int = sol("uint256", "dealId")
    deal_version: int = sol("uint16", "dealVersion")
    to_supplier: int = sol("uint96", "toSupplier")
    to_buyer: int = sol("uint96", "toBuyer")
    _: KW_ONLY
    nonce: int = sol("uint32", "nonce", default=0, doc=AGREEMENT_NONCE)
    deadline: int = sol("uint256", "deadline")


@dataclass(frozen=True)
class MilestoneChange(Struct):
    """One change of a change order: new terms for milestone `index` (EDIT), a new milestone
    appended at `index` == the deal's milestone count (ADD), or `index` taken out (REMOVE:
    no terms; the signer signs zeros)."""

    EIP712 = ABI = "MilestoneChange"

    index: int = sol("uint8", "index")
    action: ChangeAction = sol("uint8", "action", enum=ChangeAction)
    terms: Milestone | None = sol("Milestone", "terms", default=None)

    def __post_init__(self) -> None:
        if (self.terms is None) != (self.action == ChangeAction.REMOVE):
            raise ValueError("EDIT and ADD carry terms; REMOVE does not")


@dataclass(frozen=True)
class Amendment(Struct):
    """A change order for the deal at `deal_version`, signed over the signer's agreement
    nonce `nonce`."""

    EIP712 = ABI = "Amendment"

    deal_id: int = sol("uint256", "dealId")
    deal_version: int = sol("uint16", "dealVersion")
    changes: tuple[MilestoneChange, ...] = sol("MilestoneChange[]", "changes", max_items=255)
    _: KW_ONLY
    nonce: int = sol("uint32", "nonce", default=0, doc=AGREEMENT_NONCE)
    deadline: int = sol("uint256", "deadline")


@dataclass(frozen=True)
class OperatorKey(Struct):
    """A key's consent to serve the operators administered by `admin` (registerOperator /
    addOperatorKey with a key other than the sender)."""

    EIP712 = "OperatorKey"

    admin: str = sol("address", "admin")
    key: str = sol("address", "key")
    deadline: int = sol("uint256", "deadline")


@dataclass(frozen=True)
class Permit(Struct):
    """An EIP-2612 permit of the token (in the token's domain) for `spender` to move `value`
    of `owner`'s tokens."""

    EIP712 = "Permit"

    owner: str = sol("address", "owner")
    spender: str = sol("address", "spender")
    value: int = sol("uint256", "value")
    nonce: int = sol("uint256", "nonce")
    deadline: int = sol("uint256", "deadline")


# What the escrow verifies signatures of, by EIP-712 type name (the page signs these; an
# operator key signs its Attestation on the oracle's desk).
SIGNED: dict[str, type[Struct]] = {
    s.EIP712: s for s in (DealOffer, Cancellation, Amendment, OperatorKey, Attestation) if s.EIP712
}
