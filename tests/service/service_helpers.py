"""Client-side helpers for the service tests: signed upload requests."""

from __future__ import annotations

import secrets
import time

import brownie

from backend import auth


def signed_headers(
    account,
    escrow,
    content: bytes | None,
    deal: int | None,
    expires_in: int = 300,
    nonce: str | None = None,
    sha256: str | None = None,
):
    import hashlib

    digest = sha256 or (hashlib.sha256(content).hexdigest() if content is not None else None)
    header = auth.sign_request(
        account.private_key,
        action="POST /evidence",
        content_sha256=digest,
        deal_id=deal,
        chain_id=brownie.chain.id,
        escrow=escrow.address,
        nonce=nonce or secrets.token_hex(16),
        expires=int(time.time()) + expires_in,
    )
    return {auth.HEADER: header, "X-Content-Sha256": digest or ""}


def upload(client, account, escrow, content: bytes, deal: int | None = None, **kw):
    params = {"deal": deal} if deal is not None else {}
    headers = kw.pop("headers", None) or signed_headers(account, escrow, content, deal, **kw)
    return client.post(
        "/evidence",
        params=params,
        headers=headers,
        files={"file": ("doc", content, "application/octet-stream")},
    )
