"""/evidence/{cid}/copies: the ciphertexts of a confidential document (its manifest's CID),
each with the readers its uploader says it was encrypted to (docs/service.md)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Body, Header, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from backend import copies, sealed_uploads, streamed_upload, uploads
from backend.copies import CopyIn, CopyOut
from backend.db import Evidence
from backend.deps import ChainDep, SessionsDep, SettingsDep, StoreDep
from backend.evidence.cid import parse_cid
from backend.evidence.mediatype import SNIFF_BYTES
from backend.evidence.store import EvidenceStore
from backend.multipart_stream import MultipartStream
from backend.routers._common import MAX_ROW_ID, UNAVAILABLE, Route, errors
from backend.routers.evidence import (
    MAX_MILESTONE_INDEX,
    SERVER_TIMING,
    VALIDATION_OR_ERROR,
    EvidenceMeta,
    ServerTiming,
)

router = APIRouter(prefix="/evidence", tags=["confidential"], route_class=Route)

SHA256_PATTERN = "^(0x)?[0-9a-fA-F]{64}$"
SHA256_OR_TRAILER = "^((0x)?[0-9a-fA-F]{64}|trailer)$"


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
    signed = await run_in_threadpool(
        uploads.check_signer_for,
        request.app.state.escrows,
        row.escrow,  # the manifest's deal is this escrow's (None: no deal, the default one)
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
    return await run_in_threadpool(_copy_out, sessions, manifest, copy)


class ConfidentialOut(BaseModel):
    ciphertext: EvidenceMeta
    manifest: EvidenceMeta
    encrypted_copy: CopyOut  # (`copy` is taken: pydantic's BaseModel.copy)


CONFIDENTIAL_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "copy": {
                        "type": "string",
                        "description": "JSON: {manifest: the manifest's canonical text, "
                        "readers: [{account, recipient}]}; its sha256 is X-Content-Sha256, or "
                        "signed by the `signature` part",
                    },
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "the age ciphertext the manifest names",
                    },
                    "signature": {
                        "type": "string",
                        "description": "a streamed body's (X-Content-Sha256: trailer) last "
                        "part: the 0x-hex signature of the copy part, by the header's key over "
                        "the header's nonce and expiry",
                    },
                },
                "required": ["copy", "file"],
                "additionalProperties": False,
            }
        }
    },
}


@router.post(
    "/confidential",
    status_code=status.HTTP_201_CREATED,
    response_model=ConfidentialOut,
    openapi_extra={"requestBody": CONFIDENTIAL_BODY},
    responses={
        201: {"description": "stored, pinned and recorded", "headers": SERVER_TIMING},
        200: {
            "model": ConfidentialOut,
            "description": "this very document, copy and readers were recorded already",
            "headers": SERVER_TIMING,
        },
        422: {
            "description": "a parameter out of its type; a copy part out of its schema, a "
            "manifest that is not canonical or valid, or a ciphertext that is not the one the "
            "manifest names",
            "content": {"application/json": {"schema": VALIDATION_OR_ERROR}},
        },
        **errors(
            {
                400: "X-Content-Sha256 missing or not the copy part's, not the `copy` field "
                "then the file `file` (streamed: the file, then the fields `copy` and "
                "`signature`), a recipient that is no age X25519 recipient, a reader named "
                "twice, or a milestone without its deal",
                401: "missing, bad, expired or replayed signature, or a streamed body's "
                "`signature` part not by the header's key over its nonce",
                403: "signer may not upload (for this deal)",
                404: "unknown deal, or an escrow this service does not serve",
                409: "the ciphertext has a copy record with another manifest or other readers",
                413: "document larger than the configured limit",
                415: "the file is no age ciphertext, or the service accepts no confidential "
                "documents",
                503: UNAVAILABLE,
            }
        ),
    },
)
async def upload_confidential(
    request: Request,
    settings: SettingsDep,
    sessions: SessionsDep,
    store: StoreDep,
    chain: ChainDep,
    x_escrow_auth: Annotated[
        str | None, Header(description="the signed request (docs/service.md)")
    ] = None,
    x_content_sha256: Annotated[
        str | None,
        Header(
            description="hex sha256 of the `copy` part, as signed; or `trailer` for a "
            "streamed body, its copy part signed in the body's last part",
            json_schema_extra={"pattern": SHA256_OR_TRAILER},
        ),
    ] = None,
    deal: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="link to this deal")] = None,
    escrow: Annotated[
        str | None,
        Query(
            description="the deal's escrow (default: the service's default escrow); the "
            "signed message names it",
            pattern="^0x[0-9a-fA-F]{40}$",
        ),
    ] = None,
    milestone: Annotated[
        int | None, Query(ge=0, le=MAX_MILESTONE_INDEX, description="and this milestone")
    ] = None,
):
    """A confidential document in one request: the `copy` part (the manifest's canonical
    text and the readers the ciphertext is encrypted to, JSON) and the `file` part (the age
    ciphertext the manifest names). Signed like an upload (`action: POST
    /evidence/confidential`, the content being the `copy` part), by whoever may upload for
    `deal` (of `escrow`, the default one when not given). Either `copy` then `file`, the
    header signing the copy part's sha256; or, streamed (a client that encrypts as it
    sends), `file`, `copy`, then `signature`: the header signs `content-sha256: trailer`, the
    `signature` part the copy part, by the same key over the same nonce and expiry
    (docs/service.md). Leaves what POST /evidence (ciphertext, then manifest) and POST
    /evidence/{manifest}/copies leave; a refused request stores and records nothing."""
    claimed = (x_content_sha256 or "").lower().removeprefix("0x")
    streamed = claimed == sealed_uploads.TRAILER
    if not streamed and (len(claimed) != 64 or any(c not in "0123456789abcdef" for c in claimed)):
        raise HTTPException(
            400, "X-Content-Sha256 must be the hex sha256 of the copy part, or 'trailer'"
        )
    if milestone is not None and deal is None:
        raise HTTPException(400, "a milestone link needs its deal")
    timing = ServerTiming()
    signed = await run_in_threadpool(
        uploads.check_signer_for,
        request.app.state.escrows,
        escrow,
        chain,
        sessions,
        settings,
        x_escrow_auth,
        claimed,
        deal,
        sealed_uploads.ACTION,
    )
    timing.lap("auth")
    body = MultipartStream(request)
    part = await body.next_part()
    if streamed:
        # The ciphertext first, straight on to the store; its copy part and that part's
        # signature after it.
        if part is None or part.name != "file" or part.filename is None:
            raise HTTPException(400, "send the file 'file', then the fields 'copy' and 'signature'")
        head, whole = await streamed_upload.file_head(body, SNIFF_BYTES)
        sealed_uploads.check_head(settings, head, whole)
        timing.lap("body")
        cipher_add = await streamed_upload.stream_part(
            body, head, whole, settings.max_upload_bytes, store.add
        )
        streamed_result = await sealed_uploads.finish_streamed(
            body, cipher_add, chain.chain_id, store, sessions, signed, deal, milestone, timing.lap
        )
        manifest, readers, (cipher, manifest_row, copy, created) = streamed_result
    else:
        # The `copy` part first, then the ciphertext straight on to the store.
        if part is None or part.name != "copy" or part.filename is not None:
            raise HTTPException(400, "send the field 'copy' (JSON), then the file 'file'")
        text = _text(await streamed_upload.read_field(body, sealed_uploads.MAX_COPY_PART))
        part = await body.next_part()
        if part is None or part.name != "file" or part.filename is None:
            raise HTTPException(400, "send the field 'copy' (JSON), then the file 'file'")
        manifest, readers = sealed_uploads.parse_copy(text, claimed)
        head, whole = await streamed_upload.file_head(body, SNIFF_BYTES)
        sealed_uploads.check_head(settings, head, whole)
        timing.lap("body")
        cipher, manifest_row, copy, created = await streamed_upload.stream_rest(
            body,
            head,
            whole,
            settings.max_upload_bytes,
            sealed_uploads.store_confidential,
            store,
            sessions,
            signed,
            manifest,
            readers,
            deal,
            milestone,
            timing.lap,
        )
    answer = ConfidentialOut(
        ciphertext=EvidenceMeta.of(cipher, created),
        manifest=EvidenceMeta.of(manifest_row, created),
        # the readers recorded are these, in this order (else the copy was refused, 409)
        encrypted_copy=copies.copy_of(manifest, copy, cipher, readers),
    )
    return JSONResponse(
        answer.model_dump(),
        status_code=201 if created else 200,
        headers={"Server-Timing": timing.header()},
    )


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
    return await run_in_threadpool(_copies, sessions, manifest, manifest_cid, reader)


def _text(data: bytes) -> str:
    """A form field's text, decoded as Starlette decodes one (UTF-8, else Latin-1)."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _cid(value: str) -> str:
    try:
        return str(parse_cid(value))
    except ValueError as exc:
        raise HTTPException(400, f"malformed CID: {exc}") from exc


# The database is read in a worker thread, as everywhere else: never in the event loop.
def _copy_out(sessions: sessionmaker[Session], manifest, copy) -> CopyOut:
    with sessions() as db:
        return copies.copy_out(db, manifest, copy)


def _copies(sessions: sessionmaker[Session], manifest, manifest_cid: str, reader) -> list[CopyOut]:
    with sessions() as db:
        rows = copies.copies_of(db, manifest_cid, reader)
        return [copies.copy_out(db, manifest, row) for row in rows]


def _manifest(sessions: sessionmaker[Session], store: EvidenceStore, cid: str):
    with sessions() as db:
        row = db.get(Evidence, cid)
    if row is None:
        raise HTTPException(404, f"no manifest with CID {cid}")
    return row, copies.load_manifest(store, row, cid)
