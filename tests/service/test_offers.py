"""The offers exchange: a supplier's signed deal offer is checked, stored, listed for the buyer,
and what is stored is exactly what the escrow accepts (`acceptOffer`)."""

import brownie
import pytest
from helpers import DAY, USD, milestones, now, sign_offer
from service_helpers import BOTH_DATABASES, typed_json
from sqlalchemy import func, select

from backend import typed_data
from backend.db import Offer
from backend.indexer import Indexer
from backend.terms import DealOffer, DealStatus, Policy

ZERO = "0x" + "00" * 20


def _offer(buyer, supplier, ops, nonce=1, amounts=(30 * USD, 70 * USD), **changes) -> DealOffer:
    fields = dict(
        buyer=str(buyer),
        supplier=str(supplier),
        arbiter=ops.arbiter,
        milestones=tuple(milestones(list(amounts), [(ops.inspector,)] * len(amounts))),
        nonce=nonce,
        deadline=now() + DAY,
        policy=Policy(examination_window=2 * DAY),
    )
    fields.update(changes)
    return DealOffer(**fields)


def _signed(escrow, signer, offer: DealOffer) -> dict:
    """The body of POST /offers: the offer as signed, and `signer`'s signature of it."""
    return {
        "offer": typed_json(offer.as_typed()),
        "signature": _hex(sign_offer(escrow, signer, offer)),
    }


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _offer_tuple(o: dict) -> tuple:
    """The contract's DealOffer from a stored offer."""
    p = o["policy"]
    return (
        o["buyer"],
        o["supplier"],
        int(o["arbiter"]),
        tuple(
            int(p[k])
            for k in ("examinationWindow", "rulingPeriod", "warrantyPeriod", "retentionBps")
        ),
        [
            (
                int(m["amount"]),
                int(m["dueAt"]),
                int(m["quorum"]),
                [int(x) for x in m["oracles"]],
                m["requirementsHash"],
            )
            for m in o["milestones"]
        ],
        int(o["nonce"]),
        int(o["deadline"]),
    )


def _count(client) -> int:
    with client.app.state.sessionmaker() as db:
        return db.scalar(select(func.count()).select_from(Offer))


def _listed(client, party, **query) -> list[dict]:
    r = client.get("/offers", params={"party": str(party), **query})
    assert r.status_code == 200, r.text
    return r.json()


@BOTH_DATABASES
def test_offer_is_stored_listed_and_accepted_from_the_stored_data(
    client, escrow, stable, buyer, supplier, stranger, ops
):
    offer = _offer(buyer, supplier, ops)
    body = _signed(escrow, supplier, offer)
    r = client.post("/offers", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created | {"id": None, "created_at": None} == {
        "id": None,
        "escrow": escrow.address,
        "supplier": supplier.address,
        "buyer": buyer.address,
        "nonce": "1",
        "deadline": str(offer.deadline),
        "total": str(100 * USD),
        "offer": {
            "buyer": buyer.address,
            "supplier": supplier.address,
            "arbiter": str(ops.arbiter),
            "policy": {
                "examinationWindow": str(2 * DAY),
                "rulingPeriod": "0",
                "warrantyPeriod": "0",
                "retentionBps": "0",
            },
            "milestones": [
                {
                    "amount": str(m.amount),
                    "dueAt": str(m.due_at),
                    "quorum": "1",
                    "oracles": [str(ops.inspector), "0", "0"],
                    "requirementsHash": _hex(m.requirements_hash).lower(),
                }
                for m in offer.milestones
            ],
            "nonce": "1",
            "deadline": str(offer.deadline),
        },
        "signature": body["signature"],
        "digest": str(escrow.hashOffer(offer.as_tuple())).lower(),  # what the escrow computes
        "created_at": None,
        "status": "open",
    }
    # Again, uints as decimal strings and addresses in lower case: the same record.
    again = {
        "offer": {
            **typed_json(offer.as_typed()),
            "buyer": buyer.address.lower(),
            "supplier": supplier.address.lower(),
            "nonce": "1",
            "deadline": str(offer.deadline),
        },
        "signature": body["signature"].upper().replace("0X", "0x"),
    }
    r = client.post("/offers", json=again)
    assert r.status_code == 200, r.text
    assert r.json() == created
    assert _count(client) == 1

    assert _listed(client, buyer.address.lower()) == [created]
    assert _listed(client, supplier) == [created]
    assert _listed(client, supplier, status="open") == [created]
    assert _listed(client, stranger) == []
    assert client.get(f"/offers/{created['id']}").json() == created
    assert client.get("/offers/999").status_code == 404
    assert client.get("/offers", params={"party": "0x1234"}).status_code == 400
    assert client.get("/offers").status_code == 422  # party is required

    # The buyer accepts and funds it from what the service gave back, in one transaction.
    [stored] = _listed(client, buyer)
    total = int(stored["total"])
    stable.mint(buyer, total, {"from": buyer})
    stable.approve(escrow, total, {"from": buyer})
    tx = escrow.acceptOffer(
        _offer_tuple(stored["offer"]), stored["signature"], total, {"from": buyer}
    )
    deal = escrow.getDeal(tx.events["DealCreated"]["dealId"])
    assert (deal["buyer"], deal["supplier"], deal["status"]) == (
        buyer.address,
        supplier.address,
        DealStatus.ACTIVE,
    )
    assert stable.balanceOf(escrow) == total

    [after] = _listed(client, buyer)
    assert (after["id"], after["status"]) == (created["id"], "used")
    assert _listed(client, buyer, status="open") == []
    # Handed in again after acceptance: its record, used, nothing new.
    r = client.post("/offers", json=body)
    assert (r.status_code, r.json()["id"], r.json()["status"]) == (200, created["id"], "used")
    # Other terms under the accepted offer's nonce: refused.
    other = _offer(buyer, supplier, ops, amounts=(5 * USD,))
    r = client.post("/offers", json=_signed(escrow, supplier, other))
    assert r.status_code == 409
    assert r.json()["detail"] == "offer nonce already used (accepted or withdrawn)"
    assert _count(client) == 1


@BOTH_DATABASES
def test_withdrawn_offer(client, escrow, buyer, supplier, ops):
    nonce = (1 << 200) + 7  # beyond JavaScript's 2^53: kept as a decimal string everywhere
    offer = _offer(buyer, supplier, ops, nonce=nonce)
    body = _signed(escrow, supplier, offer)
    r = client.post("/offers", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["nonce"], r.json()["status"]) == (str(nonce), "open")

    start = brownie.chain.height + 1
    escrow.cancelOffer(nonce, {"from": supplier})
    [listed] = _listed(client, buyer)
    assert listed["status"] == "used"  # the deal index has not seen the OfferCancelled yet
    app = client.app
    Indexer(app.state.chain, app.state.sessionmaker, 0, start).sync()
    [listed] = _listed(client, buyer)
    assert listed["status"] == "withdrawn"
    assert _listed(client, supplier, status="withdrawn") == [listed]
    assert client.get(f"/offers/{listed['id']}").json()["status"] == "withdrawn"

    # A new offer under the withdrawn nonce is refused; the withdrawn one is its record.
    renewed = _offer(buyer, supplier, ops, nonce=nonce, deadline=now() + 2 * DAY)
    r = client.post("/offers", json=_signed(escrow, supplier, renewed))
    assert r.status_code == 409, r.text
    assert client.post("/offers", json=body).json() == listed
    assert _count(client) == 1


@BOTH_DATABASES
def test_refusals_store_nothing(client, escrow, buyer, supplier, stranger, ops):
    def refused(body, code, detail):
        r = client.post("/offers", json=body)
        assert r.status_code == code, r.text
        assert detail in str(r.json()["detail"])

    offer = _offer(buyer, supplier, ops)
    refused(_signed(escrow, buyer, offer), 403, f"signed by {buyer.address}, not by the offer's")
    refused(_signed(escrow, stranger, offer), 403, f"signed by {stranger.address}")

    tampered = _signed(escrow, supplier, offer)
    tampered["offer"]["milestones"][0]["amount"] = 1 * USD  # a lower total, after signing
    refused(tampered, 403, "changed after signing")
    tampered = _signed(escrow, supplier, offer)
    tampered["offer"]["buyer"] = stranger.address  # offered to someone else
    refused(tampered, 403, "not by the offer's supplier")

    refused(_signed(escrow, supplier, _offer(buyer, supplier, ops, deadline=now())), 400, "passed")
    soon = _signed(escrow, supplier, _offer(buyer, supplier, ops, deadline=now() + 60))
    brownie.chain.sleep(120)
    brownie.chain.mine()  # the chain's clock, not the wall clock
    refused(soon, 400, "has passed")

    same = _offer(supplier, supplier, ops)
    refused(_signed(escrow, supplier, same), 400, "the buyer and the supplier are the same")
    refused(_signed(escrow, supplier, _offer(ZERO, supplier, ops)), 400, "buyer is the zero")
    none = _signed(escrow, supplier, offer)
    none["offer"]["milestones"] = []
    refused(none, 400, "at least one milestone")
    many = _offer(buyer, supplier, ops, amounts=(USD,) * 65)
    refused(_signed(escrow, supplier, many), 400, "65 milestones: the escrow takes at most 64")

    short = _signed(escrow, supplier, offer)
    short["signature"] = short["signature"][:-2]  # 64 bytes, and the supplier is no contract
    refused(short, 400, "expected 65")
    malleable = _signed(escrow, supplier, offer)
    sig = bytes.fromhex(malleable["signature"][2:])
    n = 2 * typed_data.SECP256K1_HALF_N + 1
    high_s = (n - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
    malleable["signature"] = _hex(sig[:32] + high_s + bytes([55 - sig[64]]))
    refused(malleable, 400, "malleable")

    withdrawn = _offer(buyer, supplier, ops, nonce=5)
    escrow.cancelOffer(5, {"from": supplier})
    refused(_signed(escrow, supplier, withdrawn), 409, "offer nonce already used")

    assert _count(client) == 0
    assert _listed(client, buyer) == _listed(client, supplier) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.pop("signature"),
        lambda b: b.update(extra=1),
        lambda b: b["offer"].pop("deadline"),
        lambda b: b["offer"].update(extra=1),
        lambda b: b["offer"].update(buyer="0x1234"),
        lambda b: b["offer"].update(supplier=None),
        lambda b: b["offer"].update(arbiter=True),
        lambda b: b["offer"].update(arbiter=1 << 32),
        lambda b: b["offer"].update(nonce=1.5),
        lambda b: b["offer"].update(nonce="0x10"),
        lambda b: b["offer"]["policy"].update(retentionBps=1 << 16),
        lambda b: b["offer"]["policy"].pop("rulingPeriod"),
        lambda b: b["offer"]["milestones"][0].update(amount=1 << 96),
        lambda b: b["offer"]["milestones"][0].update(oracles=[1, 0]),
        lambda b: b["offer"]["milestones"][0].update(requirementsHash="0x1234"),
        lambda b: b["offer"].update(milestones={}),
        lambda b: b.update(signature="0xzz"),
        lambda b: b.update(offer=[]),
    ],
    ids=[
        "no-signature",
        "extra-top-field",
        "no-deadline",
        "extra-offer-field",
        "short-address",
        "null-address",
        "bool-uint",
        "uint32-overflow",
        "float",
        "hex-uint",
        "uint16-overflow",
        "policy-field-missing",
        "uint96-overflow",
        "two-oracles",
        "short-bytes32",
        "milestones-not-a-list",
        "bad-hex-signature",
        "offer-not-an-object",
    ],
)
def test_malformed_is_422(client, escrow, buyer, supplier, ops, change):
    body = _signed(escrow, supplier, _offer(buyer, supplier, ops))
    change(body)
    assert client.post("/offers", json=body).status_code == 422
    assert _count(client) == 0


def test_bad_status_filter_is_422(client, buyer):
    assert client.get("/offers", params={"party": buyer.address, "status": "x"}).status_code == 422


def test_contract_wallet_supplier_signs_by_eip1271(client, escrow, buyer, stranger, deployer, ops):
    from brownie import MockContractWallet

    wallet = MockContractWallet.deploy(stranger, {"from": deployer})  # owned by stranger
    offer = _offer(buyer, wallet.address, ops)
    r = client.post("/offers", json=_signed(escrow, stranger, offer))  # the owner signs
    assert r.status_code == 201, r.text
    assert (r.json()["supplier"], r.json()["status"]) == (wallet.address, "open")
    assert [o["id"] for o in _listed(client, wallet)] == [r.json()["id"]]


def test_rpc_down_is_503(make_client, client, escrow, buyer, supplier, ops, tmp_path):
    r = client.post("/offers", json=_signed(escrow, supplier, _offer(buyer, supplier, ops)))
    assert r.status_code == 201
    # The same database, a chain that cannot be reached.
    down = make_client(rpc_url="http://127.0.0.1:1", chain_id=None, data_dir=tmp_path / "var0")
    other = _signed(escrow, supplier, _offer(buyer, supplier, ops, nonce=2))
    assert down.post("/offers", json=other).status_code == 503
    assert down.get("/offers", params={"party": buyer.address}).status_code == 503
    assert down.get(f"/offers/{r.json()['id']}").status_code == 503
    assert _count(down) == 1
