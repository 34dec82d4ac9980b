"""CIDs computed in pure Python must equal `ipfs add`'s (kubo defaults: backend/evidence/cid.py).

No chain needed: the module overrides the suite's autouse `isolation` fixture with a no-op.
"""

from __future__ import annotations

import base64
import hashlib
import random

import pytest

from backend.evidence.cid import (
    CHUNK_SIZE,
    DAG_PB,
    MAX_LINKS,
    RAW,
    CidBuilder,
    ParsedCid,
    cid_of,
    cid_v0_of,
    digest_of_cid,
    parse_cid,
)


@pytest.fixture(autouse=True)
def isolation():
    """No chain snapshot: these tests touch no contract."""


def pattern(n: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(n))


_PERIOD = pattern(251)


def pattern_chunks(n: int, piece: int = 1_000_003, zero: bool = False):
    """The bytes of pattern(n) (or n zero bytes), streamed in `piece`-sized memoryviews."""
    source = memoryview(bytes(piece) if zero else _PERIOD * (piece // 251 + 2))
    offset = 0
    while offset < n:
        size = min(piece, n - offset)
        start = 0 if zero else offset % 251
        yield source[start : start + size]
        offset += size


def cid_of_stream(chunks, version: int = 1, **kwargs) -> str:
    builder = CidBuilder(version, **kwargs)
    for chunk in chunks:
        builder.update(chunk)
    return builder.finish()


EMPTY_V1 = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
EMPTY_V0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
C = CHUNK_SIZE

# Reference CIDs, obtained independently with js-ipfs's importer: npm ipfs-unixfs-importer 17.1.1
# (+ blockstore-core 7.0.1, multiformats 14.0.5) installed outside the repo, running
# importer([{content}], new BlackHoleBlockstore(), {cidVersion: v, rawLeaves: v === 1,
# leafType: 'file', reduceSingleLeafToSelf: true, chunker: fixedSize({chunkSize}),
# layout: balanced({maxChildrenPerNode})}) and printing the last entry's CID (base32 for v1).
# Its default for v0 equals its 'unixfs-v0-2015' profile, i.e. kubo's `ipfs add`; it gives the
# golden empty-file CIDs above. Content: pattern(n) or, with "zero", n zero bytes.
# (n, content, version, chunk size, max links) -> CID
REFERENCE = {
    (0, "pattern", 1, C, 174): EMPTY_V1,
    (0, "pattern", 0, C, 174): EMPTY_V0,
    (1, "pattern", 1, C, 174): "bafkreiaij7wqrolyv5gx2glkordkq22yacpgg23bdwyweenwlknk37zjyu",
    (1, "pattern", 0, C, 174): "QmTcYLauNCrhA67eQKBftMBTbhLmK8Q8gVRCkWYk3BcBhh",
    (10_000, "pattern", 1, C, 174): "bafkreiewypokc3dxfpxvxdxsvzy7e5tlh3gbsdtnn3m4q76gz6hhjjsfh4",
    (10_000, "pattern", 0, C, 174): "QmVaeiPaHoUXNgZyKDMHjgEwvKoacntPh6bkRL88JUqQfQ",
    (C - 1, "pattern", 1, C, 174): "bafkreibqltw5zu46ltfuhmc3ao5sxt6qzm35r7mnyhzrn7ou7mwkyh5inm",
    (C - 1, "pattern", 0, C, 174): "QmSFzcM1wzfSDUKrXJm2TdmTRByuQTDgih4PX2VWTZeovm",
    (C, "pattern", 1, C, 174): "bafkreid3ofkvqtwnytdm4cxy3aidkhcqq6i2nv5w3nvyvfwmkuonkyqeai",
    (C, "pattern", 0, C, 174): "QmZ7cfTEYzy5gH5pYNJLHQy1Fx2vDYLQhAz2WD8eicaVEP",
    (C + 1, "pattern", 1, C, 174): "bafybeigrosvbbw24eykfaduzjk4rkdmyo7khbhw2ybhqz3g23oa5nsc4cm",
    (C + 1, "pattern", 0, C, 174): "QmfU7NikntK2cujEDHSnAThFsUWndKSspC5x2wB8NMMgoH",
    (
        1_048_576,
        "pattern",
        1,
        C,
        174,
    ): "bafybeigwvypkmhishqomvzdu6hbrewyacobzcmqv5gisqehyy5gzdyg47u",
    (1_048_576, "pattern", 0, C, 174): "QmcwMDS71NqSxBSQzxrjtd29UiLLw8NS2gcipCpHJiT5tc",
    (1_048_576, "zero", 1, C, 174): "bafybeiggzq4ryi7hscq5hzvzcnk4urnxt3asp37dhgvnjilf7exskximla",
    (1_048_576, "zero", 0, C, 174): "QmVkbauSDEaMP4Tkq6Epm9uW75mWm136n81YH8fGtfwdHU",
    # exactly one full level: one root over 174 leaves
    (174 * C, "pattern", 1, C, 174): "bafybeianbozj5ck6khnl6h7uyn4aqb7jg7im4b2o5njwn3v27geb35gfaa",
    (174 * C, "pattern", 0, C, 174): "QmNVZuXKp1pXj9E74T2xr2TcZ9GL2WzAn9QutAVepMsqhW",
    # one byte more: two levels, the 175th leaf under its own one-link parent
    (
        174 * C + 1,
        "pattern",
        1,
        C,
        174,
    ): "bafybeidvj3j26q7akdsouiav6qbnojd5jmzmcd7wkboreingl3guktmi7e",
    (174 * C + 1, "pattern", 0, C, 174): "QmNfGVsAMN56xg2sWFkUYhTvmCqYHEbSP6RcDjd4tN97Lq",
    (174 * C + 1, "zero", 1, C, 174): "bafybeihqwzd3o6q6v3pmwhzjy22vokhr767burokmqemg63hptx2nqd7ym",
    (174 * C + 1, "zero", 0, C, 174): "QmehMASWcBsX7VcEQqs6rpR5AHoBfKyBVEgmkJHjpPg8jq",
    (
        50_000_000,
        "pattern",
        1,
        C,
        174,
    ): "bafybeib4fsf75plpj3keuwpvttir3di32f4kafydvdukq7nsganm3f2nva",
    (50_000_000, "pattern", 0, C, 174): "QmVZsmYtA37B8a1XRTmpB4Lb1hiFAmMK2KrgmXDaRAqFEF",
    # small chunks and fan-outs reach 3-4 levels cheaply (same layout code, other parameters)
    (65_536, "pattern", 1, 1024, 4): "bafybeidme37z55mz2ig5ammorjcoyep3qiu5vidfz47xyhpmycjmxuliwi",
    (65_536, "pattern", 0, 1024, 4): "QmcxopzJryKDHjqHFerKPLM7pJpJBwBRYF3s5oeNrHvNaf",
    (65_537, "pattern", 1, 1024, 4): "bafybeifl6kgh4vtwy7yytspxgsdxmyhxb4nbydhgwwiltvmcggcuqotaaa",
    (65_537, "pattern", 0, 1024, 4): "QmQcWSJpWG1X3ea55KnKGSGgqHGwvibU6PLacmCWuAhoML",
    (27_005, "pattern", 1, 1000, 3): "bafybeiaf7lzc7xdx42g2ys3zomszzbtob2pnpbg5h47ndxlktlbjybs2am",
    (27_005, "pattern", 0, 1000, 3): "QmWXP5z4Go1jvdaCdNVNKeGT9PH4qk5T5b1XJufVN6qR8b",
    (5_000, "pattern", 1, 1000, 2): "bafybeibg2m4q7prhhm7qspvxb6y3xfifxla3esunnw5jekrbyplg4cngse",
    (5_000, "pattern", 0, 1000, 2): "QmY8pCTrujPB7E6ijdsFfLnfLrKz6H2T75snSRj6XhXbuF",
}


def test_pattern_chunks_stream_pattern():
    for n, piece in ((0, 7), (1000, 7), (3000, 251), (5000, 1_000_003)):
        assert b"".join(pattern_chunks(n, piece)) == pattern(n)
    assert b"".join(pattern_chunks(1000, 33, zero=True)) == bytes(1000)


def test_empty_file_golden_values():
    assert cid_of(b"") == EMPTY_V1
    assert cid_of(b"", version=0) == cid_v0_of(b"") == EMPTY_V0
    assert CidBuilder().finish() == EMPTY_V1  # no update() at all
    assert cid_of_stream([b"", b""], version=0) == EMPTY_V0
    assert digest_of_cid(EMPTY_V1) == hashlib.sha256(b"").digest()
    # CIDv0 of the empty file: the dag-pb node {Data: UnixFS{Type: File, filesize: 0}}
    assert digest_of_cid(EMPTY_V0) == hashlib.sha256(bytes.fromhex("0a0408021800")).digest()


@pytest.mark.parametrize("n", [1, 100, 10_000, C - 1, C])
def test_one_chunk_cidv1_is_a_raw_block_holding_the_sha256(n):
    data = pattern(n) if n <= 10_000 else b"".join(pattern_chunks(n))
    cid = cid_of(data)
    assert cid.startswith("bafkrei")
    parsed = parse_cid(cid)
    assert (parsed.version, parsed.codec) == (1, RAW)
    assert parsed.digest == digest_of_cid(cid) == hashlib.sha256(data).digest()


def test_two_chunks_make_a_dag_pb_root():
    data = b"".join(pattern_chunks(C + 1))
    parsed = parse_cid(cid_of(data))
    assert (parsed.version, parsed.codec) == (1, DAG_PB)
    assert parsed.digest != hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    "case", sorted(REFERENCE), ids=lambda k: f"{k[0]}B-{k[1]}-v{k[2]}-c{k[3]}-l{k[4]}"
)
def test_reference_cids(case):
    n, content, version, chunk_size, max_links = case
    chunks = pattern_chunks(n, zero=content == "zero")
    got = cid_of_stream(chunks, version, chunk_size=chunk_size, max_links=max_links)
    assert got == REFERENCE[case]


def test_defaults_are_kubos():
    assert (CHUNK_SIZE, MAX_LINKS) == (262_144, 174)


@pytest.mark.parametrize("version", [0, 1])
def test_update_splits_do_not_matter(version):
    n = 3 * C + 12_345
    data = b"".join(pattern_chunks(n))
    expected = cid_of(data, version)
    rng = random.Random(7)
    for _ in range(4):
        cuts = sorted(rng.sample(range(1, n), 40) + [C, 2 * C, 2 * C])  # empty piece included
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
        assert cid_of_stream(pieces, version) == expected
    tiny = [data[i : i + 1] for i in range(1000)] + [bytearray(data[1000:])]
    assert cid_of_stream(tiny, version) == expected
    assert cid_of_stream([memoryview(data)], version) == expected


def test_multi_level_state_stays_small():
    builder = CidBuilder()
    for chunk in pattern_chunks(174 * C + 1):
        builder.update(chunk)
        assert not builder._buf  # version 1: a leaf is hashed as it comes, never buffered
        assert builder._leaf_size < C
        assert all(len(level) <= MAX_LINKS for level in builder._levels)
    # levels collapse lazily: 174 leaves wait on level 0, the last byte in the leaf's hash
    assert [len(level) for level in builder._levels] == [MAX_LINKS]
    assert builder._leaf_size == 1
    assert builder.size == 174 * C + 1
    assert builder.finish() == REFERENCE[(174 * C + 1, "pattern", 1, C, 174)]
    assert [len(level) for level in builder._levels] == [0, 0, 1]  # leaves, 2 parents, root


def test_pending_links_per_level_are_bounded():
    builder = CidBuilder(chunk_size=10, max_links=3)
    for i in range(3**4 + 1):
        builder.update(bytes([i]) * 10)
        assert all(len(level) <= 3 for level in builder._levels)
    # 82 leaves -> 27 parents -> 9 -> 3, each level keeping only what is not yet collapsed
    assert [len(level) for level in builder._levels] == [1, 3, 2, 2]


def test_finish_is_final():
    builder = CidBuilder(0)
    builder.update(b"abc")
    first = builder.finish()
    assert builder.finish() == first == cid_v0_of(b"abc")
    with pytest.raises(RuntimeError):
        builder.update(b"more")
    for bad in ({"version": 2}, {"chunk_size": 0}, {"max_links": 1}):
        with pytest.raises(ValueError):
            CidBuilder(**bad)


def test_parse_cid_accepts_each_kind():
    raw = "bafkreiewypokc3dxfpxvxdxsvzy7e5tlh3gbsdtnn3m4q76gz6hhjjsfh4"
    assert parse_cid(raw) == ParsedCid(1, RAW, hashlib.sha256(pattern(10_000)).digest())
    assert str(parse_cid(raw)) == raw
    assert str(parse_cid(raw.upper())) == raw  # multibase 'B': upper-case base32
    # the same CIDv1 in base58btc (multibase 'z'), as js-ipfs prints it by default
    assert str(parse_cid("zb2rhgnoZxmLgXSbMmdfhjTb8pkZGX3ouLa9Cjq3jAz3UF6fG")) == raw
    dag = "bafybeigrosvbbw24eykfaduzjk4rkdmyo7khbhw2ybhqz3g23oa5nsc4cm"
    assert parse_cid(dag).codec == DAG_PB
    assert str(parse_cid("zdj7WjXXU1F4eHD6URMqpQA4Fhk1aXkFtae2UFZQtniwFpG6W")) == dag
    v0 = parse_cid(EMPTY_V0)
    assert (v0.version, v0.codec, str(v0)) == (0, DAG_PB, EMPTY_V0)
    # js multiformats: CIDv0 -> v1 keeps the digest
    v1 = "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y"
    assert parse_cid(v1).digest == v0.digest


def _b32(raw: bytes) -> str:
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


DIGEST = bytes(range(32))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "bafk",
        "b",
        "Qm",
        " bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\n",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk",  # one char short
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykua",  # one char long
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykv",  # non-zero pad bits
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk1",  # not base32
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxQUVYKU",  # mixed case
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQ0",  # '0' is not base58
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQ",  # v0 too short
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQHH",  # v0 too long
        "f01551220" + "00" * 32,  # base16 multibase: not accepted
        "z" + "1" * 200,  # too long
        _b32(bytes([2, RAW, 0x12, 32]) + DIGEST),  # version 2
        _b32(bytes([0, RAW, 0x12, 32]) + DIGEST),  # version 0 in multibase form
        _b32(bytes([1, 0x71, 0x12, 32]) + DIGEST),  # dag-cbor codec
        _b32(bytes([1, RAW, 0x13, 64]) + DIGEST * 2),  # sha2-512
        _b32(bytes([1, RAW, 0x00, 32]) + DIGEST),  # identity multihash
        _b32(bytes([1, RAW, 0x12, 31]) + DIGEST[:31]),  # short digest
        _b32(bytes([1, RAW, 0x12, 32]) + DIGEST + b"\0"),  # trailing byte
        _b32(bytes([1, RAW, 0x12, 32]) + DIGEST[:31]),  # truncated digest
        _b32(bytes([1])),
    ],
)
def test_parse_cid_rejects_malformed(text):
    with pytest.raises(ValueError, match="CID"):
        parse_cid(text)
    assert digest_of_cid(text) is None


def test_parse_cid_rejects_non_strings():
    for value in (None, b"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 5):
        with pytest.raises(ValueError):
            parse_cid(value)


def test_parse_cid_round_trips_built_cids():
    assert str(parse_cid(_b32(bytes([1, RAW, 0x12, 32]) + DIGEST))) == _b32(
        bytes([1, RAW, 0x12, 32]) + DIGEST
    )
    for cid in REFERENCE.values():
        assert str(parse_cid(cid)) == cid
