// The new-deal form's token: one escrow per token (config.escrows). Picking a token makes its
// escrow the current one (chain.js useEscrow), so that the deal is created, or the offer
// signed, in that escrow, and amounts are read in that token's decimals.
import { act } from "../actions.js";
import { useEscrow } from "../chain.js";
import { sameAddress } from "../format.js";
import { state } from "../state.js";
import { addressTag, h, replace } from "../ui.js";

/** The select and its hint; `onPick()` after the current escrow changed. */
export function tokenSelect(onPick) {
  const hint = h("span.hint.token#token-hint");
  const describe = () => replace(hint, addressTag(state.token.address), ` (${state.token.decimals} decimals): each token has its own escrow, `, addressTag(state.escrowAddress), ".");
  const select = h(
    "select#token",
    {
      name: "token",
      onchange: act(async () => {
        await useEscrow(select.value);
        describe();
        onPick();
      }),
    },
    state.config.escrows.map((e) => h("option", { value: e.address, selected: sameAddress(e.address, state.escrowAddress) }, e.symbol)),
  );
  describe();
  return h("label", "Paid in", select, hint);
}
