"""The one small interface every evidence store implements.

Implementations:
  - LocalStore (local.py): an embedded content-addressed store on disk, the default when no
    IPFS node is configured; it yields exactly the CIDs an IPFS node gives for the same
    settings (see cid.py).
  - IpfsNodeStore (ipfs_node.py): a real IPFS node (kubo, js-ipfs, a cluster or a pinning
    gateway) over its HTTP RPC API (/api/v0), with httpx (streamed multipart; ipfshttpclient
    0.7 is unmaintained and refuses current daemons' versions).
  - Remote pinning through the IPFS Pinning Service API: designed for, see docs.

CID settings, everywhere: CIDv1, raw leaves, sha2-256, fixed-size chunks of 262,144 bytes,
balanced DAG with at most 174 links per node, base32 text form ("bafk…" / "bafy…"), i.e.
what `ipfs add --cid-version 1` produces. A document smaller than one chunk is a single raw
block, so its CID's digest is the plain sha256 of the document: the value anchored on chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    cid: str  # CIDv1 base32 text form
    size: int  # bytes of the document
    sha256: bytes  # 32-byte sha256 of the whole document


class StoreError(Exception):
    """Base class of store errors."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached or failed (e.g. the IPFS node is down)."""


class NotFound(StoreError):
    """No such object in the store."""


class EvidenceStore(Protocol):
    def add(self, chunks: Iterable[bytes]) -> StoredObject:
        """Store (and pin) a document given as a stream of byte chunks of any sizes."""
        ...

    def cat(self, cid: str) -> Iterator[bytes]:
        """Stream a stored document back. Raises NotFound for an unknown CID."""
        ...

    def has(self, cid: str) -> bool: ...

    def pin(self, cid: str) -> None: ...

    def unpin(self, cid: str) -> None: ...
