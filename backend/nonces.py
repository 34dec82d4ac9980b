"""The signed requests' nonces (auth.py): each accepted once per signer. Checked before a
request does anything, spent in the transaction that records what it did. Apart from auth.py so
that a client (the oracle CLI) signs without loading the database models."""

from __future__ import annotations

import time

from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.auth import REPLAYED, AuthError, Signed
from backend.db import UsedNonce

# Every upload runs these: built once, in SQLAlchemy Core (one row each, no unit of work),
# so that each execution finds its compiled form in the engine's cache.
_NONCES = UsedNonce.metadata.tables[UsedNonce.__tablename__]
_USED = select(_NONCES.c.id).where(
    _NONCES.c.address == bindparam("address"), _NONCES.c.nonce == bindparam("nonce")
)
_SPEND = insert(_NONCES)
_PURGE = delete(_NONCES).where(_NONCES.c.expires < bindparam("now"))


def check_unused(db: Connection | Session, signed: Signed) -> None:
    """AuthError when the request's nonce was spent before (a replay)."""
    if db.execute(_USED, {"address": signed.address, "nonce": signed.nonce}).first():
        raise AuthError(REPLAYED)


PURGE_EVERY_SECONDS = 60  # expired nonces are deleted at most this often (they are harmless)
_purged_at = 0


def spend(db: Connection | Session, signed: Signed, now: int | None = None) -> None:
    """Marks the nonce used, in `db`'s open transaction (the caller commits). AuthError when a
    concurrent copy of the same request spent it first (the unique address and nonce)."""
    global _purged_at
    now = int(time.time()) if now is None else now
    if now - _purged_at >= PURGE_EVERY_SECONDS or now < _purged_at:
        db.execute(_PURGE, {"now": now})  # expired nonces can go
        _purged_at = now
    nonce = {"address": signed.address, "nonce": signed.nonce, "expires": signed.expires}
    try:
        db.execute(_SPEND, nonce)
    except IntegrityError as exc:
        db.rollback()
        raise AuthError(REPLAYED) from exc
