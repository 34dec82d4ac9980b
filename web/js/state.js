// What the page shares between its modules, and nothing else: the deployment it works with
// (set once by chain.js), the user's wallet (set by wallet.js), and how many of the user's
// actions are in progress (the deal page does not redraw under one).
export const state = {
  config: null, // /app/config.json: chain, escrow, EIP-712 types, statuses and limits
  abi: null,
  iface: null, // escrow + token errors, to name revert data
  read: null, // JsonRpcProvider on config.rpc_url
  escrow: null, // read-only escrow contract
  token: null, // {address, symbol, decimals, permit: {name, version} | null, contract}
  wallet: { eip1193: null, provider: null, account: null, chainId: null },
  actionsInFlight: 0,
};

/** The connected account, or null. */
export const me = () => state.wallet.account;
