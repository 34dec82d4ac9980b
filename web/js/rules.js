// Who may do what, when: the escrow's rules as the page applies them, to decide which actions
// to offer and what to refuse before anything is signed. Pure functions of the deal as read
// from the chain (statuses by name, amounts as bigints, times in chain seconds) and of the
// limits /app/config.json serves; unit-tested in node (tests/js/rules.test.mjs).
//
// Deadlines are in chain time. An action inside a window (waive, dispute, rule) is offered
// while the latest block is before the deadline: the transaction lands in a later block, so at
// the deadline itself it would revert. An action after a deadline (release, refund, pay the
// holdback, apply the default) is offered once the latest block is at or past it.
import { UserError } from "./errors.js";
import { DAY, sameAddress } from "./format.js";

// The names these rules use, which /app/config.json must serve (checkVocabulary).
const NAMES = {
  deal: ["Proposed", "Accepted", "Active"],
  milestone: ["Pending", "Released", "Refunded", "Rejected", "Examining", "Disputed", "Retained", "Settled", "Removed"],
  change_actions: ["edit", "add", "remove"],
};
// Open milestones are the ones a change order may edit or remove.
const OPEN = new Set(["Pending", "Rejected"]);
// Closed milestones take no more actions: their amount is paid out, back, split or gone.
const CLOSED = new Set(["Released", "Refunded", "Settled", "Removed"]);

/** Refuses a config whose statuses or change actions lack a name these rules use: the page and
 * the service would be out of step, and the page would offer the wrong actions. */
export function checkVocabulary(config) {
  const served = { ...config.statuses, change_actions: config.change_actions };
  for (const [kind, names] of Object.entries(NAMES)) {
    const missing = names.filter((name) => !served[kind]?.includes(name));
    if (missing.length) throw new Error(`the service names no ${kind} ${missing.join(", ")}`);
  }
}

export const isOpen = (status) => OPEN.has(status);

/** An Active deal whose milestones are all closed: nothing is left to pay, refund or decide. */
export const allClosed = (dealStatus, milestoneStatuses) => dealStatus === "Active" && milestoneStatuses.every((s) => CLOSED.has(s));

/** Change orders and cancellations are signed and applied while the deal is Active. */
export const takesProposals = (dealStatus) => dealStatus === "Active";

/** "buyer", "supplier", or null for anyone else (the payee, the arbiter, a stranger). */
export function roleOf(account, deal) {
  if (sameAddress(account, deal.buyer)) return "buyer";
  if (sameAddress(account, deal.supplier)) return "supplier";
  return null;
}

/** The deal's own actions for the connected account, in the order the page shows them:
 * accept, fund / fund-permit (the buyer: approve + fund, or a permit when the token has one),
 * assign (the payee of an Active deal sells its receivable), cancel (either party, before the
 * deal is Active); await-acceptance / await-funding say whose turn it is. */
export function dealActions({ status, role, isPayee, permit }) {
  const actions = [];
  if (!role) {
    // a payee the supplier assigned its payouts to (a financier) may assign them on
    if (status === "Active" && isPayee) actions.push("assign");
    return actions;
  }
  if (status === "Proposed") actions.push(role === "supplier" ? "accept" : "await-acceptance");
  if (status === "Accepted") {
    if (role === "buyer") actions.push("fund", ...(permit ? ["fund-permit"] : []));
    else actions.push("await-funding");
  }
  if (status === "Active" && isPayee) actions.push("assign");
  if (status === "Proposed" || status === "Accepted") actions.push("cancel");
  return actions;
}

/** A milestone's actions for the connected account, in the order the page shows them; none
 * unless the deal is Active. `dueAt` is the milestone's current deadline: its due date, the end
 * of its examination window, of its warranty, or of the arbiter's ruling period. */
export function milestoneActions({ dealStatus, status, role, isArbiter, now, dueAt }) {
  if (dealStatus !== "Active") return [];
  const before = now < dueAt;
  const actions = [];
  if (role === "buyer") {
    if (status === "Examining" && before) actions.push("waive", "dispute");
    if (status === "Retained" && before) actions.push("dispute-holdback");
    if (isOpen(status) && !before) actions.push("refund");
  }
  if (role === "supplier" && (status === "Rejected" || (status === "Pending" && !before))) actions.push("dispute");
  if (status === "Disputed" && before && isArbiter) actions.push("rule");
  if (status === "Examining" && !before) actions.push("release");
  if (status === "Retained" && !before) actions.push("release-holdback");
  if (status === "Disputed" && !before) actions.push("settle");
  return actions;
}

/** A signed proposal's action for the connected account: the other party applies it, its
 * signer waits; nobody acts on one that is no longer open. */
export function proposalAction({ status, role, byMe }) {
  if (status !== "open") return null;
  if (byMe) return "await";
  return role ? "apply" : null;
}

/** Whether `account` has signed something for the deal that still counts (it may revoke it). */
export const mayRevoke = (proposals, account) => proposals.some((p) => p.status === "open" && sameAddress(p.signer, account));

/** The part of `amount` a deal with `retentionBps` holds back until its warranty ends. */
export const holdback = (amount, retentionBps, limits) => (BigInt(amount) * BigInt(retentionBps)) / BigInt(limits.max_bps);

/** What the arbiter divides: the amount of the milestone's DisputeOpened event; before the index
 * has it, the whole amount, or only the holdback when the dispute came from Retained. */
export function disputedAmount({ opened, wasRetained, amount, retentionBps }, limits) {
  if (opened !== null && opened !== undefined) return BigInt(opened);
  return wasRetained ? holdback(amount, retentionBps, limits) : BigInt(amount);
}

/** What a change order adds to the deal's total (negative: what it pays back). `actions` are the
 * change actions by code, `amounts` the deal's milestone amounts now. */
export function amendmentTopUp(changes, amounts, actions) {
  let delta = 0n;
  for (const c of changes) {
    const action = actions[Number(c.action)];
    const old = action === "add" ? 0n : BigInt(amounts[Number(c.index)]);
    const next = action === "remove" ? 0n : BigInt(c.terms.amount);
    delta += next - old;
  }
  return delta;
}

/** A change order that costs more is signed by the supplier and applied by the buyer, who pays
 * the difference: the buyer may not sign one. */
export function checkSigner(role, topUp) {
  if (role === "buyer" && topUp > 0n) {
    throw new UserError("This change order costs more: the supplier signs it and you apply it, paying the difference. Ask the supplier to propose it.");
  }
}

export function checkApplier(role, topUp) {
  if (topUp > 0n && role !== "buyer") throw new UserError("This change order costs more: the buyer applies it and pays the difference.");
}

/** A change's new terms, refused here when the escrow would refuse them once applied. */
export function checkChange(change, now, actions) {
  if (actions[change.action] === "remove") return;
  const label = `M${change.index + 1}`;
  if (change.terms.amount === 0n) throw new UserError(`${label}: the amount must be above zero (remove it instead).`);
  if (change.terms.dueAt <= now) throw new UserError(`${label}: the due date must be in the future.`);
}

// ------------------------------------------------------------ terms typed into a form

/** Operator ids typed as "1, 2": one to the limit, each a registered id's form (a uint32 from 1). */
export function oracleIds(text, label, limits) {
  const ids = text.split(/[\s,]+/).filter(Boolean).map((s) => {
    if (!/^\d+$/.test(s) || s === "0" || Number(s) > limits.max_uint32) throw new UserError(`${label}: "${s}" is not an operator id`);
    return Number(s);
  });
  if (ids.length < 1 || ids.length > limits.max_oracles) throw new UserError(`${label}: name one to ${words(limits.max_oracles)} oracles`);
  return ids;
}

/** The fixed oracle slots of a milestone's terms, unused ones as 0. */
export const oracleSlots = (ids, limits) => [...ids, ...Array(limits.max_oracles).fill(0)].slice(0, limits.max_oracles);

export function checkQuorum(quorum, oracles, label) {
  if (!(quorum >= 1 && quorum <= oracles)) {
    throw new UserError(`${label}: the quorum must be between 1 and the number of oracles (${oracles})`);
  }
}

/** A milestone amount: above zero and within the escrow's uint96. */
export function checkAmount(value, label, limits) {
  if (value === 0n || value > BigInt(limits.max_amount)) throw new UserError(`${label}: the amount must be above zero`);
}

export function checkMilestoneCount(count, limits) {
  if (count < 1) throw new UserError("Add at least one milestone.");
  if (count > limits.max_milestones) throw new UserError(`A deal has at most ${limits.max_milestones} milestones.`);
}

export function checkDueDates(dueAts, now) {
  dueAts.forEach((dueAt, i) => {
    if (dueAt <= now) throw new UserError(`M${i + 1}: the due date must be in the future`);
  });
}

/** A period typed in days, in seconds (a uint32); empty is 0. */
export function periodSeconds(text, what, limits) {
  if (text === "" || text === undefined) return 0;
  const n = Number(text);
  if (!(n >= 0) || n * DAY > limits.max_uint32) throw new UserError(`${what}: not a number of days`);
  return Math.round(n * DAY);
}

/** A retention typed in percent, in basis points. */
export function retentionBps(text, limits) {
  const percent = Number(text || 0);
  const max = limits.max_bps / 100;
  if (!(percent >= 0 && percent <= max)) throw new UserError(`Retention must be between 0 and ${max} %.`);
  return Math.round(percent * 100);
}

export function operatorId(text, what, limits) {
  if (!/^\d+$/.test(String(text).trim()) || Number(text) < 1 || Number(text) > limits.max_uint32) {
    throw new UserError(`${what} must be a registered operator's id (a number from 1).`);
  }
  return Number(text);
}

const words = (n) => ["zero", "one", "two", "three", "four", "five"][n] ?? String(n);
