"""Stateful test: random sequences of the whole deal lifecycle against a Python model.

Rules: create (with or without an examination window and retention), fund, attest, reject,
refund, cancel, release after the window, waive it, release a holdback, open a dispute (buyer
or supplier), rule a split, settle by default, change orders (edit, add, remove), cancel by
agreement, and the passing of time. With the denylisting token, the supplier can also be
denylisted and later withdraw what it is owed.

Every rule predicts, from the model, whether the call must succeed or revert, then checks the
chain agrees (a call whose outcome hinges on a deadline a few seconds away is skipped: the
next block's timestamp is not known to the second). Invariants after every step:
  - the escrow's token balance == credited - paid out (pushed) - withdrawn (exactly);
  - nobody is paid twice: the supplier received exactly what was pushed to it, the buyer
    exactly what was pushed back, and the supplier is owed exactly what was deferred and not
    withdrawn;
  - every deal's and milestone's status, and the deal's version, equal the model's.
Runs once per token of the hostile set.
"""

from dataclasses import dataclass, field

import brownie
from helpers import DAY, milestones
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from backend import typed_data
from backend.terms import (
    Amendment,
    Cancellation,
    ChangeAction,
    DealStatus,
    Milestone,
    MilestoneChange,
    MilestoneStatus,
    Policy,
)

EVIDENCE = b"\x11" * 32
WINDOW, WARRANTY, RULING = 2 * DAY, 10 * DAY, 5 * DAY
OPEN = {MilestoneStatus.PENDING, MilestoneStatus.REJECTED}
SLACK = 60  # seconds around a deadline within which a call is not attempted


@dataclass
class ModelMilestone:
    amount: int
    due_at: int  # the current stage's deadline, as the contract keeps it
    quorum: int
    oracles: tuple[int, ...]
    met: set = field(default_factory=set)
    not_met: set = field(default_factory=set)
    status: MilestoneStatus = MilestoneStatus.PENDING
    disputed: int = 0  # the amount under dispute
    supplier_dispute: bool = False
    holdback_dispute: bool = False


@dataclass
class ModelDeal:
    milestones: list[ModelMilestone]
    unfunded: int
    window: int
    retention_bps: int
    status: DealStatus = DealStatus.ACCEPTED
    version: int = 1

    def holdback(self, m: ModelMilestone) -> int:
        return m.amount * self.retention_bps // 10_000


amounts = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=3)
picks = st.integers(min_value=0, max_value=2**32)
fractions = st.integers(min_value=0, max_value=100)


class EscrowModel(RuleBasedStateMachine):
    """Configured by the test through class attributes (escrow, token, ops, parties, keys)."""

    escrow = token = ops = buyer = supplier = arbiter = None
    oracle_keys: dict = {}  # operator id -> key account

    def __init__(self):
        super().__init__()
        # Each example starts from the same chain state and leaves nothing behind.
        brownie.chain.snapshot()
        self.deals: dict[int, ModelDeal] = {}
        self.credited = 0
        self.to_supplier = 0  # pushed to the supplier
        self.to_buyer = 0  # pushed back to the buyer
        self.deferred = 0  # payouts to the supplier that failed and were kept for it
        self.withdrawn = 0
        self.blocked = False
        self.start_escrow = self.token.balanceOf(self.escrow)
        self.start_supplier = self.token.balanceOf(self.supplier)
        self.start_buyer = self.token.balanceOf(self.buyer)
        self.minted = 0  # given to the buyer to pay in
        self.paid_in = 0  # what left the buyer's balance towards the escrow

    def teardown(self):
        brownie.chain.revert()

    # ------------------------------------------------------------------ set-up

    @initialize(
        st_amounts=amounts,
        st_quorum=st.integers(min_value=1, max_value=2),
        st_window=st.booleans(),
        st_retention=st.booleans(),
    )
    def start_with_an_active_deal(self, st_amounts, st_quorum, st_window, st_retention):
        self.create(st_amounts, st_quorum, st_window, st_retention)
        self.fund_fully(0)

    @rule(
        st_amounts=amounts,
        st_quorum=st.integers(min_value=1, max_value=2),
        st_window=st.booleans(),
        st_retention=st.booleans(),
    )
    def create(self, st_amounts, st_quorum, st_window, st_retention):
        oracles = [(self.ops.inspector, self.ops.carrier)] * len(st_amounts)
        terms = milestones(list(st_amounts), oracles, [st_quorum] * len(st_amounts))
        policy = Policy(
            examination_window=WINDOW if st_window else 0,
            ruling_period=RULING,
            warranty_period=WARRANTY,
            retention_bps=1_000 if st_retention else 0,
        )
        tx = self.escrow.createDeal(
            self.buyer,
            self.supplier,
            self.ops.arbiter,
            policy.as_tuple(),
            [m.as_tuple() for m in terms],
            {"from": self.supplier},
        )
        deal_id = tx.events["DealCreated"]["dealId"]
        self.deals[deal_id] = ModelDeal(
            [ModelMilestone(m.amount, m.due_at, m.quorum, m.oracles) for m in terms],
            unfunded=sum(st_amounts),
            window=policy.examination_window,
            retention_bps=policy.retention_bps,
        )

    @rule(st_pick=picks)
    def fund_fully(self, st_pick):
        """Fund to Active, topping up as a buyer would when a token takes a fee."""
        _, deal = self._pick_deal(st_pick)
        for _ in range(10):
            if deal.status != DealStatus.ACCEPTED:
                break
            self.fund(st_pick, 100)
        if deal.status == DealStatus.ACCEPTED:
            raise AssertionError("funding did not converge")

    @rule(st_pick=picks, st_fraction=st.integers(min_value=1, max_value=100))
    def fund(self, st_pick, st_fraction):
        deal_id, deal = self._pick_deal(st_pick)
        amount = max(1, deal.unfunded * st_fraction // 100)
        self._give_buyer(amount)
        if deal.status != DealStatus.ACCEPTED:
            with brownie.reverts():
                self.escrow.fund(deal_id, amount, {"from": self.buyer})
            return
        before = self.token.balanceOf(self.escrow)
        buyer_before = self.token.balanceOf(self.buyer)
        tx = self.escrow.fund(deal_id, amount, {"from": self.buyer})
        self.paid_in += buyer_before - self.token.balanceOf(self.buyer)
        credited = tx.events["DealFunded"]["credited"]
        assert credited == self.token.balanceOf(self.escrow) - before
        assert credited <= amount
        self.credited += credited
        deal.unfunded -= credited
        if deal.unfunded == 0:
            deal.status = DealStatus.ACTIVE

    @rule(st_pick=picks)
    def cancel(self, st_pick):
        deal_id, deal = self._pick_deal(st_pick)
        if deal.status != DealStatus.ACCEPTED:
            with brownie.reverts():
                self.escrow.cancelDeal(deal_id, {"from": self.buyer})
            return
        deposited = sum(m.amount for m in deal.milestones) - deal.unfunded
        tx = self.escrow.cancelDeal(deal_id, {"from": self.buyer})
        assert tx.events["DealCancelled"]["refunded"] == deposited
        deal.status = DealStatus.CANCELLED
        self.to_buyer += deposited

    # ------------------------------------------------------------------ verdicts

    @rule(st_pick=picks, st_oracle=st.integers(min_value=0, max_value=2), st_met=st.booleans())
    def verdict(self, st_pick, st_oracle, st_met):
        deal_id, deal, index, m = self._pick_milestone(st_pick, lambda d, m: self._votable(d, m))
        operator = [self.ops.inspector, self.ops.carrier, self.ops.customs][st_oracle]
        if st_pick & 1 and self._votable(deal, m):  # a valid verdict, most of the time
            voters = [o for o in m.oracles if o not in m.met | m.not_met]
            operator = voters[st_oracle % len(voters)]
        key = self.oracle_keys[operator]
        call = self.escrow.attest if st_met else self.escrow.reject
        ok = (
            deal.status == DealStatus.ACTIVE
            and m.status == MilestoneStatus.PENDING
            and operator in m.oracles
            and operator not in m.met | m.not_met
        )
        if not ok:
            with brownie.reverts():
                call(deal_id, index, EVIDENCE, {"from": key})
            return
        tx = call(deal_id, index, EVIDENCE, {"from": key})
        if not st_met:
            m.not_met.add(operator)
            if len(m.oracles) - len(m.not_met) < m.quorum:
                m.status = MilestoneStatus.REJECTED
            return
        m.met.add(operator)
        if len(m.met) >= m.quorum:
            if deal.window:
                m.status, m.due_at = MilestoneStatus.EXAMINING, tx.timestamp + deal.window
            else:
                self._release(deal, m, tx)

    # Attestations and time drive everything else: these two rules make them more frequent.
    @rule(st_pick=picks, st_oracle=st.integers(min_value=0, max_value=2))
    def attest(self, st_pick, st_oracle):
        self.verdict(st_pick | 1, st_oracle, True)

    @rule(st_pick=picks, st_oracle=st.integers(min_value=0, max_value=2))
    def attest_again(self, st_pick, st_oracle):
        self.verdict(st_pick | 1, st_oracle, True)

    # Disputes need a milestone in the right stage first: these make them more frequent.
    @rule(st_pick=picks, st_by_buyer=st.booleans())
    def dispute(self, st_pick, st_by_buyer):
        self.open_dispute(st_pick | 1, st_by_buyer)

    @rule(st_pick=picks, st_fraction=fractions)
    def arbitrate(self, st_pick, st_fraction):
        self.rule_split(st_pick | 1, st_fraction)

    # ------------------------------------------------------------------ examination, retention

    @rule(st_pick=picks)
    def release_after_window(self, st_pick):
        deal_id, deal, index, m = self._pick_milestone(
            st_pick, lambda d, m: m.status == MilestoneStatus.EXAMINING and self._after(m.due_at)
        )
        after = self._after(m.due_at)
        if after is None:
            return
        ok = deal.status == DealStatus.ACTIVE and m.status == MilestoneStatus.EXAMINING and after
        if not ok:
            with brownie.reverts():
                self.escrow.release(deal_id, index, {"from": self.arbiter})
            return
        self._release(deal, m, self.escrow.release(deal_id, index, {"from": self.arbiter}))

    @rule(st_pick=picks)
    def waive_window(self, st_pick):
        deal_id, deal, index, m = self._pick_milestone(
            st_pick, lambda d, m: m.status == MilestoneStatus.EXAMINING
        )
        if not (deal.status == DealStatus.ACTIVE and m.status == MilestoneStatus.EXAMINING):
            with brownie.reverts():
                self.escrow.waiveExamination(deal_id, index, {"from": self.buyer})
            return
        tx = self.escrow.waiveExamination(deal_id, index, {"from": self.buyer})
        self._release(deal, m, tx)

    @rule(st_pick=picks)
    def release_holdback(self, st_pick):
        deal_id, deal, index, m = self._pick_milestone(
            st_pick, lambda d, m: m.status == MilestoneStatus.RETAINED and self._after(m.due_at)
        )
        after = self._after(m.due_at)
        if after is None:
            return
        ok = deal.status == DealStatus.ACTIVE and m.status == MilestoneStatus.RETAINED and after
        if not ok:
            with brownie.reverts():
                self.escrow.releaseRetention(deal_id, index, {"from": self.arbiter})
            return
        self.escrow.releaseRetention(deal_id, index, {"from": self.arbiter})
        m.status = MilestoneStatus.RELEASED
        self._pay_supplier(deal.holdback(m))

    # ------------------------------------------------------------------ disputes

    @rule(st_pick=picks, st_by_buyer=st.booleans())
    def open_dispute(self, st_pick, st_by_buyer):
        def disputable(d, m):
            after = self._after(m.due_at)
            if after is None:
                return False
            if st_by_buyer:
                return (
                    m.status in (MilestoneStatus.EXAMINING, MilestoneStatus.RETAINED) and not after
                )
            return m.status == MilestoneStatus.REJECTED or (
                m.status == MilestoneStatus.PENDING and after
            )

        deal_id, deal, index, m = self._pick_milestone(st_pick, disputable)
        after = self._after(m.due_at)
        if after is None:
            return
        if st_by_buyer:
            ok = m.status in (MilestoneStatus.EXAMINING, MilestoneStatus.RETAINED) and not after
        else:
            ok = m.status == MilestoneStatus.REJECTED or (
                m.status == MilestoneStatus.PENDING and after
            )
        ok = ok and deal.status == DealStatus.ACTIVE
        sender = self.buyer if st_by_buyer else self.supplier
        if not ok:
            with brownie.reverts():
                self.escrow.openDispute(deal_id, index, {"from": sender})
            return
        tx = self.escrow.openDispute(deal_id, index, {"from": sender})
        m.holdback_dispute = m.status == MilestoneStatus.RETAINED
        m.supplier_dispute = not st_by_buyer
        m.disputed = deal.holdback(m) if m.holdback_dispute else m.amount
        assert tx.events["DisputeOpened"]["amount"] == m.disputed
        m.status, m.due_at = MilestoneStatus.DISPUTED, tx.timestamp + RULING

    @rule(st_pick=picks, st_fraction=fractions)
    def rule_split(self, st_pick, st_fraction):
        deal_id, deal, index, m = self._pick_milestone(
            st_pick,
            lambda d, m: m.status == MilestoneStatus.DISPUTED and self._after(m.due_at) is False,
        )
        after = self._after(m.due_at)
        if after is None:
            return
        to_supplier = m.disputed * st_fraction // 100
        ok = deal.status == DealStatus.ACTIVE and m.status == MilestoneStatus.DISPUTED and not after
        if not ok:
            with brownie.reverts():
                self.escrow.rule(deal_id, index, to_supplier, {"from": self.arbiter})
            return
        self.escrow.rule(deal_id, index, to_supplier, {"from": self.arbiter})
        self._settle(m, to_supplier)

    @rule(st_pick=picks)
    def settle_by_default(self, st_pick):
        deal_id, deal, index, m = self._pick_milestone(
            st_pick, lambda d, m: m.status == MilestoneStatus.DISPUTED and self._after(m.due_at)
        )
        after = self._after(m.due_at)
        if after is None:
            return
        ok = deal.status == DealStatus.ACTIVE and m.status == MilestoneStatus.DISPUTED and after
        if not ok:
            with brownie.reverts():
                self.escrow.settleDispute(deal_id, index, {"from": self.arbiter})
            return
        tx = self.escrow.settleDispute(deal_id, index, {"from": self.arbiter})
        if m.supplier_dispute:
            self._settle(m, 0)
        elif m.holdback_dispute:
            self._settle(m, m.disputed)
        else:
            self._release(deal, m, tx)

    # ------------------------------------------------------------------ refunds

    @rule(st_pick=picks)
    def refund(self, st_pick):
        deal_id, deal, index, m = self._pick_milestone(
            st_pick, lambda d, m: m.status in OPEN and self._after(m.due_at)
        )
        after = self._after(m.due_at)
        if after is None:
            return
        ok = deal.status == DealStatus.ACTIVE and m.status in OPEN and after
        if not ok:
            with brownie.reverts():
                self.escrow.refund(deal_id, index, {"from": self.buyer})
            return
        self.escrow.refund(deal_id, index, {"from": self.buyer})
        m.status = MilestoneStatus.REFUNDED
        self.to_buyer += m.amount

    # ------------------------------------------------------------------ agreements

    @rule(st_pick=picks, st_kind=st.integers(min_value=0, max_value=2), st_amount=amounts)
    def change_order(self, st_pick, st_kind, st_amount):
        """Edit (new amount, 40 more days), add, or remove one milestone; signed by the
        supplier, sent by the buyer, who pays the increase in."""
        deal_id, deal, index, m = self._pick_milestone(st_pick, lambda d, m: m.status in OPEN)
        action = ChangeAction(st_kind)
        amount = st_amount[0]
        terms = Milestone(
            amount=amount,
            due_at=brownie.chain[-1].timestamp + 40 * DAY,
            quorum=1,
            oracles=(self.ops.inspector, self.ops.carrier),
            requirements_hash=b"\x22" * 32,
        )
        if action == ChangeAction.ADD:
            index = len(deal.milestones)
        change = MilestoneChange(index, action, None if action == ChangeAction.REMOVE else terms)
        amendment = Amendment(deal_id, deal.version, (change,), brownie.chain[-1].timestamp + DAY)
        message = typed_data.amendment_message(brownie.chain.id, self.escrow.address, amendment)
        signature = typed_data.sign(message, self.supplier.private_key).signature
        removed = 0 if action == ChangeAction.ADD else m.amount
        added = 0 if action == ChangeAction.REMOVE else amount
        # A top-up must arrive whole: the fee token keeps 1% (rounded down) of a transfer.
        short = self.token._name == "FeeOnTransferToken" and (added - removed) // 100 > 0
        ok = (
            deal.status == DealStatus.ACTIVE
            and (action == ChangeAction.ADD or m.status in OPEN)
            and not short
        )
        self._give_buyer(max(0, added - removed))
        if not ok:
            with brownie.reverts():
                self.escrow.amend(amendment.as_tuple(), signature, {"from": self.buyer})
            return
        buyer_before = self.token.balanceOf(self.buyer)
        self.escrow.amend(amendment.as_tuple(), signature, {"from": self.buyer})
        if added > removed:
            self.paid_in += buyer_before - self.token.balanceOf(self.buyer)
        deal.version += 1
        if added >= removed:
            self.credited += added - removed
        else:
            self.to_buyer += removed - added
        if action == ChangeAction.REMOVE:
            m.status, m.amount = MilestoneStatus.REMOVED, 0
            return
        fresh = ModelMilestone(amount, terms.due_at, 1, terms.oracles)
        if action == ChangeAction.ADD:
            deal.milestones.append(fresh)
        else:
            deal.milestones[index] = fresh

    @rule(st_pick=picks, st_fraction=fractions)
    def cancel_by_agreement(self, st_pick, st_fraction):
        deal_id, deal = self._pick_deal(st_pick)
        if deal.status == DealStatus.ACTIVE and st_pick % 4:
            return  # ending a deal ends its story: only one time in four
        held = 0
        for m in deal.milestones:
            if m.status in OPEN | {MilestoneStatus.EXAMINING}:
                held += m.amount
            elif m.status == MilestoneStatus.RETAINED:
                held += deal.holdback(m)
            elif m.status == MilestoneStatus.DISPUTED:
                held += m.disputed
        to_supplier = held * st_fraction // 100
        cancellation = Cancellation(
            deal_id, deal.version, to_supplier, brownie.chain[-1].timestamp + DAY
        )
        message = typed_data.cancellation_message(
            brownie.chain.id, self.escrow.address, cancellation
        )
        signature = typed_data.sign(message, self.buyer.private_key).signature
        if deal.status != DealStatus.ACTIVE:
            with brownie.reverts():
                self.escrow.cancelByAgreement(
                    cancellation.as_tuple(), signature, {"from": self.supplier}
                )
            return
        tx = self.escrow.cancelByAgreement(
            cancellation.as_tuple(), signature, {"from": self.supplier}
        )
        assert tx.events["DealCancelledByAgreement"]["held"] == held
        for m in deal.milestones:
            if m.status not in (
                MilestoneStatus.RELEASED,
                MilestoneStatus.REFUNDED,
                MilestoneStatus.SETTLED,
                MilestoneStatus.REMOVED,
            ):
                m.status = MilestoneStatus.SETTLED
        deal.status = DealStatus.CANCELLED
        self._pay_supplier(to_supplier)
        self.to_buyer += held - to_supplier

    # ------------------------------------------------------------------ deferred payouts

    @rule(st_block=st.booleans())
    def denylist_supplier(self, st_block):
        """The denylisting token only: list or unlist the supplier; once unlisted it withdraws
        what it is owed (and a withdrawal with nothing owed, or while listed, fails)."""
        if self.token._name != "BlocklistToken":
            return
        if st_block:
            self.token.blacklist(self.supplier, {"from": self.buyer})
        else:
            self.token.unBlacklist(self.supplier, {"from": self.buyer})
        self.blocked = st_block
        owed = self.deferred - self.withdrawn
        if owed == 0 or self.blocked:
            with brownie.reverts():
                self.escrow.withdraw(self.supplier, {"from": self.supplier})
            return
        tx = self.escrow.withdraw(self.supplier, {"from": self.supplier})
        assert tx.events["Withdrawn"]["amount"] == owed
        self.withdrawn += owed

    @rule(st_days=st.integers(min_value=1, max_value=12))
    def days_pass(self, st_days):
        self.time_passes(st_days * 24)

    @rule(st_hours=st.integers(min_value=1, max_value=24 * 12))
    def time_passes(self, st_hours):
        brownie.chain.sleep(st_hours * 3600)
        brownie.chain.mine()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def escrow_balance_is_credited_minus_paid_out_and_withdrawn(self):
        # Paid out: what was pushed out; a deferred payout stays until it is withdrawn.
        held = self.token.balanceOf(self.escrow) - self.start_escrow
        pushed = self.to_supplier - self.deferred + self.to_buyer
        assert held == self.credited - pushed - self.withdrawn

    @invariant()
    def nobody_is_paid_twice(self):
        supplier = self.token.balanceOf(self.supplier) - self.start_supplier
        buyer_out = self.token.balanceOf(self.buyer) - self.start_buyer - self.minted + self.paid_in
        fee = self.token._name == "FeeOnTransferToken"
        # What each received is what left the escrow for it, less the token's own fee.
        if fee:
            assert supplier <= self.to_supplier - self.deferred + self.withdrawn
            assert buyer_out <= self.to_buyer
        else:
            assert supplier == self.to_supplier - self.deferred + self.withdrawn
            assert buyer_out == self.to_buyer
        assert self.escrow.owed(self.supplier) == self.deferred - self.withdrawn

    @invariant()
    def statuses_match_model(self):
        for deal_id, deal in self.deals.items():
            view = self.escrow.getDeal(deal_id)
            assert (view["status"], view["version"]) == (deal.status, deal.version)
            for index, m in enumerate(deal.milestones):
                on_chain = self.escrow.getMilestone(deal_id, index)
                assert (on_chain["status"], on_chain["amount"]) == (m.status, m.amount)

    # ------------------------------------------------------------------ helpers

    def _give_buyer(self, amount: int) -> None:
        """Mint what the buyer is about to pay in, and remember it, so that the buyer's balance
        shows exactly what came back."""
        if amount:
            self.token.mint(self.buyer, amount, {"from": self.buyer})
            self.token.approve(self.escrow, 2**255, {"from": self.buyer})
            self.minted += amount

    def _release(self, deal, m, tx):
        holdback = deal.holdback(m)
        if holdback:
            m.status, m.due_at = MilestoneStatus.RETAINED, tx.timestamp + WARRANTY
        else:
            m.status = MilestoneStatus.RELEASED
        self._pay_supplier(m.amount - holdback)

    def _settle(self, m, to_supplier):
        m.status = MilestoneStatus.SETTLED
        self._pay_supplier(to_supplier)
        self.to_buyer += m.disputed - to_supplier

    def _pay_supplier(self, amount):
        self.to_supplier += amount
        if self.blocked and amount:
            self.deferred += amount

    def _after(self, deadline: int) -> bool | None:
        """Whether the next transaction comes after `deadline`; None when too close to tell."""
        now = brownie.chain[-1].timestamp + 1
        if abs(now - deadline) < SLACK:
            return None
        return now > deadline

    def _pick_deal(self, pick):
        ids = sorted(self.deals)
        deal_id = ids[pick % len(ids)]
        return deal_id, self.deals[deal_id]

    def _pick_milestone(self, pick, wanted=None):
        """A milestone of an Active deal for which `wanted(deal, m)` holds, when the pick's low
        bit asks for one and there is one (the success path); otherwise any milestone (for
        whatever outcome the model predicts, often a refusal)."""
        if pick & 1 and wanted is not None:
            candidates = [
                (deal_id, deal, index, m)
                for deal_id, deal in sorted(self.deals.items())
                if deal.status == DealStatus.ACTIVE
                for index, m in enumerate(deal.milestones)
                if wanted(deal, m)
            ]
            if candidates:
                return candidates[(pick >> 1) % len(candidates)]
        deal_id, deal = self._pick_deal(pick)
        index = (pick >> 8) % len(deal.milestones)
        return deal_id, deal, index, deal.milestones[index]

    def _votable(self, deal, m) -> bool:
        return (
            deal.status == DealStatus.ACTIVE
            and m.status == MilestoneStatus.PENDING
            and any(o not in m.met | m.not_met for o in m.oracles)
        )


def test_escrow_matches_model(
    any_escrow, any_token, any_ops, buyer, supplier, arbiter, inspector, carrier, customs
):
    machine = type(
        "Model",
        (EscrowModel,),
        {
            "escrow": any_escrow,
            "token": any_token,
            "ops": any_ops,
            "buyer": buyer,
            "supplier": supplier,
            "arbiter": arbiter,
            "oracle_keys": {
                any_ops.inspector: inspector,
                any_ops.carrier: carrier,
                any_ops.customs: customs,
            },
        },
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
