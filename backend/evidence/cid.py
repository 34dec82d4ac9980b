"""IPFS content identifiers computed in pure Python (stdlib only), equal to `ipfs add`'s.

CIDv1 (`ipfs add --cid-version 1`): raw leaves, sha2-256, fixed chunks of 262,144 bytes,
balanced DAG of at most 174 links per node, base32 text ("bafk…" one raw block, "bafy…"
a dag-pb root). CIDv0 (`ipfs add`): the same DAG but the leaves are dag-pb nodes holding a
UnixFS File with the bytes, base58btc text ("Qm…"). A one-chunk file is its own root.

dag-pb encoding, as kubo and js-ipfs write it: PBNode Links (field 2) before Data (field 1);
PBLink Hash (1), Name (2, always present, empty), Tsize (3) = encoded size of the child's whole
DAG; UnixFS Data Type=File (1), Data (2, leaves only, omitted when empty), filesize (3),
blocksizes (4, one per child: bytes of the file under it, not packed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import NamedTuple

CHUNK_SIZE = 262_144
MAX_LINKS = 174
RAW, DAG_PB, SHA2_256 = 0x55, 0x70, 0x12
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_MAX_TEXT = 128  # longer than any sha2-256 CID text; bounds the quadratic base58 decoding


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint(len(payload)) + payload


def _b58encode(raw: bytes) -> str:
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        if ch not in _B58:
            raise ValueError(f"invalid base58btc character {ch!r} in CID")
        n = n * 58 + _B58.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


@dataclass(frozen=True)
class ParsedCid:
    version: int  # 0 or 1
    codec: int  # RAW or DAG_PB (always DAG_PB for version 0)
    digest: bytes  # the 32-byte sha2-256 digest of the root block

    def to_bytes(self) -> bytes:
        multihash = bytes([SHA2_256, 32]) + self.digest
        return multihash if self.version == 0 else bytes([1, self.codec]) + multihash

    def __str__(self) -> str:
        """Canonical text: base58btc "Qm…" for v0, base32 lowercase "b…" for v1."""
        if self.version == 0:
            return _b58encode(self.to_bytes())
        return "b" + base64.b32encode(self.to_bytes()).decode().lower().rstrip("=")


def parse_cid(text: str) -> ParsedCid:
    """Validate a CID text (v0 "Qm…", v1 multibase b/B base32 or z base58btc) whose multihash is
    sha2-256 and codec raw or dag-pb. Raises ValueError saying what is wrong."""
    if not isinstance(text, str) or not text:
        raise ValueError("CID must be a non-empty string")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"CID too long ({len(text)} characters)")
    if len(text) == 46 and text.startswith("Qm"):
        raw = _b58decode(text)
        if len(raw) != 34 or raw[:2] != bytes([SHA2_256, 32]):
            raise ValueError("invalid CIDv0: not a sha2-256 multihash")
        return ParsedCid(0, DAG_PB, raw[2:])
    if text.startswith("Qm"):
        raise ValueError(f"invalid CIDv0: {len(text)} characters, want 46")
    prefix, body = text[0], text[1:]
    if prefix in "bB":
        if body != (body.lower() if prefix == "b" else body.upper()):
            raise ValueError("invalid CID: mixed-case base32")
        try:
            raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
        except binascii.Error:
            raise ValueError("invalid CID: bad base32") from None
    elif prefix == "z":
        raw = _b58decode(body)
    else:
        raise ValueError(f"invalid CID: unsupported multibase prefix {prefix!r} (want b, z or Qm)")
    if len(raw) < 2 or raw[0] != 1:
        raise ValueError("invalid CID: version must be 1 (or a CIDv0 'Qm…')")
    if raw[1] not in (RAW, DAG_PB):
        raise ValueError(f"invalid CID: codec 0x{raw[1]:x} is neither raw (0x55) nor dag-pb (0x70)")
    if raw[2:4] != bytes([SHA2_256, 32]):
        raise ValueError("invalid CID: multihash must be sha2-256 with a 32-byte digest")
    if len(raw) != 36:
        raise ValueError(f"invalid CID: digest is {len(raw) - 4} bytes, want 32")
    parsed = ParsedCid(1, raw[1], raw[4:])
    canonical = str(parsed)[1:]  # refuses non-zero padding bits: one text per CID per base
    if prefix in "bB" and body.lower() != canonical:
        raise ValueError("invalid CID: non-canonical base32")
    return parsed


def digest_of_cid(cid: str) -> bytes | None:
    """The sha2-256 digest inside a CID, None when the text is not a valid CID. For a CIDv1 raw
    (a document < 256 KiB) it is the sha256 of the document; otherwise of the root block."""
    try:
        return parse_cid(cid).digest
    except ValueError:
        return None


class _Link(NamedTuple):
    cid: bytes  # binary CID
    tsize: int  # encoded bytes of the child's whole DAG
    filesize: int  # document bytes under the child


class CidBuilder:
    """Streaming `ipfs add`: update() with chunks of any sizes, then finish(). Holds at most one
    pending chunk (version 1: only its running hash) and up to max_links links per tree
    level."""

    def __init__(
        self, version: int = 1, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS
    ):
        if version not in (0, 1) or chunk_size < 1 or max_links < 2:
            raise ValueError("version must be 0 or 1, chunk_size >= 1, max_links >= 2")
        self.version, self._chunk_size, self._max_links = version, chunk_size, max_links
        self._buf = bytearray()  # version 0: the leaf being filled
        self._leaf_hash, self._leaf_size = hashlib.sha256(), 0  # version 1: the same, hashed
        self._levels: list[list[_Link]] = [[]]
        self._result: str | None = None
        self.size = 0

    def update(self, data: bytes) -> None:
        if self._result is not None:
            raise RuntimeError("CidBuilder already finished")
        view = memoryview(data).cast("B")
        self.size += len(view)
        if self.version == 1:  # a raw leaf is hashed as it comes: no copy of the data
            while view:
                piece = view[: self._chunk_size - self._leaf_size]
                self._leaf_hash.update(piece)
                self._leaf_size += len(piece)
                view = view[len(piece) :]
                if self._leaf_size == self._chunk_size:
                    self._push(0, self._raw_leaf())
            return
        if self._buf:
            take = self._chunk_size - len(self._buf)
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) < self._chunk_size:
                return
            self._push(0, self._leaf(self._buf))
            self._buf = bytearray()
        while len(view) >= self._chunk_size:
            self._push(0, self._leaf(view[: self._chunk_size]))
            view = view[self._chunk_size :]
        self._buf += view

    def finish(self) -> str:
        if self._result is None:
            if self.version == 1:
                if self._leaf_size or not self._levels[0]:
                    self._push(0, self._raw_leaf())
            elif self._buf or not self._levels[0]:
                self._push(0, self._leaf(self._buf))
            level = 0
            while level < len(self._levels) - 1 or len(self._levels[level]) > 1:
                self._push(level + 1, self._parent(self._levels[level]))
                self._levels[level] = []
                level += 1
            root = self._levels[level][0].cid
            self._result = str(
                ParsedCid(self.version, root[1] if self.version else DAG_PB, root[-32:])
            )
        return self._result

    def _cid(self, codec: int, digest: bytes) -> bytes:
        multihash = bytes([SHA2_256, 32]) + digest
        return multihash if self.version == 0 else bytes([1, codec]) + multihash

    def _raw_leaf(self) -> _Link:
        link = _Link(self._cid(RAW, self._leaf_hash.digest()), self._leaf_size, self._leaf_size)
        self._leaf_hash, self._leaf_size = hashlib.sha256(), 0
        return link

    def _leaf(self, chunk) -> _Link:
        if self.version == 1:
            return _Link(self._cid(RAW, hashlib.sha256(chunk).digest()), len(chunk), len(chunk))
        n = len(chunk)
        data_field = (b"\x12" + _varint(n)) if n else b""
        unixfs_len = 2 + len(data_field) + n + 1 + len(_varint(n))
        head = b"\x0a" + _varint(unixfs_len) + b"\x08\x02" + data_field
        tail = b"\x18" + _varint(n)
        h = hashlib.sha256(head)
        h.update(chunk)
        h.update(tail)
        return _Link(self._cid(DAG_PB, h.digest()), len(head) + n + len(tail), n)

    def _parent(self, links: list[_Link]) -> _Link:
        unixfs = b"\x08\x02\x18" + _varint(sum(link.filesize for link in links))
        unixfs += b"".join(b"\x20" + _varint(link.filesize) for link in links)
        pb_links = (
            _field(0x12, _field(0x0A, link.cid) + b"\x12\x00\x18" + _varint(link.tsize))
            for link in links
        )
        node = b"".join(pb_links) + _field(0x0A, unixfs)
        cid = self._cid(DAG_PB, hashlib.sha256(node).digest())
        return _Link(
            cid, len(node) + sum(link.tsize for link in links), sum(x.filesize for x in links)
        )

    def _push(self, level: int, link: _Link) -> None:
        if level == len(self._levels):
            self._levels.append([])
        if len(self._levels[level]) == self._max_links:
            self._push(level + 1, self._parent(self._levels[level]))
            self._levels[level] = []
        self._levels[level].append(link)


def cid_of(data: bytes, version: int = 1) -> str:
    """The CID `ipfs add` gives `data`: version 1 with --cid-version 1, version 0 by default."""
    builder = CidBuilder(version)
    builder.update(data)
    return builder.finish()


def cid_v0_of(data: bytes) -> str:
    """`ipfs add` with kubo's defaults (CIDv0, dag-pb UnixFS leaves): "Qm…"."""
    return cid_of(data, version=0)


def raw_cid_of_sha256(digest: bytes) -> str:
    """The CIDv1 a document smaller than one chunk (256 KiB) has: one raw block whose
    multihash is the document's sha256. For a larger document it names no stored object."""
    if len(digest) != 32:
        raise ValueError("a sha256 digest is 32 bytes")
    return str(ParsedCid(1, RAW, digest))
