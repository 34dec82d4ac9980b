"""What the on-chain evidence hash of a confidential document commits to: a manifest.

A confidential document is stored as two objects: its age ciphertext, and this manifest, a
small canonical JSON naming the plaintext's sha256 and size and the ciphertext's sha256, size
and CID. The attestation's `evidenceHash` is the manifest's sha256. Then:
- anyone, from the chain alone, fetches the manifest (under 256 KiB, its CID is the raw CID of
  `evidenceHash`), then the ciphertext it names, and checks both hashes: the stored
  ciphertext is the one attested, without reading it;
- a reader decrypts and checks the plaintext's sha256 against the manifest;
- a later reader gets a new copy, the same plaintext encrypted to a new set of recipients: its
  plaintext hash is the manifest's, so readers check it the same way, and the anchor stays.
A plain (public) document keeps the rule it always had: `evidenceHash` = its own sha256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from backend.confidential.errors import ManifestError
from backend.evidence.cid import CHUNK_SIZE, digest_of_cid, parse_cid, raw_cid_of_sha256

FORMAT = "milestone-escrow/confidential-evidence@1"
ENCRYPTION = "age-encryption.org/v1"
MAX_MANIFEST_BYTES = 4096  # a manifest is ~330 bytes; anything near a chunk is not one
MAX_SAFE_INTEGER = (1 << 53) - 1  # sizes stay exact in JavaScript


@dataclass(frozen=True)
class Manifest:
    plaintext_sha256: bytes
    plaintext_size: int
    ciphertext_sha256: bytes
    ciphertext_size: int
    ciphertext_cid: str

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "encryption": ENCRYPTION,
            "plaintext": {"sha256": self.plaintext_sha256.hex(), "size": self.plaintext_size},
            "ciphertext": {
                "sha256": self.ciphertext_sha256.hex(),
                "size": self.ciphertext_size,
                "cid": self.ciphertext_cid,
            },
        }

    def to_bytes(self) -> bytes:
        """The canonical bytes: keys sorted, no spaces, ASCII, no trailing newline. Two clients
        describing the same upload write the same bytes, so the same evidence hash."""
        return canonical_json(self.to_json())

    def evidence_hash(self) -> bytes:
        """What goes on chain as the attestation's `evidenceHash`."""
        return hashlib.sha256(self.to_bytes()).digest()

    def cid(self) -> str:
        """Where the manifest is found from the chain alone (CIDv1 raw, one block)."""
        return raw_cid_of_sha256(self.evidence_hash())

    def check_ciphertext(self, sha256: bytes, size: int) -> None:
        """Anyone: the stored ciphertext is the one the manifest (so the chain) names."""
        if (sha256, size) != (self.ciphertext_sha256, self.ciphertext_size):
            raise ManifestError(
                f"the ciphertext ({size} bytes, sha256 {sha256.hex()}) is not the attested "
                f"one ({self.ciphertext_size} bytes, sha256 {self.ciphertext_sha256.hex()})"
            )

    def check_plaintext(self, sha256: bytes, size: int) -> None:
        """A reader, after decrypting: the document is the one attested."""
        if (sha256, size) != (self.plaintext_sha256, self.plaintext_size):
            raise ManifestError(
                f"the decrypted document ({size} bytes, sha256 {sha256.hex()}) is not the "
                f"attested one ({self.plaintext_size} bytes, sha256 "
                f"{self.plaintext_sha256.hex()})"
            )


def canonical_json(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def parse_manifest(data: bytes, evidence_hash: bytes | None = None) -> Manifest:
    """The manifest in `data`, checked: canonical bytes (so no duplicate key or other spelling
    of the same content), known format, every field in its type; given the on-chain
    `evidence_hash`, that it is these bytes' sha256. Raises ManifestError."""
    if evidence_hash is not None and hashlib.sha256(data).digest() != evidence_hash:
        raise ManifestError(
            f"the manifest's sha256 is {hashlib.sha256(data).hexdigest()}, the chain has "
            f"{evidence_hash.hex()}"
        )
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{len(data)} bytes: too long for a manifest")
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ManifestError(f"not a confidential evidence manifest ({FORMAT})")
        if doc["encryption"] != ENCRYPTION:
            raise ManifestError(f"encryption is {doc['encryption']!r}, expected {ENCRYPTION!r}")
        plain, cipher = doc["plaintext"], doc["ciphertext"]
        manifest = Manifest(
            _sha256(plain["sha256"], "plaintext.sha256"),
            _size(plain["size"], "plaintext.size"),
            _sha256(cipher["sha256"], "ciphertext.sha256"),
            _size(cipher["size"], "ciphertext.size"),
            _cid(cipher["cid"]),
        )
    except ManifestError:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # JSON syntax, missing or odd fields
        raise ManifestError(f"not a confidential evidence manifest ({FORMAT}): {exc!r}") from exc
    if manifest.to_bytes() != data:
        raise ManifestError("the manifest is not in canonical form (sorted keys, no spaces)")
    if manifest.ciphertext_size <= CHUNK_SIZE and (
        digest_of_cid(manifest.ciphertext_cid) != manifest.ciphertext_sha256
    ):
        raise ManifestError("ciphertext.cid does not name a ciphertext with ciphertext.sha256")
    return manifest


def _sha256(value, name: str) -> bytes:
    if not (isinstance(value, str) and len(value) == 64 and value == value.lower()):
        raise ManifestError(f"{name} must be 64 lower-case hex digits")
    return bytes.fromhex(value)


def _size(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SAFE_INTEGER:
        raise ManifestError(f"{name} must be an integer from 0 to 2^53 - 1")
    return value


def _cid(value) -> str:
    if not isinstance(value, str):
        raise ManifestError("ciphertext.cid must be a CID")
    try:
        parsed = parse_cid(value)
    except ValueError as exc:
        raise ManifestError(f"ciphertext.cid: {exc}") from exc
    if str(parsed) != value or parsed.version != 1:
        raise ManifestError("ciphertext.cid must be a CIDv1 in base32, as the service gives")
    return value
