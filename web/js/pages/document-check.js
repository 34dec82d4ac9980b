// "Check against chain" (a verdict's evidence) and "Open" (a milestone's document), in the
// browser: a plain document is hashed; a confidential one's manifest is checked against the
// anchor, and then a reader decrypts its copy here (streamed, with a progress bar, the plaintext
// handed out as a Blob only once it has verified), while anyone else sees that it is encrypted
// and to whom, and that the stored ciphertext is the attested one. A reader who opened it can
// then give access to readers who have none yet (a key added after the upload, a new payee):
// a copy encrypted to the deal's current readers, the anchor unchanged (docs/confidential.md).
import { button } from "../actions.js";
import { api } from "../chain.js";
import { MANIFEST_FORMAT, checkCiphertext, decryptDocument, hashingStream, parseManifest } from "../confidential.js";
import { storeCopy } from "../evidence.js";
import { sameAddress, shortAddress } from "../format.js";
import { dealReaders, describeReader, myIdentity } from "../keys.js";
import { progressBar } from "../progress.js";
import { me } from "../state.js";
import { fetchOk, hashStream } from "../transfer.js";
import { h, replace } from "../ui.js";

// A manifest is a few hundred bytes: anything longer is a document, hashed and not kept.
const MANIFEST_MAX = 4096;

/**
 * Fetches the document at `url` and, when `anchored` (the evidenceHash on chain) is given,
 * holds it to it; shows the outcome in `target`.
 */
export async function checkDocument(d, url, anchored, target) {
  const bar = progressBar();
  show(target, "working", bar.element);
  const response = await fetchOk(url, "The document");
  bar.step("Downloading", Number(response.headers.get("content-length")));
  const fetched = await hashStream(response.body, { keep: MANIFEST_MAX, onProgress: bar.update });
  const digest = "0x" + fetched.sha256;
  if (!isManifest(fetched.head)) {
    if (anchored === null) return show(target, "ok", `sha256 ${digest.slice(0, 18)}…`);
    return digest === anchored
      ? show(target, "ok", "✓ matches the hash anchored on chain")
      : show(target, "bad", `✗ does not match the hash anchored on chain (got ${digest.slice(0, 18)}…)`);
  }
  const cid = url.split("/").pop();
  let manifest;
  try {
    manifest = parseManifest(fetched.head, anchored);
  } catch (error) {
    if (error.name !== "ConfidentialError") throw error;
    return show(target, "bad", `✗ ${error.message}`);
  }
  const copies = await api(`/evidence/${cid}/copies`);
  const mine = copies.filter((c) => c.readers.some((r) => sameAddress(r.account, me())));
  if (!mine.length) {
    const problem = await storedCiphertextProblem(manifest, bar);
    if (problem) return show(target, "bad", `✗ ${problem}`);
    const who = await readerNames(d, copies);
    return show(target, "locked", `🔒 Encrypted to ${who}; you hold no key to it. The stored ciphertext is the one ${anchored ? "anchored on chain" : "its manifest names"}.`);
  }
  const identity = await myIdentity();
  const newest = [...mine].reverse();
  const copy = newest.find((c) => c.readers.some((r) => r.recipient === identity.recipient)) ?? newest[0];
  let opened;
  try {
    opened = await openCopy(copy, manifest, identity, bar);
  } catch (error) {
    if (error.name !== "ConfidentialError") throw error;
    // A copy that does not open: if it is the attested ciphertext, say whether storage altered it.
    const altered = copy.ciphertext.cid === manifest.ciphertextCid ? await storedCiphertextProblem(manifest, bar) : null;
    return show(target, "bad", `✗ cannot open it: ${altered ?? error.message}`);
  }
  const link = h("a.opened", { href: URL.createObjectURL(opened.blob), download: `document-${cid.slice(0, 12)}`, target: "_blank" }, "the decrypted document");
  show(target, "ok", anchored ? "✓ decrypted here; matches the hash anchored on chain: " : "✓ decrypted here; matches its manifest: ", link);
  const give = await giveAccess(d, cid, manifest, opened.blob, copies);
  if (give) target.append(" ", give);
}

// The copy, downloaded and decrypted as one stream; the attested ciphertext is hashed on the
// way through and held to the manifest, so it is read once.
async function openCopy(copy, manifest, identity, bar) {
  const response = await fetchOk(`/evidence/${copy.ciphertext.cid}`, "The ciphertext");
  bar.step("Downloading and decrypting", manifest.plaintextSize);
  const cipher = hashingStream();
  const opened = await decryptDocument(response.body.pipeThrough(cipher), [identity.secretKey], {
    expected: manifest,
    onProgress: bar.update,
  });
  if (copy.ciphertext.cid === manifest.ciphertextCid) {
    const { sha256, size } = await cipher.done;
    checkCiphertext(manifest, sha256, size);
  }
  return opened;
}

// Anyone's check: the ciphertext the manifest names is stored unaltered. Null, or what is wrong.
async function storedCiphertextProblem(manifest, bar) {
  const response = await fetchOk(`/evidence/${manifest.ciphertextCid}`, "The ciphertext");
  bar.step("Checking the stored ciphertext", manifest.ciphertextSize);
  const stored = await hashStream(response.body, { onProgress: bar.update });
  try {
    checkCiphertext(manifest, stored.sha256, stored.size);
    return null;
  } catch (error) {
    if (error.name !== "ConfidentialError") throw error;
    return error.message;
  }
}

/**
 * "Give access to …": the deal's readers with a verified key that no copy is encrypted to (a
 * key added since, a payee assigned since). A button making one copy for every current reader,
 * so that a key revoked since gets nothing new; null when everyone has one.
 */
async function giveAccess(d, cid, manifest, plaintext, copies) {
  const current = (await dealReaders(d.id)).filter((r) => r.recipient);
  const lacking = current.filter((r) => !copies.some((c) => c.readers.some((x) => x.recipient === r.recipient && sameAddress(x.account, r.account))));
  if (!lacking.length) return null;
  const names = lacking.map((r) => `${describeReader(r, d.operators)} (${shortAddress(r.account)})`).join(", ");
  const area = h("span.give-access");
  const bar = progressBar();
  replace(area, button(`give-access-${cid.slice(-12)}`, `Give access to ${names}`, async () => {
    area.append(" ", bar.element);
    await storeCopy(cid, manifest, plaintext, d.id, current, bar);
    replace(area, `✓ A copy for ${names} is stored: they can open it now.`);
  }));
  return area;
}

function isManifest(data) {
  if (!data) return false;
  try {
    return JSON.parse(new TextDecoder().decode(data))?.format === MANIFEST_FORMAT;
  } catch {
    return false;
  }
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
