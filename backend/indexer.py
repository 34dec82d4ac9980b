"""Follows each escrow's events into the database: deals, milestones, verdicts, operators, history.

Resumable and exact: each batch of blocks is applied in ONE database transaction together with
the cursor (the next block to read), so a crash or restart either keeps a whole batch or none of
it, never half; and (tx_hash, log_index) is unique, so no event can count twice. Only blocks at
least `confirmations` deep are read, so a short reorg at the head is never indexed. Run it with
`python -m backend.indexer` (loops) or call `Indexer.sync()`.

Fast: one eth_getLogs over up to `batch_blocks` blocks (halved while the node refuses the
range), the raw logs decoded by backend/event_logs.py, the rows a batch touches read in a few
queries and written with one bulk statement per table (backend/bulk_sql.py), one commit per
batch; no database connection is held while the RPC is asked for logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.bulk_sql import IN_CHUNK, chunks, insert_many, update_many
from backend.chain import Chain
from backend.db import ChainEvent, DealRow, IndexerCursor, MilestoneRow, VerdictRow
from backend.escrow.errors import RangeRefused
from backend.escrow.statuses import (
    FINAL_MILESTONE_STATUSES,
    ChangeAction,
    DealStatus,
    MilestoneStatus,
)
from backend.escrow.structs import Milestone
from backend.escrows import Escrows
from backend.event_logs import Log, decode_logs, decoders, jsonable
from backend.operator_index import HANDLERS as OPERATOR_HANDLERS
from backend.operator_index import OperatorBatch

BATCH_BLOCKS = 10_000


class Indexer:
    def __init__(
        self,
        chain: Chain,
        sessions: sessionmaker[Session],
        confirmations: int = 2,
        start_block: int = 0,
        batch_blocks: int = BATCH_BLOCKS,
    ):
        self.chain = chain
        self.sessions = sessions
        self.confirmations = confirmations
        self.start_block = start_block
        self.batch_blocks = batch_blocks
        self._decoders = decoders(chain.escrow.abi)

    def sync(self, until_block: int | None = None) -> int:
        """Index every confirmed block not indexed yet (up to `until_block` if given).
        Returns the number of events applied."""
        head = self.chain.block_number() - self.confirmations
        last = head if until_block is None else min(head, until_block)
        address = self.chain.escrow_address
        span, applied = self.batch_blocks, 0
        while True:
            with self.sessions() as db:
                first = self._cursor(db).next_block
            if first > last:
                return applied
            end = min(first + span - 1, last)
            try:
                logs = self.chain.get_logs(address, first, end)
            except RangeRefused:
                if span == 1:
                    raise
                span //= 2  # the node limits ranges or results: ask for less
                continue
            with self.sessions() as db, db.begin():
                cursor = self._cursor(db)
                if cursor.next_block != first:  # another indexer committed this range
                    continue
                applied += _Batch(db, address, first, end).apply(decode_logs(self._decoders, logs))
                cursor.next_block = end + 1

    def _cursor(self, db: Session) -> IndexerCursor:
        cursor = db.get(IndexerCursor, self.chain.escrow_address)
        if cursor is None:
            cursor = IndexerCursor(escrow=self.chain.escrow_address, next_block=self.start_block)
            db.add(cursor)
        return cursor


class _Batch:
    """One database transaction of the indexer. The rows its logs touch are read up front (a
    few queries, not one per event) into plain dicts of their columns, changed there by the
    handlers, and written once at the end: new rows and events by bulk inserts, changed rows
    by one bulk update per table (no ORM unit of work for thousands of objects)."""

    def __init__(self, db: Session, escrow: str, first_block: int, last_block: int):
        self.db = db
        self.escrow = escrow  # checksummed; every row the batch writes is this escrow's
        self._range = (first_block, last_block)
        self.deals: dict[int, dict] = {}
        self.milestones: dict[int, dict[int, dict]] = {}  # deal id -> index -> row
        self.verdicts: list[dict] = []
        self._loaded: dict[tuple, tuple] = {}  # (table, key) -> the row as read
        self.operators = OperatorBatch(escrow, self._keep)

    def apply(self, logs: list[Log]) -> int:
        seen = set(
            self.db.execute(
                select(ChainEvent.tx_hash, ChainEvent.log_index).where(
                    ChainEvent.block.between(*self._range)
                )
            ).tuples()
        )
        logs = [log for log in logs if (log.tx_hash, log.log_index) not in seen]
        if not logs:  # a replayed range adds nothing
            return 0
        self._load({log.args["dealId"] for log in logs if "dealId" in log.args})
        self.operators.load(self.db, logs)
        events = []
        for log in logs:
            deal_id = log.args.get("dealId")
            events.append(
                {
                    "block": log.block,
                    "tx_hash": log.tx_hash,
                    "log_index": log.log_index,
                    "name": log.name,
                    "escrow": self.escrow,
                    "deal_id": deal_id,
                    "args": jsonable(log.args),
                }
            )
            handler = HANDLERS.get(log.name)
            # A deal created before the configured start block is kept in the history only.
            known = deal_id is None or log.name == "DealCreated" or deal_id in self.deals
            if handler is not None and known:
                handler(self, log)
        insert_many(self.db, ChainEvent, events)
        insert_many(self.db, VerdictRow, self.verdicts)
        self._write(DealRow, {(d,): row for d, row in self.deals.items()})
        self._write(
            MilestoneRow,
            {(d, i): row for d, rows in self.milestones.items() for i, row in rows.items()},
        )
        for table, rows in self.operators.rows():
            self._write(table, rows)
        return len(events)

    def _load(self, deal_ids: set[int]) -> None:
        deals, milestones = DealRow.__table__, MilestoneRow.__table__
        d, m = deals.c, milestones.c
        for chunk in chunks(sorted(deal_ids), IN_CHUNK):
            query = select(deals).where(d.escrow == self.escrow, d.deal_id.in_(chunk))
            for row in self.db.execute(query).mappings():
                self.deals[row["deal_id"]] = self._keep(DealRow, (row["deal_id"],), row)
            query = select(milestones).where(m.escrow == self.escrow, m.deal_id.in_(chunk))
            for row in self.db.execute(query).mappings():
                key = (row["deal_id"], row["index"])
                self.milestones.setdefault(key[0], {})[key[1]] = self._keep(MilestoneRow, key, row)

    def _keep(self, table, key: tuple, row) -> dict:
        self._loaded[(table, key)] = tuple(row.values())
        return dict(row)

    def _write(self, table, rows: dict[tuple, dict]) -> None:
        was = {key: self._loaded.get((table, key)) for key in rows}  # None: a new row
        new = [row for key, row in rows.items() if was[key] is None]
        changed = [row for key, row in rows.items() if was[key] not in (None, tuple(row.values()))]
        insert_many(self.db, table, new)
        update_many(self.db, table, changed)

    def milestone(self, a: dict) -> dict:
        return self.milestones[a["dealId"]][a["index"]]


# ---------------------------------------------------------------- event handlers


def _deal_created(b: _Batch, log: Log) -> None:
    a = log.args
    b.deals[a["dealId"]] = {
        "escrow": b.escrow,
        "deal_id": a["dealId"],
        "buyer": a["buyer"],
        "supplier": a["supplier"],
        "arbiter": a["arbiter"],
        "status": DealStatus(a["status"]).label,
        "total": str(a["total"]),
        "funded": "0",
        "released": "0",
        "refunded": "0",
        "created_block": log.block,
    }
    rows = b.milestones.setdefault(a["dealId"], {})
    for index, (word, req) in enumerate(zip(a["milestones"], a["requirements"], strict=True)):
        rows[index] = _milestone_row(b, a["dealId"], index, Milestone.unpack(word, bytes(req)))


def _deal_accepted(b: _Batch, log: Log) -> None:
    b.deals[log.args["dealId"]]["status"] = DealStatus.ACCEPTED.label


def _deal_funded(b: _Batch, log: Log) -> None:
    a = log.args
    deal = b.deals[a["dealId"]]
    deal["funded"] = str(int(deal["funded"]) + a["credited"])
    if a["remaining"] == 0:
        deal["status"] = DealStatus.ACTIVE.label


def _deal_cancelled(b: _Batch, log: Log) -> None:
    deal = b.deals[log.args["dealId"]]
    deal["status"] = DealStatus.CANCELLED.label
    deal["refunded"] = str(int(deal["refunded"]) + log.args["refunded"])


def _milestone_attested(b: _Batch, log: Log) -> None:
    _verdict(b, log, True)


def _milestone_rejected(b: _Batch, log: Log) -> None:
    _verdict(b, log, False)
    if log.args["blocked"]:
        b.milestone(log.args)["status"] = MilestoneStatus.REJECTED.label


def _milestone_released(b: _Batch, log: Log) -> None:
    _paid(b, log.args, MilestoneStatus.RELEASED, "released")


def _milestone_refunded(b: _Batch, log: Log) -> None:
    _paid(b, log.args, MilestoneStatus.REFUNDED, "refunded")


# Every payout of a milestone, whatever ended it (release, refund, ruling, default), has its
# MilestoneReleased / MilestoneRefunded: the amounts come from those two alone. The events
# below only move statuses and deadlines; the contract emits them in an order that leaves each
# row at the milestone's status.


def _examination_started(b: _Batch, log: Log) -> None:
    _stage(b, log.args, MilestoneStatus.EXAMINING, log.args["examinationEnds"])


def _retention_held(b: _Batch, log: Log) -> None:
    _stage(b, log.args, MilestoneStatus.RETAINED, log.args["warrantyEnds"])


def _dispute_opened(b: _Batch, log: Log) -> None:
    _stage(b, log.args, MilestoneStatus.DISPUTED, log.args["rulingDeadline"])


def _dispute_settled(b: _Batch, log: Log) -> None:
    b.milestone(log.args)["status"] = MilestoneStatus.SETTLED.label


def _deal_cancelled_by_agreement(b: _Batch, log: Log) -> None:
    a = log.args
    deal = b.deals[a["dealId"]]
    deal["status"] = DealStatus.CANCELLED.label
    deal["released"] = str(int(deal["released"]) + a["toSupplier"])
    deal["refunded"] = str(int(deal["refunded"]) + a["held"] - a["toSupplier"])
    for row in b.milestones.get(a["dealId"], {}).values():
        if row["status"] not in FINAL_LABELS:
            row["status"] = MilestoneStatus.SETTLED.label


def _milestone_amended(b: _Batch, log: Log) -> None:
    a = log.args
    rows = b.milestones.setdefault(a["dealId"], {})
    if ChangeAction(a["action"]) == ChangeAction.REMOVE:
        rows[a["index"]].update(status=MilestoneStatus.REMOVED.label, amount="0")
        return
    terms = Milestone.unpack(a["terms"], bytes(a["requirementsHash"]))
    if a["index"] in rows:  # edited: the same row (it keeps its key), new terms
        rows[a["index"]].update(_milestone_row(b, a["dealId"], a["index"], terms))
    else:  # added
        rows[a["index"]] = _milestone_row(b, a["dealId"], a["index"], terms)


def _deal_amended(b: _Batch, log: Log) -> None:
    a = log.args
    deal = b.deals[a["dealId"]]
    deal["total"] = str(a["total"])
    if a["added"] >= a["removed"]:
        deal["funded"] = str(int(deal["funded"]) + a["added"] - a["removed"])
    else:
        deal["refunded"] = str(int(deal["refunded"]) + a["removed"] - a["added"])


# The events that change rows, and what changes them (the operator registry's: in
# backend/operator_index.py); every other event (PaymentsAssigned, PaymentDeferred,
# Withdrawn...) is kept in the history only.
HANDLERS: dict[str, Callable[[_Batch, Log], None]] = {
    "DealCreated": _deal_created,
    "DealAccepted": _deal_accepted,
    "DealFunded": _deal_funded,
    "DealCancelled": _deal_cancelled,
    "MilestoneAttested": _milestone_attested,
    "MilestoneRejected": _milestone_rejected,
    "MilestoneReleased": _milestone_released,
    "MilestoneRefunded": _milestone_refunded,
    "ExaminationStarted": _examination_started,
    "RetentionHeld": _retention_held,
    "DisputeOpened": _dispute_opened,
    "DisputeSettled": _dispute_settled,
    "DealCancelledByAgreement": _deal_cancelled_by_agreement,
    "MilestoneAmended": _milestone_amended,
    "DealAmended": _deal_amended,
    **dict.fromkeys(OPERATOR_HANDLERS, lambda b, log: b.operators.apply(log)),
}


def _stage(b: _Batch, a: dict, status: MilestoneStatus, deadline: int) -> None:
    b.milestone(a).update(status=status.label, due_at=deadline)


def _verdict(b: _Batch, log: Log, met: bool) -> None:
    a = log.args
    b.verdicts.append(
        {
            "escrow": b.escrow,
            "deal_id": a["dealId"],
            "index": a["index"],
            "operator_id": a["operatorId"],
            "signer": a["signer"],
            "met": met,
            "evidence_sha256": bytes(a["evidenceHash"]).hex(),
            "block": log.block,
            "tx_hash": log.tx_hash,
        }
    )


def _paid(b: _Batch, a: dict, status: MilestoneStatus, column: str) -> None:
    b.milestone(a)["status"] = status.label
    deal = b.deals[a["dealId"]]
    deal[column] = str(int(deal[column]) + a["amount"])


def _milestone_row(b: _Batch, deal_id: int, index: int, m: Milestone) -> dict:
    """A milestone row from its (new) terms: Pending, as created or edited."""
    return {
        "escrow": b.escrow,
        "deal_id": deal_id,
        "index": index,
        "amount": str(m.amount),
        "due_at": m.due_at,
        "quorum": m.quorum,
        "oracles": list(m.oracles),
        "requirements_hash": "0x" + m.requirements_hash.hex(),
        "status": MilestoneStatus.PENDING.label,
    }


FINAL_LABELS = {s.label for s in FINAL_MILESTONE_STATUSES}


def for_every_escrow(escrows: Escrows, sessions: sessionmaker[Session]) -> list[Indexer]:
    """One indexer (one cursor) per escrow served, from its deployment block (or a later start)."""
    settings = escrows.settings
    return [
        Indexer(
            escrows.get(served.address),
            sessions,
            settings.indexer_confirmations,
            max(settings.indexer_start_block, served.block),
            settings.indexer_batch_blocks,
        )
        for served in escrows.served()
    ]


def main() -> None:  # pragma: no cover - the long-running entry point
    from backend.db import make_sessionmaker
    from backend.lease import Lease
    from backend.settings import Settings

    settings = Settings.from_env()
    sessions = make_sessionmaker(settings.database, settings.escrow_address)
    lease = Lease(sessions.kw["bind"])  # beside replicas of the service: one indexer at a time
    indexers: list[Indexer] = []
    while True:
        try:
            indexers = indexers or for_every_escrow(Escrows(settings), sessions)
            count = sum(i.sync() for i in indexers) if lease.held() else 0
            if count:
                print(f"indexed {count} events", flush=True)
        except Exception:  # keep following; the next round retries the same blocks
            logging.getLogger("escrow.indexer").exception("indexer round failed")
        time.sleep(settings.indexer_interval_seconds)


if __name__ == "__main__":
    main()
