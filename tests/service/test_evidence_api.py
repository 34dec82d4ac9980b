"""POST/GET /evidence against a real chain, on the embedded content-addressed store."""

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from helpers import USD, milestones
from service_helpers import BOTH_DATABASES, signed_headers, upload
from sqlalchemy import func, select

from backend import auth, nonces
from backend.db import Evidence, UsedNonce
from backend.evidence.cid import cid_of

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"inspection " * 300


def _deal(create_deal, ops):
    return create_deal(milestones([10 * USD], [(ops.inspector,)]))


def test_upload_then_download_gives_the_same_bytes(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    r = upload(client, supplier, escrow, PDF, deal=deal.id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["cid"] == cid_of(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (body["size"], body["media_type"]) == (len(PDF), "application/pdf")
    assert body["uploader"] == supplier.address and body["deal_id"] == deal.id
    back = client.get(f"/evidence/{body['cid']}")
    assert back.status_code == 200
    assert back.content == PDF
    assert back.headers["x-content-sha256"] == body["sha256"]
    assert back.headers["content-type"] == "application/pdf"


def test_meta_returns_the_record(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    cid = upload(client, supplier, escrow, PDF, deal=deal.id).json()["cid"]
    meta = client.get(f"/evidence/{cid}/meta").json()
    assert meta["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_same_content_twice_is_one_record(client, escrow, supplier, inspector, ops, create_deal):
    deal = _deal(create_deal, ops)
    first = upload(client, supplier, escrow, PDF, deal=deal.id)
    second = upload(client, inspector, escrow, PDF, deal=deal.id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["cid"] == second.json()["cid"]
    assert second.json()["uploader"] == supplier.address  # the first record stands


@BOTH_DATABASES
def test_same_content_again_answers_the_first_record_whole(
    client, escrow, supplier, inspector, ops, create_deal
):
    """The record is written with INSERT ... ON CONFLICT DO NOTHING and read back only on a
    conflict: on both databases the second answer is the first record, field for field."""
    deal = _deal(create_deal, ops)
    first = upload(client, supplier, escrow, PDF, deal=deal.id)
    second = upload(client, inspector, escrow, PDF)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["created"] is True
    assert second.json() == {**first.json(), "created": False}
    with client.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Evidence)) == 1
        assert db.scalar(select(func.count()).select_from(UsedNonce)) == 2  # both spent


def test_oracle_key_uploads_without_a_deal(client, escrow, inspector, ops):
    assert upload(client, inspector, escrow, b'{"temperature": 4.2}').json()["media_type"] == (
        "application/json"
    )


def test_too_large_is_413(make_client, escrow, supplier, ops, create_deal):
    client = make_client(max_upload_bytes=1000)
    deal = _deal(create_deal, ops)
    r = upload(client, supplier, escrow, b"x" * 40_000, deal=deal.id)
    assert r.status_code == 413


def test_too_large_found_while_streaming_is_413_and_stores_nothing(
    make_client, escrow, supplier, ops, create_deal
):
    # Within the Content-Length slack for the multipart framing: refused while it streams.
    client = make_client(max_upload_bytes=1000)
    deal = _deal(create_deal, ops)
    r = upload(client, supplier, escrow, PDF[:9] + b"x" * 4000, deal=deal.id)
    assert r.status_code == 413 and "limited to 1000 bytes" in r.json()["detail"]
    store = client.app.state.store
    assert list((store.root / "objects").iterdir()) == [] and store.pinned() == set()


def test_a_part_after_the_file_is_400_and_stores_nothing(
    client, escrow, supplier, ops, create_deal
):
    deal = _deal(create_deal, ops)
    body = (
        b"--b\r\n"
        b'Content-Disposition: form-data; name="file"; filename="doc"\r\n\r\n' + PDF + b"\r\n"
        b'--b\r\nContent-Disposition: form-data; name="more"\r\n\r\nx\r\n--b--\r\n'
    )
    headers = signed_headers(supplier, escrow, PDF, deal.id)
    r = client.post(
        "/evidence",
        params={"deal": deal.id},
        headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
        content=body,
    )
    assert r.status_code == 400 and "last part" in r.json()["detail"]
    store = client.app.state.store
    assert list((store.root / "objects").iterdir()) == [] and store.pinned() == set()
    with client.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(UsedNonce)) == 0


def test_type_not_allowed_is_415(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    r = upload(client, supplier, escrow, b"MZ\x90\x00\x03\x00\x00\x00 an executable", deal=deal.id)
    assert r.status_code == 415


def test_missing_signature_is_401(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    r = client.post(
        "/evidence",
        params={"deal": deal.id},
        headers={"X-Content-Sha256": hashlib.sha256(PDF).hexdigest()},
        files={"file": ("doc", PDF)},
    )
    assert r.status_code == 401


def test_a_request_unsigned_and_malformed_is_401_whatever_its_body(
    client, escrow, ops, create_deal
):
    """The signer is checked while the body's first bytes are read: its refusal comes first."""
    deal = _deal(create_deal, ops)
    digest = {"X-Content-Sha256": hashlib.sha256(PDF).hexdigest()}
    for body in ({"files": {"other": ("doc", PDF)}}, {"content": b"not multipart"}):
        r = client.post("/evidence", params={"deal": deal.id}, headers=digest, **body)
        assert r.status_code == 401 and "missing X-Escrow-Auth" in r.json()["detail"], r.text


def test_expired_signature_is_401(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    r = upload(client, supplier, escrow, PDF, deal=deal.id, expires_in=-5)
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


@BOTH_DATABASES
def test_replayed_request_is_401(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    headers = signed_headers(supplier, escrow, PDF, deal.id, nonce="n" * 20)
    assert upload(client, supplier, escrow, PDF, deal=deal.id, headers=headers).status_code == 201
    again = upload(client, supplier, escrow, PDF, deal=deal.id, headers=headers)
    assert again.status_code == 401
    assert "nonce already used" in again.json()["detail"]


def test_signature_for_other_content_is_401(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    headers = signed_headers(supplier, escrow, PDF, deal.id)
    headers["X-Content-Sha256"] = hashlib.sha256(b"other").hexdigest()
    assert upload(client, supplier, escrow, PDF, deal=deal.id, headers=headers).status_code == 401


def test_content_not_matching_the_signed_hash_is_400(client, escrow, supplier, ops, create_deal):
    deal = _deal(create_deal, ops)
    headers = signed_headers(supplier, escrow, b"what was signed", deal.id)
    r = upload(client, supplier, escrow, PDF, deal=deal.id, headers=headers)
    assert r.status_code == 400
    assert client.get(f"/evidence/{cid_of(PDF)}/meta").status_code == 404


def test_stranger_may_not_upload_to_a_deal(client, escrow, stranger, ops, create_deal):
    deal = _deal(create_deal, ops)
    assert upload(client, stranger, escrow, PDF, deal=deal.id).status_code == 403


def test_unknown_deal_is_404(client, escrow, supplier):
    assert upload(client, supplier, escrow, PDF, deal=9999).status_code == 404


def test_unknown_cid_is_404(client):
    assert client.get(f"/evidence/{cid_of(b'never uploaded')}").status_code == 404


def test_malformed_cid_is_400(client):
    assert client.get("/evidence/not-a-cid").status_code == 400
    assert client.get("/evidence/bafkreinotbase32!!/meta").status_code == 400


def test_ipfs_node_down_is_503_and_records_nothing(
    make_client, escrow, supplier, ops, create_deal, tmp_path
):
    data = tmp_path / "service"
    client = make_client(ipfs_api_url="http://127.0.0.1:9", ipfs_timeout_seconds=2, data_dir=data)
    deal = _deal(create_deal, ops)
    headers = signed_headers(supplier, escrow, PDF, deal.id)
    r = upload(client, supplier, escrow, PDF, deal=deal.id, headers=headers)
    assert r.status_code == 503
    assert "unavailable" in r.json()["detail"]
    assert client.get(f"/evidence/{cid_of(PDF)}/meta").status_code == 404
    # The nonce was given back: the same signed request goes through once a store answers.
    again = make_client(data_dir=data)
    r = upload(again, supplier, escrow, PDF, deal=deal.id, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["cid"] == cid_of(PDF)
    # and only once
    assert upload(again, supplier, escrow, PDF, deal=deal.id, headers=headers).status_code == 401


def test_rpc_down_is_503(make_client, escrow, supplier):
    client = make_client(rpc_url="http://127.0.0.1:9", chain_id=None)
    assert upload(client, supplier, escrow, PDF).status_code == 503


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {"/evidence", "/evidence/{cid}", "/evidence/{cid}/meta"}


def test_through_a_real_ipfs_node(make_client, ipfs_node, escrow, supplier, ops, create_deal):
    client = make_client(ipfs_api_url=ipfs_node)
    deal = _deal(create_deal, ops)
    document = PDF + bytes(range(256)) * 2000  # 512 KB: more than one IPFS chunk
    r = upload(client, supplier, escrow, document, deal=deal.id)
    assert r.status_code == 201, r.text
    assert r.json()["cid"] == cid_of(document)
    back = client.get(f"/evidence/{r.json()['cid']}")
    assert back.status_code == 200 and back.content == document


@BOTH_DATABASES
def test_two_copies_of_one_request_at_once_record_once(client, escrow, supplier, ops, create_deal):
    """The nonce is spent in the transaction that records the upload, after the store add:
    two copies racing through the add both reach that point, and the second is refused."""
    deal = _deal(create_deal, ops)
    headers = signed_headers(supplier, escrow, PDF, deal.id)
    with ThreadPoolExecutor(2) as pool:
        codes = sorted(
            pool.map(
                lambda _: (
                    upload(client, supplier, escrow, PDF, deal=deal.id, headers=headers).status_code
                ),
                range(2),
            )
        )
    assert codes == [201, 401]
    with client.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Evidence)) == 1


def test_upload_reports_where_its_time_went(client, escrow, supplier, ops, create_deal):
    r = upload(client, supplier, escrow, PDF, deal=_deal(create_deal, ops).id)
    laps = dict(part.strip().split(";dur=") for part in r.headers["server-timing"].split(","))
    assert list(laps) == ["auth", "body", "store", "record"]
    assert all(float(ms) >= 0 for ms in laps.values())


@BOTH_DATABASES
def test_expired_nonces_are_purged(client, escrow, supplier, ops, create_deal, monkeypatch):
    deal = _deal(create_deal, ops)
    assert upload(client, supplier, escrow, PDF, deal=deal.id, expires_in=5).status_code == 201
    with client.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(UsedNonce)) == 1
        # Ten minutes on, the next spend purges the expired nonce and keeps its own.
        later = auth.Signed(supplier.address, "n" * 16, int(time.time()) + 900)
        nonces.spend(db, later, now=int(time.time()) + 600)
        db.commit()
        assert db.scalars(select(UsedNonce.nonce)).all() == ["n" * 16]
