"""Attestations handed in are unique per (digest, signer), no longer per digest: the EIP-712
digest does not cover the signer, and the oracles of a 2-of-2 milestone sign the very same
facts. (Until this revision backend/db.py did it by hand, for SQLite only.)

SQLite cannot drop a constraint: the table is rebuilt, rows kept. PostgreSQL drops the
digest's unique constraint by its name, whatever the name is.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "attestation_intake"
PER_SIGNER = "attestation_intake_digest_signer_key"  # PostgreSQL's own name for it


def _uniques(columns: list[str]) -> list[str | None]:
    inspector = sa.inspect(op.get_bind())
    found = [
        u["name"] for u in inspector.get_unique_constraints(TABLE) if u["column_names"] == columns
    ]
    found += [  # SQLite reports a column's UNIQUE as a unique index
        i["name"]
        for i in inspector.get_indexes(TABLE)
        if i["unique"] and i["column_names"] == columns
    ]
    return list(dict.fromkeys(found))  # PostgreSQL lists a constraint's index as well


def _has_index(name: str) -> bool:
    return any(i["name"] == name for i in sa.inspect(op.get_bind()).get_indexes(TABLE))


def _per_signer_table() -> sa.Table:
    """The table's shape after this revision, for SQLite's rebuild."""
    col = sa.Column
    return sa.Table(
        TABLE, sa.MetaData(),
        col("id", sa.Integer, primary_key=True),
        col("digest", sa.String(66), nullable=False),
        col("deal_id", sa.BigInteger, nullable=False),
        col("milestone", sa.Integer, nullable=False),
        col("signer", sa.String(42), nullable=False),
        col("met", sa.Boolean, nullable=False),
        col("evidence_sha256", sa.String(64), nullable=False),
        col("document", sa.String, nullable=False),
        col("status", sa.String(16), nullable=False),
        col("reason", sa.String, nullable=True),
        col("tx_hash", sa.String(66), nullable=True),
        col("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("digest", "signer", name=PER_SIGNER),
    )  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        if _uniques(["digest"]) or not _uniques(["digest", "signer"]):
            with op.batch_alter_table(TABLE, copy_from=_per_signer_table(), recreate="always"):
                pass
    else:
        for name in _uniques(["digest"]):
            op.drop_constraint(str(name), TABLE, type_="unique")  # PostgreSQL names them all
        if not _uniques(["digest", "signer"]):
            op.create_unique_constraint(PER_SIGNER, TABLE, ["digest", "signer"])
    for column in ("digest", "deal_id", "status"):  # SQLite's rebuild leaves them out
        if not _has_index(f"ix_{TABLE}_{column}"):
            op.create_index(f"ix_{TABLE}_{column}", TABLE, [column])


def downgrade() -> None:
    op.drop_index("ix_attestation_intake_digest", TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(PER_SIGNER, type_="unique")
        batch.create_unique_constraint("attestation_intake_digest_key", ["digest"])
