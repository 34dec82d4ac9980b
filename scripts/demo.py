"""The main job: one whole deal on a local chain, printed as a timeline.

An electronics maker in Shenzhen sells 2,000 industrial controllers to a distributor in
Rotterdam for 100,000 tUSD, paid in four milestones:
  1. raw materials purchased   20,000  inspector                due day 14
  2. prototype approved        15,000  inspector                due day 30
  3. initial production        25,000  inspector                due day 45
  4. final shipment            40,000  inspector AND carrier    due day 75
with the deal's policy: the buyer has 5 days to examine each milestone its oracles approve
(as UCP 600 gives banks five banking days to examine documents), an arbiter 14 days to rule
on a dispute, and 5% of each milestone is held back for a 90-day warranty.

The supplier signs the offer off chain; the buyer accepts and funds it in one transaction
(permit). The oracles sign their attestations off chain and a relayer posts them (the two for
the final shipment in one batch); their evidence documents are pinned through the evidence
service (backend/), run in-process over real HTTP with its embedded IPFS store. On the way:
a change order (the buyer orders 500 more units, a fifth milestone, and production gets ten
more days), the buyer disputes the initial production and the arbiter splits it 70/30, and
the holdbacks are paid once their warranties have passed. Every step is a real transaction
on anvil; time moves with evm_increaseTime.

    brownie run scripts/demo.py
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass

from brownie import accounts, chain
from eth_utils import keccak

from backend import attestations
from backend.terms import (
    Amendment,
    ChangeAction,
    DealOffer,
    Milestone,
    MilestoneChange,
    MilestoneStatus,
    Policy,
)
from scripts.brownie_types import Contract, LocalKey
from scripts.deals import accept_with_permit, deal_id, register_operator
from scripts.deploy import deploy, deploy_second, record
from scripts.evidence_service import EvidenceService
from scripts.local_chain import DAY, funded_key, now, rpc_url
from scripts.signing import sign_amendment, signed_attestation

UNIT = 10**6  # tUSD has 6 decimals


def usd(amount: int) -> str:
    return f"{amount / UNIT:>11,.2f}"


class Timeline:
    """The deal's days, and a line per step with the three balances."""

    def __init__(self, token: Contract, escrow: Contract, buyer: LocalKey, supplier: LocalKey):
        self.token, self.escrow = token, escrow
        self.buyer, self.supplier = buyer, supplier
        self.start = now()

    def day(self) -> int:
        return (now() - self.start) // DAY

    def log(self, text: str) -> None:
        b = self.token.balanceOf(self.buyer)
        s = self.token.balanceOf(self.supplier)
        e = self.token.balanceOf(self.escrow)
        print(f"day {self.day():>3}  {text:<54} buyer {usd(b)}  supplier {usd(s)}  escrow {usd(e)}")

    def travel_to(self, day: int) -> None:
        target = self.start + day * DAY
        chain.sleep(target - now())
        chain.mine()


def new_party(label: str) -> LocalKey:
    # A key derived from the party's name: the same addresses on every run. Demo only.
    account = funded_key(keccak(text=f"demo key: {label}").hex())
    print(f"  {label:<34} {account.address}")
    return account


@dataclass(frozen=True)
class Parties:
    buyer: LocalKey
    supplier: LocalKey
    inspector: LocalKey
    carrier: LocalKey
    arbiter: LocalKey
    relayer: LocalKey


@dataclass(frozen=True)
class Operators:
    """The operator ids the deal's terms name."""

    inspector: int
    carrier: int
    arbiter: int


# The deal's milestones, in order; the fifth comes with the change order.
NAMES = (
    "raw materials purchased",
    "prototype approved",
    "initial production",
    "final shipment",
    "extra batch (change order)",
)


def introduce_parties() -> Parties:
    print("Parties (fresh keys on the local chain):")
    return Parties(
        buyer=new_party("buyer   Rotterdam Controls B.V."),
        supplier=new_party("supplier Shenzhen Volta Electronics"),
        inspector=new_party("oracle  QualiCheck Inspection"),
        carrier=new_party("oracle  BlueWave Ocean Lines"),
        arbiter=new_party("arbiter Trade Arbitration Chamber"),
        relayer=new_party("relayer (anyone; posts signed verdicts)"),
    )


def deploy_contracts() -> tuple[Contract, Contract]:
    """The escrow and its test stablecoin, recorded in deployments/ for the service; and a
    second token's escrow beside it (the demo's deal is in the first; `make serve` serves
    both)."""
    escrow, token = deploy(accounts[0], silent=True)
    record(escrow, token)
    second, euro = deploy_second(accounts[0], silent=True)
    print(f"\nEscrow {escrow.address} for {token.symbol()} {token.address} (chain {chain.id})")
    print(f"Escrow {second.address} for {euro.symbol()} {euro.address}, for deals in euros")
    return escrow, token


def register_operators(escrow: Contract, parties: Parties) -> Operators:
    """The oracles and the arbiter register themselves, each with its own key."""
    ops = Operators(
        inspector=register_operator(
            escrow, "QualiCheck Inspection", parties.inspector, silent=True
        ),
        carrier=register_operator(escrow, "BlueWave Ocean Lines", parties.carrier, silent=True),
        arbiter=register_operator(
            escrow, "Trade Arbitration Chamber", parties.arbiter, silent=True
        ),
    )
    print(
        f"Operators registered: inspector #{ops.inspector}, carrier #{ops.carrier}, "
        f"arbiter #{ops.arbiter}\n"
    )
    return ops


def milestone(
    start: int, index: int, amount: int, due_day: int, oracles: tuple[int, ...], quorum: int = 1
) -> Milestone:
    """Milestone `index` of the deal: `amount` tUSD due `due_day` days after the start."""
    requirements = hashlib.sha256(f"requirements: {NAMES[index]}".encode()).digest()
    return Milestone(amount * UNIT, start + due_day * DAY, quorum, oracles, requirements)


class DemoDeal:
    """The deal once funded: its parties, the timeline it prints, the evidence service its
    oracles pin documents to, and the moves the narration repeats."""

    def __init__(
        self,
        escrow: Contract,
        token: Contract,
        parties: Parties,
        ops: Operators,
        t: Timeline,
        deal_id: int,
        service: EvidenceService,
    ):
        self.escrow, self.token, self.parties, self.ops, self.t = escrow, token, parties, ops, t
        self.id, self.service = deal_id, service

    def status(self, index: int) -> str:
        return MilestoneStatus(self.escrow.getMilestone(self.id, index)["status"]).name.lower()

    def version(self) -> int:
        return int(self.escrow.getDeal(self.id)["version"])

    def oracle_signs(
        self, index: int, key: LocalKey, who: str, doc: str, day: int
    ) -> attestations.SignedAttestation:
        """On `day`, an oracle pins its evidence and signs its verdict off chain (EIP-712); no
        gas, no transaction."""
        self.t.travel_to(day)
        body = f"%PDF-1.7\n{doc}: deal {self.id} milestone {index + 1} checked by {who}\n%%EOF\n"
        evidence = self.service.pin(key, self.id, doc, body.encode())
        signed = signed_attestation(
            self.escrow,
            key,
            self.id,
            index,
            deal_version=self.version(),
            evidence_hash=evidence,
            deadline=now() + 14 * DAY,
        )
        self.t.log(f"{who} signs M{index + 1} {NAMES[index]}: met")
        return signed

    def relay(self, *signed: attestations.SignedAttestation) -> None:
        """Anyone posts signed attestations: here a relayer, several in one transaction."""
        tx = self.escrow.submitAttestations(
            [s.as_tuple() for s in signed], {"from": self.parties.relayer}, silent=True
        )
        for index in sorted({s.attestation.milestone for s in signed}):
            m = self.escrow.getMilestone(self.id, index)
            state = self.status(index) if m["attestations"] >= m["quorum"] else "1 of 2"
            self.t.log(
                f"relayer posts {len(signed)} signed, {tx.gas_used:,} gas: M{index + 1} {state}"
            )

    def release_after_window(self, index: int, day: int) -> None:
        self.t.travel_to(day)
        self.escrow.release(self.id, index, {"from": self.parties.relayer}, silent=True)
        self.t.log(f"window over in silence: M{index + 1} released, 5% retained")


def offer_and_fund(escrow: Contract, token: Contract, parties: Parties, ops: Operators) -> DemoDeal:
    """The supplier signs an offer of four milestones under the deal's policy; the buyer
    accepts it and pays it in, one transaction with a permit."""
    buyer, supplier = parties.buyer, parties.supplier
    token.mint(buyer, 110_000 * UNIT, {"from": accounts[0]}, silent=True)
    t = Timeline(token, escrow, buyer, supplier)
    start = t.start
    inspector, both = (ops.inspector,), (ops.inspector, ops.carrier)
    offer = DealOffer(
        buyer.address,
        supplier.address,
        ops.arbiter,
        milestones=(
            milestone(start, 0, 20_000, 14, inspector),
            milestone(start, 1, 15_000, 30, inspector),
            milestone(start, 2, 25_000, 45, inspector),
            milestone(start, 3, 40_000, 75, both, quorum=2),
        ),
        nonce=1,
        deadline=t.start + 7 * DAY,
        policy=Policy(
            examination_window=5 * DAY,
            ruling_period=14 * DAY,
            warranty_period=90 * DAY,
            retention_bps=500,
        ),
    )
    t.log("buyer holds the purchase price (and more)")
    t.log("supplier signs the offer off chain (EIP-712)")
    tx = accept_with_permit(escrow, token, offer, supplier, buyer, start + DAY, silent=True)
    deal = DemoDeal(escrow, token, parties, ops, t, deal_id(tx), EvidenceService(escrow))
    t.log(f"buyer accepts + funds deal #{deal.id}, one tx, {tx.gas_used:,} gas")
    print("           policy: 5-day examination, 14-day ruling period, 5% held 90 days")
    print("Trade documents are confidential: encrypted to the deal's readers before upload.")
    readers = ("buyer", "supplier", "inspector", "carrier", "arbiter")
    deal.service.publish_keys({name: getattr(parties, name) for name in readers})
    return deal


def raw_materials(deal: DemoDeal) -> None:
    """M1: approved by the inspector, examined by the buyer, released after the window."""
    inspector = deal.parties.inspector
    deal.relay(deal.oracle_signs(0, inspector, "inspector", "raw-materials-invoices.pdf", 10))
    deal.release_after_window(0, 16)


def change_order(deal: DemoDeal) -> None:
    """500 more controllers (a fifth milestone, 10,000) and ten more days for production. The
    supplier signs; the buyer sends it and pays the 10,000 in."""
    escrow, t = deal.escrow, deal.t
    t.travel_to(20)
    due_before = escrow.getMilestone(deal.id, 2)["dueAt"]
    inspector = (deal.ops.inspector,)
    changes = (
        MilestoneChange(2, ChangeAction.EDIT, milestone(t.start, 2, 25_000, 55, inspector)),
        MilestoneChange(4, ChangeAction.ADD, milestone(t.start, 4, 10_000, 90, inspector)),
    )
    amendment = Amendment(deal.id, deal.version(), changes, deadline=t.start + 27 * DAY)
    by_supplier = sign_amendment(escrow, deal.parties.supplier, amendment)
    t.log("supplier signs a change order: +M5, M3 due day 55")
    buyer = deal.parties.buyer
    deal.token.approve(escrow, 10_000 * UNIT, {"from": buyer}, silent=True)
    tx = escrow.amend(amendment.as_tuple(), by_supplier, {"from": buyer}, silent=True)
    moved = (escrow.getMilestone(deal.id, 2)["dueAt"] - due_before) // DAY
    version = tx.events["DealAmended"]["version"]
    t.log(f"buyer applies it (v{version}), pays 10,000 in, {tx.gas_used:,} gas")
    total = usd(escrow.getDeal(deal.id)["total"]).strip()
    print(f"           M3 due {moved} days later; deal total now {total}")


def prototype(deal: DemoDeal) -> None:
    """M2: the buyer approves the prototype at once instead of waiting for the window."""
    inspector = deal.parties.inspector
    deal.relay(deal.oracle_signs(1, inspector, "inspector", "prototype-approval.pdf", 27))
    deal.escrow.waiveExamination(deal.id, 1, {"from": deal.parties.buyer}, silent=True)
    deal.t.log("buyer waives the window: M2 released, 5% retained")


def production_dispute(deal: DemoDeal) -> None:
    """M3: the buyer finds defects in the first production run and disputes it; the arbiter
    splits it 70/30."""
    inspector = deal.parties.inspector
    deal.relay(deal.oracle_signs(2, inspector, "inspector", "production-inspection.pdf", 50))
    deal.t.travel_to(52)
    deal.escrow.openDispute(deal.id, 2, {"from": deal.parties.buyer}, silent=True)
    deal.t.log("buyer disputes M3 within its window (defects found)")
    deal.t.travel_to(60)
    tx = deal.escrow.rule(deal.id, 2, 17_500 * UNIT, {"from": deal.parties.arbiter}, silent=True)
    deal.t.log(f"arbiter rules M3 70/30, {tx.gas_used:,} gas")


def shipment_and_extra_batch(deal: DemoDeal) -> None:
    """M4: two oracles, relayed in one batch; M5: the extra batch."""
    inspector, carrier = deal.parties.inspector, deal.parties.carrier
    shipped = deal.oracle_signs(3, inspector, "inspector", "pre-shipment-inspection.pdf", 68)
    loaded = deal.oracle_signs(3, carrier, "carrier", "bill-of-lading.pdf", 72)
    deal.relay(shipped, loaded)
    deal.release_after_window(3, 78)
    deal.relay(deal.oracle_signs(4, inspector, "inspector", "extra-batch-inspection.pdf", 85))
    deal.release_after_window(4, 91)


def warranties_pass(deal: DemoDeal) -> None:
    """The warranties pass without a claim: anyone pays the holdbacks out."""
    deal.t.travel_to(182)
    for index in (0, 1, 3, 4):
        deal.escrow.releaseRetention(deal.id, index, {"from": deal.parties.relayer}, silent=True)
    deal.t.log("warranties over: the four holdbacks are paid out")


def totals(deal: DemoDeal) -> None:
    """Who holds what at the end, checked: the demo fails if the story did not happen."""
    token, parties = deal.token, deal.parties
    paid = token.balanceOf(parties.supplier)
    refunded = token.balanceOf(parties.buyer)
    statuses = [deal.status(i) for i in range(5)]
    deal.service.wait_indexed(deal.id, paid)
    print()
    print(
        f"Totals: supplier paid {usd(paid).strip()} tUSD (4 milestones in full, 70% of M3); "
        f"buyer got back {usd(refunded).strip()} tUSD (30% of M3); "
        f"escrow holds {usd(token.balanceOf(deal.escrow)).strip()} tUSD"
    )
    print(f"Milestones: {', '.join(f'M{i + 1} {s}' for i, s in enumerate(statuses))}")
    assert statuses == ["released", "released", "settled", "released", "released"], statuses
    assert (paid, refunded) == (102_500 * UNIT, 7_500 * UNIT)
    assert token.balanceOf(deal.escrow) == 0


def main() -> None:
    print("Milestone escrow demo: an electronics maker sells to a buyer abroad\n")
    parties = introduce_parties()
    escrow, token = deploy_contracts()
    ops = register_operators(escrow, parties)
    deal = offer_and_fund(escrow, token, parties, ops)
    try:
        raw_materials(deal)
        change_order(deal)
        prototype(deal)
        production_dispute(deal)
        shipment_and_extra_batch(deal)
        warranties_pass(deal)
        totals(deal)
        deal.service.read_back(parties.buyer, "buyer", deal.id)
        show_page(deal.service, deal.id, {"buyer": parties.buyer, "supplier": parties.supplier})
    finally:
        deal.service.close()


def show_page(service: EvidenceService, deal_id: int, parties: dict[str, LocalKey]) -> None:
    """The deal's web page. From a terminal, the chain and the service stay up until Enter, so
    the page can be opened; a wallet on the local chain can import the parties' throwaway keys
    to act as them. Without a terminal (CI), the demo ends here."""
    print(f"\nDeal page: {service.url}/app/#/deal/{service.escrow.address}/{deal_id}")
    if not sys.stdin.isatty():
        return
    print(f"Wallet network: chain {chain.id}, RPC {rpc_url()}; local keys:")
    for role, account in parties.items():
        print(f"  {role:<9} {account.address}  {account.private_key}")
    try:
        input("The page stays up until you press Enter. ")
    except (EOFError, KeyboardInterrupt):
        pass
