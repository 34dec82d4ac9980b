"""The escrow's life cycle on tokens that break ERC-20 expectations.

Each test runs once per token in conftest.HOSTILE_TOKENS: a 6-decimal permit stablecoin, a
fee-on-transfer token, a token with no return values, and one that returns false on failure.
"""

import brownie
import pytest
from helpers import create_deal_on, fund_fully, milestones, reverts

from backend.terms import DealStatus, MilestoneStatus
from scripts.deploy import deploy_escrow

EVIDENCE = brownie.web3.keccak(text="certificate")
UNIT = 10**6


@pytest.fixture
def funded(any_escrow, any_token, any_ops, buyer, supplier):
    """A fully funded two-milestone deal on the token under test, and what it was credited."""
    terms = milestones([300 * UNIT, 700 * UNIT], [(any_ops.inspector,)] * 2)
    deal_id = create_deal_on(any_escrow, buyer, supplier, any_ops.arbiter, terms)
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
    deal_id = create_deal_on(any_escrow, buyer, supplier, any_ops.arbiter, terms)
    any_token.approve(any_escrow, 5 * UNIT, {"from": buyer})  # approved, but no balance
    with brownie.reverts():
        any_escrow.fund(deal_id, 5 * UNIT, {"from": buyer})
    assert any_escrow.getDeal(deal_id)["unfunded"] == 5 * UNIT
    assert any_token.balanceOf(any_escrow) == 0


def test_fee_on_transfer_cannot_overcredit(any_escrow, any_token, any_ops, buyer, supplier):
    terms = milestones([100 * UNIT], [(any_ops.inspector,)])
    deal_id = create_deal_on(any_escrow, buyer, supplier, any_ops.arbiter, terms)
    any_token.mint(buyer, 100 * UNIT, {"from": buyer})
    any_token.approve(any_escrow, 100 * UNIT, {"from": buyer})
    tx = any_escrow.fund(deal_id, 100 * UNIT, {"from": buyer})
    credited = tx.events["DealFunded"]["credited"]
    assert credited == any_token.balanceOf(any_escrow)
    assert any_escrow.getDeal(deal_id)["unfunded"] == 100 * UNIT - credited


def test_false_return_on_payout_defers_the_payment(
    inspector, carrier, customs, arbiter, buyer, supplier, deployer
):
    """A token that reports a failed payout by returning false (the escrow's balance was
    seized behind its back, say) must not count as paid: the amount is owed to the supplier,
    who can withdraw it once the token lets it; a withdrawal that fails changes nothing."""
    from brownie import FalseReturnToken
    from helpers import register_operators

    token = FalseReturnToken.deploy({"from": deployer})
    escrow = deploy_escrow(token, deployer)
    ops = register_operators(escrow, inspector, carrier, customs, arbiter)
    terms = milestones([5 * UNIT], [(ops.inspector,)])
    deal_id = create_deal_on(escrow, buyer, supplier, ops.arbiter, terms)
    fund_fully(escrow, token, buyer, deal_id)
    brownie.web3.provider.make_request(
        "anvil_setStorageAt", [token.address, _balance_slot(escrow.address), "0x" + "00" * 32]
    )
    assert token.balanceOf(escrow) == 0
    tx = escrow.attest(deal_id, 0, EVIDENCE, {"from": inspector})
    assert tx.events["PaymentDeferred"]["account"] == supplier
    assert escrow.getMilestone(deal_id, 0)["status"] == MilestoneStatus.RELEASED
    assert escrow.owed(supplier) == 5 * UNIT
    assert token.balanceOf(supplier) == 0
    with reverts("SafeERC20FailedOperation"):
        escrow.withdraw(supplier, {"from": supplier})
    assert escrow.owed(supplier) == 5 * UNIT
    token.mint(escrow, 5 * UNIT, {"from": deployer})  # the balance comes back
    escrow.withdraw(supplier, {"from": supplier})
    assert (escrow.owed(supplier), token.balanceOf(supplier)) == (0, 5 * UNIT)


def _balance_slot(holder: str) -> str:
    """Storage slot of balanceOf[holder] in LedgerToken (the mapping sits at slot 3)."""
    key = bytes.fromhex(holder[2:]).rjust(32, b"\x00") + (3).to_bytes(32, "big")
    return "0x" + brownie.web3.keccak(key).hex().removeprefix("0x")


def test_blocklisted_supplier_does_not_stop_the_other_milestones(
    inspector, carrier, customs, arbiter, buyer, supplier, stranger, deployer
):
    """A USDC-like denylist blocks transfers to the supplier: its releases are kept for it
    (PaymentDeferred) instead of reverting, the deal goes on, the buyer's refund goes through,
    and the supplier withdraws what it is owed to another address it controls."""
    from brownie import BlocklistToken
    from helpers import DAY, register_operators

    token = BlocklistToken.deploy({"from": deployer})
    escrow = deploy_escrow(token, deployer)
    ops = register_operators(escrow, inspector, carrier, customs, arbiter)
    terms = milestones([10 * UNIT, 20 * UNIT, 30 * UNIT], [(ops.inspector,)] * 3)
    deal_id = create_deal_on(escrow, buyer, supplier, ops.arbiter, terms)
    fund_fully(escrow, token, buyer, deal_id)
    token.blacklist(supplier, {"from": stranger})

    escrow.attest(deal_id, 0, EVIDENCE, {"from": inspector})
    tx = escrow.attest(deal_id, 1, EVIDENCE, {"from": inspector})
    assert tx.events["PaymentDeferred"]["amount"] == 20 * UNIT
    assert [escrow.getMilestone(deal_id, i)["status"] for i in (0, 1)] == [
        MilestoneStatus.RELEASED
    ] * 2
    assert escrow.owed(supplier) == 30 * UNIT
    brownie.chain.sleep(31 * DAY)
    escrow.refund(deal_id, 2, {"from": buyer})
    assert token.balanceOf(buyer) == 30 * UNIT

    with reverts("Blacklistable: account is blacklisted"):
        escrow.withdraw(supplier, {"from": supplier})
    assert escrow.owed(supplier) == 30 * UNIT
    tx = escrow.withdraw(stranger, {"from": supplier})
    assert tx.events["Withdrawn"]["amount"] == 30 * UNIT
    assert (escrow.owed(supplier), token.balanceOf(stranger)) == (0, 30 * UNIT)
    assert token.balanceOf(escrow) == 0
    with reverts("NothingToWithdraw"):
        escrow.withdraw(stranger, {"from": supplier})


def test_a_token_that_delivers_less_than_asked_still_completes_a_deal(
    inspector, carrier, customs, arbiter, buyer, supplier, deployer
):
    """A token that keeps 1 wei of every transfer: asking for exactly what is owed never
    delivers it all, so before the fix the deal could never become Active. Now the buyer asks
    for a little more; the escrow credits what the deal needs and pays the rest back, and the
    buyer is out only what the token took."""
    from brownie import FixedFeeToken
    from helpers import register_operators

    token = FixedFeeToken.deploy({"from": deployer})
    escrow = deploy_escrow(token, deployer)
    ops = register_operators(escrow, inspector, carrier, customs, arbiter)
    terms = milestones([300 * UNIT, 700 * UNIT], [(ops.inspector,)] * 2)
    deal_id = create_deal_on(escrow, buyer, supplier, ops.arbiter, terms)
    token.mint(buyer, 1000 * UNIT + 5, {"from": buyer})
    token.approve(escrow, 1000 * UNIT + 5, {"from": buyer})
    tx = escrow.fund(deal_id, 1000 * UNIT, {"from": buyer})  # 1 wei short
    assert tx.events["DealFunded"]["remaining"] == 1
    tx = escrow.fund(deal_id, 3, {"from": buyer})  # 2 arrive, 1 is needed, 1 is sent back
    assert tx.events["DealFunded"]["credited"] == 1
    assert escrow.getDeal(deal_id)["status"] == DealStatus.ACTIVE
    assert token.balanceOf(escrow) == 1000 * UNIT
    # The buyer sent 1000 UNIT + 3 and got nothing back: of the 1 wei returned, the token
    # kept 1. Beyond the deal's total it lost 3 wei, the token's fee on three transfers.
    assert token.balanceOf(buyer) == 2
    escrow.attest(deal_id, 1, EVIDENCE, {"from": inspector})
    assert token.balanceOf(escrow) == 300 * UNIT


def test_withdrawals_to_nowhere_are_refused(
    inspector, carrier, customs, arbiter, buyer, supplier, stranger, deployer
):
    """withdraw(to = 0) and withdraw(to = the escrow) were accepted and the credit was lost
    for good; now they are refused and the credit stays owed."""
    from brownie import BlocklistToken
    from helpers import register_operators

    token = BlocklistToken.deploy({"from": deployer})
    escrow = deploy_escrow(token, deployer)
    ops = register_operators(escrow, inspector, carrier, customs, arbiter)
    deal_id = create_deal_on(
        escrow, buyer, supplier, ops.arbiter, milestones([10 * UNIT], [(ops.inspector,)])
    )
    fund_fully(escrow, token, buyer, deal_id)
    token.blacklist(supplier, {"from": stranger})
    escrow.attest(deal_id, 0, EVIDENCE, {"from": inspector})
    assert escrow.owed(supplier) == 10 * UNIT
    for to in (brownie.ZERO_ADDRESS, escrow.address):
        with reverts("InvalidRecipient", to):
            escrow.withdraw(to, {"from": supplier})
    assert escrow.owed(supplier) == 10 * UNIT
    assert token.balanceOf(escrow) == 10 * UNIT
