// A deal's documents on its pages (the deal's timeline, the oracle's desk): listed per
// milestone, and added (encrypted by default to the deal's readers, streamed, with a progress
// bar; plain only as an explicit choice for a public document). Opening one and checking it
// against the chain is document-check.js.
import { act, actionable } from "../actions.js";
import { UserError } from "../errors.js";
import { uploadConfidential, uploadPlain } from "../evidence.js";
import { sameAddress, shortAddress } from "../format.js";
import { dealReaders, describeReader } from "../keys.js";
import { progressBar } from "../progress.js";
import { me } from "../state.js";
import { h, notify, replace } from "../ui.js";
import { checkDocument } from "./document-check.js";

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
    h("span.upload-progress", { hidden: true }),
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
  const bar = progressBar();
  const place = form.querySelector(".upload-progress");
  replace(place, bar.element);
  place.hidden = false;
  if (!form.encrypt.checked) return { ...(await uploadPlain(file, dealId, index, bar)), said: "Stored as a public document." };
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
  const stored = await uploadConfidential(file, dealId, index, able, bar);
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
