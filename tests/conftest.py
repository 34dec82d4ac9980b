"""Shared fixtures: accounts named by role, module-scoped deployments, deal factories.

Every test runs against a real anvil chain (brownie's development network); `fn_isolation`
snapshots the chain before each test and reverts it after.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import brownie
import pytest
from brownie import (
    FalseReturnToken,
    FeeOnTransferToken,
    MilestoneEscrow,
    NoReturnToken,
    TestStablecoin,
    accounts,
    chain,
)

from backend import attestations, typed_data
from backend.terms import DealOffer, Milestone

DAY = 86_400
USD = 10**6  # TestStablecoin has 6 decimals


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


def _new_account():
    """A fresh local key, so that it can sign typed data. It holds no ether: brownie's
    development chain runs with a zero base fee and brownie sends at gas price 0 (and
    module_isolation resets the chain, ether included, at every module)."""
    return accounts.add()


def give_ether(account, amount: str = "1 ether") -> None:
    """For transactions sent outside brownie (web3 prices gas above zero)."""
    accounts[0].transfer(account, amount)


@pytest.fixture(scope="session")
def deployer():
    return accounts[0]


@pytest.fixture(scope="session")
def buyer():
    return _new_account()


@pytest.fixture(scope="session")
def supplier():
    return _new_account()


@pytest.fixture(scope="session")
def inspector():
    return _new_account()


@pytest.fixture(scope="session")
def carrier():
    return _new_account()


@pytest.fixture(scope="session")
def customs():
    return _new_account()


@pytest.fixture(scope="session")
def arbiter():
    return _new_account()


@pytest.fixture(scope="session")
def stranger():
    return _new_account()


@pytest.fixture(scope="module")
def stable(deployer):
    return TestStablecoin.deploy({"from": deployer})


@pytest.fixture(scope="module")
def escrow(stable, deployer):
    return MilestoneEscrow.deploy(stable, {"from": deployer})


@dataclass(frozen=True)
class Operators:
    inspector: int
    carrier: int
    customs: int
    arbiter: int


def register_operators(escrow, inspector, carrier, customs, arbiter) -> Operators:
    ids = []
    for name, key in (
        ("Inspector", inspector),
        ("Carrier", carrier),
        ("Customs", customs),
        ("Arbiter", arbiter),
    ):
        tx = escrow.registerOperator(name, f"ipfs://{name.lower()}", key, {"from": key})
        ids.append(tx.events["OperatorRegistered"]["operatorId"])
    return Operators(*ids)


@pytest.fixture(scope="module")
def ops(escrow, inspector, carrier, customs, arbiter) -> Operators:
    return register_operators(escrow, inspector, carrier, customs, arbiter)


def reverts(error: str, *args) -> brownie.test.managers.runner.RevertContextManager:
    """Expect a revert with custom error `error`, and exactly `args` when given."""
    if args:
        # brownie renders addresses in custom errors in lower case, and ints in decimal.
        shown = [str(a).lower() if str(a).startswith("0x") else str(int(a)) for a in args]
        return brownie.reverts(f"{error}: {', '.join(shown)}")
    return brownie.reverts(revert_pattern=rf"{re.escape(error)}(:.*)?")


def now() -> int:
    return chain[-1].timestamp


def milestones(
    amounts: list[int], oracles: list[tuple[int, ...]], quorums: list[int] | None = None
) -> list[Milestone]:
    """Milestones due 10, 20, 30... days from now, requirements hashed from their position."""
    base = now()
    quorums = quorums or [1] * len(amounts)
    return [
        Milestone(
            amount=a,
            due_at=base + (i + 1) * 10 * DAY,
            quorum=q,
            oracles=o,
            requirements_hash=brownie.web3.keccak(text=f"requirements {i}"),
        )
        for i, (a, o, q) in enumerate(zip(amounts, oracles, quorums, strict=True))
    ]


@dataclass
class Deal:
    id: int
    terms: list[Milestone]

    @property
    def total(self) -> int:
        return sum(m.amount for m in self.terms)


@pytest.fixture
def create_deal(escrow, buyer, supplier, ops) -> Callable[..., Deal]:
    """Create a deal (by the supplier unless `by` says otherwise) from `terms`."""

    def create(terms: list[Milestone], by=None, arbiter: int | None = None) -> Deal:
        tx = escrow.createDeal(
            buyer,
            supplier,
            ops.arbiter if arbiter is None else arbiter,
            [m.as_tuple() for m in terms],
            {"from": by or supplier},
        )
        return Deal(tx.events["DealCreated"]["dealId"], terms)

    return create


def fund_fully(escrow, token, buyer, deal_id: int) -> None:
    """Fund a deal to Active, topping up again when a fee-on-transfer token falls short."""
    for _ in range(10):
        remaining = escrow.getDeal(deal_id)["unfunded"]
        if remaining == 0:
            return
        token.mint(buyer, remaining, {"from": buyer})
        token.approve(escrow, remaining, {"from": buyer})
        escrow.fund(deal_id, remaining, {"from": buyer})
    raise AssertionError("deal could not be funded")


@pytest.fixture
def active_deal(escrow, stable, buyer, ops, create_deal) -> Deal:
    """A funded 3-milestone deal: inspector alone; inspector + carrier 2-of-2; customs alone."""
    deal = create_deal(
        milestones(
            [100 * USD, 200 * USD, 300 * USD],
            [(ops.inspector,), (ops.inspector, ops.carrier), (ops.customs,)],
            [1, 2, 1],
        )
    )
    fund_fully(escrow, stable, buyer, deal.id)
    return deal


def sign_offer(escrow, supplier_key, offer: DealOffer) -> bytes:
    message = typed_data.offer_message(chain.id, escrow.address, offer)
    return typed_data.sign(message, supplier_key.private_key).signature


def sign_permit(token, owner, spender, value: int, deadline: int) -> typed_data.Signature:
    message = typed_data.permit_message(
        chain.id,
        token.address,
        token.name(),
        owner.address,
        str(spender),
        value,
        token.nonces(owner),
        deadline,
    )
    return typed_data.sign(message, owner.private_key)


def signed_attestation(
    escrow_contract, key, deal_id: int, index: int, met: bool = True, **overrides
) -> attestations.SignedAttestation:
    """An attestation signed off chain by `key`; overrides change any Attestation field
    (chain_id, escrow, deal_version, deadline, evidence_hash...)."""
    fields = dict(
        chain_id=chain.id,
        escrow=escrow_contract.address,
        deal_id=deal_id,
        milestone=index,
        deal_version=1,
        met=met,
        evidence_hash=brownie.web3.keccak(text=f"evidence {deal_id}/{index}"),
        deadline=now() + DAY,
    )
    fields.update(overrides)
    return attestations.sign(attestations.Attestation(**fields), key.private_key)


HOSTILE_TOKENS = {
    "usd6-permit": TestStablecoin,
    "fee-on-transfer": FeeOnTransferToken,
    "no-return-value": NoReturnToken,
    "false-return": FalseReturnToken,
}


@pytest.fixture(scope="module", params=list(HOSTILE_TOKENS), ids=list(HOSTILE_TOKENS))
def any_token(request, deployer):
    """Each of the tokens the escrow must survive, deployed fresh."""
    return HOSTILE_TOKENS[request.param].deploy({"from": deployer})


@pytest.fixture(scope="module")
def any_escrow(any_token, deployer):
    return MilestoneEscrow.deploy(any_token, {"from": deployer})


@pytest.fixture(scope="module")
def any_ops(any_escrow, inspector, carrier, customs, arbiter) -> Operators:
    return register_operators(any_escrow, inspector, carrier, customs, arbiter)
