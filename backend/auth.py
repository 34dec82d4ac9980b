"""Signed requests: every write to the service carries an EIP-191 signature.

Header (one line):
    X-Escrow-Auth: address=0x…; nonce=<16-80 chars [A-Za-z0-9_-]>; expires=<unix>; signature=0x…
The signature is `personal_sign` (EIP-191 version 0x45) over the text built by `auth_message`:

    Milestone escrow service request
    action: POST /evidence
    content-sha256: <hex sha256 of the uploaded document, "-", or "trailer" (a streamed body
                    signed again at its end: sealed_uploads.py)>
    deal: <deal id, or "-">
    chain: <chain id>
    escrow: <escrow address>
    nonce: <nonce>
    expires: <unix seconds>

It binds the signer to one action on one document, one deal, one chain and one escrow; the
nonce is accepted once per signer; the request is refused after `expires`, and `expires` may
be at most `auth_max_validity_seconds` ahead. docs/service.md documents it for other clients.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

from eth_account import Account
from eth_account._utils.signing import to_standard_signature_bytes
from eth_account.messages import encode_defunct
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

HEADER = "X-Escrow-Auth"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,80}$")


REPLAYED = "nonce already used: signed requests cannot be replayed"


class AuthError(Exception):
    """Maps to HTTP 401 with this message."""


@dataclass(frozen=True)
class SignedRequest:
    address: str
    nonce: str
    expires: int
    signature: bytes


@lru_cache(maxsize=1024)
def checksummed(address: str) -> str:
    """to_checksum_address (a keccak), remembered: requests name the same escrows and, mostly,
    the same signers and readers again and again. Raises as it does for what is no address."""
    return to_checksum_address(address)


def auth_message(
    action: str,
    content_sha256: str | None,
    deal_id: int | None,
    chain_id: int,
    escrow: str,
    nonce: str,
    expires: int,
) -> str:
    return (
        "Milestone escrow service request\n"
        f"action: {action}\n"
        f"content-sha256: {content_sha256 or '-'}\n"
        f"deal: {'-' if deal_id is None else deal_id}\n"
        f"chain: {chain_id}\n"
        f"escrow: {checksummed(escrow)}\n"
        f"nonce: {nonce}\n"
        f"expires: {expires}"
    )


def sign_request(private_key, **fields) -> str:
    """Client side: the header value for a request (used by the scripts and the tests)."""
    address = Account.from_key(private_key).address
    return (
        f"address={address}; nonce={fields['nonce']}; expires={fields['expires']}; "
        f"signature={sign_message(private_key, **fields)}"
    )


def sign_message(private_key, **fields) -> str:
    """Client side: the signature (0x-hex) of the message `auth_message(**fields)`."""
    signed = Account.sign_message(encode_defunct(text=auth_message(**fields)), private_key)
    return f"0x{bytes(signed.signature).hex()}"


def upload_headers(
    private_key,
    content_sha256: str,
    deal_id: int | None,
    chain_id: int,
    escrow: str,
    expires_in: int = 300,
    nonce: str | None = None,
) -> dict[str, str]:
    """Client side: both headers of a signed `POST /evidence` for a document of this sha256."""
    header = sign_request(
        private_key,
        action="POST /evidence",
        content_sha256=content_sha256,
        deal_id=deal_id,
        chain_id=chain_id,
        escrow=escrow,
        nonce=nonce or secrets.token_hex(16),
        expires=int(time.time()) + expires_in,
    )
    return {HEADER: header, "X-Content-Sha256": content_sha256}


def parse_header(value: str | None) -> SignedRequest:
    if not value:
        raise AuthError(f"missing {HEADER} header: writes must be signed (see docs/service.md)")
    try:
        parts = dict(p.strip().split("=", 1) for p in value.split(";") if p.strip())
        request = SignedRequest(
            address=checksummed(parts["address"]),
            nonce=parts["nonce"],
            expires=int(parts["expires"]),
            signature=bytes.fromhex(parts["signature"].removeprefix("0x")),
        )
    except (KeyError, ValueError) as exc:
        raise AuthError(f"malformed {HEADER} header: {exc}") from exc
    if not NONCE_RE.match(request.nonce):
        raise AuthError("nonce must be 16-80 characters of [A-Za-z0-9_-]")
    return request


@dataclass(frozen=True)
class Signed:
    """A verified request: who signed it, the nonce it spends, and the escrow it names (set
    once checked against that escrow)."""

    address: str
    nonce: str
    expires: int
    escrow: str | None = None


def verify(
    request: SignedRequest, message: str, max_validity: int, now: int | None = None
) -> Signed:
    """Checks signature and expiry; no database, no chain. The nonce is checked with
    `nonces.check_unused` and spent with `nonces.spend()` in the transaction that records what
    the request did, so a request that fails (the store is down) may be sent again, and no
    write lock (no database connection) is held meanwhile."""
    now = int(time.time()) if now is None else now
    if request.expires < now:
        raise AuthError("signed request has expired")
    if request.expires > now + max_validity:
        raise AuthError(f"signed request may be valid for at most {max_validity} s")
    try:
        signer = recover(message, request.signature)
    except Exception as exc:  # eth-keys raises several types for garbage
        raise AuthError("bad signature") from exc
    if signer != bytes.fromhex(request.address.removeprefix("0x")):
        raise AuthError("bad signature: it is not by the address it names")
    return Signed(request.address, request.nonce, request.expires)


def verify_countersignature(signed: Signed, message: str, signature: str) -> None:
    """A second signature in the same request (a streamed body's trailer, docs/service.md):
    AuthError unless `signature` (0x-hex) signs `message` by the key that signed the header.
    The caller builds `message` with the header's nonce and expiry, so both signatures are
    spent together."""
    try:
        signer = recover(message, bytes.fromhex(signature.strip().removeprefix("0x")))
    except Exception as exc:  # eth-keys raises several types for garbage
        raise AuthError("bad signature in the request's trailer") from exc
    if signer != bytes.fromhex(signed.address.removeprefix("0x")):
        raise AuthError("the trailer's signature is not by the key that signed the request")


def recover(message: str, signature: bytes) -> bytes:
    """The 20 bytes of the address whose `personal_sign` of `message` `signature` is, as
    `Account.recover_message` reads it (the same `v` values, the same errors for garbage), but
    not checksummed: a checksum is a keccak more, and `verify` compares the bytes."""
    data = message.encode()
    digest = keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)
    standard = keys.Signature(signature_bytes=to_standard_signature_bytes(bytes(signature)))
    return standard.recover_public_key_from_msg_hash(digest).to_canonical_address()
