"""The encryption identity derived from a wallet: the same in eth-account and in the page's
module (ethers), accepted by Debian's age, the worked example of docs/confidential.md, and
refused from a wallet that does not sign deterministically or from the wrong account."""

import re
import secrets
import subprocess

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_keys.backends.native.jacobian import fast_multiply
from eth_keys.constants import SECPK1_G, SECPK1_N
from page_module import PageModuleRefused

from backend.confidential.errors import ConfidentialError, NonDeterministicWallet
from backend.confidential.identity import (
    HKDF_INFO,
    HKDF_SALT,
    derive_identity,
    derive_identity_from_key,
    hkdf_sha256,
    identity_from_signature,
    identity_typed_data,
)
from backend.settings import ROOT

ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DOC = ROOT / "docs" / "confidential.md"


def test_ethers_and_eth_account_derive_the_same_identity(page_module):
    for key in (ANVIL_KEY_0, "0x" + secrets.token_hex(32)):
        for generation in (0, 7):
            mine = derive_identity_from_key(key, generation)
            page = page_module("derive", privateKey=key, generation=generation)
            assert page["account"] == mine.account == Account.from_key(key).address
            assert (page["secretKey"], page["recipient"]) == (mine.secret_key, mine.recipient)
    assert derive_identity_from_key(ANVIL_KEY_0, 1).recipient != mine.recipient


def test_debian_age_computes_the_same_recipient(age_cli, tmp_path):
    identity = derive_identity_from_key(ANVIL_KEY_0)
    key_file = tmp_path / "identity.txt"
    key_file.write_text(identity.secret_key + "\n")
    keygen = age_cli.removesuffix("age") + "age-keygen"
    public = subprocess.run(
        [keygen, "-y", str(key_file)], capture_output=True, text=True, check=True, timeout=30
    )
    assert public.stdout.strip() == identity.recipient


def test_the_worked_example_in_the_docs_is_what_both_derive(page_module):
    text = DOC.read_text()
    values = dict(
        re.findall(r"\| (digest|signature|HKDF output|identity|recipient) \| `([^`]+)` \|", text)
    )
    typed = identity_typed_data(Account.from_key(ANVIL_KEY_0).address)
    signature = Account.sign_typed_data(ANVIL_KEY_0, full_message=typed).signature
    identity = derive_identity_from_key(ANVIL_KEY_0)
    assert (
        values["digest"] == "0x" + _hash_eip191_message(encode_typed_data(full_message=typed)).hex()
    )
    assert values["signature"] == "0x" + signature.hex()
    s = int.from_bytes(signature[32:64], "big")
    material = signature[:32] + min(s, SECPK1_N - s).to_bytes(32, "big")
    assert values["HKDF output"] == "0x" + hkdf_sha256(material, HKDF_SALT, HKDF_INFO, 32).hex()
    assert values["identity"] == identity.secret_key
    assert values["recipient"] == identity.recipient
    assert values["recipient"] == page_module("derive", privateKey=ANVIL_KEY_0)["recipient"]
    assert f'"purpose": "{typed["message"]["purpose"]}"' in text


def test_hkdf_is_rfc_5869():
    # RFC 5869, A.1 (test case 1)
    okm = hkdf_sha256(
        bytes.fromhex("0b" * 22),
        bytes.fromhex("000102030405060708090a0b0c"),
        bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def random_nonce_signer(private_key: str):
    """A wallet that signs with a fresh random nonce each time (valid ECDSA, not RFC 6979)."""
    d = int(private_key, 16)

    def sign(typed: dict) -> bytes:
        z = int.from_bytes(_hash_eip191_message(encode_typed_data(full_message=typed)), "big")
        k = secrets.randbelow(SECPK1_N - 1) + 1
        x, y = fast_multiply(SECPK1_G, k)
        r, s, v = x % SECPK1_N, pow(k, -1, SECPK1_N) * (z + x % SECPK1_N * d) % SECPK1_N, y & 1
        if s > SECPK1_N // 2:
            s, v = SECPK1_N - s, v ^ 1
        return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + v])

    return sign


def test_a_wallet_that_signs_with_random_nonces_is_refused(page_module):
    account = Account.from_key(ANVIL_KEY_0).address
    sign = random_nonce_signer(ANVIL_KEY_0)
    typed = identity_typed_data(account)
    one, two = sign(typed), sign(typed)  # good signatures by the account, not repeatable ones
    for signature in (one, two):
        signable = encode_typed_data(full_message=typed)
        assert Account.recover_message(signable, signature=signature) == account
    with pytest.raises(NonDeterministicWallet, match="two different signatures"):
        derive_identity(account, sign)
    with pytest.raises(PageModuleRefused, match="two different signatures"):
        page_module(
            "deriveFromWallet", account=account, signatures=["0x" + one.hex(), "0x" + two.hex()]
        )


def test_the_ways_wallets_write_one_signature_derive_one_identity(page_module):
    """v as 27/28 or 0/1, s low or (n - s) high with the other v: the same signature."""
    account = Account.from_key(ANVIL_KEY_0).address
    signature = Account.sign_typed_data(ANVIL_KEY_0, full_message=identity_typed_data(account))
    r, s, v = signature.r, signature.s, signature.v
    high = SECPK1_N - s
    variants = [
        r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v - 27]),
        r.to_bytes(32, "big") + high.to_bytes(32, "big") + bytes([55 - v]),
        r.to_bytes(32, "big") + high.to_bytes(32, "big") + bytes([55 - v - 27]),
    ]
    expected = derive_identity_from_key(ANVIL_KEY_0).recipient
    for variant in variants:
        assert identity_from_signature(account, variant).recipient == expected
        hexed = "0x" + variant.hex()
        page = page_module("deriveFromWallet", account=account, signatures=[hexed, hexed])
        assert page["recipient"] == expected


def test_a_signature_by_another_account_derives_nothing():
    account = Account.from_key(ANVIL_KEY_0).address
    other = Account.create()
    signature = other.sign_message(encode_typed_data(full_message=identity_typed_data(account)))
    with pytest.raises(ConfidentialError, match=f"for {account} was signed by {other.address}"):
        identity_from_signature(account, signature.signature)
    with pytest.raises(ConfidentialError, match="65"):
        identity_from_signature(account, b"\x01" * 64)
