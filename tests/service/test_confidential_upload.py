"""POST /evidence/confidential: a confidential document's ciphertext, manifest and readers in
one signed request (docs/service.md#confidential-evidence). Real chain, real service (embedded
store), real age."""

import hashlib
import io
import json
import secrets
import time

import brownie
from helpers import USD, milestones
from service_helpers import BOTH_DATABASES
from sqlalchemy import func, select

from backend import auth
from backend.confidential import client as conf
from backend.confidential import envelope
from backend.confidential.identity import derive_identity_from_key
from backend.db import CopyReader, Evidence, EvidenceCopy
from backend.evidence.mediatype import AGE, MANIFEST

INVOICE = b"%PDF-1.7\npacking list 2026-118: 40 cartons, 2,000 controllers\n%%EOF\n"


def _count(client, table) -> int:
    with client.app.state.sessionmaker() as db:
        return db.scalar(select(func.count()).select_from(table))


def _sealed(recipient: str) -> tuple[envelope.Sealed, bytes]:
    out = io.BytesIO()
    return envelope.encrypt(io.BytesIO(INVOICE), out, [recipient]), out.getvalue()


def _headers(account, escrow, deal: int, text: str) -> dict[str, str]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    header = auth.sign_request(
        account.private_key,
        action="POST /evidence/confidential",
        content_sha256=digest,
        deal_id=deal,
        chain_id=brownie.chain.id,
        escrow=escrow.address,
        nonce=secrets.token_hex(16),
        expires=int(time.time()) + 300,
    )
    return {auth.HEADER: header, "X-Content-Sha256": digest}


def _send(client, escrow, account, deal: int, part: dict, file: bytes, headers=None):
    text = json.dumps(part)
    headers = headers or _headers(account, escrow, deal, text)
    answer = client.post(
        "/evidence/confidential",
        params={"deal": deal},
        headers=headers,
        data={"copy": text},
        files={"file": ("c.age", file, "application/octet-stream")},
    )
    return answer, headers


@BOTH_DATABASES  # the records, the copy and its readers: SQLAlchemy Core
def test_one_request_stores_ciphertext_manifest_and_readers_or_nothing(
    client, escrow, supplier, buyer, ops, create_deal, tmp_path
):
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)])).id
    identity = derive_identity_from_key(supplier.private_key)
    sealed, ciphertext = _sealed(identity.recipient)
    manifest = sealed.manifest()
    reader = {"account": supplier.address, "recipient": identity.recipient}
    good = {"manifest": manifest.to_bytes().decode(), "readers": [reader]}
    # refused, each leaving nothing: another ciphertext of the same document, a plain file, a
    # manifest not in canonical form, a reader named twice, a signer who is no party
    _, other = _sealed(identity.recipient)
    refusals = [
        (_send(client, escrow, supplier, deal, good, other), 422, "does not describe"),
        (_send(client, escrow, supplier, deal, good, INVOICE), 415, "age ciphertext"),
        (
            _send(
                client,
                escrow,
                supplier,
                deal,
                {**good, "manifest": json.dumps(manifest.to_json())},
                ciphertext,
            ),
            422,
            "canonical",
        ),
        (
            _send(
                client, escrow, supplier, deal, {**good, "readers": [reader, reader]}, ciphertext
            ),
            400,
            "twice",
        ),
        (_send(client, escrow, brownie.accounts.add(), deal, good, ciphertext), 403, "not a party"),
    ]
    for (answer, _), status, reason in refusals:
        assert answer.status_code == status and reason in answer.json()["detail"], answer.text
    # the file before the copy part: the copy is checked before the file streams on
    text = json.dumps(good)
    answer = client.post(
        "/evidence/confidential",
        params={"deal": deal},
        headers=_headers(supplier, escrow, deal, text),
        files=[("file", ("c.age", ciphertext)), ("copy", (None, text))],
    )
    assert answer.status_code == 400 and "then the file" in answer.json()["detail"]
    # a copy part other than the signed one (another reader)
    signed = _headers(supplier, escrow, deal, json.dumps(good))
    lie = {**good, "readers": [{**reader, "account": buyer.address}]}
    answer, _ = _send(client, escrow, supplier, deal, lie, ciphertext, signed)
    assert answer.status_code == 400 and "sha256 of the copy part" in answer.json()["detail"]
    assert _count(client, Evidence) == _count(client, EvidenceCopy) == 0
    assert not client.app.state.store.has(manifest.ciphertext_cid)
    # one request leaves what the two-step protocol's three leave
    answer, headers = _send(client, escrow, supplier, deal, good, ciphertext)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["ciphertext"]["cid"] == manifest.ciphertext_cid
    assert body["ciphertext"]["media_type"] == AGE and body["manifest"]["media_type"] == MANIFEST
    assert body["manifest"]["sha256"] == manifest.evidence_hash().hex()
    assert body["encrypted_copy"]["anchored"] and body["encrypted_copy"]["readers"] == [reader]
    assert "store;dur=" in answer.headers["server-timing"]
    # the same request replayed is refused; the same document again is its records (200)
    assert _send(client, escrow, supplier, deal, good, ciphertext, headers)[0].status_code == 401
    assert _send(client, escrow, supplier, deal, good, ciphertext)[0].status_code == 200
    assert (_count(client, Evidence), _count(client, EvidenceCopy), _count(client, CopyReader)) == (
        2,
        1,
        1,
    )
    # and the reader decrypts it, checked against the manifest the chain would anchor
    out = tmp_path / "read.pdf"
    conf.fetch_confidential(client, manifest.evidence_hash(), identity, out)
    assert out.read_bytes() == INVOICE


def _streamed_body(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def _send_streamed(client, escrow, account, deal, part: dict, file: bytes, **change):
    """A streamed body (file, copy, signature) as docs/service.md has it; `change` alters one
    thing: `trailer_key` (who signs the copy part), `trailer_nonce`, `order` of the parts,
    `extra` (a part after the signature), `header` (the header's signature, reused)."""
    text = json.dumps(part)
    fields = {
        "action": "POST /evidence/confidential",
        "deal_id": deal,
        "chain_id": brownie.chain.id,
        "escrow": escrow.address,
        "nonce": secrets.token_hex(16),
        "expires": int(time.time()) + 300,
    }
    header = change.get("header") or auth.sign_request(
        account.private_key, content_sha256="trailer", **fields
    )
    trailer = auth.sign_message(
        change.get("trailer_key", account.private_key),
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
        **{**fields, "nonce": change.get("trailer_nonce", fields["nonce"])},
    )
    parts = [("file", "c.age", file), ("copy", None, text.encode()), ("signature", None, trailer)]
    parts = [parts[i] for i in change.get("order", (0, 1, 2))] + change.get("extra", [])
    boundary = secrets.token_hex(8)
    answer = client.post(
        "/evidence/confidential",
        params={"deal": deal},
        headers={
            auth.HEADER: header,
            "X-Content-Sha256": "trailer",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=_streamed_body(
            boundary, [(n, f, d if isinstance(d, bytes) else d.encode()) for n, f, d in parts]
        ),
    )
    return answer, header


@BOTH_DATABASES
def test_a_streamed_body_is_signed_at_its_end_or_leaves_nothing(
    client, escrow, supplier, buyer, ops, create_deal
):
    """The ciphertext first, straight on to the store; the copy part and its signature after
    it. Each refusal found after the ciphertext was added takes the add back."""
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)])).id
    identity = derive_identity_from_key(supplier.private_key)
    sealed, ciphertext = _sealed(identity.recipient)
    manifest = sealed.manifest()
    reader = {"account": supplier.address, "recipient": identity.recipient}
    good = {"manifest": manifest.to_bytes().decode(), "readers": [reader]}
    _, other = _sealed(identity.recipient)
    stranger = brownie.accounts.add()
    refusals = [
        # the copy part signed by another key, or over another nonce: the header's signer
        # and nonce open the stream, the trailer must be theirs
        ({"trailer_key": buyer.private_key}, ciphertext, 401, "not by the key that signed"),
        ({"trailer_nonce": secrets.token_hex(16)}, ciphertext, 401, "not by the key that signed"),
        ({}, other, 422, "does not describe"),  # the manifest names another ciphertext
        ({}, INVOICE, 415, "age ciphertext"),  # no age file: refused before any add
        ({"order": (0, 2, 1)}, ciphertext, 400, "then the fields 'copy' and 'signature'"),
        ({"order": (0, 1)}, ciphertext, 400, "then the fields 'copy' and 'signature'"),
        ({"extra": [("copy", None, b"{}")]}, ciphertext, 400, "nothing may follow"),
    ]
    for change, file, status, reason in refusals:
        answer, _ = _send_streamed(client, escrow, supplier, deal, good, file, **change)
        assert answer.status_code == status and reason in answer.json()["detail"], (
            change,
            answer.text,
        )
    answer, _ = _send_streamed(client, escrow, stranger, deal, good, ciphertext)
    assert answer.status_code == 403 and "not a party" in answer.json()["detail"]
    # a copy-first request's header (content: the copy part's sha256) does not open a stream
    copy_first = _headers(supplier, escrow, deal, json.dumps(good))[auth.HEADER]
    answer, _ = _send_streamed(client, escrow, supplier, deal, good, ciphertext, header=copy_first)
    assert answer.status_code == 401 and "bad signature" in answer.json()["detail"]
    assert _count(client, Evidence) == _count(client, EvidenceCopy) == 0
    store = client.app.state.store
    assert not store.has(manifest.ciphertext_cid) and not store.has(manifest.cid())
    # the good body: what the copy-first request leaves; replayed, refused
    answer, header = _send_streamed(client, escrow, supplier, deal, good, ciphertext)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["ciphertext"]["cid"] == manifest.ciphertext_cid
    assert body["manifest"]["sha256"] == manifest.evidence_hash().hex()
    assert body["encrypted_copy"]["anchored"] and body["encrypted_copy"]["readers"] == [reader]
    answer, _ = _send_streamed(client, escrow, supplier, deal, good, ciphertext, header=header)
    assert answer.status_code == 401 and "nonce already used" in answer.json()["detail"]
    assert (_count(client, Evidence), _count(client, EvidenceCopy), _count(client, CopyReader)) == (
        2,
        1,
        1,
    )


@BOTH_DATABASES
def test_the_answer_names_the_copy_as_recorded(client, escrow, supplier, buyer, ops, create_deal):
    """The answer's copy is built from what the request recorded (no read back): its readers,
    in their order, and its ciphertext are those the service lists for the manifest, the first
    time (201) and again (200)."""
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)])).id
    identity = derive_identity_from_key(supplier.private_key)
    sealed, ciphertext = _sealed(identity.recipient)
    readers = [
        {"account": supplier.address, "recipient": identity.recipient},
        {
            "account": buyer.address,
            "recipient": derive_identity_from_key(buyer.private_key).recipient,
        },
    ]
    good = {"manifest": sealed.manifest().to_bytes().decode(), "readers": readers}
    first, _ = _send(client, escrow, supplier, deal, good, ciphertext)
    again, _ = _send(client, escrow, supplier, deal, good, ciphertext)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    [listed] = client.get(f"/evidence/{sealed.manifest().cid()}/copies").json()
    for answer in (first, again):
        copy = answer.json()["encrypted_copy"]
        assert copy["readers"] == readers
        assert copy["ciphertext"]["cid"] == answer.json()["ciphertext"]["cid"]
        assert copy == listed  # created_at too, in UTC with its Z from both databases
        assert copy["created_at"].endswith("Z")
