// The deal page's timeline: each milestone with its deadline, payouts, oracles and their
// verdicts (evidence checked in the browser against the hash anchored on chain), and what the
// connected account can do with it now.
import { act, actionable, button } from "../actions.js";
import { dealStatus, escrowEvents, milestoneStatus } from "../chain.js";
import { amount, operatorName } from "../describe.js";
import { UserError } from "../errors.js";
import { formatTime, parseAmount, relative, sameAddress } from "../format.js";
import { disputedAmount, milestoneActions } from "../rules.js";
import { me, state } from "../state.js";
import { addressTag, h, replace } from "../ui.js";
import { send } from "../wallet.js";
import { checkDocument } from "./document-check.js";
import { addDocumentForm, documentList } from "./documents.js";

// What a milestone's dueAt is, in each status that has a deadline.
const STAGE = {
  Pending: "due",
  Rejected: "due",
  Examining: "examination window ends",
  Disputed: "ruling due by",
  Retained: "holdback paid after",
};

export function milestoneCard(d, m, index, refresh) {
  const status = milestoneStatus(m);
  const row = d.index?.milestones.find((r) => r.index === index);
  const oracles = [...m.oracles].filter((o) => o !== 0n);
  const stage = STAGE[status];
  return h(
    `li.milestone.${status.toLowerCase()}`,
    { dataset: { index, status } },
    h("div.milestone-head",
      h("strong", `M${index + 1}`),
      h("span.amount", amount(m.amount)),
      h(`span.status.${status.toLowerCase()}.milestone-status`, status),
    ),
    stage ? h("p.stage", `${stage} ${formatTime(m.dueAt)} (${relative(m.dueAt, d.now)})`) : null,
    payoutLine(d, index),
    h("p.oracles", `Oracles ${oracles.map((o) => operatorName(d, o)).join(", ")}; ${m.attestations} of ${m.quorum} needed attested`, m.rejections ? `, ${m.rejections} found it not met` : ""),
    row?.verdicts.length ? h("ul.verdicts", row.verdicts.map((v) => verdictItem(d, v, index))) : null,
    documentList(d, index),
    readsDocuments(d) ? addDocumentForm(d, index, refresh) : null,
    actionsBox(d, m, index, status, refresh),
  );
}

// Who may add a document to a milestone: the service takes uploads from the deal's parties
// and from live keys of the operators it names (an oracle of any milestone, the arbiter).
function readsDocuments(d) {
  if (!me()) return false;
  const named = new Set(d.milestones.flatMap((m) => [...m.oracles]));
  return !!d.role || sameAddress(me(), d.payee) || d.myOperator === d.deal.arbiter || (d.myOperator !== 0n && named.has(d.myOperator));
}

function actionsBox(d, m, index, status, refresh) {
  const { id } = d;
  const box = h("div.actions");
  if (!me()) return box;
  const tx = (key, label, fn, done) => button(`${key}-${index}`, label, async () => {
    await send(`${label} (M${index + 1})`, fn);
    await refresh();
  }, done);
  const shown = {
    waive: () => tx("waive", "Accept now", (e) => e.waiveExamination(id, index), "Milestone accepted and paid."),
    dispute: () => tx("dispute", "Open a dispute", (e) => e.openDispute(id, index), "Dispute opened: the arbiter rules next."),
    "dispute-holdback": () => tx("dispute", "Dispute the holdback", (e) => e.openDispute(id, index), "Dispute opened on the holdback."),
    refund: () => tx("refund", "Take it back", (e) => e.refund(id, index), "Milestone refunded to you."),
    rule: () => rulingForm(d, m, index, refresh),
    release: () => tx("release", "Release", (e) => e.release(id, index), "Milestone released."),
    "release-holdback": () => tx("release-holdback", "Pay the holdback", (e) => e.releaseRetention(id, index), "Holdback paid."),
    settle: () => tx("settle", "Apply the default", (e) => e.settleDispute(id, index), "Default applied."),
  };
  const actions = milestoneActions({
    dealStatus: dealStatus(d.deal),
    status,
    role: d.role,
    isArbiter: d.myOperator === d.deal.arbiter,
    now: d.now,
    dueAt: m.dueAt,
  });
  for (const action of actions) box.append(shown[action]());
  return box;
}

/** The arbiter's ruling on a disputed milestone: how much of the disputed amount goes to the
 * supplier; the rest goes back to the buyer. */
function rulingForm(d, m, index, refresh) {
  const opened = (d.index?.history || []).filter((e) => e.event === "DisputeOpened" && Number(e.args.index) === index).at(-1);
  const disputed = disputedAmount({
    opened: opened ? opened.args.amount : null,
    wasRetained: d.index?.milestones.find((r) => r.index === index)?.status === "Retained",
    amount: m.amount,
    retentionBps: d.policy.retentionBps,
  }, state.config.limits);
  const form = h(
    `form.ruling#ruling-${index}`,
    {
      onsubmit: act(async () => {
        const toSupplier = parseAmount(form.toSupplier.value, state.token.decimals, "To the supplier");
        if (toSupplier > disputed) throw new UserError(`At most the disputed ${amount(disputed)}.`);
        await send(`Ruling on M${index + 1}`, (e) => e.rule(d.id, index, toSupplier));
        await refresh();
      }, { done: "Ruling applied: the disputed amount is paid out." }),
    },
    h("label", `Ruling: of the disputed ${amount(disputed)}, to the supplier`, h("input", { name: "toSupplier", required: true, inputmode: "decimal" })),
    h("button.primary", { type: "submit", disabled: !actionable() }, "Rule"),
  );
  return form;
}

/** What milestone `index` has paid out so far, from the index's payout events. */
function payoutLine(d, index) {
  let paid = 0n;
  let back = 0n;
  for (const e of d.index?.history || []) {
    if (Number(e.args.index) !== index) continue;
    if (e.event === "MilestoneReleased") paid += BigInt(e.args.amount);
    if (e.event === "MilestoneRefunded") back += BigInt(e.args.amount);
  }
  if (!paid && !back) return null;
  return h(
    "p.payout",
    [paid ? `${amount(paid)} paid to the supplier` : null, back ? `${amount(back)} back to the buyer` : null]
      .filter(Boolean).join(" · "),
  );
}

function verdictItem(d, v, index) {
  const result = h("span.check");
  return h(
    "li.verdict",
    h("span", `${operatorName(d, BigInt(v.operator_id))} ${v.met ? "attested: met" : "found: not met"}, by `, addressTag(v.signer, me())),
    h("br"),
    "Evidence ",
    v.evidence_url
      ? [
          h("a.evidence", { href: v.evidence_url, target: "_blank", rel: "noopener" }, v.evidence_cid.slice(0, 16) + "…"),
          " ",
          h("button.verify", { type: "button", onclick: act(() => verifyEvidence(d, v, index, result)) }, "Check against chain"),
          " ",
          result,
        ]
      : h("span.muted", `not held by this service (sha256 ${v.evidence_sha256.slice(0, 16)}…)`),
  );
}

/** Checks the document against the evidence hash in the verdict's own event on chain (read
 * from its transaction's receipt), so neither the service nor IPFS has to be trusted; a
 * confidential one is decrypted and hashed here (documents.js). */
async function verifyEvidence(d, v, index, target) {
  await checkDocument(d, v.evidence_url, await anchoredHash(d, v, index), target);
}

async function anchoredHash(d, v, index) {
  const receipt = await state.read.getTransactionReceipt(v.tx_hash);
  const event = escrowEvents(receipt).find(
    (e) =>
      (e.name === "MilestoneAttested" || e.name === "MilestoneRejected") &&
      e.args.dealId === d.id && Number(e.args.index) === index &&
      Number(e.args.operatorId) === v.operator_id,
  );
  if (event) return event.args.evidenceHash.toLowerCase();
  throw new UserError("The verdict's transaction on chain has no such attestation: the index is wrong.");
}
