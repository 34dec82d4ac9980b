"""Read access to the escrow over JSON-RPC (plain web3.py and the build artifact, no brownie)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import requests
from eth_utils import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.exceptions import (
    BadResponseFormat,
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    Web3RPCError,
)
from web3.types import RPCEndpoint, RPCResponse

from backend import deployments
from backend.escrow.abi import ARTIFACT, load_abi, view
from backend.escrow.errors import ChainUnavailable, RangeRefused, UnknownDeal
from backend.escrow.statuses import DealStatus
from backend.settings import Settings

KEY_ADDED = Web3.keccak(text="OperatorKeyAdded(uint32,address)").hex().removeprefix("0x")
KEY_ADDED_TOPIC = "0x" + KEY_ADDED

__all__ = ["ARTIFACT", "Chain", "ChainUnavailable", "DealParties", "RangeRefused", "load_abi"]

T = TypeVar("T")


ERC1271_MAGIC = bytes.fromhex("1626ba7e")
ERC1271_ABI = [
    {
        "name": "isValidSignature",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
        "outputs": [{"name": "", "type": "bytes4"}],
    }
]
ERC20_ABI = [
    {
        "name": name,
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": kind}],
    }
    for name, kind in (("symbol", "string"), ("decimals", "uint8"))
]


# What a call to the RPC raises when the RPC, not the call, is at fault: refused, reset or
# timed out connections, HTTP errors of a proxy, JSON-RPC errors of the node. A revert is the
# contract's answer (ContractLogicError) and a bad argument is a bug: neither is in here.
UNREACHABLE = (requests.RequestException, OSError, TimeExhausted, Web3RPCError, BadResponseFormat)


@dataclass(frozen=True)
class DealParties:
    deal_id: int
    buyer: str
    supplier: str
    arbiter: int
    version: int
    milestone_oracles: tuple[frozenset[int], ...]  # per milestone, the operators it names
    status: DealStatus
    payee: str = ""  # who is paid: the supplier unless the deal's payments were assigned

    @property
    def oracles(self) -> frozenset[int]:
        """Every operator named by any milestone."""
        return frozenset().union(*self.milestone_oracles)


def _provider(settings: Settings) -> HTTPProvider:
    """One HTTP request per call, answered within `rpc_timeout_seconds` or given up: web3's own
    retries (5 tries with back-off) would make a hanging RPC cost a request about a minute."""
    return HTTPProvider(
        settings.rpc_url,
        request_kwargs={"timeout": settings.rpc_timeout_seconds},
        exception_retry_configuration=None,
    )


class Chain:
    """One escrow over JSON-RPC. Every read is one bounded HTTP request; what never changes
    (chain id, escrow address, the escrow's constants) is read once, without a lock, so that a
    hanging first read holds up only the request that made it. `escrow_address`: this escrow
    (backend/escrows.py makes one Chain per escrow served); None: the settings' default one."""

    def __init__(
        self, settings: Settings, artifact: Path = ARTIFACT, escrow_address: str | None = None
    ):
        self.settings = settings
        self.web3 = Web3(_provider(settings))
        self._artifact = artifact
        self._chain_id: int | None = settings.chain_id
        self._escrow_address: str | None = (
            to_checksum_address(escrow_address) if escrow_address else None
        )
        self._escrow = None
        self._constants: dict[str, int] = {}
        # Reads used to authorise writes to the service, kept briefly: a key revoked on chain
        # may still upload for up to `chain_cache_seconds` (the contract itself checks live).
        self._cache: dict[tuple, tuple[float, object]] = {}

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._call(lambda: self.web3.eth.chain_id)
        return self._chain_id

    @property
    def escrow_address(self) -> str:
        if self._escrow_address is None:
            self._escrow_address = self._find_escrow()
        return self._escrow_address

    def _find_escrow(self) -> str:
        if self.settings.escrow_address:
            return to_checksum_address(self.settings.escrow_address)
        known = deployments.load(self.chain_id, self.settings.deployments_dir)
        if self.settings.token_symbol not in known:
            raise ChainUnavailable(
                f"no {self.settings.token_symbol} escrow for chain {self.chain_id} in "
                f"{self.settings.deployments_dir}: deploy one or set ESCROW_ESCROW_ADDRESS"
            )
        return known[self.settings.token_symbol].escrow

    @property
    def escrow(self):
        if self._escrow is None:
            abi = load_abi(self._artifact)
            self._escrow = self.web3.eth.contract(address=self.escrow_address, abi=abi)
        return self._escrow

    def constant(self, name: str) -> int:
        """One of the escrow's public constants (MAX_MILESTONES, DEFAULT_RULING_PERIOD)."""
        if name not in self._constants:
            self._constants[name] = self._call(self.escrow.functions[name]().call)
        return self._constants[name]

    @property
    def max_milestones(self) -> int:
        """Most milestones a deal may have (the escrow's constant MAX_MILESTONES)."""
        return self.constant("MAX_MILESTONES")

    def token(self) -> tuple[str, str, int]:
        """The escrow's token: its address, symbol and decimals."""
        address = self._call(self.escrow.functions.token().call)
        token = self.web3.eth.contract(address=address, abi=ERC20_ABI)
        return (
            address,
            self._call(token.functions.symbol().call),
            self._call(token.functions.decimals().call),
        )

    def block_number(self) -> int:
        return self._call(lambda: self.web3.eth.block_number)

    def get_logs(self, address: str, from_block: int, to_block: int) -> list[dict]:
        """The raw JSON-RPC logs of `address` in [from_block, to_block] (hex strings as the
        node sends them: web3's formatting of each log costs more than the indexer's work)."""
        params = [{"address": address, "fromBlock": hex(from_block), "toBlock": hex(to_block)}]

        answer = self._call(
            lambda: self.web3.provider.make_request(RPCEndpoint("eth_getLogs"), params)
        )
        if "error" in answer:
            raise RangeRefused(f"eth_getLogs {from_block}-{to_block}: {answer['error']}")
        return answer["result"]

    def offer_nonce_used(self, supplier: str, nonce: int) -> bool:
        """Whether `supplier`'s offer nonce is used (an offer accepted or withdrawn with
        `cancelOffer`). Never cached."""
        return self._call(
            self.escrow.functions.offerNonceUsed(to_checksum_address(supplier), nonce).call
        )

    def agreement_nonce(self, deal_id: int, party: str) -> int:
        """The nonce `party`'s signed change orders and cancellations of the deal must name
        (it moves on when the party revokes them). Never cached."""
        return self._call(
            self.escrow.functions.agreementNonce(deal_id, to_checksum_address(party)).call
        )

    def deal(self, deal_id: int, fresh: bool = False) -> DealParties | None:
        """The deal's parties and oracles, or None when the escrow knows no such deal.
        `fresh`: read the chain now, not a copy up to `chain_cache_seconds` old (for what
        moves: its version and status)."""
        if not 0 <= deal_id < 1 << 256:
            return None  # not a uint256: no deal has this id
        return self._cached(("deal", deal_id), lambda: self._read_deal(deal_id), fresh)

    def block_time(self) -> int:
        """The latest block's timestamp: the clock the escrow checks deadlines against (a
        deadline at or before it can no longer be met by any later block)."""
        return self._call(lambda: self.web3.eth.get_block("latest")["timestamp"])

    def operator_of(self, key: str) -> int:
        return self._cached(
            ("operator", key), lambda: self._call(self.escrow.functions.operatorOf(key).call)
        )

    def operator_keys(
        self, operator_id: int, indexed: tuple[str, ...] = (), since: int | None = None
    ) -> tuple[str, ...]:
        """The live keys of an operator: those `indexed` (the service's index of the registry,
        backend/operator_index.py) and those its `OperatorKeyAdded` logs name from block
        `since` on (the index's cursor; `indexer_start_block` when there is no index), that
        `operatorOf` still maps to it. Cached like the roles."""
        return self._cached(
            ("keys", operator_id), lambda: self._read_keys(operator_id, indexed, since)
        )

    def _read_keys(
        self, operator_id: int, indexed: tuple[str, ...], since: int | None
    ) -> tuple[str, ...]:
        topics = [KEY_ADDED_TOPIC, "0x" + operator_id.to_bytes(32, "big").hex()]
        first = max(self.settings.indexer_start_block, since or 0)
        found = self.logs_between(first, self.block_number(), topics)
        keys = dict.fromkeys(
            [*indexed, *(to_checksum_address("0x" + log["topics"][2][-40:]) for log in found)]
        )
        return tuple(k for k in keys if self.operator_of(k) == operator_id)

    def _get_logs(self, params: list) -> RPCResponse:
        return self.web3.provider.make_request(RPCEndpoint("eth_getLogs"), params)

    def logs_between(self, first: int, last: int, topics: list[str]) -> list[dict]:
        """The escrow's raw logs matching `topics` in [first, last], asked for in ranges of
        `indexer_batch_blocks`, each halved while the node refuses it (providers limit the
        blocks or the results of one eth_getLogs); ChainUnavailable when one block is
        refused."""
        found: list[dict] = []
        span = self.settings.indexer_batch_blocks
        while first <= last:
            end = min(first + span - 1, last)
            params = [
                {
                    "address": self.escrow_address,
                    "fromBlock": hex(first),
                    "toBlock": hex(end),
                    "topics": topics,
                }
            ]
            answer = self._call(partial(self._get_logs, params))
            if "error" in answer:
                if span == 1:
                    raise ChainUnavailable(f"eth_getLogs {first}-{end}: {answer['error']}")
                span //= 2
                continue
            found += answer["result"]
            first = end + 1
        return found

    def accepts_signature(self, signer: str, digest: bytes, signature: bytes) -> bool:
        """Whether `signer` is a contract that accepts `signature` over `digest` by EIP-1271
        (`isValidSignature` answers 0x1626ba7e), as the escrow asks it. Never cached."""
        signer = to_checksum_address(signer)
        if not self._call(lambda: self.web3.eth.get_code(signer)):
            return False
        wallet = self.web3.eth.contract(address=signer, abi=ERC1271_ABI)
        try:
            answer = self._call(wallet.functions.isValidSignature(digest, signature).call)
        except (ContractCustomError, ContractLogicError):
            return False  # a wallet that reverts refuses
        return bytes(answer) == ERC1271_MAGIC

    def _cached(self, key: tuple, read, fresh: bool = False):
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit and not fresh and now - hit[0] < self.settings.chain_cache_seconds:
            return hit[1]
        value = read()
        self._cache[key] = (now, value)
        return value

    def require_deal(self, deal_id: int, fresh: bool = False) -> DealParties:
        """`deal`, or UnknownDeal (404) when the escrow knows no such deal."""
        deal = self.deal(deal_id, fresh)
        if deal is None:
            raise UnknownDeal(deal_id)
        return deal

    def _read_deal(self, deal_id: int) -> DealParties | None:
        try:
            deal = self._call(lambda: view(self.escrow, "getDeal", deal_id))
        except (ContractCustomError, ContractLogicError):
            return None
        milestone_oracles = []
        for index in range(deal["milestoneCount"]):
            m = self._call(partial(view, self.escrow, "getMilestone", deal_id, index))
            milestone_oracles.append(frozenset(o for o in m["oracles"] if o))
        return DealParties(
            deal_id=deal_id,
            buyer=deal["buyer"],
            supplier=deal["supplier"],
            arbiter=deal["arbiter"],
            version=deal["version"],
            milestone_oracles=tuple(milestone_oracles),
            status=DealStatus(deal["status"]),
            payee=deal["payee"],
        )

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except UNREACHABLE as exc:
            raise ChainUnavailable(
                f"the chain RPC at {self.settings.rpc_url} is unreachable or gave no answer "
                f"within {self.settings.rpc_timeout_seconds:g} s: {exc.__class__.__name__}"
            ) from exc
