"""The proposals exchange: a party's signed change order or cancellation is checked, stored,
listed for the other party, and what is stored is exactly what the escrow accepts."""

import brownie
import pytest
from helpers import DAY, USD, milestones, now
from service_helpers import BOTH_DATABASES, typed_json
from sqlalchemy import func, select

from backend import typed_data
from backend.db import Proposal
from backend.terms import (
    Amendment,
    Cancellation,
    ChangeAction,
    DealStatus,
    Milestone,
    MilestoneChange,
    MilestoneStatus,
)
from scripts.signing import sign_amendment, sign_cancellation

ZERO32 = "0x" + "00" * 32


def _cancellation(escrow, signer, deal_id, to_supplier, version=1, deadline=None, nonce=0):
    """Signed by `signer` over what the escrow holds for the deal now."""
    try:
        held = escrow.heldFor(deal_id)
    except brownie.exceptions.VirtualMachineError:  # an unknown deal
        held = 0
    to_buyer = max(held - to_supplier, 0)
    c = Cancellation(
        deal_id, version, to_supplier, to_buyer, deadline=deadline or now() + DAY, nonce=nonce
    )
    signature = sign_cancellation(escrow, signer, c)
    body = {
        "kind": "cancellation",
        "message": typed_json(c.as_typed()),
        "signature": _hex(signature),
    }
    return c, body


def _amendment(escrow, signer, deal_id, changes, version=1):
    a = Amendment(deal_id, version, tuple(changes), deadline=now() + DAY)
    signature = sign_amendment(escrow, signer, a)
    body = {"kind": "amendment", "message": typed_json(a.as_typed()), "signature": _hex(signature)}
    return a, body


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _cancellation_tuple(m: dict) -> tuple:
    """The contract's Cancellation from a stored message."""
    return tuple(
        int(m[k]) for k in ("dealId", "dealVersion", "toSupplier", "toBuyer", "nonce", "deadline")
    )


def _amendment_tuple(m: dict) -> tuple:
    """The contract's Amendment from a stored message."""
    changes = [
        (
            int(c["index"]),
            int(c["action"]),
            (
                int(c["terms"]["amount"]),
                int(c["terms"]["dueAt"]),
                int(c["terms"]["quorum"]),
                [int(o) for o in c["terms"]["oracles"]],
                c["terms"]["requirementsHash"],
            ),
        )
        for c in m["changes"]
    ]
    return (int(m["dealId"]), int(m["dealVersion"]), changes, int(m["nonce"]), int(m["deadline"]))


def _stored(client) -> list[Proposal]:
    with client.app.state.sessionmaker() as db:
        return db.scalars(select(Proposal).order_by(Proposal.id)).all()


def _post(client, deal_id, body):
    return client.post(f"/deals/{deal_id}/proposals", json=body)


@BOTH_DATABASES
def test_cancellation_is_stored_listed_and_applied_from_the_stored_data(
    client, escrow, stable, buyer, supplier, active_deal
):
    c, body = _cancellation(escrow, supplier, active_deal.id, 100 * USD)
    r = _post(client, active_deal.id, body)
    assert r.status_code == 201, r.text
    created = r.json()
    digest = escrow.hashCancellation(c.as_tuple())
    assert created | {"created_at": None} == {
        "id": created["id"],
        "escrow": escrow.address,
        "deal_id": active_deal.id,
        "kind": "cancellation",
        "signer": supplier.address,
        "deal_version": 1,
        "deadline": c.deadline,
        "message": {
            "dealId": str(active_deal.id),
            "dealVersion": "1",
            "toSupplier": str(100 * USD),
            "toBuyer": str(500 * USD),
            "nonce": "0",
            "deadline": str(c.deadline),
        },
        "signature": body["signature"],
        "digest": str(digest).lower(),
        "created_at": None,
        "status": "open",
    }
    # Again, with the uints as decimal strings: the same signed message, the same record.
    again = {**body, "message": {k: str(v) for k, v in body["message"].items()}}
    r = _post(client, active_deal.id, again)
    assert r.status_code == 200, r.text
    assert r.json() == created
    assert len(_stored(client)) == 1
    listed = client.get(f"/deals/{active_deal.id}/proposals").json()
    assert listed == [created]
    assert client.get(f"/deals/{active_deal.id}/proposals?kind=amendment").json() == []

    # The buyer applies it from what the service gave back.
    stored = listed[0]
    escrow.cancelByAgreement(
        _cancellation_tuple(stored["message"]), stored["signature"], {"from": buyer}
    )
    assert escrow.getDeal(active_deal.id)["status"] == DealStatus.CANCELLED
    assert stable.balanceOf(supplier) == 100 * USD
    assert stable.balanceOf(buyer) == 500 * USD
    [after] = client.get(f"/deals/{active_deal.id}/proposals").json()
    assert (after["id"], after["status"]) == (created["id"], "stale")
    # A new proposal for the cancelled deal is refused.
    _, late = _cancellation(escrow, supplier, active_deal.id, 0)
    r = _post(client, active_deal.id, late)
    assert r.status_code == 409 and "cancelled" in r.json()["detail"]
    assert len(_stored(client)) == 1


@BOTH_DATABASES
def test_amendment_is_stored_and_applied_from_the_stored_data(
    client, escrow, stable, buyer, supplier, ops, active_deal
):
    cheaper = Milestone(
        amount=60 * USD,
        due_at=now() + 40 * DAY,
        quorum=1,
        oracles=(ops.inspector,),
        requirements_hash=brownie.web3.keccak(text="requirements 0"),
    )
    changes = [
        MilestoneChange(0, ChangeAction.EDIT, cheaper),
        MilestoneChange(2, ChangeAction.REMOVE),
    ]
    a, body = _amendment(escrow, supplier, active_deal.id, changes)
    r = _post(client, active_deal.id, body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["kind"], created["signer"], created["status"]) == (
        "amendment",
        supplier.address,
        "open",
    )
    assert created["digest"] == str(escrow.hashAmendment(a.as_tuple())).lower()
    assert created["message"]["changes"][1] == {
        "index": "2",
        "action": "2",
        "terms": {
            "amount": "0",
            "dueAt": "0",
            "quorum": "0",
            "oracles": ["0", "0", "0"],
            "requirementsHash": ZERO32,
        },
    }

    [stored] = client.get(f"/deals/{active_deal.id}/proposals?kind=amendment").json()
    escrow.amend(_amendment_tuple(stored["message"]), stored["signature"], {"from": buyer})
    assert escrow.getDeal(active_deal.id)["version"] == 2
    assert stable.balanceOf(buyer) == 340 * USD  # 40 + 300 back
    assert escrow.getMilestone(active_deal.id, 2)["status"] == MilestoneStatus.REMOVED
    [after] = client.get(f"/deals/{active_deal.id}/proposals").json()
    assert after["status"] == "stale"
    # Handed in again after it was applied: its record, stale, nothing new.
    r = _post(client, active_deal.id, body)
    assert (r.status_code, r.json()["id"], r.json()["status"]) == (200, created["id"], "stale")
    # A cancellation signed for version 1 no longer applies.
    _, old = _cancellation(escrow, buyer, active_deal.id, 0, version=1)
    r = _post(client, active_deal.id, old)
    assert r.status_code == 409
    assert r.json()["detail"] == "stale: the deal is at version 2"
    assert len(_stored(client)) == 1


@BOTH_DATABASES
def test_refusals_store_nothing(client, escrow, buyer, supplier, stranger, active_deal):
    deal_id = active_deal.id

    def refused(body, code, detail, deal=deal_id):
        r = _post(client, deal, body)
        assert r.status_code == code, r.text
        assert detail in str(r.json()["detail"])

    _, by_stranger = _cancellation(escrow, stranger, deal_id, 0)
    refused(by_stranger, 403, f"signed by {stranger.address}, who is neither")

    _, tampered = _cancellation(escrow, supplier, deal_id, 10 * USD)
    tampered["message"]["toSupplier"] = 600 * USD  # changed after signing
    refused(tampered, 403, "neither the buyer")

    _, stale = _cancellation(escrow, supplier, deal_id, 0, version=2)
    refused(stale, 409, "stale: the deal is at version 1")

    _, expired = _cancellation(escrow, supplier, deal_id, 0, deadline=now())
    refused(expired, 400, "has passed")
    _, soon = _cancellation(escrow, supplier, deal_id, 0, deadline=now() + 60)
    brownie.chain.sleep(120)
    brownie.chain.mine()  # the chain's clock, not the wall clock
    refused(soon, 400, "has passed")

    c, unknown = _cancellation(escrow, supplier, 999, 0)
    refused(unknown, 404, "no deal 999", deal=999)

    _, mismatch = _cancellation(escrow, supplier, deal_id, 0)
    refused(mismatch, 400, f"not this deal ({deal_id + 1})", deal=deal_id + 1)

    _, short = _cancellation(escrow, supplier, deal_id, 0)
    short["signature"] = short["signature"][:-2]  # 64 bytes, and no party is a contract
    refused(short, 400, "expected 65")

    _, malleable = _cancellation(escrow, supplier, deal_id, 0)
    sig = bytes.fromhex(malleable["signature"][2:])
    n = 2 * typed_data.SECP256K1_HALF_N + 1
    high_s = (n - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
    malleable["signature"] = _hex(sig[:32] + high_s + bytes([55 - sig[64]]))
    refused(malleable, 400, "malleable")

    assert _stored(client) == []
    assert client.get(f"/deals/{deal_id}/proposals").json() == []


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(kind="offer"),
        lambda b: b.pop("signature"),
        lambda b: b["message"].pop("deadline"),
        lambda b: b["message"].update(extra=1),
        lambda b: b["message"].update(toSupplier=True),
        lambda b: b["message"].update(toSupplier=1 << 96),
        lambda b: b["message"].update(toSupplier="0x10"),
        lambda b: b["message"].update(dealVersion=1.5),
        lambda b: b.update(signature="0xzz"),
        lambda b: b.update(kind="amendment"),  # a cancellation's message
    ],
    ids=[
        "kind",
        "no-signature",
        "no-deadline",
        "extra-field",
        "bool",
        "uint96-overflow",
        "hex-uint",
        "float",
        "bad-hex",
        "kind-mismatch",
    ],
)
def test_malformed_is_422(client, escrow, supplier, active_deal, change):
    _, body = _cancellation(escrow, supplier, active_deal.id, 0)
    change(body)
    assert _post(client, active_deal.id, body).status_code == 422
    assert _stored(client) == []


def test_malformed_amendment_is_422(client, escrow, supplier, active_deal):
    _, body = _amendment(
        escrow, supplier, active_deal.id, [MilestoneChange(2, ChangeAction.REMOVE)]
    )
    for change in (
        lambda m: m["changes"][0].update(action=3),
        lambda m: m["changes"][0]["terms"].update(requirementsHash="0x1234"),
        lambda m: m["changes"][0]["terms"].update(oracles=[0, 0]),
        lambda m: m["changes"][0].pop("terms"),
    ):
        broken = {**body, "message": typed_json(body["message"])}  # a deep copy
        change(broken["message"])
        assert _post(client, active_deal.id, broken).status_code == 422
    assert _stored(client) == []


def test_contract_wallet_party_signs_by_eip1271(client, escrow, buyer, stranger, deployer, ops):
    from brownie import MockContractWallet

    wallet = MockContractWallet.deploy(stranger, {"from": deployer})  # owned by stranger
    tx = escrow.createDeal(
        buyer,
        wallet,
        ops.arbiter,
        (0, 0, 0, 0),
        [m.as_tuple() for m in milestones([100 * USD], [(ops.inspector,)])],
        {"from": buyer},
    )
    deal_id = tx.events["DealCreated"]["dealId"]
    _, body = _cancellation(escrow, stranger, deal_id, 0)  # the wallet's owner signs
    r = _post(client, deal_id, body)
    assert r.status_code == 201, r.text
    assert r.json()["signer"] == wallet.address
    assert [p.signer for p in _stored(client)] == [wallet.address]


def test_rpc_down_is_503(make_client, client, escrow, supplier, active_deal, tmp_path):
    _, body = _cancellation(escrow, supplier, active_deal.id, 0)
    assert _post(client, active_deal.id, body).status_code == 201
    down = make_client(rpc_url="http://127.0.0.1:1", chain_id=None, data_dir=tmp_path / "var0")
    _, other = _cancellation(escrow, supplier, active_deal.id, 1)
    assert _post(down, active_deal.id, other).status_code == 503
    assert down.get(f"/deals/{active_deal.id}/proposals").status_code == 503
    with down.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(Proposal)) == 1


def test_a_revoked_signature_is_refused_and_listed_as_revoked(
    client, escrow, buyer, supplier, active_deal
):
    """The signer revokes its outstanding signatures on chain: the stored one is listed as
    `revoked`, a new one over the old nonce is refused with 409, one over the new nonce is
    stored."""
    _, body = _cancellation(escrow, supplier, active_deal.id, 100 * USD)
    assert _post(client, active_deal.id, body).status_code == 201
    escrow.revokeAgreements(active_deal.id, {"from": supplier})
    listed = client.get(f"/deals/{active_deal.id}/proposals").json()
    assert [p["status"] for p in listed] == ["revoked"]
    _, again = _cancellation(escrow, supplier, active_deal.id, 200 * USD)
    r = _post(client, active_deal.id, again)
    assert r.status_code == 409 and "revoked" in r.json()["detail"]
    assert len(_stored(client)) == 1
    _, fresh = _cancellation(escrow, supplier, active_deal.id, 200 * USD, nonce=1)
    assert _post(client, active_deal.id, fresh).status_code == 201
