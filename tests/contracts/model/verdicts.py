"""Rules: a milestone's way to being paid. Oracle verdicts (met, not met) by live, revoked or
unknown keys; release after the examination window or by the buyer's waiver; the holdback
after the warranty; the buyer's refund after the due date."""

from __future__ import annotations

from backend.terms import DealStatus, MilestoneStatus

from .abi import error
from .base import EVIDENCE, ModelBase, aimed
from .engine import FLAG, PICK, choice, rule
from .state import OPEN


class VerdictRules(ModelBase):
    def _votable(self, deal, m) -> bool:
        return m.status == MilestoneStatus.PENDING and any(self._voters(m))

    def _voters(self, m) -> list[int]:
        """Oracles of `m` yet to give a verdict that have a live key to give it with."""
        return [o for o in m.oracles if o not in m.met | m.not_met and self.live_keys(o)]

    @rule(weight=2, pick=PICK, key=choice(16), met=FLAG)
    def verdict(self, pick, key, met):
        """An oracle key says met or not met. With an aimed pick, a live key of an oracle
        yet to speak on an open milestone; otherwise any key (revoked, unknown, another
        operator's, a party's) on any milestone."""
        deal_id, deal, index, m = self._target(pick, self._votable)
        sender = self.any_key(key)
        if aimed(pick) and deal and m and self._votable(deal, m):
            voters = self._voters(m)
            keys = self.live_keys(voters[key % len(voters)])
            sender = keys[(key >> 2) % len(keys)]
        operator = self.operator_of(sender)
        failure = self.require_status(deal_id, deal, DealStatus.ACTIVE)
        if failure is None:  # MilestoneEscrow._attest
            if m is None:
                failure = error("UnknownMilestone", deal_id, index)
            elif m.status != MilestoneStatus.PENDING:
                failure = error("MilestoneNotPending", deal_id, index, m.status)
            elif operator not in m.oracles:
                failure = error("NotMilestoneOracle", deal_id, index, sender)
            elif operator in m.met | m.not_met:
                failure = error("AlreadyAttested", deal_id, index, operator)
        call = (self.escrow.attest if met else self.escrow.reject)(sender, deal_id, index, EVIDENCE)
        if not self.expect(call, failure):
            return
        if met:
            m.met.add(operator)
            if len(m.met) >= m.quorum:
                self.quorum_met(deal, m)
        else:
            m.not_met.add(operator)
            if len(m.oracles) - len(m.not_met) < m.quorum:
                m.status = MilestoneStatus.REJECTED

    # Attestations and time drive everything else: this makes them more frequent.
    @rule(weight=6, pick=PICK, key=choice(16))
    def attest(self, pick, key):
        self.verdict(pick | 1, key, 1)

    @rule(pick=PICK, who=choice(4))
    def refund(self, pick, who):
        """The buyer takes back an unpaid milestone after its due date (inclusive: not at it)."""

        def refundable(deal, m):
            return m.status in OPEN and self.next_ts > m.due_at

        self._refund(self._target(pick, refundable), self.supplier if who == 0 else self.buyer)

    def _refund(self, target, sender: str) -> None:
        deal_id, deal, index, m = target
        failure = self.require_status(deal_id, deal, DealStatus.ACTIVE)
        if failure is None:  # MilestoneEscrow.refund
            if sender != self.buyer:
                failure = error("NotBuyer", deal_id, sender)
            elif m is None:
                failure = error("UnknownMilestone", deal_id, index)
            elif m.status not in OPEN:
                failure = error("MilestoneNotPending", deal_id, index, m.status)
            elif self.next_ts <= m.due_at:
                failure = error("MilestoneNotDue", deal_id, index, m.due_at)
        if self.expect(self.escrow.refund(sender, deal_id, index), failure):
            m.status = MilestoneStatus.REFUNDED
            self.pay(deal, self.buyer, m.amount, supplier_side=False)

    @rule(weight=2, pick=PICK, who=choice(3))
    def release_after_window(self, pick, who):
        """Anyone releases a milestone whose examination window is over."""
        target = self._target(
            pick, lambda d, m: m.status == MilestoneStatus.EXAMINING and self.next_ts > m.due_at
        )
        self._release_after_window(target, self.party(who + 1))

    def _release_after_window(self, target, sender: str) -> None:
        deal_id, deal, index, m = target
        failure = self.open_error(deal_id, deal, index, m, MilestoneStatus.EXAMINING)
        if failure is None and self.next_ts <= m.due_at:
            failure = error("DeadlineNotPassed", m.due_at)
        if self.expect(self.escrow.release(sender, deal_id, index), failure):
            self.release(deal, m)

    @rule(weight=3, pick=PICK, who=choice(4))
    def waive_window(self, pick, who):
        """The buyer ends the examination early (nobody else may)."""
        deal_id, deal, index, m = self._target(
            pick, lambda d, m: m.status == MilestoneStatus.EXAMINING
        )
        sender = self.supplier if who == 0 else self.buyer
        failure = self.open_error(deal_id, deal, index, m, MilestoneStatus.EXAMINING)
        if failure is None and sender != self.buyer:
            failure = error("NotBuyer", deal_id, sender)
        if self.expect(self.escrow.waive_examination(sender, deal_id, index), failure):
            self.release(deal, m)

    @rule(weight=3, pick=PICK, who=choice(3))
    def release_holdback(self, pick, who):
        """Anyone pays out a holdback once the warranty is over."""
        target = self._target(
            pick, lambda d, m: m.status == MilestoneStatus.RETAINED and self.next_ts > m.due_at
        )
        self._release_holdback(target, self.party(who))

    def _release_holdback(self, target, sender: str) -> None:
        deal_id, deal, index, m = target
        failure = self.open_error(deal_id, deal, index, m, MilestoneStatus.RETAINED)
        if failure is None and self.next_ts <= m.due_at:
            failure = error("DeadlineNotPassed", m.due_at)
        if self.expect(self.escrow.release_retention(sender, deal_id, index), failure):
            m.status = MilestoneStatus.RELEASED
            self.pay(deal, deal.payee, deal.holdback(m), supplier_side=True)
