"""LocalStore: the embedded content-addressed store (backend/evidence/local.py). No chain."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from backend.evidence.cid import cid_of, parse_cid
from backend.evidence.local import READ_CHUNK, LocalStore
from backend.evidence.store import EvidenceStore, NotFound, StoredObject

# Reference CID of pattern(1_048_576) from js-ipfs's importer (see test_cid.py).
PATTERN_1MIB_V1 = "bafybeigwvypkmhishqomvzdu6hbrewyacobzcmqv5gisqehyy5gzdyg47u"
UNKNOWN = "bafkreiewypokc3dxfpxvxdxsvzy7e5tlh3gbsdtnn3m4q76gz6hhjjsfh4"  # pattern(10_000)


@pytest.fixture(autouse=True)
def isolation():
    """No chain snapshot: these tests touch no contract."""


def pattern(n: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(n))


def pieces(data: bytes, size: int):
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "evidence")


def listing(store: LocalStore, sub: str) -> list[str]:
    return sorted(p.name for p in (store.root / sub).iterdir())


def test_round_trip(store):
    data = pattern(251) * (1_048_576 // 251) + pattern(1_048_576 % 251)
    assert data == pattern(1_048_576)
    stored = store.add(pieces(data, 100_003))
    assert stored == StoredObject(PATTERN_1MIB_V1, len(data), hashlib.sha256(data).digest())
    assert store.has(stored.cid)
    assert listing(store, "objects") == [stored.cid]
    assert listing(store, "pins") == [stored.cid]
    assert store.pinned() == {stored.cid}
    assert listing(store, "tmp") == []
    chunks = list(store.cat(stored.cid))
    assert b"".join(chunks) == data
    assert [len(c) for c in chunks] == [READ_CHUNK]  # 1 MiB at a time


def test_small_document_cid_digest_is_its_sha256(store):
    data = b'{"deal": 1, "milestone": 0, "verdict": "met"}'
    stored = store.add([data])
    assert stored.cid == cid_of(data)
    assert parse_cid(stored.cid).digest == stored.sha256 == hashlib.sha256(data).digest()
    assert b"".join(store.cat(stored.cid)) == data


def test_large_document_streams_in_1mib_chunks(store):
    data = pattern(251) * 10_000  # 2.51 MB, 10 leaves
    stored = store.add(pieces(data, 65_536))
    assert stored.cid == cid_of(data)
    assert [len(c) for c in store.cat(stored.cid)] == [
        READ_CHUNK,
        READ_CHUNK,
        len(data) - 2 * READ_CHUNK,
    ]


def test_empty_document(store):
    stored = store.add([])
    assert stored.cid == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert stored.size == 0
    assert list(store.cat(stored.cid)) == []


def test_same_content_twice_is_one_object(store):
    data = pattern(300_000)
    first = store.add([data])
    second = store.add(pieces(data, 4096))
    assert first == second
    assert listing(store, "objects") == [first.cid]
    assert listing(store, "tmp") == []
    other = store.add([b"other"])
    assert listing(store, "objects") == sorted([first.cid, other.cid])


def test_unknown_cid_is_not_found_at_once(store):
    assert not store.has(UNKNOWN)
    with pytest.raises(NotFound):
        store.cat(UNKNOWN)  # raised by the call itself, before any iteration
    with pytest.raises(NotFound):
        store.pin(UNKNOWN)
    with pytest.raises(NotFound):
        store.unpin(UNKNOWN)


@pytest.mark.parametrize("bad", ["", "bafk", "Qm123", "../objects", "bafkreihdwdcefgh4dqkjv67uz"])
def test_malformed_cid_is_a_value_error(store, bad):
    for call in (store.cat, store.has, store.pin, store.unpin):
        with pytest.raises(ValueError):
            call(bad)


def test_other_spellings_of_a_cid_find_the_object(store):
    stored = store.add([pattern(10_000)])
    assert stored.cid == UNKNOWN
    for spelling in (UNKNOWN.upper(), "zb2rhgnoZxmLgXSbMmdfhjTb8pkZGX3ouLa9Cjq3jAz3UF6fG"):
        assert store.has(spelling)
        assert b"".join(store.cat(spelling)) == pattern(10_000)


def test_unpin_removes_the_object(store):
    stored = store.add([b"evidence"])
    store.pin(stored.cid)  # already pinned: no-op
    store.unpin(stored.cid)
    assert not store.has(stored.cid)
    assert store.pinned() == set()
    assert listing(store, "objects") == []
    with pytest.raises(NotFound):
        store.cat(stored.cid)
    with pytest.raises(NotFound):
        store.unpin(stored.cid)
    assert store.add([b"evidence"]) == stored  # can come back, same CID
    assert store.pinned() == {stored.cid}


def test_failed_add_leaves_nothing_visible(store):
    def broken():
        yield pattern(500_000)
        raise OSError("client went away")

    with pytest.raises(OSError, match="went away"):
        store.add(broken())
    with pytest.raises(TypeError):
        store.add(["not bytes"])
    assert listing(store, "objects") == listing(store, "pins") == listing(store, "tmp") == []


def test_stale_temp_files_are_removed_on_open(tmp_path):
    store = LocalStore(tmp_path)
    stale, fresh = tmp_path / "tmp" / "add-stale", tmp_path / "tmp" / "add-fresh"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"in progress")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    LocalStore(tmp_path)
    assert listing(store, "tmp") == ["add-fresh"]


def test_cat_stream_can_be_closed_early(store):
    stored = store.add([pattern(251) * 10_000])
    stream = store.cat(stored.cid)
    assert len(next(stream)) == READ_CHUNK
    stream.close()
    assert list(stream) == []


def test_is_an_evidence_store(store):
    typed: EvidenceStore = store
    for name in ("add", "cat", "has", "pin", "unpin"):
        assert callable(getattr(typed, name))
