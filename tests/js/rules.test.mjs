// The page's rules (web/js/rules.js): who may do what, when, and what a form may hold. Run by
// tests/web/test_page_rules.py with `node --test`, which passes the statuses and change actions
// the service serves in /app/config.json (PAGE_VOCABULARY), so a renamed status fails here.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allClosed, amendmentTopUp, checkAmount, checkApplier, checkChange, checkMilestoneCount, checkQuorum, checkSigner,
  checkVocabulary, dealActions, disputedAmount, holdback, milestoneActions, oracleIds,
  oracleSlots, operatorId, periodSeconds, proposalAction, retentionBps, roleOf, takesProposals,
} from "../../web/js/rules.js";

const served = JSON.parse(process.env.PAGE_VOCABULARY);
const LIMITS = {
  max_milestones: 64, max_oracles: 3, max_bps: 10000, max_amount: ((1n << 96n) - 1n).toString(),
  max_uint32: 2 ** 32 - 1, default_ruling_period: 30 * 86400,
};
const ACTIONS = served.change_actions;
const code = (name) => ACTIONS.indexOf(name);

test("the service serves every status and change action the rules name, and a gap is refused", () => {
  checkVocabulary(served);
  const lacking = { ...served, statuses: { ...served.statuses, milestone: served.statuses.milestone.filter((s) => s !== "Retained") } };
  assert.throws(() => checkVocabulary(lacking), /the service names no milestone Retained/);
  assert.throws(() => checkVocabulary({ ...served, change_actions: ["edit", "add"] }), /no change_actions remove/);
});

test("a party is found by address, whatever its case", () => {
  const deal = { buyer: "0xAbC0000000000000000000000000000000000001", supplier: "0xabc0000000000000000000000000000000000002" };
  assert.equal(roleOf("0xabc0000000000000000000000000000000000001", deal), "buyer");
  assert.equal(roleOf("0xABC0000000000000000000000000000000000002", deal), "supplier");
  assert.equal(roleOf("0xabc0000000000000000000000000000000000003", deal), null);
  assert.equal(roleOf(null, deal), null);
});

test("the deal's own actions follow its status and the party", () => {
  const actions = (status, role, isPayee = false, permit = true) => dealActions({ status, role, isPayee, permit });
  assert.deepEqual(actions("Proposed", "supplier"), ["accept", "cancel"]);
  assert.deepEqual(actions("Proposed", "buyer"), ["await-acceptance", "cancel"]);
  assert.deepEqual(actions("Accepted", "buyer"), ["fund", "fund-permit", "cancel"]);
  assert.deepEqual(actions("Accepted", "buyer", false, false), ["fund", "cancel"]);
  assert.deepEqual(actions("Accepted", "supplier"), ["await-funding", "cancel"]);
  assert.deepEqual(actions("Active", "supplier", true), ["assign"]);
  assert.deepEqual(actions("Active", "buyer"), []);
  assert.deepEqual(actions("Active", null, true), ["assign"]); // a financier the payouts went to
  assert.deepEqual(actions("Accepted", null, true), []);
  assert.deepEqual(actions("Cancelled", "buyer"), []);
});

test("milestone actions open and close at their deadline, in chain time", () => {
  const at = (status, role, now, extra = {}) =>
    milestoneActions({ dealStatus: "Active", status, role, isArbiter: false, now, dueAt: 100n, ...extra });
  // inside a window: offered while the latest block is before the deadline
  assert.deepEqual(at("Examining", "buyer", 99n), ["waive", "dispute"]);
  assert.deepEqual(at("Examining", "buyer", 100n), ["release"]);
  assert.deepEqual(at("Examining", "supplier", 99n), []);
  assert.deepEqual(at("Retained", "buyer", 99n), ["dispute-holdback"]);
  assert.deepEqual(at("Retained", null, 100n), ["release-holdback"]);
  // after a deadline: offered at or past it
  assert.deepEqual(at("Pending", "buyer", 99n), []);
  assert.deepEqual(at("Pending", "buyer", 100n), ["refund"]);
  assert.deepEqual(at("Rejected", "buyer", 100n), ["refund"]);
  assert.deepEqual(at("Pending", "supplier", 100n), ["dispute"]);
  assert.deepEqual(at("Rejected", "supplier", 99n), ["dispute"]);
  assert.deepEqual(at("Pending", "supplier", 99n), []);
  // the arbiter rules before its deadline; after it, anyone applies the default
  assert.deepEqual(at("Disputed", null, 99n, { isArbiter: true }), ["rule"]);
  assert.deepEqual(at("Disputed", "buyer", 99n), []);
  assert.deepEqual(at("Disputed", null, 100n, { isArbiter: true }), ["settle"]);
  for (const closed of ["Released", "Refunded", "Settled", "Removed"]) assert.deepEqual(at(closed, "buyer", 100n), []);
  assert.deepEqual(at("Examining", "buyer", 99n, { dealStatus: "Cancelled" }), []);
  assert.ok(allClosed("Active", ["Released", "Settled", "Removed", "Refunded"]));
  assert.ok(!allClosed("Active", ["Released", "Retained"]));
  assert.ok(!allClosed("Cancelled", ["Refunded"]));
  assert.ok(takesProposals("Active") && !takesProposals("Accepted"));
});

test("a signed proposal is applied by the other party, awaited by its signer", () => {
  assert.equal(proposalAction({ status: "open", role: "buyer", byMe: false }), "apply");
  assert.equal(proposalAction({ status: "open", role: "buyer", byMe: true }), "await");
  assert.equal(proposalAction({ status: "open", role: null, byMe: false }), null);
  assert.equal(proposalAction({ status: "stale", role: "buyer", byMe: false }), null);
});

test("the holdback and the disputed amount", () => {
  assert.equal(holdback(1_000_001n, 1000, LIMITS), 100_000n); // rounded down, as the escrow does
  const disputed = (extra) => disputedAmount({ opened: null, wasRetained: false, amount: 500n, retentionBps: 2000, ...extra }, LIMITS);
  assert.equal(disputed({}), 500n);
  assert.equal(disputed({ wasRetained: true }), 100n);
  assert.equal(disputed({ opened: "42", wasRetained: true }), 42n);
  assert.equal(disputed({ opened: "0" }), 0n);
});

test("a change order's top-up: the supplier signs what costs more, the buyer applies and pays it", () => {
  const amounts = [100n, 200n, 300n];
  const changes = [
    { index: 0, action: code("edit"), terms: { amount: "150" } },
    { index: 1, action: code("remove"), terms: { amount: "0" } },
    { index: 3, action: code("add"), terms: { amount: "400" } },
  ];
  assert.equal(amendmentTopUp(changes, amounts, ACTIONS), 50n - 200n + 400n);
  assert.equal(amendmentTopUp([changes[1]], amounts, ACTIONS), -200n);
  assert.throws(() => checkSigner("buyer", 1n), /the supplier signs it and you apply it/);
  checkSigner("buyer", 0n);
  checkSigner("supplier", 250n);
  assert.throws(() => checkApplier("supplier", 1n), /the buyer applies it and pays the difference/);
  checkApplier("buyer", 250n);
  checkApplier("supplier", -5n);
});

test("a change the escrow would refuse is refused before signing", () => {
  const change = (action, amount, dueAt) => ({ index: 1, action: code(action), terms: { amount, dueAt } });
  assert.throws(() => checkChange(change("edit", 0n, 200n), 100n, ACTIONS), /M2: the amount must be above zero \(remove it instead\)/);
  assert.throws(() => checkChange(change("add", 5n, 100n), 100n, ACTIONS), /M2: the due date must be in the future/);
  checkChange(change("remove", 0n, 0n), 100n, ACTIONS);
  checkChange(change("edit", 5n, 101n), 100n, ACTIONS);
});

test("milestone terms typed into a form are checked against the escrow's limits", () => {
  assert.deepEqual(oracleIds(" 1, 2 3", "M1", LIMITS), [1, 2, 3]);
  assert.throws(() => oracleIds("1, 2, 3, 4", "M1", LIMITS), /M1: name one to three oracles/);
  assert.throws(() => oracleIds("", "M1", LIMITS), /M1: name one to three oracles/);
  assert.throws(() => oracleIds("0", "M2", LIMITS), /M2: "0" is not an operator id/);
  assert.throws(() => oracleIds("4294967296", "M1", LIMITS), /is not an operator id/);
  assert.throws(() => oracleIds("1.5", "M1", LIMITS), /is not an operator id/);
  assert.deepEqual(oracleSlots([7], LIMITS), [7, 0, 0]);
  checkQuorum(2, 2, "M1");
  assert.throws(() => checkQuorum(3, 2, "M1"), /between 1 and the number of oracles \(2\)/);
  assert.throws(() => checkQuorum(0, 2, "M1"), /the quorum must be between 1/);
  checkAmount((1n << 96n) - 1n, "M1", LIMITS);
  assert.throws(() => checkAmount(1n << 96n, "M1", LIMITS), /M1: the amount must be above zero/);
  assert.throws(() => checkAmount(0n, "M1", LIMITS), /above zero/);
  checkMilestoneCount(64, LIMITS);
  assert.throws(() => checkMilestoneCount(65, LIMITS), /at most 64 milestones/);
  assert.throws(() => checkMilestoneCount(0, LIMITS), /Add at least one milestone/);
});

test("policy fields typed into a form", () => {
  assert.equal(periodSeconds("", "Warranty", LIMITS), 0);
  assert.equal(periodSeconds("1.5", "Warranty", LIMITS), 129600);
  assert.throws(() => periodSeconds("-1", "Warranty", LIMITS), /Warranty: not a number of days/);
  assert.throws(() => periodSeconds("49711", "Warranty", LIMITS), /not a number of days/); // > uint32 seconds
  assert.equal(retentionBps("12.5", LIMITS), 1250);
  assert.equal(retentionBps("", LIMITS), 0);
  assert.throws(() => retentionBps("100.01", LIMITS), /Retention must be between 0 and 100 %/);
  assert.equal(operatorId(" 7 ", "The arbiter", LIMITS), 7);
  assert.throws(() => operatorId("0", "The arbiter", LIMITS), /The arbiter must be a registered operator's id/);
});
