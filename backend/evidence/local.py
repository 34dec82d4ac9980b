"""LocalStore: an embedded content-addressed store on disk, giving the CIDs an IPFS node gives.

Layout under `root`:
  objects/<cid>  one file per document, named by its canonical CIDv1 (base32); the whole
                 document, not its blocks (it is never served block by block)
  pins/<cid>     an empty marker per pinned document
  tmp/           documents being added

Crash safety: add() writes to a temp file in tmp/ (same file system), fsyncs it, then
os.replace()s it to objects/<cid> and fsyncs the directory, so objects/ never shows a partial
document. A crash leaves at most a stray temp file (removed by the next LocalStore() once it is
an hour old) or an unpinned object (pinned again by the next add() of the same document).

Pins: add() pins. There is no garbage collector, so unpin() removes the marker AND the object:
an unpinned document is gone (the same bytes can be added again and get the same CID).
Safe across threads of one process; two processes may add the same document at once (the
rename is atomic and the content is identical), but an unpin racing an add of the same
document in another process may remove it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from .cid import CidBuilder, parse_cid
from .store import NotFound, StoredObject

READ_CHUNK = 1 << 20  # cat() streams 1 MiB at a time
STALE_TEMP_SECONDS = 3600


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FileChunks(Iterator[bytes]):
    """The chunks of an already opened file; closes it at the end, on close() or when dropped."""

    def __init__(self, f):
        self._f = f

    def __next__(self) -> bytes:
        chunk = self._f.read(READ_CHUNK) if not self._f.closed else b""
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self._f.close()

    def __del__(self):
        self.close()


class LocalStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self._objects, self._pins, self._tmp = (self.root / d for d in ("objects", "pins", "tmp"))
        for d in (self._objects, self._pins, self._tmp):
            d.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        now = time.time()
        for stray in self._tmp.iterdir():
            try:
                if now - stray.stat().st_mtime > STALE_TEMP_SECONDS:
                    stray.unlink()
            except FileNotFoundError:
                pass

    def _name(self, cid: str) -> str:
        """The canonical CIDv1 text of `cid`; ValueError when malformed. A CIDv0 names a dag-pb
        root, which this store never makes (it stores with raw leaves), so it is simply absent."""
        return str(parse_cid(cid))

    def add(self, chunks: Iterable[bytes]) -> StoredObject:
        builder, sha, size = CidBuilder(1), hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="add-")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    builder.update(chunk)
                    sha.update(chunk)
                    f.write(chunk)
                    size += len(chunk)
                f.flush()
                os.fsync(f.fileno())
            cid = builder.finish()
            with self._lock:
                os.replace(tmp_name, self._objects / cid)
                _fsync_dir(self._objects)
                self._pin(cid)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return StoredObject(cid=cid, size=size, sha256=sha.digest())

    def cat(self, cid: str) -> Iterator[bytes]:
        """Open at once (so NotFound / ValueError raise here, before any byte is sent), then
        stream 1 MiB chunks."""
        try:
            f = open(self._objects / self._name(cid), "rb")  # closed by _FileChunks
        except FileNotFoundError:
            raise NotFound(cid) from None
        return _FileChunks(f)

    def has(self, cid: str) -> bool:
        return (self._objects / self._name(cid)).is_file()

    def pin(self, cid: str) -> None:
        name = self._name(cid)
        with self._lock:
            if not (self._objects / name).is_file():
                raise NotFound(cid)
            self._pin(name)

    def _pin(self, name: str) -> None:
        marker = self._pins / name
        if not marker.exists():
            marker.touch()
            _fsync_dir(self._pins)

    def unpin(self, cid: str) -> None:
        """Remove the pin and the object (no garbage collector here). NotFound if neither was
        there."""
        name = self._name(cid)
        with self._lock:
            found = False
            for path in (self._pins / name, self._objects / name):
                try:
                    path.unlink()
                    found = True
                except FileNotFoundError:
                    pass
            if not found:
                raise NotFound(cid)

    def pinned(self) -> set[str]:
        return {p.name for p in self._pins.iterdir()}
