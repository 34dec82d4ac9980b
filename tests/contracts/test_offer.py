"""Deals offered by the supplier's EIP-712 signature, accepted and funded by the buyer."""

import brownie
from helpers import DAY, USD, milestones, now, reverts, sign_offer, sign_permit

from backend.terms import DealOffer, DealStatus
from scripts.deploy import deploy_escrow


def _offer(buyer, supplier, ops, nonce=1, **changes) -> DealOffer:
    fields = dict(
        buyer=buyer.address,
        supplier=supplier.address,
        arbiter=ops.arbiter,
        milestones=tuple(milestones([30 * USD, 70 * USD], [(ops.inspector,), (ops.carrier,)])),
        nonce=nonce,
        deadline=now() + DAY,
    )
    fields.update(changes)
    return DealOffer(**fields)


def test_contract_digest_matches_python_typed_data(escrow, buyer, supplier, ops):
    from backend import typed_data

    offer = _offer(buyer, supplier, ops)
    expected = typed_data.digest(typed_data.offer_message(brownie.chain.id, escrow.address, offer))
    assert escrow.hashOffer(offer.as_tuple()) == "0x" + expected.hex()


def test_signed_offer_creates_and_funds_in_one_transaction(escrow, stable, buyer, supplier, ops):
    offer = _offer(buyer, supplier, ops)
    signature = sign_offer(escrow, supplier, offer)
    stable.mint(buyer, offer.total, {"from": buyer})
    deadline = now() + DAY
    permit = sign_permit(stable, buyer, escrow, offer.total, deadline)
    tx = escrow.acceptOfferWithPermit(
        offer.as_tuple(), signature, offer.total, deadline, *permit.vrs, {"from": buyer}
    )
    deal_id = tx.events["DealCreated"]["dealId"]
    assert escrow.getDeal(deal_id)["status"] == DealStatus.ACTIVE
    assert stable.balanceOf(escrow) == offer.total
    assert escrow.offerNonceUsed(supplier, offer.nonce)


def test_offer_without_funding_leaves_deal_accepted(escrow, buyer, supplier, ops):
    offer = _offer(buyer, supplier, ops)
    tx = escrow.acceptOffer(
        offer.as_tuple(), sign_offer(escrow, supplier, offer), 0, {"from": buyer}
    )
    assert escrow.getDeal(tx.events["DealCreated"]["dealId"])["status"] == DealStatus.ACCEPTED


def test_offer_signed_by_someone_else_is_refused(escrow, buyer, supplier, stranger, ops):
    offer = _offer(buyer, supplier, ops)
    with reverts("InvalidSupplierSignature", supplier.address):
        escrow.acceptOffer(
            offer.as_tuple(), sign_offer(escrow, stranger, offer), 0, {"from": buyer}
        )


def test_altered_terms_break_the_signature(escrow, buyer, supplier, ops):
    offer = _offer(buyer, supplier, ops)
    signature = sign_offer(escrow, supplier, offer)
    cheaper = _offer(
        buyer,
        supplier,
        ops,
        milestones=tuple(milestones([1 * USD, 70 * USD], [(ops.inspector,), (ops.carrier,)])),
    )
    with reverts("InvalidSupplierSignature"):
        escrow.acceptOffer(cheaper.as_tuple(), signature, 0, {"from": buyer})


def test_offer_cannot_be_accepted_twice(escrow, buyer, supplier, ops):
    offer = _offer(buyer, supplier, ops)
    signature = sign_offer(escrow, supplier, offer)
    escrow.acceptOffer(offer.as_tuple(), signature, 0, {"from": buyer})
    with reverts("OfferNonceUsed", supplier.address, offer.nonce):
        escrow.acceptOffer(offer.as_tuple(), signature, 0, {"from": buyer})


def test_supplier_can_withdraw_an_offer(escrow, buyer, supplier, ops):
    offer = _offer(buyer, supplier, ops, nonce=7)
    signature = sign_offer(escrow, supplier, offer)
    escrow.cancelOffer(7, {"from": supplier})
    with reverts("OfferNonceUsed"):
        escrow.acceptOffer(offer.as_tuple(), signature, 0, {"from": buyer})


def test_expired_offer_is_refused(escrow, buyer, supplier, ops):
    offer = _offer(buyer, supplier, ops, deadline=now() + 60)
    signature = sign_offer(escrow, supplier, offer)
    brownie.chain.sleep(120)
    with reverts("OfferExpired"):
        escrow.acceptOffer(offer.as_tuple(), signature, 0, {"from": buyer})


def test_only_the_named_buyer_accepts(escrow, buyer, supplier, stranger, ops):
    offer = _offer(buyer, supplier, ops)
    with reverts("NotBuyer"):
        escrow.acceptOffer(
            offer.as_tuple(), sign_offer(escrow, supplier, offer), 0, {"from": stranger}
        )


def test_high_s_signature_is_refused(escrow, buyer, supplier, ops):
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    offer = _offer(buyer, supplier, ops)
    sig = sign_offer(escrow, supplier, offer)
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    malleable = r + (n - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    with reverts("InvalidSupplierSignature"):
        escrow.acceptOffer(offer.as_tuple(), malleable, 0, {"from": buyer})


def test_offer_for_another_escrow_is_refused(escrow, stable, buyer, supplier, ops, deployer):

    other = deploy_escrow(stable, deployer)
    offer = _offer(buyer, supplier, ops)
    with reverts("InvalidSupplierSignature"):
        escrow.acceptOffer(offer.as_tuple(), sign_offer(other, supplier, offer), 0, {"from": buyer})


def test_contract_wallet_supplier_signs_by_eip1271(escrow, buyer, supplier, ops, deployer):
    from brownie import MockContractWallet

    wallet = MockContractWallet.deploy(supplier, {"from": deployer})
    offer = _offer(buyer, wallet, ops)
    tx = escrow.acceptOffer(
        offer.as_tuple(), sign_offer(escrow, supplier, offer), 0, {"from": buyer}
    )
    assert escrow.getDeal(tx.events["DealCreated"]["dealId"])["supplier"] == wallet
