"""The escrow's structs and enums under their former module name: backend/escrow/ owns them.
Kept so that code written against `backend.terms` (scripts, tests, the page's routes) keeps
importing; new code imports backend.escrow.structs and backend.escrow.statuses."""

from backend.escrow.statuses import ChangeAction, DealStatus, MilestoneStatus
from backend.escrow.structs import (
    NO_POLICY,
    Amendment,
    Cancellation,
    DealOffer,
    Milestone,
    MilestoneChange,
    Policy,
)

__all__ = [
    "NO_POLICY",
    "Amendment",
    "Cancellation",
    "ChangeAction",
    "DealOffer",
    "DealStatus",
    "Milestone",
    "MilestoneChange",
    "MilestoneStatus",
    "Policy",
]
