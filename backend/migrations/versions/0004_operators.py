"""The operator registry in the index (GET /operators): operators (name, profile, admin) and
their keys (added, revoked), per escrow.

A database indexed before this revision has the registry's events in its history
(chain_events) but its cursor is past them: they are replayed here into the new tables, in
chain order, for the escrow of the one indexer cursor. With no cursor there is nothing to
replay; with several (the escrow address changed under one database) the history does not
say which escrow an event came from, so nothing is replayed and the operators of those
escrows stay unknown until the index is rebuilt (a new database).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REGISTRY_EVENTS = [
    "OperatorRegistered",
    "OperatorMetadataUpdated",
    "OperatorAdminTransferred",
    "OperatorKeyAdded",
    "OperatorKeyRevoked",
]


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("escrow", sa.String(length=42), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("admin", sa.String(length=42), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("metadata_uri", sa.String(), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("escrow", "operator_id"),
    )
    op.create_table(
        "operator_keys",
        sa.Column("escrow", sa.String(length=42), nullable=False),
        sa.Column("key", sa.String(length=42), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("added_block", sa.BigInteger(), nullable=False),
        sa.Column("revoked_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("escrow", "key"),
    )
    with op.batch_alter_table("operator_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_keys_operator_id"), ["operator_id"], unique=False
        )
    _replay_history()


def _replay_history() -> None:
    conn = op.get_bind()
    cursors = conn.execute(sa.text("SELECT escrow FROM indexer_cursor")).scalars().all()
    if len(cursors) != 1:
        return
    escrow = cursors[0]
    events = conn.execute(
        sa.text(
            "SELECT name, block, args FROM chain_events WHERE name IN :names "
            "ORDER BY block, log_index"
        ).bindparams(sa.bindparam("names", expanding=True)),
        {"names": REGISTRY_EVENTS},
    ).all()
    operators: dict[int, dict] = {}
    keys: dict[str, dict] = {}
    for name, block, args in events:
        a = json.loads(args) if isinstance(args, str) else args
        row = operators.get(a["operatorId"])
        if name == "OperatorRegistered":
            operators[a["operatorId"]] = {
                "escrow": escrow,
                "operator_id": a["operatorId"],
                "admin": a["admin"],
                "name": a["name"],
                "metadata_uri": a["metadataURI"],
                "registered_block": block,
            }
        elif name == "OperatorMetadataUpdated" and row:
            row.update(name=a["name"], metadata_uri=a["metadataURI"])
        elif name == "OperatorAdminTransferred" and row:
            row["admin"] = a["newAdmin"]
        elif name == "OperatorKeyAdded" and row:
            keys[a["key"]] = {
                "escrow": escrow,
                "key": a["key"],
                "operator_id": a["operatorId"],
                "added_block": block,
                "revoked_block": None,
            }
        elif name == "OperatorKeyRevoked" and a["key"] in keys:
            keys[a["key"]]["revoked_block"] = block
    tables = sa.MetaData()
    tables.reflect(conn, only=["operators", "operator_keys"])
    if operators:
        conn.execute(tables.tables["operators"].insert(), list(operators.values()))
    if keys:
        conn.execute(tables.tables["operator_keys"].insert(), list(keys.values()))


def downgrade() -> None:
    with op.batch_alter_table("operator_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_keys_operator_id"))
    op.drop_table("operator_keys")
    op.drop_table("operators")
