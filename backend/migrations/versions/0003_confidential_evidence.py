"""Confidential evidence (docs/confidential.md): the accounts' published age recipients
(key_bindings, kept as the signed documents they came in), the ciphertexts of a stored
manifest (evidence_copies: the anchored one and later readers' copies) and whom each copy was
encrypted to, as its uploader stated it (evidence_copy_readers). New tables only.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manifest_cid", sa.String(length=128), nullable=False),
        sa.Column("ciphertext_cid", sa.String(length=128), nullable=False),
        sa.Column("uploader", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ciphertext_cid"),
    )
    with op.batch_alter_table("evidence_copies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_copies_manifest_cid"), ["manifest_cid"], unique=False
        )

    op.create_table(
        "evidence_copy_readers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("copy_id", "account"),
    )
    with op.batch_alter_table("evidence_copy_readers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_copy_readers_account"), ["account"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_copy_readers_copy_id"), ["copy_id"], unique=False
        )

    op.create_table(
        "key_bindings",
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.String(length=20), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )


def downgrade() -> None:
    op.drop_table("key_bindings")
    with op.batch_alter_table("evidence_copy_readers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_copy_readers_copy_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_copy_readers_account"))

    op.drop_table("evidence_copy_readers")
    with op.batch_alter_table("evidence_copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_copies_manifest_cid"))

    op.drop_table("evidence_copies")
