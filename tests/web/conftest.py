"""Fixtures for the web page tests: Debian's Chromium driven by playwright, the service (with
its indexer and relayer running) on a free port, and a wallet injected into each page.

The browser is real (headless Chromium), the chain is the suite's anvil, the service is the
real app over HTTP. Only the wallet is the tests' own: tests/web/wallet.js, an EIP-1193
provider holding one key, as a browser extension would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import brownie
import httpx
import pytest
from helpers import give_ether, new_account

from backend.main import BackgroundServer
from backend.settings import ROOT, Settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WALLET_JS = Path(__file__).with_name("wallet.js")
# Screenshots of the main pages, linked from the README: written there only when
# UPDATE_SCREENSHOTS=1 (a test run leaves the tracked files alone; each run renders a few
# pixels differently), else into the test's temporary folder.
SCREENSHOTS = ROOT / "docs" / "screenshots"
# As the machine's probe starts Chromium: no background connections on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def service_settings() -> dict:
    """What a test module changes in its service's settings (a module overrides this)."""
    return {}


@pytest.fixture
def service(tmp_path, escrow, service_settings):
    relayer = new_account()
    give_ether(relayer)
    settings = Settings(
        rpc_url=brownie.web3.provider.endpoint_uri,
        escrow_address=escrow.address,
        data_dir=tmp_path / "var",
        run_indexer=True,
        indexer_confirmations=0,
        indexer_interval_seconds=0.2,
        relayer_private_key=relayer.private_key,
        relay_interval_seconds=0.2,
        **service_settings,
    )
    server = BackgroundServer(settings)
    server.http = httpx.Client(base_url=server.url, timeout=30)
    yield server
    server.http.close()
    server.stop()


@pytest.fixture
def open_page(browser, service):
    """open_page(account, path="#/", chain_id=None) -> a page of the service with `account`'s
    wallet injected (and given ether for gas); chain_id poses as another network."""
    contexts = []

    def open_(account, path: str = "#/", chain_id: int | None = None):
        if brownie.web3.eth.get_balance(account.address) == 0:
            give_ether(account)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        contexts.append(context)
        config = {
            "rpc": brownie.web3.provider.endpoint_uri,
            "address": account.address,
            "key": account.private_key,
            "ethers": f"{service.url}/app/vendor/ethers.js",
            "chainId": hex(chain_id) if chain_id else None,
        }
        context.add_init_script(script=f"window.__walletConfig = {json.dumps(config)};")
        context.add_init_script(path=str(WALLET_JS))
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: print(f"[{account.address[:8]} console] {m.text}"))
        page.goto(f"{service.url}/app/{path}")
        page.wait_for_selector("#wallet :is(button, .address, .muted)")
        return page

    yield open_
    for context in contexts:
        for page in context.pages:  # what the user saw, in the report of a failed test
            for note in page.locator("#notices .notice").all_inner_texts():
                print(f"[{page.url}] notice: {note}")
        context.close()


@pytest.fixture
def screenshot(tmp_path):
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take
