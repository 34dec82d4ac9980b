"""Several escrows in one service: every deal-scoped row names its escrow (deals and milestones
are keyed by escrow and deal id, as each escrow numbers its deals from 1).

The rows already there were written by a service that served one escrow. Which one: the
escrow `escrow-db upgrade --escrow 0x…` names; else the only row of indexer_cursor (the
escrow the index followed). With no such row, or several (the service was pointed at another
escrow once), and rows to fill in, the upgrade is refused, and says to name the escrow:
`check_before` refuses before any revision runs (backend/migrate.py), as SQLite does not roll
back a rebuilt table. Evidence gets the escrow on the rows linked to a deal only.

SQLite cannot change a primary key: deals and milestones are rebuilt, rows kept.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Every table whose rows belong to one deal (or to one escrow's domain: offers).
SCOPED = ("chain_events", "verdicts", "attestation_intake", "proposals", "offers")
KEYED = {"deals": ["escrow", "deal_id"], "milestones": ["escrow", "deal_id", "index"]}


class EscrowUnknown(RuntimeError):
    """Existing rows, and no way to tell which escrow they belong to."""


def check_before(bind, named: str | None) -> str | None:
    """The escrow the existing rows belong to (None: there are none), or EscrowUnknown."""
    if named:
        from eth_utils import is_address, to_checksum_address

        if not is_address(named):
            raise EscrowUnknown(f"--escrow {named} is not an address")
        return to_checksum_address(named)
    if not sa.inspect(bind).has_table("indexer_cursor"):
        return None  # a new database: the baseline creates the tables, empty
    cursors = bind.execute(sa.text("SELECT escrow FROM indexer_cursor")).scalars().all()
    if len(cursors) == 1:
        return cursors[0]
    tables = [*SCOPED, *KEYED]
    waiting = [t for t in tables if bind.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first()]
    if bind.execute(sa.text("SELECT 1 FROM evidence WHERE deal_id IS NOT NULL LIMIT 1")).first():
        waiting.append("evidence")
    if waiting:
        raise EscrowUnknown(
            f"the rows of {', '.join(waiting)} were written for one escrow, and the index "
            f"followed {len(cursors)} ({', '.join(cursors) or 'none'}): name the escrow they "
            "belong to with `escrow-db upgrade --escrow 0x…`; nothing was changed"
        )
    return None


def _keyed_table(name: str, bind) -> sa.Table:
    """`name` as it is, with the escrow first and in the primary key (SQLite's rebuild)."""
    old = sa.Table(name, sa.MetaData(), autoload_with=bind)
    columns = [sa.Column("escrow", sa.String(42), nullable=False)]
    columns += [
        sa.Column(c.name, c.type, nullable=c.nullable) for c in old.columns if c.name != "escrow"
    ]
    indexes = [sa.Index(i.name, *[c.name for c in i.columns]) for i in old.indexes]
    return sa.Table(name, sa.MetaData(), *columns, sa.PrimaryKeyConstraint(*KEYED[name]), *indexes)


def upgrade() -> None:
    bind = op.get_bind()
    escrow = check_before(bind, context.config.attributes.get("escrow"))
    for table in (*SCOPED, *KEYED, "evidence"):
        op.add_column(table, sa.Column("escrow", sa.String(42), nullable=True))
        if escrow is not None:
            linked = " WHERE deal_id IS NOT NULL" if table == "evidence" else ""
            bind.execute(sa.text(f"UPDATE {table} SET escrow = :e{linked}"), {"e": escrow})
    for table in SCOPED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("escrow", existing_type=sa.String(42), nullable=False)
    for table, key in KEYED.items():
        if bind.dialect.name == "sqlite":
            with op.batch_alter_table(
                table, copy_from=_keyed_table(table, bind), recreate="always"
            ):
                pass
        else:
            op.alter_column(table, "escrow", existing_type=sa.String(42), nullable=False)
            op.drop_constraint(f"{table}_pkey", table, type_="primary")
            op.create_primary_key(f"{table}_pkey", table, key)


def downgrade() -> None:
    """Refused: the rows of a second escrow would collide with the first's on their deal ids,
    and the escrow of every row would be lost. Restore the backup taken before the upgrade
    (docs/deploy.md)."""
    raise NotImplementedError("0004 cannot be undone: restore the backup taken before it")
