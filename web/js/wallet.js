// The user's own wallet (EIP-1193, window.ethereum): connecting, the network it is on, and
// every transaction and signature, shown as pending until mined. Nothing here holds a key.
import * as ethers from "../vendor/ethers.js";
import { toJson } from "./chain.js";
import { UserError, explain } from "./errors.js";
import { shortAddress } from "./format.js";
import { state } from "./state.js";
import { h, replace } from "./ui.js";

const listeners = new Set();

/** `fn` runs whenever the account or the wallet's chain changes. */
export function onWalletChange(fn) {
  listeners.add(fn);
}

function changed() {
  for (const fn of listeners) fn();
}

export async function initWallet() {
  const eip1193 = window.ethereum;
  if (!eip1193) return;
  state.wallet.eip1193 = eip1193;
  state.wallet.provider = new ethers.BrowserProvider(eip1193, "any", { cacheTimeout: -1 });
  state.wallet.provider.pollingInterval = 500;
  eip1193.on?.("accountsChanged", (accounts) => {
    state.wallet.account = accounts[0] ? ethers.getAddress(accounts[0]) : null;
    changed();
  });
  eip1193.on?.("chainChanged", (chainId) => {
    state.wallet.chainId = Number(chainId);
    changed();
  });
  const [accounts, chainId] = await Promise.all([
    eip1193.request({ method: "eth_accounts" }),
    eip1193.request({ method: "eth_chainId" }),
  ]);
  state.wallet.account = accounts[0] ? ethers.getAddress(accounts[0]) : null;
  state.wallet.chainId = Number(chainId);
}

export async function connect() {
  const eip1193 = state.wallet.eip1193;
  if (!eip1193) throw new UserError("No wallet found: install MetaMask or another browser wallet.");
  try {
    const accounts = await eip1193.request({ method: "eth_requestAccounts" });
    state.wallet.account = accounts[0] ? ethers.getAddress(accounts[0]) : null;
    state.wallet.chainId = Number(await eip1193.request({ method: "eth_chainId" }));
  } catch (error) {
    throw explain(error);
  }
  changed();
}

export async function switchNetwork() {
  const chainId = ethers.toQuantity(state.config.chain_id);
  try {
    await state.wallet.eip1193.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (error) {
    if (error?.code !== 4902) throw explain(error);
    await state.wallet.eip1193.request({
      method: "wallet_addEthereumChain",
      params: [{
        chainId,
        chainName: `Escrow chain ${state.config.chain_id}`,
        rpcUrls: [state.config.rpc_url],
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      }],
    });
  }
  state.wallet.chainId = Number(await state.wallet.eip1193.request({ method: "eth_chainId" }));
  changed();
}

export function walletProblem() {
  const w = state.wallet;
  if (!w.eip1193) return "No wallet found: install MetaMask or another browser wallet to act on deals.";
  if (!w.account) return "Connect your wallet to act on deals.";
  if (w.chainId !== state.config.chain_id) {
    return `Your wallet is on chain ${w.chainId}; this escrow is on chain ${state.config.chain_id}. Switch network to continue.`;
  }
  return null;
}

function requireWallet() {
  const problem = walletProblem();
  if (problem) throw new UserError(problem);
}

// ------------------------------------------------------------------ transactions, signatures

const pending = new Map();

function renderPending() {
  const area = document.getElementById("pending");
  replace(
    area,
    [...pending.entries()].map(([hash, label]) =>
      h("div.pending-tx", { dataset: { tx: hash } }, h("span.spinner"), `${label}: waiting to be mined… `, h("code", { title: hash }, shortAddress(hash))),
    ),
  );
  area.hidden = pending.size === 0;
}

/**
 * Sends one transaction from the wallet: `build(escrow, signer)` returns the sent transaction
 * (ethers estimates gas first, so a call the escrow would refuse fails here, before anything
 * is signed). Shown as pending until mined; resolves to the receipt.
 */
export async function send(label, build) {
  requireWallet();
  const signer = await state.wallet.provider.getSigner(state.wallet.account);
  const escrow = new ethers.Contract(state.escrowAddress, state.abi, signer);
  let tx;
  try {
    tx = await build(escrow, signer);
  } catch (error) {
    throw explain(error);
  }
  pending.set(tx.hash, label);
  renderPending();
  try {
    const receipt = await mined(tx, label);
    if (receipt.status !== 1) {
      throw new UserError(`${label}: the transaction was mined but reverted. Nothing was changed.`);
    }
    return receipt;
  } catch (error) {
    throw explain(error);
  } finally {
    pending.delete(tx.hash);
    renderPending();
  }
}

/**
 * The receipt, polled on the read RPC until the transaction is in a block. A passing RPC error
 * is retried, not reported as a failure; a transaction the wallet replaced (sped up or
 * cancelled: same nonce, another hash) ends the wait with a message rather than hanging.
 */
async function mined(tx, label) {
  for (;;) {
    try {
      const receipt = await state.read.getTransactionReceipt(tx.hash);
      if (receipt) return receipt;
      const nonce = await state.read.getTransactionCount(tx.from, "latest");
      if (nonce > tx.nonce && !(await state.read.getTransactionReceipt(tx.hash))) {
        throw new UserError(`${label}: the wallet replaced this transaction (sped up or cancelled); reload the page to see what was mined.`);
      }
    } catch (error) {
      if (error instanceof UserError) throw error;
      // the RPC is unreachable for a moment: the transaction is out there, keep waiting
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** eth_signTypedData_v4 in the wallet; returns the 65-byte signature as 0x hex. */
export async function signTyped(primaryType, domain, types, message) {
  requireWallet();
  const typedData = {
    types: { EIP712Domain: domainType(domain), ...types },
    primaryType,
    domain,
    message,
  };
  try {
    return await state.wallet.eip1193.request({
      method: "eth_signTypedData_v4",
      params: [state.wallet.account, toJson(typedData)],
    });
  } catch (error) {
    throw explain(error);
  }
}

/** personal_sign (EIP-191) of `text` in the wallet, as the service's signed requests take it. */
export async function signText(text) {
  requireWallet();
  try {
    return await state.wallet.eip1193.request({
      method: "personal_sign",
      params: [ethers.hexlify(ethers.toUtf8Bytes(text)), state.wallet.account],
    });
  } catch (error) {
    throw explain(error);
  }
}

function domainType(domain) {
  return [
    ["name", "string"], ["version", "string"], ["chainId", "uint256"], ["verifyingContract", "address"],
  ].filter(([name]) => name in domain).map(([name, type]) => ({ name, type }));
}
