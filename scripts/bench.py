"""Gas benchmark: every escrow operation, and plain ERC-20 transfers of the same token measured
in the same run as the floor. Writes bench/gas.json (operation -> gas used) and prints a table.

    brownie run scripts/bench.py            (make bench)

Targets checked at the end (exit status 1 when one is missed):
  attest_release <= 1.6 x transfer_to_holder
  create_fund_4  <= 250,000
and one aim reported: attest_batch_marginal <= 15,000 (gas per extra attestation in a batch
of 50 signed attestations on 50 distinct milestones of 25 deals, relayed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from brownie import accounts, chain
from eth_account import Account

from backend import attestations
from backend.terms import (
    NO_POLICY,
    Amendment,
    Cancellation,
    ChangeAction,
    DealOffer,
    Milestone,
    MilestoneChange,
    Policy,
)
from backend.typed_data import Signature
from scripts.brownie_types import LocalKey, Receipt, project_container
from scripts.deals import accept_with_permit, create_deal, deal_id, register_operator
from scripts.deploy import deploy_escrow
from scripts.local_chain import DAY, funded_key, now
from scripts.signing import (
    sign_amendment,
    sign_cancellation,
    sign_permit,
    signed_attestation,
)

UNIT = 10**6
OUT = Path(__file__).resolve().parent.parent / "bench" / "gas.json"

# Peers measured on anvil with each one's own compiler settings (see the issues that set the
# targets), printed beside the row of ours that does the same job. Their plain transfer to a
# holder cost 34,525 in that run (ours is measured below, in this run).
PEERS = {
    "create_4": ("Smart Invoice create, 4 milestones", 449_060),
    "create_10": ("Smart Invoice create, 10 milestones", 588_021),
    "fund": ("Smart Invoice funding transfer", 51_626),
    "attest_release": ("Smart Invoice release; Kleros v2 pay part: 53,795", 68_085),
    "dispute_and_ruling": ("Smart Invoice lock + resolve", 213_068),
    "create_fund_4": ("Kleros v2 create + fund 1 payment, + approve 45,983", 162_543),
    "transfer_to_holder": ("plain transfer to a holder (peers' run)", 34_525),
}
# A buyer keeps this much after funding (a business does not empty its wallet into one deal;
# a balance that falls to zero would earn a storage refund and flatter the figure).
KEPT = 1_000 * UNIT
TestStablecoin = project_container("TestStablecoin")


class Bench:
    def __init__(self) -> None:
        self.gas: dict[str, int] = {}
        deployer = accounts[0]
        self.token = TestStablecoin.deploy({"from": deployer}, silent=True)
        self.escrow = deploy_escrow(self.token, deployer, silent=True)
        self.oracle_a, self.oracle_b, self.arbiter = funded_key(), funded_key(), funded_key()
        self.ids = [
            register_operator(self.escrow, "op", key, silent=True)
            for key in (self.oracle_a, self.oracle_b, self.arbiter)
        ]
        # Steady state: the escrow already holds other deals' funds.
        self.token.mint(self.escrow, 1, {"from": deployer}, silent=True)

    def record(self, name: str, tx: Receipt) -> None:
        self.gas[name] = tx.gas_used

    def terms(self, n: int, quorum: int = 1) -> tuple[Milestone, ...]:
        start = now()
        oracles = (self.ids[0], self.ids[1]) if quorum == 2 else (self.ids[0],)
        return tuple(
            Milestone(
                1_000 * UNIT * (i + 1),
                start + (i + 1) * 30 * DAY,
                quorum,
                oracles,
                bytes([i + 1]) * 32,
            )
            for i in range(n)
        )

    def sign(
        self, key: LocalKey, deal: int, index: int, met: bool = True
    ) -> attestations.SignedAttestation:
        return signed_attestation(
            self.escrow, key, deal, index, met, evidence_hash=bytes([index + 7]) * 32
        )

    def create(
        self,
        buyer: LocalKey,
        supplier: LocalKey,
        terms: tuple[Milestone, ...],
        name: str | None = None,
        policy: Policy = NO_POLICY,
    ) -> int:
        tx = create_deal(self.escrow, buyer, supplier, self.ids[2], terms, policy, silent=True)
        if name:
            self.record(name, tx)
        return deal_id(tx)

    def permit(self, owner: LocalKey, value: int) -> tuple[int, Signature]:
        deadline = now() + DAY
        return deadline, sign_permit(self.token, owner, self.escrow, value, deadline)

    def offer_and_fund(self, buyer: LocalKey, supplier: LocalKey, nonce: int) -> Receipt:
        offer = DealOffer(
            buyer.address,
            supplier.address,
            self.ids[2],
            milestones=self.terms(4),
            nonce=nonce,
            deadline=now() + DAY,
        )
        self.token.mint(buyer, offer.total + KEPT, {"from": buyer}, silent=True)
        return accept_with_permit(self.escrow, self.token, offer, supplier, buyer, silent=True)

    def lifecycle(self, buyer: LocalKey, supplier: LocalKey) -> int:
        """Examination, dispute and ruling, release with retention, change orders and a
        cancellation by agreement. Returns the deal whose M1 holds a holdback."""
        policy = Policy(
            examination_window=2 * DAY,
            ruling_period=5 * DAY,
            warranty_period=10 * DAY,
            retention_bps=500,
        )
        deal = self.create(buyer, supplier, self.terms(4), "create_4_with_policy", policy)
        self.fund(buyer, deal)
        ev = b"\x43" * 32
        self.record(
            "attest_examination",
            self.escrow.attest(deal, 0, ev, {"from": self.oracle_a}, silent=True),
        )
        opened = self.escrow.openDispute(deal, 0, {"from": buyer}, silent=True)
        ruled = self.escrow.rule(deal, 0, 700 * UNIT, {"from": self.arbiter}, silent=True)
        self.record("dispute_open", opened)
        self.record("dispute_rule", ruled)
        self.gas["dispute_and_ruling"] = opened.gas_used + ruled.gas_used

        self.escrow.attest(deal, 1, ev, {"from": self.oracle_a}, silent=True)
        chain.sleep(2 * DAY + 1)
        chain.mine()
        self.record(
            "release_after_window",
            self.escrow.release(deal, 1, {"from": self.oracle_b}, silent=True),
        )

        # Change orders: a deadline extension (one edit), and one more milestone (top-up).
        m2 = self.terms(4)[2]
        later = Milestone(m2.amount, m2.due_at + 10 * DAY, 1, m2.oracles, m2.requirements_hash)
        self.record(
            "change_order_extend",
            self.amend(buyer, supplier, deal, [MilestoneChange(2, ChangeAction.EDIT, later)]),
        )
        extra = self.terms(1)[0]
        self.record(
            "change_order_add",
            self.amend(buyer, supplier, deal, [MilestoneChange(4, ChangeAction.ADD, extra)]),
        )

        # Cancellation by agreement of a fresh 4-milestone deal, half to each side.
        other = self.create(buyer, supplier, self.terms(4))
        self.fund(buyer, other)
        held = self.escrow.heldFor(other)
        cancellation = Cancellation(other, 1, held // 2, held - held // 2, deadline=now() + DAY)
        signature = sign_cancellation(self.escrow, supplier, cancellation)
        self.record(
            "cancel_by_agreement",
            self.escrow.cancelByAgreement(
                cancellation.as_tuple(), signature, {"from": buyer}, silent=True
            ),
        )
        return deal

    def fund(self, buyer: LocalKey, deal: int) -> Receipt:
        """Fund a deal in full (the escrow takes exactly what it is asked for)."""
        total = self.escrow.getDeal(deal)["unfunded"]
        return self.escrow.fund(deal, total, {"from": buyer}, silent=True)

    def amend(
        self, buyer: LocalKey, supplier: LocalKey, deal: int, changes: list[MilestoneChange]
    ) -> Receipt:
        version = self.escrow.getDeal(deal)["version"]
        amendment = Amendment(deal, version, tuple(changes), deadline=now() + DAY)
        signature = sign_amendment(self.escrow, supplier, amendment)
        return self.escrow.amend(amendment.as_tuple(), signature, {"from": buyer}, silent=True)

    def run(self) -> dict[str, int]:
        buyer, supplier = funded_key(), funded_key()
        for n in (1, 4, 10):
            self.create(buyer, supplier, self.terms(n), f"create_{n}")

        # fund: approve beforehand (not counted), then the deposit itself; the buyer keeps a
        # balance afterwards, as in every row here.
        deal = self.create(buyer, supplier, self.terms(4))
        total = self.escrow.getDeal(deal)["total"]
        self.token.mint(buyer, total + KEPT, {"from": buyer}, silent=True)
        self.token.approve(self.escrow, total, {"from": buyer}, silent=True)
        self.record("fund", self.escrow.fund(deal, total, {"from": buyer}, silent=True))

        deal_p = self.create(buyer, supplier, self.terms(4))
        self.token.mint(buyer, total, {"from": buyer}, silent=True)
        deadline, sig = self.permit(buyer, total)
        self.record(
            "fund_with_permit",
            self.escrow.fundWithPermit(
                deal_p, total, deadline, *sig.vrs, {"from": buyer}, silent=True
            ),
        )

        # Create + fund, all transactions together, by a buyer that keeps a balance. First deal
        # of fresh parties (first permit nonce, first offer nonce word: a cold, zero slot each),
        # then the same parties' next deal (steady state: what every later deal costs).
        fresh_buyer, fresh_supplier = funded_key(), funded_key()
        self.record("create_fund_4_first_deal", self.offer_and_fund(fresh_buyer, fresh_supplier, 1))
        self.record("create_fund_4", self.offer_and_fund(fresh_buyer, fresh_supplier, 2))
        deal_2 = self.create(buyer, supplier, self.terms(4))
        two_step = self.gas.get("create_4", 0)  # same shape as create_4
        self.token.mint(buyer, total, {"from": buyer}, silent=True)
        deadline, sig = self.permit(buyer, total)
        tx = self.escrow.fundWithPermit(
            deal_2, total, deadline, *sig.vrs, {"from": buyer}, silent=True
        )
        self.gas["create_fund_4_two_step"] = two_step + tx.gas_used

        # attest: a quorum-of-2 milestone; the first attestation only records.
        deal_q = self.create(buyer, supplier, self.terms(2, quorum=2))
        self.token.mint(buyer, 10**12, {"from": buyer}, silent=True)
        self.token.approve(self.escrow, 10**12, {"from": buyer}, silent=True)
        self.fund(buyer, deal_q)
        self.token.mint(supplier, 1, {"from": buyer}, silent=True)  # supplier holds tokens
        ev = b"\x42" * 32
        self.record(
            "attest", self.escrow.attest(deal_q, 0, ev, {"from": self.oracle_a}, silent=True)
        )
        self.record(
            "attest_release",
            self.escrow.attest(deal_q, 0, ev, {"from": self.oracle_b}, silent=True),
        )

        # Relayed: one signed attestation submitted by a relayer (records, no release), and
        # batches of 1 and 50 across 25 deals of two milestones, from two oracle keys.
        relayer = funded_key()
        deal_r = self.create(buyer, supplier, self.terms(1, quorum=2))
        self.fund(buyer, deal_r)
        signed = self.sign(self.oracle_a, deal_r, 0)
        self.record(
            "attest_relayed",
            self.escrow.submitAttestation(signed.as_tuple(), {"from": relayer}, silent=True),
        )
        deals = []
        for _ in range(26):
            deal_b = self.create(buyer, supplier, self.terms(2, quorum=2))
            self.fund(buyer, deal_b)
            deals.append(deal_b)
        one = [self.sign(self.oracle_a, deals[0], 0).as_tuple()]
        tx_one = self.escrow.submitAttestations(one, {"from": relayer}, silent=True)
        fifty = [self.sign(self.oracle_a, d, i).as_tuple() for d in deals[1:] for i in (0, 1)]
        tx_fifty = self.escrow.submitAttestations(fifty, {"from": relayer}, silent=True)
        assert tx_fifty.return_value == 50, tx_fifty.return_value
        self.gas["attest_batch_1"] = tx_one.gas_used
        self.gas["attest_batch_50"] = tx_fifty.gas_used
        self.gas["attest_batch_marginal"] = (tx_fifty.gas_used - tx_one.gas_used) // 49

        deal_l = self.lifecycle(buyer, supplier)

        # refund after the due date
        chain.sleep(61 * DAY)
        chain.mine()
        self.record("refund", self.escrow.refund(deal_q, 1, {"from": buyer}, silent=True))
        self.record(
            "release_retention",
            self.escrow.releaseRetention(deal_l, 1, {"from": relayer}, silent=True),
        )

        # The floor: plain transfers of the same token, same run.
        self.record(
            "transfer_to_holder", self.token.transfer(supplier, 1, {"from": buyer}, silent=True)
        )
        self.record(
            "transfer_to_fresh",
            self.token.transfer(Account.create().address, 1, {"from": buyer}, silent=True),
        )
        return self.gas


def main() -> None:
    gas = Bench().run()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(gas, indent=2, sort_keys=True) + "\n")

    floor = gas["transfer_to_holder"]
    print(f"\n{'operation':<28}{'gas':>10}{'x transfer':>12}   peer (for scale)")
    for name, used in gas.items():
        peer = PEERS.get(name)
        peer_text = f"{peer[1]:>9,}  {peer[0]}" if peer else ""
        print(f"{name:<28}{used:>10,}{used / floor:>11.2f}x   {peer_text}")
    print(f"\nwritten to {OUT}")

    checks = [
        (
            "attest_release <= 1.6 x transfer_to_holder",
            gas["attest_release"] <= 1.6 * floor,
            f"{gas['attest_release']:,} vs {1.6 * floor:,.0f}",
        ),
        ("create_fund_4 <= 250,000", gas["create_fund_4"] <= 250_000, f"{gas['create_fund_4']:,}"),
    ]
    for label, ok, figures in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}  ({figures})")
    # An aim, not a gate: 50 distinct milestones each pay a cold slot write, an ecrecover
    # and an event (about 15.4k together) before any overhead.
    marginal = gas["attest_batch_marginal"]
    aim = "within" if marginal <= 15_000 else "above"
    print(f"AIM   attest_batch_marginal <= 15,000: {aim} ({marginal:,} per attestation)")
    if not all(ok for _, ok, _ in checks):
        sys.exit(1)
