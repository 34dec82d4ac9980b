// The chain side of the page: reads through the deployment's RPC, signing and sending through
// the user's own wallet (EIP-1193, window.ethereum), and errors in words a person can act on.
import * as ethers from "../vendor/ethers.js";
import { h, replace, shortAddress } from "./ui.js";

export const DEAL_STATUS = ["None", "Proposed", "Accepted", "Active", "Cancelled"];
export const MILESTONE_STATUS = [
  "None", "Pending", "Released", "Refunded", "Rejected",
  "Examining", "Disputed", "Retained", "Settled", "Removed",
];

const ERC20_ABI = [
  "function symbol() view returns (string)",
  "function decimals() view returns (uint8)",
  "function balanceOf(address) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 value) returns (bool)",
  "function nonces(address owner) view returns (uint256)",
  "function eip712Domain() view returns (bytes1, string name, string version, uint256 chainId, address verifyingContract, bytes32, uint256[])",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
];

// What each of the escrow's refusals means for the person who pressed the button.
const REASONS = {
  NotDealParty: "your account is not a party to this deal",
  NotBuyer: "only the deal's buyer can do this",
  NotPayee: "only the deal's payee can do this",
  NotArbiter: "only the deal's arbiter can rule",
  CreatorCannotAccept: "the party that proposed the deal cannot also accept it",
  WrongDealStatus: "the deal is no longer in the state this page showed (reload it)",
  WrongMilestoneStatus: "the milestone is no longer in the state this page showed (reload it)",
  MilestoneNotPending: "the milestone is no longer open",
  MilestoneNotDue: "the milestone is not past its due date yet",
  DeadlinePassed: "its deadline has passed",
  DeadlineNotPassed: "its deadline has not passed yet",
  DueDateNotInFuture: "a due date is not in the future",
  InvalidQuorum: "a quorum is larger than the number of oracles (or zero)",
  InvalidOracleList: "an oracle list has gaps, repeats or unknown operators",
  UnknownOperator: "an operator id is not registered",
  UnknownDeal: "there is no such deal",
  InvalidParties: "buyer and supplier must be two different, non-zero addresses",
  ZeroAmount: "a milestone amount is zero",
  TotalTooLarge: "the deal's total is too large",
  MilestoneCountOutOfRange: "too many (or no) milestones",
  InvalidPolicy: "the policy's periods or retention are out of range",
  InvalidChange: "one of the changes is not allowed (only open milestones can change)",
  InvalidCounterpartySignature: "the signature is not the other party's",
  StaleDealVersion: "the deal has changed since this was signed",
  TopUpShort: "the token delivered less than the top-up",
  SplitTooLarge: "the split is larger than what is held",
  ZeroFunding: "nothing to fund",
  HeldAmountChanged: "something was paid out of the deal since this was signed: sign a new one over what is held now",
  AgreementRevoked: "the signer revoked it on chain",
  PayeeConsentMissing: "the deal's payouts are assigned: the payee must agree to this first",
  InvalidRecipient: "that address cannot receive the tokens",
  VersionLimitReached: "the deal takes no more change orders",
  InvalidKeyConsent: "the key has not agreed to serve this operator",
  KeyConsentExpired: "the key's consent has expired",
  ERC20InsufficientBalance: "your token balance is too low",
  ERC20InsufficientAllowance: "the escrow's allowance is too low: approve first",
};

export class UserError extends Error {}

export const state = {
  config: null, // /app/config.json
  abi: null,
  iface: null, // escrow + token errors, to name revert data
  read: null, // JsonRpcProvider on config.rpc_url
  escrow: null, // read-only escrow contract
  token: null, // {address, symbol, decimals, permit: {name, version} | null, contract}
  wallet: { eip1193: null, provider: null, account: null, chainId: null },
  listeners: new Set(),
};

export async function loadDeployment() {
  const [config, abi] = await Promise.all([getJson("config.json"), getJson("abi.json")]);
  state.config = config;
  state.abi = abi;
  state.iface = new ethers.Interface([...abi, ...ERC20_ABI.filter((s) => s.startsWith("error"))]);
  state.read = new ethers.JsonRpcProvider(config.rpc_url, config.chain_id, {
    staticNetwork: true,
    cacheTimeout: -1,
  });
  state.escrow = new ethers.Contract(config.escrow, abi, state.read);
  const tokenAddress = await state.escrow.token();
  const token = new ethers.Contract(tokenAddress, ERC20_ABI, state.read);
  const [symbol, decimals] = await Promise.all([token.symbol(), token.decimals()]);
  let permit = null;
  try {
    const domain = await token.eip712Domain();
    await token.nonces(config.escrow);
    permit = { name: domain.name, version: domain.version };
  } catch {
    permit = null; // no EIP-2612 (or no EIP-5267 to learn its domain): approve + fund
  }
  state.token = { address: tokenAddress, symbol, decimals: Number(decimals), permit, contract: token };
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: { "content-type": "application/json", ...(options.headers || {}) },
    });
  } catch {
    throw new UserError("The escrow service cannot be reached. Nothing was saved.");
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const detail = typeof body?.detail === "string" ? body.detail : JSON.stringify(body?.detail);
    const error = new UserError(`The escrow service refused (${response.status}): ${detail}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function chainTime() {
  const block = await state.read.getBlock("latest");
  return BigInt(block.timestamp);
}

// ---------------------------------------------------------------------------- the wallet

export function onWalletChange(fn) {
  state.listeners.add(fn);
}

function changed() {
  for (const fn of state.listeners) fn();
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
  const escrow = new ethers.Contract(state.config.escrow, state.abi, signer);
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

export function tokenFor(signer) {
  return new ethers.Contract(state.token.address, ERC20_ABI, signer);
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
      params: [state.wallet.account, JSON.stringify(typedData, (_, v) => (typeof v === "bigint" ? v.toString() : v))],
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

export function escrowDomain() {
  return {
    name: state.config.domain.name,
    version: state.config.domain.version,
    chainId: state.config.chain_id,
    verifyingContract: state.config.escrow,
  };
}

/** Turns what a wallet, ethers or the escrow threw into a UserError with a clear sentence. */
export function explain(error) {
  if (error instanceof UserError) return error;
  const code = error?.code ?? error?.info?.error?.code ?? error?.error?.code;
  if (code === 4001 || code === "ACTION_REJECTED" || error?.info?.error?.code === 4001) {
    return new UserError("You rejected the request in your wallet: nothing was signed or sent.");
  }
  if (code === 4100) return new UserError("The wallet has not authorised this page: connect again.");
  if (code === "INSUFFICIENT_FUNDS") {
    return new UserError("Your account has too little ether to pay for gas: nothing was sent.");
  }
  const data = revertData(error);
  if (data) {
    let parsed = null;
    try {
      parsed = state.iface.parseError(data);
    } catch {
      parsed = null;
    }
    if (parsed) {
      // Every error is documented, with what to do, in the repository's docs/errors.md.
      const why = REASONS[parsed.name] || `see docs/errors.md#${parsed.name} in the escrow's repository`;
      return new UserError(`The escrow refused (${parsed.name}): ${why}. Nothing was changed.`);
    }
  }
  if (code === "CALL_EXCEPTION") {
    const reason = error.reason || error.shortMessage || "reverted";
    return new UserError(`The transaction would fail (${reason}). Nothing was changed.`);
  }
  // a failed fetch is a TypeError without a code (ethers' own TypeErrors carry one)
  if (code === "NETWORK_ERROR" || code === "SERVER_ERROR" || (error instanceof TypeError && !code)) {
    return new UserError("The chain cannot be reached right now: nothing was sent. Try again.");
  }
  return new UserError(error?.shortMessage || error?.message || String(error));
}

function revertData(error) {
  for (const candidate of [error?.data, error?.info?.error?.data, error?.error?.data, error?.revert?.data]) {
    if (typeof candidate === "string" && candidate.startsWith("0x") && candidate.length >= 10) return candidate;
    if (typeof candidate?.data === "string") return candidate.data;
  }
  return null;
}

export { ethers };
