"""/escrows/{escrow}/deals: the deal index built by backend/indexer.py from each escrow's
events (and /deals, the default escrow's, deprecated: backend/routers/_escrow.py)."""

from __future__ import annotations

from typing import Annotated

from eth_utils import is_address, to_checksum_address
from fastapi import HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import or_, select

from backend.db import ChainEvent, DealRow, Evidence, MilestoneRow, VerdictRow
from backend.deps import DbDep, EscrowDep
from backend.evidence.cid import raw_cid_of_sha256
from backend.routers._common import DealId, Route, errors
from backend.routers._escrow import escrow_routers, route
from backend.routers.evidence import EvidenceMeta

routers = escrow_routers("/deals", tags=["deals"], route_class=Route)


class VerdictOut(BaseModel):
    operator_id: int
    signer: str
    met: bool
    evidence_sha256: str
    evidence_cid: str | None  # known to this service, or the raw CID a < 256 KiB document has
    evidence_url: str | None  # set when this service holds the document
    block: int
    tx_hash: str


class MilestoneOut(BaseModel):
    index: int
    amount: str
    due_at: int
    quorum: int
    oracles: list[int]
    requirements_hash: str
    status: str
    verdicts: list[VerdictOut]


class DealSummary(BaseModel):
    escrow: str
    deal_id: int
    buyer: str
    supplier: str
    arbiter: int
    status: str
    total: str
    funded: str
    released: str
    refunded: str


class DealOut(DealSummary):
    milestones: list[MilestoneOut]
    history: list[dict]


@route(
    routers,
    "GET",
    "",
    response_model=list[DealSummary],
    responses=errors({400: "party is not an address", 404: "no such escrow here"}),
)
def list_deals(
    chain: EscrowDep,
    db: DbDep,
    party: Annotated[str | None, Query(description="buyer or supplier address")] = None,
) -> list[DealSummary]:
    """The escrow's indexed deals, newest first; `party` keeps those where it is buyer or
    supplier."""
    query = (
        select(DealRow)
        .where(DealRow.escrow == chain.escrow_address)
        .order_by(DealRow.deal_id.desc())
    )
    if party is not None:
        if not is_address(party):
            raise HTTPException(400, "party must be an address")
        party = to_checksum_address(party)
        query = query.where(or_(DealRow.buyer == party, DealRow.supplier == party))
    return [_summary(d) for d in db.scalars(query)]


@route(
    routers,
    "GET",
    "/{deal_id}",
    response_model=DealOut,
    responses=errors({404: "not indexed: unknown, or not confirmed yet; or no such escrow"}),
)
def get_deal(chain: EscrowDep, deal_id: DealId, db: DbDep) -> DealOut:
    """One deal: amounts funded / released / refunded, each milestone with its verdicts and
    links to their evidence, and the deal's whole event history."""
    escrow = chain.escrow_address
    deal = db.get(DealRow, (escrow, deal_id))
    if deal is None:
        raise HTTPException(
            404, f"deal {deal_id} of {escrow} is not indexed (unknown or not confirmed yet)"
        )
    verdicts = db.scalars(
        select(VerdictRow).where(VerdictRow.escrow == escrow, VerdictRow.deal_id == deal_id)
    ).all()
    known = {
        e.sha256: e.cid
        for e in db.scalars(
            select(Evidence).where(Evidence.sha256.in_({v.evidence_sha256 for v in verdicts}))
        )
    }
    milestones = [
        MilestoneOut(
            index=m.index,
            amount=m.amount,
            due_at=m.due_at,
            quorum=m.quorum,
            oracles=m.oracles,
            requirements_hash=m.requirements_hash,
            status=m.status,
            verdicts=[verdict_out(v, known) for v in verdicts if v.index == m.index],
        )
        for m in db.scalars(
            select(MilestoneRow)
            .where(MilestoneRow.escrow == escrow, MilestoneRow.deal_id == deal_id)
            .order_by(MilestoneRow.index)
        )
    ]
    history = [
        {"block": e.block, "tx_hash": e.tx_hash, "event": e.name, "args": e.args}
        for e in db.scalars(
            select(ChainEvent)
            .where(ChainEvent.escrow == escrow, ChainEvent.deal_id == deal_id)
            .order_by(ChainEvent.block, ChainEvent.log_index)
        )
    ]
    return DealOut(**_summary(deal).model_dump(), milestones=milestones, history=history)


def _summary(d: DealRow) -> DealSummary:
    return DealSummary(
        escrow=d.escrow,
        deal_id=d.deal_id,
        buyer=d.buyer,
        supplier=d.supplier,
        arbiter=d.arbiter,
        status=d.status,
        total=d.total,
        funded=d.funded,
        released=d.released,
        refunded=d.refunded,
    )


def verdict_out(v: VerdictRow, known: dict[str, str]) -> VerdictOut:
    cid = known.get(v.evidence_sha256)
    return VerdictOut(
        operator_id=v.operator_id,
        signer=v.signer,
        met=v.met,
        evidence_sha256=v.evidence_sha256,
        evidence_cid=cid or raw_cid_of_sha256(bytes.fromhex(v.evidence_sha256)),
        evidence_url=f"/evidence/{cid}" if cid else None,
        block=v.block,
        tx_hash=v.tx_hash,
    )


@route(
    routers,
    "GET",
    "/{deal_id}/documents",
    response_model=list[EvidenceMeta],
    responses=errors({404: "no such escrow here"}),
)
def documents(chain: EscrowDep, deal_id: DealId, db: DbDep) -> list[EvidenceMeta]:
    """The documents uploaded for the deal (`POST /evidence?deal=`), oldest first: plain
    documents, and for confidential ones their ciphertexts and manifests (by media type). An
    unknown deal has none."""
    rows = db.scalars(
        select(Evidence)
        .where(Evidence.escrow == chain.escrow_address, Evidence.deal_id == deal_id)
        .order_by(Evidence.created_at)
    )
    return [EvidenceMeta.of(row) for row in rows]
