"""What the model believes: deals, milestones and every account's money, in plain Python.

Amounts are exact, for every token of the hostile set: the fee-on-transfer token burns
`amount // 100` of each transfer, the denylisting token refuses transfers to or from listed
accounts (the escrow then keeps the payout as owed), the re-entrant token calls back into the
escrow on each transfer (and must be refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.terms import DealStatus, MilestoneStatus, Policy

OPEN = frozenset({MilestoneStatus.PENDING, MilestoneStatus.REJECTED})
# What nobody has been paid for yet: open, or under examination.
UNPAID = OPEN | {MilestoneStatus.EXAMINING}
FINAL = frozenset(
    {
        MilestoneStatus.RELEASED,
        MilestoneStatus.REFUNDED,
        MilestoneStatus.SETTLED,
        MilestoneStatus.REMOVED,
    }
)
DEFAULT_RULING_PERIOD = 30 * 86_400
BPS = 10_000


@dataclass
class ModelMilestone:
    amount: int
    due_at: int  # the current stage's deadline, as the contract keeps it
    quorum: int
    oracles: tuple[int, ...]
    met: set[int] = field(default_factory=set)
    not_met: set[int] = field(default_factory=set)
    status: MilestoneStatus = MilestoneStatus.PENDING
    disputed: int = 0  # the amount under dispute
    supplier_dispute: bool = False  # opened by the supplier side: the default refunds
    holdback_dispute: bool = False  # over the holdback only: the default pays it


@dataclass
class ModelDeal:
    id: int
    milestones: list[ModelMilestone]
    policy: Policy
    payee: str  # where payouts to the supplier side go
    status: DealStatus
    version: int = 1
    unfunded: int = 0
    credited: int = 0  # every token that arrived for this deal (funding, top-ups)
    paid_out: int = 0  # every token that left it (pushed, or kept as owed)
    to_supplier_side: int = 0  # of paid_out, what went to the payee
    to_buyer: int = 0  # of paid_out, what went back to the buyer
    nonces: dict[str, int] = field(default_factory=dict)  # each party's agreement nonce
    consents: dict[bytes, str] = field(default_factory=dict)  # digest -> the payee that agreed

    @property
    def total(self) -> int:
        return sum(m.amount for m in self.milestones)

    @property
    def has_policy(self) -> bool:
        return self.policy != Policy()

    @property
    def ruling_period(self) -> int:
        return self.policy.ruling_period or DEFAULT_RULING_PERIOD

    def holdback(self, m: ModelMilestone) -> int:
        return m.amount * self.policy.retention_bps // BPS

    def held_for(self, m: ModelMilestone) -> int:
        """What the escrow still holds for milestone `m` of an Active deal."""
        if m.status in UNPAID:
            return m.amount
        if m.status == MilestoneStatus.RETAINED:
            return self.holdback(m)
        if m.status == MilestoneStatus.DISPUTED:
            return m.disputed
        return 0

    @property
    def held(self) -> int:
        """What the escrow holds for this deal: deposits before it is Active, the milestones'
        unpaid amounts while it is, nothing once it is Cancelled."""
        if self.status == DealStatus.ACTIVE:
            return sum(self.held_for(m) for m in self.milestones)
        if self.status == DealStatus.CANCELLED:
            return 0
        return self.total - self.unfunded


@dataclass
class Token:
    """How the token under test moves money, as the model predicts it."""

    kind: str  # a key of MODEL_TOKENS (tests/contracts/test_stateful.py)
    denylist: set[str] = field(default_factory=set)
    hook_armed: bool = False  # the re-entrant token calls back on every transfer
    hook_refused: int = 0  # call-backs the escrow refused (all of them, it must be)

    def fee(self, amount: int) -> int:
        return amount // 100 if self.kind == "fee-on-transfer" else 0

    def refuses(self, *accounts: str) -> bool:
        """A transfer between these accounts reverts (the denylisting token)."""
        return any(a in self.denylist for a in accounts)

    def transferred(self) -> None:
        """One transfer happened (the re-entrant token's hook ran, and was refused)."""
        if self.hook_armed:
            self.hook_refused += 1


@dataclass
class Ledger:
    """Every account's expected token balance and owed amount, as deltas from the start of the
    example: each payout, deposit and withdrawal moves them by exactly the rules."""

    balance: dict[str, int] = field(default_factory=dict)
    owed: dict[str, int] = field(default_factory=dict)

    def move(self, account: str, delta: int) -> None:
        self.balance[account] = self.balance.get(account, 0) + delta

    def owe(self, account: str, delta: int) -> None:
        self.owed[account] = self.owed.get(account, 0) + delta
