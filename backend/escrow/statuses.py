"""The escrow's enums (IEscrowTypes: the numbers the contract answers) and the service's own
status of a handed-in attestation. The service writes a contract status as its `label`
(`Active`, `Examining`): the strings the deal index stores and the API answers."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Labelled(IntEnum):
    """A Solidity enum; `label` is the service's string for a value (its Solidity name)."""

    label: str

    def __init__(self, *_: object) -> None:
        self.label = self.name.title()  # once per member: the indexer reads it per event


class DealStatus(Labelled):
    NONE = 0
    PROPOSED = 1
    ACCEPTED = 2
    ACTIVE = 3
    CANCELLED = 4


class MilestoneStatus(Labelled):
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


# A milestone in one of these has been paid out or taken out: nothing more happens to it.
FINAL_MILESTONE_STATUSES = frozenset(
    {
        MilestoneStatus.RELEASED,
        MilestoneStatus.REFUNDED,
        MilestoneStatus.SETTLED,
        MilestoneStatus.REMOVED,
    }
)


class ChangeAction(Labelled):
    EDIT = 0
    ADD = 1
    REMOVE = 2


class IntakeStatus(StrEnum):
    """Where an attestation handed to the service stands (backend/relayer.py moves it on)."""

    QUEUED = "queued"
    SUBMITTED = "submitted"  # in a batch transaction sent, not settled yet
    APPLIED = "applied"
    SKIPPED = "skipped"  # the escrow skipped it: `reason` names its error
    FAILED = "failed"  # the batch transaction reverted
