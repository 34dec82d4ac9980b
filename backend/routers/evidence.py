"""/evidence: upload a document (pinned, content-addressed), fetch it back, read its record."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select

from backend import auth
from backend.chain import Chain, ChainUnavailable
from backend.db import Evidence
from backend.deps import ChainDep, DbDep, SettingsDep, StoreDep
from backend.evidence.cid import parse_cid
from backend.evidence.mediatype import SNIFF_BYTES, sniff
from backend.evidence.store import NotFound, StoreUnavailable

router = APIRouter(prefix="/evidence", tags=["evidence"])

CHUNK = 1 << 20
MULTIPART_SLACK = 16 * 1024  # boundaries and part headers around the one file part


class EvidenceMeta(BaseModel):
    cid: str
    sha256: str
    size: int
    media_type: str
    uploader: str
    deal_id: int | None
    milestone: int | None
    created: bool = False

    @classmethod
    def of(cls, row: Evidence, created: bool = False) -> EvidenceMeta:
        return cls(
            cid=row.cid,
            sha256=row.sha256,
            size=row.size,
            media_type=row.media_type,
            uploader=row.uploader,
            deal_id=row.deal_id,
            milestone=row.milestone,
            created=created,
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceMeta,
    responses={
        200: {"description": "the same document was already stored: its existing record"},
        400: {"description": "the content does not match the signed sha256, or bad input"},
        401: {"description": "missing, bad, expired or replayed signature"},
        403: {"description": "signer may not upload (for this deal)"},
        404: {"description": "unknown deal"},
        413: {"description": "document larger than the configured limit"},
        415: {"description": "media type (sniffed from the bytes) not allowed"},
        503: {"description": "IPFS node or chain RPC unreachable; nothing was recorded"},
    },
)
async def upload(
    request: Request,
    settings: SettingsDep,
    db: DbDep,
    store: StoreDep,
    chain: ChainDep,
    x_escrow_auth: Annotated[str | None, Header()] = None,
    x_content_sha256: Annotated[str | None, Header()] = None,
    deal: Annotated[int | None, Query(ge=1, description="link to this deal")] = None,
    milestone: Annotated[int | None, Query(ge=0, description="and this milestone")] = None,
):
    """Upload one document as the multipart field `file`. The request is signed (see
    docs/service.md): by a party of `deal`, an oracle or the arbiter it names, or, for a
    document not linked to a deal, by any live operator key. The media type is sniffed from
    the bytes (PDF, PNG, JPEG, WebP, JSON, plain text). The same bytes twice give the same CID
    and one record (200 the second time)."""
    claimed = (x_content_sha256 or "").lower().removeprefix("0x")
    if len(claimed) != 64 or any(c not in "0123456789abcdef" for c in claimed):
        raise HTTPException(400, "X-Content-Sha256 must be the hex sha256 of the document")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_upload_bytes + MULTIPART_SLACK:
        raise HTTPException(413, f"documents are limited to {settings.max_upload_bytes} bytes")
    if milestone is not None and deal is None:
        raise HTTPException(400, "a milestone link needs its deal")

    timing = ServerTiming()
    # Who signed, and may they: before a byte of the body is read.
    signed = await run_in_threadpool(
        _check_signer, chain, db, settings, x_escrow_auth, claimed, deal
    )

    timing.lap("auth")
    form = await request.form(max_files=1, max_fields=0, max_part_size=settings.max_upload_bytes)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise HTTPException(400, "send the document as the multipart field 'file'")
    if upload.size is not None and upload.size > settings.max_upload_bytes:
        raise HTTPException(413, f"documents are limited to {settings.max_upload_bytes} bytes")
    timing.lap("body")
    # The blocking rest (sniff, add to the store, record) in one worker-thread hop: each hop
    # costs a context switch, and on a small machine they add up to more than the work.
    row, created = await run_in_threadpool(
        _store_and_record,
        settings,
        store,
        db,
        upload.file,
        signed,
        claimed,
        deal,
        milestone,
        timing,
    )
    meta = EvidenceMeta.of(row, created=created)
    headers = {"Server-Timing": timing.header()}
    return JSONResponse(meta.model_dump(), status_code=201 if created else 200, headers=headers)


@router.get(
    "/{cid}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the document"},
        400: {"description": "malformed CID"},
        404: {"description": "unknown CID"},
        503: {"description": "IPFS node unreachable"},
    },
)
async def download(cid: str, db: DbDep, store: StoreDep):
    """Stream a document back. Its sha256 is sent first (X-Content-Sha256) and checked while
    streaming: a document whose bytes no longer match is cut off rather than served whole."""
    row = _record(db, cid)
    try:
        chunks = await run_in_threadpool(store.cat, row.cid)
    except NotFound as exc:
        raise HTTPException(404, f"{cid} is recorded but missing from the store") from exc
    except StoreUnavailable as exc:
        raise HTTPException(503, f"evidence store unavailable: {exc}") from exc
    return StreamingResponse(
        iterate_in_threadpool(_checked(chunks, row.sha256)),
        media_type=row.media_type,
        headers={
            "X-Content-Sha256": row.sha256,
            "ETag": f'"{row.cid}"',
            "Content-Length": str(row.size),
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


@router.get(
    "/{cid}/meta",
    response_model=EvidenceMeta,
    responses={
        400: {"description": "malformed CID"},
        404: {"description": "unknown CID"},
    },
)
def meta(cid: str, db: DbDep) -> EvidenceMeta:
    """The document's record: CID, sha256, size, sniffed media type, uploader, deal link."""
    return EvidenceMeta.of(_record(db, cid))


# ---------------------------------------------------------------- helpers


class ServerTiming:
    """Where an upload's time went, sent back as a Server-Timing header (W3C), in ms:
    `auth;dur=1.2, body;dur=0.8, store;dur=14.1, record;dur=1.9`. Browsers' dev tools and the
    upload benchmark read it."""

    def __init__(self):
        self._last = time.perf_counter()
        self._laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._laps.append((name, (now - self._last) * 1000))
        self._last = now

    def header(self) -> str:
        return ", ".join(f"{name};dur={ms:.2f}" for name, ms in self._laps)


def _record(db, cid: str) -> Evidence:
    try:
        parsed = parse_cid(cid)
    except ValueError as exc:
        raise HTTPException(400, f"malformed CID: {exc}") from exc
    row = db.scalar(select(Evidence).where(Evidence.cid == str(parsed)))
    if row is None:
        raise HTTPException(404, f"no evidence with CID {cid}")
    return row


def _authenticate(chain: Chain, db, settings, header, content_sha256, deal) -> auth.Signed:
    try:
        request = auth.parse_header(header)
        message = auth.auth_message(
            action="POST /evidence",
            content_sha256=content_sha256,
            deal_id=deal,
            chain_id=chain.chain_id,
            escrow=chain.escrow_address,
            nonce=request.nonce,
            expires=request.expires,
        )
        return auth.verify(request, message, db, settings.auth_max_validity_seconds)
    except auth.AuthError as exc:
        raise HTTPException(401, str(exc)) from exc
    except ChainUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc


def _authorize(chain: Chain, signer: str, deal: int | None) -> None:
    try:
        operator = chain.operator_of(signer)
        if deal is None:
            if operator == 0:
                raise HTTPException(403, "documents not linked to a deal: operator keys only")
            return
        parties = chain.deal(deal)
        if parties is None:
            raise HTTPException(404, f"deal {deal} does not exist")
        if signer in (parties.buyer, parties.supplier):
            return
        if operator and (operator in parties.oracles or operator == parties.arbiter):
            return
        raise HTTPException(403, f"{signer} is not a party, oracle or arbiter of deal {deal}")
    except ChainUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc


def _check_signer(chain: Chain, db, settings, header, content_sha256, deal) -> auth.Signed:
    """Authenticates and authorizes. Nothing is written yet: a write transaction held through
    the upload would make every concurrent upload wait for this one's IPFS add."""
    signed = _authenticate(chain, db, settings, header, content_sha256, deal)
    _authorize(chain, signed.address, deal)
    return signed


def _store_and_record(
    settings, store, db, fileobj, signed: auth.Signed, claimed: str, deal, milestone, timing
) -> tuple[Evidence, bool]:
    """Sniffs the type, adds the document to the store, then records it and spends the
    request's nonce in one short transaction. Returns the record and whether it is new. A
    request refused on the way (415, 503...) records nothing, its nonce included, so the client
    may send the same signed request again once the store is back."""
    head = fileobj.read(SNIFF_BYTES)
    media_type = sniff(head, complete=len(head) < SNIFF_BYTES)
    if media_type not in settings.allowed_media_types:
        raise HTTPException(415, f"media type {media_type or 'unknown'} is not accepted")
    fileobj.seek(0)
    try:
        stored = store.add(_chunks(fileobj))
    except StoreUnavailable as exc:
        raise HTTPException(503, f"evidence store unavailable: {exc}") from exc
    if stored.sha256.hex() != claimed:
        raise HTTPException(400, "the document's sha256 is not the one that was signed")
    timing.lap("store")

    try:
        auth.spend(db, signed)
    except auth.AuthError as exc:
        raise HTTPException(401, str(exc)) from exc
    existing = db.scalar(select(Evidence).where(Evidence.cid == stored.cid))
    if existing is not None:
        db.commit()
        timing.lap("record")
        return existing, False
    row = Evidence(
        cid=stored.cid,
        sha256=stored.sha256.hex(),
        size=stored.size,
        media_type=media_type,
        uploader=signed.address,
        deal_id=deal,
        milestone=milestone,
    )
    db.add(row)
    db.commit()
    timing.lap("record")
    return row, True


def _chunks(fileobj) -> Iterator[bytes]:
    while chunk := fileobj.read(CHUNK):
        yield chunk


def _checked(chunks: Iterator[bytes], sha256_hex: str) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != sha256_hex:
        raise RuntimeError("stored document does not match its sha256: transfer aborted")
