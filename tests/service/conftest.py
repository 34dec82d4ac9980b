"""Fixtures for the FastAPI service: the app on a temporary data directory (embedded store
unless a test says otherwise), against the real chain and escrow of tests/conftest.py.

The database is the embedded SQLite file unless a test asks for both (the mark BOTH_DATABASES
of service_helpers.py): then it runs on SQLite and on a database of its own on a real
PostgreSQL server (one per test process, scripts/postgres_server.py), copied from one
upgraded to the head revision."""

from __future__ import annotations

import brownie
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from backend import migrate
from backend.main import create_app
from backend.settings import Settings
from scripts.postgres_server import PostgresError, postgres_server


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for this test process; its `database()` makes a fresh database."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def postgres_template(postgres):
    """The name of a database at the head revision, which test databases are copies of."""
    with postgres.database() as url:
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def database_url(request):
    """None (the service's SQLite file under its data_dir) or a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    server = request.getfixturevalue("postgres")
    with server.database(template=request.getfixturevalue("postgres_template")) as url:
        yield url


@pytest.fixture
def make_client(tmp_path, escrow, database_url):
    clients = []

    def make(**overrides) -> TestClient:
        values = dict(
            rpc_url=brownie.web3.provider.endpoint_uri,
            escrow_address=escrow.address,
            data_dir=tmp_path / f"var{len(clients)}",
            database_url=database_url,
        )
        settings = Settings(**{**values, **overrides})
        client = TestClient(create_app(settings))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
        client.app.state.sessionmaker.kw["bind"].dispose()  # its PostgreSQL database is dropped


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
