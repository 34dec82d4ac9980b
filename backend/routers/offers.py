"""/offers: deals offered by their supplier off chain (EIP-712 `DealOffer`, docs/typed-data.md),
kept for the buyer, who accepts and funds one in a single transaction with `acceptOffer` (or
`acceptOfferWithPermit`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Body, HTTPException, Query, Response, status
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db import ChainEvent, Offer
from backend.deps import ChainDep, EscrowsDep, SessionsDep
from backend.escrow import eip712
from backend.escrow.http import DealOfferIn, SignatureHex, WireModel
from backend.escrow.messages import escrow_message
from backend.escrow.struct import ZERO_ADDRESS
from backend.escrow.structs import DealOffer
from backend.escrows import Escrows
from backend.routers._common import UNAVAILABLE, Route, RowId, errors
from backend.routers._typed import StoredOut, normalised, typed

router = APIRouter(prefix="/offers", tags=["offers"], route_class=Route)

Status = Literal["open", "used", "withdrawn", "expired"]


class SignedOffer(WireModel):
    offer: DealOfferIn  # the EIP-712 `message`, exactly as signed
    signature: SignatureHex


class OfferOut(StoredOut):
    id: int
    escrow: str  # whose EIP-712 domain it is signed in: the escrow that will hold the deal
    supplier: str
    buyer: str
    nonce: str  # uint256 values as decimal strings (JavaScript numbers stop at 2^53)
    deadline: str
    total: str  # the sum of the milestone amounts: what the buyer funds
    offer: dict  # as signed; uints as decimal strings, addresses checksummed, bytes32 lowercase
    signature: str
    digest: str
    status: Status


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OfferOut,
    responses={
        200: {"model": OfferOut, "description": "the same signed offer was stored before"},
        **errors(
            {
                400: "buyer is supplier, zero address, no or too many milestones, "
                "deadline passed, no usable signature",
                403: "not signed by offer.supplier (or changed after signing)",
                404: "an escrow this service does not serve",
                409: "the supplier's nonce is used (an offer accepted or withdrawn)",
                413: "request body too large",
                503: UNAVAILABLE,
            }
        ),
    },
)
def post_offer(
    signed: Annotated[SignedOffer, Body()],
    chain: ChainDep,
    escrows: EscrowsDep,
    sessions: SessionsDep,
    response: Response,
    escrow: Annotated[
        str | None,
        Query(
            description="the escrow whose domain the offer is signed in (default: the "
            "service's default escrow)",
            pattern="^0x[0-9a-fA-F]{40}$",
        ),
    ] = None,
) -> OfferOut:
    """Store a deal offer signed by its supplier (`offer` as passed to eth_signTypedData_v4,
    in the escrow's domain) after the checks the escrow will make when the buyer accepts it:
    two distinct non-zero parties, 1 to MAX_MILESTONES milestones, the deadline ahead (chain
    time), the signature the supplier's (ECDSA, or EIP-1271 for a contract wallet), and the
    supplier's nonce unused."""
    if escrow is not None:
        chain = escrows.get(escrow)
    o = signed.offer
    if o.buyer == o.supplier:
        raise HTTPException(400, f"the buyer and the supplier are the same address ({o.buyer})")
    for role in ("buyer", "supplier"):
        if getattr(o, role) == ZERO_ADDRESS:
            raise HTTPException(400, f"the {role} is the zero address")
    if not o.milestones:
        raise HTTPException(400, "an offer has at least one milestone")
    signature = bytes.fromhex(signed.signature[2:])
    if len(o.milestones) > chain.max_milestones:
        raise HTTPException(
            400, f"{len(o.milestones)} milestones: the escrow takes at most {chain.max_milestones}"
        )
    full = escrow_message(DealOffer, chain.chain_id, chain.escrow_address, typed(o))
    digest = eip712.digest(full)
    digest_hex = "0x" + digest.hex()
    now = chain.block_time()
    with sessions() as db:
        same = db.scalar(
            select(Offer).where(Offer.digest == digest_hex, Offer.signature == signed.signature)
        )
    if same is not None:  # handed in before (a retry): its record, as it stands now
        response.status_code = status.HTTP_200_OK
        return _out(escrows, sessions, [same], now)[0]
    if o.deadline <= now:
        raise HTTPException(400, f"deadline {o.deadline} has passed (chain time {now})")
    signer, recovered, problems = eip712.signer_among(
        (o.supplier,), digest, signature, chain.accepts_signature
    )
    if signer is None:
        if problems:  # not even a usable ECDSA signature, and no contract wallet accepts it
            raise HTTPException(400, "; ".join(problems))
        raise HTTPException(
            403,
            f"signed by {recovered}, not by the offer's supplier ({o.supplier}): another "
            "key, or the offer was changed after signing",
        )
    if chain.offer_nonce_used(o.supplier, o.nonce):
        raise HTTPException(409, "offer nonce already used (accepted or withdrawn)")
    with sessions() as db:
        row = Offer(
            escrow=chain.escrow_address,
            supplier=o.supplier,
            buyer=o.buyer,
            nonce=str(o.nonce),
            deadline=str(o.deadline),
            total=str(sum(m.amount for m in o.milestones)),
            offer=normalised(o.model_dump()),
            signature=signed.signature,
            digest=digest_hex,
        )
        db.add(row)
        try:
            db.commit()
        except IntegrityError:  # the same offer, another signature of it (an EIP-1271 wallet)
            db.rollback()
            row = db.scalars(
                select(Offer).where(Offer.digest == digest_hex, Offer.supplier == o.supplier)
            ).one()
            response.status_code = status.HTTP_200_OK
    # Just checked: the nonce is unused and the deadline ahead (no further read to fail).
    return OfferOut.of(row, "open")


@router.get(
    "",
    response_model=list[OfferOut],
    responses=errors({400: "party is not an address", 503: UNAVAILABLE}),
)
def list_offers(
    chain: ChainDep,
    escrows: EscrowsDep,
    sessions: SessionsDep,
    party: Annotated[str, Query(description="the buyer's or the supplier's address")],
    status_filter: Annotated[
        Status | None, Query(alias="status", description="only the offers in this status")
    ] = None,
) -> list[OfferOut]:
    """The offers where `party` is the buyer or the supplier, in every escrow served, newest
    first, each with its
    `status` read from the chain now: `open` (nonce unused, deadline ahead), `used` (the nonce
    is used: accepted, or withdrawn), `withdrawn` (used, and the deal index holds the
    supplier's `OfferCancelled` for it) or `expired`."""
    if not is_address(party):
        raise HTTPException(400, "party must be an address")
    party = to_checksum_address(party)
    with sessions() as db:
        rows = db.scalars(
            select(Offer)
            .where(or_(Offer.buyer == party, Offer.supplier == party))
            .order_by(Offer.id.desc())
        ).all()
    if not rows:
        return []
    listed = _out(escrows, sessions, rows, chain.block_time())
    return [o for o in listed if status_filter is None or o.status == status_filter]


@router.get(
    "/{offer_id}",
    response_model=OfferOut,
    responses=errors({404: "no such offer", 503: UNAVAILABLE}),
)
def get_offer(
    offer_id: RowId, chain: ChainDep, escrows: EscrowsDep, sessions: SessionsDep
) -> OfferOut:
    """One stored offer, with its `status` read from the chain now."""
    with sessions() as db:
        row = db.get(Offer, offer_id)
    if row is None:
        raise HTTPException(404, f"no offer {offer_id}")
    return _out(escrows, sessions, [row], chain.block_time())[0]


def _out(escrows: Escrows, sessions, rows: Sequence[Offer], now: int) -> list[OfferOut]:
    """The records with their status: the nonces read from each offer's escrow first, then,
    for the used ones, the deal index asked whether they were withdrawn (no session open
    meanwhile)."""
    used = [escrows.get(r.escrow).offer_nonce_used(r.supplier, int(r.nonce)) for r in rows]
    withdrawn = set()
    if any(used):
        with sessions() as db:
            withdrawn = {r.id for r, u in zip(rows, used, strict=True) if u and _withdrawn(db, r)}
    return [
        OfferOut.of(r, _status(r, u, r.id in withdrawn, now))
        for r, u in zip(rows, used, strict=True)
    ]


def _status(row: Offer, used: bool, withdrawn: bool, now: int) -> Status:
    if used:
        return "withdrawn" if withdrawn else "used"
    if int(row.deadline) <= now:
        return "expired"
    return "open"


def _withdrawn(db: Session, row: Offer) -> bool:
    """Whether the deal index holds the supplier's `OfferCancelled` for the offer's nonce (the
    indexer keeps uints from 2^53 up as decimal strings)."""
    events = db.scalars(
        select(ChainEvent).where(
            ChainEvent.escrow == row.escrow,
            ChainEvent.name == "OfferCancelled",
            ChainEvent.args["supplier"].as_string() == row.supplier,
        )
    )
    return any(str(e.args.get("nonce")) == row.nonce for e in events)
