"""The page with a service serving two escrows, one per token (tUSD, 6 decimals; tEUR, 18):
a deal of the second token shows its token and its amounts in that token's decimals, the
older #/deal/<id> link opens the default escrow's deal of that id, and a new deal created in
the second token from the page, its oracle and arbiter picked by name from that escrow's own
registry (an id typed before the token changed named again from it), lands in that token's
escrow naming exactly those operators."""

from __future__ import annotations

import brownie
import httpx
import pytest
from helpers import EUR, USD, fund_fully, milestones, new_operator, record_deployments
from playwright.sync_api import expect
from test_pages import wait_for

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
    open_page, service, escrow, stable, escrow_eur, euro, buyer, supplier, ops, ops_eur
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

    # An oracle only the tEUR escrow's registry has: the picker must ask that escrow's.
    customs = new_operator(escrow_eur, "Rotterdam Customs Brokers")
    assert escrow.operatorCount() < customs
    wait_for(
        lambda: (
            httpx.get(f"{service.url}/escrows/{escrow_eur.address}/operators/{customs}").status_code
            == 200
        ),
        "the tEUR registry indexed",
    )
    page.goto(page.url.split("#")[0] + "#/new")
    form = page.locator("#new-deal")
    # An id typed while in tUSD is named again from tEUR's registry once the token changes.
    arbiter = form.locator("[name=arbiter]")
    arbiter.fill(str(customs))
    names = page.locator(f"#{arbiter.get_attribute('aria-describedby')}")
    expect(names).to_have_text(f"#{customs}: no such operator (or not indexed yet)")
    form.locator("#token").select_option(label="tEUR")
    expect(form.locator("#amounts-in")).to_have_text("Milestones (amounts in tEUR)")
    expect(names).to_have_text(f"#{customs} Rotterdam Customs Brokers (1 live key)")
    form.locator("[name=counterparty]").fill(supplier.address)
    search = page.get_by_role("combobox", name="Find the arbiter by name")
    search.fill("arbit")
    expect(page.locator(f"li.operator-option[data-operator='{ops_eur.arbiter}']")).to_be_visible()
    search.press("ArrowDown")
    search.press("Enter")
    expect(arbiter).to_have_value(str(ops_eur.arbiter))
    expect(names).to_have_text(f"#{ops_eur.arbiter} Arbiter (1 live key)")
    row = form.locator(".milestone-input").nth(0)
    row.locator("[name=amount]").fill("1.000000000000000001")  # 18 decimals: tUSD takes 6
    search = row.get_by_role("combobox", name="Find oracles by name")
    search.fill("rotterdam")
    page.locator(f"li.operator-option[data-operator='{customs}']").click()
    expect(row.locator("[name=oracles]")).to_have_value(str(customs))
    page.click("#create-deal")
    expect(page.locator("#deal-status")).to_have_text("Proposed")
    assert f"#/deal/{escrow_eur.address}/2" in page.url
    assert escrow_eur.getDeal(2)["total"] == EUR + 1
    assert escrow_eur.getDeal(2)["arbiter"] == ops_eur.arbiter
    assert [o for o in escrow_eur.getMilestone(2, 0)["oracles"] if o] == [customs]  # zero-padded
    assert escrow.dealCount() == 1  # nothing in the other escrow
    expect(page.locator("#deal-token")).to_contain_text("tEUR")
    assert page.errors == []
