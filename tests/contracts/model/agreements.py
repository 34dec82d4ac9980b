"""Rules: what both parties agree to, one signing (EIP-712) and the other sending. Change
orders (edit, add, remove milestones; the buyer pays an increase in, gets a decrease back) and
cancellation by agreement (what is held is split as signed), applied at once or signed now and
applied later, after other things happened to the deal.

The safety rule: a signature can never move more to the other side than the signer saw when
signing. A change order moves exactly the amounts it names and the deal's version pins them; a
cancellation names both sides of the split, and is refused (HeldAmountChanged) once anything
was paid out since. Both are checked after every application. Each party's agreement nonce is
kept (revokeAgreements moves it on: AgreementRevoked for a signature over an old one), and a
deal whose payouts are assigned to a financier needs the financier's consent (consentAsPayee)
before a change order edits or removes a milestone or a cancellation cuts what it gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as copy_of

from backend.terms import ChangeAction, DealStatus, Milestone, MilestoneChange, MilestoneStatus

from .abi import Err, error
from .base import CARRIER, DAY, DENIED, INSPECTOR, SAFE_RULES, ModelBase, aimed
from .engine import FLAG, PICK, Ints, choice, rule
from .escrow import Key
from .state import OPEN, UNPAID, ModelMilestone

MAX_MILESTONES = 64
KEEP_SIGNED = 8  # agreements kept for later application


@dataclass
class Signed:
    """A signed agreement not yet applied, and what its signer saw when signing."""

    deal_id: int
    signer: Key
    message: object  # the Cancellation or Amendment
    signature: bytes
    version: int
    deadline: int
    held: int  # what the deal held
    to_supplier: int  # a cancellation's split
    changes: tuple[MilestoneChange, ...]  # an amendment's changes
    removed: int  # what the changes took out of open milestones
    supplier_side_before: int  # the deal's payouts to each side so far
    buyer_before: int

    @property
    def is_cancellation(self) -> bool:
        return not self.changes

    def describe(self) -> str:
        what = f"cancellation ({self.to_supplier} of {self.held} to the supplier side)"
        if not self.is_cancellation:
            what = f"change order ({', '.join(c.action.name for c in self.changes)})"
        return f"{what} of deal {self.deal_id} v{self.version}, signed by {self.signer.name}"


class AgreementRules(ModelBase):
    # ---------------------------------------------------------------- building and signing

    def _signer(self, by_supplier: int) -> Key:
        return self.p.supplier if by_supplier else self.p.buyer

    def _deadline(self, deadline: int) -> int:
        """0: already passed for the next block, 1: exactly the next block, else 30 days."""
        return {0: self.next_ts - 1, 1: self.next_ts}.get(deadline, self.chain.now + 30 * DAY)

    def _changes(self, deal, pick, kind, amount, due, more) -> tuple[MilestoneChange, ...]:
        """One change to a milestone (an open one, when aimed), and with `more` an
        added milestone too. New terms: `amount` (0 now and then: refused), due in 40 days (or
        at the next block: refused), attested by the inspector or the carrier."""
        count = len(deal.milestones)
        open_ones = [i for i, m in enumerate(deal.milestones) if m.status in OPEN]
        if aimed(pick) and open_ones:
            index = open_ones[(pick >> 2) % len(open_ones)]
        else:
            index = (pick >> 2) % count
        due_at = self.next_ts if due == 0 else self.next_ts + 40 * DAY
        terms = Milestone(amount, due_at, 1, (INSPECTOR, CARRIER), b"\x22" * 32)
        action = ChangeAction(kind)
        if action == ChangeAction.ADD:
            index = count if (pick >> 8) % 16 else count + 1  # now and then out of order
        changes = [MilestoneChange(index, action, None if action == ChangeAction.REMOVE else terms)]
        if more:
            added = copy_of(terms, amount=amount // 2 + 1)
            changes.append(
                MilestoneChange(count + (action == ChangeAction.ADD), ChangeAction.ADD, added)
            )
        return tuple(changes)

    def _sign(self, deal_id, deal, signer: Key, deadline: int, to_supplier=0, changes=()) -> Signed:
        held = deal.held if deal else 0
        version = deal.version if deal else 1
        nonce = deal.nonces.get(signer.address, 0) if deal else 0
        removed = 0
        for c in changes:
            if c.action != ChangeAction.ADD and deal and c.index < len(deal.milestones):
                removed += deal.milestones[c.index].amount
        if changes:
            message = self.escrow.amendment(deal_id, version, changes, nonce, deadline)
            signature = self.escrow.sign_amendment(signer, message)
        else:
            message = self.escrow.cancellation(
                deal_id, version, to_supplier, max(0, held - to_supplier), nonce, deadline
            )
            signature = self.escrow.sign_cancellation(signer, message)
        return Signed(
            deal_id,
            signer,
            message,
            signature,
            version,
            deadline,
            held,
            to_supplier,
            tuple(changes),
            removed,
            deal.to_supplier_side if deal else 0,
            deal.to_buyer if deal else 0,
        )

    def _keep(self, signed: Signed) -> None:
        self.signed = [*self.signed, signed][-KEEP_SIGNED:]
        self.chain.trace.append(f"{signed.describe()}: kept for later")

    # ---------------------------------------------------------------- the contract's checks

    def _agreed_error(self, deal_id, deal, sender: str, s: Signed) -> Err | None:
        """_requireStatus(Active), then Agreements._checkAgreed."""
        failure = self.require_status(deal_id, deal, DealStatus.ACTIVE)
        if failure:
            return failure
        if sender == self.buyer:
            other = self.supplier
        elif sender == self.supplier:
            other = self.buyer
        else:
            return error("NotDealParty", deal_id, sender)
        if self.next_ts > s.deadline:
            return error("DeadlinePassed", s.deadline)
        if s.version != deal.version:
            return error("StaleDealVersion", deal_id, s.version, deal.version)
        current = deal.nonces.get(other, 0)
        if s.message.nonce != current:
            return error("AgreementRevoked", deal_id, other, s.message.nonce, current)
        if s.signer.address != other:
            return error("InvalidCounterpartySignature", other)
        return None

    def _amend_plan(self, deal_id, deal, sender: str, s: Signed):
        """ChangeOrders.amend, on copies: (error, milestones after, added, removed)."""
        milestones = [copy_of(m) for m in deal.milestones]
        added = removed = 0
        for position, c in enumerate(s.changes):
            if c.action == ChangeAction.ADD:
                if c.index != len(milestones) or len(milestones) == MAX_MILESTONES:
                    return error("InvalidChange", position), None, 0, 0
            else:
                if c.index >= len(milestones):
                    return error("UnknownMilestone", deal_id, c.index), None, 0, 0
                m = milestones[c.index]
                if m.status not in OPEN:
                    return error("WrongMilestoneStatus", deal_id, c.index, m.status), None, 0, 0
                consent = self._consent_error(deal_id, deal, s)
                if consent:
                    return consent, None, 0, 0
                removed += m.amount
                if c.action == ChangeAction.REMOVE:
                    milestones[c.index] = copy_of(m, amount=0, status=MilestoneStatus.REMOVED)
                    continue
            t = c.terms
            if t.amount == 0:
                return error("ZeroAmount", c.index), None, 0, 0
            if t.due_at <= self.next_ts:
                return error("DueDateNotInFuture", c.index, t.due_at), None, 0, 0
            added += t.amount
            fresh = ModelMilestone(t.amount, t.due_at, t.quorum, t.oracles)
            if c.action == ChangeAction.ADD:
                milestones.append(fresh)
            else:
                milestones[c.index] = fresh
        if added > removed:
            owed_in = added - removed
            if sender != self.buyer:
                return error("NotBuyer", deal_id, sender), None, 0, 0
            if self.tok.refuses(self.buyer):
                return DENIED, None, 0, 0
            received = owed_in - self.tok.fee(owed_in)
            if received != owed_in:
                return error("TopUpShort", owed_in, received), None, 0, 0
        return None, milestones, added, removed

    # ---------------------------------------------------------------- applying

    def _apply(self, s: Signed, sender: str) -> None:
        deal_id = s.deal_id
        deal = self.deals.get(deal_id)
        failure = self._agreed_error(deal_id, deal, sender, s)
        if s.is_cancellation:
            held = deal.held if deal else 0
            signed = s.to_supplier + s.message.to_buyer
            if failure is None and signed != held:
                failure = error("HeldAmountChanged", deal_id, signed, held)
            if failure is None and s.to_supplier != held:
                failure = self._consent_error(deal_id, deal, s)
            call = self.escrow.cancel_by_agreement(sender, s.message, s.signature)
            if self.expect(call, failure):
                self._cancelled(deal, s, held)
            return
        if failure is None:
            failure, milestones, added, removed = self._amend_plan(deal_id, deal, sender, s)
        call = self.escrow.amend(sender, s.message, s.signature)
        if not self.expect(call, failure):
            return
        # What it moves is exactly what its signer saw: the version pins every amount it names,
        # and a milestone paid out since is no longer open (WrongMilestoneStatus, predicted).
        deal.milestones, deal.version = milestones, deal.version + 1
        if added > removed:
            self.pull(deal, added - removed)
        else:
            self.pay(deal, self.buyer, removed - added, supplier_side=False)

    def _cancelled(self, deal, s: Signed, held: int) -> None:
        """Cancellations.cancelByAgreement: every milestone not yet paid out is Settled,
        the split paid."""
        for m in deal.milestones:
            if m.status in UNPAID | {MilestoneStatus.RETAINED, MilestoneStatus.DISPUTED}:
                m.status = MilestoneStatus.SETTLED
        deal.status = DealStatus.CANCELLED
        self.pay(deal, deal.payee, s.to_supplier, supplier_side=True)
        self.pay(deal, self.buyer, s.message.to_buyer, supplier_side=False)
        if SAFE_RULES:
            self._check_counterparty_got_no_more(deal, s)

    def _check_counterparty_got_no_more(self, deal, s: Signed) -> None:
        """The signer agreed that its counterparty gets `agreed` of what was held then; since
        the signature, the counterparty's side may have received no more than that in all."""
        if s.signer.address == self.buyer:
            other, got = "supplier side", deal.to_supplier_side - s.supplier_side_before
            agreed = s.to_supplier
        else:
            other, got = "buyer", deal.to_buyer - s.buyer_before
            agreed = s.held - s.to_supplier
        assert got <= agreed, (
            f"the {s.signer.name} signed a cancellation of deal {s.deal_id} giving the {other} "
            f"{agreed} of the {s.held} held; from the signature to the cancellation the "
            f"{other} received {got} from the deal"
        )

    def _consent_error(self, deal_id, deal, s: Signed):
        """Agreements._requirePayeeConsent: a payee other than the supplier agreed to this
        very digest."""
        if deal.payee == self.supplier:
            return None
        digest = self.escrow.digest(s.message)
        if deal.consents.get(digest) == deal.payee:
            return None
        return error("PayeeConsentMissing", deal_id, deal.payee, digest)

    def _sender(self, s: Signed, by: int) -> str:
        """by 0: the signer itself (refused), 1: a stranger (refused), else the other party."""
        if by == 0:
            return s.signer.address
        if by == 1:
            return self.p.financier.address
        return self.supplier if s.signer.address == self.buyer else self.buyer

    # ---------------------------------------------------------------- rules

    @rule(
        weight=2,
        pick=PICK,
        kind=choice(3),
        amount=Ints(0, 10**9),
        due=choice(16),
        more=choice(4),
        by_supplier=choice(4),
        deadline=choice(12),
        by=choice(12),
    )
    def change_order(self, pick, kind, amount, due, more, by_supplier, deadline, by):
        """Signed and applied at once: mostly signed by the supplier and sent by the buyer (who
        pays an increase in)."""
        deal_id, deal = self._deal(pick, DealStatus.ACTIVE)
        if deal is None:
            return
        changes = self._changes(deal, pick >> 1, kind, amount, due, more == 0)
        s = self._sign(
            deal_id, deal, self._signer(by_supplier), self._deadline(deadline), changes=changes
        )
        self._apply(s, self._sender(s, by))

    @rule(
        pick=PICK,
        fraction=Ints(0, 110),
        by_supplier=FLAG,
        deadline=choice(12),
        by=choice(12),
        end=choice(4),
    )
    def cancel_by_agreement(self, pick, fraction, by_supplier, deadline, by, end):
        """Signed and applied at once, splitting what is held (fraction > 100: more than it)."""
        deal_id, deal = self._deal(pick, DealStatus.ACTIVE)
        if deal is None or (deal.status == DealStatus.ACTIVE and end):
            return  # ending a deal ends its story: only one time in four
        s = self._sign_cancellation(deal_id, deal, fraction, by_supplier, deadline)
        self._apply(s, self._sender(s, by))

    def _sign_cancellation(self, deal_id, deal, fraction, by_supplier, deadline) -> Signed:
        held = deal.held if deal.status == DealStatus.ACTIVE else 0
        to_supplier = held * fraction // 100 if fraction <= 100 else held + fraction - 100
        return self._sign(
            deal_id, deal, self._signer(by_supplier), self._deadline(deadline), to_supplier
        )

    @rule(pick=PICK, kind=choice(3), amount=Ints(0, 10**9), more=choice(4), by_supplier=choice(4))
    def sign_change_order(self, pick, kind, amount, more, by_supplier):
        """Signed now, applied later (apply_signed), valid for 30 days."""
        deal_id, deal = self._deal(pick, DealStatus.ACTIVE)
        if deal is not None:
            changes = self._changes(deal, pick >> 1, kind, amount, 1, more == 0)
            self._keep(
                self._sign(
                    deal_id, deal, self._signer(by_supplier), self._deadline(2), changes=changes
                )
            )

    @rule(weight=2, pick=PICK, fraction=Ints(0, 100), by_supplier=FLAG)
    def sign_cancellation(self, pick, fraction, by_supplier):
        """Signed now over what the deal holds now, applied later (apply_signed)."""
        deal_id, deal = self._deal(pick, DealStatus.ACTIVE)
        if deal is not None and deal.status == DealStatus.ACTIVE:
            self._keep(self._sign_cancellation(deal_id, deal, fraction, by_supplier, 2))

    @rule(weight=2, pick=PICK, by=choice(12))
    def apply_signed(self, pick, by):
        """The other party sends an agreement signed earlier (payouts, changes, time may have
        happened since): when aimed, one that is still for the deal as it is now."""
        current = [
            s
            for s in self.signed
            if self.deals[s.deal_id].status == DealStatus.ACTIVE
            and s.version == self.deals[s.deal_id].version
            and s.deadline >= self.next_ts
        ]
        candidates = current if aimed(pick) and current else self.signed
        if candidates:
            s = candidates[(pick >> 2) % len(candidates)]
            self.chain.trace.append(f"applying the {s.describe()}")
            self._apply(s, self._sender(s, by))

    @rule(pick=PICK, who=choice(4))
    def revoke_agreements(self, pick, who):
        """A party revokes every change order and cancellation it signed for a deal (a
        stranger may not): signatures kept for later over the old nonce are then refused."""
        deal_id, deal = self._deal(pick, DealStatus.ACTIVE)
        sender = self.party(who)
        failure = None  # Agreements.revokeAgreements
        if deal is None:
            failure = error("UnknownDeal", deal_id)
        elif sender not in (self.buyer, self.supplier):
            failure = error("NotDealParty", deal_id, sender)
        if self.expect(self.escrow.revoke_agreements(sender, deal_id), failure):
            deal.nonces[sender] = deal.nonces.get(sender, 0) + 1

    @rule(weight=2, pick=PICK, who=choice(4), consented=choice(4))
    def consent_as_payee(self, pick, who, consented):
        """The deal's payee (when aimed) agrees to a signed agreement kept for later, or (one
        time in four) withdraws its agreement; anybody else may not."""
        if not self.signed:
            return
        s = self.signed[(pick >> 2) % len(self.signed)]
        deal = self.deals.get(s.deal_id)
        sender = deal.payee if aimed(pick) and deal else self.party(who)
        failure = None  # Agreements.consentAsPayee
        if deal is None:
            failure = error("UnknownDeal", s.deal_id)
        elif sender != deal.payee:
            failure = error("NotPayee", s.deal_id, sender)
        digest = self.escrow.digest(s.message)
        call = self.escrow.consent_as_payee(sender, s.deal_id, digest, consented != 0)
        if self.expect(call, failure):
            if consented:
                deal.consents[digest] = sender
            else:
                deal.consents.pop(digest, None)
