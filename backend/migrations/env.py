"""Alembic's environment: runs the revisions on the connection backend.migrate hands it (or on
the URL of its config), against the service's models (autogenerate compares with them)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from backend.db import Base

config = context.config
target_metadata = Base.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by rebuilding
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        run(conn)
    engine.dispose()
