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
from pathlib import Path

from brownie import accounts, chain, web3
from eth_utils import keccak

from backend import attestations, auth, typed_data
from backend.terms import (
    Amendment,
    ChangeAction,
    DealOffer,
    Milestone,
    MilestoneChange,
    MilestoneStatus,
    Policy,
)
from scripts.deploy import deploy, record

DAY = 86_400
UNIT = 10**6  # tUSD has 6 decimals


def usd(amount: int) -> str:
    return f"{amount / UNIT:>11,.2f}"


class Timeline:
    def __init__(self, token, escrow, buyer, supplier):
        self.token, self.escrow = token, escrow
        self.buyer, self.supplier = buyer, supplier
        self.start = chain[-1].timestamp

    def day(self) -> int:
        return (chain[-1].timestamp - self.start) // DAY

    def log(self, text: str) -> None:
        b = self.token.balanceOf(self.buyer)
        s = self.token.balanceOf(self.supplier)
        e = self.token.balanceOf(self.escrow)
        print(f"day {self.day():>3}  {text:<54} buyer {usd(b)}  supplier {usd(s)}  escrow {usd(e)}")

    def travel_to(self, day: int) -> None:
        target = self.start + day * DAY
        chain.sleep(target - chain[-1].timestamp)
        chain.mine()


def new_party(label: str):
    # A key derived from the party's name: the same addresses on every run. Demo only.
    account = accounts.add(keccak(text=f"demo key: {label}").hex())
    accounts[0].transfer(account, "10 ether", silent=True)
    print(f"  {label:<34} {account.address}")
    return account


class EvidenceService:
    """The evidence service (backend/) run in this process on a free port, with the embedded
    content-addressed store in a temporary folder; documents go to it over real HTTP."""

    def __init__(self, escrow):
        import tempfile

        import httpx

        from backend.main import BackgroundServer
        from backend.settings import Settings

        settings = Settings(
            rpc_url=web3.provider.endpoint_uri,
            escrow_address=escrow.address,
            data_dir=Path(tempfile.mkdtemp(prefix="demo-service-")),
            # the deal index behind the web page, which the demo's last line points to
            run_indexer=True,
            indexer_confirmations=0,
            indexer_interval_seconds=0.5,
        )
        self.server = BackgroundServer(settings)
        self.url = self.server.url
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.escrow = escrow

    def pin(self, key, deal_id: int, name: str, document: bytes) -> bytes:
        """Upload `document` signed by `key`; returns its sha256 (what attestations anchor)."""
        headers = auth.upload_headers(
            key.private_key,
            hashlib.sha256(document).hexdigest(),
            deal_id,
            chain.id,
            self.escrow.address,
        )
        r = self.http.post(
            "/evidence", params={"deal": deal_id}, files={"file": (name, document)}, headers=headers
        )
        r.raise_for_status()
        meta = r.json()
        print(f"           pinned {name} ({meta['size']} B, {meta['media_type']}): {meta['cid']}")
        return bytes.fromhex(meta["sha256"])

    def wait_indexed(self, deal_id: int, released: int, timeout: float = 30) -> None:
        """Until the service's index has caught up with the chain (the web page reads it)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.http.get(f"/deals/{deal_id}")
            if r.status_code == 200 and r.json()["released"] == str(released):
                return
            time.sleep(0.25)
        raise RuntimeError(f"the service did not index deal {deal_id} within {timeout} s")

    def close(self) -> None:
        self.http.close()
        self.server.stop()


def main() -> None:
    print("Milestone escrow demo: an electronics maker sells to a buyer abroad\n")
    print("Parties (fresh keys on the local chain):")
    buyer = new_party("buyer   Rotterdam Controls B.V.")
    supplier = new_party("supplier Shenzhen Volta Electronics")
    inspector = new_party("oracle  QualiCheck Inspection")
    carrier = new_party("oracle  BlueWave Ocean Lines")
    arbiter = new_party("arbiter Trade Arbitration Chamber")
    relayer = new_party("relayer (anyone; posts signed verdicts)")

    escrow, token = deploy(accounts[0], silent=True)
    record(escrow, token)
    print(f"\nEscrow {escrow.address} for {token.symbol()} {token.address} (chain {chain.id})")

    ids = {}
    for label, key in (
        ("QualiCheck Inspection", inspector),
        ("BlueWave Ocean Lines", carrier),
        ("Trade Arbitration Chamber", arbiter),
    ):
        tx = escrow.registerOperator(label, "", key, 0, b"", {"from": key}, silent=True)
        ids[label] = tx.events["OperatorRegistered"]["operatorId"]
    insp, carr, arb = ids.values()
    print(f"Operators registered: inspector #{insp}, carrier #{carr}, arbiter #{arb}\n")

    token.mint(buyer, 110_000 * UNIT, {"from": accounts[0]}, silent=True)
    t = Timeline(token, escrow, buyer, supplier)
    start = t.start
    names = [
        "raw materials purchased",
        "prototype approved",
        "initial production",
        "final shipment",
        "extra batch (change order)",
    ]
    plan = [
        (20_000, 14, (insp,), 1),
        (15_000, 30, (insp,), 1),
        (25_000, 45, (insp,), 1),
        (40_000, 75, (insp, carr), 2),
    ]

    def terms_of(index: int, amount: int, due: int, oracles, quorum: int) -> Milestone:
        requirements = hashlib.sha256(f"requirements: {names[index]}".encode()).digest()
        return Milestone(amount * UNIT, start + due * DAY, quorum, oracles, requirements)

    terms = tuple(terms_of(i, *p) for i, p in enumerate(plan))
    policy = Policy(
        examination_window=5 * DAY,
        ruling_period=14 * DAY,
        warranty_period=90 * DAY,
        retention_bps=500,
    )
    offer = DealOffer(
        buyer.address,
        supplier.address,
        arb,
        milestones=terms,
        nonce=1,
        deadline=start + 7 * DAY,
        policy=policy,
    )

    t.log("buyer holds the purchase price (and more)")
    signature = typed_data.sign(
        typed_data.offer_message(chain.id, escrow.address, offer), supplier.private_key
    ).signature
    t.log("supplier signs the offer off chain (EIP-712)")
    permit = typed_data.sign(
        typed_data.permit_message(
            chain.id,
            token.address,
            token.name(),
            buyer.address,
            escrow.address,
            offer.total,
            token.nonces(buyer),
            start + DAY,
        ),
        buyer.private_key,
    )
    tx = escrow.acceptOfferWithPermit(
        offer.as_tuple(),
        signature,
        offer.total,
        start + DAY,
        *permit.vrs,
        {"from": buyer},
        silent=True,
    )
    deal_id = tx.events["DealCreated"]["dealId"]
    service = EvidenceService(escrow)
    t.log(f"buyer accepts + funds deal #{deal_id}, one tx, {tx.gas_used:,} gas")
    print("           policy: 5-day examination, 14-day ruling period, 5% held 90 days")

    def status(index: int) -> str:
        return MilestoneStatus(escrow.getMilestone(deal_id, index)["status"]).name.lower()

    def sign(index: int, key, who: str, doc: str, day: int):
        """An oracle signs its verdict off chain (EIP-712); no gas, no transaction."""
        t.travel_to(day)
        body = f"%PDF-1.7\n{doc}: deal {deal_id} milestone {index + 1} checked by {who}\n%%EOF\n"
        h = service.pin(key, deal_id, doc, body.encode())
        version = escrow.getDeal(deal_id)["version"]
        att = attestations.Attestation(
            chain.id,
            escrow.address,
            deal_id,
            index,
            version,
            True,
            h,
            chain[-1].timestamp + 14 * DAY,
        )
        t.log(f"{who} signs M{index + 1} {names[index]}: met")
        return attestations.sign(att, key.private_key)

    def relay(*signed) -> None:
        """Anyone posts signed attestations: here a relayer, several in one transaction."""
        tx = escrow.submitAttestations(
            [s.as_tuple() for s in signed], {"from": relayer}, silent=True
        )
        for index in sorted({s.attestation.milestone for s in signed}):
            m = escrow.getMilestone(deal_id, index)
            state = status(index) if m["attestations"] >= m["quorum"] else "1 of 2"
            t.log(f"relayer posts {len(signed)} signed, {tx.gas_used:,} gas: M{index + 1} {state}")

    def release_after_window(index: int, day: int) -> None:
        t.travel_to(day)
        escrow.release(deal_id, index, {"from": relayer}, silent=True)
        t.log(f"window over in silence: M{index + 1} released, 5% retained")

    # M1: approved by the inspector, examined by the buyer, released after the window.
    relay(sign(0, inspector, "inspector", "raw-materials-invoices.pdf", 10))
    release_after_window(0, 16)

    # A change order: 500 more controllers (a fifth milestone, 10,000) and ten more days for
    # production. The supplier signs; the buyer sends it and pays the 10,000 in.
    t.travel_to(20)
    m3 = escrow.getMilestone(deal_id, 2)
    changes = (
        MilestoneChange(2, ChangeAction.EDIT, terms_of(2, 25_000, 55, (insp,), 1)),
        MilestoneChange(4, ChangeAction.ADD, terms_of(4, 10_000, 90, (insp,), 1)),
    )
    amendment = Amendment(
        deal_id, escrow.getDeal(deal_id)["version"], changes, deadline=start + 27 * DAY
    )
    by_supplier = typed_data.sign(
        typed_data.amendment_message(chain.id, escrow.address, amendment), supplier.private_key
    ).signature
    t.log("supplier signs a change order: +M5, M3 due day 55")
    token.approve(escrow, 10_000 * UNIT, {"from": buyer}, silent=True)
    tx = escrow.amend(amendment.as_tuple(), by_supplier, {"from": buyer}, silent=True)
    moved = (escrow.getMilestone(deal_id, 2)["dueAt"] - m3["dueAt"]) // DAY
    version = tx.events["DealAmended"]["version"]
    t.log(f"buyer applies it (v{version}), pays 10,000 in, {tx.gas_used:,} gas")
    total = usd(escrow.getDeal(deal_id)["total"]).strip()
    print(f"           M3 due {moved} days later; deal total now {total}")

    # M2: the buyer approves the prototype at once instead of waiting for the window.
    relay(sign(1, inspector, "inspector", "prototype-approval.pdf", 27))
    escrow.waiveExamination(deal_id, 1, {"from": buyer}, silent=True)
    t.log("buyer waives the window: M2 released, 5% retained")

    # M3: the buyer finds defects in the first production run and disputes it; the arbiter
    # splits it 70/30.
    relay(sign(2, inspector, "inspector", "production-inspection.pdf", 50))
    t.travel_to(52)
    escrow.openDispute(deal_id, 2, {"from": buyer}, silent=True)
    t.log("buyer disputes M3 within its window (defects found)")
    t.travel_to(60)
    tx = escrow.rule(deal_id, 2, 17_500 * UNIT, {"from": arbiter}, silent=True)
    t.log(f"arbiter rules M3 70/30, {tx.gas_used:,} gas")

    # M4: two oracles, one batch; M5: the extra batch.
    shipped = sign(3, inspector, "inspector", "pre-shipment-inspection.pdf", 68)
    loaded = sign(3, carrier, "carrier", "bill-of-lading.pdf", 72)
    relay(shipped, loaded)
    release_after_window(3, 78)
    relay(sign(4, inspector, "inspector", "extra-batch-inspection.pdf", 85))
    release_after_window(4, 91)

    # The warranties pass without a claim: anyone pays the holdbacks out.
    t.travel_to(182)
    for index in (0, 1, 3, 4):
        escrow.releaseRetention(deal_id, index, {"from": relayer}, silent=True)
    t.log("warranties over: the four holdbacks are paid out")

    paid = token.balanceOf(supplier)
    refunded = token.balanceOf(buyer)
    statuses = [status(i) for i in range(5)]
    service.wait_indexed(deal_id, paid)
    print()
    print(
        f"Totals: supplier paid {usd(paid).strip()} tUSD (4 milestones in full, 70% of M3); "
        f"buyer got back {usd(refunded).strip()} tUSD (30% of M3); "
        f"escrow holds {usd(token.balanceOf(escrow)).strip()} tUSD"
    )
    print(f"Milestones: {', '.join(f'M{i + 1} {s}' for i, s in enumerate(statuses))}")
    assert statuses == ["released", "released", "settled", "released", "released"], statuses
    assert (paid, refunded) == (102_500 * UNIT, 7_500 * UNIT)
    assert token.balanceOf(escrow) == 0
    show_page(service, deal_id, {"buyer": buyer, "supplier": supplier})
    service.close()


def show_page(service, deal_id: int, parties: dict) -> None:
    """The deal's web page. From a terminal, the chain and the service stay up until Enter, so
    the page can be opened; a wallet on the local chain can import the parties' throwaway keys
    to act as them. Without a terminal (CI), the demo ends here."""
    import sys

    print(f"\nDeal page: {service.url}/app/#/deal/{deal_id}")
    if not sys.stdin.isatty():
        return
    print(f"Wallet network: chain {chain.id}, RPC {web3.provider.endpoint_uri}; local keys:")
    for role, account in parties.items():
        print(f"  {role:<9} {account.address}  {account.private_key}")
    try:
        input("The page stays up until you press Enter. ")
    except (EOFError, KeyboardInterrupt):
        pass
