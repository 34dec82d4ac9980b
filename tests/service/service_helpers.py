"""Client-side helpers for the service tests: signed upload requests; the databases a test
runs on."""

from __future__ import annotations

import hashlib

import brownie
import pytest

from backend import auth

# A module's `pytestmark` (or a test's mark): each test on SQLite and on PostgreSQL
# (the `database_url` fixture of conftest.py).
BOTH_DATABASES = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def signed_headers(
    account,
    escrow,
    content: bytes | None,
    deal: int | None,
    expires_in: int = 300,
    nonce: str | None = None,
    sha256: str | None = None,
):
    digest = sha256 or (hashlib.sha256(content).hexdigest() if content is not None else None)
    return auth.upload_headers(
        account.private_key,
        digest,
        deal,
        brownie.chain.id,
        escrow.address,
        expires_in=expires_in,
        nonce=nonce,
    )


def upload(client, account, escrow, content: bytes, deal: int | None = None, **kw):
    params = {"deal": deal} if deal is not None else {}
    headers = kw.pop("headers", None) or signed_headers(account, escrow, content, deal, **kw)
    return client.post(
        "/evidence",
        params=params,
        headers=headers,
        files={"file": ("doc", content, "application/octet-stream")},
    )


def typed_json(value):
    """A typed-data message as a page passes it: bytes as 0x hex, uints as JSON numbers, from
    2^53 up (beyond what JSON parsers read exactly) as decimal strings."""
    if isinstance(value, dict):
        return {k: typed_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed_json(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1 << 53:
        return str(value)
    return value
