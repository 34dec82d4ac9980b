"""The page with a service serving two escrows, one per token (tUSD, 6 decimals; tEUR, 18):
a deal of the second token shows its token and its amounts in that token's decimals, the
older #/deal/<id> link opens the default escrow's deal of that id, and a new deal created in
the second token from the page lands in that token's escrow."""

from __future__ import annotations

import brownie
import pytest
from helpers import EUR, USD, fund_fully, milestones, record_deployments
from playwright.sync_api import expect

from backend.main import BackgroundServer
from backend.settings import Settings
from scripts import deals


@pytest.fixture
def service(tmp_path, escrow, stable, escrow_eur, euro):
    """This module's service (open_page uses it): both escrows, from a deployments file."""
    settings = Settings(
        rpc_url=brownie.web3.provider.endpoint_uri,
        deployments_dir=record_deployments(tmp_path, (escrow, stable), (escrow_eur, euro)),
        data_dir=tmp_path / "var",
        run_indexer=True,
        indexer_confirmations=0,
        indexer_interval_seconds=0.2,
    )
    server = BackgroundServer(settings)
    yield server
    server.stop()


def test_a_deal_in_the_second_token_shows_its_token_and_one_is_created_in_it(
    open_page, escrow, stable, escrow_eur, euro, buyer, supplier, ops, ops_eur
):
    usd = milestones([100 * USD], [(ops.inspector,)])
    eur = milestones([2 * EUR + EUR // 2], [(ops_eur.inspector,)])
    assert deals.deal_id(deals.create_deal(escrow, buyer, supplier, ops.arbiter, usd)) == 1
    assert deals.deal_id(deals.create_deal(escrow_eur, buyer, supplier, ops_eur.arbiter, eur)) == 1
    fund_fully(escrow_eur, euro, buyer, 1)

    page = open_page(buyer, f"#/deal/{escrow_eur.address}/1")
    expect(page.locator("#deal-token")).to_contain_text("tEUR")
    expect(page.locator("#deal-total")).to_have_text("2.50 tEUR")
    expect(page.locator("#deal-status")).to_have_text("Active")
    page.goto(page.url.split("#")[0] + "#/deal/1")  # the older link: the default escrow's
    expect(page.locator("#deal-token")).to_contain_text("tUSD")
    expect(page.locator("#deal-total")).to_have_text("100.00 tUSD")

    page.goto(page.url.split("#")[0] + "#/new")
    form = page.locator("#new-deal")
    form.locator("#token").select_option(label="tEUR")
    expect(form.locator("#amounts-in")).to_have_text("Milestones (amounts in tEUR)")
    form.locator("[name=counterparty]").fill(supplier.address)
    form.locator("[name=arbiter]").fill(str(ops_eur.arbiter))
    row = form.locator(".milestone-input").nth(0)
    row.locator("[name=amount]").fill("1.000000000000000001")  # 18 decimals: tUSD takes 6
    row.locator("[name=oracles]").fill(str(ops_eur.inspector))
    page.click("#create-deal")
    expect(page.locator("#deal-status")).to_have_text("Proposed")
    assert f"#/deal/{escrow_eur.address}/2" in page.url
    assert escrow_eur.getDeal(2)["total"] == EUR + 1
    assert escrow.dealCount() == 1  # nothing in the other escrow
    expect(page.locator("#deal-token")).to_contain_text("tEUR")
    assert page.errors == []
