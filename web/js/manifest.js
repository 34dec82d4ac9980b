// The manifest the chain anchors for a confidential document (its sha256 is the attestation's
// evidenceHash), and the byte helpers web/js/confidential.js shares. docs/confidential.md is
// the reference; backend/confidential/manifest.py writes the same bytes.
import { base32nopad, sha256 } from "../vendor/age.js";

export class ConfidentialError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConfidentialError";
  }
}

// ---- the manifest the chain anchors (its sha256 is the attestation's evidenceHash) ----

export const MANIFEST_FORMAT = "milestone-escrow/confidential-evidence@1";
const ENCRYPTION = "age-encryption.org/v1";
const CHUNK_SIZE = 262144; // the service's IPFS chunk: below it a CID is the raw CID of the sha256

/** The canonical manifest bytes for a sealed copy stored under `ciphertextCid`. */
export function manifestBytes(sealed, ciphertextCid) {
  // Keys in sorted order, no spaces: the bytes Python's json.dumps(sort_keys=True) writes.
  const json =
    `{"ciphertext":{"cid":${JSON.stringify(ciphertextCid)},"sha256":"${sealed.ciphertextSha256}",` +
    `"size":${sealed.ciphertextSize}},"encryption":"${ENCRYPTION}","format":"${MANIFEST_FORMAT}",` +
    `"plaintext":{"sha256":"${sealed.plaintextSha256}","size":${sealed.plaintextSize}}}`;
  return utf8(json);
}

/** The anchored manifest from its bytes, checked (canonical, and `evidenceHash` when given). */
export function parseManifest(data, evidenceHash = null) {
  const raw = bytes(data);
  if (evidenceHash !== null && "0x" + hex(sha256(raw)) !== evidenceHash.toLowerCase()) {
    throw new ConfidentialError(`the manifest's sha256 is 0x${hex(sha256(raw))}, the chain has ${evidenceHash}`);
  }
  let doc;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw new ConfidentialError("not a confidential evidence manifest: not JSON");
  }
  if (doc?.format !== MANIFEST_FORMAT || doc.encryption !== ENCRYPTION) {
    throw new ConfidentialError(`not a confidential evidence manifest (${MANIFEST_FORMAT})`);
  }
  const manifest = {
    plaintextSha256: doc.plaintext?.sha256,
    plaintextSize: doc.plaintext?.size,
    ciphertextSha256: doc.ciphertext?.sha256,
    ciphertextSize: doc.ciphertext?.size,
    ciphertextCid: doc.ciphertext?.cid,
  };
  if (typeof manifest.ciphertextCid !== "string" || hex(manifestBytes(manifest, manifest.ciphertextCid)) !== hex(raw)) {
    throw new ConfidentialError("the manifest is not in canonical form");
  }
  for (const name of ["plaintextSha256", "ciphertextSha256"]) {
    if (!/^[0-9a-f]{64}$/.test(manifest[name])) throw new ConfidentialError(`${name} must be 64 lower-case hex digits`);
  }
  for (const name of ["plaintextSize", "ciphertextSize"]) {
    if (!Number.isSafeInteger(manifest[name]) || manifest[name] < 0) throw new ConfidentialError(`${name} must be a size in bytes`);
  }
  if (manifest.ciphertextSize <= CHUNK_SIZE && manifest.ciphertextCid !== rawCid(manifest.ciphertextSha256)) {
    throw new ConfidentialError("ciphertext.cid does not name a ciphertext with ciphertext.sha256");
  }
  return manifest;
}

/** The CIDv1 (raw, one block) of a document under 256 KiB: found from its sha256 alone. */
export function rawCid(sha256Hex) {
  return "b" + base32nopad.encode(bytes("0x01551220" + sha256Hex)).toLowerCase();
}

/** Anyone: the stored ciphertext is the one the manifest (so the chain) names. */
export function checkCiphertext(manifest, sha256Hex, size) {
  if (sha256Hex !== manifest.ciphertextSha256 || size !== manifest.ciphertextSize) {
    throw new ConfidentialError(`the ciphertext (${size} bytes, sha256 ${sha256Hex}) is not the attested one`);
  }
}

export function checkPlaintext(manifest, sha256Hex, size) {
  if (sha256Hex !== manifest.plaintextSha256 || size !== manifest.plaintextSize) {
    throw new ConfidentialError(`the decrypted document (${size} bytes, sha256 ${sha256Hex}) is not the attested one`);
  }
}

// ---- bytes ----

export function utf8(text) {
  return new TextEncoder().encode(text);
}

export function bytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string" && /^0x([0-9a-fA-F]{2})*$/.test(value)) {
    return Uint8Array.from(value.slice(2).match(/../g) ?? [], (b) => parseInt(b, 16));
  }
  throw new ConfidentialError("expected bytes or 0x hex");
}

export function hex(data) {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}
