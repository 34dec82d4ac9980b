"""Test helpers shared by every test module: amounts, time, deal terms, and the expectation of
custom-error reverts. Signing and deal set-up are the scripts' (scripts/signing.py,
scripts/deals.py), re-exported here for the tests. Fixtures live in conftest.py."""

from __future__ import annotations

import io
import json
import os
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import brownie
from brownie import (
    BlocklistToken,
    FalseReturnToken,
    FeeOnTransferToken,
    NoReturnToken,
    TestStablecoin,
    accounts,
)

from backend import deployments
from backend.deployments import EscrowDeployment
from backend.terms import NO_POLICY, Milestone
from scripts import deals
from scripts.local_chain import DAY, free_ports, now  # noqa: F401 - re-exported for the tests
from scripts.signing import (  # noqa: F401 - re-exported for the tests
    key_consent,
    sign_offer,
    sign_permit,
    signed_attestation,
)

USD = 10**6  # TestStablecoin has 6 decimals
EUR = 10**18  # TestEuro has 18


def new_account():
    """A fresh local key, so that it can sign typed data. It holds no ether: brownie's
    development chain runs with a zero base fee and brownie sends at gas price 0 (and
    module_isolation resets the chain, ether included, at every module)."""
    return accounts.add()


# A test keystore's scrypt work factor: 2**10 instead of eth-account's 2**18, which costs a
# second of CPU and 256 MiB at every decryption, that is at every run of a CLI under test. The
# file is a standard keystore all the same (v3, scrypt), read by the same code as a real one.
TEST_KEYSTORE_SCRYPT_N = 2**10


def keystore_json(private_key, password: str) -> str:
    """`private_key` as an encrypted keystore file's text, cheap to decrypt."""
    from eth_account import Account

    return json.dumps(Account.encrypt(private_key, password, iterations=TEST_KEYSTORE_SCRYPT_N))


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
    """The four operators the tests use, each key registering itself."""
    return Operators(
        *(
            deals.register_operator(escrow, name, key, f"ipfs://{name.lower()}")
            for name, key in (
                ("Inspector", inspector),
                ("Carrier", carrier),
                ("Customs", customs),
                ("Arbiter", arbiter),
            )
        )
    )


def new_operator(escrow, name: str, revoked: bool = False) -> int:
    """Another operator in `escrow`'s registry, its one key (a fresh one) registering itself;
    `revoked`: that key revoked at once, so that it has no live key. Its id."""
    key = new_account()
    tx = escrow.registerOperator(name, f"ipfs://{name}", key, 0, b"", {"from": key})
    operator = tx.events["OperatorRegistered"]["operatorId"]
    if revoked:
        escrow.revokeOperatorKey(operator, key, {"from": key})
    return operator


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


def record_deployments(directory: Path, *escrows) -> Path:
    """A deployments file under `directory` with each (escrow, token) given, by the token's
    symbol (the first one the service's default); its directory."""
    target = directory / "deployments"
    for escrow, token in escrows:
        entry = EscrowDeployment(
            escrow.address, token.address, token.decimals(), escrow.deployed_at_block
        )
        deployments.record(brownie.chain.id, token.symbol(), entry, target)
    return target


def create_deal_on(escrow, buyer, supplier, arbiter: int, terms, policy=NO_POLICY) -> int:
    """Create a deal on `escrow` as its supplier (any escrow: the hostile tokens' too)."""
    return deals.deal_id(deals.create_deal(escrow, buyer, supplier, arbiter, terms, policy))


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


HOSTILE_TOKENS = {
    "usd6-permit": TestStablecoin,
    "fee-on-transfer": FeeOnTransferToken,
    "no-return-value": NoReturnToken,
    "false-return": FalseReturnToken,
    "blocklist": BlocklistToken,
}


@dataclass(frozen=True)
class Ran:
    """What a command printed and the status it exited with (as subprocess.run returns)."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(main, *args, env: dict[str, str] | None = None) -> Ran:
    """A command's `main(argv)` run in this process with `env` added to the environment: what
    `python -m <module>` runs, without an interpreter start per call (2-3 s of imports on this
    machine). An exception main does not turn into an exit status fails the test (a real
    process would print a traceback). Each command file keeps one test that runs it as a real
    process, through its entry point."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), mock.patch.dict(os.environ, env or {}):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's usage errors (2) and --help (0)
            code = exc.code if isinstance(exc.code, int) else 1
    return Ran(code, out.getvalue(), err.getvalue())
