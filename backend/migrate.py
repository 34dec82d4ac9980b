"""The schema's versions (Alembic, backend/migrations): upgrading a database, and the check
the service makes before it starts.

    escrow-db upgrade      (or python -m backend.migrate upgrade): ESCROW_DATABASE_URL to head
    escrow-db current      the database's revision, and the head's
    escrow-db revision -m "what changes"   a new revision, written from the models' difference

An embedded SQLite database (make demo, make serve) is upgraded when the service starts; any
other (PostgreSQL in production) is only checked: the service refuses to start on a database
that is behind, and says to run `escrow-db upgrade` (docs/deploy.md), so an upgrade is a step
an operator takes, after a backup, from one place, not something each replica races to do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, inspect

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_COMMAND = "escrow-db upgrade (python -m backend.migrate upgrade)"


class SchemaBehind(RuntimeError):
    """The database's schema is not the code's: the message says which command upgrades it."""


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(config("sqlite://")).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(
    engine: Engine,
    revision: str = "head",
    escrow: str | None = None,
    models: MetaData | None = None,
) -> None:
    """To `revision` on `engine`. A database made before the schema was versioned (tables, no
    version) goes through the baseline too, which creates only what is missing. Given the
    models' metadata (`models`, as the service gives it), an empty database gets the head
    schema at once, made from them and stamped with the head revision (Alembic's recipe for a
    new database: replaying every revision, SQLite's table rebuilds included, took a second on
    this machine at every start of a new service). `escrow`: the escrow the rows of a
    one-escrow service belong to (revision 0004; default: the one its index followed)."""
    cfg = config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        if models is not None and revision == "head" and not inspect(conn).get_table_names():
            models.create_all(conn)
            command.stamp(cfg, "head")
            return
        _check_before(conn, cfg, revision, escrow)
        cfg.attributes["escrow"] = escrow
        command.upgrade(cfg, revision)


def _check_before(conn, cfg: Config, revision: str, escrow: str | None) -> None:
    """Lets each revision to run refuse (its `check_before`) before any of them runs: SQLite
    does not roll back the tables a revision rebuilt, so a refusal halfway would leave them."""
    found = MigrationContext.configure(conn).get_current_revision()
    for step in ScriptDirectory.from_config(cfg).iterate_revisions(revision, found):
        check = getattr(step.module, "check_before", None)
        if check is not None:
            check(conn, escrow)


def ensure_current(
    engine: Engine, escrow: str | None = None, models: MetaData | None = None
) -> None:
    """Upgrades an embedded SQLite database (a new one made at once from `models`); refuses
    (SchemaBehind) any other that is behind."""
    if engine.dialect.name == "sqlite":
        upgrade(engine, escrow=escrow, models=models)
        return
    found, wanted = current(engine), head()
    if found != wanted:
        raise SchemaBehind(
            f"the database is at schema revision {found or 'none (empty or unversioned)'}, "
            f"the service needs {wanted}: back it up, then run {UPGRADE_COMMAND} "
            "with ESCROW_DATABASE_URL set to it"
        )


def main(argv: list[str] | None = None) -> int:
    from backend.settings import Settings

    parser = argparse.ArgumentParser(prog="escrow-db", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="upgrade ESCROW_DATABASE_URL to the head revision")
    up.add_argument(
        "--escrow",
        help="the escrow the rows of a one-escrow service belong to (revision 0004), when its "
        "index did not follow exactly one",
    )
    sub.add_parser("current", help="print the database's revision and the head's")
    new = sub.add_parser("revision", help="write a revision from the models' difference")
    new.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    url = Settings.from_env().database
    engine = create_engine(url)
    try:
        if args.command == "upgrade":
            upgrade(engine, escrow=args.escrow)
            print(f"upgraded to {current(engine)}")
        elif args.command == "current":
            print(f"database: {current(engine) or 'none'}; head: {head()}")
        else:
            upgrade(engine)  # autogenerate compares the models with an up-to-date schema
            command.revision(config(url), message=args.message, autogenerate=True)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
