// A deal's documents on its pages (the deal's timeline, the oracle's desk): listed per
// milestone, added (encrypted by default to the deal's readers, streamed, with a progress
// bar; plain only as an explicit choice for a public document), and opened or checked against
// the chain in the browser. A confidential document is checked, decrypted and hashed here; a
// reader who holds no key sees that it is encrypted and to whom, never its ciphertext.
import { sha256 } from "../../vendor/age.js";
import { act, actionable } from "../actions.js";
import { api } from "../chain.js";
import { MANIFEST_FORMAT, checkCiphertext, decryptDocument, parseManifest } from "../confidential.js";
import { UserError } from "../errors.js";
import { uploadConfidential, uploadPlain } from "../evidence.js";
import { sameAddress, shortAddress } from "../format.js";
import { dealReaders, describeReader, myIdentity } from "../keys.js";
import { me } from "../state.js";
import { h, notify, replace } from "../ui.js";

const MANIFEST_TYPE = "application/vnd.milestone-escrow.manifest+json";
const CIPHERTEXT_TYPE = "application/age-encryption";

/** The documents of milestone `index` (ciphertexts are shown through their manifests). */
export function documentList(d, index) {
  const docs = (d.documents || []).filter((doc) => doc.milestone === index && doc.media_type !== CIPHERTEXT_TYPE);
  if (!docs.length) return h("p.muted.documents", "No documents yet.");
  return h("ul.documents", docs.map((doc) => {
    const result = h("span.check");
    const confidential = doc.media_type === MANIFEST_TYPE;
    return h(
      `li.document${confidential ? ".confidential" : ""}`,
      { dataset: { cid: doc.cid } },
      confidential ? "🔒 Confidential document" : h("a.evidence", { href: `/evidence/${doc.cid}`, target: "_blank", rel: "noopener" }, `Public document ${doc.cid.slice(0, 12)}…`),
      ` from ${shortAddress(doc.uploader)}${sameAddress(doc.uploader, me()) ? " (you)" : ""} `,
      confidential ? h("button.open", { type: "button", onclick: act(() => checkDocument(d, `/evidence/${doc.cid}`, null, result)) }, "Open") : null,
      " ",
      result,
    );
  }));
}

/** The inputs of a document to add: the file, whether to encrypt it, the progress bar. */
export function documentInputs(label) {
  return [
    h("label", label, h("input", { name: "file", type: "file", required: true })),
    h("label.choice", h("input", { type: "checkbox", name: "encrypt", checked: true }),
      " Encrypt it to the deal's readers (untick only for a public document: anyone could read it)"),
    h("progress.upload", { max: 1, value: 0, hidden: true }),
    h("p.readers-warning.muted", { hidden: true }),
  ];
}

/**
 * Stores the form's document for milestone `index` of deal `dealId`: { evidenceHash, cid,
 * said } where `said` tells whom it is encrypted to, and whom not (no published key).
 */
export async function storeDocument(dealId, index, form) {
  const file = form.file.files[0];
  if (!file) throw new UserError("Choose the document first.");
  if (!form.encrypt.checked) return { ...(await uploadPlain(file, dealId, index)), said: "Stored as a public document." };
  const readers = await dealReaders(dealId);
  const able = readers.filter((r) => r.recipient);
  const unable = readers.filter((r) => !r.recipient);
  if (!able.length) throw new UserError("Nobody entitled to this deal has published an encryption key yet: nothing was uploaded.");
  const warning = form.querySelector(".readers-warning");
  const missing = unable.length
    ? ` Not encrypted to ${unable.map((r) => `${describeReader(r)} (${shortAddress(r.account)})`).join(", ")}: no published key; they can read it once someone who can gives them a copy.`
    : "";
  replace(warning, missing);
  warning.hidden = !missing;
  const bar = form.querySelector("progress.upload");
  bar.hidden = false;
  bar.value = 0;
  const stored = await uploadConfidential(file, dealId, index, able, (done) => (bar.value = file.size ? done / file.size : 1));
  return { ...stored, said: `Encrypted to ${able.length} reader${able.length === 1 ? "" : "s"}.${missing}` };
}

/** A form adding a document to milestone `index` of deal `d`. */
export function addDocumentForm(d, index, refresh) {
  const form = h(
    `form.add-document#add-document-${index}`,
    {
      onsubmit: act(async () => {
        const { said } = await storeDocument(d.id, index, form);
        await refresh();
        notify("ok", `Document stored. ${said}`);
      }),
    },
    documentInputs("Add a document"),
    h("button", { type: "submit", disabled: !actionable() }, "Upload"),
  );
  return form;
}

/**
 * "Check against chain" / "Open": fetches the document at `url` and, when `anchored` (the
 * evidenceHash on chain) is given, holds it to it. A plain document is hashed; a manifest is
 * checked, its ciphertext hashed against it, and the reader's own copy decrypted and hashed.
 */
export async function checkDocument(d, url, anchored, target) {
  const response = await fetch(url);
  if (!response.ok) throw new UserError(`The document could not be fetched (${response.status}).`);
  const data = new Uint8Array(await response.arrayBuffer());
  const digest = "0x" + hex(sha256(data));
  if (!isManifest(data)) {
    if (anchored === null) return show(target, "ok", `sha256 ${digest.slice(0, 18)}…`);
    return digest === anchored
      ? show(target, "ok", "✓ matches the hash anchored on chain")
      : show(target, "bad", `✗ does not match the hash anchored on chain (got ${digest.slice(0, 18)}…)`);
  }
  const cid = url.split("/").pop();
  let manifest;
  try {
    manifest = parseManifest(data, anchored);
    const stored = await hashStream(`/evidence/${manifest.ciphertextCid}`);
    checkCiphertext(manifest, stored.sha256, stored.size);
  } catch (error) {
    if (error.name !== "ConfidentialError") throw error;
    return show(target, "bad", `✗ ${error.message}`);
  }
  const copies = await api(`/evidence/${cid}/copies`);
  const mine = copies.filter((c) => c.readers.some((r) => sameAddress(r.account, me())));
  if (!mine.length) {
    const who = await readerNames(d, copies);
    return show(target, "locked", `🔒 Encrypted to ${who}; you hold no key to it. The stored ciphertext is the one ${anchored ? "anchored on chain" : "its manifest names"}.`);
  }
  const identity = await myIdentity();
  const copy = mine.find((c) => c.readers.some((r) => r.recipient === identity.recipient)) ?? mine[0];
  const bar = h("progress", { max: 1, value: 0 });
  replace(target, bar);
  let opened;
  try {
    const cipher = await fetch(`/evidence/${copy.ciphertext.cid}`);
    if (!cipher.ok) throw new UserError(`The ciphertext could not be fetched (${cipher.status}).`);
    opened = await decryptDocument(cipher.body, [identity.secretKey], {
      expected: manifest,
      onProgress: (done) => (bar.value = manifest.plaintextSize ? done / manifest.plaintextSize : 1),
    });
  } catch (error) {
    if (error.name !== "ConfidentialError") throw error;
    return show(target, "bad", `✗ cannot open it: ${error.message}`);
  }
  const link = h("a.opened", { href: URL.createObjectURL(opened.blob), download: `document-${cid.slice(0, 12)}`, target: "_blank" }, "the decrypted document");
  return show(target, "ok", anchored ? "✓ decrypted here; matches the hash anchored on chain: " : "✓ decrypted here; matches its manifest: ", link);
}

function isManifest(data) {
  try {
    return JSON.parse(new TextDecoder().decode(data))?.format === MANIFEST_FORMAT;
  } catch {
    return false;
  }
}

async function hashStream(url) {
  const response = await fetch(url);
  if (!response.ok) throw new UserError(`The ciphertext could not be fetched (${response.status}).`);
  const hash = sha256.create();
  let size = 0;
  const reader = response.body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    hash.update(next.value);
    size += next.value.length;
  }
  return { sha256: hex(hash.digest()), size };
}

// "the buyer (0x7099…79C8), the supplier (…)": the readers of every copy, named by their roles.
async function readerNames(d, copies) {
  const accounts = [...new Set(copies.flatMap((c) => c.readers.map((r) => r.account)))];
  const roles = await dealReaders(d.id).catch(() => []);
  return accounts.map((account) => {
    const known = roles.find((r) => sameAddress(r.account, account));
    return known ? `${describeReader(known, d.operators)} (${shortAddress(account)})` : shortAddress(account);
  }).join(", ");
}

function show(target, kind, ...content) {
  replace(target, ...content);
  target.className = `check ${kind}`;
}

const hex = (digest) => Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
