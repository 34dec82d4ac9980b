"""Deal ids come from the chain, never from the database: on PostgreSQL, `deals.deal_id` loses
the sequence default it got when it was the table's only key (0001: a SERIAL), which revision
0004 kept when the key became (escrow, deal_id). A database made at once from the models (a
new one: backend/migrate.py) never had it; after this revision an upgraded one is the same
(tests/service/test_migrations.py compares the two, table for table). SQLite: nothing to do.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE deals ALTER COLUMN deal_id DROP DEFAULT")
    op.execute("DROP SEQUENCE IF EXISTS deals_deal_id_seq")


def downgrade() -> None:
    pass  # the default generated nothing the service used: nothing to put back
