"""GET /escrows/{escrow}/operators (the registry by name, from the index) and its
/{id}/milestones (what awaits an operator's verdict, from the index), on the suite's anvil,
each answer checked against the escrow's own views; and revision 0005 rebuilding the operators
of a database indexed before it from its history, exactly as the indexer does."""

from __future__ import annotations

import brownie
from helpers import DAY, USD, fund_fully, milestones, new_account, now
from service_helpers import signed_headers
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from backend import migrate
from backend.db import ChainEvent, IndexerCursor, OperatorKeyRow, OperatorRow
from backend.indexer import Indexer
from backend.terms import Amendment, ChangeAction, Milestone, MilestoneChange, MilestoneStatus
from scripts.signing import sign_amendment

EVIDENCE = brownie.web3.keccak(text="inspection report")


def _sync(client) -> None:
    Indexer(client.app.state.chain, client.app.state.sessionmaker, 0, 0).sync()


def ops_path(escrow) -> str:
    return f"/escrows/{escrow.address}/operators"


def test_operators_by_name_with_their_live_keys_as_the_chain_has_them(
    client, escrow, ops, inspector, tmp_path
):
    admin, heir = new_account(), new_account()
    registered = escrow.registerOperator(
        "ACME Inspection Ltd", "ipfs://acme", admin, 0, b"", {"from": admin}
    )
    acme = registered.events["OperatorRegistered"]["operatorId"]
    tx = escrow.registerOperator("Dormant 100% Labs", "ipfs://d", heir, 0, b"", {"from": heir})
    dormant = tx.events["OperatorRegistered"]["operatorId"]
    escrow.revokeOperatorKey(dormant, heir, {"from": heir})
    escrow.updateOperatorMetadata(dormant, "Dormant_100% Labs", "ipfs://closed", {"from": heir})
    escrow.transferOperatorAdmin(dormant, admin, {"from": heir})
    _sync(client)

    everyone = client.get(ops_path(escrow)).json()
    assert [o["operator_id"] for o in everyone] == list(range(1, escrow.operatorCount() + 1))
    for o in everyone:  # the registry's own view
        view = escrow.getOperator(o["operator_id"])
        assert (o["name"], o["metadata_uri"], o["admin"]) == (view[2], view[3], view[0])
        assert o["live_key_count"] == len(o["live_keys"]) == view[1]
        assert all(escrow.operatorOf(k) == o["operator_id"] for k in o["live_keys"])
    by_id = {o["operator_id"]: o for o in everyone}
    assert by_id[ops.inspector]["live_keys"] == [inspector.address]
    assert by_id[dormant]["live_keys"] == [] and by_id[dormant]["revoked_keys"] == [heir.address]
    assert by_id[dormant]["admin"] == admin.address
    assert by_id[dormant]["name"] == "Dormant_100% Labs"

    # Search: any case, a part of the name; %, _ and \ are letters, not patterns.
    names = lambda q: [o["name"] for o in client.get(ops_path(escrow), params={"q": q}).json()]  # noqa: E731
    assert names("INSPECT") == ["Inspector", "ACME Inspection Ltd"]
    assert names("100%") == names("_100") == ["Dormant_100% Labs"]
    assert names("%") == ["Dormant_100% Labs"] and names("\\") == [] and names("zzz") == []
    # Pages: at most `limit`, the next after the last id.
    first = client.get(ops_path(escrow), params={"limit": 2}).json()
    rest = client.get(ops_path(escrow), params={"after": first[-1]["operator_id"]}).json()
    assert first + rest == everyone
    # One operator with its history: the registry's events about it, as the chain has them.
    where = {"block": registered.block_number, "tx_hash": registered.txid}
    profile = {"name": "ACME Inspection Ltd", "metadataURI": "ipfs://acme"}
    assert client.get(f"{ops_path(escrow)}/{acme}").json() == {
        **by_id[acme],
        "history": [
            {**where, "event": "OperatorRegistered",
             "args": {"operatorId": acme, "admin": admin.address, **profile}},
            {**where, "event": "OperatorKeyAdded",
             "args": {"operatorId": acme, "key": admin.address}},
        ],
    }  # fmt: skip
    history = client.get(f"{ops_path(escrow)}/{dormant}").json()["history"]
    assert [e["event"] for e in history] == [
        "OperatorRegistered",
        "OperatorKeyAdded",
        "OperatorKeyRevoked",
        "OperatorMetadataUpdated",
        "OperatorAdminTransferred",
    ]
    assert history[-1]["args"]["newAdmin"] == admin.address
    for bad in ({"limit": 0}, {"limit": 101}, {"after": -1}, {"q": "x" * 101}):
        assert client.get(ops_path(escrow), params=bad).status_code == 422
    assert client.get(f"{ops_path(escrow)}/0").status_code == 422
    missing = client.get(f"{ops_path(escrow)}/{escrow.operatorCount() + 1}")
    assert missing.status_code == 404 and "not indexed" in missing.json()["detail"]

    # Revision 0005 on a database indexed before it: the history replayed gives the same rows.
    with client.app.state.sessionmaker() as db:
        events = [
            {c: getattr(e, c) for c in ("block", "tx_hash", "log_index", "name", "deal_id", "args")}
            for e in db.scalars(select(ChainEvent))
        ]
        live = _operator_rows(db)
    old = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(old, "0003")
    with old.begin() as conn:
        conn.execute(
            IndexerCursor.__table__.insert(), [{"escrow": escrow.address, "next_block": 1}]
        )
        conn.execute(ChainEvent.__table__.insert(), events)
    migrate.upgrade(old)
    with Session(old) as db:
        assert _operator_rows(db) == live and len(live[0]) == escrow.operatorCount()


def _operator_rows(db):
    return tuple(
        [
            tuple(getattr(r, c.name) for c in table.__table__.columns)
            for r in db.scalars(select(table))
        ]
        for table in (OperatorRow, OperatorKeyRow)
    )


def test_an_operators_milestones_await_its_verdict_until_given_and_again_once_edited(
    client, escrow, stable, buyer, supplier, inspector, carrier, ops, create_deal
):
    deal = create_deal(
        milestones(
            [100 * USD, 200 * USD, 300 * USD],
            [(ops.inspector,), (ops.inspector, ops.carrier), (ops.customs,)],
            [1, 2, 1],
        )
    )
    unfunded = create_deal(milestones([5 * USD], [(ops.inspector,)]))  # not Active: not asked
    fund_fully(escrow, stable, buyer, deal.id)
    report = b"%PDF-1.7 M1 loading inspection"
    headers = signed_headers(supplier, escrow, report, deal.id)
    stored = client.post(
        "/evidence",
        params={"deal": deal.id, "milestone": 1},
        headers=headers,
        files={"file": ("doc", report, "application/pdf")},
    )
    assert stored.status_code == 201, stored.text

    def awaiting(operator: int, status: str = "awaiting") -> list[tuple[int, int]]:
        _sync(client)
        body = client.get(
            f"{ops_path(escrow)}/{operator}/milestones", params={"status": status}
        ).json()
        assert body["indexed_through"] == brownie.chain.height
        items = [m for m in body["milestones"] if m["deal_id"] in (deal.id, unfunded.id)]
        for m in items:  # what the index says awaits, the chain says so too
            view = escrow.getMilestone(m["deal_id"], m["index"])
            slot = list(view["oracles"]).index(operator)
            pending = view["status"] == MilestoneStatus.PENDING
            assert m["awaiting"] == (
                pending and not view["attested"][slot] | view["rejected"][slot]
            )
            assert m["attestations"] == view["attestations"]
        return [(m["deal_id"], m["index"]) for m in items]

    assert awaiting(ops.inspector) == [(deal.id, 0), (deal.id, 1)]
    assert awaiting(ops.carrier) == [(deal.id, 1)]
    assert awaiting(ops.customs) == [(deal.id, 2)]
    body = client.get(f"{ops_path(escrow)}/{ops.inspector}/milestones").json()["milestones"]
    m1 = next(m for m in body if (m["deal_id"], m["index"]) == (deal.id, 1))
    assert (m1["amount"], m1["quorum"]) == (str(200 * USD), 2)
    assert m1["oracles"][:2] == [ops.inspector, ops.carrier]
    assert m1["requirements_hash"] == "0x" + bytes(deal.terms[1].requirements_hash).hex()
    assert m1["due_at"] == escrow.getMilestone(deal.id, 1)["dueAt"]
    assert [(d["cid"], d["uploader"]) for d in m1["documents"]] == [
        (stored.json()["cid"], supplier.address)
    ]

    escrow.attest(deal.id, 0, EVIDENCE, {"from": inspector})  # released: quorum 1
    escrow.attest(deal.id, 1, EVIDENCE, {"from": inspector})  # 1 of 2
    assert awaiting(ops.inspector) == []
    assert awaiting(ops.inspector, "all") == [(deal.id, 0), (deal.id, 1)]
    assert awaiting(ops.carrier) == [(deal.id, 1)]
    body = client.get(f"{ops_path(escrow)}/{ops.carrier}/milestones").json()["milestones"]
    (m1,) = [m for m in body if m["deal_id"] == deal.id]
    assert [(v["operator_id"], v["met"]) for v in m1["verdicts"]] == [(ops.inspector, True)]
    assert m1["verdict"] is None and m1["attestations"] == 1

    # A change order edits M1: its verdicts start over, so it awaits the inspector again.
    later = Milestone(200 * USD, now() + 40 * DAY, 2, (ops.inspector, ops.carrier), b"\x01" * 32)
    amendment = Amendment(
        deal.id, 1, (MilestoneChange(1, ChangeAction.EDIT, later),), deadline=now() + DAY
    )
    escrow.amend(amendment.as_tuple(), sign_amendment(escrow, supplier, amendment), {"from": buyer})
    assert awaiting(ops.inspector) == [(deal.id, 1)]
    assert (
        client.get(f"{ops_path(escrow)}/7/milestones", params={"status": "late"}).status_code == 422
    )
