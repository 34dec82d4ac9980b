"""Deal terms as the contract takes them, and the packed form carried by `DealCreated`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

UINT96_MAX = (1 << 96) - 1  # a milestone's amount
MAX_ORACLES = 3  # oracle slots of a milestone (MilestoneTerms.oracles: uint32[3])
MAX_BPS = 10_000  # the escrow's MAX_BPS: a policy's retention is at most all of it


class DealStatus(IntEnum):
    NONE = 0
    PROPOSED = 1
    ACCEPTED = 2
    ACTIVE = 3
    CANCELLED = 4


class MilestoneStatus(IntEnum):
    NONE = 0
    PENDING = 1
    RELEASED = 2
    REFUNDED = 3
    REJECTED = 4
    EXAMINING = 5
    DISPUTED = 6
    RETAINED = 7
    SETTLED = 8
    REMOVED = 9


@dataclass(frozen=True)
class Milestone:
    """One milestone's terms: `oracles` are operator ids (at most three), `quorum` how many of
    them must attest, `requirements_hash` the sha256 of the evidence-requirements document."""

    amount: int
    due_at: int
    quorum: int
    oracles: tuple[int, ...]
    requirements_hash: bytes = field(default=b"\x00" * 32)

    def __post_init__(self) -> None:
        if not 1 <= len(self.oracles) <= MAX_ORACLES:
            raise ValueError(f"a milestone names one to {MAX_ORACLES} oracles")
        if len(self.requirements_hash) != 32:
            raise ValueError("requirements_hash must be 32 bytes")

    @property
    def oracle_slots(self) -> list[int]:
        """The fixed three-slot list the contract takes, unused slots as 0."""
        return list(self.oracles) + [0] * (MAX_ORACLES - len(self.oracles))

    def as_tuple(self) -> tuple:
        """ABI form of `MilestoneTerms`."""
        return (self.amount, self.due_at, self.quorum, self.oracle_slots, self.requirements_hash)

    def as_typed(self) -> dict:
        """EIP-712 form of `Milestone`."""
        return {
            "amount": self.amount,
            "dueAt": self.due_at,
            "quorum": self.quorum,
            "oracles": self.oracle_slots,
            "requirementsHash": self.requirements_hash,
        }

    def packed(self) -> int:
        """The word `DealCreated.milestones[i]` carries (see IMilestoneEscrow)."""
        o = self.oracle_slots
        return (
            self.amount
            | self.due_at << 96
            | self.quorum << 136
            | o[0] << 144
            | o[1] << 176
            | o[2] << 208
        )

    @classmethod
    def unpack(cls, word: int, requirements_hash: bytes) -> Milestone:
        """Inverse of `packed`, for indexers reading `DealCreated`."""
        oracles = tuple(
            x for x in ((word >> 144) & 0xFFFFFFFF, (word >> 176) & 0xFFFFFFFF, word >> 208) if x
        )
        return cls(
            amount=word & UINT96_MAX,
            due_at=(word >> 96) & ((1 << 40) - 1),
            quorum=(word >> 136) & 0xFF,
            oracles=oracles,
            requirements_hash=bytes(requirements_hash),
        )


@dataclass(frozen=True)
class Policy:
    """A deal's optional terms (IEscrowTypes.Policy), in seconds and basis points. All zero:
    release on quorum, the default ruling period, no retention."""

    examination_window: int = 0
    ruling_period: int = 0
    warranty_period: int = 0
    retention_bps: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.retention_bps <= MAX_BPS:
            raise ValueError(f"retention_bps must be within 0..{MAX_BPS}")
        for name in ("examination_window", "ruling_period", "warranty_period"):
            if not 0 <= getattr(self, name) < 1 << 32:
                raise ValueError(f"{name} must fit a uint32")

    def as_tuple(self) -> tuple:
        return (
            self.examination_window,
            self.ruling_period,
            self.warranty_period,
            self.retention_bps,
        )

    def as_typed(self) -> dict:
        return {
            "examinationWindow": self.examination_window,
            "rulingPeriod": self.ruling_period,
            "warrantyPeriod": self.warranty_period,
            "retentionBps": self.retention_bps,
        }


NO_POLICY = Policy()


@dataclass(frozen=True)
class DealOffer:
    """A deal offered by its supplier off chain (EIP-712 `DealOffer`)."""

    buyer: str
    supplier: str
    arbiter: int
    milestones: tuple[Milestone, ...]
    nonce: int
    deadline: int
    policy: Policy = NO_POLICY

    @property
    def total(self) -> int:
        return sum(m.amount for m in self.milestones)

    def as_tuple(self) -> tuple:
        return (
            self.buyer,
            self.supplier,
            self.arbiter,
            self.policy.as_tuple(),
            [m.as_tuple() for m in self.milestones],
            self.nonce,
            self.deadline,
        )

    def as_typed(self) -> dict:
        return {
            "buyer": self.buyer,
            "supplier": self.supplier,
            "arbiter": self.arbiter,
            "policy": self.policy.as_typed(),
            "milestones": [m.as_typed() for m in self.milestones],
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


@dataclass(frozen=True)
class Cancellation:
    """Both parties end an Active deal (EIP-712 `Cancellation`): the escrow must still hold
    exactly `to_supplier + to_buyer` for it when it is applied; `to_supplier` goes to the payee,
    `to_buyer` to the buyer. `nonce` is the signer's agreement nonce for the deal (0 until it
    revokes its signatures with revokeAgreements)."""

    deal_id: int
    deal_version: int
    to_supplier: int
    to_buyer: int
    deadline: int
    nonce: int = 0

    def as_tuple(self) -> tuple:
        return (
            self.deal_id,
            self.deal_version,
            self.to_supplier,
            self.to_buyer,
            self.nonce,
            self.deadline,
        )

    def as_typed(self) -> dict:
        return {
            "dealId": self.deal_id,
            "dealVersion": self.deal_version,
            "toSupplier": self.to_supplier,
            "toBuyer": self.to_buyer,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


class ChangeAction(IntEnum):
    EDIT = 0
    ADD = 1
    REMOVE = 2


EMPTY_TERMS = (0, 0, 0, [0, 0, 0], b"\x00" * 32)


@dataclass(frozen=True)
class MilestoneChange:
    """One change of a change order: new terms for milestone `index` (EDIT), a new milestone
    appended at `index` == the deal's milestone count (ADD), or `index` taken out (REMOVE)."""

    index: int
    action: ChangeAction
    terms: Milestone | None = None

    def __post_init__(self) -> None:
        if (self.terms is None) != (self.action == ChangeAction.REMOVE):
            raise ValueError("EDIT and ADD carry terms; REMOVE does not")

    def as_tuple(self) -> tuple:
        terms = self.terms.as_tuple() if self.terms else EMPTY_TERMS
        return (self.index, int(self.action), terms)

    def as_typed(self) -> dict:
        if self.terms is not None:
            terms = self.terms.as_typed()
        else:
            terms = dict(
                zip(
                    ("amount", "dueAt", "quorum", "oracles", "requirementsHash"),
                    EMPTY_TERMS,
                    strict=True,
                )
            )
        return {"index": self.index, "action": int(self.action), "terms": terms}


@dataclass(frozen=True)
class Amendment:
    """A change order (EIP-712 `Amendment`) for the deal at `deal_version`, signed over the
    signer's agreement nonce `nonce`."""

    deal_id: int
    deal_version: int
    changes: tuple[MilestoneChange, ...]
    deadline: int
    nonce: int = 0

    def as_tuple(self) -> tuple:
        return (
            self.deal_id,
            self.deal_version,
            [c.as_tuple() for c in self.changes],
            self.nonce,
            self.deadline,
        )

    def as_typed(self) -> dict:
        return {
            "dealId": self.deal_id,
            "dealVersion": self.deal_version,
            "changes": [c.as_typed() for c in self.changes],
            "nonce": self.nonce,
            "deadline": self.deadline,
        }
