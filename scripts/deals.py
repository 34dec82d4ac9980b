"""Operators and deals set up on an escrow through brownie, as its parties do: an oracle or
arbiter registering, a supplier creating a deal, a buyer accepting a signed offer and funding
it with a permit in one transaction. One place for the scripts and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable

from backend.terms import NO_POLICY, DealOffer, Milestone, Policy
from scripts.brownie_types import Addressed, Contract, LocalKey, PermitToken, Receipt
from scripts.local_chain import DAY, now
from scripts.signing import key_consent, sign_offer, sign_permit


def register_operator(
    escrow: Contract,
    name: str,
    key: Addressed,
    uri: str = "",
    admin: Addressed | None = None,
    silent: bool = False,
) -> int:
    """Register an operator (an oracle or an arbiter) whose signing key is `key`; returns its
    id. By default the key registers itself and is its own admin; with `admin`, the admin sends
    the registration with the key's signed consent (`key` must then be a local key)."""
    if admin is None or admin.address == key.address:
        tx = escrow.registerOperator(name, uri, key, 0, b"", {"from": key}, silent=silent)
    else:
        deadline, consent = key_consent(escrow, admin, key)
        tx = escrow.registerOperator(
            name, uri, key, deadline, consent, {"from": admin}, silent=silent
        )
    return int(tx.events["OperatorRegistered"]["operatorId"])


def create_deal(
    escrow: Contract,
    buyer: Addressed,
    supplier: Addressed,
    arbiter: int,
    terms: Iterable[Milestone],
    policy: Policy = NO_POLICY,
    by: Addressed | None = None,
    silent: bool = False,
) -> Receipt:
    """createDeal, sent by the supplier unless `by` says otherwise; returns the receipt
    (deal_id() reads the new deal's id from it)."""
    return escrow.createDeal(
        buyer,
        supplier,
        arbiter,
        policy.as_tuple(),
        [m.as_tuple() for m in terms],
        {"from": by or supplier},
        silent=silent,
    )


def deal_id(tx: Receipt) -> int:
    """The id of the deal a createDeal / acceptOffer transaction created."""
    return int(tx.events["DealCreated"]["dealId"])


def accept_with_permit(
    escrow: Contract,
    token: PermitToken,
    offer: DealOffer,
    supplier: LocalKey,
    buyer: LocalKey,
    deadline: int | None = None,
    silent: bool = False,
) -> Receipt:
    """The supplier signs `offer`; the buyer accepts it and pays its total in one transaction,
    the token's permit (valid until `deadline`, a day from now unless given) standing in for
    an approval."""
    deadline = now() + DAY if deadline is None else deadline
    signature = sign_offer(escrow, supplier, offer)
    permit = sign_permit(token, buyer, escrow, offer.total, deadline)
    return escrow.acceptOfferWithPermit(
        offer.as_tuple(),
        signature,
        offer.total,
        deadline,
        *permit.vrs,
        {"from": buyer},
        silent=silent,
    )
