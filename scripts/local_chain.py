"""The chain brownie is connected to, as the scripts and tests see it: its time, its RPC
endpoint, fresh keys with ether to spend, free local ports for the services they start."""

from __future__ import annotations

import socket

from brownie import accounts, web3
from brownie.convert import Wei
from web3 import HTTPProvider

from scripts.brownie_types import LocalKey

DAY = 86_400


def now() -> int:
    """The latest block's timestamp."""
    return int(web3.eth.get_block("latest")["timestamp"])


def rpc_url() -> str:
    """The node's JSON-RPC URL (brownie's development network and live networks speak HTTP)."""
    provider = web3.provider
    if not isinstance(provider, HTTPProvider):
        raise RuntimeError(f"brownie is connected over {type(provider).__name__}, not HTTP")
    return str(provider.endpoint_uri)


def funded_key(private_key: str | None = None, ether: str = "10 ether") -> LocalKey:
    """A local key (random unless `private_key` is given) holding `ether`, sent from brownie's
    first account."""
    account = accounts.add(private_key) if private_key else accounts.add()
    # brownie annotates `to` as its Account class; it takes any account or address.
    accounts[0].transfer(account, Wei(ether), silent=True)  # type: ignore[arg-type]
    return account


def free_ports(n: int) -> list[int]:
    """n distinct TCP ports free on 127.0.0.1 right now (the OS picks them)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()
