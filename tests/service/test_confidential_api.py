"""Confidential evidence through the service (docs/service.md#confidential-evidence): keys,
a deal's readers, ciphertext + manifest uploads, copies for later readers, and the intake of
an attestation of a manifest. Real chain, real service (embedded store), real age."""

import hashlib
import io
import json

import brownie
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from helpers import USD, fund_fully, milestones, new_account, signed_attestation
from rpc_limits import RangeLimitedRpc
from service_helpers import BOTH_DATABASES, upload
from sqlalchemy import func, select

from backend import indexer
from backend.confidential import client as conf
from backend.confidential import envelope
from backend.confidential.binding import sign_binding, sign_binding_with_key
from backend.confidential.identity import derive_identity_from_key
from backend.db import CopyReader, Evidence, EvidenceCopy, KeyBinding
from backend.evidence.mediatype import AGE, MANIFEST
from scripts.signing import key_consent

INVOICE = b"%PDF-1.7\ncommercial invoice 2026-117: 2,000 controllers at 41.20 USD\n%%EOF\n"


def _count(client, table) -> int:
    with client.app.state.sessionmaker() as db:
        return db.scalar(select(func.count()).select_from(table))


def _binding(account, issued_at=1767225600, chain_id=None, recipient=None):
    identity = derive_identity_from_key(account.private_key)
    return sign_binding_with_key(
        account.private_key,
        chain_id or brownie.chain.id,
        recipient or identity.recipient,
        0,
        issued_at,
    ).to_json()


def _signer(account, escrow):
    return conf.Signer(account.private_key, brownie.chain.id, escrow.address)


def test_keys_are_kept_newest_first_and_served_as_signed(client, buyer, supplier):
    doc = _binding(buyer)
    r = client.post("/keys", json=doc)
    assert r.status_code == 201, r.text
    assert r.json()["document"] == doc and r.json()["account"] == buyer.address
    assert client.post("/keys", json=doc).status_code == 200
    older = _binding(buyer, issued_at=1767225599)
    r = client.post("/keys", json=older)
    assert r.status_code == 409 and "issued later" in r.json()["detail"].replace("be ", "")
    newer = _binding(buyer, issued_at=1767225601)
    assert client.post("/keys", json=newer).status_code == 201
    assert client.get(f"/keys/{buyer.address.lower()}").json()["document"] == newer
    assert client.get(f"/keys/{supplier.address}").status_code == 404
    assert client.get("/keys/0x12").status_code == 400


@pytest.mark.parametrize("case", ["someone else", "swapped recipient", "other chain", "malformed"])
def test_a_bad_binding_is_refused_and_nothing_kept(client, buyer, supplier, case):
    doc = _binding(buyer)
    if case == "someone else":  # the supplier signs a binding naming the buyer
        local = Account.from_key(supplier.private_key)
        doc = sign_binding(
            lambda typed: local.sign_message(encode_typed_data(full_message=typed)).signature,
            brownie.chain.id,
            buyer.address,
            derive_identity_from_key(supplier.private_key).recipient,
            0,
            1767225600,
        ).to_json()
    elif case == "swapped recipient":
        doc["binding"]["recipient"] = derive_identity_from_key(supplier.private_key).recipient
    elif case == "other chain":
        doc = _binding(buyer, chain_id=1)
    else:
        doc["binding"]["generation"] = True  # a boolean is never a number
    r = client.post("/keys", json=doc)
    expected = {"malformed": 422, "other chain": 400}.get(case, 400)
    assert r.status_code == expected, r.text
    if case == "other chain":
        assert f"binding is for chain 1, not chain {brownie.chain.id}" in r.json()["detail"]
    if case == "someone else":
        assert f"is signed by {supplier.address}, not by the account" in r.json()["detail"]
    assert _count(client, KeyBinding) == 0


def test_readers_name_every_party_and_live_operator_key(
    client, escrow, buyer, supplier, inspector, carrier, arbiter, customs, ops, create_deal
):
    deal = create_deal(milestones([100 * USD, 50 * USD], [(ops.inspector,), (ops.carrier,)]))
    for account in (buyer, inspector):
        assert client.post("/keys", json=_binding(account)).status_code == 201
    r = client.get(f"/deals/{deal.id}/readers")
    assert r.status_code == 200, r.text
    readers = {e["account"]: e for e in r.json()["readers"]}
    assert set(readers) == {
        buyer.address,
        supplier.address,
        inspector.address,
        carrier.address,
        arbiter.address,
    }
    assert readers[inspector.address]["roles"] == ["oracle"]
    assert readers[inspector.address]["operator"] == ops.inspector
    assert readers[arbiter.address]["roles"] == ["arbiter"]
    assert readers[buyer.address]["binding"] == _binding(buyer)
    assert readers[supplier.address]["binding"] is None
    verified = conf.deal_readers(client, deal.id, brownie.chain.id)
    assert {r.account for r in verified if r.recipient} == {buyer.address, inspector.address}
    assert client.get("/deals/999999/readers").status_code == 404


def test_readers_come_from_the_index_and_its_tail_on_a_node_that_limits_log_ranges(
    make_client, escrow, inspector, ops, create_deal
):
    """A provider refuses eth_getLogs over more than 50 blocks: the readers are the keys the
    index holds and those added in the blocks it has not read yet (a key added after the
    indexer's last round is a reader at once), each confirmed on chain; the node is asked for
    those blocks only. It answered 503 before: the keys were read from the chain's start in
    one request."""
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    brownie.chain.mine(120)  # a history longer than the provider's ranges
    rpc = RangeLimitedRpc(brownie.web3.provider.endpoint_uri, max_blocks=50)
    try:
        client = make_client(rpc_url=rpc.url, indexer_confirmations=0)
        app = client.app.state
        [escrow_index] = indexer.for_every_escrow(app.escrows, app.sessionmaker)
        escrow_index.sync()
        indexed_to = brownie.chain.height
        later = new_account()
        escrow.addOperatorKey(
            ops.inspector, later, *key_consent(escrow, inspector, later), {"from": inspector}
        )
        rpc.answered.clear()
        rpc.refused.clear()
        r = client.get(f"/deals/{deal.id}/readers")
        assert r.status_code == 200, r.text
        oracles = {e["account"] for e in r.json()["readers"] if e["roles"] == ["oracle"]}
        assert oracles == {inspector.address, later.address}
        assert rpc.answered and all(first > indexed_to for first, _ in rpc.answered)
        assert not rpc.refused
    finally:
        rpc.close()


def _publish_all(client, *accounts):
    for account in accounts:
        assert client.post("/keys", json=_binding(account)).status_code == 201


def test_a_confidential_upload_is_read_by_a_reader_and_checked_against_the_manifest(
    client, escrow, buyer, supplier, inspector, ops, create_deal, tmp_path
):
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    _publish_all(client, buyer, supplier, inspector)
    document = tmp_path / "invoice.pdf"
    document.write_bytes(INVOICE)
    readers = conf.deal_readers(client, deal.id, brownie.chain.id)
    manifest, copy = conf.upload_confidential(
        client, _signer(supplier, escrow), document, readers, deal.id, 0
    )
    cipher = client.get(f"/evidence/{manifest.ciphertext_cid}/meta").json()
    assert cipher["media_type"] == AGE
    meta = client.get(f"/evidence/{manifest.cid()}/meta").json()
    assert meta["media_type"] == MANIFEST
    assert meta["sha256"] == manifest.evidence_hash().hex()
    assert copy["anchored"] and copy["plaintext"]["sha256"] == hashlib.sha256(INVOICE).hexdigest()
    assert {r["account"] for r in copy["readers"]} == {
        buyer.address,
        supplier.address,
        inspector.address,
    }
    identity = derive_identity_from_key(buyer.private_key)
    out = tmp_path / "read.pdf"
    _, opened = conf.fetch_confidential(client, manifest.evidence_hash(), identity, out)
    assert out.read_bytes() == INVOICE and opened.plaintext_size == len(INVOICE)
    # a stranger to the deal has no copy; the wrong key opens nothing and writes nothing
    stranger = derive_identity_from_key(brownie.accounts.add().private_key)
    with pytest.raises(conf.ConfidentialError, match="no copy of this document"):
        conf.fetch_confidential(client, manifest.evidence_hash(), stranger, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def _sealed(recipients, plaintext=INVOICE):
    out = io.BytesIO()
    sealed = envelope.encrypt(io.BytesIO(plaintext), out, recipients)
    return sealed, out.getvalue()


def test_a_manifest_naming_a_missing_or_other_ciphertext_is_refused(
    client, escrow, supplier, inspector, ops, create_deal
):
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    recipient = derive_identity_from_key(supplier.private_key).recipient
    sealed, ciphertext = _sealed([recipient])
    manifest = sealed.manifest().to_bytes()
    r = upload(client, supplier, escrow, manifest, deal=deal.id)
    assert r.status_code == 422 and "which is not stored here" in r.json()["detail"]
    assert upload(client, supplier, escrow, ciphertext, deal=deal.id).status_code == 201
    other = json.loads(manifest)
    other["ciphertext"]["size"] += 1
    tampered = json.dumps(other, sort_keys=True, separators=(",", ":")).encode()
    r = upload(client, supplier, escrow, tampered, deal=deal.id)
    assert r.status_code == 422 and "does not describe its ciphertext" in r.json()["detail"]
    spaced = json.dumps(json.loads(manifest), sort_keys=True).encode()
    r = upload(client, supplier, escrow, spaced, deal=deal.id)
    assert r.status_code == 422 and "canonical" in r.json()["detail"]
    assert _count(client, Evidence) == 1  # the ciphertext alone
    assert upload(client, supplier, escrow, manifest, deal=deal.id).status_code == 201


@BOTH_DATABASES  # the copy and its readers are written in SQLAlchemy Core
def test_a_later_reader_gets_a_copy_and_the_anchor_stays(
    client, escrow, buyer, supplier, inspector, carrier, ops, create_deal, tmp_path
):
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    _publish_all(client, buyer, supplier)
    document = tmp_path / "invoice.pdf"
    document.write_bytes(INVOICE)
    signer = _signer(supplier, escrow)
    readers = [r for r in conf.deal_readers(client, deal.id, brownie.chain.id) if r.recipient]
    manifest, first = conf.upload_confidential(client, signer, document, readers, deal.id)
    # the inspector publishes its key afterwards: the supplier re-encrypts for it
    _publish_all(client, inspector)
    late = derive_identity_from_key(inspector.private_key)
    with pytest.raises(conf.ConfidentialError, match="no copy"):
        conf.fetch_confidential(client, manifest.evidence_hash(), late, tmp_path / "no")
    src = io.BytesIO(client.get(f"/evidence/{manifest.ciphertext_cid}").content)
    out = io.BytesIO()
    supplier_id = derive_identity_from_key(supplier.private_key)
    copy = envelope.reencrypt(src, out, [supplier_id], [late.recipient], manifest)
    assert (
        conf.upload_file(client, signer, out.getvalue(), copy.ciphertext_sha256.hex(), deal.id)[
            "media_type"
        ]
        == AGE
    )
    reader = conf.Reader(inspector.address, ("oracle",), late.recipient)
    record = conf.record_copy(
        client, signer, manifest.cid(), copy.ciphertext_cid, [reader], deal.id
    )
    assert not record["anchored"] and record["plaintext"] == first["plaintext"]
    listed = client.get(f"/evidence/{manifest.cid()}/copies").json()
    assert [c["id"] for c in listed] == [first["id"], record["id"]]
    mine = client.get(f"/evidence/{manifest.cid()}/copies", params={"reader": inspector.address})
    assert [c["id"] for c in mine.json()] == [record["id"]]
    _, opened = conf.fetch_confidential(client, manifest.evidence_hash(), late, tmp_path / "l")
    assert (tmp_path / "l").read_bytes() == INVOICE
    # the same copy again is its record; other readers for that ciphertext are a conflict
    assert (
        conf.record_copy(client, signer, manifest.cid(), copy.ciphertext_cid, [reader], deal.id)[
            "id"
        ]
        == record["id"]
    )
    other = conf.Reader(carrier.address, ("oracle",), late.recipient)
    with pytest.raises(conf.ServiceError, match="409"):
        conf.record_copy(client, signer, manifest.cid(), copy.ciphertext_cid, [other], deal.id)
    assert _count(client, EvidenceCopy) == 2 and _count(client, CopyReader) == 3


def test_copies_refuse_bad_requests_and_store_nothing(
    client, escrow, supplier, buyer, ops, create_deal
):
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    recipient = derive_identity_from_key(supplier.private_key).recipient
    sealed, ciphertext = _sealed([recipient])
    upload(client, supplier, escrow, ciphertext, deal=deal.id)
    manifest = sealed.manifest()
    upload(client, supplier, escrow, manifest.to_bytes(), deal=deal.id)
    signer = _signer(supplier, escrow)
    good = conf.Reader(supplier.address, ("supplier",), recipient)
    with pytest.raises(conf.ServiceError, match="404 no manifest"):  # a ciphertext is none
        conf.record_copy(
            client, signer, manifest.ciphertext_cid, manifest.ciphertext_cid, [good], deal.id
        )
    with pytest.raises(conf.ServiceError, match="400 .*is not an age ciphertext"):
        conf.record_copy(client, signer, manifest.cid(), manifest.cid(), [good], deal.id)
    bad = conf.Reader(supplier.address, ("supplier",), "age1" + "q" * 58)
    with pytest.raises(conf.ServiceError, match="400 .*not an age X25519 recipient"):
        conf.record_copy(client, signer, manifest.cid(), manifest.ciphertext_cid, [bad], deal.id)
    r = client.post(
        f"/evidence/{manifest.cid()}/copies",
        json={
            "ciphertext": manifest.ciphertext_cid,
            "readers": [{"account": supplier.address, "recipient": recipient}],
        },
    )
    assert r.status_code == 400  # no X-Content-Sha256, no signature
    assert _count(client, EvidenceCopy) == 0 and _count(client, CopyReader) == 0


def test_an_attestation_of_a_manifest_needs_its_ciphertext_pinned(
    client, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    deal = create_deal(milestones([100 * USD], [(ops.inspector,)]))
    fund_fully(escrow, stable, buyer, deal.id)
    recipient = derive_identity_from_key(inspector.private_key).recipient
    sealed, ciphertext = _sealed([recipient])
    manifest = sealed.manifest()
    upload(client, inspector, escrow, ciphertext, deal=deal.id)
    assert upload(client, inspector, escrow, manifest.to_bytes(), deal=deal.id).status_code == 201
    client.app.state.store.unpin(manifest.ciphertext_cid)  # lost from the node
    document = json.loads(
        signed_attestation(
            escrow, inspector, deal.id, 0, evidence_hash=manifest.evidence_hash()
        ).to_json()
    )
    r = client.post("/attestations", json=document)
    assert r.status_code == 409, r.text
    assert f"names ciphertext {manifest.ciphertext_cid}, which is not pinned" in r.json()["detail"]
