"""The schema as it was before it was versioned (commit 320a76e).

Written out here, not taken from backend.db: the models move on, this revision does not. A
database made before the schema was versioned has some or all of these tables: only the
missing ones are created, and the next revisions bring them all to the current shape.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

String, BigInteger, Integer = sa.String, sa.BigInteger, sa.Integer


def _col(name: str, kind, **kw) -> sa.Column:
    kw.setdefault("nullable", False)
    return sa.Column(name, kind, **kw)


def baseline() -> sa.MetaData:
    m = sa.MetaData()
    created_at = lambda: _col("created_at", sa.DateTime(timezone=True))  # noqa: E731
    sa.Table(
        "evidence", m,
        _col("cid", String(128), primary_key=True),
        _col("sha256", String(64), unique=True, index=True),
        _col("size", BigInteger), _col("media_type", String(64)), _col("uploader", String(42)),
        _col("deal_id", BigInteger, nullable=True, index=True),
        _col("milestone", Integer, nullable=True),
        created_at(),
    )  # fmt: skip
    sa.Table(
        "used_nonces", m,
        _col("id", Integer, primary_key=True),
        _col("address", String(42)), _col("nonce", String(80)),
        _col("expires", BigInteger, index=True),
        sa.UniqueConstraint("address", "nonce"),
    )  # fmt: skip
    sa.Table(
        "indexer_cursor", m,
        _col("escrow", String(42), primary_key=True), _col("next_block", BigInteger),
    )  # fmt: skip
    sa.Table(
        "chain_events", m,
        _col("id", Integer, primary_key=True),
        _col("block", BigInteger, index=True),
        _col("tx_hash", String(66)), _col("log_index", Integer), _col("name", String(40)),
        _col("deal_id", BigInteger, nullable=True, index=True),
        _col("args", sa.JSON),
        sa.UniqueConstraint("tx_hash", "log_index"),
    )  # fmt: skip
    sa.Table(
        "deals", m,
        _col("deal_id", BigInteger, primary_key=True),
        _col("buyer", String(42), index=True), _col("supplier", String(42), index=True),
        _col("arbiter", Integer), _col("status", String(16)), _col("total", String(40)),
        _col("funded", String(40)), _col("released", String(40)),
        _col("refunded", String(40)), _col("created_block", BigInteger),
    )  # fmt: skip
    sa.Table(
        "milestones", m,
        _col("deal_id", BigInteger, primary_key=True),
        _col("index", Integer, primary_key=True),
        _col("amount", String(40)), _col("due_at", BigInteger), _col("quorum", Integer),
        _col("oracles", sa.JSON), _col("requirements_hash", String(66)),
        _col("status", String(16)),
    )  # fmt: skip
    sa.Table(
        "verdicts", m,
        _col("id", Integer, primary_key=True),
        _col("deal_id", BigInteger, index=True), _col("index", Integer),
        _col("operator_id", Integer), _col("signer", String(42)), _col("met", sa.Boolean),
        _col("evidence_sha256", String(64), index=True),
        _col("block", BigInteger), _col("tx_hash", String(66)),
    )  # fmt: skip
    sa.Table(
        "attestation_intake", m,
        _col("id", Integer, primary_key=True),
        _col("digest", String(66), unique=True),
        _col("deal_id", BigInteger, index=True), _col("milestone", Integer),
        _col("signer", String(42)), _col("met", sa.Boolean),
        _col("evidence_sha256", String(64)), _col("document", String),
        _col("status", String(16), index=True),
        _col("reason", String, nullable=True), _col("tx_hash", String(66), nullable=True),
        created_at(),
    )  # fmt: skip
    sa.Table(
        "proposals", m,
        _col("id", Integer, primary_key=True),
        _col("deal_id", BigInteger, index=True), _col("kind", String(16)),
        _col("signer", String(42)), _col("message", sa.JSON), _col("signature", String),
        _col("digest", String(66), index=True), _col("deal_version", Integer),
        _col("deadline", String(78)), created_at(),
        sa.UniqueConstraint("digest", "signer"),
    )  # fmt: skip
    sa.Table(
        "offers", m,
        _col("id", Integer, primary_key=True),
        _col("supplier", String(42), index=True), _col("buyer", String(42), index=True),
        _col("nonce", String(78)), _col("deadline", String(78)), _col("total", String(40)),
        _col("offer", sa.JSON), _col("signature", String),
        _col("digest", String(66), index=True), created_at(),
        sa.UniqueConstraint("digest", "supplier"),
    )  # fmt: skip
    return m


def upgrade() -> None:
    baseline().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    baseline().drop_all(op.get_bind())
