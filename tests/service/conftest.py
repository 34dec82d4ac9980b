"""Fixtures for the FastAPI service: the app on a temporary data directory (embedded store
unless a test says otherwise), against the real chain and escrow of tests/conftest.py."""

from __future__ import annotations

import brownie
import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.settings import Settings


@pytest.fixture
def make_client(tmp_path, escrow):
    clients = []

    def make(**overrides) -> TestClient:
        values = dict(
            rpc_url=brownie.web3.provider.endpoint_uri,
            escrow_address=escrow.address,
            data_dir=tmp_path / f"var{len(clients)}",
        )
        settings = Settings(**{**values, **overrides})
        client = TestClient(create_app(settings))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
