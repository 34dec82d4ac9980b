"""The main job: one whole deal on a local chain, printed as a timeline.

An electronics maker in Shenzhen sells 2,000 industrial controllers to a distributor in
Rotterdam for 100,000 tUSD, paid in four milestones:
  1. raw materials purchased   20,000  inspector                due day 14
  2. prototype approved        15,000  inspector                due day 30
  3. initial production        25,000  inspector                due day 45
  4. final shipment            40,000  inspector AND carrier    due day 75
The supplier signs the offer off chain; the buyer accepts and funds it in one transaction
(permit). The oracles sign their attestations off chain and a relayer posts them (the two
for the final shipment in one batch); their evidence documents are pinned through the
evidence service (backend/), run in-process over real HTTP with its embedded IPFS store.
Production slips past its due date, so the buyer takes milestone 3 back; the rest is
attested and paid. Every step is a real transaction on anvil;
time moves with evm_increaseTime.

    brownie run scripts/demo.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from brownie import accounts, chain, web3
from eth_utils import keccak

from backend import attestations, auth, typed_data
from backend.terms import DealOffer, Milestone
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
        tx = escrow.registerOperator(label, "", key, {"from": key}, silent=True)
        ids[label] = tx.events["OperatorRegistered"]["operatorId"]
    insp, carr, arb = ids.values()
    print(f"Operators registered: inspector #{insp}, carrier #{carr}, arbiter #{arb}\n")

    token.mint(buyer, 100_000 * UNIT, {"from": accounts[0]}, silent=True)
    t = Timeline(token, escrow, buyer, supplier)
    start = t.start
    names = [
        "raw materials purchased",
        "prototype approved",
        "initial production",
        "final shipment",
    ]
    plan = [
        (20_000, 14, (insp,), 1),
        (15_000, 30, (insp,), 1),
        (25_000, 45, (insp,), 1),
        (40_000, 75, (insp, carr), 2),
    ]
    terms = tuple(
        Milestone(
            amount * UNIT,
            start + due * DAY,
            quorum,
            oracles,
            hashlib.sha256(f"requirements: {name}".encode()).digest(),
        )
        for name, (amount, due, oracles, quorum) in zip(names, plan, strict=True)
    )
    offer = DealOffer(
        buyer.address, supplier.address, arb, terms, nonce=1, deadline=start + 7 * DAY
    )

    t.log("buyer holds the purchase price")
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
            state = "paid" if m["status"] == 2 else f"{m['attestations']} of {m['quorum']}"
            t.log(f"relayer posts {len(signed)} signed, {tx.gas_used:,} gas: M{index + 1} {state}")

    relay(sign(0, inspector, "inspector", "raw-materials-invoices.pdf", 10))
    relay(sign(1, inspector, "inspector", "prototype-approval.pdf", 27))
    t.travel_to(46)
    t.log("M3 initial production is past its due date (day 45)")
    escrow.refund(deal_id, 2, {"from": buyer}, silent=True)
    t.log("buyer takes M3 back (refund)")
    shipped = sign(3, inspector, "inspector", "pre-shipment-inspection.pdf", 68)
    loaded = sign(3, carrier, "carrier", "bill-of-lading.pdf", 72)
    relay(shipped, loaded)

    service.close()
    paid = token.balanceOf(supplier)
    refunded = token.balanceOf(buyer)
    statuses = [escrow.getMilestone(deal_id, i)["status"] for i in range(4)]
    released = sum(1 for s in statuses if s == 2)
    refunds = sum(1 for s in statuses if s == 3)
    print()
    print(
        f"Totals: supplier paid {usd(paid).strip()} tUSD for {released} milestones; "
        f"buyer refunded {usd(refunded).strip()} tUSD for {refunds} milestone; "
        f"escrow holds {usd(token.balanceOf(escrow)).strip()} tUSD"
    )
    assert (released, refunds) == (3, 1), statuses
    assert paid + refunded == offer.total and token.balanceOf(escrow) == 0
