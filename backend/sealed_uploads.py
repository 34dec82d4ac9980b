"""A confidential document in one signed request (POST /evidence/confidential): its age
ciphertext, its manifest and the readers it was encrypted to, stored and recorded together,
leaving what the three requests of the two-step protocol leave (POST /evidence for the
ciphertext, then for the manifest, then POST /evidence/{manifest}/copies). docs/service.md.

The signature covers the request's `copy` part: the manifest's canonical text and the readers.
The manifest names the ciphertext's sha256, size and CID, and the service refuses a ciphertext
that is not that one, so the signature covers the ciphertext as well. The order of work is
uploads.py's: every check that can be made before the first add (the copy part, which comes
first in the body, and the ciphertext's first bytes); then the adds (the ciphertext streamed
as it arrives, the manifest alongside), the ciphertext checked against the manifest, then the
nonce, both records, the copy and its readers in one transaction; a refusal after an add takes
the adds back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from backend import auth
from backend.confidential.errors import ManifestError
from backend.confidential.manifest import MAX_MANIFEST_BYTES, Manifest, parse_manifest
from backend.copies import ReaderIn, checked_readers, commit_copy, write_copy
from backend.db import Evidence, EvidenceCopy, connect
from backend.evidence.mediatype import AGE, MANIFEST, SNIFF_BYTES, sniff
from backend.evidence.store import EvidenceStore, StoredObject
from backend.settings import Settings
from backend.uploads import IN_FLIGHT, new_evidence

MAX_COPY_PART = 64 * 1024  # a manifest (under 4 KiB) and 64 readers of ~120 bytes each


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
        ThreadPoolExecutor(1) as pool,
    ):
        # The manifest's add (a few hundred bytes, but a round trip to the node) runs while
        # the ciphertext's does.
        manifest_add = pool.submit(store.add, [manifest.to_bytes()])
        try:
            cipher = store.add(chunks)
            added.append((cipher, cipher_sha256))
            stored_manifest = manifest_add.result()
            added.append((stored_manifest, manifest_sha256))
            try:
                manifest.check_ciphertext(cipher.sha256, cipher.size)
            except ManifestError as exc:
                raise HTTPException(
                    422, f"the manifest does not describe its ciphertext: {exc}"
                ) from exc
            if cipher.cid != manifest.ciphertext_cid:
                raise HTTPException(
                    422, f"the ciphertext's CID is {cipher.cid}, the manifest names another"
                )
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


def _record(
    sessions, cipher: StoredObject, manifest: StoredObject, readers, signed, deal, milestone
):
    """The nonce, the two records (kept when they exist), the copy and its readers: one
    transaction."""
    with connect(sessions) as db:
        auth.spend(db, signed)  # AuthError when a racing copy of the request spent it first
        cipher_row, new_cipher = new_evidence(
            db, cipher, signed, AGE, deal, milestone, signed.escrow
        )
        manifest_row, new_manifest = new_evidence(
            db, manifest, signed, MANIFEST, deal, milestone, signed.escrow
        )
        copy, new_copy = write_copy(db, manifest.cid, cipher.cid, readers, signed.address)
        commit_copy(db, cipher.cid)
        return cipher_row, manifest_row, copy, new_cipher or new_manifest or new_copy
