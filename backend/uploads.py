"""A signed upload, step by step, each step touching one thing (POST /evidence runs them,
the body streamed by backend/streamed_upload.py):

1. `check_signer`: the signature (recovered here), the signer's role (chain), the nonce
   unused (one short database read). Nothing written, not a byte of the body read.
2. `media_type_of`: the media type sniffed from the document's first bytes (and a manifest,
   read whole, checked against the ciphertext it names, backend/copies.py) BEFORE anything
   is stored.
3. `add_and_record`: the add to the store (pinned) as the rest of the document arrives, its
   sha256 taken on the way; then that sha256 checked against the signed one, the nonce spent
   and the record written in one short transaction.

So a refused request leaves nothing behind: no row, no nonce spent, no object or pin. A
document refused while it streams (too large, a malformed body) never completes its add; one
refused after the add (another sha256 than the signed one, the nonce spent by a racing copy
of the request) is unpinned again unless a record or another upload of the same bytes holds
it. No database connection is held while the chain or the store is waited on.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from fastapi import HTTPException
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from backend import auth, nonces
from backend.chain import Chain
from backend.db import Evidence, connect, utcnow
from backend.escrows import Escrows
from backend.evidence.mediatype import SNIFF_BYTES, sniff
from backend.evidence.store import EvidenceStore, NotFound, StoredObject, StoreUnavailable
from backend.settings import Settings


def check_signer(
    chain: Chain,
    sessions: sessionmaker[Session],
    settings: Settings,
    header: str | None,
    content_sha256: str,
    deal: int | None,
    action: str = "POST /evidence",
) -> auth.Signed:
    """Who signed, and may they: AuthError (401), HTTPException 403/404, ChainUnavailable."""
    request = auth.parse_header(header)
    message = auth.auth_message(
        action=action,
        content_sha256=content_sha256,
        deal_id=deal,
        chain_id=chain.chain_id,
        escrow=chain.escrow_address,
        nonce=request.nonce,
        expires=request.expires,
    )
    signed = auth.verify(request, message, settings.auth_max_validity_seconds)
    _authorize(chain, signed.address, deal)
    with connect(sessions) as db:
        nonces.check_unused(db, signed)
    return dataclasses.replace(signed, escrow=chain.escrow_address)


def check_signer_for(
    escrows: Escrows, escrow: str | None, default: Chain, *args, **kwargs
) -> auth.Signed:
    """`check_signer(chain, ...)` for the escrow a request names (UnknownEscrow, 404, for one
    not served; `default` when it names none), looked up in the same worker-thread hop: a
    hop costs more than either."""
    chain = default if escrow is None else escrows.get(escrow)
    return check_signer(chain, *args, **kwargs)


def _authorize(chain: Chain, signer: str, deal: int | None) -> None:
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


def media_type_of(settings: Settings, head: bytes, complete: bool) -> str:
    """The media type sniffed from a document's first bytes (`complete`: the whole
    document); HTTPException 415 when it is not accepted."""
    media_type = sniff(head[:SNIFF_BYTES], complete=complete and len(head) < SNIFF_BYTES)
    if media_type not in settings.allowed_media_types:
        raise HTTPException(415, f"media type {media_type or 'unknown'} is not accepted")
    return media_type


def add_and_record(
    chunks: Iterable[bytes],
    store: EvidenceStore,
    sessions: sessionmaker[Session],
    signed: auth.Signed,
    claimed: str,
    media_type: str,
    deal: int | None,
    milestone: int | None,
    lap,
) -> tuple[Evidence, bool]:
    """Adds the document of a checked request (its head sniffed, a manifest checked) to the
    store as `chunks` arrive, then checks its sha256 against the signed one and records it;
    returns the record and whether it is new. Refused after the add (another sha256, a nonce
    spent meanwhile), the add is taken back. `lap(name)` marks the end of the store and
    record steps."""
    with IN_FLIGHT.adding(store, claimed):
        stored = store.add(chunks)
        lap("store")
        try:
            if stored.sha256.hex() != claimed:
                raise HTTPException(400, "the document's sha256 is not the one that was signed")
            row, created = _record(
                sessions, stored, signed, media_type, deal, milestone, signed.escrow
            )
        except BaseException:
            IN_FLIGHT.undo(store, sessions, stored, claimed)
            raise
    lap("record")
    return row, created


def _record(sessions, stored: StoredObject, signed, media_type, deal, milestone, escrow):
    """Spends the nonce and writes the record, in one short transaction."""
    with connect(sessions) as db:
        nonces.spend(db, signed)  # AuthError when a racing copy of the request spent it first
        row, created = new_evidence(db, stored, signed, media_type, deal, milestone, escrow)
        db.commit()
        return row, created


# The record in SQLAlchemy Core, its statements built once (each upload runs them): INSERT ...
# ON CONFLICT (cid) DO NOTHING, the same words in both databases the service runs on, then the
# existing record read only when there is one.
_EVIDENCE = Evidence.__table__
_INSERT_NEW = {
    name: dialect.insert(_EVIDENCE)
    .on_conflict_do_nothing(index_elements=["cid"])
    .execution_options(preserve_rowcount=True)  # the rows it inserted: 1, or 0 on a conflict
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_EXISTING = select(_EVIDENCE).where(_EVIDENCE.c.cid == bindparam("cid"))


def new_evidence(
    db: Connection, stored: StoredObject, signed: auth.Signed, media_type, deal, milestone, escrow
) -> tuple[Evidence, bool]:
    """The record of a stored object, written in `db`'s transaction; an existing one is kept.
    `escrow`: the deal's (checksummed), recorded only with a deal."""
    values = dict(
        cid=stored.cid,
        sha256=stored.sha256.hex(),
        size=stored.size,
        media_type=media_type,
        uploader=signed.address,
        escrow=escrow if deal is not None else None,
        deal_id=deal,
        milestone=milestone,
        created_at=utcnow(),
    )
    if db.execute(_INSERT_NEW[db.dialect.name], values).rowcount:
        return Evidence(**values), True
    existing = db.execute(_EXISTING, {"cid": stored.cid}).one()
    return Evidence(**existing._mapping), False


class InFlight:
    """The documents (by sha256) that uploads in this process are adding right now, counted.
    A document added for a request refused afterwards is unpinned again, unless a record or
    another upload of the same bytes on its way holds it. (One service process per database
    and store, as with SQLite.)"""

    def __init__(self):
        self._lock = threading.Lock()
        self._count: Counter[tuple[int, str]] = Counter()

    @contextmanager
    def adding(self, store: EvidenceStore, sha256: str) -> Iterator[None]:
        key = (id(store), sha256)
        with self._lock:
            self._count[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._count[key] -= 1
                if not self._count[key]:
                    del self._count[key]

    def undo(self, store: EvidenceStore, sessions, stored: StoredObject, claimed: str) -> None:
        """Unpins `stored`, added by an upload counted under `claimed` (the sha256 it was
        signed for, which the bytes added may not have), unless something holds it."""
        actual = stored.sha256.hex()
        # Under the lock: no other upload of these bytes starts its add meanwhile.
        with self._lock:
            others = self._count[(id(store), actual)] - (actual == claimed)
            if others > 0:
                return
            with sessions() as db:
                if db.scalar(select(Evidence.cid).where(Evidence.cid == stored.cid)):
                    return
            try:
                store.unpin(stored.cid)
            except (NotFound, StoreUnavailable):  # gone already, or the node is: nothing to do
                logging.getLogger("escrow.uploads").warning("could not unpin %s", stored.cid)


IN_FLIGHT = InFlight()
