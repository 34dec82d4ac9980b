"""The escrow's model: every rule mixin on one machine (see base.ModelBase for the checks)."""

from __future__ import annotations

from .agreements import AgreementRules
from .clock import ClockRules
from .deals import DealRules
from .disputes import DisputeRules
from .operators import OperatorRules
from .payouts import PayoutRules
from .verdicts import VerdictRules


class EscrowModel(
    DealRules,
    VerdictRules,
    DisputeRules,
    AgreementRules,
    PayoutRules,
    OperatorRules,
    ClockRules,
):
    """One example: a fresh chain (the deployment's snapshot) and an empty model."""
