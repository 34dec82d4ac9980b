"""Follows the escrow's events into the database: deals, milestones, verdicts, history.

Resumable and exact: each batch of blocks is applied in ONE database transaction together
with the cursor (the next block to read), so a crash or restart either keeps a whole batch or
none of it, never half; and (tx_hash, log_index) is unique, so no event can count twice.
Only blocks at least `confirmations` deep are read, so a short reorg at the head is never
indexed. Run it with `python -m backend.indexer` (loops) or call `Indexer.sync()`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from eth_utils import event_abi_to_log_topic
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import Chain
from backend.db import ChainEvent, DealRow, IndexerCursor, MilestoneRow, VerdictRow
from backend.terms import ChangeAction, DealStatus, Milestone, MilestoneStatus

BATCH_BLOCKS = 2_000


class Indexer:
    def __init__(
        self,
        chain: Chain,
        sessions: sessionmaker[Session],
        confirmations: int = 2,
        start_block: int = 0,
    ):
        self.chain = chain
        self.sessions = sessions
        self.confirmations = confirmations
        self.start_block = start_block
        abi_events = [e for e in chain.escrow.abi if e["type"] == "event"]
        self._events = {
            "0x" + event_abi_to_log_topic(e).hex().removeprefix("0x"): getattr(
                chain.escrow.events, e["name"]
            )()
            for e in abi_events
        }

    def sync(self, until_block: int | None = None) -> int:
        """Index every confirmed block not indexed yet (up to `until_block` if given).
        Returns the number of events applied."""
        head = self.chain.web3.eth.block_number - self.confirmations
        last = head if until_block is None else min(head, until_block)
        applied = 0
        while True:
            with self.sessions() as db, db.begin():
                cursor = self._cursor(db)
                if cursor.next_block > last:
                    return applied
                end = min(cursor.next_block + BATCH_BLOCKS - 1, last)
                logs = self.chain.web3.eth.get_logs(
                    {
                        "address": self.chain.escrow_address,
                        "fromBlock": cursor.next_block,
                        "toBlock": end,
                    }
                )
                for log in logs:
                    applied += self._apply(db, log)
                cursor.next_block = end + 1

    def _cursor(self, db: Session) -> IndexerCursor:
        cursor = db.get(IndexerCursor, self.chain.escrow_address)
        if cursor is None:
            cursor = IndexerCursor(escrow=self.chain.escrow_address, next_block=self.start_block)
            db.add(cursor)
        return cursor

    def _apply(self, db: Session, log) -> int:
        event = self._events.get("0x" + bytes(log["topics"][0]).hex())
        if event is None:
            return 0
        decoded = event.process_log(log)
        name, args = decoded["event"], dict(decoded["args"])
        tx_hash = "0x" + bytes(log["transactionHash"]).hex()
        exists = db.scalar(
            select(ChainEvent.id).where(
                ChainEvent.tx_hash == tx_hash, ChainEvent.log_index == log["logIndex"]
            )
        )
        if exists is not None:  # already applied: a replayed range adds nothing
            return 0
        block = log["blockNumber"]
        deal_id = args.get("dealId")
        db.add(
            ChainEvent(
                block=block,
                tx_hash=tx_hash,
                log_index=log["logIndex"],
                name=name,
                deal_id=deal_id,
                args=_jsonable(args),
            )
        )
        handler = getattr(self, f"_on_{name}", None)
        # A deal created before the configured start block is kept in the history only.
        known = deal_id is None or name == "DealCreated" or db.get(DealRow, deal_id) is not None
        if handler is not None and known:
            handler(db, args, block, tx_hash)
        return 1

    # ---------------------------------------------------------------- event handlers

    def _on_DealCreated(self, db, a, block, _tx):
        db.add(
            DealRow(
                deal_id=a["dealId"],
                buyer=a["buyer"],
                supplier=a["supplier"],
                arbiter=a["arbiter"],
                status=DealStatus(a["status"]).name.title(),
                total=str(a["total"]),
                funded="0",
                released="0",
                refunded="0",
                created_block=block,
            )
        )
        for index, (word, req) in enumerate(zip(a["milestones"], a["requirements"], strict=True)):
            row = MilestoneRow(deal_id=a["dealId"], index=index)
            _set_terms(row, Milestone.unpack(word, bytes(req)))
            db.add(row)

    def _on_DealAccepted(self, db, a, _block, _tx):
        db.get(DealRow, a["dealId"]).status = "Accepted"

    def _on_DealFunded(self, db, a, _block, _tx):
        deal = db.get(DealRow, a["dealId"])
        deal.funded = str(int(deal.funded) + a["credited"])
        if a["remaining"] == 0:
            deal.status = "Active"

    def _on_DealCancelled(self, db, a, _block, _tx):
        deal = db.get(DealRow, a["dealId"])
        deal.status = "Cancelled"
        deal.refunded = str(int(deal.refunded) + a["refunded"])

    def _on_MilestoneAttested(self, db, a, block, tx):
        self._verdict(db, a, True, block, tx)

    def _on_MilestoneRejected(self, db, a, block, tx):
        self._verdict(db, a, False, block, tx)
        if a["blocked"]:
            db.get(MilestoneRow, (a["dealId"], a["index"])).status = "Rejected"

    def _on_MilestoneReleased(self, db, a, _block, _tx):
        self._paid(db, a, MilestoneStatus.RELEASED, "released")

    def _on_MilestoneRefunded(self, db, a, _block, _tx):
        self._paid(db, a, MilestoneStatus.REFUNDED, "refunded")

    # Every payout of a milestone, whatever ended it (release, refund, ruling, default), has
    # its MilestoneReleased / MilestoneRefunded: the amounts come from those two alone. The
    # events below only move statuses and deadlines; the contract emits them in an order that
    # leaves each row at the milestone's status.

    def _on_ExaminationStarted(self, db, a, _block, _tx):
        self._stage(db, a, "Examining", a["examinationEnds"])

    def _on_RetentionHeld(self, db, a, _block, _tx):
        self._stage(db, a, "Retained", a["warrantyEnds"])

    def _on_DisputeOpened(self, db, a, _block, _tx):
        self._stage(db, a, "Disputed", a["rulingDeadline"])

    def _on_DisputeSettled(self, db, a, _block, _tx):
        db.get(MilestoneRow, (a["dealId"], a["index"])).status = "Settled"

    def _on_DealCancelledByAgreement(self, db, a, _block, _tx):
        deal = db.get(DealRow, a["dealId"])
        deal.status = "Cancelled"
        deal.released = str(int(deal.released) + a["toSupplier"])
        deal.refunded = str(int(deal.refunded) + a["held"] - a["toSupplier"])
        rows = db.scalars(select(MilestoneRow).where(MilestoneRow.deal_id == a["dealId"]))
        for row in rows:
            if row.status not in FINAL_STATUSES:
                row.status = "Settled"

    def _on_MilestoneAmended(self, db, a, _block, _tx):
        key = (a["dealId"], a["index"])
        if ChangeAction(a["action"]) == ChangeAction.REMOVE:
            row = db.get(MilestoneRow, key)
            row.status, row.amount = "Removed", "0"
            return
        row = db.get(MilestoneRow, key) or MilestoneRow(deal_id=a["dealId"], index=a["index"])
        _set_terms(row, Milestone.unpack(a["terms"], bytes(a["requirementsHash"])))
        db.add(row)

    def _on_DealAmended(self, db, a, _block, _tx):
        deal = db.get(DealRow, a["dealId"])
        deal.total = str(a["total"])
        if a["added"] >= a["removed"]:
            deal.funded = str(int(deal.funded) + a["added"] - a["removed"])
        else:
            deal.refunded = str(int(deal.refunded) + a["removed"] - a["added"])

    def _stage(self, db, a, status: str, deadline: int):
        row = db.get(MilestoneRow, (a["dealId"], a["index"]))
        row.status, row.due_at = status, deadline

    def _verdict(self, db, a, met: bool, block, tx):
        db.add(
            VerdictRow(
                deal_id=a["dealId"],
                index=a["index"],
                operator_id=a["operatorId"],
                signer=a["signer"],
                met=met,
                evidence_sha256=bytes(a["evidenceHash"]).hex(),
                block=block,
                tx_hash=tx,
            )
        )

    def _paid(self, db, a, status: MilestoneStatus, column: str):
        db.get(MilestoneRow, (a["dealId"], a["index"])).status = status.name.title()
        deal = db.get(DealRow, a["dealId"])
        setattr(deal, column, str(int(getattr(deal, column)) + a["amount"]))


def _set_terms(row: MilestoneRow, m: Milestone) -> None:
    """A milestone row from its (new) terms: Pending, as created or edited."""
    row.amount, row.due_at, row.quorum = str(m.amount), m.due_at, m.quorum
    row.oracles = list(m.oracles)
    row.requirements_hash = "0x" + m.requirements_hash.hex()
    row.status = "Pending"


FINAL_STATUSES = {"Released", "Refunded", "Settled", "Removed"}


def _jsonable(value):
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):  # dict, or web3's AttributeDict for a struct argument
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, int) and abs(value) >= 2**53:
        return str(value)
    return value


def main() -> None:  # pragma: no cover - the long-running entry point
    from backend.db import make_sessionmaker
    from backend.settings import Settings

    settings = Settings.from_env()
    indexer = Indexer(Chain(settings), make_sessionmaker(settings.database))
    while True:
        count = indexer.sync()
        if count:
            print(f"indexed {count} events")
        time.sleep(2)


if __name__ == "__main__":
    main()
