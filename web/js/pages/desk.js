// #/desk : the oracle's desk. A connected operator key sees the milestones that name its
// operator and await its verdict (deal, amount, due date, requirements, the documents so far),
// uploads its evidence (encrypted to the deal's readers by default), signs the attestation in the wallet (EIP-712 Attestation) and hands it
// to the service's intake, whose relayer puts it on chain; then sees the result read back from
// the chain. Which operator a key signs for is the registry's answer (operatorOf), not ours.
import { act, actionable } from "../actions.js";
import { api, chainTime, dealLink, escrowDomain, milestoneStatus, toJson } from "../chain.js";
import { amount } from "../describe.js";
import { UserError, explain } from "../errors.js";
import { formatTime, relative } from "../format.js";
import { me, state } from "../state.js";
import { h, replace } from "../ui.js";
import { signTyped, walletProblem } from "../wallet.js";
import { documentInputs, documentList, storeDocument } from "./documents.js";
import { keyCard } from "./key-card.js";

// The intake's document format (docs/attestations.md), and how long a signed verdict is good
// for in chain time: the relayer sends within seconds, a day leaves room for a queue.
const ATTESTATION_FORMAT = "milestone-escrow/attestation@1";
const VERDICT_VALIDITY = 86_400n;
// How long the desk follows a handed-in verdict before it says "still queued".
const FOLLOW_MS = 90_000;
// How long the desk waits for the service's index to catch up with the chain.
const CATCH_UP_MS = 15_000;

/** `nav`: {current, refresh, navigate} from the router. */
export async function showDesk(nav) {
  const view = replace(document.getElementById("main"), h("h1", "Oracle's desk"));
  if (!me()) {
    view.append(h("p.muted", walletProblem()));
    return;
  }
  let desk;
  try {
    desk = await loadDesk(me());
  } catch (error) {
    if (nav.current()) view.append(h("div.notice.error", { role: "alert" }, explain(error).message));
    return;
  }
  if (!nav.current()) return;
  if (!desk.operator) {
    view.append(h("p.muted#desk-role", "This account is not a live key of a registered operator: the desk lists the milestones an oracle operator's keys attest."));
    return;
  }
  view.append(h("p#desk-role", `You sign for operator #${desk.operator} ${desk.name}.`), keyCard(nav.refresh));
  if (desk.behind) {
    view.append(h("p.notice.info#desk-behind", { role: "status" }, `The service's index is ${desk.behind} block${desk.behind === 1 ? "" : "s"} behind the chain: the newest deals may be missing.`));
  }
  const waiting = desk.items.filter((x) => x.awaiting);
  const answered = desk.items.filter((x) => !x.awaiting);
  view.append(...[
    h("section.card", h("h2", "Awaiting your verdict"),
      waiting.length
        ? h("ul.desk#desk-waiting", waiting.map((x) => deskItem(desk, x, nav)))
        : h("p.muted#desk-empty", "Nothing waits for your verdict.")),
    answered.length
      ? h("section.card", h("h2", "Answered"), h("ul.desk#desk-answered", answered.map((x) => answeredItem(x))))
      : null,
  ].filter(Boolean));
}

/** The operator a key signs for, and the milestones of active deals that name it: from the
 * service's index (one request, not one per deal); the chain decides when the desk acts. */
async function loadDesk(account) {
  const operator = await state.escrow.operatorOf(account);
  if (operator === 0n) return { operator: null };
  const [info, now, index] = await Promise.all([
    state.escrow.getOperator(operator), chainTime(), indexedMilestones(operator),
  ]);
  // What documents.js needs of a deal: its id, documents and operators' names.
  const operators = new Map([[operator, info.name]]);
  const items = index.milestones.map((r) => ({
    d: { id: BigInt(r.deal_id), documents: r.documents, operators },
    operator,
    dealId: BigInt(r.deal_id),
    index: r.index,
    m: { amount: BigInt(r.amount), dueAt: BigInt(r.due_at), attestations: r.attestations, quorum: r.quorum },
    status: r.status,
    answeredBy: r.verdict,
    awaiting: r.awaiting,
    verdicts: r.verdicts,
    requirements: r.requirements_hash,
  }));
  return { operator, name: info.name, now, items, behind: index.behind };
}

/** The index's answer once it has read the chain up to its head (less the blocks it waits
 * to be confirmed), or, after CATCH_UP_MS, what it has, with how many blocks it lags. */
async function indexedMilestones(operator) {
  const until = Date.now() + CATCH_UP_MS;
  for (;;) {
    const [index, head] = await Promise.all([
      api(`/escrows/${state.escrowAddress}/operators/${operator}/milestones?status=all`), state.read.getBlockNumber(),
    ]);
    const behind = head - index.confirmations - (index.indexed_through ?? -1);
    if (behind <= 0 || Date.now() > until) return { ...index, behind: Math.max(behind, 0) };
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function heading(x) {
  return h("div.milestone-head",
    h("a", { href: dealLink(x.dealId) }, `Deal #${x.dealId}`), " ",
    h("strong", `M${x.index + 1}`),
    h("span.amount", amount(x.m.amount)),
    h(`span.status.${x.status.toLowerCase()}.milestone-status`, x.status),
  );
}

function deskItem(desk, x, nav) {
  const status = h("p.intake", { "aria-live": "polite" });
  const form = h(
    `form.verdict#verdict-${x.dealId}-${x.index}`,
    { onsubmit: act(() => workMilestone(x, form, status, nav)) },
    documentInputs("Your evidence (report, certificate)"),
    h("fieldset.inline",
      h("label", h("input", { type: "radio", name: "met", value: "yes", checked: true }), " met"),
      h("label", h("input", { type: "radio", name: "met", value: "no" }), " not met")),
    h("button.primary", { type: "submit", disabled: !actionable() }, "Upload and sign the verdict"),
  );
  return h(
    "li.desk-item",
    { dataset: { deal: String(x.dealId), index: String(x.index) } },
    heading(x),
    h("p.stage", `due ${formatTime(x.m.dueAt)} (${relative(x.m.dueAt, desk.now)}); ${x.m.attestations} of ${x.m.quorum} needed attested`),
    requirementsLine(x.requirements),
    h("p", "Documents so far:"),
    documentList(x.d, x.index),
    verdictEvidence(x),
    form,
    status,
  );
}

// The requirements are anchored as the sha256 of their text (the deal's terms); the index has it.
function requirementsLine(hash) {
  if (hash === null) return h("p.muted.requirements", "Evidence requirements: not indexed yet.");
  const digest = "0x" + hash.replace(/^0x/, "");
  if (/^0x0{64}$/.test(digest)) return h("p.requirements", "No evidence requirements anchored.");
  return h("p.requirements", "Evidence requirements anchored as sha256 ", h("code", { title: digest }, digest.slice(0, 18) + "…"));
}

// Evidence other oracles' verdicts anchored (they are among the documents too, when uploaded
// for this milestone here; this names which ones were attested, and how).
function verdictEvidence(x) {
  if (!x.verdicts.length) return null;
  return h("ul.verdicts", x.verdicts.map((v) => h("li",
    `Operator #${v.operator_id} attested ${v.met ? "met" : "not met"} with document ${v.evidence_cid ? v.evidence_cid.slice(0, 16) + "…" : v.evidence_sha256.slice(0, 16) + "…"}`)));
}

function answeredItem(x) {
  return h(
    "li.desk-item.answered",
    { dataset: { deal: String(x.dealId), index: String(x.index) } },
    heading(x),
    h("p", x.answeredBy ? `Your verdict on chain: ${x.answeredBy}.` : "Closed without your verdict."),
  );
}

/** Upload, sign, hand in, follow: each step says where it is, and stops at the first refusal. */
async function workMilestone(x, form, status, nav) {
  const met = form.met.value === "yes";
  const say = (text) => replace(status, text);
  const deal = await stillAwaiting(x);
  say(form.encrypt.checked ? "Encrypting and uploading your evidence…" : "Uploading your evidence…");
  const { evidenceHash, said } = await storeDocument(x.dealId, x.index, form);
  say("Sign the verdict in your wallet…");
  const attestation = {
    dealId: x.dealId,
    milestone: BigInt(x.index),
    dealVersion: BigInt(deal.version),
    met,
    evidenceHash,
    deadline: (await chainTime()) + VERDICT_VALIDITY,
  };
  const domain = escrowDomain();
  const signature = await signTyped("Attestation", domain, state.config.types.Attestation, attestation);
  const intake = await api("/attestations", {
    method: "POST",
    body: toJson({ format: ATTESTATION_FORMAT, domain, attestation, signer: me(), signature }),
  });
  say("Handed to the service: waiting for its relayer to put it on chain…");
  const outcome = await follow(intake.id);
  if (outcome.status !== "applied") {
    throw new UserError(`The service could not put your verdict on chain (${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ""}).`);
  }
  nav.navigate("#/desk", `Your verdict on deal #${x.dealId} M${x.index + 1} is on chain. Its evidence: ${said}`);
}

/** The deal as the chain has it now, if the milestone still awaits this operator's verdict
 * (the index may lag, another key of the operator may have answered): else a clear refusal. */
async function stillAwaiting(x) {
  const [deal, m] = await Promise.all([state.escrow.getDeal(x.dealId), state.escrow.getMilestone(x.dealId, x.index)]);
  const slot = [...m.oracles].indexOf(x.operator);
  if (milestoneStatus(m) !== "Pending" || slot < 0 || m.attested[slot] || m.rejected[slot]) {
    throw new UserError(`Deal #${x.dealId} M${x.index + 1} no longer awaits your verdict on chain (${milestoneStatus(m)}): nothing was uploaded. Reload the desk.`);
  }
  return deal;
}

async function follow(id) {
  const until = Date.now() + FOLLOW_MS;
  for (;;) {
    const record = await api(`/attestations/${id}`);
    if (["applied", "skipped", "failed"].includes(record.status)) return record;
    if (Date.now() > until) return record;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
