"""What the scripts read from brownie's objects, named. brownie's contracts, accounts and
receipts are dynamic (a contract's functions are attributes made from its ABI at run time), so
a contract or a receipt is `Any` here; an account or a token is the Protocol of the few
attributes used."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import brownie

# A brownie Contract or ProjectContract: its functions are the ABI's, looked up at run time.
Contract = Any
# A brownie account that sends transactions (balance(), transfer(), deploy...).
Account = Any
# A brownie TransactionReceipt: `events`, `gas_used`, `return_value`...
Receipt = Any


class Addressed(Protocol):
    """A contract or an account (brownie's, or anything with an address)."""

    @property
    def address(self) -> str: ...


@runtime_checkable
class LocalKey(Addressed, Protocol):
    """A brownie LocalAccount: a key this process holds (accounts.add())."""

    @property
    def private_key(self) -> str: ...


class PermitToken(Addressed, Protocol):
    """An EIP-2612 token as brownie exposes it."""

    def name(self) -> str: ...

    def nonces(self, owner: Addressed) -> int: ...


def project_container(name: str) -> Any:
    """A contract container of this project (MilestoneEscrow, TestStablecoin...): brownie adds
    them to its own module when it loads the project, where no type checker can see them."""
    return vars(brownie)[name]


def address_of(x: Addressed | str) -> str:
    return x if isinstance(x, str) else x.address
