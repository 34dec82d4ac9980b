// The deal page's change orders and cancellations: one party signs (EIP-712, in the wallet) and
// the service keeps it; the other party applies it on chain. Nothing changes until then.
import { act, actionable, button } from "../actions.js";
import { api, changeActionCode, dealPath, escrowDomain, milestoneStatus, toJson } from "../chain.js";
import { amount, describeProposal } from "../describe.js";
import { UserError } from "../errors.js";
import { DAY, dateInput, endOfDay, formatAmount, formatTime, parseAmount, sameAddress } from "../format.js";
import { approveIfShort, requireBalance } from "../funding.js";
import {
  amendmentTopUp, checkApplier, checkChange, checkSigner, isOpen, mayRevoke, periodSeconds, proposalAction,
} from "../rules.js";
import { me, state } from "../state.js";
import { addressTag, h } from "../ui.js";
import { send, signTyped } from "../wallet.js";
import { emptyTerms, milestoneRow, readMilestone } from "./milestone-input.js";

export function proposalsSection(d, refresh) {
  const { role } = d;
  const list = h("ul.proposals#proposals");
  for (const p of d.proposals) list.append(proposalItem(d, p, refresh));
  if (!d.proposals.length) list.append(h("li.muted", "Nothing signed yet."));
  return h(
    "section.card",
    h("h2", "Change orders and cancellation"),
    h("p.muted", "One party signs (EIP-712, in the wallet), the other applies it on chain. Nothing changes until then."),
    list,
    mayRevoke(d.proposals, me())
      ? h("div.actions", button("revoke-signatures", "Revoke everything I signed here", async () => {
          await send(`Revoking your signatures on deal #${d.id}`, (e) => e.revokeAgreements(d.id));
          await refresh();
        }, "Your signed change orders and cancellations of this deal no longer count."))
      : null,
    role && d.index ? changeOrderForm(d, refresh) : null,
    role && d.index ? cancellationForm(d, refresh) : null,
  );
}

function proposalItem(d, p, refresh) {
  const byMe = sameAddress(p.signer, me());
  const signerRole = sameAddress(p.signer, d.deal.buyer) ? "buyer" : "supplier";
  const item = h(
    `li.proposal.${p.status}`,
    { dataset: { kind: p.kind, status: p.status } },
    h("span", describeProposal(d, p)),
    h("br"),
    h("span.muted", `signed by the ${signerRole} `, addressTag(p.signer, me()), ` for version ${p.deal_version}, valid until ${formatTime(p.deadline)} · ${p.status}`),
  );
  const action = proposalAction({ status: p.status, role: d.role, byMe });
  if (action === "apply") {
    item.append(h("div.actions", button(`apply-${p.id}`, p.kind === "cancellation" ? "Agree and end the deal" : "Agree and apply", () => applyProposal(d, p, refresh), "Applied on chain.")));
  } else if (action === "await") {
    item.append(h("p.muted", `Waiting for the ${signerRole === "buyer" ? "supplier" : "buyer"} to apply it.`));
  }
  return item;
}

async function applyProposal(d, p, refresh) {
  const m = p.message;
  if (p.kind === "cancellation") {
    await send(`Ending deal #${d.id} by agreement`, (e) => e.cancelByAgreement(m, p.signature));
  } else {
    const topUp = topUpOf(d, m.changes);
    if (topUp > 0n) {
      checkApplier(d.role, topUp);
      await requireBalance(topUp, "this change order's top-up");
      await approveIfShort(topUp);
    }
    await send(`Applying the change order to deal #${d.id}`, (e) => e.amend(m, p.signature));
  }
  await refresh();
}

const topUpOf = (d, changes) => amendmentTopUp(changes, d.milestones.map((m) => m.amount), state.config.change_actions);

function changeOrderForm(d, refresh) {
  const rows = d.milestones
    .map((m, i) => [m, i])
    .filter(([m]) => isOpen(milestoneStatus(m)))
    .map(([m, i]) =>
      h(
        "div.change-row",
        { dataset: { index: i } },
        h("strong", `M${i + 1}`),
        h("label", "Amount", h("input", { name: "amount", value: formatAmount(m.amount, state.token.decimals).replace(/,/g, "") })),
        h("label", "Due", h("input", { name: "due", type: "date", value: dateInput(m.dueAt) })),
        h("label.radio", h("input", { name: "remove", type: "checkbox" }), "remove"),
      ),
    );
  const added = h("div#added-milestones");
  const form = h(
    "form.card.sub#change-order",
    { onsubmit: act(() => proposeChangeOrder(d, form, refresh), { done: "Change order signed and sent to the other party." }) },
    h("h3", "Propose a change order"),
    rows.length ? rows : h("p.muted", "No open milestone to change."),
    added,
    h("button", { type: "button", onclick: () => added.append(milestoneRow(d.now, d.milestones.length + added.children.length)) }, "+ Milestone"),
    h("label", "Valid for (days)", h("input", { name: "valid", type: "number", min: 1, value: 7 })),
    h("button#sign-change-order.primary", { type: "submit", disabled: !actionable() }, "Sign change order"),
  );
  return form;
}

async function proposeChangeOrder(d, form, refresh) {
  const [edit, add, remove] = ["edit", "add", "remove"].map(changeActionCode);
  const changes = [];
  for (const row of form.querySelectorAll(".change-row")) {
    const index = Number(row.dataset.index);
    const m = d.milestones[index];
    if (row.querySelector("[name=remove]").checked) {
      changes.push({ index, action: remove, terms: emptyTerms() });
      continue;
    }
    const next = parseAmount(row.querySelector("[name=amount]").value, state.token.decimals, `M${index + 1} amount`);
    // An untouched date keeps the milestone's exact due time (not the end of that day).
    const dueText = row.querySelector("[name=due]").value;
    const due = dueText === dateInput(m.dueAt) ? m.dueAt : BigInt(endOfDay(dueText));
    if (next === m.amount && due === m.dueAt) continue;
    const indexed = d.index.milestones.find((r) => r.index === index);
    changes.push({
      index,
      action: edit,
      terms: {
        amount: next,
        dueAt: due,
        quorum: Number(m.quorum),
        oracles: [...m.oracles].map(Number),
        requirementsHash: "0x" + indexed.requirements_hash.replace(/^0x/, ""),
      },
    });
  }
  [...form.querySelectorAll("#added-milestones .milestone-input")].forEach((row, k) => {
    changes.push({ index: d.milestones.length + k, action: add, terms: readMilestone(row, d.milestones.length + k) });
  });
  if (!changes.length) throw new UserError("Nothing to change: edit an amount or a date, remove or add a milestone.");
  // What the escrow would refuse when the other party applies it: refused here, before signing.
  for (const c of changes) checkChange(c, d.now, state.config.change_actions);
  checkSigner(d.role, topUpOf(d, changes));
  await signAndPost(d, "Amendment", form, { changes }, refresh);
}

function cancellationForm(d, refresh) {
  const held = BigInt(d.index.funded) - BigInt(d.index.released) - BigInt(d.index.refunded);
  const form = h(
    "form.card.sub#cancellation",
    { onsubmit: act(() => proposeCancellation(d, form, refresh), { done: "Cancellation signed and sent to the other party." }) },
    h("h3", "Propose ending the deal"),
    h("p", `The escrow holds ${amount(held)} for this deal.`),
    h("label", `To the supplier (${state.token.symbol}; the rest goes back to the buyer)`, h("input", { name: "toSupplier", value: "0", required: true })),
    h("label", "Valid for (days)", h("input", { name: "valid", type: "number", min: 1, value: 7 })),
    h("button#sign-cancellation.primary", { type: "submit", disabled: !actionable() }, "Sign cancellation"),
  );
  return form;
}

async function proposeCancellation(d, form, refresh) {
  const toSupplier = parseAmount(form.toSupplier.value, state.token.decimals, "To the supplier");
  // What the escrow holds now, from the chain: the signature fixes both sides of the split, and
  // the escrow refuses it if anything is paid out before the other party applies it.
  const held = await state.escrow.heldFor(d.id);
  if (toSupplier > held) throw new UserError(`The escrow holds only ${amount(held)} for this deal.`);
  await signAndPost(d, "Cancellation", form, { toSupplier, toBuyer: held - toSupplier }, refresh);
}

/** Signs `fields` as an Amendment or a Cancellation of the deal at its current version and the
 * signer's agreement nonce, valid for the form's number of days of chain time, and hands it to
 * the service for the other party. */
async function signAndPost(d, primaryType, form, fields, refresh) {
  const nonce = Number(await state.escrow.agreementNonce(d.id, me()));
  const message = {
    dealId: d.id,
    dealVersion: Number(d.deal.version),
    ...fields,
    nonce,
    deadline: d.now + BigInt(periodSeconds(form.valid.value, "Valid for", state.config.limits) || DAY),
  };
  const kind = primaryType.toLowerCase();
  const signature = await signTyped(primaryType, escrowDomain(), state.config.types[primaryType], message);
  await api(dealPath(d.id, "/proposals"), { method: "POST", body: toJson({ kind, message, signature }) });
  await refresh();
}
