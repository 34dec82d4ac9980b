// A browser wallet for the page tests, injected before the page loads (playwright
// add_init_script): a standard EIP-1193 provider at window.ethereum, as MetaMask puts there.
// It holds one private key (window.__walletConfig.key) and signs with ethers, like a real
// wallet, and forwards everything else to the chain's JSON-RPC. window.__wallet lets a test
// refuse requests as a user would (code 4001), pose as another network, and see what was asked.
(() => {
  const config = window.__walletConfig;
  if (!config) return;
  const listeners = {};
  const control = {
    reject: new Set(), // methods the "user" refuses
    chainId: config.chainId ?? null, // a network other than the chain's, when set
    requests: [],
    emit(event, value) {
      for (const fn of listeners[event] || []) fn(value);
    },
  };
  window.__wallet = control;
  let id = 0;

  async function forward(method, params) {
    const response = await fetch(config.rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }),
    });
    const body = await response.json();
    if (body.error) throw Object.assign(new Error(body.error.message), body.error);
    return body.result;
  }

  let wallet;
  async function signer() {
    if (!wallet) {
      const ethers = await import(config.ethers);
      // No read cache: a nonce read right after the previous transaction must be fresh.
      const provider = new ethers.JsonRpcProvider(config.rpc, undefined, { cacheTimeout: -1 });
      wallet = new ethers.Wallet(config.key, provider);
    }
    return wallet;
  }

  function rejected() {
    return Object.assign(new Error("User rejected the request."), { code: 4001 });
  }

  async function request({ method, params }) {
    control.requests.push(method);
    if (control.reject.has(method)) throw rejected();
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [config.address];
      case "eth_chainId":
        return control.chainId ?? (await forward(method, params));
      case "wallet_switchEthereumChain":
        control.chainId = null;
        setTimeout(() => control.emit("chainChanged", params[0].chainId));
        return null;
      case "eth_sendTransaction": {
        const tx = params[0];
        const w = await signer();
        const sent = await w.sendTransaction({
          to: tx.to,
          data: tx.data,
          value: tx.value ?? 0,
          gasLimit: tx.gas ?? undefined,
        });
        return sent.hash;
      }
      case "eth_signTypedData_v4": {
        const typed = JSON.parse(params[1]);
        delete typed.types.EIP712Domain;
        return (await signer()).signTypedData(typed.domain, typed.types, typed.message);
      }
      case "personal_sign":
        return (await signer()).signMessage(
          params[0].startsWith("0x") ? (await import(config.ethers)).getBytes(params[0]) : params[0],
        );
      default:
        return forward(method, params);
    }
  }

  window.ethereum = {
    isTestWallet: true,
    request,
    on(event, fn) {
      (listeners[event] ||= []).push(fn);
    },
    removeListener(event, fn) {
      listeners[event] = (listeners[event] || []).filter((f) => f !== fn);
    },
  };
})();
