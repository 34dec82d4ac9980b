"""/attestations: signed oracle attestations handed to the service, relayed on chain in batches."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Response, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import copies
from backend.attestations import verify
from backend.chain import Chain
from backend.db import AttestationIntake, Evidence
from backend.deps import DbDep, EscrowsDep, SessionsDep, StoreDep
from backend.escrow import eip712
from backend.escrow.errors import UnknownEscrow
from backend.escrow.http import Address, AttestationFieldsIn, SignatureHex, Uint256, WireModel
from backend.escrow.structs import Attestation, AttestationFormat, SignedAttestation
from backend.escrows import Escrows
from backend.routers._common import UNAVAILABLE, Route, RowId, errors

router = APIRouter(prefix="/attestations", tags=["attestations"], route_class=Route)


class DomainIn(WireModel):
    name: str
    version: str
    chainId: Uint256
    verifyingContract: Address


class SignedAttestationIn(WireModel):
    """The JSON of `escrow-oracle sign` (docs/attestations.md): uints as JSON integers or
    decimal strings, `met` a JSON boolean, addresses in any case, hex 0x-prefixed."""

    format: AttestationFormat
    domain: DomainIn
    attestation: AttestationFieldsIn
    signer: Address
    signature: SignatureHex

    def signed(self) -> SignedAttestation:
        a = self.attestation
        attestation = Attestation(
            chain_id=self.domain.chainId,
            escrow=self.domain.verifyingContract,
            deal_id=a.dealId,
            milestone=a.milestone,
            deal_version=a.dealVersion,
            met=a.met,
            evidence_hash=bytes.fromhex(a.evidenceHash[2:]),
            deadline=a.deadline,
        )
        return SignedAttestation(
            attestation=attestation,
            signer=self.signer,
            signature=bytes.fromhex(self.signature[2:]),
        )


class IntakeOut(BaseModel):
    id: int
    escrow: str
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
            escrow=r.escrow,
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
        200: {"model": IntakeOut, "description": "handed in before by this signer: its record"},
        **errors(
            {
                400: "for another contract (EIP-712 domain), chain, or an escrow this service "
                "does not serve",
                401: "the signature is not the named signer's, or its deadline has passed",
                403: "the signer is not a live key of one of the oracles the milestone names",
                404: "the escrow knows no such deal, or the deal no such milestone",
                409: "the evidence document (for a manifest: also the ciphertext it names) is "
                "not pinned by this service",
                413: "request body too large",
                503: UNAVAILABLE,
            }
        ),
    },
)
def hand_in(
    document: Annotated[
        SignedAttestationIn,
        Body(description="the JSON of `escrow-oracle sign` (docs/attestations.md)"),
    ],
    escrows: EscrowsDep,
    sessions: SessionsDep,
    store: StoreDep,
    response: Response,
) -> IntakeOut:
    """Check a signed attestation and queue it for relaying, to the escrow its domain names.
    Checked here: the domain (this chain, and an escrow this service serves), the signature
    (offline for ECDSA keys, by an `isValidSignature` call for contract keys, EIP-1271) and
    deadline, the deal and the milestone exist, the signer is
    a live key of one of the oracles the milestone names, and the evidence document is pinned
    here. One record per (attestation, signer): the oracles of a 2-of-2 milestone signing the
    same facts are two records, both relayed. The escrow checks everything again when the
    batch lands; GET /attestations/{id} follows."""
    signed = document.signed()
    a = signed.attestation
    chain = _check_domain(document.domain, escrows)
    result = verify(signed, contract_check=chain.accepts_signature)
    if not result.ok:
        raise HTTPException(401, "; ".join(result.problems))
    digest = "0x" + result.digest.hex()
    with sessions() as db:
        existing = _intake(db, digest, signed.signer)
    if existing is not None:  # handed in before by this signer (a retry): its record
        response.status_code = status.HTTP_200_OK
        return IntakeOut.of(existing)
    _check_oracle(chain, signed.signer, a)
    sha = a.evidence_hash.hex()
    with sessions() as db:
        if db.scalar(select(Evidence.cid).where(Evidence.sha256 == sha)) is None:
            raise HTTPException(409, f"evidence {sha} is not pinned here: POST /evidence first")
    copies.require_ciphertext_pinned(sessions, store, sha)  # a manifest needs its ciphertext
    with sessions() as db:
        row = AttestationIntake(
            digest=digest,
            escrow=chain.escrow_address,
            deal_id=a.deal_id,
            milestone=a.milestone,
            signer=signed.signer,
            met=a.met,
            evidence_sha256=sha,
            document=json.dumps(document.model_dump()),
        )
        db.add(row)
        try:
            db.commit()
        except IntegrityError:  # the same, handed in at the same moment by the same signer
            db.rollback()
            response.status_code = status.HTTP_200_OK
            stored = _intake(db, digest, signed.signer)
            assert stored is not None  # what the unique constraint refused us for
            row = stored
    return IntakeOut.of(row)


@router.get("/{intake_id}", response_model=IntakeOut, responses=errors({404: "unknown"}))
def status_of(intake_id: RowId, db: DbDep) -> IntakeOut:
    """Where a handed-in attestation stands, with its transaction hash once submitted."""
    row = db.get(AttestationIntake, intake_id)
    if row is None:
        raise HTTPException(404, f"no attestation {intake_id}")
    return IntakeOut.of(row)


def _check_domain(domain: DomainIn, escrows: Escrows) -> Chain:
    """The escrow the attestation is signed for, if this service serves it."""
    if (domain.name, domain.version) != (
        eip712.ESCROW_DOMAIN_NAME,
        eip712.ESCROW_DOMAIN_VERSION,
    ):
        raise HTTPException(400, "attestation is for another contract (EIP-712 domain)")
    try:
        chain = escrows.get(domain.verifyingContract)
    except UnknownEscrow:
        chain = None
    if chain is None or domain.chainId != chain.chain_id:
        raise HTTPException(
            400,
            f"attestation is for escrow {domain.verifyingContract} on chain {domain.chainId}, "
            "not this service's",
        )
    return chain


def _check_oracle(chain: Chain, signer: str, a: Attestation) -> None:
    """The rule the escrow applies: the signer is a live key of an operator that the
    milestone names among its oracles."""
    deal = chain.require_deal(a.deal_id)
    if a.milestone >= len(deal.milestone_oracles):
        raise HTTPException(404, f"deal {a.deal_id} has no milestone {a.milestone}")
    operator = chain.operator_of(signer)
    if operator == 0 or operator not in deal.milestone_oracles[a.milestone]:
        raise HTTPException(
            403,
            f"{signer} is not a live key of an oracle of milestone {a.milestone} of deal "
            f"{a.deal_id}",
        )


def _intake(db, digest: str, signer: str) -> AttestationIntake | None:
    return db.scalar(
        select(AttestationIntake).where(
            AttestationIntake.digest == digest, AttestationIntake.signer == signer
        )
    )
