"""Every escrow one service serves: one per token (a platform with USDC and USDT deals has two),
from the deployments file (all of them, or the symbols `escrows` lists), or the one
`escrow_address` names. One `Chain` each, with its own caches (operators and deals are per
escrow). The default one (`token_symbol`'s) is what the older /deals/{id} routes address.

Resolved on first use, not at start: the chain id comes from the RPC, and a service whose RPC
is down starts, and answers 503 until it is back."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import is_address, to_checksum_address

from backend import deployments
from backend.chain import Chain
from backend.escrow.errors import ChainUnavailable, UnknownEscrow
from backend.settings import Settings


@dataclass(frozen=True)
class Served:
    """An escrow as clients pick it: its address, its token's, the token's symbol and
    decimals, and the block it was deployed in (where its history starts)."""

    address: str
    token: str
    symbol: str
    decimals: int
    block: int


class Escrows:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.default = Chain(settings)  # escrow_address's, or token_symbol's in the file
        self._served: dict[str, Served] | None = None
        self._chains: dict[str, Chain] = {}
        self._spelled: dict[str, Chain] = {}  # each spelling of an escrow served, once found

    def served(self) -> list[Served]:
        """The escrows served, the default first. ChainUnavailable when the RPC cannot say
        which chain this is, or the deployments file lacks one of the tokens asked for."""
        return list(self._by_address().values())

    def get(self, address: str) -> Chain:
        """The escrow at `address` (checksummed or lowercase), or UnknownEscrow (404)."""
        # Every upload names its escrow: the checksum (a keccak) is worked out once per
        # spelling, of which an escrow has a handful (checksummed, lower or upper case).
        chain = self._spelled.get(address)
        if chain is None:
            chain = self._spelled[address] = self._find_chain(address)
        return chain

    def _find_chain(self, address: str) -> Chain:
        if not is_address(address):
            raise UnknownEscrow(address)
        address = to_checksum_address(address)
        if address not in self._by_address():
            raise UnknownEscrow(address)
        if address == self.default.escrow_address:
            return self.default
        return self._chains.setdefault(address, Chain(self.settings, escrow_address=address))

    def chains(self) -> list[Chain]:
        """One Chain per escrow served, the default first (the indexer and relayer loops)."""
        return [self.get(s.address) for s in self.served()]

    def _by_address(self) -> dict[str, Served]:
        if self._served is None:
            self._served = {s.address: s for s in self._find()}
        return self._served

    def _find(self) -> list[Served]:
        default = self.default.escrow_address
        if self.settings.escrow_address:  # the one escrow named, the file aside
            return [self._read(default)]
        known = deployments.load(self.default.chain_id, self.settings.deployments_dir)
        wanted = dict.fromkeys((self.settings.token_symbol, *(self.settings.escrows or known)))
        missing = [symbol for symbol in wanted if symbol not in known]
        if missing:
            raise ChainUnavailable(
                f"no escrow for {', '.join(missing)} on chain {self.default.chain_id} in "
                f"{self.settings.deployments_dir}: deploy one, or set ESCROW_ESCROWS"
            )
        return [
            Served(
                address=to_checksum_address(known[s].escrow),
                token=to_checksum_address(known[s].token),
                symbol=s,
                decimals=known[s].decimals,
                block=known[s].block,
            )
            for s in wanted
        ]

    def _read(self, address: str) -> Served:
        """An escrow known by its address alone: its token, read from the chain."""
        token, symbol, decimals = self.default.token()
        return Served(address, token, symbol, decimals, self.settings.indexer_start_block)
