"""ChunkFeed: byte chunks handed from the event loop (an upload arriving) to a worker thread
(the store's add, which blocks), a few at a time, so an upload streams through the service in
constant memory and a slow store slows the client down rather than filling the memory."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Iterator

DEPTH = 8  # chunks waiting at most: a few MiB at the sizes the network hands over

_END, _ABORT = object(), object()


class Aborted(Exception):
    """The upload was refused while it streamed: the add it fed must fail."""


class ChunkFeed:
    """The event loop `put`s chunks, then `finish()`es, or `abort()`s; a worker thread
    iterates them (the iteration raises Aborted on an abort) and calls `stop()` when it is done
    with them, for whatever reason, so that a `put` never waits on a reader that is gone."""

    def __init__(self, depth: int = DEPTH):
        self._loop = asyncio.get_running_loop()
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._room = asyncio.Event()
        self._waiting = False  # the loop waits for room (the worker then wakes it)
        self._stopped = False

    async def put(self, chunk: bytes) -> bool:
        """Hands `chunk` over, waiting for room; False when the worker stopped reading."""
        return await self._put(chunk)

    async def finish(self) -> None:
        """The last chunk was put."""
        await self._put(_END)

    async def _put(self, item: object) -> bool:
        while not self._stopped:
            try:
                self._queue.put_nowait(item)
                return True
            except queue.Full:
                self._room.clear()
                self._waiting = True
                if self._queue.full() and not self._stopped:  # else the wake-up was missed
                    await self._room.wait()
                self._waiting = False
        return False

    def abort(self) -> None:
        """The worker's iteration raises Aborted at its next chunk; what waits is dropped."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put_nowait(_ABORT)  # room: only the loop puts, and it emptied the queue

    # -- the worker thread's side ----------------------------------------------------------

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self._queue.get()
            if self._waiting:
                self._loop.call_soon_threadsafe(self._room.set)
            if item is _END:
                return
            if item is _ABORT:
                raise Aborted("the upload was refused while it streamed")
            yield item  # type: ignore[misc]

    def stop(self) -> None:
        self._stopped = True
        # Only a loop waiting for room needs waking (a wake-up costs it a turn); one about to
        # wait sees `_stopped` first, as `_put` checks it after setting `_waiting`.
        if self._waiting:
            self._loop.call_soon_threadsafe(self._room.set)
