// #/deal/ESCROW/ID : one deal (of the escrow the router made current). Its head (parties, amounts, policy, what the connected account can do
// with the deal itself), the milestone timeline, the signed proposals and the event history;
// followed live (deal-watch.js).
import { act, actionable, button } from "../actions.js";
import { dealStatus, ethers, milestoneStatus } from "../chain.js";
import { amount, describeEvent, describePolicy, operatorName } from "../describe.js";
import { UserError, explain } from "../errors.js";
import { sameAddress } from "../format.js";
import { approveIfShort, requireBalance, signPermit } from "../funding.js";
import { allClosed, dealActions, roleOf, takesProposals } from "../rules.js";
import { me, state } from "../state.js";
import { addressTag, h, replace } from "../ui.js";
import { send } from "../wallet.js";
import { loadDeal } from "./deal-data.js";
import { stopWatching, watch } from "./deal-watch.js";
import { milestoneCard } from "./milestones.js";
import { proposalsSection } from "./proposals.js";

/** `nav`: {current, refresh, navigate} from the router; `loaded`: the deal when the watcher has
 * just read it. */
export async function showDeal(id, nav, loaded = null) {
  stopWatching();
  const main = document.getElementById("main");
  const view = loaded ? main : replace(main, h("p.muted", `Loading deal #${id}…`));
  let d = loaded;
  try {
    d ??= await loadDeal(id);
    if (!nav.current()) return;
  } catch (error) {
    if (!nav.current()) return;
    replace(view, h("div.notice.error", { role: "alert" }, explain(error).message), h("p", h("a", { href: "#/" }, "Back to my deals")));
    return;
  }
  const { deal } = d;
  const status = dealStatus(deal);
  d.role = roleOf(me(), deal);
  const funded = deal.total - deal.unfunded;
  const paid = d.index ? BigInt(d.index.released) : null;
  const refunded = d.index ? BigInt(d.index.refunded) : null;
  const refresh = nav.refresh;

  replace(
    view,
    h(
      "section.card.deal-head",
      h(
        "h1",
        `Deal #${id} `,
        h(`span.status.${status.toLowerCase()}#deal-status`, status),
        allClosed(status, d.milestones.map(milestoneStatus))
          ? h("span.status.closed#deal-closed", "every milestone closed")
          : null,
        h("span.version", `version ${deal.version}`),
      ),
      d.role
        ? h("p.role#role", `You are the ${d.role} of this deal.`)
        : d.myOperator === deal.arbiter
          ? h("p.role#role", `You sign for ${operatorName(d, deal.arbiter)}, this deal's arbiter: you rule on its disputes.`)
          : h("p.muted#role", "You are not a party to this deal: read-only."),
      h(
        "dl.facts",
        h("dt", "Buyer"), h("dd", addressTag(deal.buyer, me())),
        h("dt", "Supplier"), h("dd", addressTag(deal.supplier, me())),
        !sameAddress(d.payee, deal.supplier) ? [h("dt", "Payouts go to"), h("dd", addressTag(d.payee, me()))] : null,
        h("dt", "Arbiter"), h("dd", operatorName(d, deal.arbiter)),
        h("dt", "Token"), h("dd#deal-token", `${state.token.symbol} `, addressTag(state.token.address), ` (escrow `, addressTag(state.escrowAddress), ")"),
        h("dt", "Total"), h("dd#deal-total", amount(deal.total)),
        h("dt", "Funded"), h("dd#deal-funded", amount(funded)),
        paid !== null ? [h("dt", "Paid to supplier"), h("dd#deal-paid", amount(paid))] : null,
        refunded !== null ? [h("dt", "Refunded to buyer"), h("dd#deal-refunded", amount(refunded))] : null,
        h("dt", "Policy"), h("dd", describePolicy(d.policy)),
      ),
      d.index ? null : h("p.muted", "The service has not indexed this deal yet: evidence and history appear once it has."),
      dealActionsBox(d, status, refresh),
    ),
    h("section.card", h("h2", "Milestones"), h("ol.timeline#timeline", d.milestones.map((m, i) => milestoneCard(d, m, i, refresh)))),
    takesProposals(status) ? proposalsSection(d, refresh) : null,
    d.index ? historySection(d) : null,
  );
  watch(d, (next) => showDeal(id, nav, next));
}

function dealActionsBox(d, status, refresh) {
  const { deal, role, id } = d;
  const box = h("div.actions#deal-actions");
  const shown = {
    accept: () => button("accept-deal", "Accept deal", async () => {
      await send(`Accepting deal #${id}`, (e) => e.acceptDeal(id));
      await refresh();
    }, "Deal accepted: the buyer can fund it now."),
    "await-acceptance": () => h("p.muted", "Waiting for the supplier to accept."),
    fund: () => [
      h("p", `To fund: ${amount(deal.unfunded)}.`),
      button("fund", "Approve and fund", () => fundDeal(d, false, refresh), "Deal funded."),
    ],
    "fund-permit": () => button("fund-permit", "Fund with a permit signature", () => fundDeal(d, true, refresh), "Deal funded."),
    "await-funding": () => h("p.muted", "Waiting for the buyer to fund."),
    assign: () => assignForm(d, refresh),
    cancel: () => button("cancel-deal", "Call the deal off", async () => {
      await send(`Calling off deal #${id}`, (e) => e.cancelDeal(id));
      await refresh();
    }, "Deal called off; any deposit went back to the buyer."),
  };
  const actions = dealActions({ status, role, isPayee: sameAddress(me(), d.payee), permit: !!state.token.permit });
  for (const action of actions) box.append(...[shown[action]()].flat());
  return box;
}

/** The payee assigns the deal's future payouts (a receivable) to another address. */
function assignForm(d, refresh) {
  const form = h(
    "form.inline#assign",
    {
      onsubmit: act(async () => {
        const to = form.to.value.trim();
        if (!ethers.isAddress(to)) throw new UserError("Not a valid address.");
        if (sameAddress(to, d.payee)) throw new UserError("Payouts already go to that address.");
        await send(`Assigning deal #${d.id}'s payouts`, (e) => e.assignPayments(d.id, ethers.getAddress(to)));
        await refresh();
      }, { done: "Payouts assigned: from now on they go to the new address." }),
    },
    h("label", "Assign future payouts to (e.g. a financier)", h("input", { name: "to", placeholder: "0x…", required: true, autocomplete: "off" })),
    h("button", { type: "submit", disabled: !actionable() }, "Assign"),
  );
  return form;
}

async function fundDeal(d, withPermit, refresh) {
  const need = d.deal.unfunded;
  await requireBalance(need, "this deal");
  if (withPermit) {
    const { deadline, v, r, s } = await signPermit(need);
    await send(`Funding deal #${d.id}`, (e) => e.fundWithPermit(d.id, need, deadline, v, r, s));
  } else {
    await approveIfShort(need);
    await send(`Funding deal #${d.id}`, (e) => e.fund(d.id, need));
  }
  await refresh();
}

function historySection(d) {
  return h(
    "section.card",
    h("h2", "History"),
    h(
      "ol.history",
      d.index.history.map((e) =>
        h("li", h("code", e.event), describeEvent(e.args), ` · block ${e.block} `, h("code.muted", { title: e.tx_hash }, e.tx_hash.slice(0, 10) + "…")),
      ),
    ),
  );
}
