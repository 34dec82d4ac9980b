"""The README's live-network deploy, run as its commands: a keystore account imported with
`brownie accounts import`, a network added with `brownie networks add`, and
`brownie run scripts/deploy.py --network ...`, against a second anvil posing as Sepolia
(chain id 11155111) on a free port.

Every command runs with HOME in a temporary directory (brownie keeps its network list, accounts
and deployments database in ~/.brownie), the deployments file goes to ESCROW_DEPLOYMENTS_DIR,
and what brownie writes under build/deployments for a live network is put back as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from brownie import TestStablecoin
from eth_account import Account
from helpers import keystore_json
from web3 import Web3

from backend.chain import load_abi
from scripts.local_chain import free_ports

ROOT = Path(__file__).resolve().parents[2]
BROWNIE = str(Path(sys.executable).with_name("brownie"))
ANVIL = str(ROOT / "node_modules" / ".bin" / "anvil")
CHAIN_ID = 11155111
NETWORK = "sepolia-rpc"
ACCOUNT = "deployer"
PASSWORD = "correct horse battery staple"
# What the test sets itself; never inherited from the shell that runs the suite.
OWN_VARIABLES = (
    "DEPLOYER",
    "DEPLOYER_PASSWORD",
    "DEPLOYER_PASSWORD_FILE",
    "DEPLOY_YES",
    "ESCROW_TOKEN",
    "ESCROW_DEPLOYMENTS_DIR",
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def isolation():
    """No snapshots of the development chain: these tests use a chain of their own."""


def wait_for_rpc(url: str, timeout: float = 15.0) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, body.encode(), {"Content-Type": "application/json"}, method="POST"
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


class Live:
    """The second chain and the temporary HOME the commands run in."""

    def __init__(self, home: Path, url: str):
        self.home = home
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url))
        env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
        self.env = {**env, "HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.deployer = ""
        self.token = ""

    def run(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
        """A command as a user types it, in the project, output and errors in one stream. In a
        session of its own: no terminal, so brownie's password prompts read stdin."""
        result = subprocess.run(
            args,
            cwd=ROOT,
            env={**self.env, **env},
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,  # a recompile, if someone edits contracts/ meanwhile, takes ~2 min
            start_new_session=True,
        )
        result.stdout = ANSI.sub("", result.stdout)
        return result

    def deploy(self, token: str, deployments: Path, stdin: str = "", **env: str):
        return self.run(
            BROWNIE,
            "run",
            "scripts/deploy.py",
            "--network",
            NETWORK,
            stdin=stdin,
            ESCROW_TOKEN=token,
            DEPLOYER=ACCOUNT,
            ESCROW_DEPLOYMENTS_DIR=str(deployments),
            **env,
        )

    def send(self, data: str) -> str:
        """A contract created from anvil's unlocked first account; its address."""
        tx = self.w3.eth.send_transaction({"from": self.w3.eth.accounts[0], "data": data})
        return self.w3.eth.wait_for_transaction_receipt(tx).contractAddress

    def nonce(self) -> int:
        return self.w3.eth.get_transaction_count(self.deployer)


@pytest.fixture(scope="module")
def build_deployments():
    """brownie writes build/deployments/<chain id>/ and map.json on live networks (the project's
    record of what it deployed there): restore that folder as it was, whatever the tests do."""
    folder = ROOT / "build" / "deployments"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    dirs_before = {p for p in folder.rglob("*") if p.is_dir()}
    yield folder
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in before:
            path.unlink()
        elif path.is_dir() and path not in dirs_before:
            shutil.rmtree(path, ignore_errors=True)
    for path, content in before.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@pytest.fixture(scope="module")
def live(tmp_path_factory, build_deployments):
    """anvil with chain id 11155111 on a free port; in a temporary HOME, the deployer's keystore
    imported and the network added, as the README says; a token on that chain."""
    root = tmp_path_factory.mktemp("live")
    home = root / "home"
    home.mkdir()
    [port] = free_ports(1)
    anvil = subprocess.Popen(
        [ANVIL, "--port", str(port), "--chain-id", str(CHAIN_ID)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_rpc(url)
        chain = Live(home, url)

        key = Account.create()
        keystore = root / "key.json"
        keystore.write_text(keystore_json(key.key, PASSWORD))
        imported = chain.run(
            BROWNIE, "accounts", "import", ACCOUNT, str(keystore), stdin=PASSWORD + "\n"
        )
        assert imported.returncode == 0, imported.stdout
        assert (home / ".brownie" / "accounts" / f"{ACCOUNT}.json").exists()

        added = chain.run(
            BROWNIE, "networks", "add", "Ethereum", NETWORK, f"host={url}", f"chainid={CHAIN_ID}"
        )
        assert added.returncode == 0, added.stdout

        chain.deployer = key.address
        chain.w3.provider.make_request("anvil_setBalance", [key.address, hex(10**18)])
        chain.token = chain.send(TestStablecoin.bytecode)
        yield chain
    finally:
        anvil.terminate()
        anvil.wait(timeout=10)


def assert_nothing_sent(live: Live, result, nonce: int, deployments: Path) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout, result.stdout
    assert "Transaction sent" not in result.stdout, result.stdout
    assert live.nonce() == nonce
    assert not deployments.exists()


def brownie_records(live: Live, build_deployments: Path) -> tuple[str, list]:
    """The latest MilestoneEscrow of the project's deployment map; the database's rows for the
    chain (contract name, whether it holds the compiler settings of a full build)."""
    latest = json.loads((build_deployments / "map.json").read_text())[str(CHAIN_ID)]
    with sqlite3.connect(live.home / ".brownie" / "deployments.db") as db:
        rows = db.execute(
            f"SELECT contractName, compiler IS NOT NULL FROM chain{CHAIN_ID} WHERE address = ?",
            (latest["MilestoneEscrow"][0],),
        ).fetchall()
    return latest["MilestoneEscrow"][0], rows


def test_refuses_a_token_address_with_no_code(live, tmp_path):
    nonce = live.nonce()
    nobody = Account.create().address
    result = live.deploy(nobody, tmp_path / "deployments", DEPLOY_YES="1")
    assert f"refused: no contract at {nobody} on chain {CHAIN_ID}" in result.stdout
    assert "Nothing was sent." in result.stdout
    assert_nothing_sent(live, result, nonce, tmp_path / "deployments")


def test_refuses_a_contract_that_answers_no_decimals(live, tmp_path):
    # init code returning a one-byte runtime (STOP): code, but no answer to anything
    not_a_token = live.send("0x600060005360016000f3")
    nonce = live.nonce()
    result = live.deploy(not_a_token, tmp_path / "deployments", DEPLOY_YES="1")
    assert f"refused: {not_a_token} answers no decimals()" in result.stdout
    assert_nothing_sent(live, result, nonce, tmp_path / "deployments")


def test_asks_with_the_token_read_from_the_chain_and_sends_nothing_on_no(live, tmp_path):
    nonce = live.nonce()
    # a user typing the keystore password, then "n" at the question
    result = live.deploy(live.token, tmp_path / "deployments", stdin=f"{PASSWORD}\nn\n")
    out = result.stdout
    summary = out[: out.index("deploy? [y/N]")]
    assert f"network   {NETWORK} (chain id {CHAIN_ID})" in summary
    balance = live.w3.eth.get_balance(live.deployer) / 10**18
    assert f"deployer  {live.deployer}  balance {balance:.6f} ETH" in summary
    assert f"token     {live.token}  tUSD, 6 decimals" in summary
    assert re.search(r"gas       [\d,]+ \(estimated\)  cost ~0\.\d+ ETH at [\d.]+ gwei", summary)
    assert "aborted: nothing was sent" in out
    assert_nothing_sent(live, result, nonce, tmp_path / "deployments")


def test_deploys_unattended_with_a_clean_output(live, tmp_path, build_deployments):
    repo_file = ROOT / "deployments" / f"{CHAIN_ID}.json"
    repo_before = repo_file.read_bytes() if repo_file.exists() else None
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    deployments = tmp_path / "deployments"
    result = live.deploy(
        live.token, deployments, DEPLOYER_PASSWORD_FILE=str(password_file), DEPLOY_YES="1"
    )
    out = result.stdout
    assert result.returncode == 0, out
    assert "Traceback" not in out and "Error" not in out, out
    summary = out[: out.index("deploy? yes (DEPLOY_YES=1)")]
    assert f"token     {live.token}  tUSD, 6 decimals" in summary
    assert "Transaction sent" not in summary

    recorded = json.loads((deployments / f"{CHAIN_ID}.json").read_text())
    assert recorded["chainId"] == CHAIN_ID
    entry = recorded["escrows"]["tUSD"]
    assert entry["token"] == live.token and entry["decimals"] == 6
    escrow = entry["escrow"]
    assert f"MilestoneEscrow deployed at: {escrow}" in out
    assert f"escrow    {escrow}  for tUSD, block {entry['block']}" in out
    assert live.w3.eth.get_code(escrow)
    on_chain = live.w3.eth.contract(address=escrow, abi=load_abi())
    assert on_chain.functions.token().call() == live.token

    # brownie's own records: the project's (build/deployments: MilestoneEscrow[-1] on later runs)
    # and the user's database (Contract(address)), with the full build and sources
    assert (build_deployments / str(CHAIN_ID) / f"{escrow}.json").exists()
    assert brownie_records(live, build_deployments) == (escrow, [("MilestoneEscrow", 1)])
    # and a later run on that network, which loads them, leaves them so
    later = live.deploy(Account.create().address, tmp_path / "later")
    assert "Traceback" not in later.stdout and "refused: no contract" in later.stdout
    assert brownie_records(live, build_deployments) == (escrow, [("MilestoneEscrow", 1)])
    # and the repository's deployments file is not touched
    assert (repo_file.read_bytes() if repo_file.exists() else None) == repo_before


def test_the_readme_gives_these_commands():
    section = (ROOT / "README.md").read_text().split("## Deploying to a real network")[1]
    for command in (
        f"brownie accounts import {ACCOUNT} key.json",
        f"brownie networks add Ethereum {NETWORK} host=$RPC_URL chainid={CHAIN_ID}",
        f"DEPLOYER={ACCOUNT} brownie run scripts/deploy.py --network {NETWORK}",
        "DEPLOYER_PASSWORD_FILE=",
        "DEPLOY_YES=1",
    ):
        assert command in section, command
