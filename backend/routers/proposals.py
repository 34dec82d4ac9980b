"""/escrows/{escrow}/deals/{deal_id}/proposals (and /deals/{deal_id}/proposals, the default
escrow's, deprecated): change orders and cancellations one party of a deal signed
(EIP-712 `Amendment` / `Cancellation`, docs/typed-data.md), kept for the other party, who
applies them on chain with `amend` / `cancelByAgreement`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Body, HTTPException, Query, Response, status
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.chain import DealParties
from backend.db import Proposal
from backend.deps import EscrowDep, SessionsDep
from backend.escrow import eip712
from backend.escrow.http import AmendmentIn, CancellationIn, SignatureHex, WireModel
from backend.escrow.messages import escrow_message
from backend.escrow.statuses import DealStatus
from backend.escrow.structs import Amendment, Cancellation
from backend.routers._common import UNAVAILABLE, DealId, Route, errors
from backend.routers._escrow import escrow_routers, route
from backend.routers._typed import StoredOut, normalised, typed

routers = escrow_routers("/deals/{deal_id}/proposals", tags=["proposals"], route_class=Route)

Kind = Literal["amendment", "cancellation"]
STRUCT = {"amendment": Amendment, "cancellation": Cancellation}


class AmendmentProposal(WireModel):
    kind: Literal["amendment"]
    message: AmendmentIn
    signature: SignatureHex


class CancellationProposal(WireModel):
    kind: Literal["cancellation"]
    message: CancellationIn
    signature: SignatureHex


ProposalIn = Annotated[AmendmentProposal | CancellationProposal, Field(discriminator="kind")]

Status = Literal["open", "stale", "expired", "revoked"]


class ProposalOut(StoredOut):
    id: int
    escrow: str
    deal_id: int
    kind: Kind
    signer: str
    deal_version: int
    deadline: int
    message: dict  # as signed; uints as decimal strings, bytes32 as lowercase 0x hex
    signature: str
    digest: str
    # open | stale (applied, superseded, or the deal cancelled) | expired | revoked (the signer
    # moved its agreement nonce on with revokeAgreements)
    status: Status


@route(
    routers,
    "POST",
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProposalOut,
    responses={
        200: {"model": ProposalOut, "description": "stored before, by the same signer"},
        **errors(
            {
                400: "message.dealId is not the path's deal, deadline passed, no usable signature",
                403: "signed by neither the buyer nor the supplier of the deal",
                404: "the escrow knows no such deal, or the service no such escrow",
                409: "stale (dealVersion is not the deal's version), revoked (nonce is not the "
                "signer's agreement nonce) or deal cancelled",
                413: "request body too large",
                503: UNAVAILABLE,
            }
        ),
    },
)
def propose(
    deal_id: DealId,
    proposal: Annotated[ProposalIn, Body()],
    chain: EscrowDep,
    sessions: SessionsDep,
    response: Response,
) -> ProposalOut:
    """Store a change order or cancellation signed by the deal's buyer or supplier
    (`message` as passed to eth_signTypedData_v4, in the escrow's domain), after the checks
    the escrow will make when the other party submits it: the deal exists, the deadline has
    not passed (chain time), `dealVersion` is the deal's current version, the signature is
    the buyer's or the supplier's (ECDSA, or EIP-1271 for a contract wallet)."""
    m = proposal.message
    if m.dealId != deal_id:
        raise HTTPException(400, f"message.dealId is {m.dealId}, not this deal ({deal_id})")
    signature = bytes.fromhex(proposal.signature[2:])
    full = escrow_message(STRUCT[proposal.kind], chain.chain_id, chain.escrow_address, typed(m))
    digest = eip712.digest(full)
    digest_hex = "0x" + digest.hex()
    deal = chain.require_deal(deal_id, fresh=True)
    now = chain.block_time()
    with sessions() as db:
        same = db.scalar(
            select(Proposal).where(
                Proposal.digest == digest_hex, Proposal.signature == proposal.signature
            )
        )
    if same is not None:  # handed in before (a retry): its record, as it stands now
        response.status_code = status.HTTP_200_OK
        return ProposalOut.of(same, _status(same, deal, now, _nonces(chain, deal_id, [same])))
    if m.deadline <= now:
        raise HTTPException(400, f"deadline {m.deadline} has passed (chain time {now})")
    if deal.status == DealStatus.CANCELLED:
        raise HTTPException(409, f"deal {deal_id} is cancelled")
    if m.dealVersion != deal.version:
        raise HTTPException(409, f"stale: the deal is at version {deal.version}")
    signer, recovered, problems = eip712.signer_among(
        (deal.buyer, deal.supplier), digest, signature, chain.accepts_signature
    )
    if signer is None:
        if problems:  # not even a usable ECDSA signature, and no contract party accepts it
            raise HTTPException(400, "; ".join(problems))
        raise HTTPException(
            403,
            f"signed by {recovered}, who is neither the buyer ({deal.buyer}) nor the "
            f"supplier ({deal.supplier}) of deal {deal_id}",
        )
    current = chain.agreement_nonce(deal_id, signer)
    if m.nonce != current:
        raise HTTPException(
            409, f"revoked: the signer's agreement nonce for deal {deal_id} is {current}"
        )
    with sessions() as db:
        row = Proposal(
            escrow=chain.escrow_address,
            deal_id=deal_id,
            kind=proposal.kind,
            signer=signer,
            message=normalised(m.model_dump()),
            signature=proposal.signature,
            digest=digest_hex,
            deal_version=m.dealVersion,
            deadline=str(m.deadline),
        )
        db.add(row)
        try:
            db.commit()
        except IntegrityError:  # the same proposal by the same signer (another signature of it)
            db.rollback()
            row = db.scalars(
                select(Proposal).where(Proposal.digest == digest_hex, Proposal.signer == signer)
            ).one()
            response.status_code = status.HTTP_200_OK
    return ProposalOut.of(row, _status(row, deal, now, {signer: current}))


@route(
    routers,
    "GET",
    "",
    response_model=list[ProposalOut],
    responses=errors({404: "no such escrow here", 503: UNAVAILABLE}),
)
def list_proposals(
    deal_id: DealId,
    chain: EscrowDep,
    sessions: SessionsDep,
    kind: Annotated[Kind | None, Query(description="only amendments or cancellations")] = None,
) -> list[ProposalOut]:
    """The deal's stored proposals, newest first, each with its `status` read from the chain
    now: `open` (its dealVersion is the deal's version, the deal is not cancelled, the deadline
    is ahead), `stale` (applied or superseded: the version moved on or the deal was cancelled)
    or `expired`."""
    query = (
        select(Proposal)
        .where(Proposal.escrow == chain.escrow_address, Proposal.deal_id == deal_id)
        .order_by(Proposal.id.desc())
    )
    if kind is not None:
        query = query.where(Proposal.kind == kind)
    with sessions() as db:
        rows = db.scalars(query).all()
    if not rows:
        return []
    deal = chain.deal(deal_id, fresh=True)
    now = chain.block_time()
    nonces = _nonces(chain, deal_id, rows)
    return [ProposalOut.of(r, _status(r, deal, now, nonces)) for r in rows]


def _nonces(chain, deal_id: int, rows) -> dict[str, int]:
    """Each signer's agreement nonce for the deal, read from the chain now."""
    return {signer: chain.agreement_nonce(deal_id, signer) for signer in {r.signer for r in rows}}


def _status(row: Proposal, deal: DealParties | None, now: int, nonces: dict[str, int]) -> Status:
    if deal is None or deal.status == DealStatus.CANCELLED or row.deal_version != deal.version:
        return "stale"
    if int(row.message.get("nonce", 0)) != nonces[row.signer]:
        return "revoked"
    if int(row.deadline) <= now:
        return "expired"
    return "open"
