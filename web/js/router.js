// Hash routing, so the service serves one static index.html: my deals (#/), a new deal (#/new),
// one deal (#/deal/ID), the oracle's desk (#/desk). The router owns the pages; a page redraws
// itself or moves elsewhere only through the `nav` it is given, never by calling another page.
import { showDeal } from "./pages/deal.js";
import { stopWatching } from "./pages/deal-watch.js";
import { showDesk } from "./pages/desk.js";
import { showMyDeals } from "./pages/my-deals.js";
import { showNewDeal } from "./pages/new-deal.js";
import { clearNotices, notify } from "./ui.js";

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
  const deal = /^\/deal\/(\d+)$/.exec(hash);
  if (deal) return showDeal(BigInt(deal[1]), nav);
  if (hash === "/new") return showNewDeal(nav);
  if (hash === "/desk") return showDesk(nav);
  return showMyDeals(nav);
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
