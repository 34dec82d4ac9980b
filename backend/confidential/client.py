"""A client of the service's confidential evidence routes (docs/service.md): publish a key,
find a deal's readers (every binding verified here, not trusted to the service), encrypt and
upload a document with its manifest and readers in one request, fetch and decrypt one checked
against the chain. upload_file and record_copy are the two-step protocol's requests (the web
page's), used for a later reader's copy. The oracle CLI, the demo and the tests use it; `http`
is any httpx.Client on the service (FastAPI's TestClient included)."""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from backend import auth
from backend.confidential import envelope
from backend.confidential.binding import ContractCheck, sign_binding_with_key, verify_binding
from backend.confidential.errors import BindingError, ConfidentialError, ManifestError
from backend.confidential.identity import Identity
from backend.confidential.manifest import Manifest, parse_manifest
from backend.evidence.cid import raw_cid_of_sha256

TRAILER = "trailer"  # X-Content-Sha256 of a streamed body: its copy part is signed at its end


class ServiceError(ConfidentialError):
    """The service refused a request; the message is its status and reason."""


@dataclass(frozen=True)
class Reader:
    account: str
    roles: tuple[str, ...]
    recipient: str | None  # from a binding verified here; None: no (valid) binding


@dataclass(frozen=True)
class Signer:
    """Who signs the uploads: a local key, on a chain and escrow."""

    private_key: str | bytes
    chain_id: int
    escrow: str


def publish_key(http: httpx.Client, signer: Signer, identity: Identity, issued_at=None) -> dict:
    """Signs the binding of `identity`'s recipient with the key and hands it to POST /keys."""
    binding = sign_binding_with_key(
        signer.private_key,
        signer.chain_id,
        identity.recipient,
        identity.generation,
        int(time.time()) if issued_at is None else issued_at,
    )
    return _json(http.post("/keys", json=binding.to_json()), (200, 201))


def deal_readers(
    http: httpx.Client,
    deal_id: int,
    chain_id: int,
    contract_check: ContractCheck | None = None,
    escrow: str | None = None,
) -> list[Reader]:
    """The readers of the deal of `escrow` (the service's default escrow when None); each
    binding verified here (a wrong one counts as none)."""
    path = f"/deals/{deal_id}/readers"
    answer = _json(http.get(f"/escrows/{escrow}{path}" if escrow else path), (200,))
    readers = []
    for entry in answer["readers"]:
        recipient = None
        if entry["binding"] is not None:
            try:
                binding = verify_binding(entry["binding"], chain_id, contract_check)
                if binding.account == entry["account"]:
                    recipient = binding.recipient
            except BindingError:
                recipient = None
        readers.append(Reader(entry["account"], tuple(entry["roles"]), recipient))
    return readers


def upload_confidential(
    http: httpx.Client,
    signer: Signer,
    document: Path,
    readers: list[Reader],
    deal_id: int | None,
    milestone: int | None = None,
    lap: Callable[[str], None] = lambda step: None,
    streamed: bool = True,
) -> tuple[Manifest, dict]:
    """Encrypts `document` to the readers that have a recipient and sends the ciphertext,
    its manifest and the readers in one signed request (POST /evidence/confidential).
    `streamed` (the default): the ciphertext is sent as it is made, its manifest and readers
    after it, signed in the body's trailer; else the document is encrypted first (into a
    temporary file) and the request sends the copy part first, signed in its header. Returns
    the manifest (its `evidence_hash()` is what to attest) and the copy record. `lap(step)`
    marks the end of each step (the upload benchmark times them)."""
    keyed = [r for r in readers if r.recipient]
    if not keyed:
        raise ConfidentialError("none of the deal's readers has published a key")
    recipients = [r.recipient for r in keyed if r.recipient]
    pairs = (("deal", deal_id), ("milestone", milestone), ("escrow", signer.escrow))
    params = {k: v for k, v in pairs if v is not None}
    if streamed:
        manifest, answer = _upload_streamed(http, signer, document, keyed, recipients, params)
    else:
        manifest, answer = _upload_copy_first(http, signer, document, keyed, recipients, params)
        lap("encrypt")
    stored = _json(answer, (200, 201))
    lap("upload")
    if stored["ciphertext"]["cid"] != manifest.ciphertext_cid:
        raise ServiceError(
            f"the service stored the ciphertext as {stored['ciphertext']['cid']}, not "
            f"{manifest.ciphertext_cid}"
        )
    return manifest, stored["encrypted_copy"]


def _upload_streamed(http, signer: Signer, document, keyed, recipients, params):
    """The streamed body: the header signs `content-sha256: trailer` (opening the stream);
    after the ciphertext come the copy part and its signature, by the same key over the same
    nonce and expiry (docs/service.md)."""
    fields = {
        "action": "POST /evidence/confidential",
        "deal_id": params.get("deal"),
        "chain_id": signer.chain_id,
        "escrow": signer.escrow,
        "nonce": secrets.token_hex(16),
        "expires": int(time.time()) + 300,
    }
    header = auth.sign_request(signer.private_key, content_sha256=TRAILER, **fields)
    boundary = secrets.token_hex(16)
    encryption = envelope.Encryption(document, recipients)
    sealed: list[Manifest] = []

    def body() -> Iterator[bytes]:
        yield _part_head(boundary, "file", "ciphertext.age", "application/age-encryption")
        yield from encryption
        manifest = encryption.sealed.manifest()
        sealed.append(manifest)
        copy_part = _copy_part(manifest, keyed)
        sha256 = hashlib.sha256(copy_part.encode()).hexdigest()
        signature = auth.sign_message(signer.private_key, content_sha256=sha256, **fields)
        yield b"\r\n" + _part_head(boundary, "copy") + copy_part.encode()
        yield b"\r\n" + _part_head(boundary, "signature") + signature.encode()
        yield f"\r\n--{boundary}--\r\n".encode()

    try:
        answer = http.post(
            "/evidence/confidential",
            params=params,
            headers={
                auth.HEADER: header,
                "X-Content-Sha256": TRAILER,
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            content=body(),
        )
    finally:
        encryption.close()
    if not sealed:  # refused before the body's end
        raise ServiceError(f"POST /evidence/confidential: {answer.status_code} {_detail(answer)}")
    return sealed[0], answer


def _upload_copy_first(http, signer: Signer, document, keyed, recipients, params):
    with tempfile.TemporaryDirectory(prefix="upload-") as work:
        cipher_path = Path(work) / "ciphertext.age"
        manifest = envelope.encrypt_file(document, cipher_path, recipients).manifest()
        copy_part = _copy_part(manifest, keyed)
        sha256 = hashlib.sha256(copy_part.encode()).hexdigest()
        header = auth.sign_request(
            signer.private_key,
            action="POST /evidence/confidential",
            content_sha256=sha256,
            deal_id=params.get("deal"),
            chain_id=signer.chain_id,
            escrow=signer.escrow,
            nonce=secrets.token_hex(16),
            expires=int(time.time()) + 300,
        )
        with open(cipher_path, "rb") as cipher:
            answer = http.post(
                "/evidence/confidential",
                params=params,
                headers={auth.HEADER: header, "X-Content-Sha256": sha256},
                data={"copy": copy_part},
                files={"file": ("ciphertext.age", cipher, "application/age-encryption")},
            )
    return manifest, answer


def _copy_part(manifest: Manifest, keyed: list[Reader]) -> str:
    return json.dumps(
        {
            "manifest": manifest.to_bytes().decode(),
            "readers": [{"account": r.account, "recipient": r.recipient} for r in keyed],
        }
    )


def _part_head(boundary: str, name: str, filename: str | None = None, kind: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    return (head + (f"Content-Type: {kind}\r\n" if kind else "") + "\r\n").encode()


def upload_file(http, signer: Signer, content, sha256: str, deal_id, milestone=None) -> dict:
    headers = auth.upload_headers(
        signer.private_key, sha256, deal_id, signer.chain_id, signer.escrow
    )
    # The escrow signed for, named: the service checks the signature against that escrow.
    named = (("deal", deal_id), ("milestone", milestone), ("escrow", signer.escrow))
    params = {k: v for k, v in named if v is not None}
    answer = http.post(
        "/evidence",
        params=params,
        headers=headers,
        files={"file": ("document", content, "application/octet-stream")},
    )
    return _json(answer, (200, 201))


def record_copy(
    http: httpx.Client,
    signer: Signer,
    manifest_cid: str,
    ciphertext_cid: str,
    readers: list[Reader],
    deal_id: int | None,
) -> dict:
    body = json.dumps(
        {
            "ciphertext": ciphertext_cid,
            "readers": [{"account": r.account, "recipient": r.recipient} for r in readers],
        }
    ).encode()
    sha256 = hashlib.sha256(body).hexdigest()
    header = auth.sign_request(
        signer.private_key,
        action=f"POST /evidence/{manifest_cid}/copies",
        content_sha256=sha256,
        deal_id=deal_id,
        chain_id=signer.chain_id,
        escrow=signer.escrow,
        nonce=secrets.token_hex(16),
        expires=int(time.time()) + 300,
    )
    headers = {auth.HEADER: header, "X-Content-Sha256": sha256, "Content-Type": "application/json"}
    return _json(
        http.post(f"/evidence/{manifest_cid}/copies", content=body, headers=headers), (200, 201)
    )


def fetch_confidential(
    http: httpx.Client, evidence_hash: bytes, identity: Identity, out_path: Path
) -> tuple[Manifest, envelope.Opened]:
    """From the chain's `evidenceHash`: the manifest (checked against it), the copy encrypted
    to `identity`'s account, its ciphertext (checked against the copy's record), decrypted
    into `out_path` only if the plaintext is the attested one."""
    manifest_cid = raw_cid_of_sha256(evidence_hash)
    manifest = parse_manifest(_bytes(http, manifest_cid), evidence_hash)
    answer = http.get(f"/evidence/{manifest_cid}/copies", params={"reader": identity.account})
    copies = _json(answer, (200,))
    if not copies:
        raise ConfidentialError(
            f"no copy of this document is encrypted to {identity.account}: ask a reader to make one"
        )
    copy = copies[-1]  # the newest: made for the keys live then
    with tempfile.TemporaryFile() as cipher:
        sha256, size = _download(http, copy["ciphertext"]["cid"], cipher)
        if copy["anchored"]:  # the very ciphertext the chain's manifest names
            manifest.check_ciphertext(sha256, size)
        cipher.seek(0)
        opened = envelope.decrypt_to_file(cipher, out_path, [identity], expected=manifest)
    return manifest, opened


def give_access(
    http: httpx.Client,
    signer: Signer,
    evidence_hash: bytes,
    identity: Identity,
    readers: list[Reader],
    deal_id: int | None,
) -> tuple[dict | None, list[Reader]]:
    """A new copy of the document the chain's `evidenceHash` names for `readers` (the deal's
    readers now, their keys verified: deal_readers), made by `identity`, a reader of an
    existing copy: decrypted, checked against the manifest, encrypted to every reader with a
    key, the ciphertext uploaded and the copy recorded (docs/confidential.md, "Later readers").
    Made only when some reader's key has no copy yet: (the copy, those readers), else
    (None, [])."""
    manifest_cid = raw_cid_of_sha256(evidence_hash)
    manifest = parse_manifest(_bytes(http, manifest_cid), evidence_hash)
    copies = _json(http.get(f"/evidence/{manifest_cid}/copies"), (200,))
    covered = {(r["account"], r["recipient"]) for c in copies for r in c["readers"]}
    keyed = [r for r in readers if r.recipient]
    new = [r for r in keyed if (r.account, r.recipient) not in covered]
    mine = [c for c in copies if identity.account in {r["account"] for r in c["readers"]}]
    if not new:
        return None, []
    if not mine:
        raise ConfidentialError(
            f"no copy of this document is encrypted to {identity.account}: it cannot give access"
        )
    with tempfile.TemporaryFile() as cipher, tempfile.TemporaryFile() as again:
        _download(http, mine[-1]["ciphertext"]["cid"], cipher)
        cipher.seek(0)
        sealed = envelope.reencrypt(
            cipher, again, [identity], [str(r.recipient) for r in keyed], manifest
        )
        again.seek(0)
        stored = upload_file(http, signer, again, sealed.ciphertext_sha256.hex(), deal_id)
    return record_copy(http, signer, manifest_cid, stored["cid"], keyed, deal_id), new


def _download(http: httpx.Client, cid: str, dst) -> tuple[bytes, int]:
    """Streams the object into `dst`; its sha256 and size, checked against the service's."""
    digest, size = hashlib.sha256(), 0
    with http.stream("GET", f"/evidence/{cid}") as answer:
        if answer.status_code != 200:
            answer.read()
            raise ServiceError(f"GET /evidence/{cid}: {answer.status_code} {_detail(answer)}")
        for chunk in answer.iter_bytes():
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        if digest.hexdigest() != answer.headers.get("x-content-sha256"):
            raise ManifestError(f"{cid}: the bytes served do not match their sha256")
    return digest.digest(), size


def _bytes(http: httpx.Client, cid: str) -> bytes:
    answer = http.get(f"/evidence/{cid}")
    if answer.status_code != 200:
        raise ServiceError(f"GET /evidence/{cid}: {answer.status_code} {_detail(answer)}")
    data = answer.content
    if hashlib.sha256(data).hexdigest() != answer.headers.get("x-content-sha256"):
        raise ManifestError(f"{cid}: the bytes served do not match their sha256")
    return data


def _json(answer: httpx.Response, ok: tuple[int, ...]):
    if answer.status_code not in ok:
        request = answer.request
        raise ServiceError(
            f"{request.method} {request.url.path}: {answer.status_code} {_detail(answer)}"
        )
    return answer.json()


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail"))
    except ValueError:
        return answer.text[:200]
