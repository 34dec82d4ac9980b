"""Several escrows in one service (one per token): each escrow counts its deals from 1, and a
deal is addressed by escrow and id. Two escrows on the same chain, the service serving both
from a deployments file: the same deal id (and operator id) in each is indexed and served
apart; a signed upload or attestation counts for the escrow it names only; an unknown escrow
is 404. On SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import json

import brownie
import pytest
from helpers import EUR, USD, fund_fully, milestones, record_deployments, signed_attestation
from service_helpers import BOTH_DATABASES, signed_headers, upload

from backend.indexer import for_every_escrow
from backend.relayer import Relayer
from scripts import deals

REPORT = b"%PDF-1.7\nsecond token: inspection passed\n%%EOF\n"
NOWHERE = "0x" + "00" * 19 + "01"


@pytest.fixture
def two_escrows(tmp_path, make_client, escrow, stable, escrow_eur, euro):
    """A service serving both escrows from its deployments file, tUSD's the default."""
    directory = record_deployments(tmp_path, (escrow, stable), (escrow_eur, euro))
    return make_client(escrow_address=None, deployments_dir=directory, indexer_confirmations=0)


def _deal_in_each(escrow, stable, escrow_eur, euro, buyer, supplier, ops, ops_eur):
    """Deal 1 of each escrow: 100 tUSD, and 2.5 tEUR in two milestones, both funded."""
    usd = milestones([100 * USD], [(ops.inspector,)])
    eur = milestones([2 * EUR, EUR // 2], [(ops_eur.inspector,), (ops_eur.carrier,)])
    ids = [
        deals.deal_id(deals.create_deal(e, buyer, supplier, o.arbiter, terms))
        for e, o, terms in ((escrow, ops, usd), (escrow_eur, ops_eur, eur))
    ]
    fund_fully(escrow, stable, buyer, ids[0])
    fund_fully(escrow_eur, euro, buyer, ids[1])
    return ids


def _index(client) -> None:
    state = client.app.state
    for indexer in for_every_escrow(state.escrows, state.sessionmaker):
        indexer.sync()


@BOTH_DATABASES
def test_the_same_deal_id_in_two_escrows_is_indexed_and_served_apart(
    two_escrows, escrow, stable, escrow_eur, euro, buyer, supplier, ops, ops_eur
):
    client = two_escrows
    ids = _deal_in_each(escrow, stable, escrow_eur, euro, buyer, supplier, ops, ops_eur)
    assert ids == [1, 1]  # each escrow counts from 1
    _index(client)

    listed = client.get("/escrows").json()
    assert [(e["symbol"], e["decimals"], e["default"]) for e in listed] == [
        ("tUSD", 6, True),
        ("tEUR", 18, False),
    ]
    assert [e["address"] for e in listed] == [escrow.address, escrow_eur.address]
    assert listed[1]["token"] == euro.address
    assert listed[1]["block"] == escrow_eur.deployed_at_block
    assert client.get("/app/config.json").json()["escrows"] == listed

    usd = client.get(f"/escrows/{escrow.address}/deals/1").json()
    eur = client.get(f"/escrows/{escrow_eur.address.lower()}/deals/1").json()
    assert (usd["escrow"], usd["total"], len(usd["milestones"])) == (escrow.address, "100000000", 1)
    assert (eur["escrow"], eur["total"], len(eur["milestones"])) == (
        escrow_eur.address,
        str(2 * EUR + EUR // 2),
        2,
    )
    assert {e["event"] for e in eur["history"]} == {"DealCreated", "DealFunded"}
    assert len(eur["history"]) == len(usd["history"]) == 2  # each its own escrow's events
    assert client.get("/deals/1").json() == usd  # the older route: the default escrow
    for e in (escrow, escrow_eur):
        found = client.get(f"/escrows/{e.address}/deals", params={"party": buyer.address}).json()
        assert [(d["escrow"], d["deal_id"]) for d in found] == [(e.address, 1)]
    # Operator 1 of each registry (the same key in both): its own escrow's history only.
    for e, o in ((escrow, ops), (escrow_eur, ops_eur)):
        history = client.get(f"/escrows/{e.address}/operators/{o.inspector}").json()["history"]
        assert [h["event"] for h in history] == ["OperatorRegistered", "OperatorKeyAdded"]
        registered = brownie.web3.eth.get_transaction_receipt(history[0]["tx_hash"])
        assert {log["address"] for log in registered["logs"]} == {e.address}


def test_an_escrow_not_served_is_404_and_the_older_routes_are_deprecated(two_escrows):
    client = two_escrows
    for path in (f"/escrows/{NOWHERE}/deals/1", f"/escrows/{NOWHERE}/deals/1/proposals"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "serves no escrow" in answer.json()["detail"]
    answer = client.get("/escrows/tUSD/deals/1")
    assert answer.status_code == 422  # not an address at all
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/deals/{deal_id}"]["get"]["deprecated"] is True
    assert "deprecated" not in paths["/escrows/{escrow}/deals/{deal_id}"]["get"]


def test_uploads_and_attestations_count_for_the_escrow_they_are_signed_for(
    two_escrows, escrow, stable, escrow_eur, euro, buyer, supplier, inspector, ops, ops_eur
):
    client = two_escrows
    _deal_in_each(escrow, stable, escrow_eur, euro, buyer, supplier, ops, ops_eur)
    # Signed for tUSD's escrow, sent to tEUR's deal 1: refused, nothing recorded.
    headers = signed_headers(inspector, escrow, REPORT, 1)
    refused = client.post(
        "/evidence",
        params={"deal": 1, "escrow": escrow_eur.address},
        headers=headers,
        files={"file": ("doc", REPORT, "application/octet-stream")},
    )
    assert refused.status_code == 401, refused.text
    assert client.get(f"/escrows/{escrow_eur.address}/deals/1/documents").json() == []
    # Signed for tEUR's escrow, to its deal: recorded there, not on tUSD's deal 1.
    stored = client.post(
        "/evidence",
        params={"deal": 1, "escrow": escrow_eur.address},
        headers=signed_headers(inspector, escrow_eur, REPORT, 1),
        files={"file": ("doc", REPORT, "application/octet-stream")},
    )
    assert stored.status_code == 201, stored.text
    assert stored.json()["escrow"] == escrow_eur.address
    documents = client.get(f"/escrows/{escrow_eur.address}/deals/1/documents").json()
    assert [d["cid"] for d in documents] == [stored.json()["cid"]]
    assert client.get(f"/escrows/{escrow.address}/deals/1/documents").json() == []
    assert upload(client, inspector, escrow, REPORT, deal=1).status_code == 200  # same bytes

    # An attestation of tEUR's deal 1 goes to tEUR's escrow, and to no other.
    evidence = hashlib.sha256(REPORT).digest()
    signed = signed_attestation(escrow_eur, inspector, 1, 0, evidence_hash=evidence)
    document = json.loads(signed.to_json())
    handed = client.post("/attestations", json=document)
    assert handed.status_code == 202, handed.text
    assert handed.json()["escrow"] == escrow_eur.address
    elsewhere = {**document, "domain": {**document["domain"], "verifyingContract": NOWHERE}}
    answer = client.post("/attestations", json=elsewhere)
    assert answer.status_code == 400 and "not this service's" in answer.json()["detail"]

    relayer_key = brownie.accounts.add()
    brownie.accounts[0].transfer(relayer_key, "1 ether")
    state = client.app.state
    usd_relayer, eur_relayer = (
        Relayer(chain, state.sessionmaker, relayer_key.private_key)
        for chain in state.escrows.chains()
    )
    assert usd_relayer.relay_once() == 0  # nothing for tUSD's escrow
    assert eur_relayer.relay_once() == 1
    assert client.get(f"/attestations/{handed.json()['id']}").json()["status"] == "applied"
    assert euro.balanceOf(supplier) == 2 * EUR
    assert stable.balanceOf(supplier) == 0
