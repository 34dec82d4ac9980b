"""The new-deal form picks oracles and the arbiter by name (GET /escrows/{escrow}/operators) in
real Chromium, by keyboard and by mouse, keys acting only on the list that answers what is
typed; it lists an operator with no live key as such and does not pick it, and still takes a
typed id. The deal created on chain names exactly the operators
picked."""

from __future__ import annotations

from helpers import new_operator
from playwright.sync_api import expect
from test_pages import wait_for


def test_a_buyer_picks_oracles_and_the_arbiter_by_name(
    open_page, service, screenshot, escrow, buyer, supplier, ops
):
    baltic = new_operator(escrow, "Baltic Cargo Surveyors")
    idle = new_operator(escrow, "Idle Surveyors Ltd", revoked=True)
    wait_for(
        lambda: (
            service.http.get(f"/escrows/{escrow.address}/operators/{idle}")
            .json()
            .get("revoked_keys")
        ),
        "the operators indexed",
    )
    page = open_page(buyer, "#/new")
    form = page.locator("#new-deal")
    form.locator("[name=counterparty]").fill(supplier.address)

    # The arbiter: a typed id is named (and one without a live key flagged), then a pick by
    # keyboard replaces it.
    arbiter = form.locator("[name=arbiter]")
    arbiter.fill(str(idle))
    names = page.locator(f"#{arbiter.get_attribute('aria-describedby')}")
    expect(names).to_contain_text("Idle Surveyors Ltd: no live key")
    search = page.get_by_role("combobox", name="Find the arbiter by name")
    # Typed faster than the search answers (the page's timers held still): Down and Enter
    # pick nothing, not the first of the list shown before (everyone, on focus).
    page.clock.install()
    search.focus()
    expect(page.locator(f"li.operator-option[data-operator='{ops.inspector}']")).to_be_visible()
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    search.fill("ARBIT")  # any case, part of the name
    search.press("ArrowDown")
    search.press("Enter")
    expect(page.locator(f"li.operator-option[data-operator='{ops.inspector}']")).to_be_hidden()
    expect(arbiter).to_have_value(str(idle))
    page.clock.resume()
    expect(page.locator(f"li.operator-option[data-operator='{ops.arbiter}']")).to_be_visible()
    search.press("ArrowDown")
    search.press("Enter")
    expect(arbiter).to_have_value(str(ops.arbiter))
    expect(names).to_have_text(f"#{ops.arbiter} Arbiter (1 live key)")

    # M1's oracles: one by mouse, one by keyboard, one typed; the idle one cannot be picked.
    row = form.locator(".milestone-input").nth(0)
    row.locator("[name=amount]").fill("250")
    oracles = row.locator("[name=oracles]")
    search = row.get_by_role("combobox", name="Find oracles by name")
    search.fill("surveyors")
    page.locator(f"li.operator-option[data-operator='{baltic}']").click()
    expect(oracles).to_have_value(str(baltic))
    search.fill("surveyors")
    idle_option = page.locator(f"li.operator-option[data-operator='{idle}']")
    expect(idle_option).to_have_attribute("aria-disabled", "true")
    expect(idle_option).to_contain_text("no live key")
    screenshot(page, "operator-picker")
    idle_option.click(force=True)  # aria-disabled: a click picks nothing
    search.press("ArrowDown")
    search.press("ArrowDown")  # the second option: the idle one, highlighted...
    search.press("Enter")  # ...and not picked
    expect(oracles).to_have_value(str(baltic))
    search.fill("inspector")
    expect(page.locator(f"li.operator-option[data-operator='{ops.inspector}']")).to_be_visible()
    search.press("ArrowDown")
    search.press("Enter")
    expect(oracles).to_have_value(f"{baltic}, {ops.inspector}")
    oracles.press("End")
    oracles.press_sequentially(f", {ops.customs}")
    expect(page.locator(f"#{oracles.get_attribute('aria-describedby')}")).to_have_text(
        f"#{baltic} Baltic Cargo Surveyors (1 live key); #{ops.inspector} Inspector "
        f"(1 live key); #{ops.customs} Customs (1 live key)"
    )
    row.locator("[name=quorum]").fill("2")

    page.click("#create-deal")
    expect(page.locator("#deal-status")).to_have_text("Proposed")
    deal_id = int(page.url.rsplit("/", 1)[1])
    assert escrow.getDeal(deal_id)["arbiter"] == ops.arbiter
    m1 = escrow.getMilestone(deal_id, 0)
    assert (m1["quorum"], list(m1["oracles"])) == (2, [baltic, ops.inspector, ops.customs])
    assert page.errors == []
