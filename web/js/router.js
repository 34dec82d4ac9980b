// Hash routing, so the service serves one static index.html: my deals (#/), a new deal (#/new),
// one deal (#/deal/ESCROW/ID; #/deal/ID: the default escrow's), the oracle's desk (#/desk). The router owns the pages; a page redraws
// itself or moves elsewhere only through the `nav` it is given, never by calling another page.
import { useEscrow } from "./chain.js";
import { explain } from "./errors.js";
import { showDeal } from "./pages/deal.js";
import { stopWatching } from "./pages/deal-watch.js";
import { showDesk } from "./pages/desk.js";
import { showMyDeals } from "./pages/my-deals.js";
import { showNewDeal } from "./pages/new-deal.js";
import { state } from "./state.js";
import { clearNotices, h, notify, replace } from "./ui.js";

// Every navigation starts a new generation; a page still loading for an older one drops its
// result instead of drawing over the page the user went to.
let generation = 0;
// A message for the page a navigation leads to (navigating clears the notices).
let flash = null;

/** Shows the page the location's hash names (again, when it is already shown). */
export function route() {
  stopWatching();
  generation += 1;
  const gen = generation;
  const nav = { current: () => gen === generation, refresh: route, navigate };
  const hash = location.hash.replace(/^#/, "") || "/";
  const deal = /^\/deal\/(?:(0x[0-9a-fA-F]{40})\/)?(\d+)$/.exec(hash);
  if (deal) return showDealOf(deal[1] ?? state.config.escrow, BigInt(deal[2]), nav);
  if (hash === "/new") return showNewDeal(nav);
  if (hash === "/desk") return showDesk(nav);
  return showMyDeals(nav);
}

/** A deal page, its escrow made the current one first (its token, its deals' paths). */
async function showDealOf(escrow, id, nav) {
  try {
    await useEscrow(escrow);
  } catch (error) {
    if (nav.current()) replace(document.getElementById("main"), h("div.notice.error", { role: "alert" }, explain(error).message));
    return;
  }
  if (nav.current()) await showDeal(id, nav);
}

/** Goes to `hash` and says `message` there. */
function navigate(hash, message) {
  if (location.hash === hash) {
    notify("ok", message);
    return route();
  }
  flash = message;
  location.hash = hash;
}

/** Follows the user's navigation (links, back and forward). */
export function followHash() {
  window.addEventListener("hashchange", () => {
    clearNotices();
    if (flash) notify("ok", flash);
    flash = null;
    route();
  });
}
