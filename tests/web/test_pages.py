"""The web page in a real headless Chromium, against the service over HTTP and the suite's
anvil: every outcome is read back from the chain or the service, not only from the page."""

from __future__ import annotations

import hashlib
import json
import time

import brownie
from helpers import DAY, USD, fund_fully, milestones, now, signed_attestation
from playwright.sync_api import expect

from backend import auth
from backend.terms import Policy

REPORT = b"%PDF-1.7\nproduction inspection: 2,000 controllers, AQL 1.0 passed\n%%EOF\n"
STATUS = {"Pending": 1, "Released": 2, "Examining": 5, "Disputed": 6, "Settled": 8}


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def indexed(service, deal_id: int, check=lambda d: True) -> dict:
    def read():
        r = service.http.get(f"/deals/{deal_id}")
        return r.status_code == 200 and check(r.json()) and r.json()

    return wait_for(read, f"deal {deal_id} in the index")


def milestone(page, index: int):
    return page.locator(f"li.milestone[data-index='{index}']")


def error_notice(page):
    return page.locator(".notice.error > span").last


def sign_offer_on_page(open_page, supplier, buyer, ops, amount: str):
    """The supplier fills in a one-milestone deal and signs it as an offer; its page."""
    seller = open_page(supplier, "#/new")
    form = seller.locator("#new-deal")
    form.locator("[name=role][value=supplier]").check()
    form.locator("[name=counterparty]").fill(buyer.address)
    form.locator("[name=arbiter]").fill(str(ops.arbiter))
    row = form.locator(".milestone-input").nth(0)
    row.locator("[name=amount]").fill(amount)
    row.locator("[name=oracles]").fill(str(ops.inspector))
    seller.click("#sign-offer")
    return seller


def open_deal(escrow, stable, buyer, create_deal, ops, policy=None, fund=True):
    terms = milestones([600 * USD, 400 * USD], [(ops.inspector,), (ops.inspector, ops.carrier)])
    deal = create_deal(terms, policy=policy) if policy else create_deal(terms)
    if fund:
        fund_fully(escrow, stable, buyer, deal.id)
    return deal


def test_buyer_creates_and_funds_an_oracle_attests_through_the_service_the_supplier_sees_it_paid(
    open_page, service, screenshot, escrow, stable, buyer, supplier, inspector, ops
):
    stable.mint(buyer, 2_000 * USD, {"from": buyer})
    page = open_page(buyer, "#/new")
    form = page.locator("#new-deal")
    form.locator("[name=counterparty]").fill(supplier.address)
    form.locator("[name=arbiter]").fill(str(ops.arbiter))
    first = form.locator(".milestone-input").nth(0)
    first.locator("[name=amount]").fill("1,200")
    first.locator("[name=oracles]").fill(str(ops.inspector))
    first.locator("[name=requirements]").fill("Inspection report, AQL 1.0")
    page.click("#add-milestone")
    second = form.locator(".milestone-input").nth(1)
    second.locator("[name=amount]").fill("300.5")
    second.locator("[name=oracles]").fill(f"{ops.inspector}, {ops.carrier}")
    second.locator("[name=quorum]").fill("2")
    screenshot(page, "new-deal")
    page.click("#create-deal")
    expect(page.locator("#deal-status")).to_have_text("Proposed")
    deal_id = int(page.url.rsplit("/", 1)[1])
    deal = escrow.getDeal(deal_id)
    assert (deal["buyer"], deal["supplier"]) == (buyer.address, supplier.address)
    assert deal["total"] == 1_500_500_000 and deal["milestoneCount"] == 2
    m2 = escrow.getMilestone(deal_id, 1)
    assert (m2["quorum"], list(m2["oracles"])) == (2, [ops.inspector, ops.carrier, 0])

    seller = open_page(supplier, f"#/deal/{deal_id}")
    expect(seller.locator("#role")).to_contain_text("supplier")
    seller.click("#accept-deal")
    expect(seller.locator("#deal-status")).to_have_text("Accepted")
    assert escrow.getDeal(deal_id)["status"] == 2

    page.reload()
    expect(page.locator("#deal-actions")).to_contain_text("To fund: 1,500.50 tUSD.")
    page.click("#fund")
    expect(page.locator("#deal-status")).to_have_text("Active")
    assert escrow.getDeal(deal_id)["unfunded"] == 0
    assert stable.balanceOf(escrow) == 1_500_500_000
    assert stable.balanceOf(buyer) == 499_500_000
    expect(page.locator("#deal-funded")).to_have_text("1,500.50 tUSD")
    screenshot(page, "deal-funded")

    # The oracle: its report pinned through the service, its signed verdict handed in there,
    # relayed to the chain by the service's relayer.
    sha = hashlib.sha256(REPORT).hexdigest()
    headers = auth.upload_headers(
        inspector.private_key, sha, deal_id, brownie.chain.id, escrow.address
    )
    r = service.http.post(
        "/evidence", params={"deal": deal_id}, headers=headers, files={"file": ("r", REPORT)}
    )
    assert r.status_code == 201, r.text
    signed = signed_attestation(escrow, inspector, deal_id, 0, evidence_hash=bytes.fromhex(sha))
    r = service.http.post("/attestations", json=json.loads(signed.to_json()))
    assert r.status_code == 202, r.text
    wait_for(lambda: stable.balanceOf(supplier) == 1_200 * USD, "the relayed release")
    indexed(service, deal_id, lambda d: d["released"] == str(1_200 * USD))

    # No reload: the open page follows the deal and shows the payout as it lands.
    expect(milestone(seller, 0).locator(".milestone-status")).to_have_text(
        "Released", timeout=15_000
    )
    expect(milestone(seller, 1).locator(".milestone-status")).to_have_text("Pending")
    expect(seller.locator("#deal-paid")).to_have_text("1,200.00 tUSD")
    expect(milestone(seller, 0).locator(".payout")).to_have_text(
        "1,200.00 tUSD paid to the supplier"
    )
    expect(milestone(seller, 0)).to_contain_text("1 of 1 needed attested")
    milestone(seller, 0).locator("button.verify").click()
    expect(milestone(seller, 0).locator(".check")).to_have_text(
        "✓ matches the hash anchored on chain"
    )
    screenshot(seller, "deal-supplier-paid")

    # The page hashes what it fetched itself: bytes that are not the anchored ones are shown
    # as such, whatever served them.
    seller.route("**/evidence/*", lambda route: route.fulfill(body=b"forged report"))
    milestone(seller, 0).locator("button.verify").click()
    expect(milestone(seller, 0).locator(".check.bad")).to_contain_text("does not match")

    seller.goto(f"{service.url}/app/#/")
    row = seller.locator(f"#deal-list tr[data-deal='{deal_id}']")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("1,200.00 tUSD")
    screenshot(seller, "my-deals")
    assert page.errors == [] and seller.errors == []


def test_the_buyer_opens_a_dispute_from_the_page(
    open_page, service, screenshot, escrow, stable, buyer, inspector, ops, create_deal
):
    policy = Policy(examination_window=5 * DAY, ruling_period=14 * DAY)
    deal = open_deal(escrow, stable, buyer, create_deal, ops, policy=policy)
    escrow.attest(deal.id, 0, brownie.web3.keccak(text="report"), {"from": inspector})
    assert escrow.getMilestone(deal.id, 0)["status"] == STATUS["Examining"]

    page = open_page(buyer, f"#/deal/{deal.id}")
    expect(milestone(page, 0).locator(".milestone-status")).to_have_text("Examining")
    expect(milestone(page, 0)).to_contain_text("examination window ends")
    page.click("#dispute-0")
    expect(milestone(page, 0).locator(".milestone-status")).to_have_text("Disputed")
    expect(milestone(page, 0)).to_contain_text("ruling due by")
    view = escrow.getMilestone(deal.id, 0)
    assert view["status"] == STATUS["Disputed"]
    assert abs(view["dueAt"] - (now() + 14 * DAY)) <= 5
    assert escrow.getMilestone(deal.id, 1)["status"] == STATUS["Pending"]
    screenshot(page, "dispute")


def test_a_rejected_signature_or_transaction_leaves_no_state(
    open_page, service, escrow, stable, buyer, supplier, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    indexed(service, deal.id)
    seller = open_page(supplier, f"#/deal/{deal.id}")
    seller.evaluate("window.__wallet.reject.add('eth_signTypedData_v4')")
    seller.locator("#cancellation [name=toSupplier]").fill("100")
    seller.click("#sign-cancellation")
    expect(error_notice(seller)).to_contain_text("You rejected the request in your wallet")
    assert service.http.get(f"/deals/{deal.id}/proposals").json() == []
    assert escrow.getDeal(deal.id)["version"] == 1

    unfunded = open_deal(escrow, stable, buyer, create_deal, ops, fund=False)
    stable.mint(buyer, 1_000 * USD, {"from": buyer})
    before = stable.balanceOf(buyer)
    page = open_page(buyer, f"#/deal/{unfunded.id}")
    page.evaluate("window.__wallet.reject.add('eth_sendTransaction')")
    page.click("#fund")
    expect(error_notice(page)).to_contain_text("nothing was signed or sent")
    assert escrow.getDeal(unfunded.id)["unfunded"] == 1_000 * USD
    assert stable.allowance(buyer, escrow) == 0 and stable.balanceOf(buyer) == before
    expect(page.locator("#deal-status")).to_have_text("Accepted")
    expect(page.locator("#pending")).to_be_hidden()


def test_a_change_order_signed_by_the_supplier_is_seen_and_applied_by_the_buyer(
    open_page, service, screenshot, escrow, stable, buyer, supplier, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    indexed(service, deal.id)
    due = escrow.getMilestone(deal.id, 1)["dueAt"]
    seller = open_page(supplier, f"#/deal/{deal.id}")
    row = seller.locator("#change-order .change-row[data-index='1']")
    moved = time.strftime("%Y-%m-%d", time.gmtime(due + 10 * DAY))
    row.locator("[name=due]").fill(moved)
    seller.click("#sign-change-order")
    expect(seller.locator("li.proposal")).to_contain_text("edit M2 (400.00 tUSD")
    expect(seller.locator("li.proposal")).not_to_contain_text("M1")  # untouched: unchanged
    expect(seller.locator("li.proposal")).to_contain_text("Waiting for the buyer")
    stored = service.http.get(f"/deals/{deal.id}/proposals").json()
    assert [(p["kind"], p["signer"], p["status"]) for p in stored] == [
        ("amendment", supplier.address, "open")
    ]
    assert [c["index"] for c in stored[0]["message"]["changes"]] == ["1"]
    assert escrow.getDeal(deal.id)["version"] == 1  # signed, not applied

    page = open_page(buyer, f"#/deal/{deal.id}")
    expect(page.locator("li.proposal")).to_contain_text("signed by the supplier")
    screenshot(page, "change-order")
    page.click(f"#apply-{stored[0]['id']}")
    expect(page.locator(".version")).to_have_text("version 2")
    assert escrow.getDeal(deal.id)["version"] == 2
    new_due = escrow.getMilestone(deal.id, 1)["dueAt"]
    assert time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(new_due)) == f"{moved} 23:59:59"
    expect(page.locator("li.proposal")).to_contain_text("stale")


def test_a_cancellation_signed_by_the_buyer_is_applied_by_the_supplier(
    open_page, service, escrow, stable, buyer, supplier, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    indexed(service, deal.id)
    page = open_page(buyer, f"#/deal/{deal.id}")
    expect(page.locator("#cancellation")).to_contain_text("The escrow holds 1,000.00 tUSD")
    page.locator("#cancellation [name=toSupplier]").fill("250.25")
    page.click("#sign-cancellation")
    expect(page.locator("li.proposal")).to_contain_text(
        "250.25 tUSD to the supplier, 749.75 tUSD back to the buyer"
    )

    seller = open_page(supplier, f"#/deal/{deal.id}")
    proposal = service.http.get(f"/deals/{deal.id}/proposals").json()[0]
    seller.click(f"#apply-{proposal['id']}")
    expect(milestone(seller, 0).locator(".milestone-status")).to_have_text("Settled")
    assert stable.balanceOf(supplier) == 250_250_000
    assert stable.balanceOf(buyer) == 1_000 * USD - 250_250_000
    assert stable.balanceOf(escrow) == 0


def test_a_party_revokes_what_it_signed_from_the_page(
    open_page, service, escrow, stable, buyer, supplier, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    indexed(service, deal.id)
    page = open_page(buyer, f"#/deal/{deal.id}")
    page.locator("#cancellation [name=toSupplier]").fill("100")
    page.click("#sign-cancellation")
    expect(page.locator("li.proposal")).to_contain_text("100.00 tUSD to the supplier")
    page.click("#revoke-signatures")
    expect(page.locator(".notice.ok").last).to_contain_text("no longer count")
    assert escrow.agreementNonce(deal.id, buyer) == 1
    assert service.http.get(f"/deals/{deal.id}/proposals").json()[0]["status"] == "revoked"
    expect(page.locator("li.proposal")).to_have_attribute("data-status", "revoked")
    expect(page.locator("#revoke-signatures")).to_have_count(0)


def test_wrong_network_disables_actions_until_the_wallet_switches(
    open_page, service, escrow, stable, buyer, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops, fund=False)
    page = open_page(buyer, f"#/deal/{deal.id}", chain_id=1)
    banner = page.locator("#network-banner")
    expect(banner).to_contain_text(
        f"Your wallet is on chain 1; this escrow is on chain {brownie.chain.id}"
    )
    expect(page.locator("#fund")).to_be_disabled()
    page.click("#switch-network")
    expect(banner).to_be_hidden()
    expect(page.locator("#fund")).to_be_enabled()


def test_too_small_a_balance_is_refused_before_anything_is_sent(
    open_page, service, escrow, stable, buyer, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops, fund=False)
    page = open_page(buyer, f"#/deal/{deal.id}")
    page.click("#fund")
    expect(error_notice(page)).to_have_text(
        "Your balance is 0.00 tUSD; this deal needs 1,000.00 tUSD. Nothing was sent."
    )
    sent = page.evaluate("window.__wallet.requests")
    assert "eth_sendTransaction" not in sent and "eth_signTypedData_v4" not in sent
    assert escrow.getDeal(deal.id)["unfunded"] == 1_000 * USD


def test_a_call_the_escrow_would_refuse_is_named_and_nothing_is_sent(
    open_page, service, escrow, buyer, supplier, ops, create_deal
):
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]), by=buyer)
    stale = open_page(supplier, f"#/deal/{deal.id}")
    escrow.acceptDeal(deal.id, {"from": supplier})  # accepted elsewhere meanwhile
    stale.click("#accept-deal")
    expect(error_notice(stale)).to_contain_text("The escrow refused (WrongDealStatus)")
    assert "eth_sendTransaction" not in stale.evaluate("window.__wallet.requests")


def test_a_pending_transaction_is_shown_until_mined_and_a_permit_funds_in_one_transaction(
    open_page, service, escrow, stable, buyer, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops, fund=False)
    stable.mint(buyer, 1_000 * USD, {"from": buyer})
    page = open_page(buyer, f"#/deal/{deal.id}")
    provider = brownie.web3.provider
    provider.make_request("evm_setAutomine", [False])
    try:
        page.click("#fund-permit")
        pending = page.locator(".pending-tx")
        expect(pending).to_contain_text(f"Funding deal #{deal.id}: waiting to be mined")
        assert escrow.getDeal(deal.id)["unfunded"] == 1_000 * USD
        provider.make_request("evm_mine", [])
    finally:
        provider.make_request("evm_setAutomine", [True])
    expect(page.locator("#deal-status")).to_have_text("Active")
    expect(page.locator(".pending-tx")).to_have_count(0)
    assert stable.balanceOf(escrow) == 1_000 * USD
    assert "eth_signTypedData_v4" in page.evaluate("window.__wallet.requests")


def test_the_supplier_signs_an_offer_and_the_buyer_accepts_and_funds_it_in_one_transaction(
    open_page, service, screenshot, escrow, stable, buyer, supplier, ops
):
    seller = sign_offer_on_page(open_page, supplier, buyer, ops, "750")
    expect(seller.locator(".notice.ok").last).to_contain_text("Offer signed")
    expect(seller.locator("#offers")).to_contain_text("offered to the buyer")
    assert escrow.dealCount() == 0  # a signature only: nothing on chain yet
    [stored] = service.http.get("/offers", params={"party": buyer.address}).json()
    assert stored["status"] == "open" and stored["total"] == str(750 * USD)

    stable.mint(buyer, 1_000 * USD, {"from": buyer})
    page = open_page(buyer)
    offer = page.locator(f"li.offer[data-offer='{stored['id']}']")
    expect(offer).to_contain_text("750.00 tUSD in 1 milestone offered by the supplier")
    screenshot(page, "offer")
    before = brownie.chain.height
    page.click(f"#accept-offer-{stored['id']}")
    expect(page.locator("#deal-status")).to_have_text("Active")
    deal_id = int(page.url.rsplit("/", 1)[1])
    deal = escrow.getDeal(deal_id)
    assert (deal["buyer"], deal["supplier"], deal["total"], deal["unfunded"]) == (
        buyer.address,
        supplier.address,
        750 * USD,
        0,
    )
    assert brownie.chain.height == before + 1  # accepted and funded in one transaction
    assert stable.balanceOf(escrow) == 750 * USD
    assert escrow.offerNonceUsed(supplier, int(stored["nonce"]))
    assert service.http.get(f"/offers/{stored['id']}").json()["status"] != "open"


def test_the_arbiter_rules_on_a_dispute_from_the_page(
    open_page, service, escrow, stable, buyer, supplier, inspector, arbiter, ops, create_deal
):
    policy = Policy(examination_window=5 * DAY, ruling_period=14 * DAY)
    deal = open_deal(escrow, stable, buyer, create_deal, ops, policy=policy)
    escrow.attest(deal.id, 0, brownie.web3.keccak(text="report"), {"from": inspector})
    escrow.openDispute(deal.id, 0, {"from": buyer})
    indexed(service, deal.id, lambda d: d["milestones"][0]["status"] == "Disputed")
    page = open_page(arbiter, f"#/deal/{deal.id}")
    expect(page.locator("#role")).to_contain_text("this deal's arbiter")
    ruling = page.locator("#ruling-0")
    expect(ruling).to_contain_text("of the disputed 600.00 tUSD")
    ruling.locator("[name=toSupplier]").fill("600.01")
    ruling.locator("button").click()
    expect(error_notice(page)).to_have_text("At most the disputed 600.00 tUSD.")
    ruling.locator("[name=toSupplier]").fill("450")
    ruling.locator("button").click()
    expect(milestone(page, 0).locator(".milestone-status")).to_have_text("Settled")
    assert escrow.getMilestone(deal.id, 0)["status"] == STATUS["Settled"]
    assert stable.balanceOf(supplier) == 450 * USD
    assert stable.balanceOf(buyer) == 150 * USD
    # a party sees no ruling form
    assert open_page(buyer, f"#/deal/{deal.id}").locator("form.ruling").count() == 0


def test_the_supplier_assigns_its_payouts_from_the_page(
    open_page, service, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    financier = brownie.accounts.add()
    page = open_page(supplier, f"#/deal/{deal.id}")
    page.locator("#assign [name=to]").fill(financier.address)
    page.locator("#assign button").click()
    expect(page.locator(".deal-head")).to_contain_text("Payouts go to")
    assert escrow.payeeOf(deal.id) == financier.address
    escrow.attest(deal.id, 0, brownie.web3.keccak(text="report"), {"from": inspector})
    assert stable.balanceOf(financier) == 600 * USD and stable.balanceOf(supplier) == 0


def test_a_change_order_the_escrow_would_refuse_is_not_signed(
    open_page, service, escrow, stable, buyer, supplier, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    indexed(service, deal.id)
    page = open_page(buyer, f"#/deal/{deal.id}")
    row = page.locator("#change-order .change-row[data-index='0']")
    row.locator("[name=amount]").fill("700")  # costs more: only the supplier may sign that
    page.click("#sign-change-order")
    expect(error_notice(page)).to_contain_text("This change order costs more")
    row.locator("[name=amount]").fill("0")
    page.click("#sign-change-order")
    expect(error_notice(page)).to_contain_text("M1: the amount must be above zero")
    assert "eth_signTypedData_v4" not in page.evaluate("window.__wallet.requests")
    assert service.http.get(f"/deals/{deal.id}/proposals").json() == []


def test_the_supplier_withdraws_an_offer_from_the_page(
    open_page, service, escrow, buyer, supplier, ops
):
    seller = sign_offer_on_page(open_page, supplier, buyer, ops, "100")
    [stored] = wait_for(
        lambda: service.http.get("/offers", params={"party": supplier.address}).json(), "the offer"
    )
    seller.click(f"#withdraw-offer-{stored['id']}")
    expect(seller.locator(".notice.ok").last).to_contain_text("Offer withdrawn")
    assert escrow.offerNonceUsed(supplier, int(stored["nonce"]))
    expect(seller.locator("#offers")).to_have_count(0)
    assert service.http.get(f"/offers/{stored['id']}").json()["status"] in ("used", "withdrawn")
