"""Deal terms as the contract takes them, and the packed form carried by `DealCreated`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

UINT96_MAX = (1 << 96) - 1


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
        if not 1 <= len(self.oracles) <= 3:
            raise ValueError("a milestone names one to three oracles")
        if len(self.requirements_hash) != 32:
            raise ValueError("requirements_hash must be 32 bytes")

    @property
    def oracle_slots(self) -> list[int]:
        """The fixed three-slot list the contract takes, unused slots as 0."""
        return list(self.oracles) + [0] * (3 - len(self.oracles))

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
class DealOffer:
    """A deal offered by its supplier off chain (EIP-712 `DealOffer`)."""

    buyer: str
    supplier: str
    arbiter: int
    milestones: tuple[Milestone, ...]
    nonce: int
    deadline: int

    @property
    def total(self) -> int:
        return sum(m.amount for m in self.milestones)

    def as_tuple(self) -> tuple:
        return (
            self.buyer,
            self.supplier,
            self.arbiter,
            [m.as_tuple() for m in self.milestones],
            self.nonce,
            self.deadline,
        )

    def as_typed(self) -> dict:
        return {
            "buyer": self.buyer,
            "supplier": self.supplier,
            "arbiter": self.arbiter,
            "milestones": [m.as_typed() for m in self.milestones],
            "nonce": self.nonce,
            "deadline": self.deadline,
        }
