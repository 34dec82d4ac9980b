"""Creating a deal: who may, what it stores, what it refuses."""

import brownie
import pytest
from helpers import DAY, USD, milestones, now, reverts

from backend.terms import NO_POLICY, DealStatus, Milestone, MilestoneStatus


def test_supplier_proposal_starts_accepted(escrow, ops, create_deal):
    deal = create_deal(milestones([10 * USD], [(ops.inspector,)]))
    assert escrow.getDeal(deal.id)["status"] == DealStatus.ACCEPTED


def test_buyer_proposal_waits_for_the_supplier(escrow, buyer, ops, create_deal):
    deal = create_deal(milestones([10 * USD], [(ops.inspector,)]), by=buyer)
    assert escrow.getDeal(deal.id)["status"] == DealStatus.PROPOSED


def test_deal_stores_parties_total_and_owed_amount(escrow, buyer, supplier, ops, create_deal):
    deal = create_deal(milestones([10 * USD, 15 * USD], [(ops.inspector,), (ops.carrier,)]))
    view = escrow.getDeal(deal.id)
    assert view["buyer"] == buyer
    assert view["supplier"] == supplier
    assert view["arbiter"] == ops.arbiter
    assert view["milestoneCount"] == 2
    assert view["version"] == 1
    assert view["total"] == 25 * USD
    assert view["unfunded"] == 25 * USD


def test_milestone_terms_are_stored(escrow, ops, create_deal):
    terms = milestones([7 * USD], [(ops.inspector, ops.carrier)], [2])
    deal = create_deal(terms)
    m = escrow.getMilestone(deal.id, 0)
    assert m["amount"] == 7 * USD
    assert m["dueAt"] == terms[0].due_at
    assert m["status"] == MilestoneStatus.PENDING
    assert m["quorum"] == 2
    assert tuple(m["oracles"]) == (ops.inspector, ops.carrier, 0)
    assert m["attestations"] == 0


def test_created_event_carries_every_term(escrow, buyer, supplier, ops):
    terms = milestones([5 * USD, 6 * USD], [(ops.inspector,), (ops.inspector, ops.carrier)], [1, 2])
    tx = escrow.createDeal(
        buyer,
        supplier,
        ops.arbiter,
        NO_POLICY.as_tuple(),
        [m.as_tuple() for m in terms],
        {"from": supplier},
    )
    event = tx.events["DealCreated"]
    pairs = zip(event["milestones"], event["requirements"], strict=True)
    decoded = [Milestone.unpack(word, req) for word, req in pairs]
    assert decoded == terms
    assert event["total"] == 11 * USD
    assert event["status"] == DealStatus.ACCEPTED
    assert event["buyer"] == buyer and event["supplier"] == supplier


def test_deal_ids_are_sequential(escrow, ops, create_deal):
    first = create_deal(milestones([USD], [(ops.inspector,)]))
    second = create_deal(milestones([USD], [(ops.inspector,)]))
    assert second.id == first.id + 1
    assert escrow.dealCount() == second.id


def test_stranger_cannot_create_for_others(escrow, buyer, supplier, stranger, ops):
    terms = [m.as_tuple() for m in milestones([USD], [(ops.inspector,)])]
    with reverts("NotDealParty"):
        escrow.createDeal(
            buyer, supplier, ops.arbiter, NO_POLICY.as_tuple(), terms, {"from": stranger}
        )


@pytest.mark.parametrize("case", ["same", "zero-buyer", "zero-supplier"])
def test_parties_must_be_two_real_addresses(escrow, buyer, supplier, ops, case):
    terms = [m.as_tuple() for m in milestones([USD], [(ops.inspector,)])]
    zero = brownie.ZERO_ADDRESS
    b, s = {
        "same": (supplier, supplier),
        "zero-buyer": (zero, supplier),
        "zero-supplier": (buyer, zero),
    }[case]
    creator = buyer if case == "zero-supplier" else supplier
    with reverts("InvalidParties"):
        escrow.createDeal(b, s, ops.arbiter, NO_POLICY.as_tuple(), terms, {"from": creator})


def test_a_deal_needs_milestones(escrow, buyer, supplier, ops):
    with reverts("MilestoneCountOutOfRange", 0, 64):
        escrow.createDeal(
            buyer, supplier, ops.arbiter, NO_POLICY.as_tuple(), [], {"from": supplier}
        )


def test_at_most_64_milestones(escrow, buyer, supplier, ops):
    terms = [m.as_tuple() for m in milestones([USD] * 65, [(ops.inspector,)] * 65)]
    with reverts("MilestoneCountOutOfRange", 65, 64):
        escrow.createDeal(
            buyer, supplier, ops.arbiter, NO_POLICY.as_tuple(), terms, {"from": supplier}
        )


def test_zero_amount_is_refused(escrow, ops, create_deal):
    with reverts("ZeroAmount", 1):
        create_deal(milestones([USD, 0], [(ops.inspector,)] * 2))


def test_due_date_must_be_in_the_future(escrow, ops, create_deal):
    past = Milestone(USD, now() - DAY, 1, (ops.inspector,))
    with reverts("DueDateNotInFuture"):
        create_deal([past])


@pytest.mark.parametrize("quorum", [0, 3])
def test_quorum_must_fit_the_oracles(escrow, ops, create_deal, quorum):
    with reverts("InvalidQuorum", 0, quorum, 2):
        create_deal(milestones([USD], [(ops.inspector, ops.carrier)], [quorum]))


@pytest.mark.parametrize(
    "slots",
    [[0, 1, 0], [1, 0, 2], [1, 1, 0], [1, 2, 1], [1, 2, 2]],
    ids=["empty-first", "gap", "dup-ab", "dup-ac", "dup-bc"],
)
def test_oracle_list_must_be_packed_and_distinct(escrow, buyer, supplier, ops, slots):
    m = (USD, now() + DAY, 1, slots, b"\x00" * 32)
    with reverts("InvalidOracleList", 0):
        escrow.createDeal(
            buyer, supplier, ops.arbiter, NO_POLICY.as_tuple(), [m], {"from": supplier}
        )


def test_oracles_must_be_registered(escrow, ops, create_deal):
    unknown = escrow.operatorCount() + 1
    with reverts("UnknownOperator", unknown):
        create_deal(milestones([USD], [(ops.inspector, unknown)]))


def test_arbiter_must_be_registered(escrow, ops, create_deal):
    with reverts("UnknownOperator", 0):
        create_deal(milestones([USD], [(ops.inspector,)]), arbiter=0)


def test_total_must_fit_96_bits(escrow, ops, create_deal):
    half = 2**95
    with reverts("TotalTooLarge"):
        create_deal(milestones([half, half], [(ops.inspector,)] * 2))
