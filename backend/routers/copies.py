"""/evidence/{cid}/copies: the ciphertexts of a confidential document (its manifest's CID),
each with the readers its uploader says it was encrypted to (docs/service.md)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Body, Header, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from backend import copies, uploads
from backend.copies import CopyIn, CopyOut
from backend.db import Evidence
from backend.deps import ChainDep, SessionsDep, SettingsDep, StoreDep
from backend.evidence.cid import parse_cid
from backend.evidence.store import EvidenceStore
from backend.routers._common import UNAVAILABLE, Route, errors

router = APIRouter(prefix="/evidence", tags=["confidential"], route_class=Route)

SHA256_PATTERN = "^(0x)?[0-9a-fA-F]{64}$"


@router.post(
    "/{cid}/copies",
    status_code=status.HTTP_201_CREATED,
    response_model=CopyOut,
    responses={
        200: {"model": CopyOut, "description": "this very copy is recorded already"},
        **errors(
            {
                400: "malformed CID, X-Content-Sha256 missing or not the body's, a ciphertext "
                "that is no age file, a recipient that is no age X25519 recipient, or a "
                "reader named twice",
                401: "missing, bad, expired or replayed signature",
                403: "signer may not upload for the manifest's deal",
                404: "no manifest, or no ciphertext, with that CID",
                409: "the ciphertext has a copy record with other readers",
                413: "request body too large",
                503: UNAVAILABLE,
            }
        ),
    },
)
async def add_copy(
    cid: str,
    body: Annotated[CopyIn, Body(description="the copy's ciphertext and its readers")],
    request: Request,
    settings: SettingsDep,
    sessions: SessionsDep,
    store: StoreDep,
    chain: ChainDep,
    response: Response,
    x_escrow_auth: Annotated[
        str | None, Header(description="the signed request (docs/service.md)")
    ] = None,
    x_content_sha256: Annotated[
        str | None,
        Header(
            description="hex sha256 of the body's bytes, as signed",
            json_schema_extra={"pattern": SHA256_PATTERN},
        ),
    ] = None,
) -> CopyOut:
    """Record a ciphertext of the document the manifest `cid` describes, with the readers
    it was encrypted to, as the uploader states them (an age file does not name its
    recipients). The first copy names the manifest's own ciphertext; a later reader's copy
    names a new one of the same plaintext, and the manifest (the on-chain anchor) stays. The
    request is signed like an upload (`action: POST /evidence/<cid>/copies`) by whoever may
    upload for the manifest's deal."""
    claimed = (x_content_sha256 or "").lower().removeprefix("0x")
    if hashlib.sha256(await request.body()).hexdigest() != claimed:
        raise HTTPException(400, "X-Content-Sha256 must be the hex sha256 of the body as sent")
    manifest_cid = _cid(cid)
    row, manifest = await run_in_threadpool(_manifest, sessions, store, manifest_cid)
    readers = body.checked_readers()
    if row.escrow is not None:  # the manifest's deal is this escrow's
        chain = await run_in_threadpool(request.app.state.escrows.get, row.escrow)
    signed = await run_in_threadpool(
        uploads.check_signer,
        chain,
        sessions,
        settings,
        x_escrow_auth,
        claimed,
        row.deal_id,
        f"POST /evidence/{manifest_cid}/copies",
    )
    ciphertext = _cid(body.ciphertext)
    copy, created = await run_in_threadpool(
        copies.record_copy, sessions, manifest_cid, ciphertext, readers, signed
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    with sessions() as db:
        return copies.copy_out(db, manifest, copy)


@router.get(
    "/{cid}/copies",
    response_model=list[CopyOut],
    responses=errors(
        {400: "malformed CID or reader", 404: "no manifest with that CID", 503: UNAVAILABLE}
    ),
)
async def list_copies(
    cid: str,
    sessions: SessionsDep,
    store: StoreDep,
    reader: Annotated[
        str | None, Query(description="only the copies encrypted to this account")
    ] = None,
) -> list[CopyOut]:
    """The copies of the document the manifest `cid` describes, oldest first: a reader finds
    the one encrypted to it, decrypts it and checks the plaintext against the manifest."""
    if reader is not None:
        if not is_address(reader):
            raise HTTPException(400, "reader must be an address")
        reader = to_checksum_address(reader)
    manifest_cid = _cid(cid)
    _, manifest = await run_in_threadpool(_manifest, sessions, store, manifest_cid)
    with sessions() as db:
        rows = copies.copies_of(db, manifest_cid, reader)
        return [copies.copy_out(db, manifest, row) for row in rows]


def _cid(value: str) -> str:
    try:
        return str(parse_cid(value))
    except ValueError as exc:
        raise HTTPException(400, f"malformed CID: {exc}") from exc


def _manifest(sessions: sessionmaker[Session], store: EvidenceStore, cid: str):
    with sessions() as db:
        row = db.get(Evidence, cid)
    if row is None:
        raise HTTPException(404, f"no manifest with CID {cid}")
    return row, copies.load_manifest(store, row, cid)
