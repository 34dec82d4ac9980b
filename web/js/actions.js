// The page's buttons and forms that act: each disables itself while it runs and shows, as a
// notice, what it did or what it threw.
import { explain } from "./errors.js";
import { state } from "./state.js";
import { h, notify } from "./ui.js";
import { walletProblem } from "./wallet.js";

/** Whether the wallet can act now (connected, on the escrow's chain). */
export function actionable() {
  return walletProblem() === null;
}

/** Wraps a handler: disables its button while it runs, shows what it threw. */
export function act(fn, { done } = {}) {
  return async (event) => {
    event?.preventDefault?.();
    const button = event?.currentTarget instanceof HTMLButtonElement ? event.currentTarget : event?.submitter;
    if (button) button.disabled = true;
    state.actionsInFlight += 1;
    try {
      await fn(event);
      if (done) notify("ok", done);
    } catch (error) {
      notify("error", explain(error).message);
    } finally {
      state.actionsInFlight -= 1;
      if (button) button.disabled = false;
    }
  };
}

/** A button that runs `fn` as an action, disabled while the wallet cannot act. */
export function button(id, label, fn, done) {
  return h(`button#${id}`, { type: "button", disabled: !actionable(), onclick: act(fn, { done }) }, label);
}
