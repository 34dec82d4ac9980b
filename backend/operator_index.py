"""The operator registry's events in the index (backend/indexer.py): each operator (its name,
profile and admin) and each of its keys, live or revoked, so that a buyer can pick oracles
and an arbiter by name (GET /operators) without reading the chain.

Part of an indexer batch: the rows its logs touch are read up front, changed here, and
written by the batch with its other rows, in its one transaction. An operator registered
before the indexer's start block is not indexed (nor are its later events): start the
indexer at or before the escrow's deployment block to know every operator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.bulk_sql import IN_CHUNK, chunks
from backend.db import OperatorKeyRow, OperatorRow
from backend.event_logs import Log

Keep = Callable[[type, tuple, Mapping], dict]


class OperatorBatch:
    """The operator and key rows of one escrow that a batch's logs touch."""

    def __init__(self, escrow: str, keep: Keep):
        self.escrow = escrow
        self._keep = keep  # records a row as read, so the batch writes only what changed
        self.operators: dict[int, dict] = {}
        self.keys: dict[str, dict] = {}

    def load(self, db: Session, logs: list[Log]) -> None:
        mine = [log for log in logs if log.name in HANDLERS]
        ids = sorted({log.args["operatorId"] for log in mine})
        keys = sorted({log.args["key"] for log in mine if "key" in log.args})
        operators, key_rows = OperatorRow.__table__, OperatorKeyRow.__table__
        for chunk in chunks(ids, IN_CHUNK):
            query = select(operators).where(
                operators.c.escrow == self.escrow, operators.c.operator_id.in_(chunk)
            )
            for row in db.execute(query).mappings():
                key = (self.escrow, row["operator_id"])
                self.operators[row["operator_id"]] = self._keep(OperatorRow, key, row)
        for chunk in chunks(keys, IN_CHUNK):
            query = select(key_rows).where(
                key_rows.c.escrow == self.escrow, key_rows.c.key.in_(chunk)
            )
            for row in db.execute(query).mappings():
                self.keys[row["key"]] = self._keep(OperatorKeyRow, (self.escrow, row["key"]), row)

    def apply(self, log: Log) -> None:
        HANDLERS[log.name](self, log)

    def rows(self) -> list[tuple[type, dict[tuple, dict]]]:
        """Each table's rows by primary key, for the batch to write."""
        return [
            (OperatorRow, {(self.escrow, i): row for i, row in self.operators.items()}),
            (OperatorKeyRow, {(self.escrow, k): row for k, row in self.keys.items()}),
        ]


def _registered(b: OperatorBatch, log: Log) -> None:
    a = log.args
    b.operators[a["operatorId"]] = {
        "escrow": b.escrow,
        "operator_id": a["operatorId"],
        "admin": a["admin"],
        "name": a["name"],
        "metadata_uri": a["metadataURI"],
        "registered_block": log.block,
    }


def _metadata_updated(b: OperatorBatch, log: Log) -> None:
    row = b.operators.get(log.args["operatorId"])
    if row is not None:  # else registered before the start block
        row.update(name=log.args["name"], metadata_uri=log.args["metadataURI"])


def _admin_transferred(b: OperatorBatch, log: Log) -> None:
    row = b.operators.get(log.args["operatorId"])
    if row is not None:
        row["admin"] = log.args["newAdmin"]


def _key_added(b: OperatorBatch, log: Log) -> None:
    a = log.args
    if a["operatorId"] in b.operators:
        b.keys[a["key"]] = {
            "escrow": b.escrow,
            "key": a["key"],
            "operator_id": a["operatorId"],
            "added_block": log.block,
            "revoked_block": None,
        }


def _key_revoked(b: OperatorBatch, log: Log) -> None:
    row = b.keys.get(log.args["key"])
    if row is not None:
        row["revoked_block"] = log.block


HANDLERS: dict[str, Callable[[OperatorBatch, Log], None]] = {
    "OperatorRegistered": _registered,
    "OperatorMetadataUpdated": _metadata_updated,
    "OperatorAdminTransferred": _admin_transferred,
    "OperatorKeyAdded": _key_added,
    "OperatorKeyRevoked": _key_revoked,
}
