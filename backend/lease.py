"""Which replica runs the background work (the indexer and the relayer): the one holding the
lease. Several service processes on one PostgreSQL serve the same clients, but only one may
follow the chain and relay attestations at a time, or they would send the same transactions
twice.

On PostgreSQL the lease is a session advisory lock, held on a connection of its own: the
server frees it the moment that connection ends, so when the holder dies (killed, crashed, cut
off) another replica's next try takes it, within one `lease_interval_seconds`. The holder
checks its connection before each round of work; a round already running when the lease is
lost finishes (the indexer's writes are idempotent: each event is unique by transaction and
log index, the cursor moves in the same transaction). An embedded SQLite database has one
process by construction: that process always holds the lease.
"""

from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import Connection, Engine, text

# The advisory lock's key: one number for the whole service (ASCII "escrowbg").
LEASE_KEY = int.from_bytes(b"escrowbg", "big") & ((1 << 63) - 1)
APPLICATION_NAME = "escrow-lease"  # pg_stat_activity shows who holds it: escrow-lease <pid>

log = logging.getLogger("escrow.lease")


class Lease:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._conn: Connection | None = None
        self._guard = threading.Lock()  # the indexer's and the relayer's threads both ask

    @property
    def always_held(self) -> bool:
        return self._engine.dialect.name != "postgresql"

    def held(self) -> bool:
        """Whether this process holds the lease now: kept if its connection still answers,
        taken if it is free. Never waits for it."""
        if self.always_held:
            return True
        with self._guard:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    return True
                except Exception:  # the connection is gone, and the lock with it
                    log.warning("lost the lease (its connection failed)")
                    self._drop()
            return self._try_take()

    def _try_take(self) -> bool:
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception:
            log.warning("cannot reach the database to take the lease", exc_info=True)
            return False
        try:
            conn.execute(text(f"SET application_name = '{APPLICATION_NAME} {os.getpid()}'"))
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEASE_KEY})
            if taken.scalar():
                log.warning("took the lease: this replica runs the indexer and the relayer")
                self._conn = conn
                return True
        except Exception:
            log.warning("could not try the lease", exc_info=True)
        conn.close()
        return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never back to the pool: it may hold the lock
            except Exception:
                pass
            self._conn = None

    def release(self) -> None:
        """On shutdown: the lock goes with the connection, at once rather than on a timeout."""
        with self._guard:
            self._drop()
