// While a deal is on screen, the page follows the chain and the service: when the deal moves
// (an oracle attests, the other party acts, a proposal arrives) it is shown again, unless the
// user has started filling in a form, in which case a notice offers to reload.
import { state } from "../state.js";
import { notify } from "../ui.js";
import { loadDeal } from "./deal-data.js";

let timer = null;
let watching = null; // the current watch; a tick of an older one stops at its next step

export function stopWatching() {
  clearTimeout(timer);
  timer = null;
  watching = null;
}

function fingerprint(d) {
  return JSON.stringify(
    [
      d.deal, d.payee, d.milestones, d.index?.history.length, d.proposals.map((p) => [p.id, p.status]),
      d.documents.length,
      d.milestones.map((m) => d.now < m.dueAt), // deadlines passing change what can be done
    ],
    (_, v) => (typeof v === "bigint" ? v.toString() : v),
  );
}

/** Reads deal `d` again every 2 seconds; `redraw(next)` shows it when it has moved. An action
 * in progress shows its own result when it ends, so no tick redraws under it. */
export function watch(d, redraw) {
  const seen = fingerprint(d);
  const token = {};
  watching = token;
  let edited = false;
  document.getElementById("main").addEventListener("input", () => (edited = true), { once: true });
  const tick = async () => {
    if (watching !== token) return;
    if (!state.actionsInFlight) {
      try {
        const next = await loadDeal(d.id);
        if (watching !== token) return;
        if (state.actionsInFlight) return schedule();
        if (fingerprint(next) !== seen) {
          if (!edited) return redraw(next);
          notify("info", "This deal has changed since the page was shown: reload to see it.");
          return;
        }
      } catch {
        // the chain or the service is unreachable for now: try again next round
      }
    }
    schedule();
  };
  const schedule = () => (timer = setTimeout(tick, 2000));
  schedule();
}
