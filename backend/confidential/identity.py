"""An account's age X25519 identity, derived from its wallet: no new secret to keep.

The wallet signs a fixed EIP-712 message (IDENTITY_DOMAIN, IDENTITY_TYPE, PURPOSE) naming the
account and a generation; the signature's r ‖ s (s in the lower half) goes through
HKDF-SHA256 (HKDF_SALT, HKDF_INFO) to 32 bytes: the X25519 secret, written as age writes
identities (bech32, "AGE-SECRET-KEY-1…"). The same key gives the same identity in any client
that signs deterministically (RFC 6979: eth-account, ethers, MetaMask, hardware wallets);
docs/confidential.md has the steps and a worked example. One identity per account, on every
chain and escrow: the domain names no chain and no contract, so a party publishes one
recipient; `generation` rolls a new identity if a signature ever leaks.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

import pyrage
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import is_address, to_checksum_address

from backend.confidential.errors import ConfidentialError, NonDeterministicWallet

IDENTITY_DOMAIN = {"name": "MilestoneEscrow encryption identity", "version": "1"}
IDENTITY_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
]
IDENTITY_TYPE = [
    {"name": "purpose", "type": "string"},
    {"name": "account", "type": "address"},
    {"name": "generation", "type": "uint32"},
]
# What the wallet shows the user: the signature is a key, so it says so.
PURPOSE = (
    "Derive my encryption key for the trade documents of my deals. Sign this only in a page "
    "you trust: this signature opens every document encrypted to me."
)
HKDF_SALT = b"MilestoneEscrow encryption identity v1"
HKDF_INFO = b"age-encryption.org/v1 X25519 identity"

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECRET_KEY_HRP = "age-secret-key-"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


@dataclass(frozen=True)
class Identity:
    """An age X25519 identity and its recipient (public half). `secret_key` is what
    `age -d -i FILE` reads; it never leaves the holder's machine."""

    account: str
    generation: int
    recipient: str
    secret_key: str = field(repr=False)

    def to_pyrage(self) -> pyrage.x25519.Identity:
        return pyrage.x25519.Identity.from_str(self.secret_key)


def identity_typed_data(account: str, generation: int = 0) -> dict:
    """The EIP-712 message to sign (eth_signTypedData_v4's argument), exactly."""
    if not is_address(account):
        raise ConfidentialError(f"{account!r} is not an address")
    if not 0 <= generation < 1 << 32:
        raise ConfidentialError("generation must be a uint32")
    return {
        "types": {"EIP712Domain": IDENTITY_DOMAIN_TYPE, "EncryptionIdentity": IDENTITY_TYPE},
        "primaryType": "EncryptionIdentity",
        "domain": dict(IDENTITY_DOMAIN),
        "message": {
            "purpose": PURPOSE,
            "account": to_checksum_address(account),
            "generation": generation,
        },
    }


def identity_from_signature(account: str, signature: bytes, generation: int = 0) -> Identity:
    """The identity `signature` (the account's, over identity_typed_data) derives. Refuses a
    signature by another account: a wallet connected to the wrong account would otherwise
    derive an identity nobody encrypts to."""
    typed = identity_typed_data(account, generation)
    account = typed["message"]["account"]
    signature = bytes(signature)
    if len(signature) != 65:
        raise ConfidentialError(f"signature is {len(signature)} bytes, expected 65 (r, s, v)")
    try:
        signer = Account.recover_message(
            encode_typed_data(full_message=typed), signature=_canonical(signature)
        )
    except Exception as exc:  # eth-keys raises several types for garbage input
        raise ConfidentialError(f"the identity signature does not recover: {exc}") from exc
    if signer != account:
        raise ConfidentialError(f"the identity message for {account} was signed by {signer}")
    secret = hkdf_sha256(_signature_key_material(signature), HKDF_SALT, HKDF_INFO, 32)
    secret_key = age_secret_key(secret)
    recipient = str(pyrage.x25519.Identity.from_str(secret_key).to_public())
    return Identity(account, generation, recipient, secret_key)


def derive_identity(account: str, sign: Callable[[dict], bytes], generation: int = 0) -> Identity:
    """Ask the wallet (`sign`: typed data -> 65-byte signature, as eth_signTypedData_v4) for
    the identity signature twice, and refuse a wallet whose two answers differ: it signs with
    random nonces, so the identity would change from one session to the next."""
    typed = identity_typed_data(account, generation)
    first, second = bytes(sign(typed)), bytes(sign(typed))
    if len(first) == len(second) == 65 and (
        _signature_key_material(first) != _signature_key_material(second)
    ):
        raise NonDeterministicWallet(
            "this wallet gave two different signatures for the same message, so it cannot "
            "derive a stable encryption key; use a wallet that signs deterministically "
            "(RFC 6979: MetaMask, Ledger, Trezor and most others do)"
        )
    return identity_from_signature(account, first, generation)


def derive_identity_from_key(private_key: str | bytes, generation: int = 0) -> Identity:
    """The identity of a local key (a keystore the oracle CLI unlocked, a test account)."""
    local = Account.from_key(private_key)
    return derive_identity(
        local.address,
        lambda t: local.sign_message(encode_typed_data(full_message=t)).signature,
        generation,
    )


def _canonical(signature: bytes) -> bytes:
    """The same signature as r, low s, v in 27/28: wallets also write v as 0/1, and a few
    hand out (r, n - s) with the other v, which is as valid."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    v = v + 27 if v in (0, 1) else v
    if s > SECP256K1_N - s:
        s, v = SECP256K1_N - s, 55 - v  # 27 <-> 28
    return r + s.to_bytes(32, "big") + bytes([v])


def _signature_key_material(signature: bytes) -> bytes:
    """r ‖ s, canonical (low s): the same for every way a wallet writes the signature."""
    return _canonical(signature)[:64]


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF (RFC 5869) with SHA-256."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
    return out[:length]


def age_secret_key(secret: bytes) -> str:
    """32 secret bytes as an age X25519 identity: bech32 (BIP 173) with the HRP
    "age-secret-key-", upper case."""
    if len(secret) != 32:
        raise ConfidentialError("an X25519 secret is 32 bytes")
    data = _to_5bit(secret)
    values = [ord(c) >> 5 for c in SECRET_KEY_HRP] + [0] + [ord(c) & 31 for c in SECRET_KEY_HRP]
    polymod = _bech32_polymod(values + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return (SECRET_KEY_HRP + "1" + "".join(_BECH32[d] for d in data + checksum)).upper()


def _to_5bit(data: bytes) -> list[int]:
    acc, bits, out = 0, 0, []
    for byte in data:
        acc, bits = acc << 8 | byte, bits + 8
        while bits >= 5:
            bits -= 5
            out.append(acc >> bits & 31)
    if bits:
        out.append(acc << (5 - bits) & 31)
    return out


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= generator[i] if top >> i & 1 else 0
    return chk


def parse_recipient(text: str) -> pyrage.x25519.Recipient:
    """An age X25519 recipient ("age1…"), or a ConfidentialError saying what it is not."""
    try:
        return pyrage.x25519.Recipient.from_str(text)
    except Exception as exc:  # pyrage raises its own RecipientError, not exported by name
        # at most 12 characters: enough to recognise it, never a secret key's payload
        shown = repr(str(text)[:12]) + ("…" if len(str(text)) > 12 else "")
        raise ConfidentialError(f"{shown} is not an age X25519 recipient (age1…)") from exc
