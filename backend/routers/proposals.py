"""/deals/{deal_id}/proposals: change orders and cancellations one party of a deal signed
(EIP-712 `Amendment` / `Cancellation`, docs/typed-data.md), kept for the other party, who
applies them on chain with `amend` / `cancelByAgreement`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import typed_data
from backend.chain import ChainUnavailable, DealParties
from backend.db import Proposal
from backend.deps import ChainDep, DbDep
from backend.terms import ChangeAction, DealStatus

router = APIRouter(prefix="/deals/{deal_id}/proposals", tags=["proposals"])

Kind = Literal["amendment", "cancellation"]
PRIMARY_TYPE = {"amendment": "Amendment", "cancellation": "Cancellation"}
MAX_SIGNATURE_BYTES = 4096  # ECDSA is 65; room for a multisig's EIP-1271 signature

DealId = Annotated[int, Path(ge=0, lt=1 << 63, description="the escrow's deal id")]

_DECIMAL = re.compile(r"[0-9]{1,78}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")


def _uint(bits: int):
    """A uint<bits> given as a JSON integer or a decimal string; parsed to an int."""

    def parse(value: object) -> int:
        if isinstance(value, str) and _DECIMAL.fullmatch(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"a uint{bits} is a JSON integer or a decimal string")
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{value} does not fit a uint{bits}")
        return value

    schema = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]}
    return Annotated[int, PlainValidator(parse), WithJsonSchema(schema)]


def _hex(pattern: re.Pattern, what: str, max_chars: int):
    """A 0x-hex string matching `pattern`, lowercased."""

    def parse(value: object) -> str:
        if not isinstance(value, str) or len(value) > max_chars or not pattern.fullmatch(value):
            raise ValueError(f"{what} must be 0x-prefixed hex")
        return value.lower()

    return Annotated[str, PlainValidator(parse), WithJsonSchema({"type": "string"})]


Uint8, Uint16, Uint32, Uint40, Uint96, Uint256 = (_uint(b) for b in (8, 16, 32, 40, 96, 256))
Bytes32 = _hex(_BYTES32, "a bytes32 (32 bytes)", 66)
SignatureHex = _hex(_HEX, "the signature", 2 + 2 * MAX_SIGNATURE_BYTES)


class _Struct(BaseModel):
    model_config = ConfigDict(extra="forbid")  # exactly the typed struct's fields


class MilestoneIn(_Struct):
    amount: Uint96
    dueAt: Uint40
    quorum: Uint8
    oracles: Annotated[list[Uint32], Field(min_length=3, max_length=3)]
    requirementsHash: Bytes32


class MilestoneChangeIn(_Struct):
    index: Uint8
    action: Annotated[Uint8, Field(description="0 Edit, 1 Add, 2 Remove")]
    terms: MilestoneIn  # all zero for Remove

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: int) -> int:
        if value not in {a.value for a in ChangeAction}:
            raise ValueError("action is 0 (Edit), 1 (Add) or 2 (Remove)")
        return value


class AmendmentIn(_Struct):
    dealId: Uint256
    dealVersion: Uint16
    changes: Annotated[list[MilestoneChangeIn], Field(max_length=255)]
    deadline: Uint256


class CancellationIn(_Struct):
    dealId: Uint256
    dealVersion: Uint16
    toSupplier: Uint96
    deadline: Uint256


class AmendmentProposal(_Struct):
    kind: Literal["amendment"]
    message: AmendmentIn
    signature: SignatureHex


class CancellationProposal(_Struct):
    kind: Literal["cancellation"]
    message: CancellationIn
    signature: SignatureHex


ProposalIn = Annotated[AmendmentProposal | CancellationProposal, Field(discriminator="kind")]

Status = Literal["open", "stale", "expired"]


class ProposalOut(BaseModel):
    id: int
    deal_id: int
    kind: Kind
    signer: str
    deal_version: int
    deadline: int
    message: dict  # as signed; uints as decimal strings, bytes32 as lowercase 0x hex
    signature: str
    digest: str
    created_at: datetime
    status: Status  # open | stale (applied, superseded, or the deal cancelled) | expired

    @classmethod
    def of(cls, row: Proposal, status: Status) -> ProposalOut:
        created = row.created_at
        if created.tzinfo is None:  # SQLite keeps no offset; it was written in UTC
            created = created.replace(tzinfo=UTC)
        return cls(
            id=row.id,
            deal_id=row.deal_id,
            kind=row.kind,
            signer=row.signer,
            deal_version=row.deal_version,
            deadline=int(row.deadline),
            message=row.message,
            signature=row.signature,
            digest=row.digest,
            created_at=created,
            status=status,
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProposalOut,
    responses={
        200: {"description": "the same proposal by the same signer was stored before: its record"},
        400: {"description": "message.dealId is not the path's deal, deadline passed, bad sig"},
        403: {"description": "signed by neither the buyer nor the supplier of the deal"},
        404: {"description": "the escrow knows no such deal"},
        409: {"description": "stale (dealVersion is not the deal's version) or deal cancelled"},
        422: {"description": "malformed body"},
        503: {"description": "chain RPC unreachable"},
    },
)
def propose(
    deal_id: DealId,
    proposal: Annotated[ProposalIn, Body()],
    chain: ChainDep,
    db: DbDep,
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
    try:
        full = typed_data.escrow_message(
            PRIMARY_TYPE[proposal.kind], chain.chain_id, chain.escrow_address, _typed(m)
        )
        digest = typed_data.digest(full)
        digest_hex = "0x" + digest.hex()
        deal = chain.deal(deal_id, fresh=True)
        if deal is None:
            raise HTTPException(404, f"the escrow knows no deal {deal_id}")
        now = chain.block_time()
        same = db.scalar(
            select(Proposal).where(
                Proposal.digest == digest_hex, Proposal.signature == proposal.signature
            )
        )
        if same is not None:  # handed in before (a retry): its record, as it stands now
            response.status_code = status.HTTP_200_OK
            return ProposalOut.of(same, _status(same, deal, now))
        if m.deadline <= now:
            raise HTTPException(400, f"deadline {m.deadline} has passed (chain time {now})")
        if deal.status == DealStatus.CANCELLED:
            raise HTTPException(409, f"deal {deal_id} is cancelled")
        if m.dealVersion != deal.version:
            raise HTTPException(409, f"stale: the deal is at version {deal.version}")
        signer, recovered, problems = typed_data.signer_among(
            (deal.buyer, deal.supplier), digest, signature, chain.accepts_signature
        )
    except ChainUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    if signer is None:
        if problems:  # not even a usable ECDSA signature, and no contract party accepts it
            raise HTTPException(400, "; ".join(problems))
        raise HTTPException(
            403,
            f"signed by {recovered}, who is neither the buyer ({deal.buyer}) nor the supplier "
            f"({deal.supplier}) of deal {deal_id}",
        )
    row = Proposal(
        deal_id=deal_id,
        kind=proposal.kind,
        signer=signer,
        message=_normalised(m.model_dump()),
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
        row = db.scalar(
            select(Proposal).where(Proposal.digest == digest_hex, Proposal.signer == signer)
        )
        response.status_code = status.HTTP_200_OK
    return ProposalOut.of(row, _status(row, deal, now))


@router.get("", response_model=list[ProposalOut], responses={503: {"description": "RPC down"}})
def list_proposals(
    deal_id: DealId,
    chain: ChainDep,
    db: DbDep,
    kind: Annotated[Kind | None, Query(description="only amendments or cancellations")] = None,
) -> list[ProposalOut]:
    """The deal's stored proposals, newest first, each with its `status` read from the chain
    now: `open` (its dealVersion is the deal's version, the deal is not cancelled, the deadline
    is ahead), `stale` (applied or superseded: the version moved on or the deal was cancelled)
    or `expired`."""
    query = select(Proposal).where(Proposal.deal_id == deal_id).order_by(Proposal.id.desc())
    if kind is not None:
        query = query.where(Proposal.kind == kind)
    rows = db.scalars(query).all()
    if not rows:
        return []
    try:
        deal = chain.deal(deal_id, fresh=True)
        now = chain.block_time()
    except ChainUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    return [ProposalOut.of(r, _status(r, deal, now)) for r in rows]


def _status(row: Proposal, deal: DealParties | None, now: int) -> Status:
    if deal is None or deal.status == DealStatus.CANCELLED or row.deal_version != deal.version:
        return "stale"
    if int(row.deadline) <= now:
        return "expired"
    return "open"


def _typed(message: AmendmentIn | CancellationIn) -> dict:
    """The message as eth-account hashes it: ints, and bytes32 as bytes."""

    def typed(value):
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        if isinstance(value, str):  # only bytes32 fields are strings
            return bytes.fromhex(value[2:])
        return value

    return typed(message.model_dump())


def _normalised(value):
    """Every uint as a decimal string (JavaScript numbers stop at 2^53); hex stays hex."""
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, int):
        return str(value)
    return value
