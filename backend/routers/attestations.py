"""/attestations: signed oracle attestations handed to the service, relayed on chain in batches."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from backend.attestations import SignedAttestation, verify
from backend.chain import ChainUnavailable
from backend.db import AttestationIntake, Evidence
from backend.deps import ChainDep, DbDep

router = APIRouter(prefix="/attestations", tags=["attestations"])


class IntakeOut(BaseModel):
    id: int
    deal_id: int
    milestone: int
    signer: str
    met: bool
    evidence_sha256: str
    status: str  # queued | submitted | applied | skipped | failed
    reason: str | None
    tx_hash: str | None

    @classmethod
    def of(cls, r: AttestationIntake) -> IntakeOut:
        return cls(
            id=r.id,
            deal_id=r.deal_id,
            milestone=r.milestone,
            signer=r.signer,
            met=r.met,
            evidence_sha256=r.evidence_sha256,
            status=r.status,
            reason=r.reason,
            tx_hash=r.tx_hash,
        )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IntakeOut,
    responses={
        200: {"description": "the same attestation was handed in before: its record"},
        400: {"description": "malformed, or for another chain or escrow"},
        401: {"description": "the signature is not the named signer's, or has expired"},
        403: {"description": "the signer is not a live key of one of the milestone's oracles"},
        409: {"description": "the evidence document is not pinned by this service"},
        503: {"description": "chain RPC unreachable"},
    },
)
def hand_in(
    chain: ChainDep,
    db: DbDep,
    document: Annotated[
        dict, Body(description="the JSON of `escrow-oracle sign` (docs/attestations.md)")
    ],
) -> IntakeOut:
    """Check a signed attestation and queue it for relaying. Checked here: format, domain
    (this chain and escrow), signature (offline for ECDSA keys, by an `isValidSignature` call
    for contract keys, EIP-1271) and deadline, the signer is
    a live key of one of the milestone's oracles, and the evidence document is pinned here.
    The escrow checks everything again when the batch lands; GET /attestations/{id} follows."""
    text = json.dumps(document)
    try:
        signed = SignedAttestation.from_json(text)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    a = signed.attestation
    try:
        if (a.chain_id, a.escrow) != (chain.chain_id, chain.escrow_address):
            raise HTTPException(
                400,
                f"attestation is for escrow {a.escrow} on chain {a.chain_id}, not this service's",
            )
        result = verify(signed, contract_check=chain.accepts_signature)
        if not result.ok:
            raise HTTPException(401, "; ".join(result.problems))
        digest = "0x" + result.digest.hex()
        existing = db.scalar(select(AttestationIntake).where(AttestationIntake.digest == digest))
        if existing is not None:
            return JSONResponse(IntakeOut.of(existing).model_dump(), status_code=200)
        deal = chain.deal(a.deal_id)
        operator = chain.operator_of(signed.signer)
    except ChainUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    if deal is None or operator == 0 or operator not in deal.oracles:
        raise HTTPException(403, f"{signed.signer} is not a live key of an oracle of this deal")
    sha = a.evidence_hash.hex()
    if db.scalar(select(Evidence.cid).where(Evidence.sha256 == sha)) is None:
        raise HTTPException(409, f"evidence {sha} is not pinned here: POST /evidence first")
    row = AttestationIntake(
        digest=digest,
        deal_id=a.deal_id,
        milestone=a.milestone,
        signer=signed.signer,
        met=a.met,
        evidence_sha256=sha,
        document=text,
    )
    db.add(row)
    db.commit()
    return IntakeOut.of(row)


@router.get("/{intake_id}", response_model=IntakeOut, responses={404: {"description": "unknown"}})
def status_of(intake_id: int, db: DbDep) -> IntakeOut:
    """Where a handed-in attestation stands, with its transaction hash once submitted."""
    row = db.get(AttestationIntake, intake_id)
    if row is None:
        raise HTTPException(404, f"no attestation {intake_id}")
    return IntakeOut.of(row)
