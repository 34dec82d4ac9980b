// What the page shares between its modules, and nothing else: the deployment it works with
// (set once by chain.js), the user's wallet (set by wallet.js), and how many of the user's
// actions are in progress (the deal page does not redraw under one).
export const state = {
  config: null, // /app/config.json: chain, escrows (one per token), EIP-712 types, statuses, limits
  abi: null,
  iface: null, // escrow + token errors, to name revert data
  read: null, // JsonRpcProvider on config.rpc_url
  escrowAddress: null, // the escrow the page works on (chain.js useEscrow): a deal's, or the default
  escrow: null, // read-only contract of that escrow
  token: null, // its token: {address, symbol, decimals, permit: {name, version} | null, contract}
  wallet: { eip1193: null, provider: null, account: null, chainId: null },
  actionsInFlight: 0,
};

/** The connected account, or null. */
export const me = () => state.wallet.account;
