// Reading the chain and the service: the deployment (/app/config.json, the escrow's ABI, its
// token), reads through the deployment's RPC, the service's JSON API, and the escrow's
// numbers (statuses, events) turned into the names the rest of the page uses.
import * as ethers from "../vendor/ethers.js";
import { UserError } from "./errors.js";
import { sameAddress } from "./format.js";
import { state } from "./state.js";

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

/** JSON with bigints as decimal strings, as the service and the wallet take them. */
export const toJson = (value) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));

export async function chainTime() {
  const block = await state.read.getBlock("latest");
  return BigInt(block.timestamp);
}

export function tokenFor(signer) {
  return new ethers.Contract(state.token.address, ERC20_ABI, signer);
}

export function escrowDomain() {
  return {
    name: state.config.domain.name,
    version: state.config.domain.version,
    chainId: state.config.chain_id,
    verifyingContract: state.config.escrow,
  };
}

// The escrow's enums by name, from /app/config.json (the service's own vocabulary).
export const dealStatus = (deal) => state.config.statuses.deal[Number(deal.status)];
export const milestoneStatus = (m) => state.config.statuses.milestone[Number(m.status)];
export const changeAction = (c) => state.config.change_actions[Number(c.action)];
export const changeActionCode = (name) => state.config.change_actions.indexOf(name);

/** The escrow's events in a receipt, decoded. */
export function escrowEvents(receipt) {
  return (receipt?.logs || [])
    .filter((log) => sameAddress(log.address, state.config.escrow))
    .map((log) => { try { return state.iface.parseLog(log); } catch { return null; } })
    .filter(Boolean);
}

/** The id of the deal a createDeal / acceptOffer receipt created. */
export function createdDeal(receipt) {
  return escrowEvents(receipt).find((e) => e.name === "DealCreated").args.dealId;
}

export { ethers };
