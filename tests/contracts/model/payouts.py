"""Rules: where payouts go. Receivables assigned to a financier (later payouts go there); a
denylisting token refusing a recipient (the escrow keeps the payout owed) and the owed amount
withdrawn; a token whose transfers call back into the escrow (which must refuse)."""

from __future__ import annotations

from backend.terms import DealStatus

from .abi import error
from .base import DENIED, EVIDENCE, SAFE_RULES, ModelBase, aimed
from .engine import FLAG, PICK, choice, rule
from .escrow import ZERO


def _denylisting(token_kind: str) -> bool:
    return token_kind == "blocklist"


def _reentrant(token_kind: str) -> bool:
    return token_kind == "reentrant"


class PayoutRules(ModelBase):
    @rule(pick=PICK, who=choice(4), to=choice(5))
    def assign_payments(self, pick, who, to):
        """The payee passes the deal's payouts on (with an aimed pick; otherwise anyone
        tries) to a financier, the factor, the supplier, or an address it may not name."""
        deal_id, deal = self._deal(
            pick, DealStatus.PROPOSED, DealStatus.ACCEPTED, DealStatus.ACTIVE
        )
        sender = deal.payee if aimed(pick) and deal else self.party(who)
        target = [
            self.p.financier.address,
            self.p.factor.address,
            self.supplier,
            ZERO,
            self.escrow.address,
        ][to]
        failure = None  # Payouts.assignPayments
        if deal is None:
            failure = error("UnknownDeal", deal_id)
        elif deal.status != DealStatus.ACTIVE:  # a receivable exists once the deal is Active
            failure = error("WrongDealStatus", deal_id, deal.status)
        elif sender != deal.payee:
            failure = error("NotPayee", deal_id, sender)
        elif target in (ZERO, self.escrow.address):
            failure = error("InvalidPayee")
        if self.expect(self.escrow.assign_payments(sender, deal_id, target), failure):
            deal.payee = target

    @rule(applies=_denylisting, who=choice(4), listed=FLAG)
    def denylist(self, who, listed):
        """The token lists or unlists a party (its payouts are then kept owed)."""
        account = self.party(who)
        call = (self.token.blacklist if listed else self.token.unblacklist)(
            self.p.deployer.address, account
        )
        self.chain.send(call)
        (self.tok.denylist.add if listed else self.tok.denylist.discard)(account)

    @rule(weight=2, pick=PICK, who=choice(4), to=choice(4))
    def withdraw(self, pick, who, to):
        """A party (one that is owed, when aimed) withdraws what it is owed, to itself or
        another party, or to the zero address or the escrow, which must be refused."""
        sender = self.party(who)
        owed_ones = [a for a, amount in self.ledger.owed.items() if amount]
        if aimed(pick) and owed_ones:
            sender = owed_ones[(pick >> 2) % len(owed_ones)]
        owed = self.ledger.owed.get(sender, 0)
        target = sender if to == 0 else self.party(self.p.accounts.index(sender) + to)
        if SAFE_RULES and owed and to == 3:
            target = [ZERO, self.escrow.address][who % 2]
        failure = None  # Payouts.withdraw
        if target in (ZERO, self.escrow.address):
            failure = error("InvalidRecipient", target)
        elif owed == 0:
            failure = error("NothingToWithdraw", sender)
        elif self.tok.refuses(target):
            failure = DENIED
        if not self.expect(self.escrow.withdraw(sender, target), failure):
            return
        self.ledger.owe(sender, -owed)
        self.ledger.move(self.escrow.address, -owed)
        self.ledger.move(target, owed - self.tok.fee(owed))
        self.tok.transferred()

    @rule(applies=_reentrant, kind=choice(8), pick=PICK)
    def arm_reentry(self, kind, pick):
        """From now on every transfer of the token first calls the escrow back with one of its
        guarded entry points (kind 0: stop). The escrow must refuse every such call."""
        deal_id, _, index, _ = self._target(pick)
        on_escrow = self.token.address  # the call-back's sender
        payloads = [
            None,
            self.escrow.release(on_escrow, deal_id, index),
            self.escrow.withdraw(on_escrow, self.supplier),
            self.escrow.fund(on_escrow, deal_id, 1),
            self.escrow.refund(on_escrow, deal_id, index),
            self.escrow.rule(on_escrow, deal_id, index, 0),
            self.escrow.settle_dispute(on_escrow, deal_id, index),
            self.escrow.attest(on_escrow, deal_id, index, EVIDENCE),
        ]
        payload = payloads[kind]
        target = ZERO if payload is None else self.escrow.address
        data = b"" if payload is None else payload.data
        self.chain.send(self.token.arm(self.p.deployer.address, target, data))
        self.tok.hook_armed = payload is not None
