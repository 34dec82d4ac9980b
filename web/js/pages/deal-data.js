// One deal as its page shows it: the chain's state (deal, policy, payee, milestones, chain
// time) with the service's index, signed proposals and documents, and the operators' names.
import { api, chainTime, dealPath } from "../chain.js";
import { UserError, explain } from "../errors.js";
import { me, state } from "../state.js";

// Operator names, read once per page load (the deal page reads the deal every 2 seconds).
const operatorNames = new Map();

export async function loadDeal(id) {
  let deal;
  try {
    deal = await state.escrow.getDeal(id);
  } catch (error) {
    const e = explain(error);
    throw new UserError(e.message.includes("UnknownDeal") ? `There is no deal #${id} on this escrow.` : e.message);
  }
  const count = Number(deal.milestoneCount);
  const [policy, payee, now, milestones, index, proposals, documents] = await Promise.all([
    state.escrow.getPolicy(id),
    state.escrow.payeeOf(id),
    chainTime(),
    Promise.all([...Array(count).keys()].map((i) => state.escrow.getMilestone(id, i))),
    api(dealPath(id)).catch((error) => (error.status === 404 ? null : Promise.reject(error))),
    api(dealPath(id, "/proposals")),
    api(dealPath(id, "/documents")),
  ]);
  const ids = new Set([deal.arbiter, ...milestones.flatMap((m) => [...m.oracles])].filter((o) => o !== 0n));
  await Promise.all([...ids].filter((o) => !operatorNames.has(o)).map(async (o) => {
    try {
      operatorNames.set(o, (await state.escrow.getOperator(o)).name);
    } catch {
      // shown by id alone; read again on the next refresh
    }
  }));
  const operators = operatorNames;
  const myOperator = me() ? await state.escrow.operatorOf(me()).catch(() => 0n) : 0n;
  return { id, deal, policy, payee, now, milestones, index, proposals, documents, operators, myOperator };
}
