"""Rules: time passes, in hours or days; or it runs to exactly one second before, at or after a
deadline the model knows, and the call that deadline decides is made in that very block (a
refund or the supplier's dispute at a due date, a release or the buyer's dispute at the end of
a window or warranty, a ruling or the default at a ruling deadline, a signed agreement at its
deadline)."""

from __future__ import annotations

from backend.terms import DealStatus, MilestoneStatus

from .base import ARBITER, ModelBase
from .engine import FLAG, PICK, Ints, rule
from .state import FINAL


class ClockRules(ModelBase):
    @rule(hours=Ints(1, 72))
    def time_passes(self, hours):
        self.chain.advance_to(self.chain.now + hours * 3600)

    @rule(days=Ints(1, 12))
    def days_pass(self, days):
        self.chain.advance_to(self.chain.now + days * 86_400)

    @rule(weight=3, pick=PICK, offset=Ints(-1, 1), which=FLAG)
    def at_deadline(self, pick, offset, which):
        """The next block comes `offset` seconds from a deadline (if that is still ahead), and
        the call it decides is made in it: `which` chooses between the two there are."""
        milestones = [
            (deal_id, deal, index, m)
            for deal_id, deal in self.deals.items()
            if deal.status == DealStatus.ACTIVE
            for index, m in enumerate(deal.milestones)
            if m.status not in FINAL
        ]
        count = len(milestones) + len(self.signed)
        if count == 0:
            return
        chosen = pick % count
        if chosen >= len(milestones):
            signed = self.signed[chosen - len(milestones)]
            self._run_to(signed.deadline + offset)
            self._apply(signed, self._sender(signed, 2))
            return
        target = milestones[chosen]
        m = target[3]
        self._run_to(m.due_at + offset)
        if m.status in (MilestoneStatus.PENDING, MilestoneStatus.REJECTED):
            if which:
                self._open_dispute(target, self.supplier)
            else:
                self._refund(target, self.buyer)
        elif m.status in (MilestoneStatus.EXAMINING, MilestoneStatus.RETAINED):
            if which:
                self._open_dispute(target, self.buyer)
            elif m.status == MilestoneStatus.EXAMINING:
                self._release_after_window(target, self.buyer)
            else:
                self._release_holdback(target, self.buyer)
        elif m.status == MilestoneStatus.DISPUTED:
            live = self.live_keys(ARBITER)
            if which and live:
                self._rule(target, live[0], 50)
            else:
                self._settle_by_default(target, self.buyer)

    def _run_to(self, timestamp: int) -> None:
        """Make `timestamp` the next block's, when it is still ahead."""
        if timestamp - 1 > self.chain.now:
            self.chain.advance_to(timestamp - 1)
