"""Test helpers shared by every test module: amounts, time, deal terms, signing, and the
expectation of custom-error reverts. Fixtures live in conftest.py."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

import brownie
from brownie import (
    BlocklistToken,
    FalseReturnToken,
    FeeOnTransferToken,
    NoReturnToken,
    TestStablecoin,
    accounts,
    chain,
)

from backend import attestations, typed_data
from backend.terms import NO_POLICY, DealOffer, Milestone

DAY = 86_400


USD = 10**6  # TestStablecoin has 6 decimals


def new_account():
    """A fresh local key, so that it can sign typed data. It holds no ether: brownie's
    development chain runs with a zero base fee and brownie sends at gas price 0 (and
    module_isolation resets the chain, ether included, at every module)."""
    return accounts.add()


def give_ether(account, amount: str = "1 ether") -> None:
    """For transactions sent outside brownie (web3 prices gas above zero)."""
    accounts[0].transfer(account, amount)


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
        tx = escrow.registerOperator(name, f"ipfs://{name.lower()}", key, 0, b"", {"from": key})
        ids.append(tx.events["OperatorRegistered"]["operatorId"])
    return Operators(*ids)


def reverts(error: str, *args) -> brownie.test.managers.runner.RevertContextManager:
    """Expect a revert with custom error `error`, and exactly `args` when given."""
    if args:
        # brownie renders addresses in custom errors in lower case, and ints in decimal.
        shown = [_shown(a) for a in args]
        return brownie.reverts(f"{error}: {', '.join(shown)}")
    return brownie.reverts(revert_pattern=rf"{re.escape(error)}(:.*)?")


def _shown(arg) -> str:
    """An argument of a custom error as brownie renders it in the revert message."""
    if isinstance(arg, bytes):
        return repr(bytes(arg))
    return str(arg).lower() if str(arg).startswith("0x") else str(int(arg))


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


def create_deal_on(escrow, buyer, supplier, arbiter: int, terms, policy=NO_POLICY) -> int:
    """Create a deal on `escrow` as its supplier (any escrow: the hostile tokens' too)."""
    tx = escrow.createDeal(
        buyer,
        supplier,
        arbiter,
        policy.as_tuple(),
        [m.as_tuple() for m in terms],
        {"from": supplier},
    )
    return tx.events["DealCreated"]["dealId"]


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


def key_consent(escrow, admin, key, signer=None, deadline: int | None = None) -> tuple[int, bytes]:
    """(deadline, signature): `key`'s consent to serve operators administered by `admin`, for
    registerOperator / addOperatorKey. `signer` signs for a contract key (its owner)."""
    deadline = now() + DAY if deadline is None else deadline
    message = typed_data.key_consent_message(
        chain.id, escrow.address, str(admin), str(key), deadline
    )
    return deadline, typed_data.sign(message, (signer or key).private_key).signature


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
    "blocklist": BlocklistToken,
}


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
