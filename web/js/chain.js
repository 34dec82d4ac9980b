// Reading the chain and the service: the deployment (/app/config.json, the escrows' ABI, the
// escrow the page works on and its token: one escrow per token), reads through the
// deployment's RPC, the service's JSON API, and the escrow's
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
  await useEscrow(config.escrow);
}

const tokens = new Map(); // escrow address -> its token, read once

/** Makes the escrow at `address` (one of config.escrows) the one the page works on: its
 * contract, its token (symbol, decimals, permit) and its deals' API paths. */
export async function useEscrow(address) {
  const served = state.config.escrows.find((e) => sameAddress(e.address, address));
  if (!served) throw new UserError(`This service serves no escrow at ${address}.`);
  if (!tokens.has(served.address)) tokens.set(served.address, await readToken(served));
  state.escrowAddress = served.address;
  state.escrow = new ethers.Contract(served.address, state.abi, state.read);
  state.token = tokens.get(served.address);
}

async function readToken(served) {
  const token = new ethers.Contract(served.token, ERC20_ABI, state.read);
  let permit = null;
  try {
    const domain = await token.eip712Domain();
    await token.nonces(served.address);
    permit = { name: domain.name, version: domain.version };
  } catch {
    permit = null; // no EIP-2612 (or no EIP-5267 to learn its domain): approve + fund
  }
  return { address: served.token, symbol: served.symbol, decimals: served.decimals, permit, contract: token };
}

/** The service's path of a deal of the current escrow (`rest`: "/documents", ...). */
export const dealPath = (id, rest = "") => `/escrows/${state.escrowAddress}/deals/${id}${rest}`;

/** The page's link to a deal: by escrow and id (#/deal/<id> alone opens the default escrow's). */
export const dealLink = (id, escrow = state.escrowAddress) => `#/deal/${escrow}/${id}`;

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
    verifyingContract: state.escrowAddress,
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
    .filter((log) => sameAddress(log.address, state.escrowAddress))
    .map((log) => { try { return state.iface.parseLog(log); } catch { return null; } })
    .filter(Boolean);
}

/** The id of the deal a createDeal / acceptOffer receipt created. */
export function createdDeal(receipt) {
  return escrowEvents(receipt).find((e) => e.name === "DealCreated").args.dealId;
}

export { ethers };
