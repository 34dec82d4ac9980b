"""The least a Python service can do with an upload: what `make bench` measures the service
against besides the node itself (scripts/bench_uploads.py).

A bare ASGI app, run by uvicorn in a process of its own as the service is, that streams a
multipart body's file part to the same IPFS node with the service's own store client and
hand-over (IpfsNodeStore.add fed by a ChunkFeed, in a worker thread), and answers the CID.
No signature, no nonce, no record, no framework, no checks: it is not a service anyone should
run. What the service takes beyond this hop is its own work; what this hop takes beyond a
direct add is the price of any Python service between a client and the node, on this machine.

    uvicorn --factory scripts.bare_hop:create_app     (ESCROW_IPFS_API_URL: the node)
"""

from __future__ import annotations

import asyncio
import json

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.chunk_feed import ChunkFeed
from backend.evidence.ipfs_node import IpfsNodeStore
from backend.evidence.store import StoredObject
from backend.settings import Settings


def create_app() -> ASGIApp:
    settings = Settings.from_env()
    if not settings.ipfs_api_url:
        raise SystemExit("ESCROW_IPFS_API_URL: the bare hop adds to an IPFS node")
    store = IpfsNodeStore(settings.ipfs_api_url, timeout=settings.ipfs_timeout_seconds)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["method"] != "POST":  # the start-up probe (LiveService)
            await _answer(send, 200, {})
        else:
            stored = await _add(store, scope, receive)
            await _answer(send, 201, {"cid": stored.cid, "size": stored.size})

    return app


async def _add(store: IpfsNodeStore, scope: Scope, receive: Receive) -> StoredObject:
    """The body's one part, to the store as it arrives."""
    _, params = parse_options_header(dict(scope["headers"])[b"content-type"])
    data: list[bytes] = []
    parser = MultipartParser(
        params[b"boundary"], {"on_part_data": lambda d, start, end: data.append(d[start:end])}
    )
    feed = ChunkFeed()
    adding = asyncio.ensure_future(run_in_threadpool(_fed, store, feed))
    more = True
    while more:
        message = await receive()
        parser.write(message.get("body", b""))
        more = message.get("more_body", False)
        if data:
            await feed.put(b"".join(data) if len(data) > 1 else data[0])
            data.clear()
    parser.finalize()
    await feed.finish()
    return await adding


def _fed(store: IpfsNodeStore, feed: ChunkFeed) -> StoredObject:
    try:
        return store.add(feed)
    finally:
        feed.stop()


async def _answer(send: Send, status: int, body: dict) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
