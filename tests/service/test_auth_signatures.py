"""auth.verify reads a signature as eth-account's Account.recover_message does: the same `v`
values accepted (0/1, 27/28, EIP-155's 35 and up), the same garbage refused, the same signer;
it only skips the checksum of the recovered address, comparing its bytes instead."""

import secrets
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from backend import auth

KEY = Account.create()
MESSAGE = auth.auth_message(
    action="POST /evidence",
    content_sha256="ab" * 32,
    deal_id=7,
    chain_id=1337,
    escrow="0x" + "12" * 20,
    nonce="n" * 16,
    expires=1_900_000_000,
)
SIGNED = bytes(Account.sign_message(encode_defunct(text=MESSAGE), KEY.key).signature)


def by_eth_account(signature: bytes) -> str | None:
    try:
        return Account.recover_message(encode_defunct(text=MESSAGE), signature=signature)
    except Exception:
        return None


def by_auth(signature: bytes) -> str | None:
    try:
        return "0x" + auth.recover(MESSAGE, signature).hex()
    except Exception:
        return None


def variants() -> list[bytes]:
    rs, v = SIGNED[:64], SIGNED[64]
    found = [SIGNED, b"", SIGNED[:64], SIGNED + b"\x00", b"\x00" * 65, b"\xff" * 65]
    found += [rs + bytes([w]) for w in range(256)]  # every v, the valid ones and the rest
    found += [rs[:32] + (0).to_bytes(32, "big") + bytes([v])]  # s = 0
    found += [secrets.token_bytes(65) for _ in range(200)]
    return found


def test_every_signature_recovers_as_eth_account_recovers_it():
    agreed = 0
    for signature in variants():
        expected = by_eth_account(signature)
        got = by_auth(signature)
        assert (got is None) == (expected is None), signature.hex()
        if expected is not None:
            assert got == expected.lower(), signature.hex()
            agreed += 1
    assert agreed >= 4  # v = 0, 1, 27, 28 and 35+ recover a signer: they were compared


def test_verify_names_the_signer_and_refuses_another_address():
    expires = int(time.time()) + 60
    request = auth.SignedRequest(KEY.address, "n" * 16, expires, SIGNED)
    assert auth.verify(request, MESSAGE, 300).address == KEY.address
    other = auth.SignedRequest(Account.create().address, "n" * 16, expires, SIGNED)
    with pytest.raises(auth.AuthError, match="not by the address it names"):
        auth.verify(other, MESSAGE, 300)
    with pytest.raises(auth.AuthError, match="^bad signature$"):
        auth.verify(auth.SignedRequest(KEY.address, "n" * 16, expires, b"\x01" * 10), MESSAGE, 300)
