"""An upload's file part, streamed from the client to the store in one pass (POST /evidence,
POST /evidence/confidential): its first bytes are read and checked in the event loop before
the store sees anything; then a worker thread adds the document (and records it) while the
loop hands it the rest as it arrives, counting the bytes against the size limit. A refusal
while streaming (too large, another part after the file, the client gone) aborts the add
before its end, so the store never finishes, let alone pins, a refused document."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool

from backend.chunk_feed import ChunkFeed
from backend.multipart_stream import MultipartStream

T = TypeVar("T")


async def file_head(body: MultipartStream, size: int) -> tuple[bytes, bool]:
    """At least `size` bytes of the current part (fewer only when it is shorter), and whether
    that is the whole part."""
    head = bytearray()
    while len(head) < size:
        chunk = await body.read()
        if not chunk:
            return bytes(head), True
        head += chunk
    return bytes(head), False


async def read_field(body: MultipartStream, limit: int) -> bytes:
    """The current part's data, at most `limit` bytes (400 past it)."""
    data, whole = await file_head(body, limit + 1)
    if not whole or len(data) > limit:
        raise HTTPException(400, f"Part exceeded maximum size of {limit // 1024}KB.")
    return data


async def stream_rest(
    body: MultipartStream,
    head: bytes,
    whole: bool,
    limit: int,
    worker: Callable[..., T],
    *args,
) -> T:
    """Runs `worker(chunks, *args)` in a worker thread, `chunks` yielding `head` then the
    rest of the current part (when `head` is not `whole`), which must be the body's last.
    413 past `limit` bytes, 400 when another part follows: the worker's iteration then raises
    (chunk_feed.Aborted). The worker's result, or its exception."""
    return await (await _stream(body, head, whole, limit, worker, args, last=True))


async def stream_part(
    body: MultipartStream,
    head: bytes,
    whole: bool,
    limit: int,
    worker: Callable[..., T],
    *args,
) -> asyncio.Future[T]:
    """Like stream_rest for a part that other parts follow: once the current part has been
    handed over whole, returns the worker's future, still running (the store finishing its
    add) while the caller reads the parts that follow. The caller awaits it whatever happens
    next, and takes back what it added when the request is refused after all."""
    return await _stream(body, head, whole, limit, worker, args, last=False)


async def _stream(body, head, whole, limit, worker, args, last: bool) -> asyncio.Future:
    feed = ChunkFeed()
    work = asyncio.ensure_future(run_in_threadpool(_fed, feed, worker, *args))
    try:
        size, chunk = 0, head
        while chunk:
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"documents are limited to {limit} bytes")
            if not await feed.put(chunk):
                break  # the worker failed (the store is down...): its error is the answer
            chunk = b"" if whole else await body.read()
        else:
            if last and await body.next_part() is not None:
                raise HTTPException(400, "the file must be the body's last part")
            await feed.finish()
    except BaseException:
        feed.abort()
        await asyncio.wait({work})
        if not work.cancelled():
            work.exception()  # the worker's failure follows from the refusal raised here
        raise
    return work


def _fed(feed: ChunkFeed, worker: Callable[..., T], *args) -> T:
    try:
        return worker(feed, *args)
    finally:
        feed.stop()
