"""The model's common ground: the parties, how a rule picks its target, the contract's shared
checks (in the contract's order, with its exact errors), how money moves, and the invariants.

Every rule predicts, from the model alone, whether its call succeeds or which error it fails
with; `expect` then sends it (success) or simulates it (failure) and compares. After every
step `check` reads the chain in one call and compares everything with the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from eth_utils import keccak

from backend.terms import DealStatus, MilestoneStatus

from .abi import Err, error
from .chain import Call
from .deploy import OPERATORS, Deployment, World
from .engine import Machine
from .state import Ledger, ModelDeal, ModelMilestone, Token

# The rules the outside review asked for (on unless MODEL_SAFE_RULES=0, e.g. to run the model
# against the escrow as it was before the fixes): a signed cancellation never pays the signer's
# counterparty more than the signer saw at signing; withdraw refuses the zero address and the
# escrow as recipients.
SAFE_RULES = os.environ.get("MODEL_SAFE_RULES", "1") == "1"

DAY = 86_400
EVIDENCE = b"\x11" * 32
INSPECTOR, CARRIER, CUSTOMS, ARBITER = range(1, len(OPERATORS) + 1)
ORACLES = (INSPECTOR, CARRIER, CUSTOMS)
# What the denylisting token reverts with (SafeERC20 passes the reason on).
DENIED = error("Error", "Blacklistable: account is blacklisted")
REENTRANCY_REFUSED = keccak(text="ReentrancyGuardReentrantCall()")[:4]


def aimed(pick: int) -> bool:
    """Whether a pick aims at a rule's success path: three times in four (not 0, the simplest
    pick, which a shrunk program shows when the aim did not matter)."""
    return pick % 4 != 0


@dataclass
class KeyRecord:
    operator: int
    revoked: bool = False


class ModelBase(Machine):
    """State, picks, shared checks, money and invariants; the rules are in the mixins."""

    first_rule = "start"

    def __init__(self, world: World, deployment: Deployment):
        world.reset()
        self.chain = world.chain
        self.escrow = deployment.escrow
        self.token = deployment.token
        self.lens = deployment.lens
        self.base = deployment.base
        self.p = world.parties
        self.buyer = self.p.buyer.address
        self.supplier = self.p.supplier.address
        self.tok = Token(deployment.kind)
        self.deals: dict[int, ModelDeal] = {}
        self.ledger = Ledger()
        # Operator keys: every key ever added (revoked ones too), and each operator's admin
        # (its first key's address, which registered it).
        self.keys = {k.address: KeyRecord(op) for op, k in enumerate(self.p.operators, 1)}
        self.admins = {op: k.address for op, k in enumerate(self.p.operators, 1)}
        self.key_of = {k.address: k for k in self.p.keys}
        self.signed: list = []  # agreements signed and not yet applied (agreements.Signed)

    def trace(self) -> list[str]:
        return self.chain.trace

    # ---------------------------------------------------------------- sending

    @property
    def next_ts(self) -> int:
        """The timestamp the next transaction (or simulated call) runs at."""
        return self.chain.now + 1

    def expect(self, call: Call, failure: Err | None) -> bool:
        """Send `call` when the model predicts success (True), else check it fails with
        exactly `failure` (False)."""
        if failure is not None:
            self.chain.fails(call, failure)
            return False
        self.chain.send(call)
        return True

    # ---------------------------------------------------------------- picks

    def _deal(self, pick: int, *wanted: DealStatus) -> tuple[int, ModelDeal | None]:
        """A deal by pick: with an aimed pick one in a `wanted` status if there is one,
        otherwise any deal, now and then (1 in 64) one that does not exist."""
        if aimed(pick) and wanted:
            candidates = [d for d in self.deals.values() if d.status in wanted]
            if candidates:
                deal = candidates[(pick >> 2) % len(candidates)]
                return deal.id, deal
        if (pick >> 24) % 64 == 63:
            return len(self.deals) + 1, None
        deal_id = (pick >> 2) % len(self.deals) + 1
        return deal_id, self.deals[deal_id]

    def _target(self, pick: int, wanted=None):
        """(deal id, deal, index, milestone) for a milestone rule. With an aimed pick and
        `wanted(deal, m)` true for some milestone of an Active deal, one of those (the success
        path); otherwise any milestone, now and then one past the last (None)."""
        if aimed(pick) and wanted is not None:
            candidates = [
                (deal_id, deal, index, m)
                for deal_id, deal in self.deals.items()
                if deal.status == DealStatus.ACTIVE
                for index, m in enumerate(deal.milestones)
                if wanted(deal, m)
            ]
            if candidates:
                return candidates[(pick >> 2) % len(candidates)]
        deal_id, deal = self._deal(pick)
        if deal is None:
            return deal_id, None, 0, None
        count = len(deal.milestones)
        index = (pick >> 8) % (count + 1 if (pick >> 16) % 16 == 0 else count)
        return deal_id, deal, index, deal.milestones[index] if index < count else None

    def any_key(self, pick: int) -> str:
        """Any key, registered or not, live or revoked, or a party's address."""
        candidates = [*self.key_of, self.buyer]
        return candidates[pick % len(candidates)]

    def live_keys(self, operator: int) -> list[str]:
        return [k for k, r in self.keys.items() if r.operator == operator and not r.revoked]

    def operator_of(self, key: str) -> int:
        record = self.keys.get(key)
        return 0 if record is None or record.revoked else record.operator

    def party(self, pick: int) -> str:
        """buyer, supplier, financier or factor."""
        return self.p.accounts[pick % len(self.p.accounts)]

    # ---------------------------------------------------------------- the contract's shared checks

    @staticmethod
    def require_status(deal_id: int, deal: ModelDeal | None, expected: DealStatus) -> Err | None:
        """EscrowBase._requireStatus."""
        if deal is None:
            return error("UnknownDeal", deal_id)
        if deal.status != expected:
            return error("WrongDealStatus", deal_id, deal.status)
        return None

    def open_error(
        self, deal_id, deal, index, m: ModelMilestone | None, expected: MilestoneStatus
    ) -> Err | None:
        """EscrowBase._open: an Active deal's milestone in status `expected`."""
        failure = self.require_status(deal_id, deal, DealStatus.ACTIVE)
        if failure:
            return failure
        if m is None:
            return error("UnknownMilestone", deal_id, index)
        if m.status != expected:
            return error("WrongMilestoneStatus", deal_id, index, m.status)
        return None

    # ---------------------------------------------------------------- money

    def pay(self, deal: ModelDeal, to: str, amount: int, supplier_side: bool) -> None:
        """EscrowBase._pay: push `amount` to `to`, or keep it owed when the token refuses."""
        if amount == 0:
            return
        deal.paid_out += amount
        if supplier_side:
            deal.to_supplier_side += amount
        else:
            deal.to_buyer += amount
        if self.tok.refuses(to):
            self.ledger.owe(to, amount)
            return
        self.ledger.move(self.escrow.address, -amount)
        self.ledger.move(to, amount - self.tok.fee(amount))
        self.tok.transferred()

    def pull(self, deal: ModelDeal, amount: int) -> int:
        """The buyer's transferFrom of `amount` into the escrow; returns what arrived."""
        received = amount - self.tok.fee(amount)
        self.ledger.move(self.buyer, -amount)
        self.ledger.move(self.escrow.address, received)
        deal.credited += received
        self.tok.transferred()
        return received

    def release(self, deal: ModelDeal, m: ModelMilestone) -> None:
        """EscrowBase._release, in the block just mined: pay all but the holdback."""
        holdback = deal.holdback(m) if deal.has_policy else 0
        if holdback:
            m.status, m.due_at = (
                MilestoneStatus.RETAINED,
                self.chain.now + deal.policy.warranty_period,
            )
        else:
            m.status = MilestoneStatus.RELEASED
        self.pay(deal, deal.payee, m.amount - holdback, supplier_side=True)

    def quorum_met(self, deal: ModelDeal, m: ModelMilestone) -> None:
        """EscrowBase._quorumMet: examine first when the deal has a window, else release."""
        if deal.has_policy and deal.policy.examination_window:
            m.status = MilestoneStatus.EXAMINING
            m.due_at = self.chain.now + deal.policy.examination_window
        else:
            self.release(deal, m)

    # ---------------------------------------------------------------- invariants

    def check(self) -> None:
        """After every step that sent something: the chain, read in one call, equals the
        model: every deal and milestone, every account's balance and owed amount, every
        operator key, the re-entrant token's record; and the money adds up."""
        if not self.chain.changed:
            return
        self.chain.changed = False
        state = self.lens.read()
        self._check_deals(state)
        self._check_money(state)
        self._check_keys(state)
        self._check_hook(state)

    def _check_deals(self, state) -> None:
        assert len(state.deals) == len(self.deals), "deal count"
        for deal_id, deal in self.deals.items():
            on = state.deals[deal_id - 1]
            seen = (on.status, on.version, on.total, on.unfunded, on.payee)
            want = (deal.status, deal.version, deal.total, deal.unfunded, deal.payee)
            assert seen == want, f"deal {deal_id}: chain {seen} != model {want}"
            assert len(on.milestones) == len(deal.milestones), f"deal {deal_id}: milestones"
            for index, (got, m) in enumerate(zip(on.milestones, deal.milestones, strict=True)):
                seen = (got.amount, got.due_at, got.status, got.attestations, got.rejections)
                want = (m.amount, m.due_at, m.status, len(m.met), len(m.not_met))
                assert seen == want, f"deal {deal_id} #{index}: chain {seen} != model {want}"
            # Every token credited to the deal is still held for it or was paid out of it.
            assert deal.credited == deal.held + deal.paid_out, f"deal {deal_id}: credited"

    def _check_money(self, state) -> None:
        for account in state.balance:
            name = self.escrow.names.get(account, account)
            moved = state.balance[account] - self.base.balance[account]
            want = self.ledger.balance.get(account, 0)
            assert moved == want, f"{name}'s balance moved by {moved}, the rules say {want}"
            owed = state.owed[account] - self.base.owed[account]
            want = self.ledger.owed.get(account, 0)
            assert owed == want, f"{name} is owed {owed}, the rules say {want}"
        escrow = self.escrow.address
        held = sum(d.held for d in self.deals.values())
        owed = sum(self.ledger.owed.values())
        in_escrow = state.balance[escrow] - self.base.balance[escrow]
        assert in_escrow == held + owed, (
            f"the escrow holds {in_escrow}: deals hold {held} and it owes {owed}"
        )

    def _check_keys(self, state) -> None:
        for key, operator in state.operator_of.items():
            assert operator == self.operator_of(key), f"operatorOf({self.escrow.names[key]})"

    def _check_hook(self, state) -> None:
        if state.hook is None:
            return
        reentered, refused, last = state.hook
        assert reentered == 0, f"the escrow let {reentered} call(s) back in during a transfer"
        assert refused == self.tok.hook_refused, (
            f"{refused} call-backs refused, the model counted {self.tok.hook_refused}"
        )
        if refused:
            why = self.chain.abi.decode_error(last)
            assert last[:4] == REENTRANCY_REFUSED, (
                f"a call-back was refused with {why}, not by the guard"
            )
