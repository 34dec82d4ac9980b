"""The published recipient: a binding signed by the account, checked by anyone in Python and in
the page's module, for a key (ECDSA) and for a contract wallet (EIP-1271, on anvil); a binding
signed by someone else, for another recipient or another chain is refused in words."""

import brownie
import pytest
import requests
from brownie import MockContractWallet, accounts
from eth_account import Account
from eth_account.messages import encode_typed_data
from page_module import PageModuleRefused
from web3 import HTTPProvider, Web3

from backend.confidential.binding import (
    erc1271_check,
    sign_binding,
    sign_binding_with_key,
    verify_binding,
)
from backend.confidential.errors import BindingError
from backend.confidential.identity import derive_identity_from_key

ISSUED_AT = 1767225600


@pytest.fixture(scope="module")
def owner():
    return Account.create()


@pytest.fixture(scope="module")
def wallet(owner):
    """A contract account (a one-owner multisig): it accepts what its owner key signs."""
    return MockContractWallet.deploy(owner.address, {"from": accounts[0]})


@pytest.fixture(scope="module")
def identity(owner):
    return derive_identity_from_key(owner.key)


def test_a_key_binding_verifies_in_python_and_in_the_page(page_module, owner, identity):
    chain = brownie.chain.id
    signed = sign_binding_with_key(owner.key, chain, identity.recipient, 0, ISSUED_AT).to_json()
    assert verify_binding(signed, chain).recipient == identity.recipient
    page = page_module("verifyBinding", doc=signed, chainId=chain)
    assert (page["account"], page["recipient"], page["issuedAt"]) == (
        owner.address,
        identity.recipient,
        str(ISSUED_AT),
    )
    by_page = page_module(
        "signBinding",
        privateKey="0x" + bytes(owner.key).hex(),
        chainId=chain,
        recipient=identity.recipient,
        generation=0,
        issuedAt=ISSUED_AT,
    )
    assert by_page == signed  # the same JSON, signature included (RFC 6979 both sides)
    assert verify_binding(by_page, chain).account == owner.address


def test_a_contract_wallet_binding_verifies_by_eip_1271(page_module, wallet, owner, identity):
    chain, rpc = brownie.chain.id, brownie.web3.provider.endpoint_uri

    def owner_signs(typed: dict) -> bytes:
        return owner.sign_message(encode_typed_data(full_message=typed)).signature

    signed = sign_binding(owner_signs, chain, wallet.address, identity.recipient, 0, ISSUED_AT)
    doc = signed.to_json()
    binding = verify_binding(doc, chain, erc1271_check(brownie.web3))
    assert (binding.account, binding.recipient) == (wallet.address, identity.recipient)
    assert (
        page_module("verifyBinding", doc=doc, chainId=chain, rpc=rpc)["account"] == wallet.address
    )

    # without asking the chain, it is only the owner's ECDSA signature: not the account's
    reason = f"binding for {wallet.address} is signed by {owner.address}, not by the account"
    with pytest.raises(BindingError, match=reason):
        verify_binding(doc, chain)
    with pytest.raises(PageModuleRefused, match=reason):
        page_module("verifyBinding", doc=doc, chainId=chain)

    # a stranger's signature: the wallet refuses it
    stranger = Account.create()
    forged = sign_binding(
        lambda t: stranger.sign_message(encode_typed_data(full_message=t)).signature,
        chain,
        wallet.address,
        identity.recipient,
        0,
        ISSUED_AT,
    ).to_json()
    with pytest.raises(BindingError, match=f"signed by {stranger.address}"):
        verify_binding(forged, chain, erc1271_check(brownie.web3))
    with pytest.raises(PageModuleRefused, match=f"signed by {stranger.address}"):
        page_module("verifyBinding", doc=forged, chainId=chain, rpc=rpc)


def bad_bindings(owner, identity, chain):
    stranger = Account.create()
    good = sign_binding_with_key(owner.key, chain, identity.recipient, 0, ISSUED_AT).to_json()
    foreign = sign_binding(
        lambda t: stranger.sign_message(encode_typed_data(full_message=t)).signature,
        chain,
        owner.address,
        identity.recipient,
        0,
        ISSUED_AT,
    ).to_json()
    other_recipient = derive_identity_from_key(stranger.key).recipient
    swapped = {**good, "binding": {**good["binding"], "recipient": other_recipient}}
    other_chain = sign_binding_with_key(owner.key, chain + 1, identity.recipient, 0, ISSUED_AT)
    return {
        f"signed by {stranger.address}, not by the account": foreign,
        "not by the account": swapped,  # the signature recovers to some unrelated address
        f"is for chain {chain + 1}, not chain {chain}": other_chain.to_json(),
        "not an age X25519 recipient": {
            **good,
            "binding": {**good["binding"], "recipient": identity.secret_key},
        },
        "encryption-key@1": {**good, "format": "something-else@1"},
    }


def test_bad_bindings_are_refused_in_python_and_in_the_page(page_module, owner, identity):
    chain = brownie.chain.id
    for reason, doc in bad_bindings(owner, identity, chain).items():
        with pytest.raises(BindingError, match=reason):
            verify_binding(doc, chain)
        with pytest.raises(PageModuleRefused, match=reason):
            page_module("verifyBinding", doc=doc, chainId=chain)


def test_an_unreachable_rpc_is_not_taken_for_a_refusal(page_module, wallet, owner, identity):
    """A contract binding checked while the chain cannot be asked: an error of its own, never
    "signed by someone else"."""
    chain, dead = brownie.chain.id, "http://127.0.0.1:9"  # the discard port: nothing listens
    doc = sign_binding(
        lambda t: owner.sign_message(encode_typed_data(full_message=t)).signature,
        chain,
        wallet.address,
        identity.recipient,
        0,
        ISSUED_AT,
    ).to_json()
    with pytest.raises(requests.ConnectionError):
        verify_binding(doc, chain, erc1271_check(Web3(HTTPProvider(dead))))
    with pytest.raises(AssertionError, match="fetch failed") as refused:
        page_module("verifyBinding", doc=doc, chainId=chain, rpc=dead)
    assert "signed by" not in str(refused.value)
