"""Stateful test: random sequences of deal operations against a Python model of the escrow.

Every rule predicts, from the model, whether the call must succeed or revert, then checks the
chain agrees. Invariants after every step:
  - the escrow's token balance == credited - released - refunded (per the model, and exactly);
  - no milestone is paid twice: supplier receipts == released, buyer receipts == refunded;
  - every milestone's on-chain status equals the model's.
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

from backend.terms import DealStatus, MilestoneStatus

EVIDENCE = b"\x11" * 32


@dataclass
class ModelMilestone:
    amount: int
    due_at: int
    quorum: int
    oracles: tuple[int, ...]
    attested: set = field(default_factory=set)
    status: MilestoneStatus = MilestoneStatus.PENDING


@dataclass
class ModelDeal:
    milestones: list[ModelMilestone]
    unfunded: int
    status: DealStatus = DealStatus.ACCEPTED


amounts = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=3)
picks = st.integers(min_value=0, max_value=2**32)


class EscrowModel(RuleBasedStateMachine):
    """Configured by the test through class attributes (escrow, token, ops, parties, keys)."""

    escrow = token = ops = buyer = supplier = None
    oracle_keys: dict = {}  # operator id -> key account

    def __init__(self):
        super().__init__()
        # Each example starts from the same chain state and leaves nothing behind.
        brownie.chain.snapshot()
        self.deals: dict[int, ModelDeal] = {}
        self.credited = 0
        self.released = 0
        self.refunded = 0
        self.start_escrow = self.token.balanceOf(self.escrow)
        self.start_supplier = self.token.balanceOf(self.supplier)

    def teardown(self):
        brownie.chain.revert()

    # ------------------------------------------------------------------ rules

    @initialize(st_amounts=amounts, st_quorum=st.integers(min_value=1, max_value=2))
    def start_with_an_active_deal(self, st_amounts, st_quorum):
        self.create(st_amounts, st_quorum)
        self.fund_fully(0)

    @rule(st_amounts=amounts, st_quorum=st.integers(min_value=1, max_value=2))
    def create(self, st_amounts, st_quorum):
        ids = [self.ops.inspector, self.ops.carrier]
        oracles = [tuple(ids)] * len(st_amounts)
        quorums = [st_quorum] * len(st_amounts)
        terms = milestones(list(st_amounts), oracles, quorums)
        tx = self.escrow.createDeal(
            self.buyer,
            self.supplier,
            self.ops.arbiter,
            [m.as_tuple() for m in terms],
            {"from": self.supplier},
        )
        deal_id = tx.events["DealCreated"]["dealId"]
        self.deals[deal_id] = ModelDeal(
            [ModelMilestone(m.amount, m.due_at, m.quorum, m.oracles) for m in terms],
            unfunded=sum(st_amounts),
        )

    @rule(st_pick=picks)
    def fund_fully(self, st_pick):
        """Fund to Active, topping up as a buyer would when a token takes a fee."""
        deal_id, deal = self._pick_deal(st_pick)
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
        self.token.mint(self.buyer, amount, {"from": self.buyer})
        self.token.approve(self.escrow, amount, {"from": self.buyer})
        if deal.status != DealStatus.ACCEPTED:
            with brownie.reverts():
                self.escrow.fund(deal_id, amount, {"from": self.buyer})
            return
        before = self.token.balanceOf(self.escrow)
        tx = self.escrow.fund(deal_id, amount, {"from": self.buyer})
        credited = tx.events["DealFunded"]["credited"]
        assert credited == self.token.balanceOf(self.escrow) - before
        assert credited <= amount
        self.credited += credited
        deal.unfunded -= credited
        if deal.unfunded == 0:
            deal.status = DealStatus.ACTIVE

    @rule(st_pick=picks, st_oracle=st.integers(min_value=0, max_value=1))
    def attest_as_oracle(self, st_pick, st_oracle):
        self.attest(st_pick, st_oracle)

    @rule(st_pick=picks, st_oracle=st.integers(min_value=0, max_value=2))
    def attest(self, st_pick, st_oracle):
        deal_id, deal = self._pick_deal(st_pick)
        index = st_pick % len(deal.milestones)
        m = deal.milestones[index]
        operator = [self.ops.inspector, self.ops.carrier, self.ops.customs][st_oracle]
        key = self.oracle_keys[operator]
        ok = (
            deal.status == DealStatus.ACTIVE
            and m.status == MilestoneStatus.PENDING
            and operator in m.oracles
            and operator not in m.attested
        )
        if not ok:
            with brownie.reverts():
                self.escrow.attest(deal_id, index, EVIDENCE, {"from": key})
            return
        self.escrow.attest(deal_id, index, EVIDENCE, {"from": key})
        m.attested.add(operator)
        if len(m.attested) >= m.quorum:
            m.status = MilestoneStatus.RELEASED
            self.released += m.amount

    @rule(st_pick=picks)
    def refund(self, st_pick):
        deal_id, deal = self._pick_deal(st_pick)
        index = st_pick % len(deal.milestones)
        m = deal.milestones[index]
        ok = (
            deal.status == DealStatus.ACTIVE
            and m.status == MilestoneStatus.PENDING
            and brownie.chain[-1].timestamp + 1 > m.due_at
        )
        if not ok:
            with brownie.reverts():
                self.escrow.refund(deal_id, index, {"from": self.buyer})
            return
        tx = self.escrow.refund(deal_id, index, {"from": self.buyer})
        assert tx.timestamp > m.due_at
        m.status = MilestoneStatus.REFUNDED
        self.refunded += m.amount

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
        self.refunded += deposited

    @rule(st_days=st.integers(min_value=1, max_value=40))
    def time_passes(self, st_days):
        brownie.chain.sleep(st_days * DAY)
        brownie.chain.mine()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def escrow_balance_is_credited_minus_paid_out(self):
        held = self.token.balanceOf(self.escrow) - self.start_escrow
        assert held == self.credited - self.released - self.refunded

    @invariant()
    def supplier_paid_exactly_the_released_milestones(self):
        received = self.token.balanceOf(self.supplier) - self.start_supplier
        fee = 1 if self.token._name == "FeeOnTransferToken" else 0
        # The supplier receives what left the escrow, less the token's own fee per transfer.
        assert received <= self.released
        if not fee:
            assert received == self.released

    @invariant()
    def milestone_status_matches_model(self):
        for deal_id, deal in self.deals.items():
            assert self.escrow.getDeal(deal_id)["status"] == deal.status
            for index, m in enumerate(deal.milestones):
                assert self.escrow.getMilestone(deal_id, index)["status"] == m.status

    # ------------------------------------------------------------------ helpers

    def _pick_deal(self, pick):
        ids = sorted(self.deals)
        deal_id = ids[pick % len(ids)]
        return deal_id, self.deals[deal_id]


def test_escrow_matches_model(
    any_escrow, any_token, any_ops, buyer, supplier, inspector, carrier, customs
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
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
