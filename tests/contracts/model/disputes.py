"""Rules: disputes. The buyer disputes a milestone under examination or a holdback under
warranty; the supplier a rejected milestone or one left unattested past its due date; the
arbiter (a live key of the deal's arbiter operator) rules a split by the ruling deadline;
after it anyone settles by the default."""

from __future__ import annotations

from backend.terms import DealStatus, MilestoneStatus

from .abi import error
from .base import ARBITER, ModelBase, aimed
from .engine import PICK, Ints, choice, rule


class DisputeRules(ModelBase):
    def supplier_side(self, deal, sender: str) -> bool:
        """Who may open the supplier side's disputes: the supplier, or the payee its payouts
        are assigned to."""
        return sender == self.supplier or sender == deal.payee

    def _may_dispute(self, deal, m, by_buyer: bool) -> bool:
        if by_buyer:
            retained = m.status == MilestoneStatus.RETAINED
            return (retained or m.status == MilestoneStatus.EXAMINING) and self.next_ts <= m.due_at
        due = m.status == MilestoneStatus.PENDING and self.next_ts > m.due_at
        return m.status == MilestoneStatus.REJECTED or due

    @rule(pick=PICK, by=choice(3))
    def open_dispute(self, pick, by):
        """by 0: the buyer, 1: the supplier, 2: the deal's payee (or a financier)."""
        by_buyer = by == 0
        target = self._target(pick, lambda d, m: self._may_dispute(d, m, by_buyer))
        deal = target[1]
        sender = [self.buyer, self.supplier, deal.payee if deal else self.supplier][by]
        if by == 2 and sender == self.supplier:
            sender = self.p.financier.address
        self._open_dispute(target, sender)

    def _open_dispute(self, target, sender: str) -> None:
        deal_id, deal, index, m = target
        failure = self.require_status(deal_id, deal, DealStatus.ACTIVE)
        if failure is None:  # Disputes.openDispute
            if m is None:
                failure = error("UnknownMilestone", deal_id, index)
            elif sender == self.buyer:
                if m.status not in (MilestoneStatus.RETAINED, MilestoneStatus.EXAMINING):
                    failure = error("WrongMilestoneStatus", deal_id, index, m.status)
                elif self.next_ts > m.due_at:
                    failure = error("DeadlinePassed", m.due_at)
            elif self.supplier_side(deal, sender):
                if m.status == MilestoneStatus.PENDING:
                    if self.next_ts <= m.due_at:
                        failure = error("MilestoneNotDue", deal_id, index, m.due_at)
                elif m.status != MilestoneStatus.REJECTED:
                    failure = error("WrongMilestoneStatus", deal_id, index, m.status)
            else:
                failure = error("NotDealParty", deal_id, sender)
        if not self.expect(self.escrow.open_dispute(sender, deal_id, index), failure):
            return
        m.holdback_dispute = m.status == MilestoneStatus.RETAINED
        m.supplier_dispute = sender != self.buyer
        m.disputed = deal.holdback(m) if m.holdback_dispute else m.amount
        m.status, m.due_at = MilestoneStatus.DISPUTED, self.chain.now + deal.ruling_period

    # Disputes need a milestone in the right stage first: this makes them more frequent.
    @rule(weight=3, pick=PICK, by=choice(2))
    def dispute(self, pick, by):
        self.open_dispute(pick | 1, by)

    @rule(weight=3, pick=PICK, fraction=Ints(0, 110), key=choice(16))
    def rule_split(self, pick, fraction, key):
        """The arbiter splits the disputed amount (fraction > 100: more than is disputed). With
        an aimed pick a live arbiter key, else any key."""
        target = self._target(
            pick, lambda d, m: m.status == MilestoneStatus.DISPUTED and self.next_ts <= m.due_at
        )
        live = self.live_keys(ARBITER)
        sender = live[key % len(live)] if aimed(pick) and live else self.any_key(key)
        self._rule(target, sender, fraction)

    def _rule(self, target, sender: str, fraction: int) -> None:
        deal_id, deal, index, m = target
        disputed = m.disputed if m else 0
        to_supplier = disputed * fraction // 100 if fraction <= 100 else disputed + fraction - 100
        failure = self.open_error(deal_id, deal, index, m, MilestoneStatus.DISPUTED)
        if failure is None:  # Disputes.rule
            if self.operator_of(sender) != ARBITER:
                failure = error("NotArbiter", deal_id, sender)
            elif self.next_ts > m.due_at:
                failure = error("DeadlinePassed", m.due_at)
            elif to_supplier > disputed:
                failure = error("SplitTooLarge", to_supplier, disputed)
        if self.expect(self.escrow.rule(sender, deal_id, index, to_supplier), failure):
            self.settle(deal, m, to_supplier, disputed - to_supplier)

    @rule(weight=2, pick=PICK, who=choice(4))
    def settle_by_default(self, pick, who):
        """After the ruling deadline anyone applies the default: a buyer's dispute releases,
        a holdback dispute pays the holdback, a supplier's dispute refunds."""
        target = self._target(
            pick, lambda d, m: m.status == MilestoneStatus.DISPUTED and self.next_ts > m.due_at
        )
        self._settle_by_default(target, self.party(who))

    def _settle_by_default(self, target, sender: str) -> None:
        deal_id, deal, index, m = target
        failure = self.open_error(deal_id, deal, index, m, MilestoneStatus.DISPUTED)
        if failure is None and self.next_ts <= m.due_at:
            failure = error("DeadlineNotPassed", m.due_at)
        if not self.expect(self.escrow.settle_dispute(sender, deal_id, index), failure):
            return
        if m.supplier_dispute:
            self.settle(deal, m, 0, m.amount)
        elif m.holdback_dispute:
            self.settle(deal, m, m.disputed, 0)
        else:
            self.release(deal, m)

    def settle(self, deal, m, to_supplier: int, to_buyer: int) -> None:
        """Disputes._settle."""
        m.status = MilestoneStatus.SETTLED
        self.pay(deal, deal.payee, to_supplier, supplier_side=True)
        self.pay(deal, self.buyer, to_buyer, supplier_side=False)
