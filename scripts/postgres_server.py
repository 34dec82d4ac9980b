"""A fresh PostgreSQL server for a script or a test (Debian's postgresql 15: initdb, pg_ctl),
in a temporary folder on a free port of 127.0.0.1, its socket in that folder, stopped and
removed when done. As root (CI) it runs as the `postgres` user, which owns the folder: the
server refuses to run as root. Trust authentication, user `app`: a throwaway test server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from scripts.local_chain import free_ports

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "app"


class PostgresError(RuntimeError):
    """The server did not start; the message says why (and what its log said)."""


class PostgresServer:
    def __init__(self, port: int):
        self.port = port

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    @contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        """A database of its own (a copy of `template` if given); yields its URL, drops it."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                copy = f" TEMPLATE {template}" if template else ""
                conn.execute(text(f"CREATE DATABASE {name}{copy}"))
            yield self.url(name)
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        finally:
            admin.dispose()


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "pg_ctl").exists():
        raise PostgresError(f"no PostgreSQL in {PG_BIN} (make setup installs it; or set PG_BIN)")
    folder = Path(tempfile.mkdtemp(prefix="pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    [port] = free_ports(1)
    data = folder / "data"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data)]
    try:
        for command in (
            [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8"],
            [*pg_ctl, "-l", str(folder / "log"), "-w", "-t", "60", "start", "-o",
             f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
             " -c max_connections=200"],
        ):  # fmt: skip
            done = subprocess.run(
                _as_server_user(command), capture_output=True, text=True, timeout=120
            )
            if done.returncode != 0:
                log = folder / "log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise PostgresError(f"{command[0]} failed:\n{done.stderr}{done.stdout}{tail}")
        yield PostgresServer(port)
    finally:
        if data.exists():
            subprocess.run(
                _as_server_user([*pg_ctl, "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(folder, ignore_errors=True)
