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
        # (created_at aside: SQLite gives back a time without its zone, PostgreSQL with it)
        assert {**copy, "created_at": None} == {**listed, "created_at": None}
