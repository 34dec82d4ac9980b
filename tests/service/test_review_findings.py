"""The findings of the outside review of issue 12, one test (or one parametrized test) each:
a second oracle's verdict, stray pins of refused uploads, out-of-range integers, and an API
description that was not the API. The hanging RPC is in test_faults.py, the whole API under
schemathesis in test_fuzz_api.py, the indexer's speed in test_indexer.py."""

import hashlib
import json
import os

import brownie
import pytest
from helpers import (
    DAY,
    USD,
    Deal,
    create_deal_on,
    fund_fully,
    milestones,
    now,
    signed_attestation,
)
from service_helpers import signed_headers, upload
from sqlalchemy import func, select

from backend.db import AttestationIntake, Evidence, UsedNonce
from backend.evidence.cid import cid_of
from backend.evidence.ipfs_node import IpfsNodeStore
from backend.relayer import Relayer

REPORT = b"%PDF-1.7\nloading inspection, container MSKU 123456 7\n%%EOF\n"


@pytest.fixture(scope="module")
def active_deal(escrow, stable, buyer, supplier, ops):
    """conftest's funded 3-milestone deal (inspector; inspector + carrier 2-of-2; customs),
    made once for the module (a deal per test cost most of the module's time)."""
    terms = milestones(
        [100 * USD, 200 * USD, 300 * USD],
        [(ops.inspector,), (ops.inspector, ops.carrier), (ops.customs,)],
        [1, 2, 1],
    )
    deal = Deal(create_deal_on(escrow, buyer, supplier, ops.arbiter, terms), terms)
    fund_fully(escrow, stable, buyer, deal.id)
    return deal


@pytest.fixture(autouse=True)
def isolation(active_deal):
    """Each test starts from the chain as it is once the module's deal is made, and what it
    does is reverted after it. (brownie's fn_isolation may take its snapshot before pytest sets
    up a module fixture, and revert the deal away after the first test.)"""
    brownie.chain.snapshot()
    yield
    brownie.chain.revert()


def _count(client, model) -> int:
    with client.app.state.sessionmaker() as db:
        return db.scalar(select(func.count()).select_from(model))


def _attestation(escrow, key, deal_id, index, evidence: bytes, deadline: int) -> dict:
    signed = signed_attestation(
        escrow, key, deal_id, index, evidence_hash=hashlib.sha256(evidence).digest(),
        deadline=deadline,
    )  # fmt: skip
    return json.loads(signed.to_json())


def _relayer(client) -> Relayer:
    key = brownie.accounts.add()
    brownie.accounts[0].transfer(key, "1 ether")
    return Relayer(client.app.state.chain, client.app.state.sessionmaker, key.private_key)


# ---------------------------------------------------------------- 1. a dropped verdict


def test_both_oracles_of_a_two_of_two_milestone_are_relayed(
    client, escrow, stable, supplier, inspector, carrier, active_deal
):
    """Milestone 1 needs the inspector AND the carrier. Both sign the same facts with the same
    deadline, so the same EIP-712 digest: two records, both relayed, the milestone paid."""
    assert upload(client, inspector, escrow, REPORT, deal=active_deal.id).status_code == 201
    deadline = now() + DAY
    first, second = (
        client.post("/attestations", json=_attestation(escrow, k, active_deal.id, 1, REPORT,
                                                       deadline))
        for k in (inspector, carrier)
    )  # fmt: skip
    assert (first.status_code, second.status_code) == (202, 202), second.text
    assert first.json()["id"] != second.json()["id"]
    assert {first.json()["signer"], second.json()["signer"]} == {
        inspector.address,
        carrier.address,
    }
    # Each again: its own record, nothing new.
    again = client.post(
        "/attestations", json=_attestation(escrow, carrier, active_deal.id, 1, REPORT, deadline)
    )
    assert (again.status_code, again.json()["id"]) == (200, second.json()["id"])
    assert _count(client, AttestationIntake) == 2

    assert _relayer(client).relay_once() == 2
    for r in (first, second):
        assert client.get(f"/attestations/{r.json()['id']}").json()["status"] == "applied"
    assert escrow.getMilestone(active_deal.id, 1)["status"] == 2  # Released
    assert stable.balanceOf(supplier) == 200 * USD


# ---------------------------------------------------------------- 2. stray pins


def test_refused_upload_leaves_no_object_and_no_pin_in_the_embedded_store(
    client, escrow, supplier, active_deal
):
    sent = REPORT + os.urandom(8).hex().encode()
    headers = signed_headers(supplier, escrow, b"what was signed", active_deal.id)
    r = upload(client, supplier, escrow, sent, deal=active_deal.id, headers=headers)
    assert r.status_code == 400
    store = client.app.state.store
    assert not store.has(cid_of(sent))
    assert store.pinned() == set()
    assert list((store.root / "objects").iterdir()) == []
    assert _count(client, Evidence) == _count(client, UsedNonce) == 0


def test_refused_upload_leaves_no_pin_on_the_ipfs_node(
    make_client, ipfs_node, escrow, supplier, active_deal
):
    client = make_client(ipfs_api_url=ipfs_node)
    sent = REPORT + os.urandom(8).hex().encode()
    headers = signed_headers(supplier, escrow, b"what was signed", active_deal.id)
    r = upload(client, supplier, escrow, sent, deal=active_deal.id, headers=headers)
    assert r.status_code == 400
    with IpfsNodeStore(ipfs_node) as node:
        assert not node.is_pinned(cid_of(sent))
    assert _count(client, Evidence) == _count(client, UsedNonce) == 0
    # The same document, signed for what it is: stored and pinned.
    assert upload(client, supplier, escrow, sent, deal=active_deal.id).status_code == 201
    with IpfsNodeStore(ipfs_node) as node:
        assert node.is_pinned(cid_of(sent))


# ---------------------------------------------------------------- 3. out-of-range integers

BIG = [2**63, 2**64, 2**256]


@pytest.mark.parametrize(
    "query",
    [{"milestone": n} for n in BIG] + [{"deal": n} for n in BIG] + [{"deal": 0}, {"deal": -1}],
    ids=[f"milestone-2^{n.bit_length() - 1}" for n in BIG]
    + [f"deal-2^{n.bit_length() - 1}" for n in BIG]
    + ["deal-0", "deal--1"],
)
def test_upload_with_an_out_of_range_link_is_422_and_stores_nothing(
    client, escrow, supplier, active_deal, query
):
    query = {"deal": active_deal.id, **query}
    headers = signed_headers(supplier, escrow, REPORT, query["deal"] if query["deal"] > 0 else None)
    r = client.post("/evidence", params=query, headers=headers, files={"file": ("doc", REPORT)})
    assert r.status_code == 422, r.text
    assert list((client.app.state.store.root / "objects").iterdir()) == []
    assert _count(client, Evidence) == _count(client, UsedNonce) == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("dealId", 2**256),
        ("dealId", -1),
        ("dealId", True),
        ("dealId", 1.5),
        ("dealId", "0x1"),
        ("milestone", 2**256),
        ("milestone", False),
        ("milestone", 0.5),
        ("deadline", 2**53),  # a JSON number beyond 2^53 - 1: a string, or not at all
        ("dealVersion", 2**16),
        ("dealVersion", 0),
        ("deadline", 2**256),
        ("deadline", "1e9"),
        ("met", 1),
    ],
)
def test_attestation_with_a_value_out_of_its_type_is_422_and_records_nothing(
    client, escrow, inspector, active_deal, field, value
):
    assert upload(client, inspector, escrow, REPORT, deal=active_deal.id).status_code == 201
    document = _attestation(escrow, inspector, active_deal.id, 0, REPORT, now() + DAY)
    document["attestation"][field] = value
    r = client.post("/attestations", json=document)
    assert r.status_code == 422, r.text
    assert _count(client, AttestationIntake) == 0


@pytest.mark.parametrize("path", ["/deals/{}", "/attestations/{}", "/offers/{}",
                                  "/deals/{}/proposals"])  # fmt: skip
@pytest.mark.parametrize("n", [2**63, 2**64, -1])
def test_ids_out_of_range_are_422(client, path, n):
    assert client.get(path.format(n)).status_code == 422


# ---------------------------------------------------------------- 5. the API description


def test_openapi_describes_the_upload_body_and_every_status(client):
    paths = client.get("/openapi.json").json()["paths"]
    body = paths["/evidence"]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": "the document: PDF, PNG, JPEG, WebP, JSON or plain text",
    }
    assert "400" in paths["/deals"]["get"]["responses"]
    for path, method in [
        ("/evidence", "post"),
        ("/evidence/{cid}", "get"),
        ("/attestations", "post"),
        ("/offers", "post"),
        ("/offers", "get"),
        ("/offers/{offer_id}", "get"),
        ("/deals/{deal_id}/proposals", "post"),
        ("/deals/{deal_id}/proposals", "get"),
        ("/app/config.json", "get"),
    ]:
        assert "503" in paths[path][method]["responses"], (path, method)
    served = paths["/evidence/{cid}"]["get"]["responses"]["200"]["content"]
    assert set(served) == set(client.app.state.settings.allowed_media_types)


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/offers", "GET, POST"),
        ("PUT", "/deals/1/proposals", "GET, POST"),
        ("DELETE", "/evidence", "POST"),
        ("PATCH", "/deals/1", "GET"),
        ("POST", "/attestations/1", "GET"),
    ],
)
def test_405_allows_every_method_of_the_path(client, method, path, allowed):
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allowed


def test_attestation_for_a_milestone_the_signer_does_not_attest_is_403(
    client, escrow, inspector, active_deal
):
    """The rule docs/service.md states, and the escrow applies: the signer is a live key of
    an oracle that THIS milestone names (the inspector attests milestones 0 and 1, not 2)."""
    assert upload(client, inspector, escrow, REPORT, deal=active_deal.id).status_code == 201
    document = _attestation(escrow, inspector, active_deal.id, 2, REPORT, now() + DAY)
    r = client.post("/attestations", json=document)
    assert r.status_code == 403, r.text
    assert r.json()["detail"] == (
        f"{inspector.address} is not a live key of an oracle of milestone 2 of deal "
        f"{active_deal.id}"
    )
    missing = _attestation(escrow, inspector, active_deal.id, 3, REPORT, now() + DAY)
    assert client.post("/attestations", json=missing).status_code == 404
    assert _count(client, AttestationIntake) == 0


def test_a_database_made_before_keeps_its_attestations_and_takes_a_second_signer(tmp_path):
    """The old table had UNIQUE(digest); it is rebuilt with UNIQUE(digest, signer), rows kept."""
    import sqlite3

    from backend.db import make_sessionmaker

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE attestation_intake (
                id INTEGER NOT NULL PRIMARY KEY, digest VARCHAR(66) NOT NULL UNIQUE,
                deal_id BIGINT NOT NULL, milestone INTEGER NOT NULL, signer VARCHAR(42) NOT NULL,
                met BOOLEAN NOT NULL, evidence_sha256 VARCHAR(64) NOT NULL,
                document VARCHAR NOT NULL, status VARCHAR(16) NOT NULL, reason VARCHAR,
                tx_hash VARCHAR(66), created_at DATETIME NOT NULL);
            CREATE INDEX ix_attestation_intake_deal_id ON attestation_intake (deal_id);
            CREATE INDEX ix_attestation_intake_status ON attestation_intake (status);
            INSERT INTO attestation_intake VALUES (7, '0xd1', 1, 1, '0xA', 1, 'ab', '{}',
                'applied', NULL, '0xt', '2025-11-03 10:00:00');
            """
        )
    escrow = "0x" + "ab" * 20  # the one escrow the service ran with (revision 0004 names it)
    sessions = make_sessionmaker(f"sqlite:///{path}", escrow)
    with sessions() as db:
        [kept] = db.scalars(select(AttestationIntake)).all()
        assert (kept.id, kept.digest, kept.signer, kept.status) == (7, "0xd1", "0xA", "applied")
        db.add(
            AttestationIntake(
                digest="0xd1", escrow=escrow, deal_id=1, milestone=1, signer="0xB", met=True,
                evidence_sha256="ab", document="{}",
            )
        )  # fmt: skip
        db.commit()
        assert db.scalar(select(func.count()).select_from(AttestationIntake)) == 2
    make_sessionmaker(f"sqlite:///{path}")  # again: nothing to rebuild, nothing lost
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(AttestationIntake)) == 2
