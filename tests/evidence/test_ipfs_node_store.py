"""IpfsNodeStore (backend/evidence/ipfs_node.py) against a real offline js-ipfs node (the
session fixture `ipfs_node` in conftest.py). No chain."""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import socket
import time
import tracemalloc

import httpx
import pytest

from backend.evidence.ipfs_node import IpfsNodeStore, api_base_url
from backend.evidence.store import EvidenceStore, NotFound, StoredObject, StoreUnavailable

SIZES = [0, 10_000, 1_048_576, 50 * 1_048_576]
SIZE_IDS = ["0B", "10KB", "1MB", "50MB"]
EMPTY_V1 = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
HAS_CID_PY = importlib.util.find_spec("backend.evidence.cid") is not None


@functools.cache
def pattern(n: int) -> bytes:
    """bytes((i * 7 + 3) % 251 for i in range(n)), built from its 251-byte period."""
    period = bytes((i * 7 + 3) % 251 for i in range(251))
    return (period * (n // 251 + 1))[:n]


def pieces(data: bytes, size: int = 100_003):
    """The document as a stream of chunks not aligned with the 256 KiB IPFS chunks."""
    return (data[i : i + size] for i in range(0, len(data), size))


def raw_cid(data: bytes) -> str:
    """CIDv1 raw sha2-256 in base32: a valid CID for a one-block document."""
    binary = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(binary).decode().lower().rstrip("=")


def node_cid(api_url: str, data: bytes) -> str:
    """The CID the node itself computes for `data` with the project's settings: a plain,
    non-streaming multipart upload through httpx's own encoder, nothing stored (only-hash)."""
    response = httpx.post(
        f"{api_url}/api/v0/add",
        params={
            "cid-version": 1,
            "raw-leaves": "true",
            "chunker": "size-262144",
            "hash": "sha2-256",
            "cid-base": "base32",
            "only-hash": "true",
            "pin": "false",
        },
        files={"file": ("doc", data, "application/octet-stream")},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["Hash"]


@pytest.fixture(scope="module")
def store(ipfs_node):
    with IpfsNodeStore(ipfs_node) as s:
        yield s


def test_is_an_evidence_store(store):
    def typed(s: EvidenceStore) -> EvidenceStore:
        return s

    assert typed(store) is store
    assert all(callable(getattr(store, m)) for m in ("add", "cat", "has", "pin", "unpin"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_round_trip(store, ipfs_node, size):
    data = pattern(size)
    stored = store.add(pieces(data))
    assert stored == StoredObject(node_cid(ipfs_node, data), size, hashlib.sha256(data).digest())
    assert stored.cid.startswith("bafk" if size <= 262_144 else "bafy")
    assert store.add(pieces(data, 65_536)).cid == stored.cid  # same CID again, other chunking
    assert store.has(stored.cid)
    assert store.is_pinned(stored.cid)
    assert b"".join(store.cat(stored.cid)) == data


def test_empty_document_cid(store):
    assert store.add([]).cid == store.add([b"", b""]).cid == EMPTY_V1


def test_small_document_cid_digest_is_its_sha256(store):
    data = b'{"deal": 1, "milestone": 0, "verdict": "met"}'
    assert store.add([data]).cid == raw_cid(data)


def test_add_and_cat_stream(store):
    """50 MB through add() and cat() with at most a few MiB allocated in this process."""
    data = pattern(50 * 1_048_576)
    expected = hashlib.sha256(data).digest()
    tracemalloc.start()
    try:
        stored = store.add(pieces(data, 1_048_576))
        _, add_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        sha, sizes = hashlib.sha256(), []
        for chunk in store.cat(stored.cid):
            sha.update(chunk)
            sizes.append(len(chunk))
        _, cat_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.sha256 == sha.digest() == expected
    assert sizes == [1_048_576] * 50
    assert add_peak < 8 * 1_048_576, add_peak
    assert cat_peak < 8 * 1_048_576, cat_peak


@pytest.mark.skipif(
    not HAS_CID_PY, reason="backend/evidence/cid.py (the pure-Python CID builder) is not there yet"
)
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_node_cids_equal_cid_of(store, size):
    from backend.evidence.cid import cid_of

    data = pattern(size)
    assert store.add(pieces(data)).cid == cid_of(data, version=1)


def test_absent_cid_not_found_fast(store):
    absent = raw_cid(b"never added to this node")
    started = time.monotonic()
    with pytest.raises(NotFound):
        store.cat(absent)
    assert time.monotonic() - started < 5
    assert not store.has(absent)
    with pytest.raises(NotFound):
        store.unpin(absent)


def test_malformed_cid(store):
    with pytest.raises(ValueError):
        store.has("not-a-cid")
    with pytest.raises(ValueError):
        store.cat("not-a-cid")


def test_pin_unpin(store):
    stored = store.add([b"pin me ", b"and unpin me"])
    assert store.is_pinned(stored.cid)
    store.unpin(stored.cid)
    assert not store.is_pinned(stored.cid)
    assert store.has(stored.cid)  # unpinned blocks stay until the node collects garbage
    with pytest.raises(NotFound):
        store.unpin(stored.cid)
    store.pin(stored.cid)
    store.pin(stored.cid)  # idempotent
    assert store.is_pinned(stored.cid)
    assert b"".join(store.cat(stored.cid)) == b"pin me and unpin me"
    with pytest.raises(NotFound):
        store.pin(raw_cid(b"not on the node either"))


def every_call(store: IpfsNodeStore):
    cid = raw_cid(b"x")
    yield "add", lambda: store.add([b"x"])
    yield "cat", lambda: store.cat(cid)
    yield "has", lambda: store.has(cid)
    yield "pin", lambda: store.pin(cid)
    yield "unpin", lambda: store.unpin(cid)


def test_unavailable_when_nothing_listens():
    with socket.socket() as s:  # a port that was free a moment ago, now closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with IpfsNodeStore(url, timeout=5) as store:
        for name, call in every_call(store):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match=f"{url}.*unreachable") as e:
                call()
            assert time.monotonic() - started < 2, name
            assert "ConnectError" in str(e.value), name


def test_unavailable_when_the_node_does_not_answer():
    """A listener that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        with IpfsNodeStore(url, timeout=0.3, probe_timeout=0.2) as store:
            for _name, call in every_call(store):
                # 0.5 s: a presence check (has, and before cat and pin) waits for the node's own
                # probe timeout, then the usual timeout
                with pytest.raises(StoreUnavailable, match=rf"{url}.*no answer within 0\.[35] s"):
                    call()


def test_api_address_forms(ipfs_node):
    port = ipfs_node.rsplit(":", 1)[1]
    assert api_base_url(f"/ip4/127.0.0.1/tcp/{port}/http") == ipfs_node
    assert api_base_url(f"{ipfs_node}/api/v0/") == ipfs_node
    assert api_base_url("/ip6/::1/tcp/5001") == "http://[::1]:5001"
    with pytest.raises(ValueError):
        api_base_url("127.0.0.1:5001")
    with IpfsNodeStore(f"/ip4/127.0.0.1/tcp/{port}/http") as store:
        assert store.add([b"via a multiaddr"]).cid == raw_cid(b"via a multiaddr")
