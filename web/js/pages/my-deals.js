// #/ : the deals where the connected account is the buyer or the supplier, in every escrow the
// service serves (one per token), its open offers
// (to accept and fund, or to withdraw), payouts waiting for it, any deal opened by number, and
// its encryption key (published or not).
import { act, actionable, button } from "../actions.js";
import { api, createdDeal, dealLink, ethers, useEscrow } from "../chain.js";
import { amount, describeOracles, describePolicy } from "../describe.js";
import { UserError, explain } from "../errors.js";
import { formatTime, sameAddress } from "../format.js";
import { approveIfShort, requireBalance, signPermit } from "../funding.js";
import { me, state } from "../state.js";
import { addressTag, h, replace } from "../ui.js";
import { send, walletProblem } from "../wallet.js";
import { keyCard } from "./key-card.js";

/** `nav`: {current, refresh, navigate} from the router. */
export async function showMyDeals(nav) {
  const view = replace(document.getElementById("main"), h("h1", "My deals"));
  const open = h(
    "form.inline#open-deal",
    { onsubmit: (e) => { e.preventDefault(); location.hash = dealLink(e.target.deal.value); } },
    h("label", "Open deal #", h("input", { name: "deal", type: "number", min: 1, required: true })),
    h("button", { type: "submit" }, "Open"),
  );
  if (!me()) {
    view.append(h("p.muted", walletProblem()), open);
    return;
  }
  view.append(h("p", h("a.button.primary#new-deal-link", { href: "#/new" }, "New deal")), open, keyCard(nav.refresh));
  let deals, offers, owed;
  try {
    [deals, offers, owed] = await Promise.all([
      Promise.all(state.config.escrows.map((e) => api(`/escrows/${e.address}/deals?party=${me()}`))).then((lists) => lists.flat()),
      api(`/offers?party=${me()}`),
      state.escrow.owed(me()),
    ]);
  } catch (error) {
    if (nav.current()) view.append(h("div.notice.error", { role: "alert" }, explain(error).message));
    return;
  }
  if (!nav.current()) return;
  if (owed > 0n) view.append(withdrawCard(owed, nav));
  const openOffers = offers.filter((o) => o.status === "open");
  if (openOffers.length) {
    view.append(h("h2", "Open offers"), h("ul.offers#offers", openOffers.map((o) => offerItem(o, nav))));
  }
  if (!deals.length) {
    view.append(h("p.muted#no-deals", "No deals yet where this account is the buyer or the supplier."));
    return;
  }
  view.append(
    h("h2", "Deals"),
    h(
      "table.deals#deal-list",
      h("thead", h("tr", ["Deal", "Token", "You are", "Counterparty", "Status", "Total", "Funded", "Paid out", "Refunded"].map((t) => h("th", t)))),
      h(
        "tbody",
        deals.map((d) => {
          const buyer = sameAddress(d.buyer, me());
          const token = tokenOf(d.escrow);
          return h(
            "tr",
            { dataset: { deal: d.deal_id, escrow: d.escrow } },
            h("td", h("a", { href: dealLink(d.deal_id, d.escrow) }, `#${d.deal_id}`)),
            h("td.token", token.symbol),
            h("td", buyer ? "buyer" : "supplier"),
            h("td", addressTag(buyer ? d.supplier : d.buyer)),
            h("td", h(`span.status.${d.status.toLowerCase()}`, d.status)),
            h("td.num", amount(d.total, token)),
            h("td.num", amount(d.funded, token)),
            h("td.num", amount(d.released, token)),
            h("td.num", amount(d.refunded, token)),
          );
        }),
      ),
    ),
  );
}

/** The served escrow at `address`: its token's symbol and decimals. */
const tokenOf = (address) => state.config.escrows.find((e) => sameAddress(e.address, address));

/** Payouts the token refused to deliver (e.g. a denylisted address) wait in the escrow until
 * their owner withdraws them, to any address. */
function withdrawCard(owed, nav) {
  const form = h(
    "form.card#withdraw",
    {
      onsubmit: act(async () => {
        const to = form.to.value.trim();
        if (!ethers.isAddress(to)) throw new UserError("Not a valid address.");
        await send("Withdrawing deferred payouts", (e) => e.withdraw(ethers.getAddress(to)));
        await nav.refresh();
      }, { done: "Withdrawn." }),
    },
    h("p", `The escrow holds ${amount(owed)} for you: payouts the token refused to deliver to this address.`),
    h("label", "Withdraw to", h("input", { name: "to", value: me(), required: true })),
    h("button.primary", { type: "submit", disabled: !actionable() }, "Withdraw"),
  );
  return form;
}

function offerItem(o, nav) {
  const buyer = sameAddress(o.buyer, me());
  const m = o.offer.milestones;
  const token = tokenOf(o.escrow);
  return h(
    "li.offer.card",
    { dataset: { offer: o.id } },
    h("strong", `${amount(o.total, token)} in ${m.length} milestone${m.length === 1 ? "" : "s"}`),
    buyer ? [" offered by the supplier ", addressTag(o.supplier, me())] : [" offered to the buyer ", addressTag(o.buyer, me())],
    h("br"),
    h(
      "ul.offer-milestones",
      m.map((x, i) => {
        const oracles = x.oracles.filter((o) => o !== "0" && o !== 0);
        return h("li", `M${i + 1} ${amount(x.amount, token)} due ${formatTime(x.dueAt)}, attested by operators ${describeOracles(null, oracles, x.quorum)}`);
      }),
    ),
    h("br"),
    h("span.muted", `arbiter ${o.offer.arbiter}; ${describePolicy(o.offer.policy)}; valid until ${formatTime(o.deadline)}`),
    h(
      "div.actions",
      buyer
        ? button(`accept-offer-${o.id}`, "Accept and fund (one transaction)", () => acceptOffer(o, nav))
        : button(`withdraw-offer-${o.id}`, "Withdraw", async () => {
            await useEscrow(o.escrow);
            await send("Withdrawing the offer", (e) => e.cancelOffer(o.offer.nonce));
            await nav.refresh();
          }, "Offer withdrawn: it can no longer be accepted."),
    ),
  );
}

async function acceptOffer(o, nav) {
  await useEscrow(o.escrow); // accepted, funded and signed for in the offer's escrow
  const total = BigInt(o.total);
  await requireBalance(total, "this offer");
  let receipt;
  if (state.token.permit) {
    const { deadline, v, r, s } = await signPermit(total);
    receipt = await send("Accepting and funding the offer", (e) =>
      e.acceptOfferWithPermit(o.offer, o.signature, total, deadline, v, r, s),
    );
  } else {
    await approveIfShort(total);
    receipt = await send("Accepting and funding the offer", (e) => e.acceptOffer(o.offer, o.signature, total));
  }
  const id = createdDeal(receipt);
  nav.navigate(dealLink(id), `Offer accepted: deal #${id} is funded.`);
}
