"""The service's side of confidential evidence (docs/confidential.md, docs/service.md): a
manifest is stored only when the ciphertext it names is; each ciphertext of a manifest's
document is a copy, recorded with the readers its uploader says it was encrypted to; an
attestation of a manifest needs that ciphertext pinned. The service never decrypts."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import auth, nonces
from backend.confidential.errors import ConfidentialError, ManifestError
from backend.confidential.identity import parse_recipient
from backend.confidential.manifest import Manifest, parse_manifest
from backend.db import CopyReader, Evidence, EvidenceCopy, connect, utcnow
from backend.evidence.mediatype import AGE, MANIFEST
from backend.evidence.store import EvidenceStore, NotFound


def check_manifest(sessions: sessionmaker[Session], data: bytes) -> Manifest:
    """The manifest in `data`, refused (422) unless it is canonical and valid and the
    ciphertext it names is stored here with that CID, sha256 and size."""
    try:
        manifest = parse_manifest(data)
    except ManifestError as exc:
        raise HTTPException(422, f"not a valid manifest: {exc}") from exc
    with sessions() as db:
        cipher = db.get(Evidence, manifest.ciphertext_cid)
    if cipher is None or cipher.media_type != AGE:
        raise HTTPException(
            422,
            f"the manifest names ciphertext {manifest.ciphertext_cid}, which is not stored "
            "here: upload the ciphertext first",
        )
    try:
        manifest.check_ciphertext(bytes.fromhex(cipher.sha256), cipher.size)
    except ManifestError as exc:
        raise HTTPException(422, f"the manifest does not describe its ciphertext: {exc}") from exc
    return manifest


def stored_manifest(store: EvidenceStore, row: Evidence) -> Manifest | None:
    """The manifest a stored record holds, or None when the record is no manifest."""
    if row.media_type != MANIFEST:
        return None
    return parse_manifest(b"".join(store.cat(row.cid)))  # checked when it was stored


def require_ciphertext_pinned(
    sessions: sessionmaker[Session], store: EvidenceStore, sha256: str
) -> None:
    """For the attestation intake: when `sha256` is a stored manifest's, the ciphertext it
    names must be stored and pinned here too (409 otherwise)."""
    with sessions() as db:
        row = db.scalar(select(Evidence).where(Evidence.sha256 == sha256))
    if row is None:
        return
    try:
        manifest = stored_manifest(store, row)
    except NotFound as exc:
        raise HTTPException(409, f"the manifest {row.cid} is recorded but not pinned here") from exc
    if manifest is None:
        return
    with sessions() as db:
        recorded = db.get(Evidence, manifest.ciphertext_cid) is not None
    if not (recorded and store.has(manifest.ciphertext_cid)):
        raise HTTPException(
            409,
            f"the manifest names ciphertext {manifest.ciphertext_cid}, which is not pinned here",
        )


# ---------------------------------------------------------------- copies


class ReaderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    recipient: str = Field(pattern=r"^age1[02-9ac-hj-np-z]{58}$", description="age X25519")


class CopyIn(BaseModel):
    """The body of POST /evidence/{cid}/copies."""

    model_config = ConfigDict(extra="forbid")

    ciphertext: str = Field(description="the CID of the copy's age file, stored here")
    readers: list[ReaderIn] = Field(min_length=1, max_length=64)

    def checked_readers(self) -> list[tuple[str, str]]:
        return checked_readers(self.readers)


def checked_readers(entries: list[ReaderIn]) -> list[tuple[str, str]]:
    """(checksummed account, recipient) per reader; 400 for a recipient that is no age X25519
    recipient or an account named twice."""
    readers: list[tuple[str, str]] = []
    for reader in entries:
        try:
            parse_recipient(reader.recipient)
        except ConfidentialError as exc:
            raise HTTPException(400, f"reader {reader.account}: {exc}") from exc
        readers.append((auth.checksummed(reader.account), reader.recipient))
    if len({a for a, _ in readers}) != len(readers):
        raise HTTPException(400, "a reader is named twice")
    return readers


class Sizes(BaseModel):
    sha256: str
    size: int


class CiphertextOut(Sizes):
    cid: str


class CopyOut(BaseModel):
    id: int
    manifest: str
    ciphertext: CiphertextOut
    plaintext: Sizes
    anchored: bool
    readers: list[ReaderIn]
    uploader: str
    created_at: str


def copy_out(db: Session, store_manifest: Manifest, copy: EvidenceCopy) -> CopyOut:
    cipher = db.get(Evidence, copy.ciphertext_cid)
    assert cipher is not None  # a copy is recorded only for a stored ciphertext
    readers = db.scalars(
        select(CopyReader).where(CopyReader.copy_id == copy.id).order_by(CopyReader.id)
    )
    return copy_of(store_manifest, copy, cipher, [(r.account, r.recipient) for r in readers])


def copy_of(
    store_manifest: Manifest, copy: EvidenceCopy, cipher: Evidence, readers: list[tuple[str, str]]
) -> CopyOut:
    """`copy` as CopyOut, from its ciphertext's record and its readers (in their order) when
    they are in hand: as `write_copy` returned them, with no database read."""
    return CopyOut(
        id=copy.id,
        manifest=copy.manifest_cid,
        ciphertext=CiphertextOut(cid=cipher.cid, sha256=cipher.sha256, size=cipher.size),
        plaintext=Sizes(
            sha256=store_manifest.plaintext_sha256.hex(), size=store_manifest.plaintext_size
        ),
        anchored=copy.ciphertext_cid == store_manifest.ciphertext_cid,
        readers=[ReaderIn(account=a, recipient=r) for a, r in readers],
        uploader=copy.uploader,
        created_at=_utc_text(copy.created_at),
    )


def _utc_text(at: datetime) -> str:
    """ISO 8601 in UTC with its `Z`, as the service writes it: SQLite gives the time back
    without its zone, PostgreSQL with it."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat().replace("+00:00", "Z")


def record_copy(
    sessions: sessionmaker[Session],
    manifest_cid: str,
    ciphertext_cid: str,
    readers: list[tuple[str, str]],
    signed: auth.Signed,
) -> tuple[EvidenceCopy, bool]:
    """Spends the nonce and writes the copy and its readers in one transaction; the same copy
    again is (its record, False); other readers for a recorded ciphertext are 409."""
    with connect(sessions) as db:
        copy, created = write_copy(db, manifest_cid, ciphertext_cid, readers, signed.address)
        nonces.spend(db, signed)  # AuthError when a racing copy of the request spent it first
        commit_copy(db, ciphertext_cid)
        return copy, created


# The copy's statements in SQLAlchemy Core, built once (each confidential upload runs them).
_EVIDENCE = Evidence.metadata.tables[Evidence.__tablename__]
_COPIES = EvidenceCopy.metadata.tables[EvidenceCopy.__tablename__]
_READERS = CopyReader.metadata.tables[CopyReader.__tablename__]
_MEDIA_TYPE = select(_EVIDENCE.c.media_type).where(_EVIDENCE.c.cid == bindparam("cid"))
_COPY_OF = select(_COPIES).where(_COPIES.c.ciphertext_cid == bindparam("cid"))
_ADD_COPY = insert(_COPIES)
_ADD_READERS = insert(_READERS)
_READERS_OF = (
    select(_READERS.c.account, _READERS.c.recipient)
    .where(_READERS.c.copy_id == bindparam("copy_id"))
    .order_by(_READERS.c.id)
)


def write_copy(
    db: Connection,
    manifest_cid: str,
    ciphertext_cid: str,
    readers: list[tuple[str, str]],
    uploader: str,
) -> tuple[EvidenceCopy, bool]:
    """The copy and its readers, written in `db`'s transaction (the caller commits): 404 for a
    ciphertext not recorded, 400 for one that is no age file, 409 for a ciphertext recorded
    with another manifest or other readers; the same copy again is (its record, False)."""
    media_type = db.execute(_MEDIA_TYPE, {"cid": ciphertext_cid}).scalar()
    if media_type is None:
        raise HTTPException(404, f"no ciphertext with CID {ciphertext_cid}: upload it first")
    if media_type != AGE:
        raise HTTPException(400, f"{ciphertext_cid} is not an age ciphertext")
    existing = db.execute(_COPY_OF, {"cid": ciphertext_cid}).first()
    if existing is not None:
        if existing.manifest_cid == manifest_cid and _readers(db, existing.id) == readers:
            return EvidenceCopy(**existing._mapping), False
        raise HTTPException(409, f"a copy of ciphertext {ciphertext_cid} is recorded already")
    values = dict(
        manifest_cid=manifest_cid,
        ciphertext_cid=ciphertext_cid,
        uploader=uploader,
        created_at=utcnow(),
    )
    inserted = db.execute(_ADD_COPY, values).inserted_primary_key
    copy_id = inserted.id  # type: ignore[union-attr]  # None only for an executemany
    rows = [{"copy_id": copy_id, "account": a, "recipient": r} for a, r in readers]
    db.execute(_ADD_READERS, rows)  # one executemany, the readers numbered in their order
    return EvidenceCopy(id=copy_id, **values), True


def commit_copy(db: Connection, ciphertext_cid: str) -> None:
    try:
        db.commit()
    except IntegrityError as exc:  # the same ciphertext, recorded at the same moment
        db.rollback()
        raise HTTPException(409, f"a copy of {ciphertext_cid} is recorded already") from exc


def _readers(db: Connection, copy_id: int) -> list[tuple[str, str]]:
    return [(a, r) for a, r in db.execute(_READERS_OF, {"copy_id": copy_id})]


def copies_of(db: Session, manifest_cid: str, reader: str | None) -> list[EvidenceCopy]:
    query = select(EvidenceCopy).where(EvidenceCopy.manifest_cid == manifest_cid)
    if reader is not None:
        query = query.join(CopyReader, CopyReader.copy_id == EvidenceCopy.id).where(
            CopyReader.account == reader
        )
    return list(db.scalars(query.order_by(EvidenceCopy.id)))


def load_manifest(store: EvidenceStore, row: Evidence, cid: str) -> Manifest:
    """The manifest the record `row` of `cid` holds: 404 when it holds none."""
    try:
        manifest = stored_manifest(store, row)
    except NotFound:
        manifest = None
    if manifest is None:
        raise HTTPException(404, f"no manifest with CID {cid}")
    return manifest
