// A milestone's terms as typed into a form (new deals, offers, milestones a change order adds),
// read and checked as the escrow will check them.
import { ethers } from "../chain.js";
import { DAY, dateInput, endOfDay, parseAmount } from "../format.js";
import { checkAmount, checkQuorum, oracleIds, oracleSlots } from "../rules.js";
import { state } from "../state.js";
import { h } from "../ui.js";
import { operatorPicker } from "./operator-picker.js";

const ZERO_HASH = "0x" + "00".repeat(32);

/** An empty row for milestone `index`, due in 30 days of chain time by default. */
export function milestoneRow(now, index) {
  const oracles = h("input", { name: "oracles", required: true, placeholder: "1, 2" });
  const row = h(
    "div.milestone-input",
    h("strong", `M${index + 1}`),
    h("label", "Amount", h("input", { name: "amount", required: true, inputmode: "decimal" })),
    h("label", "Due", h("input", { name: "due", type: "date", required: true, value: dateInput(Number(now) + 30 * DAY) })),
    h("label", "Oracles (operator ids)", oracles),
    h("label", "Quorum", h("input", { name: "quorum", type: "number", min: 1, max: state.config.limits.max_oracles, value: 1, required: true })),
    h("label.wide", "Evidence requirements", h("input", { name: "requirements", placeholder: "e.g. inspection report, AQL 2.5" })),
    h("div.wide", operatorPicker(oracles, { what: "oracles", multiple: true })),
    h("button.remove", { type: "button", onclick: () => row.remove() }, "Remove"),
  );
  return row;
}

/** The MilestoneTerms a row describes; the requirements text is anchored as its sha256. */
export function readMilestone(row, index) {
  const { limits } = state.config;
  const label = `M${index + 1}`;
  const oracles = oracleIds(row.querySelector("[name=oracles]").value, label, limits);
  const quorum = Number(row.querySelector("[name=quorum]").value);
  checkQuorum(quorum, oracles.length, label);
  const value = parseAmount(row.querySelector("[name=amount]").value, state.token.decimals, `${label} amount`);
  checkAmount(value, label, limits);
  const requirements = row.querySelector("[name=requirements]").value.trim();
  return {
    amount: value,
    dueAt: BigInt(endOfDay(row.querySelector("[name=due]").value)),
    quorum,
    oracles: oracleSlots(oracles, limits),
    requirementsHash: requirements ? ethers.sha256(ethers.toUtf8Bytes(requirements)) : ZERO_HASH,
  };
}

/** The terms a Remove change carries: zeros, which the escrow ignores. */
export function emptyTerms() {
  return { amount: 0n, dueAt: 0n, quorum: 0, oracles: oracleSlots([], state.config.limits), requirementsHash: ZERO_HASH };
}
