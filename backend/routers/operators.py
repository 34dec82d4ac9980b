"""/escrows/{escrow}/operators: an escrow's oracles and arbiters by name, and the milestones
each is asked to judge, from the index (backend/operator_index.py,
backend/operator_milestones.py). Each escrow has its own registry, so operator ids are per
escrow. New with several escrows: no deprecated /operators alias."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db import ChainEvent, Evidence, IndexerCursor, OperatorKeyRow, OperatorRow
from backend.deps import DbDep, EscrowDep, SettingsDep
from backend.operator_index import HANDLERS as REGISTRY_HANDLERS
from backend.operator_milestones import Named, named_milestones
from backend.routers._common import Route, errors
from backend.routers.deals import VerdictOut, verdict_out
from backend.routers.evidence import EvidenceMeta

router = APIRouter(prefix="/escrows/{escrow}/operators", tags=["operators"], route_class=Route)

REGISTRY_EVENTS = tuple(REGISTRY_HANDLERS)
NOT_SERVED = "an escrow this service does not serve"
MAX_PAGE = 100
MAX_MILESTONES = 500
# Operator ids are the registry's uint32, numbered from 1.
OperatorId = Annotated[int, Path(ge=1, le=(1 << 32) - 1, description="the registry's id")]


async def escrow_of(chain: EscrowDep) -> str:
    """The checksummed address of the escrow the path names (404 if not served)."""
    return chain.escrow_address


Escrow = Annotated[str, Depends(escrow_of)]


class OperatorOut(BaseModel):
    operator_id: int
    name: str
    metadata_uri: str
    admin: str
    live_keys: list[str]  # the keys whose attestations the escrow accepts now
    live_key_count: int
    revoked_keys: list[str]
    registered_block: int


@router.get(
    "",
    response_model=list[OperatorOut],
    responses=errors({404: NOT_SERVED, 503: "chain unreachable"}),
)
def list_operators(
    db: DbDep,
    escrow: Escrow,
    q: Annotated[
        str | None,
        Query(max_length=100, description="part of the name, any case (e.g. `inspect`)"),
    ] = None,
    after: Annotated[
        int, Query(ge=0, le=(1 << 32) - 1, description="ids above this one (the next page)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="at most this many")] = 50,
) -> list[OperatorOut]:
    """Indexed operators by id; `q` keeps those whose name contains it (case-insensitive).
    A page holds at most `limit`; the next page is `after=` the last id of this one."""
    query = (
        select(OperatorRow)
        .where(OperatorRow.escrow == escrow, OperatorRow.operator_id > after)
        .order_by(OperatorRow.operator_id)
        .limit(limit)
    )
    if q:
        pattern = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(OperatorRow.name).like(f"%{pattern}%", escape="\\"))
    rows = db.scalars(query).all()
    keys = db.scalars(
        select(OperatorKeyRow)
        .where(
            OperatorKeyRow.escrow == escrow,
            OperatorKeyRow.operator_id.in_([r.operator_id for r in rows]),
        )
        .order_by(OperatorKeyRow.added_block, OperatorKeyRow.key)
    ).all()
    return [_operator(row, [k for k in keys if k.operator_id == row.operator_id]) for row in rows]


class OperatorDetailOut(OperatorOut):
    history: list[dict]  # the registry's events about it, oldest first


@router.get(
    "/{operator_id}",
    response_model=OperatorDetailOut,
    responses=errors(
        {
            404: "not indexed: unknown, or not confirmed yet; or " + NOT_SERVED,
            503: "chain unreachable",
        }
    ),
)
def get_operator(operator_id: OperatorId, db: DbDep, escrow: Escrow) -> OperatorDetailOut:
    """One operator, its live and revoked keys, and its history: registered, renamed, its
    admin role handed on, keys added and revoked."""
    row = db.get(OperatorRow, (escrow, operator_id))
    if row is None:
        raise HTTPException(
            404, f"operator {operator_id} is not indexed (unknown or not confirmed yet)"
        )
    keys = db.scalars(
        select(OperatorKeyRow)
        .where(OperatorKeyRow.escrow == escrow, OperatorKeyRow.operator_id == operator_id)
        .order_by(OperatorKeyRow.added_block, OperatorKeyRow.key)
    ).all()
    events = db.scalars(
        select(ChainEvent)
        .where(
            ChainEvent.escrow == escrow,  # ids are per registry: another escrow has its own 1, 2..
            ChainEvent.name.in_(REGISTRY_EVENTS),
            ChainEvent.block >= row.registered_block,
        )
        .order_by(ChainEvent.block, ChainEvent.log_index)
    )
    history = [
        {"block": e.block, "tx_hash": e.tx_hash, "event": e.name, "args": e.args}
        for e in events
        if e.args.get("operatorId") == operator_id
    ]
    return OperatorDetailOut(**_operator(row, list(keys)).model_dump(), history=history)


def _operator(row: OperatorRow, keys: list[OperatorKeyRow]) -> OperatorOut:
    live = [k.key for k in keys if k.revoked_block is None]
    return OperatorOut(
        operator_id=row.operator_id,
        name=row.name,
        metadata_uri=row.metadata_uri,
        admin=row.admin,
        live_keys=live,
        live_key_count=len(live),
        revoked_keys=[k.key for k in keys if k.revoked_block is not None],
        registered_block=row.registered_block,
    )


class NamedMilestoneOut(BaseModel):
    deal_id: int
    buyer: str
    supplier: str
    arbiter: int
    index: int
    amount: str
    due_at: int
    quorum: int
    oracles: list[int]
    requirements_hash: str
    status: str
    attestations: int  # "met" verdicts since the terms last changed
    verdict: Literal["met", "not met"] | None  # this operator's, None while it has given none
    awaiting: bool  # Pending and without this operator's verdict
    verdicts: list[VerdictOut]
    documents: list[EvidenceMeta]  # for this milestone or the whole deal, oldest first


class OperatorMilestonesOut(BaseModel):
    operator_id: int
    indexed_through: int | None  # the last block the index has read; None before the first
    confirmations: int  # how deep a block must be before the index reads it
    milestones: list[NamedMilestoneOut]


@router.get(
    "/{operator_id}/milestones",
    response_model=OperatorMilestonesOut,
    responses=errors({404: NOT_SERVED, 503: "chain unreachable"}),
)
def operator_milestones(
    operator_id: OperatorId,
    db: DbDep,
    escrow: Escrow,
    settings: SettingsDep,
    status: Annotated[
        Literal["awaiting", "all"],
        Query(description="`awaiting`: those awaiting its verdict; `all`: of Active deals"),
    ] = "awaiting",
    limit: Annotated[int, Query(ge=1, le=MAX_MILESTONES)] = 100,
) -> OperatorMilestonesOut:
    """Milestones of Active deals whose oracles include the operator, newest deal first:
    terms, this operator's verdict if given, every verdict since the terms last changed, and
    the documents uploaded so far. As indexed up to `indexed_through` (a client that wants
    the chain's head waits until it reaches head - `confirmations`); the chain decides what
    may still be attested."""
    named = named_milestones(db, escrow, operator_id, pending_only=status == "awaiting")
    if status == "awaiting":
        named = [n for n in named if n.awaits(operator_id)]
    cursor = db.get(IndexerCursor, escrow)
    return OperatorMilestonesOut(
        operator_id=operator_id,
        indexed_through=cursor.next_block - 1 if cursor and cursor.next_block else None,
        confirmations=settings.indexer_confirmations,
        milestones=_with_cids(db, named[:limit], operator_id),
    )


def _with_cids(db: Session, named: list[Named], operator_id: int) -> list[NamedMilestoneOut]:
    hashes = {v.evidence_sha256 for n in named for v in n.verdicts}
    known = {
        e.sha256: e.cid for e in db.scalars(select(Evidence).where(Evidence.sha256.in_(hashes)))
    }
    out = []
    for n in named:
        d, m, verdict = n.deal, n.milestone, n.verdict_of(operator_id)
        out.append(
            NamedMilestoneOut(
                deal_id=d.deal_id,
                buyer=d.buyer,
                supplier=d.supplier,
                arbiter=d.arbiter,
                index=m.index,
                amount=m.amount,
                due_at=m.due_at,
                quorum=m.quorum,
                oracles=m.oracles,
                requirements_hash=m.requirements_hash,
                status=m.status,
                attestations=sum(v.met for v in n.verdicts),
                verdict=None if verdict is None else "met" if verdict else "not met",
                awaiting=n.awaits(operator_id),
                verdicts=[verdict_out(v, known) for v in n.verdicts],
                documents=[EvidenceMeta.of(doc) for doc in n.documents],
            )
        )
    return out
