// The deal in words: amounts with the token's symbol, policies, oracles, proposals and events.
import { changeAction } from "./chain.js";
import { DAY, formatAmount, formatTime } from "./format.js";
import { state } from "./state.js";

/** "1,500.50 tUSD": in the current escrow's token, or in `token` ({symbol, decimals}). */
export const amount = (value, token = state.token) => `${formatAmount(value, token.decimals)} ${token.symbol}`;

/** "#3 Inspecta": an operator by id, with its registered name once the deal page has read it. */
export function operatorName(d, id) {
  return `#${id} ${d.operators.get(id) || ""}`.trim();
}

export function describePolicy(policy) {
  // from the chain (bigints) or from the service (decimal strings)
  const [window_, ruling, warranty, retention] = [
    policy.examinationWindow, policy.rulingPeriod, policy.warrantyPeriod, policy.retentionBps,
  ].map(Number);
  const days_ = (seconds) => `${+(seconds / DAY).toFixed(2)} day${seconds === DAY ? "" : "s"}`;
  const parts = [window_ ? `${days_(window_)} examination window` : "paid on attestation"];
  parts.push(`${days_(ruling || state.config.limits.default_ruling_period)} ruling period`);
  if (retention) parts.push(`${(retention * 100) / state.config.limits.max_bps}% held ${days_(warranty)}`);
  return parts.join(" · ");
}

export function describeOracles(d, oracles, quorum) {
  const names = oracles.map((o) => (d?.operators?.get(BigInt(o)) ? operatorName(d, BigInt(o)) : `#${o}`));
  return `${names.join(", ")} (${quorum} of ${oracles.length} needed)`;
}

export function describeProposal(d, p) {
  const m = p.message;
  if (p.kind === "cancellation") {
    return `End the deal: ${amount(m.toSupplier)} to the supplier, ${amount(m.toBuyer)} back to the buyer`;
  }
  return "Change order: " + m.changes.map((c) => {
    const action = changeAction(c);
    if (action === "remove") return `remove M${Number(c.index) + 1}`;
    const current = d.milestones[Number(c.index)];
    const oracles = c.terms.oracles.map(BigInt).filter((o) => o !== 0n);
    const sameOracles = action === "edit" && current && oracles.join() === [...current.oracles].filter((o) => o !== 0n).join()
      && BigInt(c.terms.quorum) === BigInt(current.quorum);
    const who = sameOracles ? "" : `, attested by ${describeOracles(d, oracles, c.terms.quorum)}${action === "edit" ? " (oracles changed)" : ""}`;
    return `${action} M${Number(c.index) + 1} (${amount(c.terms.amount)}, due ${formatTime(c.terms.dueAt)}${who})`;
  }).join("; ");
}

/** The arguments a reader needs: which milestone, how much, for whom. */
export function describeEvent(args) {
  const parts = [];
  if (args.index !== undefined) parts.push(`M${Number(args.index) + 1}`);
  for (const key of ["amount", "credited", "toSupplier", "toBuyer", "held", "refunded", "added", "removed"]) {
    if (args[key] !== undefined && BigInt(args[key]) !== 0n) parts.push(`${key} ${amount(args[key])}`);
  }
  if (args.version !== undefined) parts.push(`version ${args.version}`);
  if (args.byDefault) parts.push("by default");
  return parts.length ? ` ${parts.join(", ")}` : "";
}
