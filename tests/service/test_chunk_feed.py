"""ChunkFeed (backend/chunk_feed.py), the hand-over of an upload's chunks from the event loop to
the worker thread adding them to the store: order, back-pressure, abort, and a reader gone."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.chunk_feed import Aborted, ChunkFeed


async def _in_thread(function, *args):
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


def _run(test, depth: int):
    """`test(feed)` on a new event loop in a thread of its own (the test process may have a
    loop running in this one: playwright's); an abort at its end wakes any reader it left
    waiting (asyncio.run waits for the executor's threads)."""

    async def run():
        feed = ChunkFeed(depth=depth)
        try:
            return await test(feed)
        finally:
            feed.abort()

    with ThreadPoolExecutor(1) as loop_thread:
        return loop_thread.submit(asyncio.run, run()).result(timeout=60)


def test_chunks_arrive_in_order_and_finish_ends_them():
    async def run(feed):
        reading = asyncio.ensure_future(_in_thread(lambda: b"".join(feed)))
        for i in range(50):
            assert await asyncio.wait_for(feed.put(b"%d," % i), 5)
        await asyncio.wait_for(feed.finish(), 5)
        return await asyncio.wait_for(reading, 5)

    assert _run(run, depth=2) == b"".join(b"%d," % i for i in range(50))


def test_a_put_waits_for_room_so_a_slow_store_slows_the_client():
    async def run(feed):
        assert await feed.put(b"a") and await feed.put(b"b")
        third = asyncio.ensure_future(feed.put(b"c"))
        await asyncio.sleep(0.05)
        waited = not third.done()  # the queue is full until the worker takes one
        chunks = iter(feed)
        first = await _in_thread(next, chunks)
        assert await asyncio.wait_for(third, 5)
        rest = asyncio.ensure_future(_in_thread(list, chunks))
        await asyncio.wait_for(feed.finish(), 5)
        return waited, first, await asyncio.wait_for(rest, 5)

    assert _run(run, depth=2) == (True, b"a", [b"b", b"c"])


def test_an_abort_drops_what_waits_and_fails_the_workers_iteration():
    async def run(feed):
        await feed.put(b"taken")
        await feed.put(b"dropped")
        chunks = iter(feed)
        assert await _in_thread(next, chunks) == b"taken"
        feed.abort()
        with pytest.raises(Aborted):
            await _in_thread(next, chunks)

    _run(run, depth=4)


def test_a_put_never_hangs_on_a_worker_that_stopped_reading():
    async def run(feed):
        assert await feed.put(b"a")
        blocked = asyncio.ensure_future(feed.put(b"b"))  # no room: waits for the worker
        await asyncio.sleep(0.05)
        assert not blocked.done()
        stopped = threading.Event()

        def worker_fails():  # the store is down: the worker gives up on its chunks
            feed.stop()
            stopped.set()

        await _in_thread(worker_fails)
        assert stopped.is_set()
        assert await asyncio.wait_for(blocked, 5) is False
        assert await feed.put(b"c") is False  # and every later put says so at once

    _run(run, depth=1)
