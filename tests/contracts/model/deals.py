"""Rules: a deal's set-up. Create (by the supplier: Accepted; by the buyer: Proposed, then
accepted), with or without a policy (examination window, retention), fund (partly, fully, more
than needed), call off before it is Active."""

from __future__ import annotations

from backend.terms import DealStatus, Milestone, Policy

from .abi import error
from .base import ARBITER, DAY, DENIED, ORACLES, ModelBase
from .engine import FLAG, PICK, Ints, choice, rule
from .state import ModelDeal, ModelMilestone

WINDOW, WARRANTY, RULING = 4 * DAY, 10 * DAY, 5 * DAY
AMOUNT = Ints(1, 10**9)


class DealRules(ModelBase):
    def _terms(self, count, amounts, oracles, quorum, flaw) -> list[Milestone]:
        """Milestone i is due (i + 1) * 10 days from now and attested by `oracles` operators
        starting at a different one each; `flaw` 0 asks for one oracle too few (InvalidQuorum),
        1 a first due date at the next block (DueDateNotInFuture), 2 one second later (valid)."""
        terms = []
        for i, amount in enumerate(amounts[:count]):
            n = min(3, quorum + oracles)
            due = self.next_ts + (i + 1) * 10 * DAY
            if i == 0 and flaw in (1, 2):
                due = self.next_ts + flaw - 1
            terms.append(
                Milestone(
                    amount=amount,
                    due_at=due,
                    quorum=n + 1 if flaw == 0 else min(quorum, n),
                    oracles=tuple(ORACLES[(i + j) % 3] for j in range(n)),
                    requirements_hash=bytes([i + 1]) * 32,
                )
            )
        return terms

    @staticmethod
    def _policy(policy: int, window: int, retention: int) -> Policy:
        """policy 0: none at all (the escrow's fast path); otherwise the given options."""
        if policy == 0:
            return Policy()
        return Policy(
            examination_window=WINDOW if window else 0,
            ruling_period=RULING,
            warranty_period=WARRANTY,
            retention_bps=1_000 if retention else 0,
        )

    def _create(self, sender: str, terms: list[Milestone], policy: Policy) -> int:
        """createDeal; returns the new deal's id (0: refused)."""
        failure = None
        for i, t in enumerate(terms):  # EscrowBase._checkTerms, milestone by milestone
            if t.due_at <= self.next_ts:
                failure = error("DueDateNotInFuture", i, t.due_at)
            elif t.quorum > len(t.oracles):
                failure = error("InvalidQuorum", i, t.quorum, len(t.oracles))
            if failure:
                break
        call = self.escrow.create_deal(sender, self.buyer, self.supplier, ARBITER, policy, terms)
        if not self.expect(call, failure):
            return 0
        deal_id = len(self.deals) + 1
        by_supplier = sender == self.supplier
        self.deals[deal_id] = ModelDeal(
            deal_id,
            [ModelMilestone(t.amount, t.due_at, t.quorum, t.oracles) for t in terms],
            policy,
            payee=self.supplier,
            status=DealStatus.ACCEPTED if by_supplier else DealStatus.PROPOSED,
            unfunded=sum(t.amount for t in terms),
        )
        return deal_id

    @rule(
        count=Ints(1, 3),
        a0=AMOUNT,
        a1=AMOUNT,
        a2=AMOUNT,
        oracles=choice(3),
        quorum=Ints(1, 2),
        policy=choice(4),
        window=choice(4),
        retention=choice(4),
    )
    def start(self, count, a0, a1, a2, oracles, quorum, policy, window, retention):
        """Every example begins with a funded deal."""
        terms = self._terms(count, (a0, a1, a2), oracles, quorum, flaw=3)
        deal_id = self._create(self.supplier, terms, self._policy(policy, window, retention))
        self._fund_fully(deal_id, self.deals[deal_id])

    @rule(
        weight=3,
        by_buyer=FLAG,
        count=Ints(1, 3),
        a0=AMOUNT,
        a1=AMOUNT,
        a2=AMOUNT,
        oracles=choice(3),
        quorum=Ints(1, 3),
        policy=choice(4),
        window=choice(4),
        retention=choice(4),
        flaw=choice(24),
        funded=choice(4),
    )
    def create(
        self, by_buyer, count, a0, a1, a2, oracles, quorum, policy, window, retention, flaw, funded
    ):
        """A new deal; the supplier's is funded at once unless `funded` is 0."""
        terms = self._terms(count, (a0, a1, a2), oracles, quorum, flaw)
        sender = self.buyer if by_buyer else self.supplier
        deal_id = self._create(sender, terms, self._policy(policy, window, retention))
        if deal_id and funded and not by_buyer:
            self._fund_fully(deal_id, self.deals[deal_id])

    @rule(pick=PICK, who=choice(4))
    def accept(self, pick, who):
        """The supplier accepts a deal its buyer proposed (the buyer, or anyone else, may not)."""
        deal_id, deal = self._deal(pick, DealStatus.PROPOSED)
        sender = self.supplier if who > 1 else self.party(who * 2)  # buyer or financier
        failure = self.require_status(deal_id, deal, DealStatus.PROPOSED)
        if failure is None and sender != self.supplier:
            name = "CreatorCannotAccept" if sender == self.buyer else "NotDealParty"
            failure = error(name, deal_id, sender)
        if self.expect(self.escrow.accept_deal(sender, deal_id), failure):
            deal.status = DealStatus.ACCEPTED

    # ---------------------------------------------------------------- funding

    def _fund(self, deal_id: int, deal: ModelDeal | None, sender: str, amount: int) -> None:
        """MilestoneEscrow._fund: pulls `amount`, credits what arrived up to what is
        unfunded, and sends the rest straight back to the buyer."""
        failure = None
        if deal is None:
            failure = error("UnknownDeal", deal_id)
        elif sender != self.buyer:
            failure = error("NotBuyer", deal_id, sender)
        elif deal.status != DealStatus.ACCEPTED:
            failure = error("WrongDealStatus", deal_id, deal.status)
        elif self.tok.refuses(self.buyer):
            failure = DENIED
        if not self.expect(self.escrow.fund(sender, deal_id, amount), failure):
            return
        received = self.pull(deal, amount)
        credited = min(received, deal.unfunded)
        excess = received - credited
        deal.credited -= excess  # not the deal's: it goes back at once
        deal.unfunded -= credited
        if deal.unfunded == 0:
            deal.status = DealStatus.ACTIVE
        if excess:
            self.ledger.move(self.escrow.address, -excess)
            self.ledger.move(self.buyer, excess - self.tok.fee(excess))
            self.tok.transferred()

    @rule(weight=2, pick=PICK, fraction=Ints(1, 100), extra=Ints(0, 5), who=choice(8))
    def fund(self, pick, fraction, extra, who):
        """Part of what is missing, all of it, or (fraction 100) more; now and then by the
        supplier, who may not."""
        deal_id, deal = self._deal(pick, DealStatus.ACCEPTED)
        sender = self.supplier if who == 0 else self.buyer
        missing = deal.unfunded if deal and deal.status == DealStatus.ACCEPTED else 100
        amount = max(1, missing * fraction // 100) + (extra if fraction == 100 else 0)
        self._fund(deal_id, deal, sender, amount)

    @rule(pick=PICK)
    def fund_fully(self, pick):
        """Fund to Active, topping up as a buyer would when the token takes a fee."""
        self._fund_fully(*self._deal(pick, DealStatus.ACCEPTED))

    def _fund_fully(self, deal_id: int, deal: ModelDeal | None) -> None:
        for _ in range(10):
            self._fund(deal_id, deal, self.buyer, deal.unfunded if deal else 1)
            if deal is None or deal.status != DealStatus.ACCEPTED or self.tok.refuses(self.buyer):
                return
        raise AssertionError("funding did not converge")

    @rule(pick=PICK, who=choice(3))
    def cancel(self, pick, who):
        """Either party calls off a deal before it is Active; the buyer gets its deposit."""
        deal_id, deal = self._deal(pick, DealStatus.PROPOSED, DealStatus.ACCEPTED)
        sender = self.p.accounts[who]  # buyer, supplier or financier
        failure = None
        if deal is None:
            failure = error("UnknownDeal", deal_id)
        elif sender not in (self.buyer, self.supplier):
            failure = error("NotDealParty", deal_id, sender)
        elif deal.status not in (DealStatus.PROPOSED, DealStatus.ACCEPTED):
            failure = error("WrongDealStatus", deal_id, deal.status)
        if not self.expect(self.escrow.cancel_deal(sender, deal_id), failure):
            return
        deposited = deal.total - deal.unfunded
        deal.status, deal.unfunded = DealStatus.CANCELLED, 0
        self.pay(deal, self.buyer, deposited, supplier_side=False)
