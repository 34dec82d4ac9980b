"""/keys: the parties' published age recipients (signed bindings, docs/confidential.md), and
/escrows/{escrow}/deals/{id}/readers (/deals/{id}/readers for the default escrow, deprecated):
whom a deal's documents are encrypted to. Bindings are kept and served
as the signed documents they came in, so a client verifies them itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Body, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import Chain
from backend.confidential.binding import Binding, verify_binding
from backend.confidential.errors import BindingError
from backend.db import IndexerCursor, KeyBinding, OperatorKeyRow
from backend.deps import ChainDep, DbDep, EscrowDep, SessionsDep
from backend.escrow.http import Uint32, Uint256, uint
from backend.routers._common import UNAVAILABLE, DealId, Route, errors
from backend.routers._escrow import escrow_routers, route

router = APIRouter(tags=["confidential"], route_class=Route)
deal_routers = escrow_routers("/deals", tags=["confidential"], route_class=Route)
routers = (router, *deal_routers)

if TYPE_CHECKING:
    Uint64 = int
else:
    Uint64 = uint(64)  # a JSON integer up to 2^53 - 1 or a decimal string, as every uint here


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BindingDomainIn(_Strict):
    name: str
    version: str
    chainId: Uint256


class BindingMessageIn(_Strict):
    account: str
    recipient: str
    generation: Uint32
    issuedAt: Uint64  # kept as a decimal string, as the format writes it


class BindingIn(_Strict):
    """A binding document (docs/confidential.md#the-binding-publishing-the-recipient)."""

    format: Literal["milestone-escrow/encryption-key@1"]
    domain: BindingDomainIn
    binding: BindingMessageIn
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]*$")


class KeyOut(BaseModel):
    account: str
    recipient: str
    generation: int
    issued_at: str
    document: dict
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite keeps no offset

    @classmethod
    def of(cls, row: KeyBinding) -> KeyOut:
        return cls(
            account=row.account,
            recipient=row.recipient,
            generation=row.generation,
            issued_at=row.issued_at,
            document=row.document,
            created_at=row.created_at,
        )


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyOut,
    responses={
        200: {"model": KeyOut, "description": "this very binding is kept already: its record"},
        **errors(
            {
                400: "refused: another chain or domain, not an age X25519 recipient, or not "
                "signed by the account (ECDSA or EIP-1271)",
                409: "the account's kept binding was issued at the same time or later",
                413: "request body too large",
                503: UNAVAILABLE,
            }
        ),
    },
)
async def publish(
    document: Annotated[BindingIn, Body(description="the signed binding document")],
    chain: ChainDep,
    sessions: SessionsDep,
    response: Response,
) -> KeyOut:
    """Keep an account's signed binding of its age recipient, after checking it on this
    chain (the signature recovers to the account, or the account is a contract that accepts
    it, EIP-1271). The newest `issuedAt` replaces older bindings; an older or equally old one
    is refused, so a replayed binding cannot roll a key back. A refusal keeps nothing."""
    doc = document.model_dump()
    doc["binding"]["issuedAt"] = str(doc["binding"]["issuedAt"])
    binding = await run_in_threadpool(_verify, chain, doc)
    row, created = await run_in_threadpool(_keep, sessions, binding, doc)
    if not created:
        response.status_code = status.HTTP_200_OK
    return KeyOut.of(row)


def _verify(chain: Chain, doc: dict) -> Binding:
    try:
        return verify_binding(doc, chain.chain_id, contract_check=chain.accepts_signature)
    except BindingError as exc:
        raise HTTPException(400, f"binding refused: {exc}") from exc


def _keep(sessions: sessionmaker[Session], binding: Binding, doc: dict) -> tuple[KeyBinding, bool]:
    with sessions() as db:
        row = db.get(KeyBinding, binding.account, with_for_update=True)
        if row is not None and row.document == doc:
            return row, False
        if row is not None and int(row.issued_at) >= binding.issued_at:
            raise HTTPException(
                409,
                f"the binding of {binding.account} kept here was issued at {row.issued_at}: "
                "a new one must be issued later",
            )
        if row is None:
            row = KeyBinding(account=binding.account)
            db.add(row)
        row.recipient = binding.recipient
        row.generation = binding.generation
        row.issued_at = str(binding.issued_at)
        row.document = doc
        row.created_at = datetime.now(UTC)
        db.commit()
        return row, True


@router.get(
    "/keys/{account}",
    response_model=KeyOut,
    responses=errors({400: "not an address", 404: "the account has published no binding"}),
)
def newest(account: str, db: DbDep) -> KeyOut:
    """The account's newest binding, with the signed document to verify again."""
    if not is_address(account):
        raise HTTPException(400, "account must be an address")
    row = db.get(KeyBinding, to_checksum_address(account))
    if row is None:
        raise HTTPException(404, f"{to_checksum_address(account)} has published no binding")
    return KeyOut.of(row)


# ---------------------------------------------------------------- the readers of a deal


class ReaderOut(BaseModel):
    account: str
    roles: list[str]
    operator: int | None  # the operator a key speaks for (oracle, arbiter)
    binding: dict | None  # the newest signed binding document, or null: none published


class ReadersOut(BaseModel):
    escrow: str
    deal_id: int
    readers: list[ReaderOut]


@route(
    deal_routers,
    "GET",
    "/{deal_id}/readers",
    response_model=ReadersOut,
    responses=errors(
        {404: "the escrow knows no such deal, or the service no such escrow", 503: UNAVAILABLE}
    ),
)
async def readers(deal_id: DealId, chain: EscrowDep, sessions: SessionsDep) -> ReadersOut:
    """Everyone entitled to read the deal's documents: buyer, supplier, payee if assigned,
    every live key of every operator the deal's milestones name, the arbiter's live keys;
    each with its roles and its newest binding (null when it published none: a client warns
    that it cannot encrypt to it)."""
    entitled, bindings = await run_in_threadpool(_entitled, chain, sessions, deal_id)
    return ReadersOut(
        escrow=chain.escrow_address,
        deal_id=deal_id,
        readers=[
            ReaderOut(account=a, roles=roles, operator=op, binding=bindings.get(a))
            for a, (roles, op) in entitled.items()
        ],
    )


def _entitled(
    chain: Chain, sessions: sessionmaker[Session], deal_id: int
) -> tuple[dict[str, tuple[list[str], int | None]], dict[str, dict]]:
    """The deal's readers (account: roles, operator) and their newest bindings. An operator's
    keys are those the index holds and those added in the blocks it has not read yet, each
    confirmed on chain (Chain.operator_keys): the chain is not searched from its start."""
    deal = chain.require_deal(deal_id)
    operators = sorted(set(deal.oracles) | ({deal.arbiter} if deal.arbiter else set()))
    with sessions() as db:
        cursor = db.get(IndexerCursor, chain.escrow_address)
        indexed: dict[int, list[str]] = {}
        for key, operator in db.execute(
            select(OperatorKeyRow.key, OperatorKeyRow.operator_id).where(
                OperatorKeyRow.escrow == chain.escrow_address,
                OperatorKeyRow.operator_id.in_(operators),
                OperatorKeyRow.revoked_block.is_(None),
            )
        ):
            indexed.setdefault(operator, []).append(key)
    since = cursor.next_block if cursor else None
    entitled: dict[str, tuple[list[str], int | None]] = {}

    def add(account: str, role: str, operator: int | None = None) -> None:
        roles, _ = entitled.setdefault(account, ([], operator))
        if role not in roles:
            roles.append(role)

    def keys(operator: int) -> tuple[str, ...]:
        return chain.operator_keys(operator, tuple(indexed.get(operator, ())), since)

    add(deal.buyer, "buyer")
    add(deal.supplier, "supplier")
    if deal.payee and deal.payee != deal.supplier:
        add(deal.payee, "payee")
    for operator in sorted(deal.oracles):
        for key in keys(operator):
            add(key, "oracle", operator)
    if deal.arbiter:
        for key in keys(deal.arbiter):
            add(key, "arbiter", deal.arbiter)
    with sessions() as db:
        rows = db.scalars(select(KeyBinding).where(KeyBinding.account.in_(list(entitled))))
        bindings = {row.account: row.document for row in rows}
    return entitled, bindings
