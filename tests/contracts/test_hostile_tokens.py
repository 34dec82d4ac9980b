"""The escrow's life cycle on tokens that break ERC-20 expectations.

Each test runs once per token in conftest.HOSTILE_TOKENS: a 6-decimal permit stablecoin, a
fee-on-transfer token, a token with no return values, and one that returns false on failure.
"""

import brownie
import pytest
from helpers import fund_fully, milestones, reverts

from backend.terms import DealStatus, MilestoneStatus

EVIDENCE = brownie.web3.keccak(text="certificate")
UNIT = 10**6


@pytest.fixture
def funded(any_escrow, any_token, any_ops, buyer, supplier):
    """A fully funded two-milestone deal on the token under test, and what it was credited."""
    terms = milestones([300 * UNIT, 700 * UNIT], [(any_ops.inspector,)] * 2)
    tx = any_escrow.createDeal(
        buyer, supplier, any_ops.arbiter, [m.as_tuple() for m in terms], {"from": supplier}
    )
    deal_id = tx.events["DealCreated"]["dealId"]
    fund_fully(any_escrow, any_token, buyer, deal_id)
    return deal_id


def test_escrow_holds_exactly_the_deal_total(any_escrow, any_token, funded):
    # Fee-on-transfer deposits are topped up until the credited sum reaches the total.
    assert any_escrow.getDeal(funded)["status"] == DealStatus.ACTIVE
    assert any_token.balanceOf(any_escrow) == 1000 * UNIT


def test_release_pays_supplier_and_keeps_accounts_exact(
    any_escrow, any_token, supplier, inspector, funded
):
    fee = 1 if any_token._name == "FeeOnTransferToken" else 0
    any_escrow.attest(funded, 1, EVIDENCE, {"from": inspector})
    assert any_token.balanceOf(supplier) == 700 * UNIT * (100 - fee) // 100
    assert any_token.balanceOf(any_escrow) == 300 * UNIT


def test_refund_returns_the_milestone_to_the_buyer(any_escrow, any_token, buyer, funded):
    before = any_token.balanceOf(buyer)
    due = any_escrow.getMilestone(funded, 0)["dueAt"]
    brownie.chain.sleep(due - brownie.chain[-1].timestamp + 1)
    brownie.chain.mine()
    any_escrow.refund(funded, 0, {"from": buyer})
    assert any_token.balanceOf(buyer) > before
    assert any_token.balanceOf(any_escrow) == 700 * UNIT


def test_failed_deposit_changes_nothing(any_escrow, any_token, any_ops, buyer, supplier):
    terms = milestones([5 * UNIT], [(any_ops.inspector,)])
    tx = any_escrow.createDeal(
        buyer, supplier, any_ops.arbiter, [m.as_tuple() for m in terms], {"from": supplier}
    )
    deal_id = tx.events["DealCreated"]["dealId"]
    any_token.approve(any_escrow, 5 * UNIT, {"from": buyer})  # approved, but no balance
    with brownie.reverts():
        any_escrow.fund(deal_id, 5 * UNIT, {"from": buyer})
    assert any_escrow.getDeal(deal_id)["unfunded"] == 5 * UNIT
    assert any_token.balanceOf(any_escrow) == 0


def test_fee_on_transfer_cannot_overcredit(any_escrow, any_token, any_ops, buyer, supplier):
    terms = milestones([100 * UNIT], [(any_ops.inspector,)])
    tx = any_escrow.createDeal(
        buyer, supplier, any_ops.arbiter, [m.as_tuple() for m in terms], {"from": supplier}
    )
    deal_id = tx.events["DealCreated"]["dealId"]
    any_token.mint(buyer, 100 * UNIT, {"from": buyer})
    any_token.approve(any_escrow, 100 * UNIT, {"from": buyer})
    tx = any_escrow.fund(deal_id, 100 * UNIT, {"from": buyer})
    credited = tx.events["DealFunded"]["credited"]
    assert credited == any_token.balanceOf(any_escrow)
    assert any_escrow.getDeal(deal_id)["unfunded"] == 100 * UNIT - credited


def test_false_return_on_payout_reverts_the_release(
    inspector, carrier, customs, arbiter, buyer, supplier, deployer
):
    """A token that reports a failed payout by returning false (the escrow's balance was
    seized behind its back, say) must leave the milestone Pending, not marked paid."""
    from brownie import FalseReturnToken, MilestoneEscrow
    from helpers import register_operators

    token = FalseReturnToken.deploy({"from": deployer})
    escrow = MilestoneEscrow.deploy(token, {"from": deployer})
    ops = register_operators(escrow, inspector, carrier, customs, arbiter)
    terms = milestones([5 * UNIT], [(ops.inspector,)])
    tx = escrow.createDeal(
        buyer, supplier, ops.arbiter, [m.as_tuple() for m in terms], {"from": supplier}
    )
    deal_id = tx.events["DealCreated"]["dealId"]
    fund_fully(escrow, token, buyer, deal_id)
    brownie.web3.provider.make_request(
        "anvil_setStorageAt", [token.address, _balance_slot(escrow.address), "0x" + "00" * 32]
    )
    assert token.balanceOf(escrow) == 0
    with reverts("SafeERC20FailedOperation"):
        escrow.attest(deal_id, 0, EVIDENCE, {"from": inspector})
    assert escrow.getMilestone(deal_id, 0)["status"] == MilestoneStatus.PENDING


def _balance_slot(holder: str) -> str:
    """Storage slot of balanceOf[holder] in LedgerToken (the mapping sits at slot 3)."""
    key = bytes.fromhex(holder[2:]).rjust(32, b"\x00") + (3).to_bytes(32, "big")
    return "0x" + brownie.web3.keccak(key).hex().removeprefix("0x")
