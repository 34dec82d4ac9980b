"""Re-entry from a token's transfer hook, into both halves of the escrow.

The token calls back into the escrow from inside every transfer the escrow makes or asks for
(as an ERC-777 / ERC-1363 hook lets a recipient do). Every entry point that moves tokens is
guarded by one transient lock in the escrow's own context, which the extension shares through
delegatecall: the call from the hook must fail with ReentrancyGuardReentrantCall, whichever
half it enters and whichever half the outer call runs in, and the outer call must go through
with exact balances. (slither cannot check this: see tools/slither.sh.)
"""

import brownie
import pytest
from helpers import DAY, create_deal_on, milestones, now, register_operators

from backend import typed_data
from backend.terms import Cancellation, DealStatus, MilestoneStatus, Policy
from scripts.deploy import deploy_escrow

EVIDENCE = brownie.web3.keccak(text="inspection report")
UNIT = 10**6
GUARD_ERROR = brownie.web3.keccak(text="ReentrancyGuardReentrantCall()")[:4]


@pytest.fixture
def hooked(deployer, inspector, carrier, customs, arbiter):
    from brownie import ReentrantToken

    token = ReentrantToken.deploy({"from": deployer})
    escrow = deploy_escrow(token, deployer)
    ops = register_operators(escrow, inspector, carrier, customs, arbiter)
    return token, escrow, ops


def _deal(hooked, buyer, supplier, amounts, policy=None):
    token, escrow, ops = hooked
    terms = milestones(amounts, [(ops.inspector,)] * len(amounts))
    kwargs = {"policy": policy} if policy else {}
    deal_id = create_deal_on(escrow, buyer, supplier, ops.arbiter, terms, **kwargs)
    total = sum(amounts)
    token.mint(buyer, total, {"from": buyer})
    token.approve(escrow, total, {"from": buyer})
    return deal_id, total


def _arm(token, escrow, call: str, *args) -> int:
    """From now on every transfer first calls `escrow.<call>(*args)` from the token. Returns
    how many call-backs had been refused before."""
    data = getattr(escrow, call).encode_input(*args)
    token.arm(escrow, data, {"from": brownie.accounts[0]})
    return token.refused()


def _refused(token, before: int) -> None:
    """Every call-back since arming was refused by the guard (at least one was made); then
    disarm."""
    reentered, refused, last = token.hookStats()
    assert reentered == 0
    assert refused > before
    assert bytes(last)[:4] == GUARD_ERROR
    token.arm(brownie.ZERO_ADDRESS, b"", {"from": brownie.accounts[0]})


# Re-entry targets: a guarded function of each half (the arguments never matter: the guard is
# the first thing either runs).
INTO_CORE = ("refund", 1, 0)
INTO_EXTENSION = ("withdraw", "0x000000000000000000000000000000000000dEaD")


@pytest.mark.parametrize("target", [INTO_CORE, INTO_EXTENSION], ids=["into-core", "into-extension"])
def test_funding_cannot_be_reentered(hooked, buyer, supplier, target):
    token, escrow, _ = hooked
    deal_id, total = _deal(hooked, buyer, supplier, [300 * UNIT, 700 * UNIT])
    before = _arm(token, escrow, *target)
    escrow.fund(deal_id, total, {"from": buyer})
    _refused(token, before)
    assert escrow.getDeal(deal_id)["status"] == DealStatus.ACTIVE
    assert token.balanceOf(escrow) == total


@pytest.mark.parametrize("target", [INTO_CORE, INTO_EXTENSION], ids=["into-core", "into-extension"])
def test_a_release_cannot_be_reentered(hooked, buyer, supplier, inspector, target):
    token, escrow, _ = hooked
    deal_id, total = _deal(hooked, buyer, supplier, [300 * UNIT, 700 * UNIT])
    escrow.fund(deal_id, total, {"from": buyer})
    before = _arm(token, escrow, *target)
    escrow.attest(deal_id, 1, EVIDENCE, {"from": inspector})
    _refused(token, before)
    assert token.balanceOf(supplier) == 700 * UNIT
    assert token.balanceOf(escrow) == 300 * UNIT


def test_a_refund_cannot_be_reentered(hooked, buyer, supplier):
    token, escrow, _ = hooked
    deal_id, total = _deal(hooked, buyer, supplier, [300 * UNIT])
    escrow.fund(deal_id, total, {"from": buyer})
    brownie.chain.sleep(11 * DAY)
    before = _arm(token, escrow, "fund", deal_id, 1)
    escrow.refund(deal_id, 0, {"from": buyer})
    _refused(token, before)
    assert token.balanceOf(buyer) == 300 * UNIT
    assert token.balanceOf(escrow) == 0


def test_the_extensions_payouts_cannot_be_reentered(hooked, buyer, supplier, inspector, arbiter):
    """Examination, dispute and ruling, retention, cancellation by agreement: each payout of
    the extension's, re-entered into the hot path."""
    token, escrow, _ = hooked
    policy = Policy(examination_window=2 * DAY, warranty_period=5 * DAY, retention_bps=1_000)
    deal_id, total = _deal(hooked, buyer, supplier, [100 * UNIT] * 4, policy)
    escrow.fund(deal_id, total, {"from": buyer})
    for index in range(3):
        escrow.attest(deal_id, index, EVIDENCE, {"from": inspector})  # Examining

    before = _arm(token, escrow, *INTO_CORE)
    escrow.waiveExamination(deal_id, 0, {"from": buyer})  # 90 paid, 10 held back
    _refused(token, before)
    escrow.openDispute(deal_id, 1, {"from": buyer})
    before = _arm(token, escrow, *INTO_CORE)
    escrow.rule(deal_id, 1, 60 * UNIT, {"from": arbiter})  # 60 / 40
    _refused(token, before)
    brownie.chain.sleep(2 * DAY + 1)
    before = _arm(token, escrow, *INTO_CORE)
    escrow.release(deal_id, 2, {"from": buyer})  # 90 paid, 10 held back
    _refused(token, before)
    brownie.chain.sleep(5 * DAY + 1)
    brownie.chain.mine()
    before = _arm(token, escrow, *INTO_CORE)
    escrow.releaseRetention(deal_id, 0, {"from": buyer})
    _refused(token, before)
    assert token.balanceOf(supplier) == (90 + 60 + 90 + 10) * UNIT

    # Left: M2's holdback (10) and M3 (100).
    held = escrow.heldFor(deal_id)
    assert held == 110 * UNIT
    c = Cancellation(deal_id, 1, 50 * UNIT, held - 50 * UNIT, deadline=now() + DAY)
    message = typed_data.cancellation_message(brownie.chain.id, escrow.address, c)
    signature = typed_data.sign(message, supplier.private_key).signature
    before = _arm(token, escrow, *INTO_CORE)
    escrow.cancelByAgreement(c.as_tuple(), signature, {"from": buyer})
    _refused(token, before)
    assert token.balanceOf(supplier) == 300 * UNIT
    assert token.balanceOf(buyer) == (40 + 60) * UNIT
    assert token.balanceOf(escrow) == 0
    assert escrow.getMilestone(deal_id, 3)["status"] == MilestoneStatus.SETTLED
