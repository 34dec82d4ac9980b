"""A multipart/form-data request body read part by part as it arrives, never spooled.

Starlette's `request.form()` parses the whole body into a SpooledTemporaryFile (on disk past
1 MiB, each write a worker-thread hop) before the route sees a byte; an upload then read it
twice more (sniff and hash, then add). Here the route reads the parts in order, the data of
each in the chunks the network delivered, with python-multipart's streaming parser (the one
Starlette uses), so an upload can go on to the store while it is still arriving.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import HTTPException, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_PART_HEADERS = 16 * 1024  # a part's headers: a name, a file name, a media type


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None  # None for a form field, as Starlette tells files from fields


class MultipartStream:
    """The parts of `request`'s multipart body: `next_part()` gives each part's headers in
    turn (None after the last), `read()` the current part's data, b"" at its end. A body that
    is not multipart/form-data, or malformed, is HTTPException 400 (Starlette's messages)."""

    def __init__(self, request: Request):
        kind, params = parse_options_header(request.headers.get("content-type"))
        if kind != b"multipart/form-data":
            raise HTTPException(400, "send a multipart/form-data body")
        if b"boundary" not in params:
            raise HTTPException(400, "Missing boundary in multipart.")
        charset = params.get(b"charset", b"utf-8").decode("latin-1")
        try:
            self._charset = codecs.lookup(charset).name
        except LookupError:
            self._charset = "latin-1"
        self._chunks: AsyncIterator[bytes] = request.stream().__aiter__()
        # What the parser found in the data fed so far, in order: a Part (its headers ended),
        # bytes (its data), None (its end).
        self._events: deque[Part | bytes | None] = deque()
        self._header: list[bytes] = [b"", b""]  # name, value of the header being read
        self._headers: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._ended = False
        self._parser = MultipartParser(
            params[b"boundary"],
            {
                "on_part_begin": self._headers.clear,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": lambda: self._events.append(None),
            },
        )

    async def next_part(self) -> Part | None:
        """The next part's headers, skipping what is left of the current part's data."""
        while True:
            event = await self._next()
            if event is None and self._ended:
                return None
            if isinstance(event, Part):
                return event

    async def read(self) -> bytes:
        """The current part's next data (all that arrived, joined), b"" at its end."""
        event = await self._next()
        if not isinstance(event, bytes):
            if isinstance(event, Part):  # not reached: a part ends before the next begins
                raise HTTPException(400, "Invalid multipart data.")
            return b""
        if not self._events or not isinstance(self._events[0], bytes):
            return event
        data = bytearray(event)
        while self._events and isinstance(more := self._events[0], bytes):
            data += more
            self._events.popleft()
        return bytes(data)

    async def _next(self) -> Part | bytes | None:
        while not self._events:
            if self._ended:
                return None
            chunk = await anext(self._chunks, None)
            try:
                if chunk is None:
                    self._parser.finalize()
                    self._ended = True
                else:
                    self._parser.write(chunk)
            except FormParserError as exc:
                raise HTTPException(400, "Invalid multipart data.") from exc
        return self._events.popleft()

    # -- the parser's callbacks -----------------------------------------------------------

    def _data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(data[start:end])

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header[0] += data[start:end]
        self._count(end - start)

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._header[1] += data[start:end]
        self._count(end - start)

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_PART_HEADERS:
            raise HTTPException(400, "multipart part headers too large")

    def _header_end(self) -> None:
        self._headers[self._header[0].lower()] = self._header[1]
        self._header = [b"", b""]

    def _headers_finished(self) -> None:
        self._header_bytes = 0
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"name" not in options:
            raise HTTPException(
                400, 'The Content-Disposition header field "name" must be provided.'
            )
        filename = options.get(b"filename")
        self._events.append(
            Part(
                options[b"name"].decode(self._charset, errors="replace"),
                None if filename is None else filename.decode(self._charset, errors="replace"),
            )
        )
