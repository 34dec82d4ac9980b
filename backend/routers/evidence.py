"""/evidence: upload a document (pinned, content-addressed), fetch it back, read its record."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select

from backend import streamed_upload, uploads
from backend.copies import check_manifest
from backend.db import Evidence
from backend.deps import ChainDep, DbDep, SessionsDep, SettingsDep, StoreDep
from backend.evidence.cid import parse_cid
from backend.evidence.mediatype import MANIFEST, SNIFF_BYTES
from backend.evidence.store import NotFound
from backend.multipart_stream import MultipartStream
from backend.routers._common import MAX_ROW_ID, UNAVAILABLE, Route, errors
from backend.settings import ALLOWED_MEDIA_TYPES

router = APIRouter(prefix="/evidence", tags=["evidence"], route_class=Route)

MAX_MILESTONE_INDEX = 255  # milestone indexes are uint8 in change orders; the escrow has 64 at most
MULTIPART_SLACK = 16 * 1024  # boundaries and part headers around the one file part


class EvidenceMeta(BaseModel):
    cid: str
    sha256: str
    size: int
    media_type: str
    uploader: str
    escrow: str | None  # the deal's escrow, with its id; null for a document of no deal
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
            escrow=row.escrow,
            deal_id=row.deal_id,
            milestone=row.milestone,
            created=created,
        )


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "the document: PDF, PNG, JPEG, WebP, JSON or plain text",
                    }
                },
                "required": ["file"],
                "additionalProperties": False,
            }
        }
    },
}
SERVER_TIMING = {
    "Server-Timing": {
        "description": "where the time went, in ms: auth, body, store, record",
        "schema": {"type": "string"},
    }
}
SHA256_PATTERN = "^(0x)?[0-9a-fA-F]{64}$"
# a 422: FastAPI's own (a parameter out of its type) or the route's (ErrorOut)
VALIDATION_OR_ERROR = {
    "anyOf": [
        {"$ref": "#/components/schemas/HTTPValidationError"},
        {"$ref": "#/components/schemas/ErrorOut"},
    ]
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceMeta,
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        201: {"description": "stored, pinned and recorded", "headers": SERVER_TIMING},
        200: {
            "model": EvidenceMeta,
            "description": "the same document was already stored: its existing record",
            "headers": SERVER_TIMING,
        },
        422: {
            "description": "a parameter out of its type; or a manifest that is not canonical "
            "or valid, or names a ciphertext not stored here with its sha256, size and CID",
            "content": {"application/json": {"schema": VALIDATION_OR_ERROR}},
        },
        **errors(
            {
                400: "X-Content-Sha256 missing or malformed, the content does not match it, "
                "not one multipart field `file`, or a milestone without its deal",
                401: "missing, bad, expired or replayed signature",
                403: "signer may not upload (for this deal)",
                404: "unknown deal, or an escrow this service does not serve",
                413: "document larger than the configured limit",
                415: "media type (sniffed from the bytes) not allowed",
                503: UNAVAILABLE,
            }
        ),
    },
)
async def upload(
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
            description="hex sha256 of the document, as signed",
            json_schema_extra={"pattern": SHA256_PATTERN},
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
    """Upload one document as the multipart field `file`. The request is signed (see
    docs/service.md), naming `escrow` (the default one when not given): by a party of `deal`
    (a deal of that escrow), an oracle or the arbiter it names, or, for a document not linked
    to a deal, by any live operator key of that escrow. The media type is sniffed from
    the bytes (PDF, PNG, JPEG, WebP, JSON, plain text; for a confidential document, its age
    ciphertext and then its manifest, which is refused with 422 unless the ciphertext it names
    is stored here: docs/service.md). The same bytes twice give the same CID
    and one record (200 the second time). A refused upload stores and records nothing."""
    claimed = (x_content_sha256 or "").lower().removeprefix("0x")
    if len(claimed) != 64 or any(c not in "0123456789abcdef" for c in claimed):
        raise HTTPException(400, "X-Content-Sha256 must be the hex sha256 of the document")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_upload_bytes + MULTIPART_SLACK:
        raise HTTPException(413, f"documents are limited to {settings.max_upload_bytes} bytes")
    if milestone is not None and deal is None:
        raise HTTPException(400, "a milestone link needs its deal")

    timing = ServerTiming()
    # Who signed, and may they (for which escrow), checked in a worker thread while the body's
    # first bytes are read here: nothing goes to the store before both are done, and the
    # signature's refusal comes first when both are refused.
    checking = asyncio.ensure_future(
        run_in_threadpool(
            uploads.check_signer_for,
            request.app.state.escrows,
            escrow,
            chain,
            sessions,
            settings,
            x_escrow_auth,
            claimed,
            deal,
        )
    )
    reading = asyncio.ensure_future(_first_bytes(request))
    try:
        signed = await checking
    except BaseException:
        reading.cancel()
        with suppress(BaseException):
            await reading
        raise
    body, head, whole = await reading
    timing.lap("auth")
    media_type = uploads.media_type_of(settings, head, whole)
    if media_type == MANIFEST:  # a confidential document's: stored only with its ciphertext
        await run_in_threadpool(check_manifest, sessions, head)
    timing.lap("body")
    # The blocking rest (the add as the body arrives, the record) in one worker thread.
    row, created = await streamed_upload.stream_rest(
        body,
        head,
        whole,
        settings.max_upload_bytes,
        uploads.add_and_record,
        store,
        sessions,
        signed,
        claimed,
        media_type,
        deal,
        milestone,
        timing.lap,
    )
    meta = EvidenceMeta.of(row, created=created)
    headers = {"Server-Timing": timing.header()}
    return JSONResponse(meta.model_dump(), status_code=201 if created else 200, headers=headers)


BINARY = {"type": "string", "format": "binary"}
STRING = {"type": "string"}


def _document_content(media_types) -> dict:
    return {t: {"schema": {} if t.endswith("json") else BINARY} for t in media_types}


def document_media_types(openapi: dict, media_types: tuple[str, ...]) -> dict:
    """The OpenAPI document with GET /evidence/{cid} answering the media types this service
    is configured to accept (ESCROW_ALLOWED_MEDIA_TYPES)."""
    answer = openapi["paths"]["/evidence/{cid}"]["get"]["responses"]["200"]
    answer["content"] = _document_content(media_types)
    return openapi


@router.get(
    "/{cid}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the document, in the media type sniffed at upload",
            "content": _document_content(ALLOWED_MEDIA_TYPES),
            "headers": {
                "X-Content-Sha256": {"description": "the document's hex sha256", "schema": STRING},
                "ETag": {"description": "the CID, quoted", "schema": STRING},
            },
        },
        **errors({400: "malformed CID", 404: "unknown CID", 503: UNAVAILABLE}),
    },
)
async def download(cid: str, sessions: SessionsDep, store: StoreDep):
    """Stream a document back. Its sha256 is sent first (X-Content-Sha256) and checked while
    streaming: a document whose bytes no longer match is cut off rather than served whole."""
    row = await run_in_threadpool(_find, sessions, cid)
    try:
        chunks = await run_in_threadpool(store.cat, row.cid)
    except NotFound as exc:
        raise HTTPException(404, f"{cid} is recorded but missing from the store") from exc
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
    responses=errors({400: "malformed CID", 404: "unknown CID"}),
)
def meta(cid: str, db: DbDep) -> EvidenceMeta:
    """The document's record: CID, sha256, size, sniffed media type, uploader, deal link."""
    return EvidenceMeta.of(_record(db, cid))


# ---------------------------------------------------------------- helpers


class ServerTiming:
    """Where an upload's time went, sent back as a Server-Timing header (W3C), in ms:
    `auth;dur=1.2, body;dur=0.3, store;dur=14.1, record;dur=1.9`. Browsers' dev tools and the
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


async def _first_bytes(request: Request) -> tuple[MultipartStream, bytes, bool]:
    """The body's `file` part, its first bytes read (streamed_upload.file_head)."""
    body = MultipartStream(request)
    part = await body.next_part()
    if part is None or part.name != "file" or part.filename is None:
        raise HTTPException(400, "send the document as the multipart field 'file'")
    head, whole = await streamed_upload.file_head(body, SNIFF_BYTES)
    return body, head, whole


def _find(sessions, cid: str) -> Evidence:
    with sessions() as db:
        return _record(db, cid)


def _record(db, cid: str) -> Evidence:
    try:
        parsed = parse_cid(cid)
    except ValueError as exc:
        raise HTTPException(400, f"malformed CID: {exc}") from exc
    row = db.scalar(select(Evidence).where(Evidence.cid == str(parsed)))
    if row is None:
        raise HTTPException(404, f"no evidence with CID {cid}")
    return row


def _checked(chunks: Iterator[bytes], sha256_hex: str) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != sha256_hex:
        raise RuntimeError("stored document does not match its sha256: transfer aborted")
