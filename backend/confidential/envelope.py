"""Encrypting and decrypting evidence documents with age (pyrage), streamed.

pyrage's encrypt_io / decrypt_io read and write file objects in chunks (64 KiB age payload
chunks): a 50 MB document takes ~11 MB of resident memory either way, the same as none. Both
sides are hashed on the way through, so encrypting yields the manifest (the evidence
commitment, manifest.py) without reading anything twice.

age authenticates each 64 KiB chunk as it goes, so a decryptor has written the chunks before a
truncation or a tampered chunk is found. decrypt_to_file therefore writes to a temporary file
next to the destination and renames it only once the whole stream has verified (and matched
the manifest, when one is given): a bad ciphertext leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import pyrage

from backend.confidential.errors import ConfidentialError, DecryptionError
from backend.confidential.identity import Identity, parse_recipient
from backend.confidential.manifest import Manifest
from backend.evidence.cid import CidBuilder


@dataclass(frozen=True)
class Sealed:
    """One encrypted copy of a document: what its plaintext and its ciphertext hash to."""

    plaintext_sha256: bytes
    plaintext_size: int
    ciphertext_sha256: bytes
    ciphertext_size: int
    ciphertext_cid: str
    recipients: tuple[str, ...]

    def manifest(self) -> Manifest:
        """The manifest of this copy: for the first copy, what the chain will anchor."""
        return Manifest(
            self.plaintext_sha256,
            self.plaintext_size,
            self.ciphertext_sha256,
            self.ciphertext_size,
            self.ciphertext_cid,
        )


@dataclass(frozen=True)
class Opened:
    plaintext_sha256: bytes
    plaintext_size: int


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


def encrypt(src: BinaryIO, dst: Sink, recipients: Sequence[str]) -> Sealed:
    """Encrypt `src` to every recipient ("age1…"; duplicates count once), writing the age file
    to `dst`. Raises ConfidentialError for a bad or empty recipient list."""
    unique, parsed = _recipients(recipients)
    writer = _HashingWriter(dst, CidBuilder())
    reader = _HashingReader(src)
    pyrage.encrypt_io(reader, writer, parsed)
    return writer.sealed(reader, unique)


def _recipients(recipients: Sequence[str]) -> tuple[tuple[str, ...], list]:
    unique = tuple(dict.fromkeys(recipients))
    if not unique:
        raise ConfidentialError("no recipients: nobody could read the document")
    return unique, [parse_recipient(r) for r in unique]


def encrypt_file(path: Path, out_path: Path, recipients: Sequence[str]) -> Sealed:
    with open(path, "rb") as src, _published(out_path) as dst:
        return encrypt(src, dst, recipients)


class Encryption:
    """`path` encrypted to `recipients` in a worker thread while the caller iterates the
    ciphertext, chunk by chunk as it is made (a few chunks at most wait: constant memory), so
    an upload can send it as it comes. The worker encrypts and hashes the plaintext; the
    iterating thread hashes the ciphertext (sha256 and CID) as it takes it, so the two share
    the work. `sealed` once the iteration has ended. The iteration raises what the encryption
    raised; `close()` (also when the iteration is abandoned) stops the worker. Bad recipients
    raise at once."""

    DEPTH = 8  # age payload chunks of 64 KiB waiting at most

    def __init__(self, path: Path, recipients: Sequence[str]):
        self._path = Path(path)
        self._unique, self._parsed = _recipients(recipients)
        self._chunks: queue.Queue[object] = queue.Queue(self.DEPTH)
        self._closed = threading.Event()
        self._plaintext: _HashingReader | None = None
        self._sealed: Sealed | None = None
        self._worker = threading.Thread(target=self._run, name="encrypt", daemon=True)

    @property
    def sealed(self) -> Sealed:
        if self._sealed is None:
            raise ConfidentialError("the encryption has not ended")
        return self._sealed

    def __iter__(self) -> Iterator[bytes]:
        self._worker.start()
        ciphertext = _HashingWriter(None, CidBuilder())
        try:
            while True:
                item = self._chunks.get()
                if isinstance(item, BaseException):
                    raise item
                if item is None:
                    assert self._plaintext is not None
                    self._sealed = ciphertext.sealed(self._plaintext, self._unique)
                    return
                ciphertext.write(item)  # type: ignore[arg-type]
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def close(self) -> None:
        self._closed.set()
        while self._worker.is_alive():  # unblock a worker waiting for room
            with suppress(queue.Empty):
                self._chunks.get(timeout=0.05)

    def _run(self) -> None:
        try:
            with open(self._path, "rb") as src:
                plaintext = _HashingReader(src)
                sink = _QueueWriter(self._chunks, self._closed)
                pyrage.encrypt_io(plaintext, sink, self._parsed)
        except BaseException as exc:  # handed to the iterating thread
            self._put(exc)
        else:
            self._plaintext = plaintext
            self._put(None)

    def _put(self, item: object) -> None:
        while not self._closed.is_set():
            with suppress(queue.Full):
                self._chunks.put(item, timeout=0.05)
                return


def decrypt_to_file(
    src: BinaryIO,
    out_path: Path,
    identities: Sequence[Identity | str],
    expected: Manifest | None = None,
) -> Opened:
    """Decrypt `src` into `out_path` (created only if everything checks out): the ciphertext
    opens with one of `identities` and is whole and untouched; given the manifest the chain
    anchors (`expected`), the document is the attested one. Raises DecryptionError or
    ManifestError, leaving no file."""
    keys = [_pyrage_identity(i) for i in identities]
    if not keys:
        raise ConfidentialError("no identity to decrypt with")
    with _published(out_path) as dst:
        writer = _HashingWriter(dst)
        try:
            pyrage.decrypt_io(src, writer, keys)
        except (pyrage.DecryptError, OSError) as exc:
            raise DecryptionError(_reason(exc)) from None
        opened = Opened(writer.sha256.digest(), writer.size)
        if expected is not None:
            expected.check_plaintext(opened.plaintext_sha256, opened.plaintext_size)
    return opened


def reencrypt(
    src: BinaryIO,
    dst: BinaryIO,
    identities: Sequence[Identity | str],
    recipients: Sequence[str],
    anchored: Manifest,
) -> Sealed:
    """A new copy for a new set of readers (a rotated operator key, a new payee), made by a
    current reader: decrypt, check the plaintext against the anchored manifest, encrypt to
    `recipients`. The anchor does not change; readers check the copy's plaintext against it.
    The plaintext passes through a private temporary file (mode 0600), deleted at once."""
    with tempfile.TemporaryDirectory(prefix="reencrypt-") as work:
        plain = Path(work) / "plaintext"
        decrypt_to_file(src, plain, identities, expected=anchored)
        with open(plain, "rb") as plaintext:
            return encrypt(plaintext, dst, recipients)


def _pyrage_identity(identity: Identity | str) -> pyrage.x25519.Identity:
    if isinstance(identity, Identity):
        return identity.to_pyrage()
    try:
        return pyrage.x25519.Identity.from_str(identity)
    except Exception as exc:  # pyrage's IdentityError
        raise ConfidentialError("not an age X25519 identity (AGE-SECRET-KEY-1…)") from exc


def _reason(exc: Exception) -> str:
    """pyrage's error, said for a user (pyrage words them for a developer)."""
    text = str(exc)
    if "No matching keys" in text:
        return "this document is not encrypted to your key"
    if "Header MAC" in text:
        return "the ciphertext's header was tampered with"
    if isinstance(exc, OSError):  # raised by the payload stream: a chunk fails to verify
        return "the ciphertext is truncated or was tampered with"
    if "Incomplete header" in text or "fill whole buffer" in text:
        return "not an age-encrypted document, or cut short before its payload"
    return f"the ciphertext does not decrypt: {text}"


class _published:
    """A file written to a temporary name in the destination's directory (mode 0600) and
    renamed over `path` only if the block exits cleanly; removed otherwise."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __enter__(self) -> BinaryIO:
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, kind, value, tb) -> None:
        self.file.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)


class _QueueWriter(io.RawIOBase):
    """The ciphertext's chunks into a queue (waiting for room), until `closed`."""

    def __init__(self, chunks: queue.Queue[object], stopped: threading.Event):
        self.chunks, self.stopped = chunks, stopped

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)  # pyrage's buffer is reused after the call
        while True:
            if self.stopped.is_set():
                raise OSError("the encryption was stopped")
            with suppress(queue.Full):
                self.chunks.put(chunk, timeout=0.05)
                return len(chunk)


class _HashingReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO):
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if hasattr(self.raw, "readinto"):  # straight into pyrage's buffer: no copy between
            n = self.raw.readinto(buffer) or 0
            self.sha256.update(memoryview(buffer)[:n])
        else:
            data = self.raw.read(len(buffer))
            n = len(data)
            buffer[:n] = data
            self.sha256.update(data)
        self.size += n
        return n


class _HashingWriter(io.RawIOBase):
    def __init__(self, raw: Sink | None, cid: CidBuilder | None = None):
        self.raw, self.sha256, self.size, self.cid = raw, hashlib.sha256(), 0, cid

    def writable(self) -> bool:
        return True

    def sealed(self, plaintext: _HashingReader, recipients: tuple[str, ...]) -> Sealed:
        """What the plaintext read and this ciphertext written hash to."""
        assert self.cid is not None
        return Sealed(
            plaintext.sha256.digest(),
            plaintext.size,
            self.sha256.digest(),
            self.size,
            self.cid.finish(),
            recipients,
        )

    def write(self, data) -> int:
        if self.raw is not None:
            self.raw.write(data)
        self.sha256.update(data)
        if self.cid is not None:
            self.cid.update(data)
        self.size += len(data)
        return len(data)
