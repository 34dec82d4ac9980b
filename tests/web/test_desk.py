"""The oracle's desk (#/desk) in real Chromium: an operator key sees the milestones that await
its operator's verdict, uploads its evidence, signs the attestation in its wallet and hands it
to the service, whose relayer puts it on chain; the outcome is read back from the chain."""

from __future__ import annotations

import hashlib

from helpers import USD, new_account
from playwright.sync_api import expect
from test_pages import STATUS, indexed, open_deal

REPORT = b"%PDF-1.7\ninspection at loading: 600 units counted and sealed\n%%EOF\n"


def desk_item(page, deal_id: int, index: int):
    return page.locator(f"li.desk-item[data-deal='{deal_id}'][data-index='{index}']")


def test_an_oracle_works_a_milestone_from_its_desk(
    open_page, service, screenshot, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    deal = open_deal(escrow, stable, buyer, create_deal, ops)
    page = open_page(inspector, "#/desk")
    expect(page.locator("#desk-role")).to_contain_text(f"operator #{ops.inspector}")
    first, second = desk_item(page, deal.id, 0), desk_item(page, deal.id, 1)
    expect(first).to_contain_text("600.00 tUSD")
    expect(first).to_contain_text("0 of 1 needed attested")
    expect(second).to_contain_text("400.00 tUSD")
    screenshot(page, "desk")

    first.locator("[name=file]").set_input_files(
        {"name": "inspection.pdf", "mimeType": "application/pdf", "buffer": REPORT}
    )
    first.locator("[name=encrypt]").uncheck()  # a public report: the explicit choice
    first.locator("button[type=submit]").click()
    done = page.locator(".notice.ok", has_text="is on chain")
    expect(done).to_contain_text("Stored as a public document.", timeout=60_000)

    # On chain: the milestone paid to the supplier on the inspector's own verdict.
    view = escrow.getMilestone(deal.id, 0)
    assert view["status"] == STATUS["Released"] and view["attested"][0]
    assert stable.balanceOf(supplier) == 600 * USD
    sha = hashlib.sha256(REPORT).hexdigest()
    d = indexed(service, deal.id, lambda d: d["milestones"][0]["verdicts"])
    (verdict,) = d["milestones"][0]["verdicts"]
    assert verdict["evidence_sha256"] == sha
    assert service.http.get(f"/evidence/{verdict['evidence_cid']}").content == REPORT
    documents = service.http.get(f"/deals/{deal.id}/documents").json()
    assert [(x["sha256"], x["milestone"], x["uploader"]) for x in documents] == [
        (sha, 0, inspector.address)
    ]
    # The desk now lists it as answered, and the next milestone still waits.
    answered = page.locator("#desk-answered li.desk-item[data-index='0']")
    expect(answered).to_contain_text("Your verdict on chain: met")
    expect(answered.locator(".milestone-status")).to_have_text("Released")
    expect(desk_item(page, deal.id, 1).locator("form.verdict")).to_be_visible()
    asked = page.evaluate("window.__wallet.requests")
    assert "personal_sign" in asked and "eth_signTypedData_v4" in asked
    assert "eth_sendTransaction" not in asked  # the service's relayer pays the gas
    assert page.errors == []


def test_a_key_of_no_operator_has_an_empty_desk(open_page, service):
    page = open_page(new_account(), "#/desk")
    expect(page.locator("#desk-role")).to_contain_text("not a live key of a registered operator")
