// #/new : a new deal, created on chain (createDeal, by either side) or, by the supplier, signed
// as an offer (EIP-712 DealOffer) that the buyer accepts and funds in one transaction.
import { act } from "../actions.js";
import { api, chainTime, createdDeal, dealLink, escrowDomain, ethers, toJson } from "../chain.js";
import { UserError } from "../errors.js";
import { DAY, sameAddress } from "../format.js";
import {
  checkDueDates, checkMilestoneCount, operatorId, periodSeconds, retentionBps,
} from "../rules.js";
import { me, state } from "../state.js";
import { h, replace } from "../ui.js";
import { send, signTyped, walletProblem } from "../wallet.js";
import { milestoneRow, readMilestone } from "./milestone-input.js";
import { escrowChanged, operatorPicker } from "./operator-picker.js";
import { tokenSelect } from "./token-select.js";

/** `nav`: {current, refresh, navigate} from the router. */
export async function showNewDeal(nav) {
  const now = await chainTime();
  if (!nav.current()) return;
  const { limits } = state.config;
  const milestones = h("div#milestones");
  const arbiter = h("input", { name: "arbiter", type: "number", min: 1, required: true });
  const form = h(
    "form#new-deal.card",
    { onsubmit: act(() => createDeal(form, nav)) },
    h("h1", "New deal"),
    h(
      "fieldset",
      h("legend", "Parties"),
      h("label.radio", h("input", { type: "radio", name: "role", value: "buyer", checked: true }), "I am the buyer (the supplier accepts next)"),
      h("label.radio", h("input", { type: "radio", name: "role", value: "supplier" }), "I am the supplier (the deal is accepted; the buyer funds next)"),
      h("label", "Counterparty address", h("input", { name: "counterparty", required: true, placeholder: "0x…", autocomplete: "off" })),
      h("label", "Arbiter (operator id)", arbiter),
      operatorPicker(arbiter, { what: "the arbiter", multiple: false }),
      tokenSelect(() => {
        replace(document.getElementById("amounts-in"), `Milestones (amounts in ${state.token.symbol})`);
        escrowChanged(form); // operator ids are the new escrow's registry's: named again from its index
      }),
    ),
    h(
      "fieldset",
      h("legend", "Policy"),
      h("label", "Examination window (days, 0: pay on attestation)", h("input", { name: "examination", type: "number", min: 0, step: "any", value: 0 })),
      h("label", `Ruling period (days, empty: ${limits.default_ruling_period / DAY})`, h("input", { name: "ruling", type: "number", min: 0, step: "any" })),
      h("label", "Retention (% held back)", h("input", { name: "retention", type: "number", min: 0, max: limits.max_bps / 100, step: "0.01", value: 0 })),
      h("label", "Warranty (days the holdback is kept)", h("input", { name: "warranty", type: "number", min: 0, step: "any", value: 0 })),
    ),
    h(
      "fieldset",
      h("legend#amounts-in", `Milestones (amounts in ${state.token.symbol})`),
      milestones,
      h("button#add-milestone", { type: "button", onclick: () => milestones.append(milestoneRow(now, milestones.children.length)) }, "+ Milestone"),
    ),
    h(
      "div.actions",
      h("button#create-deal.primary", { type: "submit" }, "Create deal on chain"),
      h("span.muted", "or, as the supplier:"),
      h("button#sign-offer", { type: "button", onclick: act(() => signOffer(form, nav)) }, "Sign an offer"),
      h("label.inline-label", "valid for (days)", h("input", { name: "valid", type: "number", min: 1, value: 14 })),
    ),
    h("p.hint", "An offer costs the supplier nothing: it is a signature the buyer accepts and funds in one transaction."),
  );
  milestones.append(milestoneRow(now, 0));
  replace(document.getElementById("main"), form);
}

/** The deal the form describes, checked as the escrow will check it. */
async function readDeal(form) {
  const problem = walletProblem();
  if (problem) throw new UserError(problem);
  const { limits } = state.config;
  const counterparty = form.counterparty.value.trim();
  if (!ethers.isAddress(counterparty)) throw new UserError("The counterparty is not a valid address.");
  if (sameAddress(counterparty, me())) throw new UserError("The counterparty must be another account than yours.");
  const buyerRole = form.role.value === "buyer";
  const rows = [...form.querySelectorAll(".milestone-input")];
  checkMilestoneCount(rows.length, limits);
  const milestones = rows.map(readMilestone);
  const now = await chainTime();
  checkDueDates(milestones.map((m) => m.dueAt), now);
  const retention = retentionBps(form.retention.value, limits);
  return {
    now,
    buyer: buyerRole ? me() : ethers.getAddress(counterparty),
    supplier: buyerRole ? ethers.getAddress(counterparty) : me(),
    arbiter: operatorId(form.arbiter.value, "The arbiter", limits),
    policy: {
      examinationWindow: periodSeconds(form.examination.value, "Examination window", limits),
      rulingPeriod: periodSeconds(form.ruling.value, "Ruling period", limits),
      warrantyPeriod: periodSeconds(form.warranty.value, "Warranty", limits),
      retentionBps: retention,
    },
    milestones,
  };
}

async function createDeal(form, nav) {
  const { buyer, supplier, arbiter, policy, milestones } = await readDeal(form);
  const receipt = await send("Creating the deal", (escrow) =>
    escrow.createDeal(buyer, supplier, arbiter, policy, milestones),
  );
  const id = createdDeal(receipt);
  nav.navigate(dealLink(id), `Deal #${id} created.`);
}

/** The supplier signs the deal as an offer (EIP-712 DealOffer); the service keeps it until the
 * buyer accepts and funds it in one transaction. Nothing goes on chain now. */
async function signOffer(form, nav) {
  const { now, buyer, supplier, arbiter, policy, milestones } = await readDeal(form);
  if (form.role.value !== "supplier") throw new UserError("Only the supplier signs an offer.");
  const random = crypto.getRandomValues(new Uint32Array(4));
  const nonce = random.reduce((n, word) => (n << 32n) | BigInt(word), 0n); // unordered, 128 bits
  const offer = {
    buyer, supplier, arbiter, policy, milestones, nonce,
    deadline: now + BigInt(periodSeconds(form.valid.value, "Offer valid for", state.config.limits) || DAY),
  };
  const signature = await signTyped("DealOffer", escrowDomain(), state.config.types.DealOffer, offer);
  await api(`/offers?escrow=${state.escrowAddress}`, { method: "POST", body: toJson({ offer, signature }) });
  nav.navigate("#/", "Offer signed: the buyer can now accept and fund it in one transaction.");
}
