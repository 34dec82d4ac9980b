"""schemathesis hooks for the service (loaded by the `st` CLI in .venv-fuzz, which has none of
the project's packages): schema-valid uploads and attestations are signed for real, by a
signer the test runs in its own process (FUZZ_SIGNER_URL), over the very bytes and fields
that are sent. Cases generated to violate the schema are sent as generated."""

from __future__ import annotations

import json
import os
import urllib.request

import schemathesis

SIGNER = os.environ["FUZZ_SIGNER_URL"]
DOMAIN = json.loads(os.environ["FUZZ_DOMAIN"])
SIGNED = {"x-escrow-auth", "x-content-sha256"}  # replaced, whatever case they were drawn in


def _sign(what: str, payload: dict) -> dict:
    request = urllib.request.Request(
        f"{SIGNER}/{what}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _as_bytes(value) -> bytes | None:
    if isinstance(value, bytes):
        return value
    data = getattr(value, "data", None)  # schemathesis' Binary wrapper
    return data if isinstance(data, bytes) else None


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    route = (case.operation.method.upper(), case.operation.path)
    if route == ("POST", "/evidence") and isinstance(case.body, dict):
        # The bytes are left as generated (schemathesis cannot re-check a changed binary part
        # against the schema, and would count the case as invalid): its own PNG and PDF
        # examples are documents the service takes, most random bytes are refused (415).
        document = _as_bytes(case.body.get("file"))
        if document is None:
            return
        deal = (case.query or {}).get("deal")
        signed = _sign("upload", {"document": document.hex(), "deal": deal})
        if signed:
            kept = {k: v for k, v in (case.headers or {}).items() if k.lower() not in SIGNED}
            case.headers = {**kept, **signed}
    elif route == ("POST", "/attestations") and isinstance(case.body, dict):
        fields = case.body.get("attestation")
        if not isinstance(fields, dict):
            return
        signed = _sign("attestation", fields)
        if signed:
            case.body.update(domain=DOMAIN, **signed)
