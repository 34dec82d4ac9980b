"""A confidential document in one signed request (POST /evidence/confidential): its age
ciphertext, its manifest and the readers it was encrypted to, stored and recorded together,
leaving what the three requests of the two-step protocol leave (POST /evidence for the
ciphertext, then for the manifest, then POST /evidence/{manifest}/copies). docs/service.md.

What is signed is the request's `copy` part: the manifest's canonical text and the readers.
The manifest names the ciphertext's sha256, size and CID, and the service refuses a ciphertext
that is not that one, so the signature covers the ciphertext as well. Two orders of the body:

- `copy`, then `file` (the header signs the copy part's sha256): every check that can be made
  before the first add (the copy part, the ciphertext's first bytes); then the adds (the
  ciphertext streamed as it arrives, the manifest alongside), the ciphertext checked against
  the manifest, then the nonce, both records, the copy and its readers in one transaction.
- `file`, then `copy` and `signature` (the header signs `content-sha256: trailer`, opening
  the stream; the `signature` part signs the copy part, by the same key over the same nonce
  and expiry): a client that encrypts while it uploads cannot know the manifest before the
  last byte. The signer, its role and the unused nonce are checked before the ciphertext
  streams on to the store; the copy part and its signature once it has, the manifest added
  while the ciphertext's add completes; then the same checks and the same one transaction.

Either way a refusal after an add takes the adds back.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from backend import auth, nonces
from backend.confidential.errors import ManifestError
from backend.confidential.manifest import MAX_MANIFEST_BYTES, Manifest, parse_manifest
from backend.copies import ReaderIn, checked_readers, commit_copy, write_copy
from backend.db import Evidence, EvidenceCopy, connect
from backend.evidence.mediatype import AGE, MANIFEST, SNIFF_BYTES, sniff
from backend.evidence.store import EvidenceStore, StoredObject
from backend.multipart_stream import MultipartStream
from backend.settings import Settings
from backend.streamed_upload import read_field
from backend.uploads import IN_FLIGHT, new_evidence

MAX_COPY_PART = 64 * 1024  # a manifest (under 4 KiB) and 64 readers of ~120 bytes each
TRAILER = "trailer"  # X-Content-Sha256 (and the header's signed content) of a streamed body
ACTION = "POST /evidence/confidential"
MAX_SIGNATURE_PART = 256  # "0x" and 130 hex digits, with room for whitespace


class ConfidentialIn(BaseModel):
    """The `copy` part of POST /evidence/confidential, as JSON."""

    model_config = ConfigDict(extra="forbid")

    manifest: str = Field(
        max_length=MAX_MANIFEST_BYTES, description="the manifest's canonical JSON, as text"
    )
    readers: list[ReaderIn] = Field(min_length=1, max_length=64)


def parse_copy(text: str, claimed: str) -> tuple[Manifest, list[tuple[str, str]]]:
    """The manifest and the readers of a `copy` part whose sha256 is the signed one: 400 when
    it is not, 422 for a body out of its schema or a manifest that is not valid, 400 for a bad
    reader."""
    if hashlib.sha256(text.encode()).hexdigest() != claimed:
        raise HTTPException(400, "X-Content-Sha256 must be the hex sha256 of the copy part")
    try:
        body = ConfidentialIn.model_validate_json(text)
    except ValidationError as exc:
        raise HTTPException(422, f"not a copy part: {_first_error(exc)}") from exc
    try:
        manifest = parse_manifest(body.manifest.encode())
    except ManifestError as exc:
        raise HTTPException(422, f"not a valid manifest: {exc}") from exc
    return manifest, checked_readers(body.readers)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"


def check_head(settings: Settings, head: bytes, complete: bool) -> None:
    """Before anything is stored: confidential documents are accepted, and the file starts
    as an age file (415 otherwise)."""
    for media_type in (AGE, MANIFEST):
        if media_type not in settings.allowed_media_types:
            raise HTTPException(415, f"media type {media_type} is not accepted")
    if sniff(head[:SNIFF_BYTES], complete=complete and len(head) < SNIFF_BYTES) != AGE:
        raise HTTPException(415, "the file must be the age ciphertext the manifest names")


# The manifests' adds beside their ciphertexts' (store_confidential): threads kept, not one
# made per request.
_SIDE_ADDS = ThreadPoolExecutor(4, thread_name_prefix="manifest-add")


def store_confidential(
    chunks: Iterable[bytes],
    store: EvidenceStore,
    sessions: sessionmaker[Session],
    signed: auth.Signed,
    manifest: Manifest,
    readers: list[tuple[str, str]],
    deal: int | None,
    milestone: int | None,
    lap,
) -> tuple[Evidence, Evidence, EvidenceCopy, bool]:
    """Adds the ciphertext as `chunks` arrive and the manifest alongside, checks the
    ciphertext against the manifest (sha256, size, CID), records both and the copy; returns
    the ciphertext's and the manifest's records, the copy, and whether any is new."""
    cipher_sha256 = manifest.ciphertext_sha256.hex()
    manifest_sha256 = manifest.evidence_hash().hex()
    added: list[tuple[StoredObject, str]] = []
    with (
        IN_FLIGHT.adding(store, cipher_sha256),
        IN_FLIGHT.adding(store, manifest_sha256),
    ):
        # The manifest's add (a few hundred bytes, but a round trip to the node) runs while
        # the ciphertext's does; waited for on every path below.
        manifest_add = _SIDE_ADDS.submit(store.add, [manifest.to_bytes()])
        try:
            cipher = store.add(chunks)
            added.append((cipher, cipher_sha256))
            stored_manifest = manifest_add.result()
            added.append((stored_manifest, manifest_sha256))
            _check_ciphertext(manifest, cipher)
            lap("store")
            result = _record(sessions, cipher, stored_manifest, readers, signed, deal, milestone)
        except BaseException:
            with suppress(Exception):  # the manifest's add, done even when the other failed
                late = (manifest_add.result(), manifest_sha256)
                if late not in added:
                    added.append(late)
            for stored, digest in added:
                IN_FLIGHT.undo(store, sessions, stored, digest)
            raise
    lap("record")
    return result


async def finish_streamed(
    body: MultipartStream,
    cipher_add: asyncio.Future[StoredObject],
    chain_id: int,
    store: EvidenceStore,
    sessions: sessionmaker[Session],
    signed: auth.Signed,
    deal: int | None,
    milestone: int | None,
    lap,
) -> tuple[Manifest, list[tuple[str, str]], tuple[Evidence, Evidence, EvidenceCopy, bool]]:
    """A streamed body's end, its ciphertext handed to the store (`cipher_add`, maybe still
    finishing): the `copy` and `signature` parts read and checked (the signature by the
    header's signer over the header's nonce and expiry: 401 otherwise), the manifest added
    while the ciphertext's add completes, the ciphertext checked against the manifest, then
    the one transaction. The manifest, its readers, and what store_confidential returns. A
    refusal takes back what was added."""
    manifest_add: asyncio.Future[StoredObject] | None = None
    with ExitStack() as stack:
        counted: set[str] = set()

        def count(sha256: str) -> None:  # this upload's adds in flight (uploads.InFlight)
            if sha256 not in counted:
                stack.enter_context(IN_FLIGHT.adding(store, sha256))
                counted.add(sha256)

        try:
            if cipher_add.done():
                cipher_add.result()  # a store that failed early: its error is the answer
            text = await _trailer_field(body, "copy", MAX_COPY_PART)
            signature = await _trailer_field(body, "signature", MAX_SIGNATURE_PART)
            if await body.next_part() is not None:
                raise HTTPException(400, "nothing may follow the 'signature' part")
            copy_sha256 = hashlib.sha256(text.encode()).hexdigest()
            message = auth.auth_message(
                ACTION,
                copy_sha256,
                deal,
                chain_id,
                signed.escrow or "",
                signed.nonce,
                signed.expires,
            )
            auth.verify_countersignature(signed, message, signature)
            manifest, readers = parse_copy(text, copy_sha256)
            count(manifest.evidence_hash().hex())
            manifest_add = asyncio.ensure_future(
                run_in_threadpool(store.add, [manifest.to_bytes()])
            )
            cipher = await cipher_add
            # Counted once its sha256 is known. (A ciphertext is new with every encryption:
            # the same bytes twice at once are a client sending a stored ciphertext again.)
            count(cipher.sha256.hex())
            stored_manifest = await manifest_add
            _check_ciphertext(manifest, cipher)
            lap("store")
            result = await run_in_threadpool(
                _record, sessions, cipher, stored_manifest, readers, signed, deal, milestone
            )
        except BaseException:
            # Whatever was added, even by an add that ended after the refusal, is taken back
            # (while still counted: the count tells other uploads of the same bytes apart).
            for future in (cipher_add, manifest_add):
                if future is None:
                    continue
                await asyncio.wait({future})
                if not future.cancelled() and future.exception() is None:
                    stored = future.result()
                    digest = stored.sha256.hex()
                    count(digest)
                    await run_in_threadpool(IN_FLIGHT.undo, store, sessions, stored, digest)
            raise
    lap("record")
    return manifest, readers, result


async def _trailer_field(body: MultipartStream, name: str, limit: int) -> str:
    part = await body.next_part()
    if part is None or part.name != name or part.filename is not None:
        raise HTTPException(400, "send the file 'file', then the fields 'copy' and 'signature'")
    data = await read_field(body, limit)
    try:
        return data.decode()
    except UnicodeDecodeError:  # as Starlette decodes a form field
        return data.decode("latin-1")


def _check_ciphertext(manifest: Manifest, cipher: StoredObject) -> None:
    """422 unless the stored ciphertext is the one the manifest names (sha256, size, CID)."""
    try:
        manifest.check_ciphertext(cipher.sha256, cipher.size)
    except ManifestError as exc:
        raise HTTPException(422, f"the manifest does not describe its ciphertext: {exc}") from exc
    if cipher.cid != manifest.ciphertext_cid:
        raise HTTPException(
            422, f"the ciphertext's CID is {cipher.cid}, the manifest names another"
        )


def _record(
    sessions, cipher: StoredObject, manifest: StoredObject, readers, signed, deal, milestone
):
    """The nonce, the two records (kept when they exist), the copy and its readers: one
    transaction."""
    with connect(sessions) as db:
        nonces.spend(db, signed)  # AuthError when a racing copy of the request spent it first
        cipher_row, new_cipher = new_evidence(
            db, cipher, signed, AGE, deal, milestone, signed.escrow
        )
        manifest_row, new_manifest = new_evidence(
            db, manifest, signed, MANIFEST, deal, milestone, signed.escrow
        )
        copy, new_copy = write_copy(db, manifest.cid, cipher.cid, readers, signed.address)
        commit_copy(db, cipher.cid)
        return cipher_row, manifest_row, copy, new_cipher or new_manifest or new_copy
