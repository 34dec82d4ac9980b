"""Deploy a MilestoneEscrow for one token, and record it in deployments/<chain id>.json
(or in $ESCROW_DEPLOYMENTS_DIR, the variable the service reads too).

Local chain (default): deploys the test stablecoins too, and an escrow for each: tUSD (6
decimals) and tEUR (18), so that one service serves deals in two tokens.
    brownie run scripts/deploy.py
Live network, added once with `brownie networks add ...`, signing with a brownie keystore
account (`brownie accounts new <name>` or `brownie accounts import <name> key.json`):
    ESCROW_TOKEN=0xToken DEPLOYER=<name> brownie run scripts/deploy.py --network <id>
The live path reads the token from the chain (refusing an address with no code or no
decimals()), prints the network, deployer, token and estimated cost, and asks before sending.
Unattended: DEPLOYER_PASSWORD or DEPLOYER_PASSWORD_FILE unlocks the account, DEPLOY_YES=1
answers the question.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from brownie import Contract as BrownieContract
from brownie import accounts, chain, network, web3
from brownie._config import CONFIG
from brownie.network.state import _add_deployment
from brownie.typing import ContractName
from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_typing import ABIElement, HexAddress, HexStr
from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address
from web3.exceptions import Web3Exception

from backend import deployments
from backend.chain import load_abi
from backend.deployments import EscrowDeployment
from scripts.brownie_types import Account, Addressed, Contract, project_container

MilestoneEscrow = project_container("MilestoneEscrow")
TestStablecoin = project_container("TestStablecoin")
TestEuro = project_container("TestEuro")
DEPLOYMENTS_DIR_ENV = "ESCROW_DEPLOYMENTS_DIR"


def contract_at(name: str, address: str, abi: list[dict]) -> Contract:
    """brownie's Contract.from_abi, given the NewTypes it annotates its arguments with (an
    ABI read from JSON is a list of dicts: the cast says it holds ABI entries)."""
    return BrownieContract.from_abi(
        ContractName(name), HexAddress(HexStr(address)), cast(list[ABIElement], abi)
    )


def deploy_escrow(token: Addressed | str, deployer: Account, silent: bool = False) -> Contract:
    """Deploy a MilestoneEscrow (its constructor deploys its extension) for `token`. Returns it
    with the IEscrow ABI: everything the address answers, the extension's functions too."""
    if CONFIG.network_type == "live":
        core = _deploy_live(token, deployer, silent)
    else:
        core = MilestoneEscrow.deploy(token, {"from": deployer}, silent=silent)
    escrow = contract_at("MilestoneEscrow", core.address, load_abi())
    escrow.deployed_at_block = core.tx.block_number if core.tx else chain.height
    return escrow


def _deploy_live(token: Addressed | str, deployer: Account, silent: bool) -> Contract:
    """MilestoneEscrow.deploy(token) on a live network, with brownie's deployment record.

    brownie 1.22.2's Account.deploy attaches the new contract in a thread
    (ContractContainer._add_from_tx) that, on a live network, records it in
    ~/.brownie/deployments.db through brownie.network.state._add_deployment. That module is
    compiled with mypyc, which enforces its annotation `contract_sources: dict =
    contract._sources`; a project contract's _sources is a brownie.project.sources.Sources, so
    the thread dies with "TypeError: dict object expected; got ...Sources" once the escrow is
    deployed, and the record is never written.

    So: the transaction Account.deploy sends (its own _make_transaction call, without that
    thread); the contract attached with persist=False (brownie still writes its project record,
    build/deployments/<chain id>/<address>.json and map.json); then the database record
    _add_deployment was meant to write, given the sources as the dict it requires."""
    receipt, exc = deployer._make_transaction(
        to=None,
        amount=0,
        gas_limit=None,
        gas_buffer=None,
        gas_price=None,
        max_fee=None,
        priority_fee=None,
        data=MilestoneEscrow.deploy.encode_input(token),
        nonce=None,
        fn_name="MilestoneEscrow.constructor",
        required_confs=1,
        allow_revert=None,
        silent=silent,
    )
    receipt._raise_if_reverted(exc)
    core = MilestoneEscrow.at(receipt.contract_address, deployer, receipt, persist=False)
    paths = core._build.get("allSourcePaths", {}).values()
    sources = {path: core._sources.get(path) for path in paths}
    # A stand-in with the three attributes _add_deployment reads (brownie annotates a Contract).
    stand_in = SimpleNamespace(address=core.address, _build=core._build, _sources=sources)
    _add_deployment(stand_in)  # type: ignore[arg-type]
    return core


def deploy(
    deployer: Account, token: Contract | None = None, silent: bool = False
) -> tuple[Contract, Contract]:
    """Deploy an escrow for `token` (a test stablecoin when None). Returns (escrow, token)."""
    if token is None:
        token = TestStablecoin.deploy({"from": deployer}, silent=silent)
    return deploy_escrow(token, deployer, silent), token


def deploy_second(deployer: Account, silent: bool = False) -> tuple[Contract, Contract]:
    """The local chain's second escrow, for the test euro (18 decimals), recorded."""
    euro = TestEuro.deploy({"from": deployer}, silent=silent)
    escrow = deploy_escrow(euro, deployer, silent)
    record(escrow, euro)
    return escrow, euro


def deployments_dir() -> Path:
    override = os.environ.get(DEPLOYMENTS_DIR_ENV)
    return Path(override) if override else deployments.DEPLOYMENTS_DIR


def record(escrow: Contract, token: Contract) -> str:
    return _record(escrow, token.address, token.symbol(), token.decimals())


def _record(escrow: Contract, token_address: str, symbol: str, decimals: int) -> str:
    entry = EscrowDeployment(
        escrow=escrow.address,
        token=token_address,
        decimals=decimals,
        block=escrow.deployed_at_block,
    )
    return str(deployments.record(chain.id, symbol, entry, deployments_dir()))


# --- live networks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    address: str
    symbol: str
    decimals: int


def _call(address: str, signature: str, types: list[str]) -> tuple | None:
    """Call a view function without arguments; None when it reverts or answers nothing
    decodable as `types`."""
    data = "0x" + function_signature_to_4byte_selector(signature).hex()
    try:
        raw = web3.eth.call({"to": HexAddress(HexStr(address)), "data": HexStr(data)})
        return decode(types, bytes(raw))
    except (Web3Exception, ValueError, DecodingError, OverflowError):
        return None


def read_token(address: str) -> TokenInfo:
    """The token's symbol and decimals, read from the chain; SystemExit when `address` cannot
    be an ERC-20 here (no code, no decimals(), no symbol())."""
    if not is_address(address):
        raise SystemExit(f"refused: ESCROW_TOKEN={address!r} is not an address")
    address = to_checksum_address(address)
    if not web3.eth.get_code(address):
        raise SystemExit(
            f"refused: no contract at {address} on chain {chain.id}; "
            "ESCROW_TOKEN must be the token's address on this network. Nothing was sent."
        )
    decimals = _call(address, "decimals()", ["uint8"])
    if decimals is None:
        raise SystemExit(
            f"refused: {address} answers no decimals(); it is not an ERC-20 token. "
            "Nothing was sent."
        )
    symbol = _call(address, "symbol()", ["string"]) or _call(address, "symbol()", ["bytes32"])
    if symbol is None:
        raise SystemExit(f"refused: {address} answers no symbol(). Nothing was sent.")
    text = symbol[0] if isinstance(symbol[0], str) else symbol[0].rstrip(b"\0").decode("latin-1")
    if not text.strip():
        raise SystemExit(f"refused: {address} has an empty symbol(). Nothing was sent.")
    return TokenInfo(address, text, decimals[0])


def _password() -> str | None:
    """The keystore password from DEPLOYER_PASSWORD or DEPLOYER_PASSWORD_FILE (its first
    line); None to prompt for it."""
    if "DEPLOYER_PASSWORD" in os.environ:
        return os.environ["DEPLOYER_PASSWORD"]
    path = os.environ.get("DEPLOYER_PASSWORD_FILE")
    if path:
        try:
            return (Path(path).read_text().splitlines() or [""])[0]
        except OSError as exc:
            raise SystemExit(f"cannot read DEPLOYER_PASSWORD_FILE: {exc}") from None
    return None


def _live_account() -> Account:
    """The deployer: a brownie LocalAccount unlocked from its keystore."""
    name = os.environ.get("DEPLOYER")
    if not name:
        raise SystemExit("set DEPLOYER to the name of a brownie keystore account")
    names = cast(list[str], accounts.load())  # without a name, load() lists the keystore's
    if name not in names:
        known = ", ".join(names) or "none"
        raise SystemExit(f"no brownie keystore account {name!r} (known: {known})")
    try:
        return accounts.load(name, _password())
    except ValueError:
        raise SystemExit(f"could not unlock keystore account {name!r}: wrong password") from None


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.6f} ETH"


def _confirmed() -> bool:
    if os.environ.get("DEPLOY_YES") == "1":
        print("deploy? yes (DEPLOY_YES=1)")
        return True
    try:
        return input("deploy? [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        print()
        return False


def deploy_live() -> None:
    print(f"network   {network.show_active()} (chain id {chain.id})")
    token_address = os.environ.get("ESCROW_TOKEN")
    if not token_address:
        raise SystemExit("set ESCROW_TOKEN to the ERC-20 the escrow will hold")
    token = read_token(token_address)
    deployer = _live_account()
    balance = deployer.balance()
    data = MilestoneEscrow.deploy.encode_input(token.address)
    try:
        gas = web3.eth.estimate_gas({"from": deployer.address, "data": data})
    except (Web3Exception, ValueError) as exc:
        raise SystemExit(f"refused: the deployment would fail ({exc}). Nothing was sent.") from None
    gas_price = web3.eth.gas_price
    cost = gas * gas_price
    print(f"deployer  {deployer.address}  balance {_eth(balance)}")
    print(f"token     {token.address}  {token.symbol}, {token.decimals} decimals")
    print(f"gas       {gas:,} (estimated)  cost ~{_eth(cost)} at {gas_price / 10**9:.3f} gwei")
    path = deployments.path_for(chain.id, deployments_dir())
    previous = deployments.load(chain.id, deployments_dir()).get(token.symbol)
    note = f" (replaces {token.symbol}'s escrow {previous.escrow})" if previous else ""
    print(f"records   {path}{note}")
    if balance < cost:
        raise SystemExit(
            f"refused: the deployer's balance {_eth(balance)} is below the estimated cost "
            f"{_eth(cost)}. Nothing was sent."
        )
    if not _confirmed():
        raise SystemExit("aborted: nothing was sent")
    escrow = deploy_escrow(token.address, deployer)
    recorded = _record(escrow, token.address, token.symbol, token.decimals)
    print(f"escrow    {escrow.address}  for {token.symbol}, block {escrow.deployed_at_block}")
    print(f"recorded  {recorded}")


def main() -> None:
    if CONFIG.network_type == "live":
        deploy_live()
        return
    deployer = accounts[0]
    token_address = os.environ.get("ESCROW_TOKEN")
    token = None
    if token_address:
        # Any ERC-20: the test stablecoin's ABI covers name/symbol/decimals/balanceOf.
        token = contract_at("Token", token_address, TestStablecoin.abi)
    print(f"network   {network.show_active()} (chain id {chain.id})")
    print(f"deployer  {deployer.address}  balance {_eth(deployer.balance())}")
    print(f"token     {token_address or 'new TestStablecoin (local only)'}")
    escrow, token = deploy(deployer, token)
    path = record(escrow, token)
    print(f"escrow    {escrow.address}  for {token.symbol()} ({token.decimals()} decimals)")
    if token_address is None:  # the local chain's second token
        second, euro = deploy_second(deployer)
        print(f"escrow    {second.address}  for {euro.symbol()} ({euro.decimals()} decimals)")
    print(f"recorded  {path}")
