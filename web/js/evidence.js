// Evidence documents to the service. Every write is signed by the wallet (EIP-191
// personal_sign over the request's text, backend/auth.py's format); the service checks the
// signer's role on chain and the bytes against the signed sha256. A confidential document
// (docs/confidential.md) is encrypted here, streamed, to the deal's readers, and stored as
// three writes: the age ciphertext, the manifest the chain will anchor, and the copy record
// naming whom the ciphertext was encrypted to. A later reader's copy is the same without the
// manifest: the anchor does not change. The service never sees the plaintext.
//
// Memory stays flat whatever the size: the file is read as a stream, the ciphertext gathered
// as Blob parts (which the browser keeps out of the page's heap, on disk when large), and
// uploaded from that Blob by XMLHttpRequest, with progress (`bar`: progress.js).
import { sha256 } from "../vendor/age.js";
import { ethers } from "./chain.js";
import { encryptDocument, manifestBytes } from "./confidential.js";
import { UserError, explain } from "./errors.js";
import { me, state } from "./state.js";
import { hashStream, hexOf, post } from "./transfer.js";
import { signText } from "./wallet.js";

// How long a signed request stays valid: the service takes at most 10 minutes.
const VALIDITY_SECONDS = 300;
// What age adds to a document: 16 bytes per 64 KiB chunk, and a header of about 200 bytes a
// recipient (the service's size limit applies to the ciphertext).
const AGE_CHUNK = 65536;
const AGE_TAG = 16;
const AGE_HEADER_PER_RECIPIENT = 256;
const QUIET = { step() {}, update() {} };

/** The X-Escrow-Auth header for `action` on content with `sha256`, for `dealId`. */
async function authHeader(action, sha256Hex_, dealId) {
  const nonce = ethers.hexlify(ethers.randomBytes(16)).slice(2);
  // The service's clock decides expiry (wall time), not the chain's.
  const expires = Math.floor(Date.now() / 1000) + VALIDITY_SECONDS;
  const text = [
    "Milestone escrow service request",
    `action: ${action}`,
    `content-sha256: ${sha256Hex_}`,
    `deal: ${dealId ?? "-"}`,
    `chain: ${state.config.chain_id}`,
    `escrow: ${ethers.getAddress(state.escrowAddress)}`,
    `nonce: ${nonce}`,
    `expires: ${expires}`,
  ].join("\n");
  const signature = await signText(text);
  return `address=${me()}; nonce=${nonce}; expires=${expires}; signature=${signature}`;
}

async function signedPost(path, action, sha256Hex_, dealId, body, { contentType = null, onProgress = null } = {}) {
  const headers = { "X-Escrow-Auth": await authHeader(action, sha256Hex_, dealId), "X-Content-Sha256": sha256Hex_ };
  if (contentType) headers["content-type"] = contentType;
  const { status, record } = await post(path, headers, body, onProgress);
  if (status < 200 || status > 299) {
    const detail = typeof record?.detail === "string" ? record.detail : JSON.stringify(record?.detail ?? null);
    throw new UserError(`The service refused the upload (${status}): ${detail}. Nothing was stored.`);
  }
  return record;
}

/** Stores `blob` (hex `sha256`) for deal `dealId` (and milestone `milestone`, unless null):
 * the service's record. `bar` follows the upload. */
export async function uploadEvidence(blob, name, sha256Hex_, dealId, milestone, bar = QUIET) {
  const body = new FormData();
  body.append("file", blob, name);
  const params = new URLSearchParams({ deal: String(dealId), escrow: state.escrowAddress });
  if (milestone !== null) params.set("milestone", String(milestone));
  bar.step("Uploading", blob.size);
  return signedPost(`/evidence?${params}`, "POST /evidence", sha256Hex_, dealId, body, {
    // the multipart body is a few hundred bytes more than the document: count the document
    onProgress: (sent, total) => bar.update(Math.max(0, sent - (total - blob.size))),
  });
}

/** A public document: stored as it is; the chain anchors its own sha256. */
export async function uploadPlain(file, dealId, milestone, bar = QUIET) {
  refuseOversize(file.size, file.size);
  bar.step("Hashing", file.size);
  const { sha256: digest } = await hashStream(file.stream(), { onProgress: bar.update });
  const record = await uploadEvidence(file, file.name, digest, dealId, milestone, bar);
  return { evidenceHash: "0x" + digest, cid: record.cid, confidential: false };
}

/**
 * A confidential document: encrypted here to `readers` ({account, recipient}), then the
 * ciphertext, the manifest and the copy record. The chain anchors the manifest's sha256.
 */
export async function uploadConfidential(file, dealId, milestone, readers, bar = QUIET) {
  const { ciphertext, sealed } = await seal(file, readers, bar);
  const stored = await uploadEvidence(ciphertext, `${file.name}.age`, sealed.ciphertextSha256, dealId, milestone, bar);
  const manifest = manifestBytes(sealed, stored.cid);
  const manifestSha = hexOf(sha256(manifest));
  const anchored = await uploadEvidence(new Blob([manifest]), "manifest.json", manifestSha, dealId, milestone);
  await recordCopy(anchored.cid, stored.cid, readers, dealId);
  return { evidenceHash: "0x" + manifestSha, cid: anchored.cid, confidential: true };
}

/**
 * A later reader's copy (docs/confidential.md): `plaintext` (a Blob this reader decrypted and
 * checked against the anchored `manifest`) encrypted again to `readers`, stored, and recorded
 * as a copy of the document whose manifest is `manifestCid`. The service's copy record.
 */
export async function storeCopy(manifestCid, manifest, plaintext, dealId, readers, bar = QUIET) {
  const { ciphertext, sealed } = await seal(plaintext, readers, bar);
  if (sealed.plaintextSha256 !== manifest.plaintextSha256 || sealed.plaintextSize !== manifest.plaintextSize) {
    throw new UserError("The document changed while it was encrypted again: no copy was made.");
  }
  const stored = await uploadEvidence(ciphertext, "copy.age", sealed.ciphertextSha256, dealId, null, bar);
  return recordCopy(manifestCid, stored.cid, readers, dealId);
}

// Encrypts `source` (a Blob/File) to the readers' recipients: { ciphertext: Blob, sealed }.
async function seal(source, readers, bar) {
  const recipients = readers.map((r) => r.recipient);
  refuseOversize(source.size, source.size + AGE_TAG * Math.max(1, Math.ceil(source.size / AGE_CHUNK)) + AGE_HEADER_PER_RECIPIENT * recipients.length);
  bar.step("Encrypting", source.size);
  try {
    const encrypted = await encryptDocument(source, recipients, { onProgress: bar.update });
    const parts = [];
    const reader = encrypted.ciphertext.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(new Blob([next.value]));
    return { ciphertext: new Blob(parts, { type: "application/age-encryption" }), sealed: await encrypted.sealed };
  } catch (error) {
    throw error.name === "ConfidentialError" ? new UserError(`Not encrypted: ${error.message}. Nothing was uploaded.`) : explain(error);
  }
}

// The record naming whom a stored ciphertext of the manifest's document is encrypted to.
async function recordCopy(manifestCid, ciphertextCid, readers, dealId) {
  const copy = ethers.toUtf8Bytes(JSON.stringify({
    ciphertext: ciphertextCid,
    readers: readers.map((r) => ({ account: r.account, recipient: r.recipient })),
  }));
  const path = `/evidence/${manifestCid}/copies`;
  return signedPost(path, `POST ${path}`, hexOf(sha256(copy)), dealId, copy, { contentType: "application/json" });
}

// Before any work: the service would refuse a document over its limit after the upload.
function refuseOversize(size, stored) {
  const limit = state.config.max_upload_bytes;
  if (stored > limit) {
    const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
    throw new UserError(`This document is ${mb(size)}${stored > size ? ` (${mb(stored)} encrypted)` : ""}; the service takes at most ${mb(limit)}. Nothing was uploaded.`);
  }
}
