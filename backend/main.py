"""The evidence service: `create_app()` builds it; `make serve` runs it with uvicorn.

uvicorn --factory backend.main:create_app --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Receive, Scope, Send

from backend import errors, indexer
from backend.db import make_sessionmaker
from backend.escrows import Escrows
from backend.evidence.store import EvidenceStore
from backend.lease import Lease
from backend.relayer import Relayer
from backend.routers import (
    attestations,
    copies,
    deals,
    escrows,
    evidence,
    keys,
    offers,
    operators,
    proposals,
    web,
)
from backend.routers._common import share_allowed_methods
from backend.settings import Settings

DESCRIPTION = """
Pins evidence documents (inspection reports, bills of lading, certificates) to IPFS, keeps
their records, and serves them back checked against their sha256 — the value oracles anchor
on chain in their attestations. Writes are signed by a deal party or an oracle key (EIP-191,
header `X-Escrow-Auth`, see docs/service.md); reads are open to whoever holds a CID.
"""


def make_store(settings: Settings) -> EvidenceStore:
    if settings.ipfs_api_url:
        from backend.evidence.ipfs_node import IpfsNodeStore

        return IpfsNodeStore(settings.ipfs_api_url, timeout=settings.ipfs_timeout_seconds)
    from backend.evidence.local import LocalStore

    return LocalStore(settings.data_dir / "evidence")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = FastAPI(
        title="Milestone escrow service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.sessionmaker = make_sessionmaker(settings.database, settings.escrow_address)
    app.state.lease = Lease(app.state.sessionmaker.kw["bind"])
    app.state.store = make_store(settings)
    app.state.escrows = Escrows(settings)
    app.state.chain = app.state.escrows.default  # what the routes without an escrow address
    for router in (
        escrows.router,
        # before /evidence/{cid}: POST /evidence/confidential is the route OPTIONS and other
        # methods of that path are answered by (405 with `Allow: POST`), not GET /evidence/{cid}
        copies.router,
        evidence.router,
        *deals.routers,
        operators.router,
        *keys.routers,
        attestations.router,
        *proposals.routers,
        offers.router,
        web.router,
    ):
        share_allowed_methods(router)
        app.include_router(router)
    web.mount_pages(app)
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + evidence.MULTIPART_SLACK)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]  # FastAPI's documented hook
    return app


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, with what depends on the settings: the media types served."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        media_types = app.state.settings.allowed_media_types
        app.openapi_schema = evidence.document_media_types(schema, media_types)
    return app.openapi_schema


@asynccontextmanager
async def _lifespan(app: FastAPI):
    stop = threading.Event()
    if app.state.settings.run_indexer:
        threading.Thread(target=_follow_chain, args=(app, stop), daemon=True).start()
    if app.state.settings.relayer_private_key:
        threading.Thread(target=_relay, args=(app, stop), daemon=True).start()
    yield
    stop.set()
    app.state.lease.release()


def _follow_chain(app: FastAPI, stop: threading.Event) -> None:
    """The indexer loop, on the replica holding the lease (backend/lease.py), one indexer per
    escrow served: a failed round (RPC down) is logged and retried; each cursor only moves
    with a committed batch, so nothing is skipped."""
    settings = app.state.settings
    indexers: list[indexer.Indexer] = []
    while not stop.is_set():
        try:
            if not app.state.lease.held():
                stop.wait(settings.indexer_interval_seconds)
                continue
            indexers = indexers or indexer.for_every_escrow(
                app.state.escrows, app.state.sessionmaker
            )
            for each in indexers:
                each.sync()
        except Exception:  # keep following; the next round retries the same blocks
            logging.getLogger("escrow.indexer").exception("indexer round failed")
        stop.wait(settings.indexer_interval_seconds)


def _relay(app: FastAPI, stop: threading.Event) -> None:
    """The relayer loop, on the replica holding the lease: what arrives within a round goes
    out in one batch per escrow, to that escrow."""
    relayers: list[Relayer] = []
    key = app.state.settings.relayer_private_key
    while not stop.is_set():
        try:
            if not app.state.lease.held():
                stop.wait(app.state.settings.relay_interval_seconds)
                continue
            relayers = relayers or [
                Relayer(chain, app.state.sessionmaker, key) for chain in app.state.escrows.chains()
            ]
            for relayer in relayers:
                relayer.relay_once()
        except Exception:  # retried next round; queued items stay queued
            logging.getLogger("escrow.relayer").exception("relayer round failed")
        stop.wait(app.state.settings.relay_interval_seconds)


class BackgroundServer:
    """The service on a free local port in a thread of this process (demo, benchmarks)."""

    def __init__(self, settings: Settings):
        import socket
        import time

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        while not self._server.started:
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


class BodyLimit:
    """Refuses (413) a request body larger than `limit`, also when it is sent chunked without
    a Content-Length, before more of it is read."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            body = b'{"detail":"request body too large"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass
