// The pages: my deals (#/), a new deal (#/new), one deal (#/deal/ID). Hash routing, so the
// service serves one static index.html.
import {
  DEAL_STATUS, MILESTONE_STATUS, UserError, api, chainTime, connect, escrowDomain, ethers,
  explain, initWallet, loadDeployment, onWalletChange, send, signTyped, state, switchNetwork,
  tokenFor, walletProblem,
} from "./chain.js";
import {
  addressTag, clearNotices, dateInput, endOfDay, formatAmount, formatTime, h, notify,
  parseAmount, relative, replace,
} from "./ui.js";

const main = () => document.getElementById("main");
const amount = (value) => `${formatAmount(value, state.token.decimals)} ${state.token.symbol}`;
const me = () => state.wallet.account;
const same = (a, b) => !!a && !!b && a.toLowerCase() === b.toLowerCase();
const DAY = 86400;
const MAX_UINT96 = (1n << 96n) - 1n;
const ZERO_HASH = "0x" + "00".repeat(32);

// ---------------------------------------------------------------------------------- shell

async function start() {
  try {
    await loadDeployment();
  } catch (error) {
    replace(main(), h("div.notice.error", { role: "alert" }, `This page cannot reach its escrow: ${error.message}`));
    return;
  }
  try {
    await initWallet();
  } catch (error) {
    notify("error", explain(error).message);
  }
  onWalletChange(() => {
    renderWallet();
    route();
  });
  window.addEventListener("hashchange", () => {
    clearNotices();
    if (flash) notify("ok", flash);
    flash = null;
    route();
  });
  renderWallet();
  route();
}

function renderWallet() {
  const bar = document.getElementById("wallet");
  const w = state.wallet;
  const network = h("span.network", `chain ${state.config.chain_id} · ${state.token.symbol}`);
  if (!w.eip1193) {
    replace(bar, network, h("span.muted", "no wallet: read-only"));
  } else if (!w.account) {
    replace(bar, network, h("button#connect.primary", { type: "button", onclick: act(connect) }, "Connect wallet"));
  } else {
    replace(bar, network, addressTag(w.account));
  }
  const banner = document.getElementById("network-banner");
  const wrong = w.account && w.chainId !== state.config.chain_id;
  banner.hidden = !wrong;
  document.body.classList.toggle("wrong-network", !!wrong);
  if (wrong) {
    replace(
      banner,
      h("span", walletProblem()),
      h("button#switch-network", { type: "button", onclick: act(switchNetwork) }, "Switch network"),
    );
  }
}

// A message for the page a navigation leads to (navigating clears the notices).
let flash = null;

function go(hash, message) {
  if (location.hash === hash) {
    notify("ok", message);
    return route();
  }
  flash = message;
  location.hash = hash;
}

/** Wraps a handler: disables its button while it runs, shows what it threw. */
function act(fn, { done } = {}) {
  return async (event) => {
    event?.preventDefault?.();
    const button = event?.currentTarget instanceof HTMLButtonElement ? event.currentTarget : event?.submitter;
    if (button) button.disabled = true;
    busy += 1;
    try {
      await fn(event);
      if (done) notify("ok", done);
    } catch (error) {
      notify("error", explain(error).message);
    } finally {
      busy -= 1;
      if (button) button.disabled = false;
    }
  };
}

// Every navigation starts a new generation; a page still loading for an older one drops its
// result instead of drawing over the page the user went to.
let generation = 0;

function route() {
  stopWatching();
  generation += 1;
  const hash = location.hash.replace(/^#/, "") || "/";
  const deal = /^\/deal\/(\d+)$/.exec(hash);
  if (deal) return showDeal(BigInt(deal[1]));
  if (hash === "/new") return showNewDeal();
  return showMyDeals();
}

function actionable() {
  return walletProblem() === null;
}

// ------------------------------------------------------------------------------- my deals

async function showMyDeals() {
  const gen = generation;
  const view = replace(main(), h("h1", "My deals"));
  const open = h(
    "form.inline#open-deal",
    { onsubmit: (e) => { e.preventDefault(); location.hash = `#/deal/${e.target.deal.value}`; } },
    h("label", "Open deal #", h("input", { name: "deal", type: "number", min: 1, required: true })),
    h("button", { type: "submit" }, "Open"),
  );
  if (!me()) {
    view.append(h("p.muted", walletProblem()), open);
    return;
  }
  view.append(h("p", h("a.button.primary#new-deal-link", { href: "#/new" }, "New deal")), open);
  let deals, offers, owed;
  try {
    [deals, offers, owed] = await Promise.all([
      api(`/deals?party=${me()}`),
      api(`/offers?party=${me()}`),
      state.escrow.owed(me()),
    ]);
  } catch (error) {
    if (gen === generation) view.append(h("div.notice.error", { role: "alert" }, explain(error).message));
    return;
  }
  if (gen !== generation) return;
  if (owed > 0n) view.append(withdrawCard(owed));
  const openOffers = offers.filter((o) => o.status === "open");
  if (openOffers.length) {
    view.append(h("h2", "Open offers"), h("ul.offers#offers", openOffers.map(offerItem)));
  }
  if (!deals.length) {
    view.append(h("p.muted#no-deals", "No deals yet where this account is the buyer or the supplier."));
    return;
  }
  view.append(
    h("h2", "Deals"),
    h(
      "table.deals#deal-list",
      h("thead", h("tr", ["Deal", "You are", "Counterparty", "Status", "Total", "Funded", "Paid out", "Refunded"].map((t) => h("th", t)))),
      h(
        "tbody",
        deals.map((d) => {
          const buyer = same(d.buyer, me());
          return h(
            "tr",
            { dataset: { deal: d.deal_id } },
            h("td", h("a", { href: `#/deal/${d.deal_id}` }, `#${d.deal_id}`)),
            h("td", buyer ? "buyer" : "supplier"),
            h("td", addressTag(buyer ? d.supplier : d.buyer)),
            h("td", h(`span.status.${d.status.toLowerCase()}`, d.status)),
            h("td.num", amount(d.total)),
            h("td.num", amount(d.funded)),
            h("td.num", amount(d.released)),
            h("td.num", amount(d.refunded)),
          );
        }),
      ),
    ),
  );
}

/** Payouts the token refused to deliver (e.g. a denylisted address) wait in the escrow until
 * their owner withdraws them, to any address. */
function withdrawCard(owed) {
  const form = h(
    "form.card#withdraw",
    {
      onsubmit: act(async () => {
        const to = form.to.value.trim();
        if (!ethers.isAddress(to)) throw new UserError("Not a valid address.");
        await send("Withdrawing deferred payouts", (e) => e.withdraw(ethers.getAddress(to)));
        await showMyDeals();
      }, { done: "Withdrawn." }),
    },
    h("p", `The escrow holds ${amount(owed)} for you: payouts the token refused to deliver to this address.`),
    h("label", "Withdraw to", h("input", { name: "to", value: me(), required: true })),
    h("button.primary", { type: "submit", disabled: !actionable() }, "Withdraw"),
  );
  return form;
}

function offerItem(o) {
  const buyer = same(o.buyer, me());
  const m = o.offer.milestones;
  return h(
    "li.offer.card",
    { dataset: { offer: o.id } },
    h("strong", `${amount(o.total)} in ${m.length} milestone${m.length === 1 ? "" : "s"}`),
    buyer ? [" offered by the supplier ", addressTag(o.supplier, me())] : [" offered to the buyer ", addressTag(o.buyer, me())],
    h("br"),
    h(
      "ul.offer-milestones",
      m.map((x, i) => {
        const oracles = x.oracles.filter((o) => o !== "0" && o !== 0);
        return h("li", `M${i + 1} ${amount(x.amount)} due ${formatTime(x.dueAt)}, attested by operators ${describeOracles(null, oracles, x.quorum)}`);
      }),
    ),
    h("br"),
    h("span.muted", `arbiter ${o.offer.arbiter}; ${describePolicy(o.offer.policy)}; valid until ${formatTime(o.deadline)}`),
    h(
      "div.actions",
      buyer
        ? button(`accept-offer-${o.id}`, "Accept and fund (one transaction)", () => acceptOffer(o))
        : button(`withdraw-offer-${o.id}`, "Withdraw", async () => {
            await send("Withdrawing the offer", (e) => e.cancelOffer(o.offer.nonce));
            await showMyDeals();
          }, "Offer withdrawn: it can no longer be accepted."),
    ),
  );
}

async function acceptOffer(o) {
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
  go(`#/deal/${id}`, `Offer accepted: deal #${id} is funded.`);
}

// ------------------------------------------------------------------------------- new deal

async function showNewDeal() {
  const gen = generation;
  const now = await chainTime();
  if (gen !== generation) return;
  const milestones = h("div#milestones");
  const form = h(
    "form#new-deal.card",
    { onsubmit: act(() => createDeal(form)) },
    h("h1", "New deal"),
    h(
      "fieldset",
      h("legend", "Parties"),
      h("label.radio", h("input", { type: "radio", name: "role", value: "buyer", checked: true }), "I am the buyer (the supplier accepts next)"),
      h("label.radio", h("input", { type: "radio", name: "role", value: "supplier" }), "I am the supplier (the deal is accepted; the buyer funds next)"),
      h("label", "Counterparty address", h("input", { name: "counterparty", required: true, placeholder: "0x…", autocomplete: "off" })),
      h("label", "Arbiter (operator id)", h("input", { name: "arbiter", type: "number", min: 1, required: true }), h("span.hint#arbiter-name")),
      h("p.hint.token", `Paid in ${state.token.symbol} `, addressTag(state.token.address), ` (${state.token.decimals} decimals): this escrow's token; each token has its own escrow.`),
    ),
    h(
      "fieldset",
      h("legend", "Policy"),
      h("label", "Examination window (days, 0: pay on attestation)", h("input", { name: "examination", type: "number", min: 0, step: "any", value: 0 })),
      h("label", "Ruling period (days, empty: 30)", h("input", { name: "ruling", type: "number", min: 0, step: "any" })),
      h("label", "Retention (% held back)", h("input", { name: "retention", type: "number", min: 0, max: 100, step: "0.01", value: 0 })),
      h("label", "Warranty (days the holdback is kept)", h("input", { name: "warranty", type: "number", min: 0, step: "any", value: 0 })),
    ),
    h(
      "fieldset",
      h("legend", `Milestones (amounts in ${state.token.symbol})`),
      milestones,
      h("button#add-milestone", { type: "button", onclick: () => milestones.append(milestoneRow(now, milestones.children.length)) }, "+ Milestone"),
    ),
    h(
      "div.actions",
      h("button#create-deal.primary", { type: "submit" }, "Create deal on chain"),
      h("span.muted", "or, as the supplier:"),
      h("button#sign-offer", { type: "button", onclick: act(() => signOffer(form)) }, "Sign an offer"),
      h("label.inline-label", "valid for (days)", h("input", { name: "valid", type: "number", min: 1, value: 14 })),
    ),
    h("p.hint", "An offer costs the supplier nothing: it is a signature the buyer accepts and funds in one transaction."),
  );
  milestones.append(milestoneRow(now, 0));
  form.arbiter.addEventListener("change", () => describeOperator(form.arbiter.value, document.getElementById("arbiter-name")));
  replace(main(), form);
}

function milestoneRow(now, index) {
  const row = h(
    "div.milestone-input",
    h("strong", `M${index + 1}`),
    h("label", "Amount", h("input", { name: "amount", required: true, inputmode: "decimal" })),
    h("label", "Due", h("input", { name: "due", type: "date", required: true, value: dateInput(Number(now) + 30 * DAY) })),
    h("label", "Oracles (operator ids)", h("input", { name: "oracles", required: true, placeholder: "1, 2" })),
    h("label", "Quorum", h("input", { name: "quorum", type: "number", min: 1, max: 3, value: 1, required: true })),
    h("label.wide", "Evidence requirements", h("input", { name: "requirements", placeholder: "e.g. inspection report, AQL 2.5" })),
    h("button.remove", { type: "button", onclick: () => row.remove() }, "Remove"),
  );
  return row;
}

async function describeOperator(id, target) {
  try {
    const op = await state.escrow.getOperator(BigInt(id));
    replace(target, `${op.name || "unnamed"} (${op.activeKeys} active key${op.activeKeys === 1n ? "" : "s"})`);
  } catch {
    replace(target, "not a registered operator");
  }
}

function readMilestone(row, index) {
  const label = `M${index + 1}`;
  const oracles = row.querySelector("[name=oracles]").value.split(/[\s,]+/).filter(Boolean).map((s) => {
    if (!/^\d+$/.test(s) || s === "0" || Number(s) > 0xffffffff) throw new UserError(`${label}: "${s}" is not an operator id`);
    return Number(s);
  });
  if (oracles.length < 1 || oracles.length > 3) throw new UserError(`${label}: name one to three oracles`);
  const quorum = Number(row.querySelector("[name=quorum]").value);
  if (!(quorum >= 1 && quorum <= oracles.length)) {
    throw new UserError(`${label}: the quorum must be between 1 and the number of oracles (${oracles.length})`);
  }
  const value = parseAmount(row.querySelector("[name=amount]").value, state.token.decimals, `${label} amount`);
  if (value === 0n || value > MAX_UINT96) throw new UserError(`${label}: the amount must be above zero`);
  const requirements = row.querySelector("[name=requirements]").value.trim();
  return {
    amount: value,
    dueAt: BigInt(endOfDay(row.querySelector("[name=due]").value)),
    quorum,
    oracles: [...oracles, 0, 0].slice(0, 3),
    requirementsHash: requirements ? ethers.sha256(ethers.toUtf8Bytes(requirements)) : ZERO_HASH,
  };
}

function days(text, what) {
  if (text === "" || text === undefined) return 0;
  const n = Number(text);
  if (!(n >= 0) || n * DAY > 0xffffffff) throw new UserError(`${what}: not a number of days`);
  return Math.round(n * DAY);
}

function operatorId(text, what) {
  if (!/^\d+$/.test(String(text).trim()) || Number(text) < 1 || Number(text) > 0xffffffff) {
    throw new UserError(`${what} must be a registered operator's id (a number from 1).`);
  }
  return Number(text);
}

/** The deal the form describes, checked as the escrow will check it. */
async function readDeal(form) {
  if (!actionable()) throw new UserError(walletProblem());
  const counterparty = form.counterparty.value.trim();
  if (!ethers.isAddress(counterparty)) throw new UserError("The counterparty is not a valid address.");
  if (same(counterparty, me())) throw new UserError("The counterparty must be another account than yours.");
  const buyerRole = form.role.value === "buyer";
  const rows = [...form.querySelectorAll(".milestone-input")];
  if (!rows.length) throw new UserError("Add at least one milestone.");
  const milestones = rows.map(readMilestone);
  const now = await chainTime();
  milestones.forEach((m, i) => {
    if (m.dueAt <= now) throw new UserError(`M${i + 1}: the due date must be in the future`);
  });
  const retention = Number(form.retention.value || 0);
  if (!(retention >= 0 && retention <= 100)) throw new UserError("Retention must be between 0 and 100 %.");
  return {
    now,
    buyer: buyerRole ? me() : ethers.getAddress(counterparty),
    supplier: buyerRole ? ethers.getAddress(counterparty) : me(),
    arbiter: operatorId(form.arbiter.value, "The arbiter"),
    policy: {
      examinationWindow: days(form.examination.value, "Examination window"),
      rulingPeriod: days(form.ruling.value, "Ruling period"),
      warrantyPeriod: days(form.warranty.value, "Warranty"),
      retentionBps: Math.round(retention * 100),
    },
    milestones,
  };
}

async function createDeal(form) {
  const { buyer, supplier, arbiter, policy, milestones } = await readDeal(form);
  const receipt = await send("Creating the deal", (escrow) =>
    escrow.createDeal(buyer, supplier, arbiter, policy, milestones),
  );
  const id = createdDeal(receipt);
  go(`#/deal/${id}`, `Deal #${id} created.`);
}

/** The escrow's events in a receipt, decoded. */
function escrowEvents(receipt) {
  return (receipt?.logs || [])
    .filter((log) => same(log.address, state.config.escrow))
    .map((log) => { try { return state.iface.parseLog(log); } catch { return null; } })
    .filter(Boolean);
}

function createdDeal(receipt) {
  return escrowEvents(receipt).find((e) => e.name === "DealCreated").args.dealId;
}

/** The supplier signs the deal as an offer (EIP-712 DealOffer); the service keeps it until the
 * buyer accepts and funds it in one transaction. Nothing goes on chain now. */
async function signOffer(form) {
  const { now, buyer, supplier, arbiter, policy, milestones } = await readDeal(form);
  if (form.role.value !== "supplier") throw new UserError("Only the supplier signs an offer.");
  const random = crypto.getRandomValues(new Uint32Array(4));
  const nonce = random.reduce((n, word) => (n << 32n) | BigInt(word), 0n); // unordered, 128 bits
  const offer = {
    buyer, supplier, arbiter, policy, milestones, nonce,
    deadline: now + BigInt(days(form.valid.value, "Offer valid for") || DAY),
  };
  const signature = await signTyped("DealOffer", escrowDomain(), state.config.types.DealOffer, offer);
  await api("/offers", { method: "POST", body: toJson({ offer, signature }) });
  go("#/", "Offer signed: the buyer can now accept and fund it in one transaction.");
}

const toJson = (value) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));

// ------------------------------------------------------------------------------- one deal

// Operator names, read once per page load (the deal page refreshes every 2 seconds).
const operatorNames = new Map();

async function loadDeal(id) {
  let deal;
  try {
    deal = await state.escrow.getDeal(id);
  } catch (error) {
    const e = explain(error);
    throw new UserError(e.message.includes("UnknownDeal") ? `There is no deal #${id} on this escrow.` : e.message);
  }
  const count = Number(deal.milestoneCount);
  const [policy, payee, now, milestones, index, proposals] = await Promise.all([
    state.escrow.getPolicy(id),
    state.escrow.payeeOf(id),
    chainTime(),
    Promise.all([...Array(count).keys()].map((i) => state.escrow.getMilestone(id, i))),
    api(`/deals/${id}`).catch((error) => (error.status === 404 ? null : Promise.reject(error))),
    api(`/deals/${id}/proposals`),
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
  return { id, deal, policy, payee, now, milestones, index, proposals, operators, myOperator };
}

async function showDeal(id, loaded = null) {
  stopWatching();
  const gen = generation;
  const view = loaded ? main() : replace(main(), h("p.muted", `Loading deal #${id}…`));
  let d = loaded;
  try {
    d ??= await loadDeal(id);
    if (gen !== generation) return;
  } catch (error) {
    if (gen !== generation) return;
    replace(view, h("div.notice.error", { role: "alert" }, explain(error).message), h("p", h("a", { href: "#/" }, "Back to my deals")));
    return;
  }
  const { deal } = d;
  const status = DEAL_STATUS[Number(deal.status)];
  const role = same(me(), deal.buyer) ? "buyer" : same(me(), deal.supplier) ? "supplier" : null;
  d.role = role;
  const funded = deal.total - deal.unfunded;
  const paid = d.index ? BigInt(d.index.released) : null;
  const refunded = d.index ? BigInt(d.index.refunded) : null;

  replace(
    view,
    h(
      "section.card.deal-head",
      h(
        "h1",
        `Deal #${id} `,
        h(`span.status.${status.toLowerCase()}#deal-status`, status),
        status === "Active" && d.milestones.every((m) => CLOSED.has(MILESTONE_STATUS[Number(m.status)]))
          ? h("span.status.closed#deal-closed", "every milestone closed")
          : null,
        h("span.version", `version ${deal.version}`),
      ),
      role
        ? h("p.role#role", `You are the ${role} of this deal.`)
        : d.myOperator === deal.arbiter
          ? h("p.role#role", `You sign for ${operatorName(d, deal.arbiter)}, this deal's arbiter: you rule on its disputes.`)
          : h("p.muted#role", "You are not a party to this deal: read-only."),
      h(
        "dl.facts",
        h("dt", "Buyer"), h("dd", addressTag(deal.buyer, me())),
        h("dt", "Supplier"), h("dd", addressTag(deal.supplier, me())),
        !same(d.payee, deal.supplier) ? [h("dt", "Payouts go to"), h("dd", addressTag(d.payee, me()))] : null,
        h("dt", "Arbiter"), h("dd", operatorName(d, deal.arbiter)),
        h("dt", "Total"), h("dd#deal-total", amount(deal.total)),
        h("dt", "Funded"), h("dd#deal-funded", amount(funded)),
        paid !== null ? [h("dt", "Paid to supplier"), h("dd#deal-paid", amount(paid))] : null,
        refunded !== null ? [h("dt", "Refunded to buyer"), h("dd#deal-refunded", amount(refunded))] : null,
        h("dt", "Policy"), h("dd", describePolicy(d.policy)),
      ),
      d.index ? null : h("p.muted", "The service has not indexed this deal yet: evidence and history appear once it has."),
      dealActions(d, status),
    ),
    h("section.card", h("h2", "Milestones"), h("ol.timeline#timeline", d.milestones.map((m, i) => milestoneCard(d, m, i)))),
    status === "Active" ? proposalsSection(d) : null,
    d.index ? historySection(d) : null,
  );
  watch(d);
}

// While a deal is on screen, the page follows the chain and the service: when the deal moves
// (an oracle attests, the other party acts, a proposal arrives) it is shown again, unless the
// user has started filling in a form, in which case a notice offers to reload.
let watcher = null;
let watching = null; // the current watch; a tick of an older one stops at its next step
let busy = 0; // actions in progress: their own result is shown when they end

function stopWatching() {
  clearTimeout(watcher);
  watcher = null;
  watching = null;
}

function fingerprint(d) {
  return JSON.stringify(
    [
      d.deal, d.payee, d.milestones, d.index?.history.length, d.proposals.map((p) => [p.id, p.status]),
      d.milestones.map((m) => d.now < m.dueAt), // deadlines passing change what can be done
    ],
    (_, v) => (typeof v === "bigint" ? v.toString() : v),
  );
}

function watch(d) {
  const seen = fingerprint(d);
  const token = {};
  watching = token;
  let edited = false;
  main().addEventListener("input", () => (edited = true), { once: true });
  const tick = async () => {
    if (watching !== token) return;
    if (!busy) {
      try {
        const next = await loadDeal(d.id);
        if (watching !== token) return;
        if (busy) return schedule();
        if (fingerprint(next) !== seen) {
          if (!edited) return showDeal(d.id, next);
          notify("info", "This deal has changed since the page was shown: reload to see it.");
          return;
        }
      } catch {
        // the chain or the service is unreachable for now: try again next round
      }
    }
    schedule();
  };
  const schedule = () => (watcher = setTimeout(tick, 2000));
  schedule();
}

function describePolicy(policy) {
  // from the chain (bigints) or from the service (decimal strings)
  const [window_, ruling, warranty, retention] = [
    policy.examinationWindow, policy.rulingPeriod, policy.warrantyPeriod, policy.retentionBps,
  ].map(Number);
  const days_ = (seconds) => `${+(seconds / DAY).toFixed(2)} day${seconds === DAY ? "" : "s"}`;
  const parts = [window_ ? `${days_(window_)} examination window` : "paid on attestation"];
  parts.push(`${days_(ruling || 30 * DAY)} ruling period`);
  if (retention) parts.push(`${retention / 100}% held ${days_(warranty)}`);
  return parts.join(" · ");
}

function dealActions(d, status) {
  const { deal, role, id } = d;
  const box = h("div.actions#deal-actions");
  if (!role) {
    // a payee the supplier assigned its payouts to (a financier) may assign them on
    if (status === "Active" && same(me(), d.payee)) box.append(assignForm(d));
    return box;
  }
  const reload = () => showDeal(id);
  if (status === "Proposed") {
    if (role === "supplier") {
      box.append(button("accept-deal", "Accept deal", async () => {
        await send(`Accepting deal #${id}`, (e) => e.acceptDeal(id));
        await reload();
      }, "Deal accepted: the buyer can fund it now."));
    } else {
      box.append(h("p.muted", "Waiting for the supplier to accept."));
    }
  }
  if (status === "Accepted" && role === "buyer") {
    box.append(h("p", `To fund: ${amount(deal.unfunded)}.`));
    box.append(button("fund", "Approve and fund", () => fundDeal(d, false), "Deal funded."));
    if (state.token.permit) {
      box.append(button("fund-permit", "Fund with a permit signature", () => fundDeal(d, true), "Deal funded."));
    }
  }
  if (status === "Accepted" && role === "supplier") box.append(h("p.muted", "Waiting for the buyer to fund."));
  if (status === "Active" && same(me(), d.payee)) box.append(assignForm(d));
  if (status === "Proposed" || status === "Accepted") {
    box.append(button("cancel-deal", "Call the deal off", async () => {
      await send(`Calling off deal #${id}`, (e) => e.cancelDeal(id));
      await reload();
    }, "Deal called off; any deposit went back to the buyer."));
  }
  return box;
}

/** The payee assigns the deal's future payouts (a receivable) to another address. */
function assignForm(d) {
  const form = h(
    "form.inline#assign",
    {
      onsubmit: act(async () => {
        const to = form.to.value.trim();
        if (!ethers.isAddress(to)) throw new UserError("Not a valid address.");
        if (same(to, d.payee)) throw new UserError("Payouts already go to that address.");
        await send(`Assigning deal #${d.id}'s payouts`, (e) => e.assignPayments(d.id, ethers.getAddress(to)));
        await showDeal(d.id);
      }, { done: "Payouts assigned: from now on they go to the new address." }),
    },
    h("label", "Assign future payouts to (e.g. a financier)", h("input", { name: "to", placeholder: "0x…", required: true, autocomplete: "off" })),
    h("button", { type: "submit", disabled: !actionable() }, "Assign"),
  );
  return form;
}

function button(id, label, fn, done) {
  return h(`button#${id}`, { type: "button", disabled: !actionable(), onclick: act(fn, { done }) }, label);
}

async function fundDeal(d, withPermit) {
  const need = d.deal.unfunded;
  await requireBalance(need, "this deal");
  if (withPermit) {
    const { deadline, v, r, s } = await signPermit(need);
    await send(`Funding deal #${d.id}`, (e) => e.fundWithPermit(d.id, need, deadline, v, r, s));
  } else {
    await approveIfShort(need);
    await send(`Funding deal #${d.id}`, (e) => e.fund(d.id, need));
  }
  await showDeal(d.id);
}

/** Checked before anything is signed or sent. */
async function requireBalance(need, what) {
  const balance = await state.token.contract.balanceOf(me());
  if (balance < need) {
    throw new UserError(`Your balance is ${amount(balance)}; ${what} needs ${amount(need)}. Nothing was sent.`);
  }
}

/** An EIP-2612 permit for the escrow to take `value`, signed in the wallet, valid one hour. */
async function signPermit(value) {
  const token = state.token.contract;
  const nonce = await token.nonces(me());
  const deadline = (await chainTime()) + 3600n;
  const signature = await signTyped(
    "Permit",
    { name: state.token.permit.name, version: state.token.permit.version, chainId: state.config.chain_id, verifyingContract: state.token.address },
    state.config.types.Permit,
    { owner: me(), spender: state.config.escrow, value, nonce, deadline },
  );
  const { v, r, s } = ethers.Signature.from(signature);
  return { deadline, v, r, s };
}

/** Approves the escrow for `value` first when its allowance is short (its own transaction). */
async function approveIfShort(value) {
  const allowance = await state.token.contract.allowance(me(), state.config.escrow);
  if (allowance < value) {
    await send(`Approving ${amount(value)} for the escrow`, (_, signer) => tokenFor(signer).approve(state.config.escrow, value));
  }
}

// -------------------------------------------------------------------------- the timeline

const STAGE = {
  Pending: "due",
  Rejected: "due",
  Examining: "examination window ends",
  Disputed: "ruling due by",
  Retained: "holdback paid after",
};

function milestoneCard(d, m, index) {
  const status = MILESTONE_STATUS[Number(m.status)];
  const row = d.index?.milestones.find((r) => r.index === index);
  const oracles = [...m.oracles].filter((o) => o !== 0n);
  const stage = STAGE[status];
  return h(
    `li.milestone.${status.toLowerCase()}`,
    { dataset: { index, status } },
    h("div.milestone-head",
      h("strong", `M${index + 1}`),
      h("span.amount", amount(m.amount)),
      h(`span.status.${status.toLowerCase()}.milestone-status`, status),
    ),
    stage ? h("p.stage", `${stage} ${formatTime(m.dueAt)} (${relative(m.dueAt, d.now)})`) : null,
    payoutLine(d, index),
    h("p.oracles", `Oracles ${oracles.map((o) => operatorName(d, o)).join(", ")}; ${m.attestations} of ${m.quorum} needed attested`, m.rejections ? `, ${m.rejections} found it not met` : ""),
    row?.verdicts.length ? h("ul.verdicts", row.verdicts.map((v) => verdictItem(d, v, index))) : null,
    milestoneActions(d, m, index, status),
  );
}

/** The arbiter's ruling on a disputed milestone: how much of the disputed amount goes to the
 * supplier; the rest goes back to the buyer. */
function rulingForm(d, m, index) {
  const opened = (d.index?.history || []).filter((e) => e.event === "DisputeOpened" && Number(e.args.index) === index).at(-1);
  // before the index has the DisputeOpened event: the whole amount, or only the holdback
  // when the milestone had been released (holdback disputes come from Retained)
  const holdback = (m.amount * BigInt(d.policy.retentionBps)) / 10000n;
  const wasRetained = (d.index?.milestones.find((r) => r.index === index)?.status) === "Retained";
  const disputed = opened ? BigInt(opened.args.amount) : wasRetained ? holdback : m.amount;
  const form = h(
    `form.ruling#ruling-${index}`,
    {
      onsubmit: act(async () => {
        const toSupplier = parseAmount(form.toSupplier.value, state.token.decimals, "To the supplier");
        if (toSupplier > disputed) throw new UserError(`At most the disputed ${amount(disputed)}.`);
        await send(`Ruling on M${index + 1}`, (e) => e.rule(d.id, index, toSupplier));
        await showDeal(d.id);
      }, { done: "Ruling applied: the disputed amount is paid out." }),
    },
    h("label", `Ruling: of the disputed ${amount(disputed)}, to the supplier`, h("input", { name: "toSupplier", required: true, inputmode: "decimal" })),
    h("button.primary", { type: "submit", disabled: !actionable() }, "Rule"),
  );
  return form;
}

/** What milestone `index` has paid out so far, from the index's payout events. */
function payoutLine(d, index) {
  let paid = 0n;
  let back = 0n;
  for (const e of d.index?.history || []) {
    if (Number(e.args.index) !== index) continue;
    if (e.event === "MilestoneReleased") paid += BigInt(e.args.amount);
    if (e.event === "MilestoneRefunded") back += BigInt(e.args.amount);
  }
  if (!paid && !back) return null;
  return h(
    "p.payout",
    [paid ? `${amount(paid)} paid to the supplier` : null, back ? `${amount(back)} back to the buyer` : null]
      .filter(Boolean).join(" · "),
  );
}

function operatorName(d, id) {
  return `#${id} ${d.operators.get(id) || ""}`.trim();
}

function verdictItem(d, v, index) {
  const result = h("span.check");
  return h(
    "li.verdict",
    h("span", `${operatorName(d, BigInt(v.operator_id))} ${v.met ? "attested: met" : "found: not met"}, by `, addressTag(v.signer, me())),
    h("br"),
    "Evidence ",
    v.evidence_url
      ? [
          h("a.evidence", { href: v.evidence_url, target: "_blank", rel: "noopener" }, v.evidence_cid.slice(0, 16) + "…"),
          " ",
          h("button.verify", { type: "button", onclick: act(() => verifyEvidence(d, v, index, result)) }, "Check against chain"),
          " ",
          result,
        ]
      : h("span.muted", `not held by this service (sha256 ${v.evidence_sha256.slice(0, 16)}…)`),
  );
}

/** Fetches the document through the service and hashes it here, then compares with the
 * evidence hash in the verdict's own event on chain (read from its transaction's receipt),
 * so neither the service nor IPFS has to be trusted. */
async function verifyEvidence(d, v, index, target) {
  const anchored = await anchoredHash(d, v, index);
  const response = await fetch(v.evidence_url);
  if (!response.ok) throw new UserError(`The evidence could not be fetched (${response.status}).`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = ethers.sha256(bytes);
  const ok = digest === anchored;
  replace(target, ok ? "✓ matches the hash anchored on chain" : `✗ does not match the hash anchored on chain (got ${digest.slice(0, 18)}…)`);
  target.className = `check ${ok ? "ok" : "bad"}`;
}

async function anchoredHash(d, v, index) {
  const receipt = await state.read.getTransactionReceipt(v.tx_hash);
  const event = escrowEvents(receipt).find(
    (e) =>
      (e.name === "MilestoneAttested" || e.name === "MilestoneRejected") &&
      e.args.dealId === d.id && Number(e.args.index) === index &&
      Number(e.args.operatorId) === v.operator_id,
  );
  if (event) return event.args.evidenceHash.toLowerCase();
  throw new UserError("The verdict's transaction on chain has no such attestation: the index is wrong.");
}

function milestoneActions(d, m, index, status) {
  const { role, id, now } = d;
  const box = h("div.actions");
  if (!me() || DEAL_STATUS[Number(d.deal.status)] !== "Active") return box;
  const due = m.dueAt;
  const act1 = (key, label, fn, done) =>
    box.append(button(`${key}-${index}`, label, async () => {
      await send(`${label} (M${index + 1})`, fn);
      await showDeal(id);
    }, done));
  if (role === "buyer") {
    if (status === "Examining" && now < due) {
      act1("waive", "Accept now", (e) => e.waiveExamination(id, index), "Milestone accepted and paid.");
      act1("dispute", "Open a dispute", (e) => e.openDispute(id, index), "Dispute opened: the arbiter rules next.");
    }
    if (status === "Retained" && now < due) {
      act1("dispute", "Dispute the holdback", (e) => e.openDispute(id, index), "Dispute opened on the holdback.");
    }
    if ((status === "Pending" || status === "Rejected") && now >= due) {
      act1("refund", "Take it back", (e) => e.refund(id, index), "Milestone refunded to you.");
    }
  }
  if (role === "supplier" && (status === "Rejected" || (status === "Pending" && now >= due))) {
    act1("dispute", "Open a dispute", (e) => e.openDispute(id, index), "Dispute opened: the arbiter rules next.");
  }
  if (status === "Disputed" && now < due && d.myOperator === d.deal.arbiter) box.append(rulingForm(d, m, index));
  if (status === "Examining" && now >= due) act1("release", "Release", (e) => e.release(id, index), "Milestone released.");
  if (status === "Retained" && now >= due) act1("release-holdback", "Pay the holdback", (e) => e.releaseRetention(id, index), "Holdback paid.");
  if (status === "Disputed" && now >= due) act1("settle", "Apply the default", (e) => e.settleDispute(id, index), "Default applied.");
  return box;
}

// ------------------------------------------------- change orders and cancellations (signed)

function proposalsSection(d) {
  const { role } = d;
  const list = h("ul.proposals#proposals");
  for (const p of d.proposals) list.append(proposalItem(d, p));
  if (!d.proposals.length) list.append(h("li.muted", "Nothing signed yet."));
  return h(
    "section.card",
    h("h2", "Change orders and cancellation"),
    h("p.muted", "One party signs (EIP-712, in the wallet), the other applies it on chain. Nothing changes until then."),
    list,
    d.proposals.some((p) => p.status === "open" && same(p.signer, me()))
      ? h("div.actions", button("revoke-signatures", "Revoke everything I signed here", (e) => e.revokeAgreements(d.id), "Your signed change orders and cancellations of this deal no longer count."))
      : null,
    role && d.index ? changeOrderForm(d) : null,
    role && d.index ? cancellationForm(d) : null,
  );
}

function describeOracles(d, oracles, quorum) {
  const names = oracles.map((o) => (d?.operators?.get(BigInt(o)) ? operatorName(d, BigInt(o)) : `#${o}`));
  return `${names.join(", ")} (${quorum} of ${oracles.length} needed)`;
}

function describeProposal(d, p) {
  const m = p.message;
  if (p.kind === "cancellation") {
    return `End the deal: ${amount(m.toSupplier)} to the supplier, ${amount(m.toBuyer)} back to the buyer`;
  }
  const names = ["edit", "add", "remove"];
  return "Change order: " + m.changes.map((c) => {
    const action = names[Number(c.action)];
    if (action === "remove") return `remove M${Number(c.index) + 1}`;
    const current = d.milestones[Number(c.index)];
    const oracles = c.terms.oracles.map(BigInt).filter((o) => o !== 0n);
    const sameOracles = action === "edit" && current && oracles.join() === [...current.oracles].filter((o) => o !== 0n).join()
      && BigInt(c.terms.quorum) === BigInt(current.quorum);
    const who = sameOracles ? "" : `, attested by ${describeOracles(d, oracles, c.terms.quorum)}${action === "edit" ? " (oracles changed)" : ""}`;
    return `${action} M${Number(c.index) + 1} (${amount(c.terms.amount)}, due ${formatTime(c.terms.dueAt)}${who})`;
  }).join("; ");
}

function proposalItem(d, p) {
  const byMe = same(p.signer, me());
  const signerRole = same(p.signer, d.deal.buyer) ? "buyer" : "supplier";
  const item = h(
    `li.proposal.${p.status}`,
    { dataset: { kind: p.kind, status: p.status } },
    h("span", describeProposal(d, p)),
    h("br"),
    h("span.muted", `signed by the ${signerRole} `, addressTag(p.signer, me()), ` for version ${p.deal_version}, valid until ${formatTime(p.deadline)} · ${p.status}`),
  );
  if (p.status === "open" && d.role && !byMe) {
    item.append(h("div.actions", button(`apply-${p.id}`, p.kind === "cancellation" ? "Agree and end the deal" : "Agree and apply", () => applyProposal(d, p), "Applied on chain.")));
  } else if (p.status === "open" && byMe) {
    item.append(h("p.muted", `Waiting for the ${signerRole === "buyer" ? "supplier" : "buyer"} to apply it.`));
  }
  return item;
}

async function applyProposal(d, p) {
  const m = p.message;
  if (p.kind === "cancellation") {
    await send(`Ending deal #${d.id} by agreement`, (e) => e.cancelByAgreement(m, p.signature));
  } else {
    const topUp = amendmentTopUp(d, m);
    if (topUp > 0n) {
      if (d.role !== "buyer") throw new UserError("This change order costs more: the buyer applies it and pays the difference.");
      await requireBalance(topUp, "this change order's top-up");
      await approveIfShort(topUp);
    }
    await send(`Applying the change order to deal #${d.id}`, (e) => e.amend(m, p.signature));
  }
  await showDeal(d.id);
}

function amendmentTopUp(d, m) {
  let delta = 0n;
  for (const c of m.changes) {
    const action = Number(c.action);
    const old = action === 1 ? 0n : d.milestones[Number(c.index)].amount;
    const next = action === 2 ? 0n : BigInt(c.terms.amount);
    delta += next - old;
  }
  return delta;
}

const OPEN = new Set(["Pending", "Rejected"]);
const CLOSED = new Set(["Released", "Refunded", "Settled", "Removed"]);

function changeOrderForm(d) {
  const rows = d.milestones
    .map((m, i) => [m, i])
    .filter(([m]) => OPEN.has(MILESTONE_STATUS[Number(m.status)]))
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
    { onsubmit: act(() => proposeChangeOrder(d, form), { done: "Change order signed and sent to the other party." }) },
    h("h3", "Propose a change order"),
    rows.length ? rows : h("p.muted", "No open milestone to change."),
    added,
    h("button", { type: "button", onclick: () => added.append(milestoneRow(d.now, d.milestones.length + added.children.length)) }, "+ Milestone"),
    h("label", "Valid for (days)", h("input", { name: "valid", type: "number", min: 1, value: 7 })),
    h("button#sign-change-order.primary", { type: "submit", disabled: !actionable() }, "Sign change order"),
  );
  return form;
}

async function proposeChangeOrder(d, form) {
  const changes = [];
  for (const row of form.querySelectorAll(".change-row")) {
    const index = Number(row.dataset.index);
    const m = d.milestones[index];
    if (row.querySelector("[name=remove]").checked) {
      changes.push({ index, action: 2, terms: emptyTerms() });
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
      action: 0,
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
    changes.push({ index: d.milestones.length + k, action: 1, terms: readMilestone(row, d.milestones.length + k) });
  });
  if (!changes.length) throw new UserError("Nothing to change: edit an amount or a date, remove or add a milestone.");
  // What the escrow would refuse when the other party applies it: refused here, before signing.
  for (const c of changes) {
    if (c.action === 2) continue;
    if (c.terms.amount === 0n) throw new UserError(`M${c.index + 1}: the amount must be above zero (remove it instead).`);
    if (c.terms.dueAt <= d.now) throw new UserError(`M${c.index + 1}: the due date must be in the future.`);
  }
  if (d.role === "buyer" && amendmentTopUp(d, { changes }) > 0n) {
    throw new UserError("This change order costs more: the supplier signs it and you apply it, paying the difference. Ask the supplier to propose it.");
  }
  await signAndPost(d, "Amendment", form, { changes });
}

function emptyTerms() {
  return { amount: 0n, dueAt: 0n, quorum: 0, oracles: [0, 0, 0], requirementsHash: ZERO_HASH };
}

function cancellationForm(d) {
  const held = BigInt(d.index.funded) - BigInt(d.index.released) - BigInt(d.index.refunded);
  const form = h(
    "form.card.sub#cancellation",
    { onsubmit: act(() => proposeCancellation(d, form), { done: "Cancellation signed and sent to the other party." }) },
    h("h3", "Propose ending the deal"),
    h("p", `The escrow holds ${amount(held)} for this deal.`),
    h("label", `To the supplier (${state.token.symbol}; the rest goes back to the buyer)`, h("input", { name: "toSupplier", value: "0", required: true })),
    h("label", "Valid for (days)", h("input", { name: "valid", type: "number", min: 1, value: 7 })),
    h("button#sign-cancellation.primary", { type: "submit", disabled: !actionable() }, "Sign cancellation"),
  );
  return form;
}

async function proposeCancellation(d, form) {
  const toSupplier = parseAmount(form.toSupplier.value, state.token.decimals, "To the supplier");
  // What the escrow holds now, from the chain: the signature fixes both sides of the split, and
  // the escrow refuses it if anything is paid out before the other party applies it.
  const held = await state.escrow.heldFor(d.id);
  if (toSupplier > held) throw new UserError(`The escrow holds only ${amount(held)} for this deal.`);
  await signAndPost(d, "Cancellation", form, { toSupplier, toBuyer: held - toSupplier });
}

/** Signs `fields` as an Amendment or a Cancellation of the deal at its current version and the
 * signer's agreement nonce, valid for the form's number of days of chain time, and hands it to
 * the service for the other party. */
async function signAndPost(d, primaryType, form, fields) {
  const nonce = Number(await state.escrow.agreementNonce(d.id, me()));
  const message = {
    dealId: d.id,
    dealVersion: Number(d.deal.version),
    ...fields,
    nonce,
    deadline: d.now + BigInt(days(form.valid.value, "Valid for") || DAY),
  };
  const kind = primaryType.toLowerCase();
  const signature = await signTyped(primaryType, escrowDomain(), state.config.types[primaryType], message);
  await api(`/deals/${d.id}/proposals`, { method: "POST", body: toJson({ kind, message, signature }) });
  await showDeal(d.id);
}

// ------------------------------------------------------------------------------- history

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

/** The arguments a reader needs: which milestone, how much, for whom. */
function describeEvent(args) {
  const parts = [];
  if (args.index !== undefined) parts.push(`M${Number(args.index) + 1}`);
  for (const key of ["amount", "credited", "toSupplier", "toBuyer", "held", "refunded", "added", "removed"]) {
    if (args[key] !== undefined && BigInt(args[key]) !== 0n) parts.push(`${key} ${amount(args[key])}`);
  }
  if (args.version !== undefined) parts.push(`version ${args.version}`);
  if (args.byDefault) parts.push("by default");
  return parts.length ? ` ${parts.join(", ")}` : "";
}

start();
