"""Deploy a MilestoneEscrow for one token, and record it in deployments/<chain id>.json.

Local chain (default): deploys the test stablecoin too.
    brownie run scripts/deploy.py
Live network, added once with `brownie networks add ...`, signing with a brownie keystore
account (`brownie accounts new <name>`):
    ESCROW_TOKEN=0xToken DEPLOYER=<name> brownie run scripts/deploy.py --network <id>
The live path prints what it is about to do and asks before sending (DEPLOY_YES=1 skips).
"""

from __future__ import annotations

import os

from brownie import Contract, MilestoneEscrow, TestStablecoin, accounts, chain, network

from backend import deployments
from backend.chain import load_abi
from backend.deployments import EscrowDeployment

LOCAL_NETWORKS = {"development", "anvil", "hardhat", "ganache"}


def deploy_escrow(token, deployer, silent: bool = False):
    """Deploy a MilestoneEscrow (its constructor deploys its extension) for `token`. Returns it
    with the IEscrow ABI: everything the address answers, the extension's functions too."""
    core = MilestoneEscrow.deploy(token, {"from": deployer}, silent=silent)
    escrow = Contract.from_abi("MilestoneEscrow", core.address, load_abi())
    escrow.deployed_at_block = core.tx.block_number if core.tx else chain.height
    return escrow


def deploy(deployer, token=None, silent: bool = False) -> tuple[object, object]:
    """Deploy an escrow for `token` (a test stablecoin when None). Returns (escrow, token)."""
    if token is None:
        token = TestStablecoin.deploy({"from": deployer}, silent=silent)
    return deploy_escrow(token, deployer, silent), token


def record(escrow, token) -> str:
    entry = EscrowDeployment(
        escrow=escrow.address,
        token=token.address,
        decimals=token.decimals(),
        block=escrow.deployed_at_block,
    )
    return str(deployments.record(chain.id, token.symbol(), entry))


def _live_account():
    name = os.environ.get("DEPLOYER")
    if not name:
        raise SystemExit("set DEPLOYER to the name of a brownie keystore account")
    return accounts.load(name)


def main() -> None:
    local = network.show_active() in LOCAL_NETWORKS
    deployer = accounts[0] if local else _live_account()
    token_address = os.environ.get("ESCROW_TOKEN")
    if not local and not token_address:
        raise SystemExit("set ESCROW_TOKEN to the ERC-20 the escrow will hold")
    token = None
    if token_address:
        from brownie import Contract

        # Any ERC-20: the test stablecoin's ABI covers name/symbol/decimals/balanceOf.
        token = Contract.from_abi("Token", token_address, TestStablecoin.abi)
    print(f"network   {network.show_active()} (chain id {chain.id})")
    print(f"deployer  {deployer.address}  balance {deployer.balance() / 1e18:.4f} ETH")
    print(f"token     {token_address or 'new TestStablecoin (local only)'}")
    if not local and os.environ.get("DEPLOY_YES") != "1":
        if input("deploy? [y/N] ").strip().lower() != "y":
            raise SystemExit("aborted")
    escrow, token = deploy(deployer, token)
    path = record(escrow, token)
    print(f"escrow    {escrow.address}  for {token.symbol()} ({token.decimals()} decimals)")
    print(f"recorded  {path}")
