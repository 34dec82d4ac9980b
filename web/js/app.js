// The page's entry point: the deployment and the wallet first, then the wallet bar and the
// page the location names, both drawn again when the wallet changes. The module map is in
// docs/web.md.
import { act } from "./actions.js";
import { loadDeployment } from "./chain.js";
import { explain } from "./errors.js";
import { followHash, route } from "./router.js";
import { checkVocabulary } from "./rules.js";
import { state } from "./state.js";
import { addressTag, h, notify, replace } from "./ui.js";
import { connect, initWallet, onWalletChange, switchNetwork, walletProblem } from "./wallet.js";

async function start() {
  try {
    await loadDeployment();
    checkVocabulary(state.config);
  } catch (error) {
    replace(document.getElementById("main"), h("div.notice.error", { role: "alert" }, `This page cannot reach its escrow: ${error.message}`));
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
  followHash();
  renderWallet();
  route();
}

/** The header's wallet bar, and the banner when the wallet is on another chain. */
function renderWallet() {
  const bar = document.getElementById("wallet");
  const w = state.wallet;
  const network = h("span.network", `chain ${state.config.chain_id} · ${state.config.escrows.map((e) => e.symbol).join(", ")}`);
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

start();
