"""The operator registry in the index (GET /operators): operators (name, profile, admin) and
their keys (added, revoked), per escrow.

A database indexed before this revision has the registry's events in its history
(chain_events, which name their escrow since revision 0004) but its cursors are past them:
they are replayed here into the new tables, per escrow, in chain order.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
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
    events = conn.execute(
        sa.text(
            "SELECT escrow, name, block, args FROM chain_events WHERE name IN :names "
            "ORDER BY escrow, block, log_index"
        ).bindparams(sa.bindparam("names", expanding=True)),
        {"names": REGISTRY_EVENTS},
    ).all()
    operators: dict[tuple[str, int], dict] = {}
    keys: dict[tuple[str, str], dict] = {}
    for escrow, name, block, args in events:
        a = json.loads(args) if isinstance(args, str) else args
        row = operators.get((escrow, a["operatorId"]))
        key = (escrow, a.get("key"))
        if name == "OperatorRegistered":
            operators[(escrow, a["operatorId"])] = {
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
            keys[key] = {
                "escrow": escrow,
                "key": a["key"],
                "operator_id": a["operatorId"],
                "added_block": block,
                "revoked_block": None,
            }
        elif name == "OperatorKeyRevoked" and key in keys:
            keys[key]["revoked_block"] = block
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
