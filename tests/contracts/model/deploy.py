"""One anvil for the whole model test: an escrow per token of the hostile set, deployed from
brownie's build artifacts, and the snapshot every example starts from."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode

from .abi import Abi, artifact
from .chain import Chain
from .escrow import ZERO, Escrow, Key, Lens, OnChain, Token
from .rpc import Anvil

# Registered in this order in every escrow, so their operator ids are 1, 2, 3, 4.
OPERATORS = ("inspector", "carrier", "customs", "arbiter")
SPARE_KEYS = 6  # fresh keys the operators can rotate to
BUYER_FUNDS = 10**30
MAX_UINT = 2**256 - 1


@dataclass(frozen=True)
class Parties:
    """Everyone's key: the parties, two financiers a payee can assign to, and the operators'
    first keys (each operator's admin too) and spare keys."""

    deployer: Key
    buyer: Key
    supplier: Key
    financier: Key
    factor: Key
    operators: tuple[Key, ...]  # first keys, in OPERATORS order
    spare: tuple[Key, ...]

    @classmethod
    def make(cls) -> Parties:
        return cls(
            *(Key.named(role) for role in ("deployer", "buyer", "supplier", "financier", "factor")),
            operators=tuple(Key.named(name) for name in OPERATORS),
            spare=tuple(Key.named(f"spare key {i}") for i in range(1, SPARE_KEYS + 1)),
        )

    @property
    def accounts(self) -> list[str]:
        """The accounts whose money the model follows (besides the escrow)."""
        return [k.address for k in (self.buyer, self.supplier, self.financier, self.factor)]

    @property
    def keys(self) -> list[Key]:
        return [*self.operators, *self.spare]

    @property
    def names(self) -> dict[str, str]:
        everyone = (self.deployer, self.buyer, self.supplier, self.financier, self.factor)
        return {k.address: k.name for k in (*everyone, *self.keys)}


@dataclass
class Deployment:
    """One token's escrow; `base` is its state in the snapshot."""

    kind: str
    escrow: Escrow
    token: Token
    lens: Lens
    base: OnChain | None = None


class World:
    """Starts anvil, deploys every token's escrow and the lens, registers the operators, funds
    the buyer, and snapshots. `reset()` goes back to that snapshot."""

    def __init__(self, tokens: dict[str, str]):
        self.anvil = Anvil()
        contracts = ("IEscrow", "MilestoneEscrow", "EscrowExtension", *tokens.values())
        errors = Abi(*(artifact(name)["abi"] for name in contracts))
        self.chain = Chain(self.anvil.rpc, errors)
        self.parties = Parties.make()
        self.chain_id = int(self.anvil.rpc.call("eth_chainId"), 16)
        lens_artifact = artifact("EscrowLens")
        self._lens = self.chain.deploy(self.parties.deployer.address, lens_artifact["bytecode"])
        self._lens_abi = Abi(lens_artifact["abi"])
        self.deployments = {kind: self._deploy(kind, name) for kind, name in tokens.items()}
        self._snapshot = self.chain.snapshot()
        for deployment in self.deployments.values():
            deployment.base = deployment.lens.read()

    def _deploy(self, kind: str, token_contract: str) -> Deployment:
        p, chain, names = self.parties, self.chain, self.parties.names
        deployer = p.deployer.address
        token_artifact = artifact(token_contract)
        token_address = chain.deploy(deployer, token_artifact["bytecode"])
        escrow_address = chain.deploy(
            deployer, artifact("MilestoneEscrow")["bytecode"], encode(["address"], [token_address])
        )
        names = {**names, escrow_address: "escrow", token_address: "token", ZERO: "address(0)"}
        escrow = Escrow(escrow_address, Abi(artifact("IEscrow")["abi"]), names, self.chain_id)
        token = Token(token_address, Abi(token_artifact["abi"]), names)
        for name, key in zip(OPERATORS, p.operators, strict=True):
            chain.send(escrow.register_operator(key.address, name.capitalize(), key.address))
        chain.send(token.mint(deployer, p.buyer.address, BUYER_FUNDS))
        chain.send(token.approve(p.buyer.address, escrow_address, MAX_UINT))
        lens = Lens(
            chain,
            self._lens,
            self._lens_abi,
            escrow,
            token,
            [escrow_address, *p.accounts],
            [k.address for k in p.keys],
            hooked="hookStats" in {i.get("name") for i in token_artifact["abi"]},
        )
        return Deployment(kind, escrow, token, lens)

    def reset(self) -> None:
        """Back to the freshly deployed state (and a new snapshot to come back to again)."""
        self.chain.revert(self._snapshot)
        self._snapshot = self.chain.snapshot()

    def close(self) -> None:
        self.anvil.stop()
