"""Rows written with one executemany of the database driver: SQLAlchemy's processing of each
row's parameters costs several times what SQLite takes to insert it (the indexer writes
thousands of rows a batch). Any driver's parameter style (PEP 249); JSON columns are written
as JSON text, as SQLAlchemy's JSON type writes them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from operator import itemgetter

from sqlalchemy import JSON
from sqlalchemy.orm import Session

IN_CHUNK = 500  # values per `IN (...)`: well under SQLite's limit on bound parameters


def chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_many(db: Session, table, rows: list[dict]) -> None:
    """`rows` (dicts of the same columns) inserted into `table` (a mapped class)."""
    if not rows:
        return
    q = db.get_bind().dialect.identifier_preparer.quote
    columns = list(rows[0])
    marks = _marks(db, columns)
    sql = (
        f"INSERT INTO {q(table.__tablename__)} ({', '.join(q(c) for c in columns)}) "
        f"VALUES ({', '.join(marks)})"
    )
    _execute_many(db, table, sql, columns, rows)


def update_many(db: Session, table, rows: list[dict]) -> None:
    """`rows` (dicts of every column) written over the rows with the same primary key."""
    if not rows:
        return
    q = db.get_bind().dialect.identifier_preparer.quote
    keys = [c.name for c in table.__table__.primary_key]
    columns = [c for c in rows[0] if c not in keys] + keys
    marks = dict(zip(columns, _marks(db, columns), strict=True))
    assignments = ", ".join(f"{q(c)} = {marks[c]}" for c in columns if c not in keys)
    match = " AND ".join(f"{q(c)} = {marks[c]}" for c in keys)
    sql = f"UPDATE {q(table.__tablename__)} SET {assignments} WHERE {match}"
    _execute_many(db, table, sql, columns, rows)


def _marks(db: Session, columns: list[str]) -> list[str]:
    """The driver's placeholders for `columns`, in order (the five styles of PEP 249)."""
    style = db.get_bind().dialect.paramstyle
    return {
        "qmark": ["?"] * len(columns),
        "format": ["%s"] * len(columns),
        "numeric": [f":{n + 1}" for n in range(len(columns))],
        "named": [f":{c}" for c in columns],
        "pyformat": [f"%({c})s" for c in columns],
    }[style]


def _execute_many(db: Session, table, sql: str, columns: list[str], rows: list[dict]) -> None:
    """What a JSON column holds goes as JSON text (as SQLAlchemy's JSON type writes it)."""
    encoded = [i for i, c in enumerate(columns) if isinstance(table.__table__.c[c].type, JSON)]
    get = itemgetter(*columns)
    params: list[tuple | dict] = []
    for row in rows:
        values = list(get(row))
        for i in encoded:
            values[i] = json.dumps(values[i])
        params.append(tuple(values))
    if db.get_bind().dialect.paramstyle in ("named", "pyformat"):
        params = [dict(zip(columns, values, strict=True)) for values in params]
    db.connection().exec_driver_sql(sql, params)
