// Evidence documents to the service. Every write is signed by the wallet (EIP-191
// personal_sign over the request's text, backend/auth.py's format); the service checks the
// signer's role on chain and the bytes against the signed sha256. A confidential document
// (docs/confidential.md) is encrypted here, streamed, to the deal's readers, and stored as
// three writes: the age ciphertext, the manifest the chain will anchor, and the copy record
// naming whom the ciphertext was encrypted to. The service never sees the plaintext.
import { sha256 } from "../vendor/age.js";
import { ethers } from "./chain.js";
import { encryptDocument, manifestBytes } from "./confidential.js";
import { UserError, explain } from "./errors.js";
import { me, state } from "./state.js";
import { signText } from "./wallet.js";

// How long a signed request stays valid: the service takes at most 10 minutes.
const VALIDITY_SECONDS = 300;
const hexOf = (digest) => Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");

/** The sha256 of a Blob/File, streamed, as lowercase hex without 0x. */
export async function sha256Hex(blob) {
  const hash = sha256.create();
  const reader = blob.stream().getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) hash.update(next.value);
  return hexOf(hash.digest());
}

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

async function signedPost(path, action, sha256Hex_, dealId, body, contentType = null) {
  const headers = { "X-Escrow-Auth": await authHeader(action, sha256Hex_, dealId), "X-Content-Sha256": sha256Hex_ };
  if (contentType) headers["content-type"] = contentType;
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body });
  } catch {
    throw new UserError("The escrow service cannot be reached. Nothing was uploaded.");
  }
  const record = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = typeof record?.detail === "string" ? record.detail : JSON.stringify(record?.detail);
    throw new UserError(`The service refused the upload (${response.status}): ${detail}. Nothing was stored.`);
  }
  return record;
}

/** Stores `blob` (hex `sha256`) for milestone `milestone` of deal `dealId`: the service's record. */
export async function uploadEvidence(blob, name, sha256Hex_, dealId, milestone) {
  const body = new FormData();
  body.append("file", blob, name);
  const params = new URLSearchParams({ deal: String(dealId), milestone: String(milestone), escrow: state.escrowAddress });
  return signedPost(`/evidence?${params}`, "POST /evidence", sha256Hex_, dealId, body);
}

/** A public document: stored as it is; the chain anchors its own sha256. */
export async function uploadPlain(file, dealId, milestone) {
  const digest = await sha256Hex(file);
  const record = await uploadEvidence(file, file.name, digest, dealId, milestone);
  return { evidenceHash: "0x" + digest, cid: record.cid, confidential: false };
}

/**
 * A confidential document: encrypted here to `readers` ({account, recipient}), streamed, the
 * ciphertext gathered as Blob parts (the browser keeps large ones out of the page's memory);
 * then the ciphertext, the manifest and the copy record. `onProgress(bytes)` follows the
 * encryption. The chain anchors the manifest's sha256.
 */
export async function uploadConfidential(file, dealId, milestone, readers, onProgress) {
  let ciphertext;
  let sealed;
  try {
    const encrypted = await encryptDocument(file, readers.map((r) => r.recipient), { onProgress });
    const parts = [];
    const reader = encrypted.ciphertext.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(new Blob([next.value]));
    ciphertext = new Blob(parts);
    sealed = await encrypted.sealed;
  } catch (error) {
    throw error.name === "ConfidentialError" ? new UserError(`Not encrypted: ${error.message}. Nothing was uploaded.`) : explain(error);
  }
  const stored = await uploadEvidence(ciphertext, `${file.name}.age`, sealed.ciphertextSha256, dealId, milestone);
  const manifest = manifestBytes(sealed, stored.cid);
  const manifestSha = hexOf(sha256(manifest));
  const anchored = await uploadEvidence(new Blob([manifest]), "manifest.json", manifestSha, dealId, milestone);
  const copy = ethers.toUtf8Bytes(JSON.stringify({
    ciphertext: stored.cid,
    readers: readers.map((r) => ({ account: r.account, recipient: r.recipient })),
  }));
  const path = `/evidence/${anchored.cid}/copies`;
  await signedPost(path, `POST ${path}`, hexOf(sha256(copy)), dealId, copy, "application/json");
  return { evidenceHash: "0x" + manifestSha, cid: anchored.cid, confidential: true };
}
