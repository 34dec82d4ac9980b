"""POST /attestations: a signed attestation handed to the service ends up on chain, relayed
in a batch, and the deal's view shows it with its evidence."""

import json

import brownie
from helpers import USD, fund_fully, key_consent, milestones, signed_attestation
from service_helpers import upload
from sqlalchemy import func, select

from backend.db import AttestationIntake
from backend.indexer import Indexer
from backend.relayer import Relayer

REPORT = b"%PDF-1.7\npre-shipment inspection: 2,000 controllers, AQL 1.0 passed\n%%EOF\n"


def _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal):
    client = make_client()
    deal = create_deal(milestones([100 * USD, 50 * USD], [(ops.inspector,), (ops.carrier,)]))
    fund_fully(escrow, stable, buyer, deal.id)
    return client, deal


def _document(escrow, key, deal_id, index, evidence: bytes, **kw) -> dict:
    import hashlib

    signed = signed_attestation(
        escrow, key, deal_id, index, evidence_hash=hashlib.sha256(evidence).digest(), **kw
    )
    return json.loads(signed.to_json())


def _relayer(client):
    key = brownie.accounts.add()
    brownie.accounts[0].transfer(key, "1 ether")
    state = client.app.state
    return Relayer(state.chain, state.sessionmaker, key.private_key)


def test_handed_in_attestation_ends_up_on_chain_and_in_the_deal_view(
    make_client, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    start = brownie.chain.height + 1
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    assert upload(client, inspector, escrow, REPORT, deal=deal.id).status_code == 201
    r = client.post("/attestations", json=_document(escrow, inspector, deal.id, 0, REPORT))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    assert _relayer(client).relay_once() == 1
    status = client.get(f"/attestations/{r.json()['id']}").json()
    assert status["status"] == "applied" and status["tx_hash"].startswith("0x")
    assert stable.balanceOf(supplier) == 100 * USD
    app = client.app
    Indexer(app.state.chain, app.state.sessionmaker, 0, start).sync()
    verdict = client.get(f"/deals/{deal.id}").json()["milestones"][0]["verdicts"][0]
    assert (
        verdict["evidence_url"]
        == f"/evidence/{client.get(verdict['evidence_url'] + '/meta').json()['cid']}"
    )
    assert client.get(verdict["evidence_url"]).content == REPORT


def test_several_arrivals_go_out_in_one_batch(
    make_client, escrow, stable, buyer, supplier, inspector, carrier, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    upload(client, inspector, escrow, REPORT, deal=deal.id)
    ids = [
        client.post("/attestations", json=_document(escrow, k, deal.id, i, REPORT)).json()["id"]
        for k, i in ((inspector, 0), (carrier, 1))
    ]
    assert _relayer(client).relay_once() == 2
    hashes = {client.get(f"/attestations/{i}").json()["tx_hash"] for i in ids}
    assert len(hashes) == 1
    assert stable.balanceOf(supplier) == 150 * USD


def test_item_the_escrow_refuses_is_reported_skipped(
    make_client, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    upload(client, inspector, escrow, REPORT, deal=deal.id)
    r = client.post("/attestations", json=_document(escrow, inspector, deal.id, 0, REPORT))
    escrow.attest(deal.id, 0, b"\x01" * 32, {"from": inspector})  # posted directly meanwhile
    _relayer(client).relay_once()
    status = client.get(f"/attestations/{r.json()['id']}").json()
    assert status["status"] == "skipped"
    assert status["reason"].startswith("MilestoneNotPending")


def test_same_attestation_twice_is_one_record(
    make_client, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    upload(client, inspector, escrow, REPORT, deal=deal.id)
    doc = _document(escrow, inspector, deal.id, 0, REPORT)
    first, second = client.post("/attestations", json=doc), client.post("/attestations", json=doc)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]


def test_evidence_must_be_pinned_first(
    make_client, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    r = client.post("/attestations", json=_document(escrow, inspector, deal.id, 0, REPORT))
    assert r.status_code == 409


def test_bad_signature_is_401(
    make_client, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    upload(client, inspector, escrow, REPORT, deal=deal.id)
    doc = _document(escrow, inspector, deal.id, 0, REPORT)
    doc["attestation"]["met"] = False
    assert client.post("/attestations", json=doc).status_code == 401


def test_signer_not_an_oracle_of_the_deal_is_403(
    make_client, escrow, stable, buyer, supplier, inspector, customs, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    upload(client, inspector, escrow, REPORT, deal=deal.id)
    r = client.post("/attestations", json=_document(escrow, customs, deal.id, 0, REPORT))
    assert r.status_code == 403


def test_other_escrow_is_400_malformed_is_422(
    make_client, escrow, stable, buyer, supplier, inspector, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    other = _document(escrow, inspector, deal.id, 0, REPORT, chain_id=1)
    assert client.post("/attestations", json=other).status_code == 400
    assert client.post("/attestations", json={"format": "nope"}).status_code == 422


def test_unknown_attestation_is_404(client):
    assert client.get("/attestations/999").status_code == 404


def _contract_key(escrow, operator_id, operator_admin, owner, deployer):
    """A contract wallet owned by `owner`, added as a key of the operator."""
    from brownie import MockContractWallet

    wallet = MockContractWallet.deploy(owner, {"from": deployer})
    escrow.addOperatorKey(
        operator_id,
        wallet,
        *key_consent(escrow, operator_admin, wallet, owner),
        {"from": operator_admin},
    )
    return wallet


def test_contract_key_attestation_is_checked_on_chain_and_relayed(
    make_client, escrow, stable, buyer, supplier, inspector, stranger, deployer, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    wallet = _contract_key(escrow, ops.inspector, inspector, stranger, deployer)
    assert upload(client, inspector, escrow, REPORT, deal=deal.id).status_code == 201
    document = _document(escrow, stranger, deal.id, 0, REPORT)  # the wallet's owner signs
    document["signer"] = wallet.address  # for the wallet (EIP-1271)
    r = client.post("/attestations", json=document)
    assert r.status_code == 202, r.text
    assert _relayer(client).relay_once() == 1
    assert client.get(f"/attestations/{r.json()['id']}").json()["status"] == "applied"
    assert stable.balanceOf(supplier) == 100 * USD


def test_contract_key_refusing_the_signature_is_401(
    make_client, escrow, stable, buyer, supplier, inspector, stranger, deployer, ops, create_deal
):
    client, deal = _setup(make_client, escrow, stable, buyer, supplier, ops, create_deal)
    wallet = _contract_key(escrow, ops.inspector, inspector, stranger, deployer)
    upload(client, inspector, escrow, REPORT, deal=deal.id)
    document = _document(escrow, supplier, deal.id, 0, REPORT)  # not the wallet's owner
    document["signer"] = wallet.address
    r = client.post("/attestations", json=document)
    assert r.status_code == 401
    assert "not by the named signer" in r.text
    with client.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(AttestationIntake)) == 0
