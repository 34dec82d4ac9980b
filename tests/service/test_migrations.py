"""The schema's versions (backend/migrations): a database with the 320a76e schema and a row in
every table upgrades to the head revision and keeps every row; the models and the head agree;
a PostgreSQL database that is behind is refused with the command that upgrades it, an embedded
SQLite file is upgraded on start. On both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from eth_utils import to_checksum_address
from service_helpers import BOTH_DATABASES
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from backend import migrate
from backend.db import AttestationIntake, Base, make_sessionmaker

ROOT = Path(__file__).resolve().parents[2]
WHEN = datetime(2025, 11, 3, 10, 0, tzinfo=UTC)

pytestmark = BOTH_DATABASES


@pytest.fixture
def empty_database(request, tmp_path, database_url):
    """An empty database: a new SQLite file, or an empty PostgreSQL database."""
    if database_url is None:
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    with request.getfixturevalue("postgres").database() as url:
        yield url


@pytest.fixture
def second_empty_database(request, tmp_path, database_url):
    if database_url is None:
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    with request.getfixturevalue("postgres").database() as url:
        yield url


def _baseline_tables():
    """The tables of the 320a76e schema, as the baseline revision writes them out."""
    script = ScriptDirectory.from_config(migrate.config("sqlite://"))
    return script.get_revision("0001").module.baseline().sorted_tables


def _row(table, n: int) -> dict:
    """A row for `table` whose every column has a value of its type (n: which row)."""
    values = {}
    for column in table.columns:
        kind = type(column.type)
        if kind is Boolean:
            values[column.name] = n % 2 == 0
        elif kind in (Integer, BigInteger):
            values[column.name] = n + (2**40 if kind is BigInteger else 7)
        elif kind is JSON:
            values[column.name] = {"n": n, "list": [1, "2"]}
        elif kind is DateTime:
            values[column.name] = WHEN
        else:
            values[column.name] = f"{table.name[:4]}{column.name[:6]}{n}"[: column.type.length]
    return values


def _comparable(row: dict) -> dict:  # SQLite gives datetimes back without their zone
    return {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in row.items()}


def _old_database(url: str, cursors: int = 1):
    """A database with the 320a76e schema and two rows in every table but indexer_cursor,
    which has `cursors` (the escrows the index followed)."""
    engine = create_engine(url)
    migrate.upgrade(engine, "0001")
    tables = _baseline_tables()
    written = {}
    with engine.begin() as conn:
        for table in tables:
            count = cursors if table.name == "indexer_cursor" else 2
            written[table.name] = [_row(table, n) for n in range(1, count + 1)]
            conn.execute(table.insert(), written[table.name])
    return engine, tables, written


# The tables whose rows belong to one deal of one escrow (revision 0004 names it in them).
DEAL_SCOPED = ("deals", "milestones", "verdicts", "chain_events", "attestation_intake")
DEAL_SCOPED += ("proposals", "offers")


def test_the_320a76e_schema_with_a_row_in_every_table_upgrades_and_keeps_them(empty_database):
    engine, tables, written = _old_database(empty_database)

    migrate.upgrade(engine)

    assert migrate.current(engine) == migrate.head()
    with engine.connect() as conn:
        for table in tables:
            found = [
                dict(r._mapping)
                for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            assert [_comparable(r) for r in found] == [
                _comparable(r) for r in written[table.name]
            ], table.name
    # 0004: the rows are the escrow's its index followed (the only cursor).
    escrow = written["indexer_cursor"][0]["escrow"]
    with engine.connect() as conn:
        for name in DEAL_SCOPED:
            found = conn.execute(text(f"SELECT DISTINCT escrow FROM {name}")).scalars().all()
            assert found == [escrow], name
        linked = conn.execute(text("SELECT escrow FROM evidence WHERE deal_id IS NOT NULL"))
        assert linked.scalars().all() == [escrow, escrow]
    # 0002's point: a second oracle's signature of the same digest is taken, the same
    # oracle's twice is not.
    sessions = make_sessionmaker(empty_database)
    old = written["attestation_intake"][0]
    with sessions() as db:
        db.add(AttestationIntake(**{**old, "id": None, "signer": "0xB", "escrow": escrow}))
        db.commit()
        db.add(AttestationIntake(**{**old, "id": None, "escrow": escrow}))
        with pytest.raises(IntegrityError):
            db.commit()
    engine.dispose()
    sessions.kw["bind"].dispose()


def test_rows_of_an_index_that_followed_two_escrows_wait_for_the_escrow_to_be_named(
    empty_database,
):
    engine, _, written = _old_database(empty_database, cursors=2)
    with pytest.raises(Exception, match="escrow-db upgrade --escrow"):
        migrate.upgrade(engine)
    assert migrate.current(engine) == "0001"  # refused before any revision ran
    named = "0x" + "ab" * 20
    migrate.upgrade(engine, escrow=named)
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as conn:
        for name in DEAL_SCOPED:
            found = conn.execute(text(f"SELECT DISTINCT escrow FROM {name}")).scalars().all()
            assert found == [to_checksum_address(named)], name
        assert conn.execute(text("SELECT count(*) FROM deals")).scalar() == len(written["deals"])
    engine.dispose()


def test_the_models_and_the_head_revision_agree(empty_database):
    engine = create_engine(empty_database)
    migrate.upgrade(engine)  # every revision, from none
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_a_new_database_made_at_once_is_the_one_the_revisions_make(
    empty_database, second_empty_database
):
    """A new database is made from the models and stamped head (what every new service does):
    table for table, the same columns, keys, indexes and constraints as replaying every
    revision gives; and it is at head (upgrading it again does nothing)."""
    replayed, fresh = create_engine(empty_database), create_engine(second_empty_database)
    migrate.upgrade(replayed)
    migrate.upgrade(fresh, models=Base.metadata)
    assert migrate.current(fresh) == migrate.head()
    made, replay = _schema(fresh), _schema(replayed)
    assert sorted(made) == sorted(replay)
    differ = [(t, part, made[t][part], replay[t][part]) for t in made for part in made[t]]
    assert [d for d in differ if d[2] != d[3]] == []
    migrate.upgrade(fresh, models=Base.metadata)
    assert migrate.current(fresh) == migrate.head()
    replayed.dispose()
    fresh.dispose()


def _schema(engine) -> dict:
    """Every table's columns (name, type, nullability, default; not their order), primary key,
    foreign keys, unique constraints, indexes and check constraints, as the database says."""
    found = inspect(engine)
    schema = {}
    for table in sorted(found.get_table_names()):
        schema[table] = {
            "columns": sorted(  # (in any order: columns are addressed by name)
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in found.get_columns(table)
            ),
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in found.get_foreign_keys(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in found.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
            "checks": sorted(
                " ".join(c["sqltext"].split()) for c in found.get_check_constraints(table)
            ),
        }
    return schema


def test_a_database_behind_is_refused_or_upgraded_on_start(empty_database):
    engine = create_engine(empty_database)
    migrate.upgrade(engine, "0001")
    if engine.dialect.name == "sqlite":  # the embedded default: upgraded on start
        make_sessionmaker(empty_database).kw["bind"].dispose()
        assert migrate.current(engine) == migrate.head()
        return
    with pytest.raises(migrate.SchemaBehind) as refused:
        make_sessionmaker(empty_database)
    assert "at schema revision 0001" in str(refused.value)
    assert "escrow-db upgrade" in str(refused.value)
    assert migrate.current(engine) == "0001"  # refused, and nothing changed

    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCROW_")}
    done = subprocess.run(
        [sys.executable, "-m", "backend.migrate", "upgrade"],
        cwd=ROOT,
        env={**env, "ESCROW_DATABASE_URL": empty_database},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"upgraded to {migrate.head()}" in done.stdout
    make_sessionmaker(empty_database).kw["bind"].dispose()  # now it starts
    engine.dispose()
